"""People who sign in: provider users and council staff."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.dbtypes import UTCDateTime
from marketplace.extensions import db
from marketplace.timeutil import utcnow

EMAIL_MAX = 254
NAME_MAX = 120


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(EMAIL_MAX), unique=True, nullable=False)
    full_name: Mapped[str] = mapped_column(sa.String(NAME_MAX), nullable=False)
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    is_staff: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    last_signed_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Bumped whenever the password changes or the user signs out everywhere; part of the session id.
    session_version: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)

    role_rows: Mapped[list["StaffRole"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )
    membership: Mapped["Membership | None"] = relationship(  # noqa: F821
        "Membership", back_populates="user", uselist=False, lazy="selectin"
    )

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(row.role for row in self.role_rows)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.deactivated_at is None

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def has_password(self) -> bool:
        return bool(self.password_hash)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class StaffRole(db.Model):
    __tablename__ = "staff_roles"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)

    user: Mapped[User] = relationship(back_populates="role_rows")


class SignInThrottle(db.Model):
    """Failed sign-ins per email address, whether or not it has an account, so lock-out reveals nothing."""

    __tablename__ = "sign_in_throttles"

    email_key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
