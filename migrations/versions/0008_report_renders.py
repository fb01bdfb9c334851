"""Report renders: award-report PDFs made by the job worker, kept in the document store

Revision ID: 0008_report_renders
Revises: 0007_performance_indexes
Create Date: 2027-01-22 10:00:00.000000

One row per PDF asked for: the opportunity, the kind of report, who asked and when, queued / ready / failed, when
it finished, the stored file (storage key, filename, size, SHA-256), the fingerprint of what the report was built
from, and the message when it failed. Only adds a table, so the running version is unaffected.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_report_renders'
down_revision = '0007_performance_indexes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('report_renders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('opportunity_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('storage_key', sa.String(length=200), nullable=True),
    sa.Column('filename', sa.String(length=200), nullable=True),
    sa.Column('size', sa.Integer(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunities.id'], name=op.f('fk_report_renders_opportunity_id_opportunities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_report_renders_requested_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_renders'))
    )
    with op.batch_alter_table('report_renders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_renders_opportunity_id'), ['opportunity_id'], unique=False)


def downgrade():
    with op.batch_alter_table('report_renders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_renders_opportunity_id'))

    op.drop_table('report_renders')
