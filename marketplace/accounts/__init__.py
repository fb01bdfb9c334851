"""Accounts: registration, verification, sign-in, password reset, staff invitations."""

from functools import cache

from flask import Blueprint

bp = Blueprint("accounts", __name__)


def load_user(session_id: str):
    """Flask-Login loader: the id carries a version, so a password change signs out other sessions."""
    from marketplace.extensions import db

    user_id, _, version = session_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.execute(_signed_in_user(), {"user_id": int(user_id)}).unique().scalar_one_or_none()
    if user is None or user.session_version != int(version) or not user.is_active:
        return None
    return user


@cache
def _signed_in_user():
    """One round trip for every signed-in request: the user with their roles and membership joined (not the two
    selectin loads that follow a plain get), since nearly every signed-in page asks for one or the other. Built
    once, so SQLAlchemy keeps its cache key."""
    import sqlalchemy as sa
    from sqlalchemy.orm import joinedload

    from marketplace.accounts.models import User

    return (sa.select(User).where(User.id == sa.bindparam("user_id"))
            .options(joinedload(User.role_rows), joinedload(User.membership)))


from marketplace.accounts import views  # noqa: E402,F401
