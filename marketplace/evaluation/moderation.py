"""Moderation: once every current evaluator has submitted, the moderator sees every score and justification side
by side, with wide disagreement flagged, and sets a consensus score with a reason for each people-scored criterion
of each compliant bid. The evaluators' scores stay as they were, shown beside the consensus. Completing moderation
fixes the consensus scores and marks the compliant bids evaluated; the engine then ranks them
(`results.rank`, which reads the consensus scores).

The moderator acts only while `access.cleared_member(user, opportunity_id, "moderator")` gives their place, and
never as the panel's only evaluator. A procurement officer may read the sheet. The sheet loads with a fixed number
of queries whatever the number of bids. Every change is an audit event in the same transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm.exc import StaleDataError

from marketplace import audit
from marketplace.bids import rules as bid_rules
from marketplace.bids.models import Bid
from marketplace.bids.submission import sealed_content
from marketplace.errors import DomainError, NotFound
from marketplace.evaluation import access, marking, results
from marketplace.evaluation import moderation_rules as rules
from marketplace.evaluation.marking import Bidder, Incomplete, Invalid, Mark, Missing, refuse
from marketplace.evaluation.model_rules import SCORED_KINDS
from marketplace.evaluation.models import MODERATOR, Evaluation, ModeratedScore, PanelMember, Score
from marketplace.extensions import db
from marketplace.opportunities.lifecycle import EVALUATING
from marketplace.settings import services as settings
from marketplace.timeutil import utcnow

NOT_EVALUATING = "This opportunity is no longer being evaluated, so the consensus scores can no longer change."
SAVED_ELSEWHERE = ("The consensus scores for this bid were saved from another page at the same moment, so yours "
                   "were not saved. Check them and save again.")
ENGINE_FLAG = "abnormally_low:"
DECIDED_BY = {
    "total": "the highest total",
    "quality_and_public_value_points": "the tie-break rule: higher quality and public value points",
    "lower_price": "the tie-break rule: the lower price",
    "only_compliant_bid": "it is the only compliant bid",
    "tie": "a tie that survives the tie-break rule: the decision must be recorded",
}


class ModerationRefused(DomainError):
    """Consensus scores cannot be set (or moderation completed) now; the message says why."""


# The sheet: bids x criteria, every evaluator's score beside the consensus -------------------------------

@dataclass(frozen=True)
class Cell:
    criterion: Any
    marks: list[Mark]
    spread: Decimal
    wide: bool
    consensus: ModeratedScore | None


@dataclass(frozen=True)
class Row:
    bidder: Bidder
    cells: list[Cell]

    @property
    def flagged(self) -> bool:
        return any(cell.wide for cell in self.cells)

    @property
    def moderated(self) -> int:
        return sum(cell.consensus is not None for cell in self.cells)

    @property
    def complete(self) -> bool:
        return self.moderated == len(self.cells)


@dataclass(frozen=True)
class Summary:
    """One compliant bid in the sheet's order: whether the evaluators disagree widely on any criterion, and
    whether every consensus score is set."""

    bidder: Bidder
    flagged: bool
    complete: bool


@dataclass
class Sheet:
    opportunity: Any
    evaluation: Evaluation
    criteria: list[Any]
    panel: list[rules.Evaluator]
    refusal: str | None  # why the viewer cannot set consensus scores now (None: they can)
    spread_pct: int
    # Until every evaluator has submitted these stay empty: nothing of the scores is shown.
    summaries: list[Summary] = field(default_factory=list)  # the bids listed (flagged first), for pagination
    rows: list[Row] = field(default_factory=list)  # the scores and consensus of the bids on the page asked for
    total: int = 0  # compliant bids
    flagged: int = 0  # of them, with a wide spread on some criterion
    moderated: int = 0  # of them, with every consensus score set

    @property
    def open(self) -> bool:
        """Every current evaluator has submitted, so the scores can be shown."""
        return bool(self.panel) and not rules.outstanding(self.panel)

    @property
    def completed(self) -> bool:
        return self.evaluation.moderation_completed_at is not None

    @property
    def outstanding(self) -> list[rules.Evaluator]:
        return rules.outstanding(self.panel)

    @property
    def five_point_limit(self) -> Decimal:
        """The spread flagged on a 0 to 5 scale, to explain the threshold."""
        return rules.spread_limit(5, self.spread_pct)


def evaluation_or_404(opportunity_id: int) -> Evaluation:
    evaluation = access.evaluation_of(opportunity_id)
    if evaluation is None or evaluation.released_at is None:
        raise NotFound("Bids have not been released to the panel.")
    return evaluation


def moderator_place(user: Any, opportunity: Any) -> PanelMember:
    member = access.cleared_member(user, opportunity.id, MODERATOR)
    if member is None:
        raise NotFound("You are not the moderator on this opportunity's panel.")
    return member


def _refusal(opportunity: Any, evaluation: Evaluation, panel: list[rules.Evaluator],
             moderator_user_id: int | None) -> str | None:
    refusal = rules.moderation_refusal(panel, moderator_user_id, evaluation.moderation_completed_at is not None)
    if refusal is None and moderator_user_id is not None and opportunity.status != EVALUATING:
        return NOT_EVALUATING
    return refusal


def _summaries(criteria: Sequence[Any], bidders: Sequence[Bidder], evaluators: Sequence[PanelMember],
               spread_pct: int) -> list[Summary]:
    """Every bid's flag and completeness from two light queries (score values and consensus pairs, no text),
    flagged bids first."""
    bid_ids = [b.bid_id for b in bidders]
    given: dict[tuple[int, int], list[Decimal]] = defaultdict(list)
    values = sa.select(Score.bid_id, Score.criterion_id, Score.score).where(
        Score.bid_id.in_(bid_ids or [0]), Score.evaluator_id.in_([m.user_id for m in evaluators] or [0]))
    for bid_id, criterion_id, score in db.session.execute(values):
        given[(bid_id, criterion_id)].append(Decimal(score))
    agreed = {(bid_id, criterion_id) for bid_id, criterion_id in db.session.execute(
        sa.select(ModeratedScore.bid_id, ModeratedScore.criterion_id).where(ModeratedScore.bid_id.in_(bid_ids or [0])))}
    summaries = [Summary(b, any(rules.is_wide(given[(b.bid_id, c.id)], c.scale_max, spread_pct) for c in criteria),
                         all((b.bid_id, c.id) in agreed for c in criteria)) for b in bidders]
    return rules.flagged_first(summaries, lambda summary: summary.flagged)


def _rows(criteria: Sequence[Any], bidders: Sequence[Bidder], evaluators: Sequence[PanelMember],
          spread_pct: int) -> list[Row]:
    """The full rows of these bids, from two queries: their scores and their consensus scores."""
    bid_ids = [b.bid_id for b in bidders]
    scores = {(s.bid_id, s.criterion_id, s.evaluator_id): s
              for s in marking.scores_of(bid_ids, [m.user_id for m in evaluators])}
    consensus = {(m.bid_id, m.criterion_id): m for m in db.session.execute(
        sa.select(ModeratedScore).where(ModeratedScore.bid_id.in_(bid_ids or [0]))).scalars()}
    names = [(m.user_id, marking.name_of(m)) for m in evaluators]
    rows = []
    for bidder in bidders:
        cells = []
        for criterion in criteria:
            marks = [Mark(name, scores.get((bidder.bid_id, criterion.id, user_id))) for user_id, name in names]
            given = [Decimal(m.score.score) for m in marks if m.score is not None]
            cells.append(Cell(criterion, marks, rules.spread(given),
                              rules.is_wide(given, criterion.scale_max, spread_pct),
                              consensus.get((bidder.bid_id, criterion.id))))
        rows.append(Row(bidder, cells))
    return rows


def sheet(opportunity: Any, moderator: Any = None, only_flagged: bool = False, page: int = 1,
          per_page: int = 25, only_bid: int | None = None) -> Sheet:
    """The moderation sheet: every compliant bid summarised (flagged first; only the flagged ones when asked),
    and the full rows of page `page` of them. `moderator`: the user moderating (None for a read-only view);
    `only_bid`: just that compliant bid (NotFound for any other). A fixed number of queries, whatever the number
    of bids."""
    evaluation = evaluation_or_404(opportunity.id)
    evaluators = marking.current_evaluators(opportunity.id)
    panel = marking.panel_view(evaluators)
    criteria = marking.people_scored_criteria(opportunity)
    result = Sheet(opportunity, evaluation, criteria, panel,
                   _refusal(opportunity, evaluation, panel, None if moderator is None else moderator.id),
                   int(settings.get("moderation_spread_pct")))
    bidders = ([marking.compliant_bidder(opportunity.id, only_bid)] if only_bid is not None
               else marking.compliant_bidders(opportunity.id))
    if not result.open:
        return result
    every = _summaries(criteria, bidders, evaluators, result.spread_pct)
    result.total, result.flagged, result.moderated = len(every), sum(s.flagged for s in every), sum(
        s.complete for s in every)
    result.summaries = [s for s in every if s.flagged or not only_flagged]
    start = (max(page, 1) - 1) * per_page
    result.rows = _rows(criteria, [s.bidder for s in result.summaries[start:start + per_page]], evaluators,
                        result.spread_pct)
    return result


@dataclass(frozen=True)
class BidReview:
    sheet: Sheet
    row: Row | None  # None until every evaluator has submitted
    content: dict


def bid_review(opportunity: Any, bid_id: int, moderator: Any = None) -> BidReview:
    """One bid's row of the sheet, with its sealed content for reading the answers again."""
    one = sheet(opportunity, moderator, only_bid=bid_id)
    bidder = marking.compliant_bidder(opportunity.id, bid_id)
    return BidReview(one, one.rows[0] if one.rows else None, sealed_content(bidder.version))


# Setting consensus scores and completing ---------------------------------------------------------------

def _locked_evaluation(opportunity_id: int) -> Evaluation:
    evaluation = db.session.execute(
        sa.select(Evaluation).where(Evaluation.opportunity_id == opportunity_id).with_for_update()
        .execution_options(populate_existing=True)).scalar_one_or_none()
    if evaluation is None or evaluation.released_at is None:
        refuse(NotFound("Bids have not been released to the panel."))
    return evaluation


def _moderating(user: Any, opportunity: Any) -> Evaluation:
    """The evaluation, locked for this transaction, once the user is found to be the cleared moderator."""
    moderator_place(user, opportunity)
    return _locked_evaluation(opportunity.id)


def _refuse_unless_open(user: Any, opportunity: Any, evaluation: Evaluation) -> None:
    panel = marking.panel_view(marking.current_evaluators(opportunity.id))
    if refusal := _refusal(opportunity, evaluation, panel, user.id):
        refuse(ModerationRefused(refusal))


def set_consensus(user: Any, opportunity: Any, bid_id: int, entries: Mapping[int, rules.Entry]) -> list[int]:
    """Set (or change, or clear) the consensus scores of one bid, each with its reason. Returns the criteria that
    changed. The evaluators' own scores are not touched."""
    _refuse_unless_open(user, opportunity, _moderating(user, opportunity))
    marking.compliant_bidder(opportunity.id, bid_id)
    criteria = marking.people_scored_criteria(opportunity)
    if set(entries) - {c.id for c in criteria}:
        refuse(NotFound("That criterion is not scored by the panel."))
    if problems := rules.entry_problems(marking.scales(criteria), entries, rules.REASON):
        refuse(Invalid(problems))
    existing = {m.criterion_id: m for m in db.session.execute(
        sa.select(ModeratedScore).where(ModeratedScore.bid_id == bid_id)).scalars()}

    def write() -> dict[str, dict]:
        changes = marking.apply_entries(existing, criteria, entries, "reason", lambda criterion_id, score, text:
                                        ModeratedScore(bid_id=bid_id, criterion_id=criterion_id, score=score,
                                                       reason=text, moderator_id=user.id))
        for criterion_id in changes:
            if (row := existing.get(int(criterion_id))) is not None:
                row.moderator_id = user.id
        return changes

    return marking.record_entries(user, opportunity, bid_id, "evaluation.consensus_set", write,
                                  ModerationRefused(SAVED_ELSEWHERE))


def missing_consensus(opportunity: Any) -> list[Missing]:
    criteria = marking.people_scored_criteria(opportunity)
    bidders = marking.compliant_bidders(opportunity.id)
    done = {(bid_id, criterion_id) for bid_id, criterion_id in db.session.execute(
        sa.select(ModeratedScore.bid_id, ModeratedScore.criterion_id).where(
            ModeratedScore.bid_id.in_([b.bid_id for b in bidders] or [0])))}
    names, titles = {b.bid_id: b.organisation for b in bidders}, {c.id: c.title for c in criteria}
    return [Missing(b, names[b], titles[c]) for b, c in rules.missing_pairs(list(names), list(titles), done)]


@dataclass(frozen=True)
class Completed:
    completed_at: datetime
    duplicate: bool = False


def complete(user: Any, opportunity: Any) -> Completed:
    """Complete moderation once every compliant bid has a consensus score on every people-scored criterion:
    the consensus scores are fixed and the compliant bids become evaluated. Completing again changes nothing."""
    evaluation = _moderating(user, opportunity)
    if evaluation.moderation_completed_at is not None:
        db.session.rollback()
        return Completed(evaluation.moderation_completed_at, duplicate=True)
    _refuse_unless_open(user, opportunity, evaluation)
    if missing := missing_consensus(opportunity):
        refuse(Incomplete("Some bids still need a consensus score. Set those listed, then complete moderation.",
                          missing))
    bid_ids = [b.bid_id for b in marking.compliant_bidders(opportunity.id)]
    now = utcnow()
    try:
        evaluation.moderation_completed_at, evaluation.moderation_completed_by_id = now, user.id
        db.session.execute(sa.update(Bid).where(Bid.id.in_(bid_ids), Bid.status == bid_rules.COMPLIANT)
                           .values(status=bid_rules.EVALUATED, version=Bid.version + 1))
        audit.record("evaluation.moderation_completed", "evaluation", evaluation.id, actor=user,
                     details={"opportunity_id": opportunity.id, "bids": bid_ids})
        db.session.commit()
    except StaleDataError:  # another request completed it first (the evaluation's version moved on)
        db.session.rollback()
        return Completed(access.evaluation_of(opportunity.id).moderation_completed_at, duplicate=True)
    return Completed(now)


# The ranking from the consensus scores ------------------------------------------------------------------

@dataclass(frozen=True)
class Ranked:
    organisation: str
    rank: int | None
    total: str | None
    points: list[str | None]  # per scored criterion, in the model's order
    excluded: bool
    reasons: list[str]
    flags: list[str]


@dataclass(frozen=True)
class Standing:
    criteria: list[Any]  # every scored criterion (price and Kent points included)
    rows: list[Ranked]
    leader: str | None
    tied: list[str]
    decided_by: str


def flag_words(flag: str) -> str:
    if flag.startswith(ENGINE_FLAG):
        return "Abnormally low price:" + flag[len(ENGINE_FLAG):]
    return flag


def standing(opportunity: Any) -> Standing | None:
    """The engine's ranking from the consensus scores, or None until every compliant bid has them all."""
    ranking = results.rank(opportunity)
    shown = ranking.display()
    if shown is None:
        return None
    scored = [c for c in ranking.criteria if c.kind in SCORED_KINDS]
    names = marking.organisation_names([int(i) for i in ranking.bids])
    rows = [Ranked(names.get(int(bid["id"]), bid["id"]), bid["rank"], bid["total"],
                   [bid["points"].get(str(c.id)) for c in scored], bid["excluded"], bid["reasons"],
                   [flag_words(f) for f in bid["flags"]]) for bid in shown["bids"]]
    leader = names.get(int(shown["winner"])) if shown["winner"] else None
    return Standing(scored, rows, leader, [names.get(int(i), i) for i in shown["tied"]],
                    DECIDED_BY.get(shown["decided_by"], shown["decided_by"] or ""))


# For the evaluation overview ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Status:
    open: bool
    completed: bool
    moderated: int  # consensus scores set
    required: int  # compliant bids x people-scored criteria


def status(opportunity: Any, evaluation: Evaluation) -> Status:
    evaluators = marking.panel_view(marking.current_evaluators(opportunity.id))
    bid_ids = [b.bid_id for b in marking.compliant_bidders(opportunity.id)]
    criteria = marking.people_scored_criteria(opportunity)
    moderated = db.session.execute(sa.select(sa.func.count()).select_from(ModeratedScore).where(
        ModeratedScore.bid_id.in_(bid_ids or [0]),
        ModeratedScore.criterion_id.in_([c.id for c in criteria] or [0]))).scalar_one()
    return Status(bool(evaluators) and not rules.outstanding(evaluators),
                  evaluation.moderation_completed_at is not None, moderated, len(bid_ids) * len(criteria))
