"""Right-to-bid rules (pure): who may propose, when windows are open, what a decision needs, when it is due.

Plain values in, plain values out: no Flask, no database. Services and forms both call these, so the page and
the server agree. Problems are returned as (field, message) pairs naming the form field the message belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Iterable, Sequence

Problem = tuple[str, str]

# Who proposes -----------------------------------------------------------------------------------------

VOLUNTARY_COMMUNITY = "voluntary_community"
CHARITY = "charity"
PARISH_COUNCIL = "parish_council"
STAFF_GROUP = "staff_group"
PROVIDER = "provider"

PROPOSER_TYPES: dict[str, str] = {
    VOLUNTARY_COMMUNITY: "A voluntary or community body",
    CHARITY: "A charity",
    PARISH_COUNCIL: "A parish or town council",
    STAFF_GROUP: "Two or more council employees (a staff mutual or management buy-out)",
    PROVIDER: "A registered provider",
}

PROPOSER_HINTS: dict[str, str] = {
    VOLUNTARY_COMMUNITY: "Your organisation is registered as a voluntary or community group, a social enterprise "
                         "or a co-operative.",
    CHARITY: "Your organisation is registered as a charity.",
    PARISH_COUNCIL: "Your organisation is registered as a public body.",
    STAFF_GROUP: "You list the employees in the group and say how the change would affect other employees.",
    PROVIDER: "Any organisation registered on the marketplace.",
}

# The organisation types that may propose as each kind of body (None: any registered organisation).
ORGANISATION_TYPES_FOR: dict[str, frozenset[str] | None] = {
    VOLUNTARY_COMMUNITY: frozenset({"voluntary_community", "social_enterprise", "cooperative_mutual"}),
    CHARITY: frozenset({"charity"}),
    PARISH_COUNCIL: frozenset({"public_body"}),
    PROVIDER: None,
}

STAFF_GROUP_PUBLIC_NAME = "A group of council employees"
STAFF_GROUP_MINIMUM = 2
# The form field that carries messages about the list of employees (its first box).
STAFF_MEMBERS_FIELD = "member_1_name"


def eligible_proposer_types(org_type: str | None) -> list[str]:
    """The kinds of body a user may propose as: a staff group always; the others need an organisation of a
    fitting type (org_type None means the user belongs to no organisation)."""
    return [kind for kind in PROPOSER_TYPES if eligibility_refusal(kind, org_type) is None]


def eligibility_refusal(proposer_type: str, org_type: str | None) -> str | None:
    """Why the user cannot propose as proposer_type, or None when they can."""
    if proposer_type not in PROPOSER_TYPES:
        return "Select who is making the proposal"
    if proposer_type == STAFF_GROUP:
        return None
    if org_type is None:
        return "Register your organisation before proposing on its behalf, or propose as a group of council employees"
    allowed = ORGANISATION_TYPES_FOR[proposer_type]
    if allowed is not None and org_type not in allowed:
        return f"Your organisation is not registered as {PROPOSER_TYPES[proposer_type].lower()}: choose another option"
    return None


def staff_group_problems(members: Sequence[tuple[str, str]], effect_on_employees: str | None) -> list[Problem]:
    """A staff group names at least two employees (name and job title) and says how other employees are affected."""
    problems: list[Problem] = []
    complete = [(name, job) for name, job in members if (name or "").strip() and (job or "").strip()]
    if len(complete) < STAFF_GROUP_MINIMUM:
        problems.append((STAFF_MEMBERS_FIELD, "List at least two council employees, with the name and job title of each"))
    if not (effect_on_employees or "").strip():
        problems.append(("effect_on_employees", "Describe the effect of the proposal on other council employees"))
    return problems


# Windows for expressions of interest ------------------------------------------------------------------

OPEN = "open"
UPCOMING = "upcoming"
NONE_SCHEDULED = "none_scheduled"


@dataclass(frozen=True)
class WindowStatus:
    """Where a service stands on a given day: open (until `closes`), upcoming (from `opens` to `closes`), or no
    window scheduled."""

    kind: str
    opens: date | None = None
    closes: date | None = None

    @property
    def is_open(self) -> bool:
        return self.kind == OPEN


def window_status(today: date, windows: Iterable[tuple[date | None, date | None]]) -> WindowStatus:
    """The window containing today (both ends inclusive) or else the next one to open. Incomplete windows are
    ignored."""
    complete = sorted((opens, closes) for opens, closes in windows if opens is not None and closes is not None)
    for opens, closes in complete:
        if opens <= today <= closes:
            return WindowStatus(OPEN, opens, closes)
    for opens, closes in complete:
        if today < opens:
            return WindowStatus(UPCOMING, opens, closes)
    return WindowStatus(NONE_SCHEDULED)


def uk_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def window_summary(status: WindowStatus) -> str:
    """One line for the catalogue: open until, opens on, or none scheduled."""
    if status.kind == OPEN:
        return f"Open until {uk_date(status.closes)}"
    if status.kind == UPCOMING:
        return f"Opens {uk_date(status.opens)}, closes {uk_date(status.closes)}"
    return "Closed: no window scheduled"


def window_refusal(status: WindowStatus) -> str | None:
    """Why an expression of interest cannot be made today, with the next window's dates; None while open."""
    if status.kind == OPEN:
        return None
    lead = "Expressions of interest for this service are not being accepted now."
    if status.kind == UPCOMING:
        return (f"{lead} The next window opens on {uk_date(status.opens)} and closes on "
                f"{uk_date(status.closes)}.")
    return f"{lead} No window is scheduled yet: check the catalogue again later."


# The catalogue ----------------------------------------------------------------------------------------

def catalogue_problems(annual_cost: Decimal | None, opens: date | None, closes: date | None,
                       next_opens: date | None = None, next_closes: date | None = None) -> list[Problem]:
    """A catalogue entry costs more than nothing; each window closes after it opens; a next window comes after the
    current one and has both dates."""
    problems: list[Problem] = []
    if annual_cost is not None and annual_cost <= 0:
        problems.append(("annual_cost", "Current annual cost must be more than £0"))
    if opens and closes and closes <= opens:
        problems.append(("window_closes", "The window must close after it opens"))
    if (next_opens is None) != (next_closes is None):
        field = "next_window_closes" if next_closes is None else "next_window_opens"
        problems.append((field, "Enter both dates of the next window, or neither"))
    elif next_opens and next_closes:
        if next_closes <= next_opens:
            problems.append(("next_window_closes", "The next window must close after it opens"))
        if closes and next_opens <= closes:
            problems.append(("next_window_opens", "The next window must open after the current window closes"))
    return problems


# Decisions --------------------------------------------------------------------------------------------

SUBMITTED = "submitted"
ACCEPTED = "accepted"
ACCEPTED_MODIFIED = "accepted_modified"
REJECTED = "rejected"

STATUS_LABELS: dict[str, str] = {
    SUBMITTED: "Waiting for a decision",
    ACCEPTED: "Accepted",
    ACCEPTED_MODIFIED: "Accepted with a modification",
    REJECTED: "Rejected",
}

DECISIONS: dict[str, str] = {
    ACCEPTED: "Accept",
    ACCEPTED_MODIFIED: "Accept with a modification the proposer has agreed",
    REJECTED: "Reject",
}

AUDIT_ACTIONS: dict[str, str] = {
    ACCEPTED: "right_to_bid.accepted",
    ACCEPTED_MODIFIED: "right_to_bid.accepted_with_modification",
    REJECTED: "right_to_bid.rejected",
}

OTHER_GROUND = "other"

# Grounds for rejecting an expression of interest (after the Community Right to Challenge (Grounds for
# Rejecting Expressions of Interest) (England) Regulations 2012), as shown to officers and on the register.
REJECTION_GROUNDS: dict[str, str] = {
    "statutory_requirements": "The expression of interest does not meet the statutory requirements",
    "materially_inaccurate": "Information in the expression of interest is materially inaccurate or inadequate",
    "already_procured": "The service is already being procured",
    "stop_providing": "The council has decided to stop providing the service",
    "negotiating": "The council is negotiating in writing with another party to provide the service",
    "body_not_suitable": "The relevant body, or a member of its consortium or its subcontractors, is not suitable "
                         "to provide the service",
    "no_wellbeing": "The proposal would not promote or improve the social, economic or environmental well-being "
                    "of the area",
    "frivolous_vexatious": "The expression of interest is frivolous or vexatious",
    "unlawful": "Accepting it would be likely to lead to a breach of the law",
    OTHER_GROUND: "Another ground, explained in the reasons",
}


def decision_problems(decision: str | None, ground: str | None, reasons: str | None, modification: str | None,
                      proposer_agreed: bool, has_lead: bool) -> list[Problem]:
    """Every decision gives written reasons; a modification is written down and agreed by the proposer; an
    acceptance names the commissioner who will lead the procurement; a rejection names its ground."""
    problems: list[Problem] = []
    if decision not in DECISIONS:
        problems.append(("decision", "Select whether to accept or reject the proposal"))
    if decision == ACCEPTED_MODIFIED:
        if not (modification or "").strip():
            problems.append(("modification", "Describe the modification the proposer agreed"))
        if not proposer_agreed:
            problems.append(("modification_agreed", "Confirm the proposer has agreed the modification"))
    if is_acceptance(decision) and not has_lead:
        problems.append(("lead_commissioner", "Select the commissioner who will lead the procurement"))
    if decision == REJECTED and ground not in REJECTION_GROUNDS:
        problems.append(("ground", "Select the ground for rejecting the proposal"))
    if not (reasons or "").strip():
        problems.append(("reasons", "Enter the reasons for the decision: they are published"))
    return problems


def is_acceptance(decision: str) -> bool:
    return decision in (ACCEPTED, ACCEPTED_MODIFIED)


def decision_due(submitted_on: date, days: int) -> date:
    """The decision is due `days` calendar days after the day the proposal was submitted (UK date)."""
    return submitted_on + timedelta(days=days)


def days_left(due: date, today: date) -> int:
    """Negative once overdue."""
    return (due - today).days


def is_overdue(due: date, today: date, status: str) -> bool:
    return status == SUBMITTED and today > due


def time_left_label(due: date, today: date) -> str:
    left = days_left(due, today)
    if left > 1:
        return f"{left} days left"
    if left == 1:
        return "1 day left"
    if left == 0:
        return "Due today"
    return f"Overdue by {-left} day{'' if left == -1 else 's'}"
