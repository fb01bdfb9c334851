"""Kent Commissioning Marketplace: the application factory."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from jinja2 import BytecodeCache, ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader, Undefined
from jinja2.exceptions import UndefinedError

from config import BASE_DIR, config_for


def create_app(config_name: str | None = None, overrides: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(BASE_DIR / "templates"),
        static_folder=str(BASE_DIR / "static"),
        instance_path=os.environ.get("MARKETPLACE_INSTANCE_PATH", str(BASE_DIR / "instance")),
    )
    config_class = config_for(config_name)
    app.config.from_object(config_class)
    app.config.update(overrides or {})
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{Path(app.instance_path) / 'marketplace.sqlite'}"
    config_class.validate(app.config)

    register_templates(app)
    register_extensions(app)
    from marketplace import pagecache, web

    web.init_app(app)
    pagecache.init_app(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_cli(app)
    return app


class OutputStrictUndefined(Undefined):
    """In tests, printing an undefined value fails the test; testing it in an `if` (as the GOV.UK macros do)
    stays allowed. Full StrictUndefined is not usable with the GOV.UK Frontend macros."""

    def __str__(self) -> str:
        raise UndefinedError(self._undefined_message)


class _ProcessBytecodeCache(BytecodeCache):
    """Compiled templates shared by every app made in this process (the test suite makes one per test).
    Keys include a checksum of the template source, so an edited template is compiled again."""

    _store: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        if bucket.key in self._store:
            bucket.bytecode_from_string(self._store[bucket.key])

    def dump_bytecode(self, bucket) -> None:
        self._store[bucket.key] = bucket.bytecode_to_string()


def register_templates(app: Flask) -> None:
    app.jinja_loader = ChoiceLoader([
        FileSystemLoader(str(BASE_DIR / "templates")),
        PrefixLoader({
            "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
            "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
        }),
    ])
    app.jinja_env.bytecode_cache = _ProcessBytecodeCache()
    if app.config.get("TESTING"):
        app.jinja_env.undefined = OutputStrictUndefined
    from marketplace import templating

    templating.init_app(app)


def register_extensions(app: Flask) -> None:
    from govuk_frontend_wtf.main import WTFormsHelpers

    from marketplace import models  # noqa: F401  (every table, for Alembic)
    from marketplace.extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    WTFormsHelpers(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.sign_in"
    login_manager.login_message = "Sign in to see this page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    from marketplace.accounts import load_user

    login_manager.user_loader(load_user)


@event.listens_for(Engine, "connect")
def _sqlite_foreign_keys(dbapi_connection, connection_record) -> None:
    """SQLite enforces foreign keys only when asked, per connection (registered once per process)."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def register_blueprints(app: Flask) -> None:
    from marketplace.accounts import bp as accounts_bp
    from marketplace.admin import bp as admin_bp
    from marketplace.awards import bp as awards_bp
    from marketplace.bids import bp as bids_bp
    from marketplace.clarifications import bp as clarifications_bp
    from marketplace.evaluation import bp as evaluation_bp
    from marketplace.opportunities import bp as opportunities_bp
    from marketplace.organisations import bp as organisations_bp
    from marketplace.pages import bp as pages_bp
    from marketplace.reports import bp as reports_bp
    from marketplace.right_to_bid import bp as right_to_bid_bp
    from marketplace.settings import bp as settings_bp
    from marketplace.transparency import bp as transparency_bp

    for blueprint in (pages_bp, accounts_bp, organisations_bp, admin_bp, settings_bp, opportunities_bp,
                      clarifications_bp, right_to_bid_bp, bids_bp, evaluation_bp, awards_bp,
                      reports_bp, transparency_bp):
        app.register_blueprint(blueprint)


def register_errorhandlers(app: Flask) -> None:
    from marketplace import errorpages

    errorpages.init_app(app)


def register_cli(app: Flask) -> None:
    from marketplace import cli

    cli.init_app(app)

