"""Clarification questions: asked by providers, answered by commissioners, published without the asker."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.dbtypes import UTCDateTime
from marketplace.extensions import db
from marketplace.timeutil import utcnow

QUESTION_MAX = 2000
ANSWER_MAX = 5000


class Question(db.Model):
    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(sa.ForeignKey("opportunities.id", ondelete="CASCADE"),
                                                nullable=False, index=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"),
                                                 nullable=False, index=True)
    asked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(sa.Text, nullable=False)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    answer: Mapped[str | None] = mapped_column(sa.Text)
    # public: published to everyone with the asker hidden; private: only to the asking organisation
    visibility: Mapped[str | None] = mapped_column(sa.String(10))
    answered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)

    opportunity = relationship("Opportunity")
