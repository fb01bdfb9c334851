"""The opportunity lifecycle (pure): states, the transitions between them and who may make each.

draft -> awaiting_approval -> published -> closed -> evaluating -> award_recommended -> standstill -> awarded,
or cancelled (with a reason) from any state before awarded. `closed` follows from the clock. A recommendation
returned by its approver, or an award whose challenge was upheld in standstill, goes back to evaluating.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

DRAFT = "draft"
AWAITING_APPROVAL = "awaiting_approval"
PUBLISHED = "published"
CLOSED = "closed"
EVALUATING = "evaluating"
AWARD_RECOMMENDED = "award_recommended"
STANDSTILL = "standstill"
AWARDED = "awarded"
CANCELLED = "cancelled"

STATES = (DRAFT, AWAITING_APPROVAL, PUBLISHED, CLOSED, EVALUATING, AWARD_RECOMMENDED, STANDSTILL, AWARDED,
          CANCELLED)

STATE_LABELS = {
    DRAFT: "Draft", AWAITING_APPROVAL: "Awaiting approval", PUBLISHED: "Open", CLOSED: "Closed",
    EVALUATING: "Evaluating", AWARD_RECOMMENDED: "Award recommended", STANDSTILL: "Standstill",
    AWARDED: "Awarded", CANCELLED: "Cancelled",
}

# States the public can see (after publication).
PUBLIC_STATES = frozenset({PUBLISHED, CLOSED, EVALUATING, AWARD_RECOMMENDED, STANDSTILL, AWARDED, CANCELLED})
# States where the evaluation model may still change.
EDITABLE_STATES = frozenset({DRAFT})

COMMISSIONER = "commissioner"
PROCUREMENT_OFFICER = "procurement_officer"
ADMINISTRATOR = "administrator"
CLOCK = "clock"


@dataclass(frozen=True)
class Transition:
    action: str
    source: frozenset[str]
    target: str
    by: frozenset[str]
    label: str


_BEFORE_AWARD = frozenset(STATES) - {AWARDED, CANCELLED}

TRANSITIONS: tuple[Transition, ...] = (
    Transition("submit_for_approval", frozenset({DRAFT}), AWAITING_APPROVAL, frozenset({COMMISSIONER}),
               "Send for approval"),
    Transition("return_to_draft", frozenset({AWAITING_APPROVAL}), DRAFT,
               frozenset({COMMISSIONER, PROCUREMENT_OFFICER}), "Return to draft"),
    Transition("approve", frozenset({AWAITING_APPROVAL}), PUBLISHED, frozenset({PROCUREMENT_OFFICER}),
               "Approve and publish"),
    Transition("close", frozenset({PUBLISHED}), CLOSED, frozenset({CLOCK}), "Close"),
    Transition("start_evaluation", frozenset({CLOSED}), EVALUATING, frozenset({PROCUREMENT_OFFICER}),
               "Open bids and start evaluation"),
    Transition("recommend_award", frozenset({EVALUATING}), AWARD_RECOMMENDED, frozenset({PROCUREMENT_OFFICER}),
               "Recommend award"),
    Transition("approve_award", frozenset({AWARD_RECOMMENDED}), STANDSTILL,
               frozenset({PROCUREMENT_OFFICER, ADMINISTRATOR}), "Approve award and start standstill"),
    Transition("return_award", frozenset({AWARD_RECOMMENDED, STANDSTILL}), EVALUATING,
               frozenset({PROCUREMENT_OFFICER, ADMINISTRATOR}), "Return the award to evaluation"),
    Transition("confirm_award", frozenset({STANDSTILL}), AWARDED, frozenset({PROCUREMENT_OFFICER}),
               "Confirm award"),
    Transition("cancel", _BEFORE_AWARD, CANCELLED, frozenset({COMMISSIONER, PROCUREMENT_OFFICER}), "Cancel"),
)

BY_ACTION = {t.action: t for t in TRANSITIONS}


class TransitionRefused(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def effective_state(state: str, submission_deadline: datetime | None, now: datetime) -> str:
    """`closed` follows from the clock: a published opportunity past its deadline is closed."""
    if state == PUBLISHED and submission_deadline is not None and now >= submission_deadline:
        return CLOSED
    return state


def next_state(state: str, action: str, actor_roles: frozenset[str] | set[str], reason: str | None = None) -> str:
    """The state after action, or TransitionRefused saying why not."""
    transition = BY_ACTION.get(action)
    if transition is None:
        raise TransitionRefused(f"Unknown action {action!r}")
    if state not in transition.source:
        raise TransitionRefused(f"You cannot {transition.label.lower()} an opportunity that is "
                                f"{STATE_LABELS.get(state, state).lower()}.")
    if not transition.by & set(actor_roles):
        who = " or ".join(sorted(r.replace("_", " ") for r in transition.by))
        raise TransitionRefused(f"Only {'an' if who[0] in 'aeiou' else 'a'} {who} can {transition.label.lower()}.")
    if action == "cancel" and not (reason or "").strip():
        raise TransitionRefused("Give the reason for cancelling: bidders and the public will see it.")
    return transition.target


def available_actions(state: str, actor_roles: frozenset[str] | set[str]) -> list[Transition]:
    return [t for t in TRANSITIONS if state in t.source and t.by & set(actor_roles)]
