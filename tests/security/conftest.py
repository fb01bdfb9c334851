"""One application and one database per test module: the security sweeps request every route many times over
the same set of objects, so the objects are built once (`world`) and each test only reads them, or changes what
it alone looks at."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import _empty_all, running_app
from tests.security.world import World, build_world

# The request pipeline as production has it: CSRF on, every page through the same gates. Rate limits are off so
# the sweeps (which ask for each page many times from one address) are not throttled; they have their own tests.
SECURITY_OVERRIDES = {"WTF_CSRF_ENABLED": True, "RATELIMIT_ENABLED": False}


@pytest.fixture(scope="module")
def module_database_url(database, tmp_path_factory) -> str:
    kind, location = database
    if kind == "postgresql":
        _empty_all(location)
        return location
    path = tmp_path_factory.mktemp("security-db") / "security.sqlite"
    shutil.copyfile(location, path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="module")
def app_overrides_for_module() -> dict:
    """A module may override this to change its application's settings."""
    return {}


@pytest.fixture(scope="module")
def security_app(module_database_url, smtp_server, tmp_path_factory, app_overrides_for_module):
    with running_app({"SQLALCHEMY_DATABASE_URI": module_database_url, "MAIL_SERVER": "127.0.0.1",
                      "MAIL_PORT": smtp_server.port, "DOCUMENT_STORE": str(tmp_path_factory.mktemp("documents")),
                      **SECURITY_OVERRIDES, **app_overrides_for_module}) as application:
        yield application


@pytest.fixture(scope="module")
def world(security_app) -> World:
    return build_world(security_app)
