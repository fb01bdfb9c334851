"""Account use cases: registration, verification, sign-in, password reset, staff invitations."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from marketplace import audit
from marketplace.accounts import tokens
from marketplace.accounts.models import SignInThrottle, StaffRole, User
from marketplace.accounts.passwords import check_password, hash_password, needs_rehash
from marketplace.accounts.roles import ADMINISTRATOR, STAFF_ROLES
from marketplace.email import send_email
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.links import absolute_url
from marketplace.timeutil import as_utc, utcnow


class EmailTaken(DomainError):
    pass


class SignInRefused(DomainError):
    pass


class LinkProblem(DomainError):
    """An expired, tampered or used link. `expired` tells the page which message to show."""

    def __init__(self, message: str, expired: bool = False):
        super().__init__(message)
        self.expired = expired


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.execute(sa.select(User).filter_by(email=normalise_email(email))).scalar_one_or_none()


def _password_fingerprint(user: User) -> str:
    return tokens.state_fingerprint(user.password_hash or "", user.email_verified_at or "")


def _link(endpoint: str, purpose: str, user: User) -> str:
    token = tokens.make_token(purpose, user.id, _password_fingerprint(user))
    return absolute_url(endpoint, token=token)


def _user_from_link(purpose: str, token: str) -> User:
    try:
        user_id, fingerprint = tokens.read_token(purpose, token)
    except tokens.TokenExpired:
        raise LinkProblem("This link has expired.", expired=True) from None
    except tokens.TokenInvalid:
        raise LinkProblem("This link is not valid. Check you copied the whole link from the email.") from None
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or _password_fingerprint(user) != fingerprint:
        raise LinkProblem("This link has already been used or is no longer valid.")
    return user


# Registration and verification -----------------------------------------------------------------

def register_provider(email: str, full_name: str, password: str) -> User:
    email = normalise_email(email)
    if find_user_by_email(email) is not None:
        raise EmailTaken("An account already uses this email address. Sign in or reset your password.", "email")
    user = User(email=email, full_name=full_name.strip(), password_hash=hash_password(password))
    db.session.add(user)
    db.session.flush()
    audit.record("user.registered", "user", user.id, actor=user)
    db.session.commit()
    send_verification(user)
    return user


def send_verification(user: User) -> None:
    link = _link("accounts.verify_email", tokens.VERIFY, user)
    send_email(user.email, "Confirm your email address", "verify_email", user=user, link=link)


def resend_verification(email: str) -> None:
    user = find_user_by_email(email)
    if user is not None and not user.is_verified and user.is_active:
        send_verification(user)


def verify_email(token: str) -> User:
    user = _user_from_link(tokens.VERIFY, token)
    user.email_verified_at = utcnow()
    audit.record("user.email_verified", "user", user.id, actor=user)
    db.session.commit()
    return user


# Signing in ------------------------------------------------------------------------------------

def _throttle_key(email: str) -> str:
    return hashlib.sha256(normalise_email(email).encode()).hexdigest()


def _throttle_for(email: str) -> SignInThrottle:
    key = _throttle_key(email)
    return db.session.get(SignInThrottle, key) or SignInThrottle(email_key=key, failures=0)


GENERIC_FAILURE = "Enter a correct email address and password."


def _locked_message() -> str:
    minutes = current_app.config["LOCKOUT_MINUTES"]
    return (f"Too many attempts to sign in with this email address. Wait {minutes} minutes and try again, "
            "or reset your password.")


def _is_locked(throttle: SignInThrottle, now) -> bool:
    return throttle.locked_until is not None and as_utc(throttle.locked_until) > now


def authenticate(email: str, password: str) -> User:
    """Return the user, or raise SignInRefused with a message that never says whether the email is registered."""
    throttle = _throttle_for(email)
    now = utcnow()
    if _is_locked(throttle, now):
        check_password(None, password)  # same work either way
        raise SignInRefused(_locked_message())
    user = find_user_by_email(email)
    ok = check_password(user.password_hash if user else None, password) and user is not None and user.is_active
    if not ok:
        _record_failure(throttle, now)
        raise SignInRefused(_locked_message() if _is_locked(throttle, now) else GENERIC_FAILURE)
    _record_success(throttle, user, password, now)
    return user


def _record_failure(throttle: SignInThrottle, now) -> None:
    throttle.failures = (throttle.failures or 0) + 1
    if throttle.failures >= current_app.config["LOCKOUT_ATTEMPTS"]:
        throttle.locked_until = now + timedelta(minutes=current_app.config["LOCKOUT_MINUTES"])
        throttle.failures = 0
    db.session.merge(throttle)
    db.session.commit()


def _record_success(throttle: SignInThrottle, user: User, password: str, now) -> None:
    stored = db.session.get(SignInThrottle, throttle.email_key)
    if stored is not None:
        db.session.delete(stored)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_signed_in_at = now
    audit.record("user.signed_in", "user", user.id, actor=user)
    db.session.commit()


# Password reset --------------------------------------------------------------------------------

def request_password_reset(email: str) -> None:
    """Email a reset link if the address has an account; say nothing either way."""
    user = find_user_by_email(email)
    if user is None or not user.is_active:
        return
    link = _link("accounts.reset_password", tokens.RESET, user)
    send_email(user.email, "Reset your password", "reset_password", user=user, link=link)


def check_reset_link(token: str) -> User:
    return _user_from_link(tokens.RESET, token)


def _set_password(user: User, password: str, action: str) -> User:
    user.password_hash = hash_password(password)
    user.session_version = (user.session_version or 1) + 1  # signs out other devices
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()  # the link arrived by email, so the address works
    audit.record(action, "user", user.id, actor=user)
    db.session.commit()
    return user


def reset_password(token: str, password: str) -> User:
    return _set_password(check_reset_link(token), password, "user.password_reset")


def change_password(user: User, current: str, new: str) -> User:
    if not check_password(user.password_hash, current):
        raise DomainError("Your current password is not correct.", "current_password")
    return _set_password(user, new, "user.password_changed")


# Staff -----------------------------------------------------------------------------------------

def _validate_roles(roles: list[str]) -> list[str]:
    unknown = set(roles) - set(STAFF_ROLES)
    if unknown or not roles:
        raise DomainError("Select at least one role.", "roles")
    return sorted(set(roles))


def invite_staff(admin: User, email: str, full_name: str, roles: list[str]) -> User:
    email = normalise_email(email)
    if find_user_by_email(email) is not None:
        raise EmailTaken("An account already uses this email address.", "email")
    roles = _validate_roles(roles)
    user = User(email=email, full_name=full_name.strip(), is_staff=True)
    user.role_rows = [StaffRole(role=role) for role in roles]
    db.session.add(user)
    db.session.flush()
    audit.record("staff.invited", "user", user.id, actor=admin, details={"roles": roles})
    db.session.commit()
    send_staff_invitation(user, admin)
    return user


def send_staff_invitation(user: User, admin: User) -> None:
    link = _link("accounts.accept_invitation", tokens.STAFF_INVITE, user)
    send_email(user.email, "You have been invited to the Kent Commissioning Marketplace", "staff_invitation",
               user=user, admin=admin, link=link)


def check_staff_invitation(token: str) -> User:
    user = _user_from_link(tokens.STAFF_INVITE, token)
    if user.has_password:
        raise LinkProblem("This invitation has already been accepted. Sign in instead.")
    return user


def accept_staff_invitation(token: str, password: str) -> User:
    return _set_password(check_staff_invitation(token), password, "staff.invitation_accepted")


def set_roles(admin: User, user: User, roles: list[str]) -> User:
    roles = _validate_roles(roles)
    if user.id == admin.id and ADMINISTRATOR not in roles:
        raise DomainError("You cannot remove your own administrator role.", "roles")
    before = sorted(user.roles)
    user.role_rows = [row for row in user.role_rows if row.role in roles]
    user.role_rows += [StaffRole(role=r) for r in roles if r not in user.roles]
    audit.record("staff.roles_changed", "user", user.id, actor=admin, details={"from": before, "to": roles})
    db.session.commit()
    return user


def set_active(admin: User, user: User, active: bool) -> User:
    if user.id == admin.id:
        raise DomainError("You cannot deactivate your own account.")
    user.deactivated_at = None if active else utcnow()
    user.session_version = (user.session_version or 1) + 1
    audit.record("staff.reactivated" if active else "staff.deactivated", "user", user.id, actor=admin)
    db.session.commit()
    return user


def create_admin(email: str, full_name: str, password: str) -> User:
    """For `flask create-admin`: a verified administrator who can then invite the rest."""
    email = normalise_email(email)
    user = find_user_by_email(email)
    if user is not None and not user.is_staff:
        raise EmailTaken("That email address belongs to a provider account.")
    if user is None:
        user = User(email=email, full_name=full_name, is_staff=True)
        db.session.add(user)
    user.password_hash = hash_password(password)
    user.email_verified_at = user.email_verified_at or utcnow()
    if ADMINISTRATOR not in user.roles:
        user.role_rows.append(StaffRole(role=ADMINISTRATOR))
    db.session.flush()
    audit.record("staff.admin_created", "user", user.id, actor="cli")
    db.session.commit()
    return user


def staff_query() -> sa.Select:
    return sa.select(User).filter_by(is_staff=True).order_by(User.full_name, User.id)
