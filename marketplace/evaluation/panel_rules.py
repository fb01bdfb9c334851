"""Panel rules (pure): who may join a panel as it stands, when a panel is complete enough to see bids, what a
panel member does next, and the three parts of a conflicts assessment.

Plain values in, plain values out. A `Seat` is one current place on a panel (a person may hold two: evaluator
and moderator), `Declared` one person's conflict declaration, `Scored` a criterion people score. The
services turn rows into these and the refusals into DomainErrors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

EVALUATOR = "evaluator"
MODERATOR = "moderator"
ROLE_WORDS = {EVALUATOR: "an evaluator", MODERATOR: "the moderator"}


@dataclass(frozen=True)
class Seat:
    user_id: int
    name: str
    role: str
    criterion_ids: tuple[int, ...] = ()  # evaluators: the criteria they score; empty means every one

    def scores(self, criterion_id: int) -> bool:
        return self.role == EVALUATOR and (not self.criterion_ids or criterion_id in self.criterion_ids)


@dataclass(frozen=True)
class Declared:
    has_conflict: bool
    mitigated: bool

    @property
    def clears(self) -> bool:
        return not self.has_conflict or self.mitigated


@dataclass(frozen=True)
class Scored:
    id: int
    title: str


def evaluators(seats: Iterable[Seat]) -> list[Seat]:
    return [seat for seat in seats if seat.role == EVALUATOR]


def moderator(seats: Iterable[Seat]) -> Seat | None:
    return next((seat for seat in seats if seat.role == MODERATOR), None)


def people(seats: Iterable[Seat]) -> dict[int, str]:
    """Each person on the panel once, in seat order: user id -> name."""
    return {seat.user_id: seat.name for seat in seats}


# Assigning and replacing ----------------------------------------------------------------------------------

def only_evaluator_refusal(seats: Sequence[Seat]) -> str | None:
    """The moderator may also score, but never as the only evaluator: there would be nothing to moderate."""
    chair = moderator(seats)
    if chair is not None and {seat.user_id for seat in evaluators(seats)} == {chair.user_id}:
        return (f"{chair.name} is the moderator, so cannot also be the only evaluator: a moderator needs other "
                "evaluators' scores to moderate. Add another evaluator first.")
    return None


def assignment_refusal(seats: Sequence[Seat], seat: Seat) -> str | None:
    """Why `seat` cannot join the panel as it stands, or None."""
    if any(other.user_id == seat.user_id and other.role == seat.role for other in seats):
        return f"{seat.name} is already {ROLE_WORDS[seat.role]} on this panel."
    chair = moderator(seats)
    if seat.role == MODERATOR and chair is not None:
        return f"{chair.name} is already the moderator. To change the moderator, replace them."
    return only_evaluator_refusal([*seats, seat])


def removal_refusal(seats: Sequence[Seat], leaving: Seat, replacement: Seat | None = None) -> str | None:
    """Why `leaving` cannot leave the panel (replaced by `replacement`, if given), or None."""
    staying = [seat for seat in seats if seat != leaving]
    if replacement is not None:
        return assignment_refusal(staying, replacement)
    return only_evaluator_refusal(staying)


# Completeness -----------------------------------------------------------------------------------------------

def panel_problems(seats: Sequence[Seat], criteria: Sequence[Scored]) -> list[str]:
    """What stops the panel scoring: at least one evaluator per people-scored criterion, one moderator who is
    not the only evaluator."""
    problems = []
    if not evaluators(seats):
        problems.append("Assign at least one evaluator")
    else:
        problems += [f"No evaluator scores ‘{criterion.title}’: assign one" for criterion in criteria
                     if not any(seat.scores(criterion.id) for seat in seats)]
    if moderator(seats) is None:
        problems.append("Assign a moderator")
    refusal = only_evaluator_refusal(seats)
    return problems + ([refusal] if refusal else [])


def declaration_problems(seats: Sequence[Seat], declared: Mapping[int, Declared]) -> list[str]:
    """Everyone on the panel must have declared, and any declared conflict must be mitigated (or the person
    replaced), before bids go to the panel."""
    problems = []
    for user_id, name in people(seats).items():
        declaration = declared.get(user_id)
        if declaration is None:
            problems.append(f"{name} has not declared conflicts of interest yet")
        elif not declaration.clears:
            problems.append(f"{name} declared a conflict of interest: record a mitigation or replace them")
    return problems


def awaiting_mitigation(seats: Sequence[Seat], declared: Mapping[int, Declared]) -> list[int]:
    return [user_id for user_id in people(seats) if user_id in declared and not declared[user_id].clears]


# A panel member's next step ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    key: str
    text: str

    @property
    def waiting(self) -> bool:
        return self.key in WAITING


DECLARE_LATER = Step("declare_later", "Declare conflicts of interest once bids close")
DECLARE = Step("declare", "Declare conflicts of interest")
CONFLICT = Step("conflict", "Wait: the procurement officer must resolve your declared conflict")
WAIT_RELEASE = Step("wait_release", "Wait for the bids to be released to the panel")
SCORE = Step("score", "Score the bids")
SCORED = Step("scored", "Scores submitted: wait for moderation")
MODERATE = Step("moderate", "Moderate the scores")
DONE = Step("done", "Moderation complete")
WAITING = frozenset({DECLARE_LATER.key, CONFLICT.key, WAIT_RELEASE.key, SCORED.key, DONE.key})


def next_step(role: str, bids_closed: bool, declared: Declared | None, released: bool, scores_submitted: bool,
              moderation_complete: bool) -> Step:
    """What a panel member in `role` does next on one opportunity."""
    if declared is None:
        return DECLARE if bids_closed else DECLARE_LATER
    if not declared.clears:
        return CONFLICT
    if not released:
        return WAIT_RELEASE
    if moderation_complete:
        return DONE
    if role == MODERATOR:
        return MODERATE
    return SCORED if scores_submitted else SCORE


# The conflicts assessment --------------------------------------------------------------------------------

ASSESSMENT_PARTS: tuple[tuple[str, str], ...] = (
    ("prepared_by", "Who prepared the opportunity"),
    ("interests", "Interests known"),
    ("management", "How they are managed"),
)


def compose_assessment(parts: Mapping[str, str]) -> str:
    """The three parts as one text, each under its heading: what is stored and shown."""
    return "\n\n".join(f"{label}:\n{(parts.get(key) or '').strip()}" for key, label in ASSESSMENT_PARTS)


_HEADING = re.compile("^(" + "|".join(re.escape(label) for _, label in ASSESSMENT_PARTS) + "):\n", re.MULTILINE)


def split_assessment(summary: str) -> dict[str, str]:
    """The parts back from a stored text; a text not written in parts goes whole into the first."""
    keys = {label: key for key, label in ASSESSMENT_PARTS}
    pieces = _HEADING.split(summary or "")
    parts = {key: "" for key, _ in ASSESSMENT_PARTS}
    if len(pieces) < 3 or pieces[0].strip():
        parts[ASSESSMENT_PARTS[0][0]] = (summary or "").strip()
        return parts
    for label, text in zip(pieces[1::2], pieces[2::2]):
        parts[keys[label]] = text.strip()
    return parts
