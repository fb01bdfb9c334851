"""Signed, expiring, single-use links (email verification, password reset, invitations)."""

from __future__ import annotations

import hashlib

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

VERIFY = "verify-email"
RESET = "reset-password"
STAFF_INVITE = "staff-invitation"
ORG_INVITE = "organisation-invitation"

_MAX_AGE_SETTING = {
    VERIFY: "EMAIL_VERIFY_MAX_AGE",
    RESET: "PASSWORD_RESET_MAX_AGE",
    STAFF_INVITE: "INVITATION_MAX_AGE",
    ORG_INVITE: "INVITATION_MAX_AGE",
}


class TokenExpired(Exception):
    pass


class TokenInvalid(Exception):
    pass


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"marketplace:{purpose}")


def state_fingerprint(*parts: object) -> str:
    """A short digest of state that using the link changes, which makes the link single-use."""
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:16]


def make_token(purpose: str, subject_id: int, fingerprint: str) -> str:
    return _serializer(purpose).dumps({"id": subject_id, "fp": fingerprint})


def read_token(purpose: str, token: str) -> tuple[int, str]:
    max_age = current_app.config[_MAX_AGE_SETTING[purpose]]
    try:
        data = _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired:
        raise TokenExpired() from None
    except BadSignature:
        raise TokenInvalid() from None
    if not isinstance(data, dict) or not isinstance(data.get("id"), int) or not isinstance(data.get("fp"), str):
        raise TokenInvalid()
    return data["id"], data["fp"]
