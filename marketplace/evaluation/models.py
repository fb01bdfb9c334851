"""Evaluation records: the conflicts assessment before publication, the panel and its conflict declarations,
the opening record, compliance, evaluators' scores and the moderated (consensus) scores.

An opportunity is evaluated once, against the sealed version of each bid that counts; the originals of every
score stay beside the consensus.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.dbtypes import UTCDateTime
from marketplace.extensions import db
from marketplace.timeutil import utcnow

SCORE = sa.Numeric(5, 2)

EVALUATOR = "evaluator"
MODERATOR = "moderator"
PANEL_ROLES: dict[str, str] = {EVALUATOR: "Evaluator", MODERATOR: "Moderator"}


def _user_fk(nullable: bool = True):
    return mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL" if nullable else "CASCADE"),
                         nullable=nullable)


class ConflictsAssessment(db.Model):
    """Recorded by a procurement officer before the opportunity is published: who was involved in preparing
    it, any interests known, and how they are managed."""

    __tablename__ = "conflicts_assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(sa.ForeignKey("opportunities.id", ondelete="CASCADE"),
                                                nullable=False, unique=True)
    summary: Mapped[str] = mapped_column(sa.Text, nullable=False)
    recorded_by_id: Mapped[int | None] = _user_fk()
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class Evaluation(db.Model):
    """One per opportunity once evaluation starts: the opening record, the release to the panel, moderation."""

    __tablename__ = "evaluations"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(sa.ForeignKey("opportunities.id", ondelete="CASCADE"),
                                                nullable=False, unique=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    opened_by_id: Mapped[int | None] = _user_fk()
    # [{"bid_id", "organisation", "submission_number", "submitted_at", "sha256", "verified"}] in bid id order
    opening_record: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # to the panel, after compliance
    released_by_id: Mapped[int | None] = _user_fk()
    moderation_completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    moderation_completed_by_id: Mapped[int | None] = _user_fk()
    version: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}


class PanelMember(db.Model):
    """A person assigned to an opportunity's panel as an evaluator or the moderator (one person may be both
    when other evaluators score too). Evaluators score the criteria listed (empty: every criterion people
    score)."""

    __tablename__ = "panel_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(sa.ForeignKey("opportunities.id", ondelete="CASCADE"),
                                                nullable=False, index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    role: Mapped[str] = mapped_column(sa.String(20), nullable=False)  # evaluator | moderator
    criterion_ids: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    assigned_by_id: Mapped[int | None] = _user_fk()
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # replaced: kept for the record
    removed_reason: Mapped[str | None] = mapped_column(sa.Text)
    scores_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # evaluators: all scores in

    user = relationship("User", foreign_keys=[user_id])

    __table_args__ = (sa.UniqueConstraint("opportunity_id", "user_id", "role", name="uq_panel_members_opp_user_role"),)


class ConflictDeclaration(db.Model):
    """A panel member's declaration for one opportunity, made having seen the bidders' names and no bid.
    A declared conflict keeps them out until a procurement officer records a mitigation (or replaces them)."""

    __tablename__ = "conflict_declarations"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(sa.ForeignKey("opportunities.id", ondelete="CASCADE"),
                                                nullable=False, index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    has_conflict: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    details: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    mitigation: Mapped[str | None] = mapped_column(sa.Text)
    mitigated_by_id: Mapped[int | None] = _user_fk()
    mitigated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (sa.UniqueConstraint("opportunity_id", "user_id", name="uq_conflict_declarations_opp_user"),)

    @property
    def clears_access(self) -> bool:
        return not self.has_conflict or self.mitigation is not None


class ComplianceCheck(db.Model):
    """The procurement officer's compliance decision on one opened bid: pass/fail answers and other checks,
    each with its reason; an excluded bid carries the reason it is given."""

    __tablename__ = "compliance_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(sa.ForeignKey("bids.id", ondelete="CASCADE"), nullable=False, unique=True)
    compliant: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    # [{"key": "criterion-12" | "documents" | ..., "label", "passed": bool, "note": str}]
    checks: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    reason: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")  # why excluded (shown to the bidder)
    recorded_by_id: Mapped[int | None] = _user_fk()
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class Score(db.Model):
    """One evaluator's score of one criterion of one bid, with its mandatory justification."""

    __tablename__ = "scores"

    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(sa.ForeignKey("bids.id", ondelete="CASCADE"), nullable=False, index=True)
    criterion_id: Mapped[int] = mapped_column(sa.ForeignKey("criteria.id", ondelete="CASCADE"), nullable=False)
    evaluator_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False,
                                              index=True)
    score: Mapped[Decimal] = mapped_column(SCORE, nullable=False)
    justification: Mapped[str] = mapped_column(sa.Text, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow)

    __table_args__ = (sa.UniqueConstraint("bid_id", "criterion_id", "evaluator_id",
                                          name="uq_scores_bid_criterion_evaluator"),)


class ModeratedScore(db.Model):
    """The consensus score the moderator sets for one criterion of one bid, with the reason."""

    __tablename__ = "moderated_scores"

    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(sa.ForeignKey("bids.id", ondelete="CASCADE"), nullable=False, index=True)
    criterion_id: Mapped[int] = mapped_column(sa.ForeignKey("criteria.id", ondelete="CASCADE"), nullable=False)
    score: Mapped[Decimal] = mapped_column(SCORE, nullable=False)
    reason: Mapped[str] = mapped_column(sa.Text, nullable=False)
    moderator_id: Mapped[int | None] = _user_fk()
    moderated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow)

    __table_args__ = (sa.UniqueConstraint("bid_id", "criterion_id", name="uq_moderated_scores_bid_criterion"),)
