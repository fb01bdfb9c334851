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

PUBLIC = "public"
PRIVATE = "private"
VISIBILITIES = (PUBLIC, PRIVATE)


class Question(db.Model):
    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(sa.ForeignKey("opportunities.id", ondelete="CASCADE"),
                                                nullable=False, index=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"),
                                                 nullable=False, index=True)
    asked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    # The provider's own wording, kept as asked.
    text: Mapped[str] = mapped_column(sa.Text, nullable=False)
    # The wording published with the answer: staff may edit it to remove details that identify the asker.
    published_text: Mapped[str | None] = mapped_column(sa.Text)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    answer: Mapped[str | None] = mapped_column(sa.Text)
    # PUBLIC: published to everyone with the asker hidden; PRIVATE: only to the asking organisation, because
    # the answer would reveal the asker's own solution.
    visibility: Mapped[str | None] = mapped_column(sa.String(10))
    answered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)

    opportunity = relationship("Opportunity")
    organisation = relationship("Organisation")

    @property
    def is_answered(self) -> bool:
        return self.answered_at is not None

    @property
    def is_private(self) -> bool:
        return self.visibility == PRIVATE

    @property
    def shown_text(self) -> str:
        """The wording others see: the published wording once answered, else the original."""
        return self.published_text or self.text

    @property
    def wording_edited(self) -> bool:
        return self.published_text is not None and self.published_text != self.text
