"""Reports made by the job worker and kept in the document store: one row per PDF asked for, whatever became of it.

A render is `queued` when someone asks for it, then `ready` (the file is stored) or `failed` (with a message for
people); a ready one becomes `superseded` when a newer PDF of the same report is ready: its file is removed from the
store, its row stays (who asked, when, and the file's name, size and SHA-256). Its fingerprint is the SHA-256 of
the report's layout and what it was built from, so a stored PDF can be told apart from one that no longer matches
(see `marketplace/reports/renders.py`). An opportunity has at most one render of each kind queued at a time, which
the database holds to however many ask at once (`ux_report_renders_queued`, migration 0012).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.dbtypes import UTCDateTime
from marketplace.extensions import db
from marketplace.timeutil import utcnow

AWARD_REPORT = "award_report"
QUEUED, READY, FAILED, SUPERSEDED = "queued", "ready", "failed", "superseded"


class ReportRender(db.Model):
    __tablename__ = "report_renders"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(sa.ForeignKey("opportunities.id", ondelete="CASCADE"),
                                                nullable=False, index=True)
    kind: Mapped[str] = mapped_column(sa.String(30), nullable=False, default=AWARD_REPORT)
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    status: Mapped[str] = mapped_column(sa.String(10), nullable=False, default=QUEUED)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # SHA-256 of the report as it was when asked for; once ready, of the report the PDF was made from.
    fingerprint: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    storage_key: Mapped[str | None] = mapped_column(sa.String(200))  # none until ready, and again once superseded
    filename: Mapped[str | None] = mapped_column(sa.String(200))
    size: Mapped[int | None] = mapped_column(sa.Integer)
    sha256: Mapped[str | None] = mapped_column(sa.String(64))
    error: Mapped[str | None] = mapped_column(sa.Text)  # why it failed, in words for people

    __table_args__ = (
        sa.Index("ux_report_renders_queued", "opportunity_id", "kind", unique=True,
                 postgresql_where=sa.text("status = 'queued'"), sqlite_where=sa.text("status = 'queued'")),
    )
