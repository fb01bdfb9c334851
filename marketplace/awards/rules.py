"""Award rules (pure): who may approve, what blocks a recommendation, an approval or a confirmation, the state
of standstill, cancellation reasons, and the contract's dates and reference.

Plain values in, plain values out: statuses, role names, ids, dates. A function named `*_refusal` returns the
sentence a person is shown, or None when the step may go ahead.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from marketplace.accounts.roles import ADMINISTRATOR, PROCUREMENT_OFFICER

# recommended -> approved (the award notice; standstill) -> confirmed; or returned, or cancelled
RECOMMENDED = "recommended"
RETURNED = "returned"
APPROVED = "approved"
CONFIRMED = "confirmed"
CANCELLED = "cancelled"

STATUS_LABELS = {RECOMMENDED: "Recommended", RETURNED: "Returned", APPROVED: "Approved",
                 CONFIRMED: "Confirmed", CANCELLED: "Cancelled"}
IN_PROGRESS = frozenset({RECOMMENDED, APPROVED})  # a recommendation nobody may make again while one of these stands
PUBLISHED = frozenset({APPROVED, CONFIRMED})  # the award notice is out: bidders see their results

OTHER = "other"
CANCEL_REASONS: dict[str, str] = {
    "no_compliant_bids": "No compliant bids were received",
    "unaffordable": "Every compliant bid is above the available budget",
    "requirement_changed": "The council's requirement has changed materially",
    "procedural_error": "A procedural error that cannot be put right",
    "challenge_upheld": "A challenge was upheld",
    OTHER: "Another reason (explained below)",
}

DECIDERS = frozenset({PROCUREMENT_OFFICER, ADMINISTRATOR})
PENCE = Decimal("0.01")


# Who may act ------------------------------------------------------------------------------------------

def runs_awards(roles: Iterable[str]) -> bool:
    """Procurement officers recommend, answer price flags, record challenges and confirm."""
    return PROCUREMENT_OFFICER in set(roles)


def sees_awards(roles: Iterable[str]) -> bool:
    """Procurement officers and administrators (who may approve) read the award pages."""
    return bool(DECIDERS & set(roles))


def approval_refusal(user_id: int | None, roles: Iterable[str], recommended_by_id: int | None) -> str | None:
    """Another procurement officer or an administrator approves or returns a recommendation; never the person
    who made it (separation of duties)."""
    if not sees_awards(roles):
        return "Only a procurement officer or an administrator can approve or return a recommendation."
    if user_id is not None and user_id == recommended_by_id:
        return ("You recommended this award, so you cannot approve or return it too: another procurement officer "
                "or an administrator must decide (separation of duties).")
    return None


# Recommending -----------------------------------------------------------------------------------------

def recommendation_refusal(opportunity_status: str, moderation_complete: bool,
                           current_status: str | None) -> str | None:
    """Why no recommendation can be made now. `current_status` is the latest award's status, if any."""
    if current_status in IN_PROGRESS:
        return ("An award is already recommended for this opportunity. It must be returned before another "
                "recommendation can be made.")
    if current_status == CONFIRMED:
        return "The award for this opportunity is confirmed, so no other recommendation can be made."
    if opportunity_status != "evaluating":
        return "A recommendation is made during evaluation, and this opportunity is not being evaluated."
    if not moderation_complete:
        return "Moderation is not complete yet: recommend the award once every consensus score is set."
    return None


def tie_problem(tied: Sequence[str], chosen: str | None, decision: str) -> tuple[str, str] | None:
    """A tie that survived the stated tie-break rule needs one of the tied bids and the recorded decision."""
    if not tied:
        return None
    if chosen not in tied:
        return "bid_id", "Select which of the tied bids you recommend"
    if not decision.strip():
        return "tie_decision", "Explain how the tie was decided"
    return None


def recommended_bid(winner: str | None, tied: Sequence[str], chosen: str | None) -> str | None:
    """The engine's winner, or the tied bid the officer chose."""
    return winner if winner is not None else (chosen if chosen in tied else None)


# Abnormally low prices and approval ---------------------------------------------------------------------

def unanswered(flagged: Iterable[str], answered: Iterable[str]) -> list[str]:
    """Flagged bids (ids) that have no price review yet, in the order given."""
    done = set(answered)
    return [bid_id for bid_id in flagged if bid_id not in done]


def approval_blockers(unanswered_names: Sequence[str], ranking_changed: bool) -> list[str]:
    """What stops an approval: an unanswered abnormally-low flag, or a ranking that no longer matches the one
    recommended (a price rejected since, or scores changed)."""
    blockers = [f"The abnormally low price of {name} has not been answered: record the bidder's explanation "
                "and your decision first." for name in unanswered_names]
    if ranking_changed:
        blockers.append("The ranking has changed since the recommendation was made (for example, a price was "
                        "rejected). Return the recommendation so that a new one can be made.")
    return blockers


# Standstill, challenges and confirmation ------------------------------------------------------------------

NOT_STARTED, RUNNING, SUSPENDED, ENDED, UPHELD = "not_started", "running", "suspended", "ended", "upheld"


def standstill_state(ends_on: date | None, today: date, unresolved: int, upheld: int) -> str:
    """not_started (no award notice), running, suspended (a challenge awaits a decision), upheld (a challenge
    succeeded: cancel or return to evaluation) or ended (the award may be confirmed)."""
    if ends_on is None:
        return NOT_STARTED
    if unresolved:
        return SUSPENDED
    if upheld:
        return UPHELD
    return RUNNING if today <= ends_on else ENDED


def uk_day(day: date) -> str:
    """'Tuesday 8 December 2026'."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def standstill_end_words(ends_on: date) -> str:
    return f"midnight at the end of {uk_day(ends_on)}"


def confirmation_refusal(status: str, ends_on: date | None, today: date, unresolved: int,
                         upheld: int) -> str | None:
    """Confirmation needs an approved award, standstill over (London date after its last day) and no challenge
    outstanding or upheld."""
    if status == CONFIRMED:
        return "This award is already confirmed."
    if status != APPROVED or ends_on is None:
        return "Only an approved award can be confirmed, after its standstill period."
    if unresolved:
        return ("A challenge to this award has not been resolved, so the award is suspended. Record the outcome "
                "of the challenge first.")
    if upheld:
        return ("A challenge to this award was upheld, so it cannot be confirmed. Cancel the opportunity or return "
                "it to evaluation.")
    if today <= ends_on:
        return (f"Standstill ends at {standstill_end_words(ends_on)}. You can confirm the award from "
                f"{uk_day(ends_on + timedelta(days=1))}.")
    return None


def challenge_time_refusal(received_at: datetime, received_day: date, notice_at: datetime, ends_on: date,
                           now: datetime) -> str | None:
    """A challenge counts when received after the award notice and no later than the last day of standstill
    (`received_day` is its London date)."""
    if received_at > now:
        return "The time the challenge was received must not be in the future"
    if received_at < notice_at:
        return "The challenge must have been received after the award notice was published"
    if received_day > ends_on:
        return f"Standstill ended at {standstill_end_words(ends_on)}: a challenge received later does not suspend the award"
    return None


def resolution_refusal(resolved: bool) -> str | None:
    return "This challenge has already been resolved." if resolved else None


def return_refusal(status: str, upheld: int) -> str | None:
    """After standstill has begun, the award goes back to evaluation only when a challenge was upheld."""
    if status != APPROVED:
        return "Only an award in standstill can be returned to evaluation after a challenge."
    if not upheld:
        return "An award in standstill goes back to evaluation only after a challenge to it has been upheld."
    return None


# Cancellation --------------------------------------------------------------------------------------------

def cancel_problem(category: str | None, details: str) -> tuple[str, str] | None:
    if category not in CANCEL_REASONS:
        return "category", "Select why you are cancelling it"
    if category == OTHER and not details.strip():
        return "reason", "Give the reason for cancelling: bidders and the public will see it."
    return None


def cancel_reason_text(category: str, details: str) -> str:
    """What bidders and the public are told: the listed reason and any details, or the details alone."""
    details = details.strip()
    if category == OTHER:
        return details
    label = CANCEL_REASONS[category]
    return f"{label}. {details}" if details else label


# The contract ----------------------------------------------------------------------------------------------

def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it is shorter (31 January + 1 month: 28 or 29
    February)."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def contract_end(start: date, months: int) -> date:
    """The last day of a contract of `months` months starting on `start` (1 April 2027 + 12 months: 31 March
    2028)."""
    return add_months(start, months) - timedelta(days=1)


def kent_spend(value: Decimal, share: Decimal | None) -> Decimal | None:
    return None if share is None else (value * share).quantize(PENCE, ROUND_HALF_UP)


def contract_reference(year: int, last: str | None) -> str:
    """KCC-C-<year>-<number>, numbered in order within the year; `last` is the year's highest so far."""
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{contract_prefix(year)}{number:04d}"


def contract_prefix(year: int) -> str:
    return f"KCC-C-{year}-"
