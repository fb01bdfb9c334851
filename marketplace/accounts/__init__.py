"""Accounts: registration, verification, sign-in, password reset, staff invitations."""

from flask import Blueprint

bp = Blueprint("accounts", __name__)


def load_user(session_id: str):
    """Flask-Login loader: the id carries a version, so a password change signs out other sessions."""
    from sqlalchemy.orm import joinedload

    from marketplace.accounts.models import User
    from marketplace.extensions import db

    user_id, _, version = session_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    # One round trip: the user with their roles and membership joined (not the two selectin loads that follow a
    # plain get), since nearly every signed-in page asks for one or the other.
    user = db.session.get(User, int(user_id), options=[joinedload(User.role_rows), joinedload(User.membership)])
    if user is None or user.session_version != int(version) or not user.is_active:
        return None
    return user


from marketplace.accounts import views  # noqa: E402,F401
