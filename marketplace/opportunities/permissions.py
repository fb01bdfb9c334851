"""Who may see and change an opportunity (pure: plain attributes in, bool out)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from marketplace.opportunities import lifecycle


def _roles(user: Any) -> frozenset[str]:
    return frozenset(getattr(user, "roles", ())) if getattr(user, "is_authenticated", False) else frozenset()


def is_public(opportunity: Any, now: datetime) -> bool:
    """Published (or later) and its publication time has come."""
    return (opportunity.status in lifecycle.PUBLIC_STATES and opportunity.published_at is not None
            and opportunity.published_at <= now)


def can_view(user: Any, opportunity: Any, now: datetime) -> bool:
    """The public sees published opportunities; council staff also see drafts and those awaiting approval."""
    return is_public(opportunity, now) or bool(_roles(user) & {lifecycle.COMMISSIONER, lifecycle.PROCUREMENT_OFFICER})


def can_create(user: Any) -> bool:
    return lifecycle.COMMISSIONER in _roles(user)


def can_edit_draft(user: Any, opportunity: Any) -> bool:
    """Commissioners edit only their own drafts."""
    return (lifecycle.COMMISSIONER in _roles(user) and opportunity.status == lifecycle.DRAFT
            and opportunity.created_by_id == getattr(user, "id", None))


def can_approve(user: Any, opportunity: Any) -> bool:
    return lifecycle.PROCUREMENT_OFFICER in _roles(user) and opportunity.status == lifecycle.AWAITING_APPROVAL


def can_amend(user: Any, opportunity: Any, now: datetime) -> bool:
    """Published and still open: changed only through a published amendment notice."""
    roles = _roles(user)
    owner = lifecycle.COMMISSIONER in roles and opportunity.created_by_id == getattr(user, "id", None)
    return ((owner or lifecycle.PROCUREMENT_OFFICER in roles)
            and lifecycle.effective_state(opportunity.status, opportunity.submission_deadline, now)
            == lifecycle.PUBLISHED)


def can_cancel(user: Any, opportunity: Any) -> bool:
    roles = _roles(user)
    owner = lifecycle.COMMISSIONER in roles and opportunity.created_by_id == getattr(user, "id", None)
    return (owner or lifecycle.PROCUREMENT_OFFICER in roles) and opportunity.status in lifecycle.BY_ACTION["cancel"].source


def can_answer_questions(user: Any, opportunity: Any) -> bool:
    roles = _roles(user)
    return bool(roles & {lifecycle.COMMISSIONER, lifecycle.PROCUREMENT_OFFICER}) and opportunity.status != lifecycle.DRAFT
