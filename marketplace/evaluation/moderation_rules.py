"""Rules for panel scores and moderation (pure): scores on a criterion's scale, the justification or reason every
score needs, what an evaluator still has to score, when evaluators disagree widely, and when moderation may start.

Plain values in, plain values out; no Flask, no database.

Scores are on the criterion's scale, 0 to `scale_max`, whole or with up to 2 decimal places (3.5 when an answer
falls between two descriptors). The engine works with decimals, and a score is stored to 2 places.

Wide disagreement: the spread of the evaluators' scores for one criterion of one bid (highest minus lowest) is
flagged when it is at least `spread_pct` per cent of the scale: with the default 40, 2 or more points apart on a
0 to 5 scale, 4 on a 0 to 10 scale.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

TWO_PLACES = Decimal("0.01")
HUNDRED = Decimal(100)
SCORE_TEXT = re.compile(r"\d+(\.\d+)?")
TEXT_MAX = 5000
T = TypeVar("T")


# Scores and what must come with them -----------------------------------------------------------------

@dataclass(frozen=True)
class Scale:
    """A people-scored criterion as these rules see it."""

    id: int
    title: str
    scale_max: int = 5


@dataclass(frozen=True)
class Entry:
    """What a person typed for one criterion: a score (None when blank) and its justification or reason."""

    score: Decimal | None
    text: str = ""

    @property
    def blank(self) -> bool:
        return self.score is None and not self.text.strip()


@dataclass(frozen=True)
class Wording:
    """The words for the text that must come with a score: an evaluator's justification, a moderator's reason."""

    field: str  # the form field's name before _<criterion id>
    missing_text: str
    missing_score: str


JUSTIFICATION = Wording("justification", "Enter a justification for your score for ‘{title}’",
                        "Enter a score for ‘{title}’, or clear its justification")
REASON = Wording("reason", "Enter the reason for the consensus score for ‘{title}’",
                 "Enter the consensus score for ‘{title}’, or clear its reason")


@dataclass(frozen=True)
class Problem:
    field: str
    message: str


def parse_score(text: str | None) -> Decimal | None:
    """'3', '3.5', ' 4.25 ' -> Decimal; blank -> None; anything else (letters, -1, 1e3) -> ValueError."""
    cleaned = (text or "").strip()
    if not cleaned:
        return None
    if not SCORE_TEXT.fullmatch(cleaned):
        raise ValueError("must be a number, like 3 or 3.5")
    return Decimal(cleaned)


def scale_problem(score: Decimal, scale: Scale) -> str | None:
    """Why a score cannot stand on this criterion's scale, or None."""
    if not score.is_finite() or score < 0 or score > scale.scale_max:
        return f"The score for ‘{scale.title}’ must be between 0 and {scale.scale_max}"
    if score != score.quantize(TWO_PLACES):
        return f"The score for ‘{scale.title}’ can have at most 2 decimal places, like 3.5"
    return None


def entry_problems(scales: Sequence[Scale], entries: Mapping[int, Entry], wording: Wording) -> list[Problem]:
    """Every problem with what was typed, each naming its form field (score_<id>, <wording.field>_<id>).
    A criterion left wholly blank is not a problem: it is simply not scored yet."""
    problems: list[Problem] = []
    for scale in scales:
        entry = entries.get(scale.id)
        if entry is None or entry.blank:
            continue
        if entry.score is None:
            problems.append(Problem(f"score_{scale.id}", wording.missing_score.format(title=scale.title)))
            continue
        if message := scale_problem(entry.score, scale):
            problems.append(Problem(f"score_{scale.id}", message))
        if not entry.text.strip():
            problems.append(Problem(f"{wording.field}_{scale.id}", wording.missing_text.format(title=scale.title)))
        elif len(entry.text) > TEXT_MAX:
            problems.append(Problem(f"{wording.field}_{scale.id}",
                                    f"The text for ‘{scale.title}’ must be {TEXT_MAX:,} characters or fewer"))
    return problems


# What an evaluator scores ------------------------------------------------------------------------------

def assigned_criteria(assigned_ids: Iterable, people_scored_ids: Sequence[int]) -> list[int]:
    """The criteria an evaluator scores, in the model's order: those assigned to them, or every people-scored
    criterion when none are named. Ids no longer people-scored are left out."""
    wanted = {int(i) for i in assigned_ids or () if str(i).isdigit()}
    return [i for i in people_scored_ids if not wanted or i in wanted]


def missing_pairs(bid_ids: Sequence[int], criterion_ids: Sequence[int],
                  done: set[tuple[int, int]]) -> list[tuple[int, int]]:
    """(bid id, criterion id) pairs still without a score, in bid then criterion order."""
    return [(b, c) for b in bid_ids for c in criterion_ids if (b, c) not in done]


def scoring_refusal(submitted: bool, evaluating: bool) -> str | None:
    """Why an evaluator cannot change their scores now, or None."""
    if submitted:
        return "You have submitted your scores, so they can no longer change."
    if not evaluating:
        return "This opportunity is no longer being evaluated, so scores can no longer change."
    return None


# Disagreement ------------------------------------------------------------------------------------------

def spread(scores: Sequence[Decimal]) -> Decimal:
    """Highest minus lowest; 0 with fewer than two scores."""
    return max(scores) - min(scores) if len(scores) >= 2 else Decimal(0)


def spread_limit(scale_max: int, spread_pct: int | Decimal) -> Decimal:
    """The spread at which scores count as widely apart: spread_pct per cent of the scale."""
    return Decimal(scale_max) * Decimal(spread_pct) / HUNDRED


def is_wide(scores: Sequence[Decimal], scale_max: int, spread_pct: int | Decimal) -> bool:
    return len(scores) >= 2 and spread(scores) >= spread_limit(scale_max, spread_pct)


def flagged_first(items: Sequence[T], flagged: Callable[[T], bool]) -> list[T]:
    """Flagged items first, each group in its original order."""
    return [item for item in items if flagged(item)] + [item for item in items if not flagged(item)]


# Who may see and do what -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Evaluator:
    """A current (not replaced) evaluator on the panel."""

    user_id: int
    name: str
    submitted: bool


def outstanding(evaluators: Sequence[Evaluator]) -> list[Evaluator]:
    return [e for e in evaluators if not e.submitted]


def sole_evaluator(moderator_user_id: int, evaluators: Sequence[Evaluator]) -> bool:
    """The moderator is the panel's only evaluator: nobody's scores would be moderated but their own."""
    return {e.user_id for e in evaluators} == {moderator_user_id}


def moderation_refusal(evaluators: Sequence[Evaluator], moderator_user_id: int | None, completed: bool) -> str | None:
    """Why consensus scores cannot be set now, or None. `moderator_user_id` None: asked for a read-only view."""
    if completed:
        return "Moderation is complete, so the consensus scores can no longer change."
    if not evaluators:
        return "There are no evaluators on the panel yet."
    if moderator_user_id is not None and sole_evaluator(moderator_user_id, evaluators):
        return ("You are the only evaluator on this panel, so you cannot also moderate its scores. Ask the "
                "procurement officer to add another evaluator or to appoint another moderator.")
    waiting = outstanding(evaluators)
    if waiting:
        return ("Moderation starts when every evaluator has submitted their scores. Still to submit: "
                + ", ".join(e.name for e in waiting) + ".")
    return None


def sees_scoring_progress(oversees: bool, own: Evaluator | None) -> bool:
    """Officers and the moderator follow each evaluator's progress, unless they are themselves an evaluator
    who has not yet submitted: until then nobody sees anything of the others' scoring, not even a count."""
    return oversees and (own is None or own.submitted)
