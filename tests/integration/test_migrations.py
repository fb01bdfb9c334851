"""The migrations are the schema: one head, a database built by them matches the models, and they go down
and up again cleanly."""

from __future__ import annotations

from pathlib import Path
from pprint import pformat

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from marketplace import create_app
from marketplace import models  # noqa: F401  (every table on the metadata)
from marketplace.extensions import db

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def script_directory() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


def test_there_is_exactly_one_head():
    heads = script_directory().get_heads()
    assert len(heads) == 1, f"several heads, merge them: {heads}"


def test_every_revision_descends_from_the_foundation():
    revisions = list(script_directory().walk_revisions())
    bases = [r.revision for r in revisions if r.down_revision is None]
    assert bases == ["0001_foundation"]


def test_the_migrated_database_matches_the_models(database_url):
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                                   "compare_server_default": False})
            differences = compare_metadata(context, db.metadata)
    finally:
        engine.dispose()
    assert differences == [], "models and migrations differ; add a migration:\n" + pformat(differences)


def test_the_migrated_database_is_at_the_head(database_url):
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_heads()
    finally:
        engine.dispose()
    assert current == tuple(script_directory().get_heads())


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _triggers(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return set(connection.execute(sa.text(
                "SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars())
    finally:
        engine.dispose()


@pytest.fixture()
def empty_sqlite(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    monkeypatch.setenv("MARKETPLACE_INSTANCE_PATH", str(tmp_path / "instance"))
    application = create_app("test", {"SQLALCHEMY_DATABASE_URI": url})
    with application.app_context():
        yield url
        db.session.remove()
        db.engine.dispose()


def test_downgrade_to_base_and_upgrade_again(empty_sqlite):
    from flask_migrate import downgrade, upgrade

    url = empty_sqlite
    model_tables = set(db.metadata.tables)

    upgrade(directory=str(MIGRATIONS))
    assert _tables(url) == model_tables | {"alembic_version"}
    assert {"audit_events_no_update", "audit_events_no_delete"} <= _triggers(url)

    downgrade(directory=str(MIGRATIONS), revision="base")
    assert _tables(url) <= {"alembic_version"}
    assert _triggers(url) == set()

    upgrade(directory=str(MIGRATIONS))
    assert _tables(url) == model_tables | {"alembic_version"}
    assert {"audit_events_no_update", "audit_events_no_delete"} <= _triggers(url)
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO audit_events (occurred_at, actor_label, action, object_type, object_id, details, "
                "prev_hash, hash) VALUES ('2026-01-01', 'x', 'a', 'o', '1', '{}', 'p', 'h')"))
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(sa.text("UPDATE audit_events SET action = 'b'"))
    finally:
        engine.dispose()
