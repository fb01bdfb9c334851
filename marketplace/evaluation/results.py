"""The bridge from an opportunity's stored evaluation to the scoring engine, and back.

The engine sees only what was sealed: each compliant bid's price and committed Kent share come from the version
that counted at opening (`BidSubmission.content`), never from the working copy. Pass/fail answers come from the
procurement officer's compliance checks; people's scores from the moderated (consensus) scores, or, for a
provisional view before moderation, the mean of the evaluators' scores. A bid whose abnormally low price the
officer rejected (`awards.models.PriceReview`) is excluded with that reason.

    ranking = rank(opportunity)          # Ranking: the engine's Result plus the rows it was built from
    ranking.result.winner                # the bid id (as a string) or None when tied / none compliant
    ranking.display()                    # engine_io.result_to_json: every number as a 2-place string

Bid ids in the engine are `str(Bid.id)`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Iterable

import sqlalchemy as sa

from marketplace.bids.models import Bid, BidSubmission
from marketplace.bids.snapshot import sealed_kent_share, sealed_price
from marketplace.bids.submission import counting_submissions_statement
from marketplace.evaluation import scoring
from marketplace.evaluation.cli import portal_settings
from marketplace.evaluation.engine_io import result_to_json
from marketplace.evaluation.models import ComplianceCheck, ModeratedScore, Score
from marketplace.extensions import db

MODERATED = "moderated"
MEAN = "mean"


def engine_criterion(criterion: Any) -> scoring.Criterion:
    params = {key: Decimal(str(value)) for key, value in (criterion.params or {}).items()}
    return scoring.Criterion(
        id=str(criterion.id), kind=criterion.kind,
        weight=None if criterion.weight is None else Decimal(criterion.weight),
        scale_max=criterion.scale_max, min_score=None if criterion.min_score is None else Decimal(criterion.min_score),
        method=criterion.method, params=params)


def people_scored(criteria: Iterable[Any]) -> list[Any]:
    """The criteria evaluators score (quality, public value, Kent local economy scored by the panel)."""
    return [c for c in criteria if engine_criterion(c).is_panel_scored]


def evaluation_criteria(opportunity: Any) -> list[Any]:
    """The criteria of the opportunity's main evaluation model, in order (lots with their own models are
    evaluated against the main model's criteria ids they share: see the evaluation notes)."""
    model = opportunity.main_model
    return list(model.criteria) if model is not None else []


def counting_versions(opportunity_id: int) -> list[BidSubmission]:
    """Each bid's counting sealed version, in bid id order (one query)."""
    return list(db.session.execute(counting_submissions_statement(opportunity_id)).scalars())


def _pass_fail(check: ComplianceCheck | None, criteria: Iterable[Any]) -> dict[str, bool]:
    passed = {item.get("key"): bool(item.get("passed")) for item in (check.checks if check else [])}
    return {str(c.id): passed.get(f"criterion-{c.id}", False) for c in criteria if c.kind == "pass_fail"}


@dataclass
class Ranking:
    criteria: list[Any]
    bids: dict[str, Bid]
    versions: dict[str, BidSubmission]
    result: scoring.Result | None
    missing_scores: list[tuple[str, str]] = field(default_factory=list)  # (bid id, criterion id) not yet scored

    @property
    def complete(self) -> bool:
        return self.result is not None

    def display(self) -> dict | None:
        return None if self.result is None else result_to_json(self.result, portal_settings())


def _scores(bid_ids: list[int], source: str) -> dict[tuple[int, int], Decimal]:
    if not bid_ids:
        return {}
    if source == MODERATED:
        rows = db.session.execute(sa.select(ModeratedScore.bid_id, ModeratedScore.criterion_id, ModeratedScore.score)
                                  .where(ModeratedScore.bid_id.in_(bid_ids)))
        return {(b, c): Decimal(s) for b, c, s in rows}
    grouped: dict[tuple[int, int], list[Decimal]] = defaultdict(list)
    for b, c, s in db.session.execute(sa.select(Score.bid_id, Score.criterion_id, Score.score)
                                      .where(Score.bid_id.in_(bid_ids))):
        grouped[(b, c)].append(Decimal(s))
    return {key: sum(values) / len(values) for key, values in grouped.items()}


def compliant_versions(opportunity_id: int) -> tuple[list[BidSubmission], dict[int, ComplianceCheck]]:
    versions = counting_versions(opportunity_id)
    checks = {c.bid_id: c for c in db.session.execute(
        sa.select(ComplianceCheck).where(ComplianceCheck.bid_id.in_([v.bid_id for v in versions] or [0]))).scalars()}
    return [v for v in versions if v.bid_id in checks and checks[v.bid_id].compliant], checks


def rank(opportunity: Any, source: str = MODERATED) -> Ranking:
    """Rank the compliant bids with the engine. `result` is None until every people-scored criterion of every
    compliant bid has a score from `source`; `missing_scores` then lists what is missing."""
    criteria = evaluation_criteria(opportunity)
    versions, checks = compliant_versions(opportunity.id)
    bids = {str(b.id): b for b in db.session.execute(
        sa.select(Bid).where(Bid.id.in_([v.bid_id for v in versions] or [0]))).scalars()}
    scores = _scores([v.bid_id for v in versions], source)
    scored = people_scored(criteria)
    missing = [(str(v.bid_id), str(c.id)) for v in versions for c in scored if (v.bid_id, c.id) not in scores]
    ranking = Ranking(criteria, bids, {str(v.bid_id): v for v in versions}, None, missing)
    if missing or not versions:
        return ranking
    rejected = rejected_prices([v.bid_id for v in versions])
    engine_bids = [_engine_bid(v, checks.get(v.bid_id), criteria, scored, scores) for v in versions
                   if v.bid_id not in rejected]
    ranking.result = _evaluate(criteria, engine_bids, rejected)
    return ranking


def rejected_prices(bid_ids: list[int]) -> dict[int, str]:
    """Bids whose abnormally low price the procurement officer rejected, with the reason they are excluded."""
    from marketplace.awards.models import PriceReview  # here: the awards package's pages import this module

    rows = db.session.execute(sa.select(PriceReview.bid_id, PriceReview.decision_reason).where(
        PriceReview.bid_id.in_(bid_ids or [0]), PriceReview.accepted.is_(False)).order_by(PriceReview.bid_id))
    return {bid_id: f"Price rejected as abnormally low: {reason}" for bid_id, reason in rows}


def _evaluate(criteria: list[Any], engine_bids: list[scoring.Bid], rejected: dict[int, str]) -> scoring.Result:
    """The engine over the bids still in; a bid whose price was rejected is excluded with that reason and takes
    no part in the price comparison."""
    excluded = tuple(scoring.BidResult(str(bid_id), True, (reason,)) for bid_id, reason in rejected.items())
    if not engine_bids:
        return scoring.Result(excluded, None, (), None, None)
    result = scoring.evaluate([engine_criterion(c) for c in criteria], engine_bids, portal_settings())
    return replace(result, bids=result.bids + excluded)


def _engine_bid(version: BidSubmission, check: ComplianceCheck | None, criteria: list[Any], scored: list[Any],
                scores: dict[tuple[int, int], Decimal]) -> scoring.Bid:
    content = json.loads(version.content)
    return scoring.Bid(id=str(version.bid_id), price=sealed_price(content), pass_fail=_pass_fail(check, criteria),
                       scores={str(c.id): scores[(version.bid_id, c.id)] for c in scored},
                       local_economy_share=sealed_kent_share(content))
