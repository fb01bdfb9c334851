"""Provider organisations and the people in them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.dbtypes import UTCDateTime
from marketplace.extensions import db
from marketplace.organisations.choices import SME_SIZES, VCSE_TYPES
from marketplace.timeutil import utcnow

LEGAL_NAME_MAX = 160
LINE_MAX = 120


class Organisation(db.Model):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    legal_name: Mapped[str] = mapped_column(sa.String(LEGAL_NAME_MAX), nullable=False)
    # Lower-cased, whitespace-collapsed legal name: one registration per organisation.
    name_key: Mapped[str] = mapped_column(sa.String(LEGAL_NAME_MAX), nullable=False, unique=True)
    org_type: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    size: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    companies_house_number: Mapped[str | None] = mapped_column(sa.String(8), unique=True)
    charity_number: Mapped[str | None] = mapped_column(sa.String(12))

    trading_line1: Mapped[str] = mapped_column(sa.String(LINE_MAX), nullable=False)
    trading_line2: Mapped[str | None] = mapped_column(sa.String(LINE_MAX))
    trading_town: Mapped[str] = mapped_column(sa.String(LINE_MAX), nullable=False)
    trading_postcode: Mapped[str] = mapped_column(sa.String(8), nullable=False)

    operations_line1: Mapped[str] = mapped_column(sa.String(LINE_MAX), nullable=False)
    operations_line2: Mapped[str | None] = mapped_column(sa.String(LINE_MAX))
    operations_town: Mapped[str] = mapped_column(sa.String(LINE_MAX), nullable=False)
    operations_postcode: Mapped[str] = mapped_column(sa.String(8), nullable=False)

    # Derived from the operations postcode, never typed in; the derivation is kept.
    kent_based: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False, index=True)
    district: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    kent_derivation: Mapped[str] = mapped_column(sa.String(300), nullable=False)

    categories: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    localities: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow)

    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", order_by="Membership.id"
    )

    @property
    def is_vcse(self) -> bool:
        return self.org_type in VCSE_TYPES

    @property
    def is_sme(self) -> bool:
        return self.size in SME_SIZES

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.legal_name}>"


class Membership(db.Model):
    """A user's place in an organisation. One organisation per user; one registration serves every bid."""

    __tablename__ = "memberships"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True, nullable=False)
    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False, index=True
    )
    role: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)

    user: Mapped["User"] = relationship(back_populates="membership")  # noqa: F821
    organisation: Mapped[Organisation] = relationship(back_populates="memberships")


class OrganisationInvitation(db.Model):
    """An owner's invitation to a colleague; accepted through a signed link sent by email."""

    __tablename__ = "organisation_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False, index=True
    )
    email: Mapped[str] = mapped_column(sa.String(254), nullable=False)
    invited_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    organisation: Mapped[Organisation] = relationship()

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.cancelled_at is None
