"""Who may do what with an organisation (pure: plain attributes in, bool out)."""

from __future__ import annotations

from typing import Any

from marketplace.organisations.choices import MEMBER_OWNER


def _membership(user: Any):
    return getattr(user, "membership", None) if user is not None and getattr(user, "is_authenticated", False) else None


def is_member(user: Any, organisation: Any) -> bool:
    membership = _membership(user)
    return membership is not None and membership.organisation_id == organisation.id


def can_view_organisation(user: Any, organisation: Any) -> bool:
    """Members see their own organisation's page; staff see every provider's."""
    signed_in = user is not None and bool(getattr(user, "is_authenticated", False))
    return is_member(user, organisation) or (signed_in and bool(getattr(user, "is_staff", False)))


def can_edit_organisation(user: Any, organisation: Any) -> bool:
    return is_member(user, organisation)


def can_manage_members(user: Any, organisation: Any) -> bool:
    membership = _membership(user)
    return is_member(user, organisation) and membership.role == MEMBER_OWNER


def can_create_organisation(user: Any) -> bool:
    """A verified provider user with no organisation yet; staff accounts do not bid."""
    return (
        user is not None
        and getattr(user, "is_authenticated", False)
        and getattr(user, "is_verified", False)
        and not getattr(user, "is_staff", False)
        and _membership(user) is None
    )
