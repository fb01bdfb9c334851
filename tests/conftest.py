"""Fixtures shared by every layer of the suite.

The test database is built by running the migrations once per test run (per xdist worker):
SQLite (default) copies the migrated file for each test; PostgreSQL (TEST_DATABASE_URL) empties every table.
Tests that ask for `seeded` start from a copy of the demo data, loaded once per worker.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import socket
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from flask.testing import FlaskClient

from marketplace import create_app
from marketplace.extensions import db

ROOT = Path(__file__).resolve().parent.parent
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


# Email: a real SMTP server on loopback -----------------------------------------------------------

@dataclass
class Mailbox:
    messages: list = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes, policy

        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def clear(self) -> None:
        self.messages.clear()

    def to(self, address: str) -> list:
        return [m for m in self.messages if address.lower() in m["To"].lower()]

    def last_body(self, address: str) -> str:
        found = self.to(address)
        assert found, f"no email to {address}; sent to {[m['To'] for m in self.messages]}"
        return found[-1].get_body(preferencelist=("plain",)).get_content()

    def attachments(self, address: str) -> list[tuple[str, bytes]]:
        found = self.to(address)
        assert found, f"no email to {address}"
        return [(part.get_filename(), part.get_content()) for part in found[-1].iter_attachments()]

    def link_in(self, address: str, path_fragment: str) -> str:
        body = self.last_body(address)
        match = re.search(r"https?://[^\s]*" + re.escape(path_fragment) + r"[^\s]*", body)
        assert match, f"no link containing {path_fragment} in: {body}"
        return match.group(0)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def smtp_server():
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture()
def mailbox(smtp_server) -> Mailbox:
    smtp_server.handler.clear()
    return smtp_server.handler


# The application's routes -------------------------------------------------------------------------

def _compile_each_url_builder_once() -> None:
    """The suite makes an app per test, and Werkzeug compiles a URL builder (Python source, then bytecode) for each
    of its routes every time: nine tenths of `create_app`. A builder depends only on the rule's text, its parsed
    form, its defaults and whether it appends unknown arguments, and takes the rule as an argument, so the suite
    compiles each one once per process and every app's rules share it."""
    from werkzeug.routing import Rule

    compile_builder = Rule._compile_builder
    built: dict[tuple, object] = {}

    def compile_once(self, append_unknown: bool = True):
        key = (self.rule, tuple(self._trace), repr(sorted((self.defaults or {}).items())), append_unknown)
        if key not in built:
            built[key] = compile_builder(self, append_unknown)
        return built[key]

    Rule._compile_builder = compile_once


_compile_each_url_builder_once()


# The database ------------------------------------------------------------------------------------

@sa.event.listens_for(sa.engine.Engine, "connect")
def _fast_sqlite(dbapi_connection, connection_record) -> None:
    """Test databases are thrown away: SQLite need not wait for the disk on every commit."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        dbapi_connection.execute("PRAGMA synchronous=OFF")


# Test databases are thrown away: a commit need not wait for the disk (as SQLite's `synchronous=OFF` above).
FAST_COMMITS = 'ALTER DATABASE "{name}" SET synchronous_commit = off'


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _postgres_url() -> str | None:
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        return None
    url = sa.make_url(base)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    name = f"{url.database}_{_worker()}"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        connection.execute(sa.text(FAST_COMMITS.format(name=name)))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _migrate(url: str) -> None:
    from flask_migrate import upgrade

    app = create_app("test", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        db.engine.dispose()


@pytest.fixture(scope="session")
def database(tmp_path_factory):
    """Migrate once: returns ('postgresql', url) or ('sqlite', template_path)."""
    url = _postgres_url()
    if url:
        _migrate(url)
        return "postgresql", url
    template = tmp_path_factory.mktemp("db") / "template.sqlite"
    _migrate(f"sqlite:///{template}")
    return "sqlite", str(template)


def _empty_all(url: str) -> None:
    """Empty every table and restart the ids: DELETE with triggers and foreign-key checks off (the test role is
    a superuser), which is far faster than TRUNCATE on small tables; it also passes the audit log's
    append-only trigger, which only the suite may do."""
    tables = " ".join(f'DELETE FROM "{table.name}";' for table in db.metadata.sorted_tables
                      if table.name != "public_version")  # its one row is the page cache's version
    with _emptying_engine(url).begin() as connection:
        connection.exec_driver_sql(
            "SET LOCAL session_replication_role = replica; " + tables
            + " SELECT setval(quote_ident(sequencename)::regclass, 1, false) FROM pg_sequences"
              " WHERE schemaname = 'public';")


@functools.cache
def _emptying_engine(url: str) -> sa.Engine:
    """One connection per worker kept for emptying the tables (a new one per test costs a third of the time)."""
    return sa.create_engine(url, pool_size=1, max_overflow=0)


def _recreate_from(url: str, name: str, template: str) -> str:
    """PostgreSQL: (re)create database `name` as a copy of database `template` on the same server."""
    admin = sa.create_engine(sa.make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        connection.execute(sa.text(FAST_COMMITS.format(name=name)))
    admin.dispose()
    return sa.make_url(url).set(database=name).render_as_string(hide_password=False)


@dataclass
class DemoDatabase:
    kind: str
    location: str  # the seeded SQLite file, or the seeded PostgreSQL database's URL
    output: str  # what `flask seed-demo` printed


@pytest.fixture(scope="session")
def demo_database(database, smtp_server, tmp_path_factory) -> DemoDatabase:
    """`flask seed-demo` run once per worker over the migrated schema; tests that ask for `seeded` start from a copy
    of it (seeding takes seconds, copying a fraction of one)."""
    kind, location = database
    if kind == "postgresql":
        _empty_all(location)  # the last test's rows are still there
        _emptying_engine(location).dispose()  # a template database must have no connections
        url = _recreate_from(location, sa.make_url(location).database + "_demo", sa.make_url(location).database)
    else:
        path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
        shutil.copyfile(location, path)
        url = f"sqlite:///{path}"
    with running_app({"SQLALCHEMY_DATABASE_URI": url, "MAIL_SERVER": "127.0.0.1",
                      "MAIL_PORT": smtp_server.port}) as application:
        result = application.test_cli_runner().invoke(args=["seed-demo"])
        assert result.exit_code == 0, result.output
    return DemoDatabase(kind, url if kind == "postgresql" else str(path), result.output)


@pytest.fixture()
def seeded(app, demo_database) -> DemoDatabase:
    """The app's database holds the demo data (see `database_url`); `.output` is what `flask seed-demo` printed."""
    return demo_database


@pytest.fixture()
def database_url(database, tmp_path, request) -> str:
    kind, location = database
    demo = request.getfixturevalue("demo_database") if "seeded" in request.fixturenames else None
    if kind == "postgresql":
        if demo:
            run = sa.make_url(location).database + "_run"
            return _recreate_from(location, run, sa.make_url(demo.location).database)
        _empty_all(location)
        return location
    path = tmp_path / "test.sqlite"
    shutil.copyfile(demo.location if demo else location, path)
    return f"sqlite:///{path}"


# The application -----------------------------------------------------------------------------------

class FormClient(FlaskClient):
    """A test client that submits forms the way a browser does: with the page's CSRF token."""

    def csrf_token(self, page_url: str) -> str:
        response = self.get(page_url)
        match = CSRF_INPUT.search(response.get_data(as_text=True))
        assert match, f"no CSRF token on {page_url} (status {response.status_code})"
        return match.group(1)

    def submit(self, url: str, data: dict | None = None, page_url: str | None = None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token(page_url or url))
        return self.post(url, data=data, **kwargs)


@pytest.fixture()
def app_overrides() -> dict:
    return {}


def _fresh_request_globals() -> None:
    from flask import g

    g.__dict__.clear()


@contextmanager
def running_app(overrides: dict):
    """A test application inside its app context, its database connections closed afterwards."""
    os.environ.setdefault("MARKETPLACE_INSTANCE_PATH", tempfile.mkdtemp(prefix="marketplace-instance-"))
    application = create_app("test", overrides)
    application.test_client_class = FormClient
    # The app context stays open so tests can use the database; Flask reuses it for each request, so clear `g`
    # first thing in every request (the signed-in user and CSRF token live there).
    application.before_request_funcs.setdefault(None, []).insert(0, _fresh_request_globals)
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


@pytest.fixture()
def app(database_url, smtp_server, app_overrides, tmp_path):
    with running_app({"SQLALCHEMY_DATABASE_URI": database_url, "MAIL_SERVER": "127.0.0.1",
                      "MAIL_PORT": smtp_server.port, "SIGN_IN_RATE_LIMIT": "1000 per minute",
                      **app_overrides}) as application:
        yield application


@pytest.fixture()
def client(app) -> FormClient:
    return app.test_client()


@pytest.fixture()
def runner(app):
    return app.test_cli_runner()


def sign_in_as(client: FlaskClient, user) -> None:
    """Start a signed-in session for user without going through the form (the form has its own tests)."""
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True


@pytest.fixture()
def as_user(client):
    def _as(user):
        sign_in_as(client, user)
        return client

    return _as
