"""Awards: the recommendation and its approval, answers to abnormally-low price flags, standstill and
challenges, and the contract made when the award is confirmed."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

# The statuses and cancellation reasons live with the pure rules that read them (re-exported here).
from marketplace.awards.rules import APPROVED, CANCEL_REASONS, CANCELLED, CONFIRMED, RECOMMENDED, RETURNED  # noqa: F401
from marketplace.dbtypes import UTCDateTime
from marketplace.extensions import db
from marketplace.timeutil import utcnow

MONEY = sa.Numeric(14, 2)
SHARE = sa.Numeric(7, 6)


def _user_fk():
    return mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))


class Award(db.Model):
    """A recommendation to award, kept whatever happens to it. The ranking is the engine's result at the time,
    stored as the strings shown, so the record never changes under the reader."""

    __tablename__ = "awards"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(sa.ForeignKey("opportunities.id", ondelete="CASCADE"),
                                                nullable=False, index=True)
    bid_id: Mapped[int] = mapped_column(sa.ForeignKey("bids.id", ondelete="CASCADE"), nullable=False)
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False, default=RECOMMENDED, index=True)
    ranking: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)  # engine output, as shown
    reasons: Mapped[str] = mapped_column(sa.Text, nullable=False)
    tie_decision: Mapped[str | None] = mapped_column(sa.Text)  # a surviving tie: how it was decided
    recommended_by_id: Mapped[int | None] = _user_fk()
    recommended_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    decided_by_id: Mapped[int | None] = _user_fk()  # approver (or who returned it)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_note: Mapped[str | None] = mapped_column(sa.Text)
    notice_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    standstill_ends_on: Mapped[date | None] = mapped_column(sa.Date)  # the last day of standstill
    confirmed_by_id: Mapped[int | None] = _user_fk()
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}


class PriceReview(db.Model):
    """The answer to an abnormally-low price flag: the bidder's explanation and the officer's decision."""

    __tablename__ = "price_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(sa.ForeignKey("bids.id", ondelete="CASCADE"), nullable=False, unique=True)
    flags: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)  # the engine's words
    bidder_explanation: Mapped[str] = mapped_column(sa.Text, nullable=False)
    accepted: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)  # False: the bid is rejected
    decision_reason: Mapped[str] = mapped_column(sa.Text, nullable=False)
    decided_by_id: Mapped[int | None] = _user_fk()
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class Challenge(db.Model):
    """A bidder's challenge received during standstill: it suspends the award until resolved."""

    __tablename__ = "challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(sa.ForeignKey("awards.id", ondelete="CASCADE"), nullable=False, index=True)
    organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id", ondelete="SET NULL"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    summary: Mapped[str] = mapped_column(sa.Text, nullable=False)
    recorded_by_id: Mapped[int | None] = _user_fk()
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by_id: Mapped[int | None] = _user_fk()
    upheld: Mapped[bool | None] = mapped_column(sa.Boolean)
    resolution: Mapped[str | None] = mapped_column(sa.Text)


class Contract(db.Model):
    """Made when an award is confirmed; what the contract register, the KPI dashboard and OCDS read. The
    supplier's status (VCSE, SME, Kent-based) and commitments are captured at award and never recomputed."""

    __tablename__ = "contracts"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(30), nullable=False, unique=True)
    opportunity_id: Mapped[int] = mapped_column(sa.ForeignKey("opportunities.id", ondelete="RESTRICT"),
                                                nullable=False, index=True)
    award_id: Mapped[int] = mapped_column(sa.ForeignKey("awards.id", ondelete="RESTRICT"), nullable=False,
                                          unique=True)
    bid_id: Mapped[int] = mapped_column(sa.ForeignKey("bids.id", ondelete="RESTRICT"), nullable=False)
    organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id", ondelete="SET NULL"),
                                                        index=True)
    title: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    category: Mapped[str] = mapped_column(sa.String(60), nullable=False, index=True)
    supplier_name: Mapped[str] = mapped_column(sa.String(160), nullable=False)
    supplier_postcode: Mapped[str] = mapped_column(sa.String(10), nullable=False, default="")
    supplier_org_type: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    supplier_size: Mapped[str | None] = mapped_column(sa.String(10))
    supplier_is_vcse: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    supplier_is_sme: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    supplier_kent_based: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    value: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    start_date: Mapped[date] = mapped_column(sa.Date, nullable=False)
    end_date: Mapped[date] = mapped_column(sa.Date, nullable=False)
    kent_share: Mapped[Decimal | None] = mapped_column(SHARE)
    kent_spend: Mapped[Decimal | None] = mapped_column(MONEY)  # value x committed Kent share
    kent_jobs: Mapped[int | None] = mapped_column(sa.Integer)
    kent_apprenticeships: Mapped[int | None] = mapped_column(sa.Integer)
    social_value_commitments: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    consortium: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    awarded_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow, index=True)

    award = relationship(Award)
