"""The bridge to the scoring engine reads only sealed versions, the compliance checks and the moderated
scores; it ranks nothing until every people-scored criterion of every compliant bid has a score."""

from __future__ import annotations

from decimal import Decimal

import pytest

from marketplace.bids.models import Bid
from marketplace.evaluation import results
from marketplace.evaluation.models import ComplianceCheck, ModeratedScore, Score
from marketplace.extensions import db
from tests.builders import closed_with_bids
from tests.factories import StaffFactory
from tests.staff_fixtures import request_context  # noqa: F401


@pytest.fixture()
def opened():
    author = StaffFactory(roles=["commissioner"])
    opportunity, bids = closed_with_bids(author)
    for bid in bids:
        checks = [{"key": f"criterion-{c.id}", "label": c.title, "passed": True, "note": ""}
                  for c in results.evaluation_criteria(opportunity) if c.kind == "pass_fail"]
        db.session.add(ComplianceCheck(bid_id=bid.id, compliant=True, checks=checks))
    db.session.commit()
    return opportunity, bids


def moderate_all(opportunity, bids, score=Decimal(3)):
    for bid in bids:
        for criterion in results.people_scored(results.evaluation_criteria(opportunity)):
            db.session.add(ModeratedScore(bid_id=bid.id, criterion_id=criterion.id, score=score, reason="Agreed"))
    db.session.commit()


def test_nothing_is_ranked_until_every_compliant_bid_is_moderated_on_every_people_scored_criterion(opened):
    opportunity, bids = opened
    ranking = results.rank(opportunity)
    assert ranking.result is None
    assert len(ranking.missing_scores) == len(bids) * 2  # quality and social value; Kent is computed


def test_equal_scores_rank_the_lowest_sealed_price_first(opened):
    opportunity, bids = opened
    moderate_all(opportunity, bids)
    ranking = results.rank(opportunity)
    assert ranking.result.winner == str(bids[1].id)  # priced 100,000
    assert ranking.display()["winner"] == str(bids[1].id)


def test_the_engine_prices_the_sealed_version_not_a_working_copy_changed_afterwards(opened):
    opportunity, bids = opened
    moderate_all(opportunity, bids)
    working = db.session.get(Bid, bids[0].id)
    working.price_total = Decimal("1.00")
    db.session.commit()
    assert results.rank(opportunity).result.winner == str(bids[1].id)


def test_a_bid_excluded_at_compliance_takes_no_part(opened):
    opportunity, bids = opened
    check = db.session.query(ComplianceCheck).filter_by(bid_id=bids[1].id).one()
    check.compliant, check.reason = False, "No safeguarding policy"
    db.session.commit()
    moderate_all(opportunity, [bids[0], bids[2]])
    ranking = results.rank(opportunity)
    assert [b.id for b in ranking.result.bids] == [str(bids[0].id), str(bids[2].id)]


def test_the_provisional_view_uses_the_mean_of_the_evaluators_scores(opened):
    opportunity, bids = opened
    evaluators = [StaffFactory(roles=["commissioner"]) for _ in range(2)]
    for bid, (first, second) in zip(bids, [(5, 4), (1, 2), (3, 3)]):
        for criterion in results.people_scored(results.evaluation_criteria(opportunity)):
            for user, value in zip(evaluators, (first, second)):
                db.session.add(Score(bid_id=bid.id, criterion_id=criterion.id, evaluator_id=user.id,
                                     score=Decimal(value), justification="Seen in the answer"))
    db.session.commit()
    ranking = results.rank(opportunity, source=results.MEAN)
    assert ranking.result.winner == str(bids[0].id)
