"""Organisation bids versions: one number per organisation that triggers move on when its dashboard's list changes

Revision ID: 0013_organisation_bids_version
Revises: 0012_report_render_reuse
Create Date: 2027-03-01 10:00:00.000000

The provider dashboard is cached under this number (marketplace/bids/dashboard.py). Row-level triggers add one to
the organisation's number in the same transaction as the change, whoever writes:
- on `bids`: a bid started or deleted, or its status changed (an autosave changes neither, so it leaves it alone);
- on `bid_submissions`: a version sealed, withdrawn or deleted.
An organisation without a row yet reads as 0; its first change writes 1.
The table is not one public pages read, so it has no public-version trigger (marketplace/pagecache.py).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_organisation_bids_version'
down_revision = '0012_report_render_reuse'
branch_labels = None
depends_on = None

TABLE = "organisation_bids_versions"
# (trigger, event, WHEN condition or None, the organisation's id as an SQL expression)
BID_OF = "(SELECT organisation_id FROM bids WHERE id = {row}.bid_id)"
TRIGGERS = (
    ("bids_organisation_version_insert", "INSERT ON bids", None, "NEW.organisation_id"),
    ("bids_organisation_version_delete", "DELETE ON bids", None, "OLD.organisation_id"),
    ("bids_organisation_version_status", "UPDATE OF status ON bids", "OLD.status IS DISTINCT FROM NEW.status",
     "NEW.organisation_id"),
    ("bid_submissions_organisation_version_insert", "INSERT ON bid_submissions", None, BID_OF.format(row="NEW")),
    ("bid_submissions_organisation_version_update", "UPDATE ON bid_submissions", None, BID_OF.format(row="NEW")),
    ("bid_submissions_organisation_version_delete", "DELETE ON bid_submissions", None, BID_OF.format(row="OLD")),
)


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _create_postgresql(name: str, event: str, when: str | None, organisation: str) -> None:
    """A row trigger calling its own function: one upsert, nothing when the organisation is gone (a cascade)."""
    op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
               f"INSERT INTO {TABLE} AS v (organisation_id, version) SELECT {organisation}, 1 "
               f"WHERE {organisation} IS NOT NULL "
               f"ON CONFLICT (organisation_id) DO UPDATE SET version = v.version + 1; RETURN NULL; END $$")
    condition = f" WHEN ({when})" if when else ""
    op.execute(f"CREATE TRIGGER {name} AFTER {event} FOR EACH ROW{condition} EXECUTE FUNCTION {name}()")


def _create_sqlite(name: str, event: str, when: str | None, organisation: str) -> None:
    condition = f" WHEN {when.replace('IS DISTINCT FROM', 'IS NOT')}" if when else ""
    op.execute(f"CREATE TRIGGER {name} AFTER {event}{condition} BEGIN "
               f"INSERT OR IGNORE INTO {TABLE} (organisation_id, version) SELECT {organisation}, 0 "
               f"WHERE {organisation} IS NOT NULL; "
               f"UPDATE {TABLE} SET version = version + 1 WHERE organisation_id = {organisation}; END")


def upgrade():
    op.create_table(
        TABLE,
        sa.Column('organisation_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('organisation_id', name=op.f('pk_organisation_bids_versions')),
    )
    create = _create_postgresql if _postgresql() else _create_sqlite
    for trigger in TRIGGERS:
        create(*trigger)


def downgrade():
    for name, event, _when, _organisation in TRIGGERS:
        table = event.rsplit(" ON ", 1)[1]
        if _postgresql():
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table(TABLE)
