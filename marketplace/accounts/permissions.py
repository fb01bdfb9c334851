"""Role gates for staff pages (pure)."""

from __future__ import annotations

from typing import Any

from marketplace.accounts.roles import ADMINISTRATOR, COMMISSIONER, PROCUREMENT_OFFICER


def has_role(user: Any, role: str) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and role in getattr(user, "roles", frozenset())


def can_administer(user: Any) -> bool:
    return has_role(user, ADMINISTRATOR)


def can_commission(user: Any) -> bool:
    return has_role(user, COMMISSIONER)


def can_run_procurement(user: Any) -> bool:
    return has_role(user, PROCUREMENT_OFFICER)


def can_read_audit_log(user: Any) -> bool:
    return has_role(user, ADMINISTRATOR) or has_role(user, PROCUREMENT_OFFICER)


def is_provider(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and not getattr(user, "is_staff", False)


def is_staff(user: Any) -> bool:
    """Any council staff role: sees the provider directory."""
    return bool(getattr(user, "is_authenticated", False)) and bool(getattr(user, "roles", frozenset()))
