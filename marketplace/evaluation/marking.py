"""Independent scoring: each evaluator scores the criteria assigned to them on every compliant bid, alone.

An evaluator acts only while `access.cleared_member(user, opportunity_id, "evaluator")` gives their panel place
(bids released to the panel, a declaration that clears them, not replaced); otherwise the use cases raise
NotFound, as for a bid that is not compliant or belongs to another opportunity. Scores are read from the sealed
version that counted at opening, never from the bidder's working copy.

Each score is on the criterion's scale with a mandatory justification (`moderation_rules`). The evaluator saves as
they go, then submits every score at once; after that their scores are fixed, and only then do they see the
scores of the other evaluators who have submitted. Nobody else's scores, or even a count of them, reach an
evaluator before that. Price and a computed Kent local-economy share are never scored by people: the engine
calculates them (`calculated`).

Every change is an audit event written in the same transaction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from marketplace import audit
from marketplace.bids.models import Bid, BidDocument, BidSubmission
from marketplace.bids.preparation import percent
from marketplace.bids.submission import sealed_content
from marketplace.errors import DomainError, NotFound
from marketplace.evaluation import access, results
from marketplace.evaluation import moderation_rules as rules
from marketplace.evaluation.models import EVALUATOR, PanelMember, Score
from marketplace.extensions import db
from marketplace.opportunities.lifecycle import EVALUATING
from marketplace.opportunities.services import pounds
from marketplace.organisations.models import Organisation
from marketplace.timeutil import utcnow

SAVED_ELSEWHERE = ("These scores were saved from another page at the same moment, so yours were not saved. Check "
                   "them and save again.")


# Errors ----------------------------------------------------------------------------------------------

class ScoringRefused(DomainError):
    """The scores cannot change now; the message says why."""


class Invalid(DomainError):
    """What was typed breaks a rule; `errors` holds one DomainError per form field."""

    def __init__(self, problems: Sequence[rules.Problem]):
        super().__init__(problems[0].message, problems[0].field)
        self.errors = [DomainError(p.message, p.field) for p in problems]


@dataclass(frozen=True)
class Missing:
    bid_id: int
    organisation: str
    criterion: str


class Incomplete(DomainError):
    def __init__(self, message: str, missing: list[Missing]):
        super().__init__(message)
        self.missing = missing


# Reading the panel and the bids ------------------------------------------------------------------------

@dataclass(frozen=True)
class Bidder:
    """A compliant bid: the organisation's name and the sealed version that counts."""

    bid_id: int
    organisation: str
    version: BidSubmission


def people_scored_criteria(opportunity: Any) -> list[Any]:
    return results.people_scored(results.evaluation_criteria(opportunity))


def scales(criteria: Sequence[Any]) -> list[rules.Scale]:
    return [rules.Scale(c.id, c.title, c.scale_max) for c in criteria]


def compliant_bidders(opportunity_id: int, only_bid: int | None = None) -> list[Bidder]:
    """The compliant bids in bid id order (three queries, whatever their number)."""
    versions, _ = results.compliant_versions(opportunity_id)
    versions = [v for v in versions if only_bid is None or v.bid_id == only_bid]
    names = organisation_names([v.bid_id for v in versions])
    return [Bidder(v.bid_id, names.get(v.bid_id, ""), v) for v in versions]


def organisation_names(bid_ids: Sequence[int]) -> dict[int, str]:
    """Bid id -> the bidding organisation's name, in one query."""
    return dict(db.session.execute(
        sa.select(Bid.id, Organisation.legal_name).join(Organisation, Organisation.id == Bid.organisation_id)
        .where(Bid.id.in_(list(bid_ids) or [0]))).all())


def compliant_bidder(opportunity_id: int, bid_id: int) -> Bidder:
    """One compliant bid of this opportunity; NotFound for any other bid."""
    found = compliant_bidders(opportunity_id, only_bid=bid_id)
    if not found:
        raise NotFound("There is no such compliant bid on this opportunity.")
    return found[0]


def current_evaluators(opportunity_id: int) -> list[PanelMember]:
    """The panel's evaluators who have not been replaced, with their user, in the order they were assigned."""
    return list(db.session.execute(
        sa.select(PanelMember).options(joinedload(PanelMember.user))
        .where(PanelMember.opportunity_id == opportunity_id, PanelMember.role == EVALUATOR,
               PanelMember.removed_at.is_(None))
        .order_by(PanelMember.assigned_at, PanelMember.id)).scalars())


def name_of(member: PanelMember) -> str:
    return member.user.full_name if member.user is not None else "A former member of staff"


def panel_view(members: Sequence[PanelMember]) -> list[rules.Evaluator]:
    return [rules.Evaluator(m.user_id, name_of(m), m.scores_submitted_at is not None) for m in members]


def criteria_of(member: PanelMember, criteria: Sequence[Any]) -> list[Any]:
    """The people-scored criteria this evaluator scores, in the model's order."""
    wanted = set(rules.assigned_criteria(member.criterion_ids, [c.id for c in criteria]))
    return [c for c in criteria if c.id in wanted]


def evaluator_place(user: Any, opportunity: Any) -> PanelMember:
    member = access.cleared_member(user, opportunity.id, EVALUATOR)
    if member is None:
        raise NotFound("You are not an evaluator on this opportunity's panel.")
    return member


def scores_of(bid_ids: Sequence[int], evaluator_ids: Sequence[int]) -> list[Score]:
    if not bid_ids or not evaluator_ids:
        return []
    return list(db.session.execute(sa.select(Score).where(
        Score.bid_id.in_(bid_ids), Score.evaluator_id.in_(evaluator_ids))).scalars())


# Price and computed Kent points: calculated, never scored by people -----------------------------------

@dataclass(frozen=True)
class Calculated:
    criterion: Any
    method: str


def _params(criterion: Any) -> dict[str, Decimal]:
    return {key: Decimal(str(value)) for key, value in (criterion.params or {}).items() if value not in (None, "")}


def method_explanation(criterion: Any) -> str:
    """How the engine turns a bid's sealed price or Kent share into points, in words."""
    params, weight = _params(criterion), f"{Decimal(criterion.weight or 0).normalize():f}"
    explanations: dict[str | None, Callable[[], str]] = {
        "relative_lowest": lambda: f"the lowest compliant price ÷ this bid's price × {weight}.",
        "deviation_from_lowest": lambda: (
            f"{weight} × (1 − {params.get('factor', Decimal(1)).normalize():f} × (this bid's price − the lowest "
            "compliant price) ÷ the lowest compliant price), never below 0."),
        "linear_bounds": lambda: (
            f"{weight} at {pounds(params.get('min_price', Decimal(0)))} or less, falling in a straight line to 0 at "
            f"{pounds(params.get('max_price', Decimal(0)))} or more."),
        "relative_highest": lambda: (f"this bid's committed share of contract value spent in Kent ÷ the highest "
                                     f"committed share × {weight}."),
        "target": lambda: (f"this bid's committed share of contract value spent in Kent ÷ the target of "
                           f"{percent(params.get('target'))}, at most 1, × {weight}."),
    }
    explain = explanations.get(criterion.method)
    return f"Points = {explain()}" if explain else "Calculated by the scoring engine."


def calculated(opportunity: Any) -> list[Calculated]:
    """The scored criteria the engine calculates from the sealed bids: price, and Kent local economy unless the
    panel scores it."""
    people = {c.id for c in people_scored_criteria(opportunity)}
    return [Calculated(c, method_explanation(c)) for c in results.evaluation_criteria(opportunity)
            if c.kind in ("price", "local_economy") and c.id not in people]


# The evaluator's desk: every compliant bid with their progress ------------------------------------------

@dataclass(frozen=True)
class BidProgress:
    bidder: Bidder
    scored: int
    required: int

    @property
    def status(self) -> str:
        if self.scored >= self.required:
            return "Scored"
        return "In progress" if self.scored else "Not started"


@dataclass(frozen=True)
class Desk:
    member: PanelMember
    criteria: list[Any]
    rows: list[BidProgress]
    calculated: list[Calculated]
    refusal: str | None

    @property
    def scored(self) -> int:
        return sum(min(r.scored, r.required) for r in self.rows)

    @property
    def required(self) -> int:
        return sum(r.required for r in self.rows)

    @property
    def submitted(self) -> bool:
        return self.member.scores_submitted_at is not None


def desk(user: Any, opportunity: Any) -> Desk:
    member = evaluator_place(user, opportunity)
    criteria = criteria_of(member, people_scored_criteria(opportunity))
    bidders = compliant_bidders(opportunity.id)
    wanted = {c.id for c in criteria}
    done = Counter(s.bid_id for s in scores_of([b.bid_id for b in bidders], [member.user_id])
                   if s.criterion_id in wanted)
    rows = [BidProgress(b, done[b.bid_id], len(criteria)) for b in bidders]
    refusal = rules.scoring_refusal(member.scores_submitted_at is not None, opportunity.status == EVALUATING)
    return Desk(member, criteria, rows, calculated(opportunity), refusal)


# One bid: the answers beside the questions, the evaluator's scores, and the others' once submitted -------

@dataclass(frozen=True)
class SealedDocument:
    title: str
    filename: str
    document_id: int | None  # the stored file with the sealed fingerprint, which the panel may download


def sealed_documents(bid_id: int, content: dict) -> list[SealedDocument]:
    """The documents named in the sealed version, each with the stored file that has its fingerprint."""
    stored = dict(db.session.execute(sa.select(BidDocument.sha256, BidDocument.id)
                                     .where(BidDocument.bid_id == bid_id)).all())
    return [SealedDocument(item["title"], item["filename"], stored.get(item["sha256"]))
            for item in content.get("documents") or []]


@dataclass(frozen=True)
class Mark:
    """One evaluator's score of one criterion (None: not scored)."""

    name: str
    score: Score | None


@dataclass(frozen=True)
class CriterionSheet:
    criterion: Any
    answer: dict | None  # the sealed answer ({"criterion", "kind", "text"}), when the criterion asks for text
    mine: Score | None
    others: list[Mark] = field(default_factory=list)


@dataclass(frozen=True)
class BidSheet:
    member: PanelMember
    bidder: Bidder
    content: dict
    criteria: list[CriterionSheet]
    refusal: str | None
    waiting_for: list[str]  # evaluators whose scores are not shown because they have not submitted
    documents: list[SealedDocument] = field(default_factory=list)

    @property
    def others_visible(self) -> bool:
        return self.member.scores_submitted_at is not None


def bid_sheet(user: Any, opportunity: Any, bid_id: int) -> BidSheet:
    member = evaluator_place(user, opportunity)
    bidder = compliant_bidder(opportunity.id, bid_id)
    criteria = criteria_of(member, people_scored_criteria(opportunity))
    content = sealed_content(bidder.version)
    others = [m for m in current_evaluators(opportunity.id) if m.user_id != member.user_id]
    shown = [m for m in others if m.scores_submitted_at is not None] if member.scores_submitted_at else []
    by_key = {(s.evaluator_id, s.criterion_id): s
              for s in scores_of([bid_id], [member.user_id, *(m.user_id for m in shown)])}
    sheets = [CriterionSheet(c, (content.get("answers") or {}).get(str(c.id)), by_key.get((member.user_id, c.id)),
                             [Mark(name_of(m), by_key.get((m.user_id, c.id))) for m in shown])
              for c in criteria]
    waiting = [name_of(m) for m in others if m not in shown] if member.scores_submitted_at else []
    refusal = rules.scoring_refusal(member.scores_submitted_at is not None, opportunity.status == EVALUATING)
    return BidSheet(member, bidder, content, sheets, refusal, waiting, sealed_documents(bid_id, content))


# Saving ------------------------------------------------------------------------------------------------

def apply_entries(existing: Mapping[int, Any], criteria: Sequence[Any], entries: Mapping[int, rules.Entry],
                  text_attr: str, new_row: Callable[[int, Decimal, str], Any]) -> dict[str, dict]:
    """Write what was typed over the rows there are (a score with its justification or reason per criterion): a
    new row, a changed one, or, for a criterion cleared entirely, none. Returns what changed, for the audit."""
    changes: dict[str, dict] = {}
    for criterion in criteria:
        entry, row = entries.get(criterion.id), existing.get(criterion.id)
        if entry is None or (entry.blank and row is None):
            continue
        previous = None if row is None else str(row.score)
        if entry.blank:
            db.session.delete(row)
            changes[str(criterion.id)] = {"score": None, "previous": previous}
            continue
        score, text = entry.score.quantize(rules.TWO_PLACES), entry.text.strip()
        if row is None:
            db.session.add(new_row(criterion.id, score, text))
        elif Decimal(row.score) == score and getattr(row, text_attr) == text:
            continue
        else:
            row.score = score
            setattr(row, text_attr, text)
        changes[str(criterion.id)] = {"score": str(score), "previous": previous}
    return changes


def refuse(error: DomainError) -> None:
    """End the transaction (releasing any lock) and refuse."""
    db.session.rollback()
    raise error


def record_entries(user: Any, opportunity: Any, bid_id: int, action: str, write: Callable[[], dict[str, dict]],
                   refusal: DomainError) -> list[int]:
    """Make the writes, audit what changed (when anything did) and commit, in one transaction. A unique
    constraint broken by a concurrent request for the same rows ends it with `refusal`. Returns the criteria
    that changed."""
    try:
        changes = write()
        if changes:
            audit.record(action, "bid", bid_id, actor=user, details={"opportunity_id": opportunity.id,
                                                                      "criteria": changes})
        db.session.commit()
    except IntegrityError:
        refuse(refusal)
    return [int(key) for key in changes]


def _locked_member(member_id: int) -> PanelMember:
    return db.session.execute(sa.select(PanelMember).where(PanelMember.id == member_id).with_for_update()
                              .execution_options(populate_existing=True)).scalar_one()


def save_scores(user: Any, opportunity: Any, bid_id: int, entries: Mapping[int, rules.Entry]) -> list[int]:
    """Save the evaluator's scores for one bid (criterion id -> Entry). Returns the criteria that changed."""
    member = evaluator_place(user, opportunity)
    compliant_bidder(opportunity.id, bid_id)
    criteria = criteria_of(member, people_scored_criteria(opportunity))
    if set(entries) - {c.id for c in criteria}:
        raise NotFound("You are not asked to score that criterion.")
    member = _locked_member(member.id)
    if refusal := rules.scoring_refusal(member.scores_submitted_at is not None, opportunity.status == EVALUATING):
        refuse(ScoringRefused(refusal))
    if problems := rules.entry_problems(scales(criteria), entries, rules.JUSTIFICATION):
        refuse(Invalid(problems))
    existing = {s.criterion_id: s for s in scores_of([bid_id], [member.user_id])}
    return record_entries(user, opportunity, bid_id, "evaluation.scores_saved", lambda: apply_entries(
        existing, criteria, entries, "justification", lambda criterion_id, score, text: Score(
            bid_id=bid_id, criterion_id=criterion_id, evaluator_id=member.user_id, score=score, justification=text)),
        ScoringRefused(SAVED_ELSEWHERE))


@dataclass(frozen=True)
class Submitted:
    submitted_at: datetime
    duplicate: bool = False


def missing_scores(opportunity: Any, member: PanelMember) -> list[Missing]:
    criteria = criteria_of(member, people_scored_criteria(opportunity))
    bidders = compliant_bidders(opportunity.id)
    done = {(s.bid_id, s.criterion_id) for s in scores_of([b.bid_id for b in bidders], [member.user_id])}
    names = {b.bid_id: b.organisation for b in bidders}
    titles = {c.id: c.title for c in criteria}
    return [Missing(b, names[b], titles[c]) for b, c in
            rules.missing_pairs(list(names), list(titles), done)]


def submit_scores(user: Any, opportunity: Any) -> Submitted:
    """Submit every score at once. Refused, with what is missing, until every assigned criterion of every
    compliant bid is scored. Submitting again changes nothing and records nothing."""
    member = _locked_member(evaluator_place(user, opportunity).id)
    if member.scores_submitted_at is not None:
        db.session.rollback()
        return Submitted(member.scores_submitted_at, duplicate=True)
    if refusal := rules.scoring_refusal(False, opportunity.status == EVALUATING):
        refuse(ScoringRefused(refusal))
    if missing := missing_scores(opportunity, member):
        refuse(Incomplete("You have not scored everything yet. Score the items listed, then submit.", missing))
    now = utcnow()
    updated = db.session.execute(sa.update(PanelMember).where(
        PanelMember.id == member.id, PanelMember.scores_submitted_at.is_(None)).values(scores_submitted_at=now))
    if updated.rowcount != 1:  # a concurrent submission landed first
        db.session.rollback()
        return Submitted(db.session.get(PanelMember, member.id).scores_submitted_at, duplicate=True)
    audit.record("evaluation.scores_submitted", "panel_member", member.id, actor=user,
                 details={"opportunity_id": opportunity.id})
    db.session.commit()
    return Submitted(now)


# Progress, for the procurement officer and the moderator -----------------------------------------------

@dataclass(frozen=True)
class EvaluatorProgress:
    member: PanelMember
    name: str
    scored: int
    required: int

    @property
    def submitted(self) -> bool:
        return self.member.scores_submitted_at is not None


def progress(opportunity: Any) -> list[EvaluatorProgress]:
    """Each current evaluator's progress: how many of the scores asked of them they have saved."""
    evaluators = current_evaluators(opportunity.id)
    criteria = people_scored_criteria(opportunity)
    bid_ids = [b.bid_id for b in compliant_bidders(opportunity.id)]
    counts = Counter() if not bid_ids or not evaluators else Counter(dict(
        ((evaluator_id, criterion_id), count) for evaluator_id, criterion_id, count in db.session.execute(
            sa.select(Score.evaluator_id, Score.criterion_id, sa.func.count())
            .where(Score.bid_id.in_(bid_ids), Score.evaluator_id.in_([m.user_id for m in evaluators]))
            .group_by(Score.evaluator_id, Score.criterion_id))))
    rows = []
    for member in evaluators:
        mine = criteria_of(member, criteria)
        rows.append(EvaluatorProgress(member, name_of(member), sum(counts[(member.user_id, c.id)] for c in mine),
                                      len(mine) * len(bid_ids)))
    return rows
