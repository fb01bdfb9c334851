"""Right to bid: the catalogue of council services open to challenge, proposals and decisions."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.dbtypes import UTCDateTime
from marketplace.extensions import db
from marketplace.timeutil import utcnow


class CatalogueService(db.Model):
    __tablename__ = "catalogue_services"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    description: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    annual_cost: Mapped[Decimal] = mapped_column(sa.Numeric(14, 2), nullable=False)
    locality: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    category: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    window_opens: Mapped[date] = mapped_column(sa.Date, nullable=False)
    window_closes: Mapped[date] = mapped_column(sa.Date, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class Proposal(db.Model):
    """An expression of interest to run a catalogued service, with its business case."""

    __tablename__ = "proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(20), unique=True, nullable=False)
    service_id: Mapped[int] = mapped_column(sa.ForeignKey("catalogue_services.id", ondelete="RESTRICT"),
                                            nullable=False, index=True)
    # voluntary_community | charity | parish_council | staff_group | provider
    proposer_type: Mapped[str] = mapped_column(sa.String(30), nullable=False)
    organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id", ondelete="SET NULL"),
                                                        index=True)
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    proposer_name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    staff_members: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    outcomes: Mapped[str] = mapped_column(sa.Text, nullable=False)
    cost_and_savings: Mapped[str] = mapped_column(sa.Text, nullable=False)
    staffing: Mapped[str] = mapped_column(sa.Text, nullable=False)
    social_value: Mapped[str] = mapped_column(sa.Text, nullable=False)
    capacity: Mapped[str] = mapped_column(sa.Text, nullable=False)
    evidence: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    financial_resources: Mapped[str] = mapped_column(sa.Text, nullable=False)
    capability: Mapped[str] = mapped_column(sa.Text, nullable=False)
    effect_on_employees: Mapped[str | None] = mapped_column(sa.Text)

    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    decision_due: Mapped[date] = mapped_column(sa.Date, nullable=False)
    # submitted | accepted | accepted_modified | rejected
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="submitted", index=True)
    decision_ground: Mapped[str | None] = mapped_column(sa.String(40))
    decision_reasons: Mapped[str | None] = mapped_column(sa.Text)
    modification: Mapped[str | None] = mapped_column(sa.Text)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    opportunity_id: Mapped[int | None] = mapped_column(sa.ForeignKey("opportunities.id", ondelete="SET NULL"))

    service: Mapped[CatalogueService] = relationship()
