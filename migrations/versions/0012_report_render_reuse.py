"""Report renders: at most one queued per opportunity and kind, so two requests at once make one PDF

Revision ID: 0012_report_render_reuse
Revises: 0011_organisation_bids_index
Create Date: 2027-02-12 10:00:00.000000

`ux_report_renders_queued`, a unique index on (opportunity_id, kind) of the renders still queued: however many
people ask for a report's PDF at the same moment, one render is queued and the others reuse it. Renders already
queued twice for one report (before this index) keep the newest queued; the others are marked failed, so their
jobs, if still waiting, do nothing. A ready render may also now be `superseded` (the column is wide enough); going
down, a superseded render, whose file is gone, is shown as failed.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_report_render_reuse'
down_revision = '0011_organisation_bids_index'
branch_labels = None
depends_on = None

QUEUED = sa.text("status = 'queued'")
REPLACED = "A newer PDF of this report replaced this one."
DUPLICATE = "The same PDF was asked for more than once at the same moment, so this copy was not made."


def upgrade():
    op.execute(sa.text(
        "UPDATE report_renders SET status = 'failed', error = :error, finished_at = CURRENT_TIMESTAMP "
        "WHERE status = 'queued' AND id NOT IN (SELECT max(id) FROM report_renders WHERE status = 'queued' "
        "GROUP BY opportunity_id, kind)").bindparams(error=DUPLICATE))
    op.create_index("ux_report_renders_queued", "report_renders", ["opportunity_id", "kind"], unique=True,
                    postgresql_where=QUEUED, sqlite_where=QUEUED)


def downgrade():
    op.drop_index("ux_report_renders_queued", table_name="report_renders")
    op.execute(sa.text("UPDATE report_renders SET status = 'failed', error = :error WHERE status = 'superseded'")
               .bindparams(error=REPLACED))
