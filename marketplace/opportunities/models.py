"""Opportunities: services put to market, their lots, timetable, documents and amendment notices."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.dbtypes import UTCDateTime
from marketplace.extensions import db
from marketplace.timeutil import utcnow

if TYPE_CHECKING:
    from marketplace.accounts.models import User

TITLE_MAX = 200
SUMMARY_MAX = 4000
TEXT_MAX = 4000
REASON_MAX = 2000
MONEY = sa.Numeric(14, 2)

PROCEDURES: dict[str, str] = {
    "open": "Open procedure",
    "competitive_flexible": "Competitive flexible procedure",
    "below_threshold_open": "Below-threshold open procedure",
    "light_touch": "Light-touch regime (social, health and education services)",
}
RESERVATION_NONE = "none"
RESERVATIONS: dict[str, str] = {
    RESERVATION_NONE: "Not reserved: open to any supplier",
    "kent": "Reserved to suppliers established in Kent",
    "kent_sme_vcse": "Reserved to suppliers established in Kent that are also SMEs or VCSEs",
}
DOCUMENT_KINDS: dict[str, str] = {
    "specification": "Specification",
    "draft_contract": "Draft contract",
    "other": "Other document",
}


class Opportunity(db.Model):
    __tablename__ = "opportunities"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(20), unique=True, nullable=False)
    title: Mapped[str] = mapped_column(sa.String(TITLE_MAX), nullable=False)
    summary: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    outcomes: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    category: Mapped[str] = mapped_column(sa.String(60), nullable=False, index=True)
    localities: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    estimated_value: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    contract_start: Mapped[date | None] = mapped_column(sa.Date)
    contract_months: Mapped[int | None] = mapped_column(sa.Integer)
    procedure: Mapped[str] = mapped_column(sa.String(40), nullable=False, default="open")
    # none | kent | kent_sme_vcse  (below threshold only)
    reservation: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="none", index=True)

    publication_date: Mapped[datetime | None] = mapped_column(UTCDateTime())
    clarification_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submission_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)

    contact_name: Mapped[str] = mapped_column(sa.String(120), nullable=False, default="")
    contact_email: Mapped[str] = mapped_column(sa.String(254), nullable=False, default="")

    status: Mapped[str] = mapped_column(sa.String(30), nullable=False, default="draft", index=True)
    cancel_reason: Mapped[str | None] = mapped_column(sa.Text)
    # Why a procurement officer (or the author) last returned it to draft; cleared when it is sent again.
    return_reason: Mapped[str | None] = mapped_column(sa.Text)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    model_frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)

    created_by: Mapped["User | None"] = relationship("User", foreign_keys=[created_by_id])
    lots: Mapped[list["Lot"]] = relationship(back_populates="opportunity", cascade="all, delete-orphan",
                                             order_by="Lot.number")
    models: Mapped[list["EvaluationModel"]] = relationship(back_populates="opportunity",
                                                           cascade="all, delete-orphan")
    documents: Mapped[list["OpportunityDocument"]] = relationship(back_populates="opportunity",
                                                                  cascade="all, delete-orphan",
                                                                  order_by="OpportunityDocument.id")
    amendments: Mapped[list["Amendment"]] = relationship(back_populates="opportunity", cascade="all, delete-orphan",
                                                         order_by="Amendment.id")

    __mapper_args__ = {"version_id_col": version}

    @property
    def main_model(self) -> "EvaluationModel | None":
        return next((m for m in self.models if m.lot_id is None), None)

    def __repr__(self) -> str:
        return f"<Opportunity {self.reference} {self.status}>"


class Lot(db.Model):
    __tablename__ = "lots"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(sa.ForeignKey("opportunities.id", ondelete="CASCADE"),
                                                nullable=False, index=True)
    number: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    title: Mapped[str] = mapped_column(sa.String(TITLE_MAX), nullable=False)
    description: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    estimated_value: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    localities: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)

    opportunity: Mapped[Opportunity] = relationship(back_populates="lots")

    __table_args__ = (sa.UniqueConstraint("opportunity_id", "number", name="uq_lots_opportunity_number"),)


class EvaluationModel(db.Model):
    """The criteria and weights for an opportunity, or for one lot that needs its own."""

    __tablename__ = "evaluation_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(sa.ForeignKey("opportunities.id", ondelete="CASCADE"),
                                                nullable=False, index=True)
    lot_id: Mapped[int | None] = mapped_column(sa.ForeignKey("lots.id", ondelete="CASCADE"), unique=True)
    low_public_value_reason: Mapped[str | None] = mapped_column(sa.Text)
    tie_break: Mapped[str] = mapped_column(sa.String(200), nullable=False,
                                           default="Higher quality and public value points, then lower price")

    opportunity: Mapped[Opportunity] = relationship(back_populates="models")
    criteria: Mapped[list["Criterion"]] = relationship(back_populates="model", cascade="all, delete-orphan",
                                                       order_by="Criterion.position")


class Criterion(db.Model):
    __tablename__ = "criteria"

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(sa.ForeignKey("evaluation_models.id", ondelete="CASCADE"),
                                          nullable=False, index=True)
    position: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    kind: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    title: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    question: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    guidance: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    weight: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))
    scale_max: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=5)
    descriptors: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    min_score: Mapped[Decimal | None] = mapped_column(sa.Numeric(4, 2))
    word_limit: Mapped[int | None] = mapped_column(sa.Integer)
    # price: relative_lowest | deviation_from_lowest | linear_bounds
    # local_economy: panel | relative_highest | target
    method: Mapped[str | None] = mapped_column(sa.String(30))
    params: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)
    # True when the criterion scores where a bidder is based rather than what it commits to deliver in Kent.
    scores_location: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)

    model: Mapped[EvaluationModel] = relationship(back_populates="criteria")


class OpportunityDocument(db.Model):
    __tablename__ = "opportunity_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(sa.ForeignKey("opportunities.id", ondelete="CASCADE"),
                                                nullable=False, index=True)
    kind: Mapped[str] = mapped_column(sa.String(30), nullable=False)  # specification | draft_contract | other
    title: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    filename: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    content_type: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    size: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    storage_key: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    opportunity: Mapped[Opportunity] = relationship(back_populates="documents")


class Amendment(db.Model):
    """A published notice changing a published opportunity."""

    __tablename__ = "amendments"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(sa.ForeignKey("opportunities.id", ondelete="CASCADE"),
                                                nullable=False, index=True)
    summary: Mapped[str] = mapped_column(sa.Text, nullable=False)
    changes_requirements: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    previous_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())
    new_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    opportunity: Mapped[Opportunity] = relationship(back_populates="amendments")


class SavedSearch(db.Model):
    __tablename__ = "saved_searches"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    criteria: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    last_alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Watch(db.Model):
    """A provider user saved an opportunity: they hear about its answers and amendments."""

    __tablename__ = "watches"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(sa.ForeignKey("opportunities.id", ondelete="CASCADE"),
                                                primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
