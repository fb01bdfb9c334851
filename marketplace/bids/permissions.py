"""Who may read or change a bid (pure). Sealed: before the deadline only the bidder's organisation."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def organisation_id(user: Any) -> int | None:
    """The signed-in user's organisation, whose bids they may prepare."""
    membership = getattr(user, "membership", None) if getattr(user, "is_authenticated", False) else None
    return membership.organisation_id if membership is not None else None


def is_bidder(user: Any, bid: Any) -> bool:
    """A member of the organisation that owns the bid."""
    return organisation_id(user) is not None and organisation_id(user) == bid.organisation_id


def can_prepare(user: Any, bid: Any, deadline: datetime | None, now: datetime) -> bool:
    return is_bidder(user, bid) and deadline is not None and now < deadline


def can_read(user: Any, bid: Any, deadline: datetime | None, now: datetime, opened: bool) -> bool:
    """The bidder always; after the deadline and opening, the procurement officer (panels come with evaluation)."""
    if is_bidder(user, bid):
        return True
    if deadline is None or now < deadline or not opened:
        return False
    return "procurement_officer" in getattr(user, "roles", frozenset())
