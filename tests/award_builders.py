"""Award test set-up, written straight to the tables: a closed opportunity with sealed bids (tests.builders), then
the evaluation as the panel and moderation leave it (compliance checks, consensus scores, moderation complete),
so the award workflow starts where moderation ends.

    opportunity, bids = moderated(author, prices=(...), scores=(...), excluded=(...))

Bid n (from 0) is priced prices[n] and given the consensus score scores[n] on every people-scored criterion; the
bids at the positions in `excluded` fail compliance. With the default model (quality 40, public value 15, Kent 10
computed from a share every bid commits the same, price 35 relative to the lowest), equal scores rank the lowest
price first.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from marketplace.awards.models import Award, PriceReview
from marketplace.bids import rules as bid_rules
from marketplace.evaluation import results, working_days
from marketplace.evaluation.models import ComplianceCheck, Evaluation, ModeratedScore
from marketplace.extensions import db
from marketplace.timeutil import london, utcnow
from tests.builders import closed_with_bids

PRICES = (Decimal("120000.00"), Decimal("100000.00"), Decimal("135000.00"))
EXCLUSION = "No safeguarding policy was supplied"


def moderated(author, prices=PRICES, scores=None, excluded=(), **overrides):
    """An opportunity in evaluation with moderation complete; returns (opportunity, bids)."""
    opportunity, bids = closed_with_bids(author, prices=prices, contract_start=date(2027, 4, 1), contract_months=24,
                                         **overrides)
    scores = scores or [Decimal(3)] * len(bids)
    now = utcnow()
    opportunity.status = "evaluating"
    db.session.add(Evaluation(opportunity_id=opportunity.id, opened_at=now, released_at=now,
                              moderation_completed_at=now))
    criteria = results.evaluation_criteria(opportunity)
    for position, (bid, score) in enumerate(zip(bids, scores)):
        compliant = position not in excluded
        db.session.add(ComplianceCheck(bid_id=bid.id, compliant=compliant, reason="" if compliant else EXCLUSION,
                                       checks=[{"key": f"criterion-{c.id}", "label": c.title, "passed": compliant,
                                                "note": ""} for c in criteria if c.kind == "pass_fail"]))
        bid.status = bid_rules.EVALUATED if compliant else bid_rules.EXCLUDED
        if compliant:
            db.session.add_all(ModeratedScore(bid_id=bid.id, criterion_id=c.id, score=Decimal(score),
                                              reason=f"Agreed {score} for {c.title}")
                               for c in results.people_scored(criteria))
    db.session.commit()
    return opportunity, bids


def recommended(opportunity, bid, officer, **fields) -> Award:
    """A recommendation written straight to the table, with the ranking as the engine gives it now."""
    award = Award(opportunity_id=opportunity.id, bid_id=bid.id, status="recommended",
                  ranking=results.rank(opportunity).display(), reasons="Best value for Kent",
                  recommended_by_id=officer.id, **fields)
    opportunity.status = "award_recommended"
    db.session.add(award)
    db.session.commit()
    return award


def in_standstill(opportunity, bid, officer, approver, notice_at: datetime | None = None) -> Award:
    """An approved award whose notice was published at `notice_at` (default: an hour ago)."""
    notice_at = notice_at or utcnow() - timedelta(hours=1)
    award = recommended(opportunity, bid, officer, recommended_at=notice_at - timedelta(days=1),
                        decided_by_id=approver.id, decided_at=notice_at, notice_published_at=notice_at)
    award.status = "approved"
    award.standstill_ends_on = working_days.standstill_end(london(notice_at).date())
    opportunity.status = "standstill"
    db.session.commit()
    return award


def standstill_over(opportunity, bid, officer, approver) -> Award:
    """An approved award whose standstill ended yesterday (London time)."""
    award = in_standstill(opportunity, bid, officer, approver, notice_at=utcnow() - timedelta(days=20))
    award.standstill_ends_on = london(utcnow()).date() - timedelta(days=1)
    db.session.commit()
    return award


def answered(bid, officer, accepted: bool = True) -> PriceReview:
    review = PriceReview(bid_id=bid.id, flags=["abnormally_low: 50.0% under the next lowest compliant price"],
                         bidder_explanation="Volunteers deliver most visits", accepted=accepted,
                         decision_reason="Explained by volunteer time", decided_by_id=officer.id)
    db.session.add(review)
    db.session.commit()
    return review
