"""Award services before standstill, on a real database: the recommendation from the engine's ranking, answers
to abnormally-low price flags, and approval or return with separation of duties."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from marketplace.audit import AuditEvent
from marketplace.awards import services
from marketplace.awards.models import Award, PriceReview
from marketplace.awards.services import PriceDecision, RecommendationDetails
from marketplace.bids.models import Bid
from marketplace.evaluation import results, working_days
from marketplace.evaluation.access import evaluation_of
from marketplace.extensions import db
from marketplace.opportunities.models import Opportunity
from marketplace.organisations.models import Membership
from marketplace.accounts.models import User
from marketplace.timeutil import london, utcnow
from tests.award_builders import answered, moderated, recommended
from tests.factories import StaffFactory
from tests.staff_fixtures import author, officer, request_context  # noqa: F401

FLAGGED_PRICES = (Decimal("120000.00"), Decimal("60000.00"), Decimal("135000.00"))  # the second is abnormally low


@pytest.fixture()
def approver():
    return StaffFactory(roles=["procurement_officer"], full_name="Alex Approver")


@pytest.fixture()
def administrator():
    return StaffFactory(roles=["administrator"], full_name="Ada Administrator")


def events(action: str) -> list[AuditEvent]:
    return list(db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == action)).scalars())


def awards() -> list[Award]:
    db.session.expire_all()
    return list(db.session.execute(sa.select(Award).order_by(Award.id)).scalars())


def status_of(opportunity) -> str:
    db.session.expire_all()
    return db.session.get(Opportunity, opportunity.id).status


def members(bid) -> list[str]:
    return list(db.session.execute(sa.select(User.email).join(Membership, Membership.user_id == User.id)
                                   .where(Membership.organisation_id == bid.organisation_id)).scalars())


def reasons(text: str = "Best value, with strong Kent commitments") -> RecommendationDetails:
    return RecommendationDetails(reasons=text)


# Recommending -------------------------------------------------------------------------------------------

def test_the_officer_recommends_the_engines_winner_and_the_ranking_is_kept_as_shown(author, officer):
    opportunity, bids = moderated(author)
    shown = results.rank(opportunity).display()
    award = services.recommend(officer, opportunity, reasons())
    stored = awards()[0]
    assert stored.id == award.id and stored.bid_id == bids[1].id  # equal scores: the lowest price leads
    assert stored.ranking == shown and stored.reasons == "Best value, with strong Kent commitments"
    assert (stored.status, stored.recommended_by_id) == ("recommended", officer.id)
    assert status_of(opportunity) == "award_recommended"
    assert events("award.recommended")[0].details["bid_id"] == bids[1].id


def test_no_recommendation_is_made_before_moderation_is_complete(author, officer):
    opportunity, _ = moderated(author)
    evaluation_of(opportunity.id).moderation_completed_at = None
    db.session.commit()
    with pytest.raises(services.Refused, match="Moderation is not complete"):
        services.recommend(officer, opportunity, reasons())
    assert awards() == [] and status_of(opportunity) == "evaluating"


def test_a_second_recommendation_while_one_stands_is_refused_and_the_first_is_kept(author, officer):
    opportunity, bids = moderated(author)
    services.recommend(officer, opportunity, reasons("First"))
    with pytest.raises(services.Refused, match="already recommended"):
        services.recommend(officer, opportunity, reasons("Second"))
    assert [a.reasons for a in awards()] == ["First"]


def test_the_reasons_for_a_recommendation_are_required(author, officer):
    opportunity, _ = moderated(author)
    with pytest.raises(services.Refused) as refused:
        services.recommend(officer, opportunity, reasons("   "))
    assert refused.value.field == "reasons" and awards() == []


def test_a_surviving_tie_is_never_broken_silently_the_officer_chooses_and_records_how(author, officer):
    opportunity, bids = moderated(author, prices=(Decimal("100000.00"), Decimal("100000.00")))
    with pytest.raises(services.Refused) as refused:
        services.recommend(officer, opportunity, reasons())
    assert refused.value.field == "bid_id"
    with pytest.raises(services.Refused) as refused:
        services.recommend(officer, opportunity, RecommendationDetails("Tied", str(bids[1].id), " "))
    assert refused.value.field == "tie_decision" and awards() == []
    services.recommend(officer, opportunity, RecommendationDetails("Tied", str(bids[1].id), "Drawn by lot"))
    assert (awards()[0].bid_id, awards()[0].tie_decision) == (bids[1].id, "Drawn by lot")


def test_nothing_is_recommended_when_no_bid_passed_compliance(author, officer):
    opportunity, _ = moderated(author, excluded=(0, 1, 2))
    with pytest.raises(services.Refused, match="No bid passed the compliance check"):
        services.recommend(officer, opportunity, reasons())


def test_only_a_procurement_officer_recommends(author):
    opportunity, _ = moderated(author)
    with pytest.raises(services.NotAllowed):
        services.recommend(author, opportunity, reasons())


# Abnormally low prices --------------------------------------------------------------------------------------

def test_a_rejected_abnormally_low_price_excludes_the_bid_from_the_ranking_with_the_reason(author, officer):
    opportunity, bids = moderated(author, prices=FLAGGED_PRICES)
    assert results.rank(opportunity).result.winner == str(bids[1].id)
    services.record_price_review(officer, opportunity, bids[1].id,
                                 PriceDecision("We use volunteers for most visits", False, "No staff costs at all"))
    db.session.expire_all()
    ranking = results.rank(opportunity).result
    excluded = next(b for b in ranking.bids if b.id == str(bids[1].id))
    assert excluded.excluded and excluded.reasons == ("Price rejected as abnormally low: No staff costs at all",)
    assert ranking.winner == str(bids[0].id) and db.session.get(Bid, bids[1].id).status == "excluded"
    review = db.session.execute(sa.select(PriceReview)).scalar_one()
    assert review.flags and review.bidder_explanation == "We use volunteers for most visits"
    assert events("award.price_review")[0].details["accepted"] is False


def test_an_accepted_price_keeps_the_bid_in_the_ranking(author, officer):
    opportunity, bids = moderated(author, prices=FLAGGED_PRICES)
    services.record_price_review(officer, opportunity, bids[1].id, PriceDecision("Volunteers", True, "Credible"))
    assert results.rank(opportunity).result.winner == str(bids[1].id)


def test_a_price_that_is_not_flagged_has_nothing_to_answer(author, officer):
    opportunity, bids = moderated(author, prices=FLAGGED_PRICES)
    with pytest.raises(services.Refused, match="not flagged"):
        services.record_price_review(officer, opportunity, bids[0].id, PriceDecision("x", True, "y"))


def test_a_price_answer_is_recorded_once(author, officer):
    opportunity, bids = moderated(author, prices=FLAGGED_PRICES)
    decision = PriceDecision("Volunteers", True, "Credible")
    services.record_price_review(officer, opportunity, bids[1].id, decision)
    with pytest.raises(services.Refused, match="already been recorded"):
        services.record_price_review(officer, opportunity, bids[1].id, decision)
    assert db.session.execute(sa.select(sa.func.count(PriceReview.id))).scalar_one() == 1


@pytest.mark.parametrize(("decision", "field"), [(PriceDecision(" ", True, "Credible"), "explanation"),
                                                 (PriceDecision("Volunteers", None, "Credible"), "decision"),
                                                 (PriceDecision("Volunteers", False, ""), "reason")])
def test_a_price_answer_needs_the_explanation_the_decision_and_its_reason(author, officer, decision, field):
    opportunity, bids = moderated(author, prices=FLAGGED_PRICES)
    with pytest.raises(services.Refused) as refused:
        services.record_price_review(officer, opportunity, bids[1].id, decision)
    assert refused.value.field == field


# Approving or returning ---------------------------------------------------------------------------------

def test_the_recommender_cannot_approve_their_own_recommendation(author, officer):
    opportunity, bids = moderated(author)
    award = services.recommend(officer, opportunity, reasons())
    with pytest.raises(services.Refused, match="separation of duties"):
        services.decide(officer, opportunity, services.APPROVE, "", award.version)
    assert awards()[0].status == "recommended" and status_of(opportunity) == "award_recommended"


def test_a_commissioner_cannot_approve(author, officer):
    opportunity, _ = moderated(author)
    award = services.recommend(officer, opportunity, reasons())
    with pytest.raises(services.Refused, match="Only a procurement officer or an administrator"):
        services.decide(author, opportunity, services.APPROVE, "", award.version)


def test_an_award_is_not_approved_while_a_flag_is_unanswered(author, officer, approver):
    opportunity, bids = moderated(author, prices=FLAGGED_PRICES)
    award = services.recommend(officer, opportunity, reasons())
    with pytest.raises(services.Blocked) as blocked:
        services.decide(approver, opportunity, services.APPROVE, "", award.version)
    assert "The abnormally low price of Bidder 2 Community Interest Company has not been answered" in \
        blocked.value.errors[0].message
    assert awards()[0].status == "recommended"
    answered(bids[1], officer)
    services.decide(approver, opportunity, services.APPROVE, "", awards()[0].version)
    assert awards()[0].status == "approved"


def test_a_price_rejected_after_the_recommendation_blocks_approval_until_it_is_returned(author, officer, approver):
    opportunity, bids = moderated(author, prices=FLAGGED_PRICES)
    award = services.recommend(officer, opportunity, reasons())
    services.record_price_review(officer, opportunity, bids[1].id, PriceDecision("Volunteers", False, "Unrealistic"))
    with pytest.raises(services.Blocked) as blocked:
        services.decide(approver, opportunity, services.APPROVE, "", award.version)
    assert blocked.value.errors[-1].message.startswith("The ranking has changed since the recommendation")


def test_approval_publishes_the_notice_starts_standstill_and_tells_every_bidder(author, officer, approver,
                                                                                   mailbox):
    opportunity, bids = moderated(author, excluded=(2,))
    award = services.recommend(officer, opportunity, reasons())
    services.decide(approver, opportunity, services.APPROVE, "", award.version)
    stored = awards()[0]
    today = london(utcnow()).date()
    assert (stored.status, stored.decided_by_id) == ("approved", approver.id)
    assert london(stored.notice_published_at).date() == today
    assert stored.standstill_ends_on == working_days.standstill_end(today)
    assert status_of(opportunity) == "standstill"
    assert events("award.approved")[0].details["standstill_ends_on"] == stored.standstill_ends_on.isoformat()
    winner, loser, excluded = (members(b)[0] for b in (bids[1], bids[0], bids[2]))
    assert "your bid is successful" in mailbox.to(winner)[-1]["Subject"]
    assert "not successful" in mailbox.to(loser)[-1]["Subject"]
    assert "Bidder 2 Community Interest Company" in mailbox.last_body(loser)
    assert "not successful" in mailbox.to(excluded)[-1]["Subject"]
    assert f"/opportunities/{opportunity.id}/bid/result" in mailbox.last_body(loser)


def test_the_award_notice_email_carries_each_bidders_own_letter_as_a_pdf(author, officer, approver, mailbox):
    opportunity, bids = moderated(author, excluded=(2,))
    award = services.recommend(officer, opportunity, reasons())
    services.decide(approver, opportunity, services.APPROVE, "", award.version)
    winner, loser, excluded = (members(b)[0] for b in (bids[1], bids[0], bids[2]))
    for address in (winner, loser, excluded):
        [(filename, data)] = mailbox.attachments(address)
        assert filename.endswith(".pdf") and data.startswith(b"%PDF")
    assert mailbox.attachments(winner) != mailbox.attachments(loser)


def test_an_administrator_may_approve(author, officer, administrator):
    opportunity, _ = moderated(author)
    award = services.recommend(officer, opportunity, reasons())
    services.decide(administrator, opportunity, services.APPROVE, "", award.version)
    assert awards()[0].decided_by_id == administrator.id


def test_approving_twice_is_refused_and_changes_nothing(author, officer, approver):
    opportunity, _ = moderated(author)
    award = services.recommend(officer, opportunity, reasons())
    version = award.version
    services.decide(approver, opportunity, services.APPROVE, "", version)
    approved = awards()[0]
    with pytest.raises(services.Refused, match="no recommendation waiting"):
        services.decide(approver, opportunity, services.APPROVE, "", version)
    assert awards()[0].notice_published_at == approved.notice_published_at


def test_a_decision_on_a_recommendation_that_changed_meanwhile_is_refused(author, officer, approver):
    opportunity, _ = moderated(author)
    award = services.recommend(officer, opportunity, reasons())
    with pytest.raises(services.Stale):
        services.decide(approver, opportunity, services.APPROVE, "", award.version - 1)
    assert awards()[0].status == "recommended"


def test_a_returned_recommendation_goes_back_to_evaluation_and_a_new_one_can_be_made(author, officer, approver):
    opportunity, bids = moderated(author)
    award = services.recommend(officer, opportunity, reasons("First"))
    services.decide(approver, opportunity, services.RETURN, "Explain the Kent commitments", award.version)
    returned = awards()[0]
    assert (returned.status, returned.decision_note) == ("returned", "Explain the Kent commitments")
    assert status_of(opportunity) == "evaluating"
    assert events("award.returned")[0].details["note"] == "Explain the Kent commitments"
    services.recommend(officer, opportunity, reasons("Second"))
    assert [a.status for a in awards()] == ["returned", "recommended"]


def test_returning_a_recommendation_needs_a_note(author, officer, approver):
    opportunity, _ = moderated(author)
    award = services.recommend(officer, opportunity, reasons())
    with pytest.raises(services.Refused) as refused:
        services.decide(approver, opportunity, services.RETURN, "  ", award.version)
    assert refused.value.field == "note" and awards()[0].status == "recommended"


def test_a_recommendation_written_before_the_flag_was_answered_is_approved_once_it_is(author, officer, approver):
    opportunity, bids = moderated(author, prices=FLAGGED_PRICES)
    award = recommended(opportunity, bids[1], officer)
    answered(bids[1], officer, accepted=True)
    services.decide(approver, opportunity, services.APPROVE, "", award.version)
    assert awards()[0].status == "approved"
