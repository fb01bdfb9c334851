"""Audit chains: the log in 64 hash chains, one per group of objects, instead of one for the whole service

Revision ID: 0014_audit_chains
Revises: 0013_organisation_bids_version
Create Date: 2027-02-22 10:00:00.000000

Each event is chained to the last event in its chain (marketplace.audit.chain_of: by its object), and appending
locks only that chain, so requests about different objects no longer queue for one lock held until each commits.
Every event already recorded is in chain 0, which new events about chain 0's objects continue: the existing log
verifies as it did.

On PostgreSQL, `audit_chain_head(lock_key, chain)` takes the chain's advisory lock (held until the transaction
ends) and then reads its last hash, in one round trip. The read is a query of its own inside a VOLATILE function,
so it sees every event committed before it began, including those committed while it waited for the lock.

Downgrading puts every event back in one chain, which the events written since this migration do not form:
`flask audit-verify` would then report the log broken. Downgrade only a database that has not been used since.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0014_audit_chains'
down_revision = '0013_organisation_bids_version'
branch_labels = None
depends_on = None


CHAIN_HEAD = """CREATE OR REPLACE FUNCTION audit_chain_head(lock_key bigint, chain_number integer) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    RETURN (SELECT hash FROM audit_events WHERE chain = chain_number ORDER BY id DESC LIMIT 1);
END $$"""


def upgrade():
    op.add_column("audit_events", sa.Column("chain", sa.SmallInteger(), nullable=False, server_default="0"))
    op.create_index("ix_audit_events_chain_id", "audit_events", ["chain", "id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(CHAIN_HEAD)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_chain_head(bigint, integer)")
    op.drop_index("ix_audit_events_chain_id", table_name="audit_events")
    op.drop_column("audit_events", "chain")
