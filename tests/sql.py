"""What the application sends to the database, for tests that count queries."""

from __future__ import annotations

from contextlib import contextmanager

import sqlalchemy as sa

from marketplace.extensions import db


@contextmanager
def statements_sent():
    """The SQL statements sent while the block runs (SQLAlchemy's `before_cursor_execute`), as a list of strings."""
    statements: list[str] = []

    def record(connection, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
