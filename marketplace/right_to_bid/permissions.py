"""Who may do what with the right to bid (pure: plain attributes in, bool out)."""

from __future__ import annotations

from typing import Any

from marketplace.accounts.permissions import can_run_procurement
from marketplace.right_to_bid.rules import SUBMITTED


def _signed_in(user: Any) -> bool:
    return user is not None and bool(getattr(user, "is_authenticated", False))


def organisation_id_of(user: Any) -> int | None:
    membership = getattr(user, "membership", None) if _signed_in(user) else None
    return membership.organisation_id if membership is not None else None


def organisation_type_of(user: Any) -> str | None:
    membership = getattr(user, "membership", None) if _signed_in(user) else None
    return membership.organisation.org_type if membership is not None else None


def can_manage_catalogue(user: Any) -> bool:
    """Procurement officers add and change catalogue entries."""
    return can_run_procurement(user)


def can_propose(user: Any) -> bool:
    """Anyone signed in: a provider for its organisation, or council staff (or anyone) as a group of employees."""
    return _signed_in(user)


def is_proposer(user: Any, proposal: Any) -> bool:
    """The person who submitted it, or anyone in the organisation it was made for."""
    if not _signed_in(user):
        return False
    if proposal.submitted_by_id is not None and proposal.submitted_by_id == getattr(user, "id", None):
        return True
    own = organisation_id_of(user)
    return own is not None and proposal.organisation_id == own


def can_view_proposal(user: Any, proposal: Any) -> bool:
    """The proposer and procurement officers read the whole proposal; for anyone else it does not exist."""
    return is_proposer(user, proposal) or can_run_procurement(user)


def can_see_decision_queue(user: Any) -> bool:
    return can_run_procurement(user)


def can_decide(user: Any, proposal: Any) -> bool:
    """A procurement officer decides a proposal once, and never one they (or their organisation) made."""
    return can_run_procurement(user) and proposal.status == SUBMITTED and not is_proposer(user, proposal)
