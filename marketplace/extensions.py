"""Flask extensions, created once and bound to the app in create_app()."""

from __future__ import annotations

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, text
from sqlalchemy.orm import DeclarativeBase

from marketplace.dbtypes import render_item

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate(compare_type=True, render_as_batch=True, render_item=render_item)
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])

_ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(:key)")


def on_postgresql() -> bool:
    """Whether the session's database is PostgreSQL, which takes row and advisory locks; SQLite serialises
    writers instead, so what those locks guard cannot interleave there."""
    return db.session.get_bind().dialect.name == "postgresql"


def hold_until_commit(key: int) -> None:
    """Wait for the advisory lock `key`, then hold it until the transaction ends (PostgreSQL; see on_postgresql)."""
    if on_postgresql():
        db.session.connection().execute(_ADVISORY_LOCK, {"key": key})
