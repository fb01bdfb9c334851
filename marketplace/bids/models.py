"""Bids: one organisation's tender for an opportunity, its working copy and its sealed submitted versions."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.dbtypes import UTCDateTime
from marketplace.extensions import db
from marketplace.timeutil import utcnow

MONEY = sa.Numeric(14, 2)
SHARE = sa.Numeric(7, 6)  # 0..1


class Bid(db.Model):
    """The organisation's working copy, shared by its members and saved as they go."""

    __tablename__ = "bids"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(sa.ForeignKey("opportunities.id", ondelete="CASCADE"),
                                                nullable=False, index=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"),
                                                 nullable=False, index=True)
    # draft | submitted | withdrawn | opened | compliant | excluded | evaluated | successful | unsuccessful
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="draft", index=True)
    lot_ids: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    price_total: Mapped[Decimal | None] = mapped_column(MONEY)
    kent_share: Mapped[Decimal | None] = mapped_column(SHARE)
    kent_jobs: Mapped[int | None] = mapped_column(sa.Integer)
    kent_apprenticeships: Mapped[int | None] = mapped_column(sa.Integer)
    local_economy_notes: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    declared_conflicts: Mapped[str | None] = mapped_column(sa.String(10))  # none | declared
    conflict_details: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    declared_no_exclusion_grounds: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    declared_accurate: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)

    answers: Mapped[list["BidAnswer"]] = relationship(back_populates="bid", cascade="all, delete-orphan")
    price_lines: Mapped[list["PriceLine"]] = relationship(back_populates="bid", cascade="all, delete-orphan",
                                                          order_by="PriceLine.position")
    commitments: Mapped[list["SocialValueCommitment"]] = relationship(
        back_populates="bid", cascade="all, delete-orphan", order_by="SocialValueCommitment.id")
    members: Mapped[list["ConsortiumMember"]] = relationship(back_populates="bid", cascade="all, delete-orphan",
                                                             order_by="ConsortiumMember.id")
    documents: Mapped[list["BidDocument"]] = relationship(back_populates="bid", cascade="all, delete-orphan",
                                                          order_by="BidDocument.id")
    submissions: Mapped[list["BidSubmission"]] = relationship(back_populates="bid", cascade="all, delete-orphan",
                                                              order_by="BidSubmission.number")

    __table_args__ = (sa.UniqueConstraint("opportunity_id", "organisation_id", name="uq_bids_opportunity_org"),)
    __mapper_args__ = {"version_id_col": version}


class BidAnswer(db.Model):
    """An answer to one criterion: text for quality and public value, pass/fail for gate questions."""

    __tablename__ = "bid_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(sa.ForeignKey("bids.id", ondelete="CASCADE"), nullable=False, index=True)
    criterion_id: Mapped[int] = mapped_column(sa.ForeignKey("criteria.id", ondelete="CASCADE"), nullable=False)
    text: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    confirmed: Mapped[bool | None] = mapped_column(sa.Boolean)  # pass_fail: the bidder meets it
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow)

    bid: Mapped[Bid] = relationship(back_populates="answers")

    __table_args__ = (sa.UniqueConstraint("bid_id", "criterion_id", name="uq_bid_answers_bid_criterion"),)


class PriceLine(db.Model):
    __tablename__ = "price_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(sa.ForeignKey("bids.id", ondelete="CASCADE"), nullable=False, index=True)
    position: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    description: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    quantity: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2), nullable=False)
    unit: Mapped[str] = mapped_column(sa.String(40), nullable=False, default="")
    unit_price: Mapped[Decimal] = mapped_column(MONEY, nullable=False)

    bid: Mapped[Bid] = relationship(back_populates="price_lines")


class SocialValueCommitment(db.Model):
    __tablename__ = "social_value_commitments"

    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(sa.ForeignKey("bids.id", ondelete="CASCADE"), nullable=False, index=True)
    measure: Mapped[str] = mapped_column(sa.String(60), nullable=False)  # a code from bids.measures
    quantity: Mapped[Decimal] = mapped_column(sa.Numeric(14, 2), nullable=False)
    unit: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    description: Mapped[str] = mapped_column(sa.String(500), nullable=False, default="")

    bid: Mapped[Bid] = relationship(back_populates="commitments")


class ConsortiumMember(db.Model):
    """A consortium member or subcontractor named by the prime provider."""

    __tablename__ = "consortium_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(sa.ForeignKey("bids.id", ondelete="CASCADE"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(sa.String(160), nullable=False)
    org_type: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    size: Mapped[str | None] = mapped_column(sa.String(10))
    kent_based: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    role: Mapped[str] = mapped_column(sa.String(20), nullable=False)  # consortium_member | subcontractor
    share: Mapped[Decimal] = mapped_column(SHARE, nullable=False)
    linked_organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="SET NULL"))

    bid: Mapped[Bid] = relationship(back_populates="members")


class BidDocument(db.Model):
    __tablename__ = "bid_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(sa.ForeignKey("bids.id", ondelete="CASCADE"), nullable=False, index=True)
    title: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    filename: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    content_type: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    size: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    storage_key: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    bid: Mapped[Bid] = relationship(back_populates="documents")


class BidSubmission(db.Model):
    """A sealed version: the canonical content as submitted, its SHA-256 and the server time (the receipt)."""

    __tablename__ = "bid_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(sa.ForeignKey("bids.id", ondelete="CASCADE"), nullable=False, index=True)
    number: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    sha256: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    content: Mapped[str] = mapped_column(sa.Text, nullable=False)  # canonical JSON, exactly what was hashed
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    bid: Mapped[Bid] = relationship(back_populates="submissions")

    __table_args__ = (sa.UniqueConstraint("bid_id", "number", name="uq_bid_submissions_bid_number"),)


class OrganisationBidsVersion(db.Model):
    """A number for each organisation that database triggers add one to whenever what its dashboard lists changes
    (migration 0013): a bid started, deleted or moved to another status, a version sealed, withdrawn or deleted.
    Autosaves leave it alone. The provider dashboard is cached under it (`marketplace/bids/dashboard.py`)."""

    __tablename__ = "organisation_bids_versions"

    organisation_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
