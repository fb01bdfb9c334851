"""Right to bid: the catalogue of council services open to challenge, proposals and decisions."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.dbtypes import UTCDateTime
from marketplace.extensions import db
from marketplace.right_to_bid.rules import STAFF_GROUP, SUBMITTED, WindowStatus, window_status
from marketplace.timeutil import utcnow

NAME_MAX = 200
DESCRIPTION_MAX = 2000
OUTCOMES_MAX = 2000
CASE_MAX = 5000
EMPLOYEE_FIELD_MAX = 120
MODIFICATION_MAX = 1500
REASONS_MAX = 5000


class CatalogueService(db.Model):
    __tablename__ = "catalogue_services"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(NAME_MAX), nullable=False)
    description: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    annual_cost: Mapped[Decimal] = mapped_column(sa.Numeric(14, 2), nullable=False)
    locality: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    category: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    window_opens: Mapped[date] = mapped_column(sa.Date, nullable=False)
    window_closes: Mapped[date] = mapped_column(sa.Date, nullable=False)
    # The window after this one, when the service will reopen (both dates or neither).
    next_window_opens: Mapped[date | None] = mapped_column(sa.Date)
    next_window_closes: Mapped[date | None] = mapped_column(sa.Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)

    @property
    def windows(self) -> list[tuple[date | None, date | None]]:
        return [(self.window_opens, self.window_closes), (self.next_window_opens, self.next_window_closes)]

    def window_on(self, today: date) -> WindowStatus:
        return window_status(today, self.windows)


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
    # Ticked by the deciding officer: the proposer agreed the modification.
    modification_agreed: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    opportunity_id: Mapped[int | None] = mapped_column(sa.ForeignKey("opportunities.id", ondelete="SET NULL"))

    service: Mapped[CatalogueService] = relationship()
    organisation = relationship("Organisation")
    submitted_by = relationship("User", foreign_keys=[submitted_by_id])
    opportunity = relationship("Opportunity")

    @property
    def is_staff_group(self) -> bool:
        return self.proposer_type == STAFF_GROUP

    @property
    def is_decided(self) -> bool:
        return self.status != SUBMITTED
