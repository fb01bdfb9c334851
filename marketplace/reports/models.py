"""Reports made by the job worker and kept in the document store: one row per PDF asked for, whatever became of it.

A render is `queued` when someone asks for it, then `ready` (the file is stored) or `failed` (with a message for
people). Its fingerprint is the SHA-256 of what the report was built from, so a stored PDF can be told apart from
one that no longer matches the records (see `marketplace/reports/renders.py`).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.dbtypes import UTCDateTime
from marketplace.extensions import db
from marketplace.timeutil import utcnow

AWARD_REPORT = "award_report"
QUEUED, READY, FAILED = "queued", "ready", "failed"


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
    storage_key: Mapped[str | None] = mapped_column(sa.String(200))
    filename: Mapped[str | None] = mapped_column(sa.String(200))
    size: Mapped[int | None] = mapped_column(sa.Integer)
    sha256: Mapped[str | None] = mapped_column(sa.String(64))
    error: Mapped[str | None] = mapped_column(sa.Text)  # why it failed, in words for people
