"""The public version: one number that every change to what public pages show adds one to (page cache)

Revision ID: 0009_public_version
Revises: 0008_report_renders
Create Date: 2027-02-01 10:00:00.000000

`public_version` holds one row. Every table that public pages read gets a trigger that adds one to it in the
same transaction as the change, whoever writes (see marketplace/pagecache.py). The tables no public page reads
are left without: bids and their contents, users and sign-in bookkeeping, the audit log, saved searches.
On PostgreSQL one statement-level trigger per table; on SQLite one row-level trigger per table and operation.
A later migration that adds a table public pages read adds its trigger with `add_trigger`.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_public_version'
down_revision = '0008_report_renders'
branch_labels = None
depends_on = None

UNSEEN_BY_THE_PUBLIC = {
    "public_version", "alembic_version", "audit_events", "users", "staff_roles", "sign_in_throttles",
    "organisation_invitations", "saved_searches", "watches", "bids", "bid_answers", "price_lines",
    "social_value_commitments", "consortium_members", "bid_documents", "bid_submissions", "report_renders",
}
BUMP = "UPDATE public_version SET version = version + 1"
OPERATIONS = ("insert", "update", "delete")


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def add_trigger(table: str) -> None:
    if _postgresql():
        op.execute(f"CREATE TRIGGER {table}_public_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION public_version_bump()")
        return
    for operation in OPERATIONS:
        op.execute(f"CREATE TRIGGER {table}_public_version_{operation} AFTER {operation.upper()} ON {table} "
                   f"BEGIN {BUMP}; END")


def drop_trigger(table: str) -> None:
    if _postgresql():
        op.execute(f"DROP TRIGGER IF EXISTS {table}_public_version ON {table}")
        return
    for operation in OPERATIONS:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_public_version_{operation}")


def _public_tables() -> list[str]:
    return sorted(set(sa.inspect(op.get_bind()).get_table_names()) - UNSEEN_BY_THE_PUBLIC)


def upgrade():
    tables = _public_tables()
    op.create_table(
        'public_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_public_version')),
    )
    op.execute("INSERT INTO public_version (id, version) VALUES (1, 0)")
    if _postgresql():
        op.execute(f"CREATE FUNCTION public_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$ "
                   f"BEGIN {BUMP}; RETURN NULL; END $$")
    for table in tables:
        add_trigger(table)


def downgrade():
    for table in _public_tables():
        drop_trigger(table)
    if _postgresql():
        op.execute("DROP FUNCTION IF EXISTS public_version_bump()")
    op.drop_table('public_version')
