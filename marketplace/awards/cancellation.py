"""What cancelling an opportunity means for its award and its bidders (used by opportunities.services.cancel,
inside its transaction): the reason from the list with its details, the award in progress withdrawn, and a
letter to every organisation that submitted a bid."""

from __future__ import annotations

from typing import Any

from marketplace import audit
from marketplace.awards import notify, reading, rules
from marketplace.errors import DomainError

send = notify.send
letters = notify.cancellation_letters
reason_text = rules.cancel_reason_text


def reason_error(category: str | None, details: str) -> DomainError | None:
    """A reason from the list is needed; details too when the reason is 'another reason'."""
    problem = rules.cancel_problem(category, details)
    return None if problem is None else DomainError(problem[1], problem[0])


def withdraw_award(opportunity: Any, user: Any) -> None:
    """A recommendation or an approved award in standstill is cancelled with the opportunity."""
    award = reading.current_award(opportunity.id)
    if award is None or award.status not in rules.IN_PROGRESS:
        return
    award.status = rules.CANCELLED
    audit.record("award.cancelled", "award", award.id, actor=user,
                 details={"opportunity_id": opportunity.id, "bid_id": award.bid_id, "reason": opportunity.cancel_reason})
