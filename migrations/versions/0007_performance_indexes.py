"""Indexes for the busiest pages: open opportunities by deadline, and keyword search on PostgreSQL

Revision ID: 0007_performance_indexes
Revises: 0006_evaluation_awards
Create Date: 2027-01-15 10:00:00.000000

- `ix_opportunities_status_deadline` (status, submission_deadline, id): the public list's default order (open
  opportunities, closing soonest) is read from the index in order, so its first page costs twenty rows, not a
  sort of every open opportunity. On PostgreSQL it also carries published_at, which the public rule checks.
- On PostgreSQL, trigram indexes (pg_trgm) on the four texts a keyword is looked for in, as the search writes
  them (`lower(title)`, `lower(summary)`, `lower(reference)`, `lower(outcomes::text)`): `LIKE '%word%'` then
  reads the matching rows instead of every opportunity. They are skipped where pg_trgm is not available.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_performance_indexes'
down_revision = '0006_evaluation_awards'
branch_labels = None
depends_on = None

TRIGRAM_INDEXES = {
    "ix_opportunities_title_trgm": "lower(title)",
    "ix_opportunities_summary_trgm": "lower(summary)",
    "ix_opportunities_reference_trgm": "lower(reference)",
    "ix_opportunities_outcomes_trgm": "lower(CAST(outcomes AS TEXT))",
}


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _trigrams_available() -> bool:
    return op.get_bind().execute(sa.text(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")).first() is not None


def upgrade():
    with op.batch_alter_table('opportunities', schema=None) as batch_op:
        batch_op.create_index('ix_opportunities_status_deadline', ['status', 'submission_deadline', 'id'],
                              unique=False, postgresql_include=['published_at'])
    if _postgresql() and _trigrams_available():
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, expression in TRIGRAM_INDEXES.items():
            op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON opportunities USING gin ({expression} gin_trgm_ops)")


def downgrade():
    if _postgresql():
        for name in TRIGRAM_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
    with op.batch_alter_table('opportunities', schema=None) as batch_op:
        batch_op.drop_index('ix_opportunities_status_deadline')
