"""Who may do what in an evaluation (pure: plain attributes in, bool out). The pages show an action only when
these allow it, and the services refuse it on the same terms.

Procurement officers run the evaluation: the conflicts assessment, the panel, opening, compliance, release.
Panel members (any council commissioner or procurement officer assigned to the opportunity) declare conflicts
once bids close and see bids only after release, while their declaration clears them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from marketplace.opportunities.lifecycle import (
    AWAITING_APPROVAL,
    CLOSED,
    COMMISSIONER,
    DRAFT,
    EVALUATING,
    PROCUREMENT_OFFICER,
    PUBLISHED,
)

PANEL_ROLES = frozenset({COMMISSIONER, PROCUREMENT_OFFICER})
BEFORE_PUBLICATION = frozenset({DRAFT, AWAITING_APPROVAL})
# The panel is set up from publication until moderation is complete.
PANEL_STATES = frozenset({PUBLISHED, CLOSED, EVALUATING})
# Bid statuses once opened; the panel sees only the compliant ones (and what becomes of them).
OPENED_STATUSES = frozenset({"opened", "compliant", "excluded", "evaluated", "successful", "unsuccessful"})
PANEL_STATUSES = frozenset({"compliant", "evaluated", "successful", "unsuccessful"})


def _roles(user: Any) -> frozenset[str]:
    return frozenset(getattr(user, "roles", ())) if getattr(user, "is_authenticated", False) else frozenset()


def is_officer(user: Any) -> bool:
    return PROCUREMENT_OFFICER in _roles(user)


def is_panel_candidate(user: Any) -> bool:
    """Active council staff who commission or run procurement may sit on a panel."""
    return getattr(user, "deactivated_at", None) is None and bool(frozenset(getattr(user, "roles", ())) & PANEL_ROLES)


def can_record_conflicts_assessment(user: Any, status: str, recorded: bool) -> bool:
    """Before publication; afterwards only to fill a gap left by an opportunity published without one."""
    if not is_officer(user):
        return False
    return status in BEFORE_PUBLICATION or (not recorded and status in PANEL_STATES)


def can_see_evaluation(user: Any, on_panel: bool) -> bool:
    return is_officer(user) or (getattr(user, "is_authenticated", False) and on_panel)


def can_manage_panel(user: Any, state: str, moderation_complete: bool) -> bool:
    return is_officer(user) and state in PANEL_STATES and not moderation_complete


def bids_closed(deadline: datetime | None, now: datetime) -> bool:
    return deadline is not None and now >= deadline


def can_declare(on_panel: bool, deadline: datetime | None, now: datetime) -> bool:
    """Declarations open at the deadline: before it even the number of bidders is sealed."""
    return on_panel and bids_closed(deadline, now)


def can_mitigate(user: Any, declared_by_id: int, state: str) -> bool:
    """Another procurement officer resolves a declared conflict: never the person who declared it."""
    return is_officer(user) and getattr(user, "id", None) != declared_by_id and state in PANEL_STATES


def can_open_bids(user: Any, state: str, opened: bool) -> bool:
    return is_officer(user) and state == CLOSED and not opened


def can_check_compliance(user: Any, opened: bool, released: bool) -> bool:
    return is_officer(user) and opened and not released


def can_release(user: Any, opened: bool, released: bool) -> bool:
    return is_officer(user) and opened and not released


def can_read_bid(user: Any, bid_status: str, opened: bool, cleared_on_panel: bool) -> bool:
    """An opened bid: procurement officers read every one; a cleared panel member (after release) only those
    found compliant."""
    if is_officer(user):
        return opened and bid_status in OPENED_STATUSES
    return cleared_on_panel and bid_status in PANEL_STATUSES
