"""Award services from the award notice on, on a real database: challenges suspend the award, confirmation after
standstill makes the contract record, and cancellation withdraws the award and tells every bidder."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import User
from marketplace.audit import AuditEvent
from marketplace.awards import services, standstill
from marketplace.awards.models import Award, Challenge, Contract
from marketplace.awards.standstill import ChallengeDetails
from marketplace.bids.models import Bid
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.opportunities import services as opportunity_services
from marketplace.opportunities.models import Opportunity
from marketplace.organisations.models import Membership, Organisation
from marketplace.timeutil import london, utcnow
from tests.award_builders import in_standstill, moderated, standstill_over
from tests.factories import OrganisationFactory, StaffFactory
from tests.staff_fixtures import author, officer, request_context  # noqa: F401


@pytest.fixture()
def approver():
    return StaffFactory(roles=["procurement_officer"], full_name="Alex Approver")


@pytest.fixture()
def evaluated(author):
    """Three bids; the third excluded at compliance; the second (lowest price) leads."""
    return moderated(author, excluded=(2,))


def reload(model, row_id):
    db.session.expire_all()
    return db.session.get(model, row_id)


def events(action: str) -> list[AuditEvent]:
    return list(db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == action)).scalars())


def challenge_from(bid, award, **overrides) -> ChallengeDetails:
    fields = dict(organisation_id=bid.organisation_id, received_at=award.notice_published_at + timedelta(minutes=30),
                  summary="The price scoring was applied wrongly")
    fields.update(overrides)
    return ChallengeDetails(**fields)


# Challenges --------------------------------------------------------------------------------------------------

def test_a_challenge_in_standstill_suspends_the_award_until_it_is_resolved(evaluated, officer, approver):
    opportunity, bids = evaluated
    award = standstill_over(opportunity, bids[1], officer, approver)
    challenge = standstill.record_challenge(officer, opportunity, challenge_from(bids[0], award))
    assert reload(Challenge, challenge.id).resolved_at is None
    assert events("award.challenge_recorded")[0].details["organisation_id"] == bids[0].organisation_id
    with pytest.raises(services.Refused, match="has not been resolved"):
        standstill.confirm(officer, opportunity, reload(Award, award.id).version)
    assert reload(Opportunity, opportunity.id).status == "standstill"


def test_a_dismissed_challenge_lets_the_award_resume(evaluated, officer, approver):
    opportunity, bids = evaluated
    award = standstill_over(opportunity, bids[1], officer, approver)
    challenge = standstill.record_challenge(officer, opportunity, challenge_from(bids[0], award))
    standstill.resolve_challenge(officer, opportunity, challenge.id, standstill.DISMISSED, "Scored as published")
    resolved = reload(Challenge, challenge.id)
    assert (resolved.upheld, resolved.resolution, resolved.resolved_by_id) == (False, "Scored as published",
                                                                              officer.id)
    standstill.confirm(officer, opportunity, reload(Award, award.id).version)
    assert reload(Opportunity, opportunity.id).status == "awarded"


def test_an_upheld_challenge_stops_confirmation_and_the_award_can_go_back_to_evaluation(evaluated, officer,
                                                                                        approver):
    opportunity, bids = evaluated
    award = standstill_over(opportunity, bids[1], officer, approver)
    challenge = standstill.record_challenge(officer, opportunity, challenge_from(bids[0], award))
    standstill.resolve_challenge(officer, opportunity, challenge.id, standstill.UPHELD, "Price method misapplied")
    with pytest.raises(services.Refused, match="was upheld"):
        standstill.confirm(officer, opportunity, reload(Award, award.id).version)
    standstill.return_to_evaluation(officer, opportunity, reload(Award, award.id).version)
    assert reload(Award, award.id).status == "returned"
    assert reload(Opportunity, opportunity.id).status == "evaluating"
    services.recommend(officer, reload(Opportunity, opportunity.id), services.RecommendationDetails("Rescored"))
    assert db.session.execute(sa.select(sa.func.count(Award.id))).scalar_one() == 2


def test_an_award_goes_back_to_evaluation_from_standstill_only_after_an_upheld_challenge(evaluated, officer,
                                                                                          approver):
    opportunity, bids = evaluated
    award = in_standstill(opportunity, bids[1], officer, approver)
    with pytest.raises(services.Refused, match="upheld"):
        standstill.return_to_evaluation(officer, opportunity, award.version)
    assert reload(Award, award.id).status == "approved"


@pytest.mark.parametrize(("overrides", "field"), [
    ({"received_at": None}, "received_at"),
    ({"summary": "  "}, "summary"),
    ({"organisation_id": None}, "organisation_id"),
])
def test_a_challenge_needs_the_bidder_the_time_and_a_summary(evaluated, officer, approver, overrides, field):
    opportunity, bids = evaluated
    award = in_standstill(opportunity, bids[1], officer, approver)
    with pytest.raises(services.Refused) as refused:
        standstill.record_challenge(officer, opportunity, challenge_from(bids[0], award, **overrides))
    assert refused.value.field == field


def test_only_an_organisation_that_bid_can_challenge(evaluated, officer, approver):
    opportunity, bids = evaluated
    award = in_standstill(opportunity, bids[1], officer, approver)
    stranger = OrganisationFactory()
    with pytest.raises(services.Refused) as refused:
        standstill.record_challenge(officer, opportunity, challenge_from(bids[0], award,
                                                                         organisation_id=stranger.id))
    assert refused.value.field == "organisation_id"


def test_a_challenge_received_after_standstill_ended_does_not_suspend_the_award(evaluated, officer, approver):
    opportunity, bids = evaluated
    award = standstill_over(opportunity, bids[1], officer, approver)
    late = utcnow()  # today: standstill ended with yesterday (a few minutes earlier could still be yesterday)
    with pytest.raises(services.Refused, match="Standstill ended") as refused:
        standstill.record_challenge(officer, opportunity, challenge_from(bids[0], award, received_at=late))
    assert refused.value.field == "received_at"
    assert db.session.execute(sa.select(sa.func.count(Challenge.id))).scalar_one() == 0


def test_the_same_challenge_recorded_twice_is_kept_once(evaluated, officer, approver):
    opportunity, bids = evaluated
    award = in_standstill(opportunity, bids[1], officer, approver)
    standstill.record_challenge(officer, opportunity, challenge_from(bids[0], award))
    with pytest.raises(services.Refused, match="already recorded"):
        standstill.record_challenge(officer, opportunity, challenge_from(bids[0], award))
    assert db.session.execute(sa.select(sa.func.count(Challenge.id))).scalar_one() == 1


def test_a_challenge_is_resolved_once(evaluated, officer, approver):
    opportunity, bids = evaluated
    award = in_standstill(opportunity, bids[1], officer, approver)
    challenge = standstill.record_challenge(officer, opportunity, challenge_from(bids[0], award))
    standstill.resolve_challenge(officer, opportunity, challenge.id, standstill.DISMISSED, "No merit")
    with pytest.raises(services.Refused, match="already been resolved"):
        standstill.resolve_challenge(officer, opportunity, challenge.id, standstill.UPHELD, "Changed our mind")
    assert reload(Challenge, challenge.id).upheld is False


# Confirmation -----------------------------------------------------------------------------------------------

def test_confirmation_before_standstill_ends_is_refused_with_the_end_date(evaluated, officer, approver):
    opportunity, bids = evaluated
    award = in_standstill(opportunity, bids[1], officer, approver)
    with pytest.raises(services.Refused, match="Standstill ends at midnight at the end of") as refused:
        standstill.confirm(officer, opportunity, award.version)
    assert london(award.notice_published_at).strftime("%Y") in refused.value.message
    assert reload(Opportunity, opportunity.id).status == "standstill"
    assert db.session.execute(sa.select(sa.func.count(Contract.id))).scalar_one() == 0


def test_standstill_is_judged_by_the_london_date_at_the_moment_of_commit(evaluated, officer, approver, monkeypatch):
    opportunity, bids = evaluated
    award = in_standstill(opportunity, bids[1], officer, approver)
    award.standstill_ends_on = date(2026, 7, 14)
    db.session.commit()
    # 10:59pm UTC on 14 July is 11:59pm in London (BST): still the last day of standstill.
    monkeypatch.setattr(standstill, "utcnow", lambda: datetime(2026, 7, 14, 22, 59, tzinfo=timezone.utc))
    with pytest.raises(services.Refused, match="Tuesday 14 July 2026"):
        standstill.confirm(officer, opportunity, reload(Award, award.id).version)
    # Half an hour later it is 15 July in London, though still 14 July in UTC.
    monkeypatch.setattr(standstill, "utcnow", lambda: datetime(2026, 7, 14, 23, 30, tzinfo=timezone.utc))
    contract = standstill.confirm(officer, opportunity, reload(Award, award.id).version)
    assert contract.reference == "KCC-C-2026-0001"
    assert reload(Award, award.id).confirmed_at == datetime(2026, 7, 14, 23, 30, tzinfo=timezone.utc)


def test_confirmation_makes_the_contract_from_the_sealed_bid_and_the_supplier_as_it_is_now(evaluated, officer,
                                                                                           approver):
    opportunity, bids = evaluated
    award = standstill_over(opportunity, bids[1], officer, approver)
    contract = standstill.confirm(officer, opportunity, award.version)
    stored = reload(Contract, contract.id)
    supplier = db.session.get(Organisation, bids[1].organisation_id)
    assert stored.reference == f"KCC-C-{london(utcnow()).year}-0001"
    assert (stored.award_id, stored.bid_id, stored.organisation_id) == (award.id, bids[1].id, supplier.id)
    assert (stored.supplier_name, stored.supplier_postcode) == ("Bidder 2 Community Interest Company", "CT1 2AB")
    assert (stored.supplier_org_type, stored.supplier_size) == ("charity", "small")
    assert (stored.supplier_is_vcse, stored.supplier_is_sme, stored.supplier_kent_based) == (True, True, True)
    assert stored.value == Decimal("100000.00")
    assert (stored.start_date, stored.end_date) == (date(2027, 4, 1), date(2029, 3, 31))
    assert (stored.kent_share, stored.kent_spend) == (Decimal("0.350000"), Decimal("35000.00"))
    assert (stored.kent_jobs, stored.kent_apprenticeships) == (4, 1)
    assert stored.social_value_commitments[0]["measure"] == "apprenticeships"
    assert stored.consortium[0]["name"] == "Margate Men's Shed"
    assert (stored.title, stored.category) == (opportunity.title, opportunity.category)
    confirmed = reload(Award, award.id)
    assert (confirmed.status, confirmed.confirmed_by_id) == ("confirmed", officer.id)
    assert events("award.confirmed")[0].details["contract"] == stored.reference


def test_confirmation_settles_every_bid(evaluated, officer, approver):
    opportunity, bids = evaluated
    award = standstill_over(opportunity, bids[1], officer, approver)
    standstill.confirm(officer, opportunity, award.version)
    assert [reload(Bid, b.id).status for b in bids] == ["unsuccessful", "successful", "excluded"]
    assert reload(Opportunity, opportunity.id).status == "awarded"


def test_the_supplier_is_captured_at_award_and_not_recomputed(evaluated, officer, approver):
    opportunity, bids = evaluated
    award = standstill_over(opportunity, bids[1], officer, approver)
    contract = standstill.confirm(officer, opportunity, award.version)
    supplier = db.session.get(Organisation, bids[1].organisation_id)
    supplier.size, supplier.legal_name = "large", "Renamed Ltd"
    db.session.commit()
    assert (reload(Contract, contract.id).supplier_size, reload(Contract, contract.id).supplier_name) == (
        "small", "Bidder 2 Community Interest Company")


def test_confirming_twice_is_refused_and_makes_one_contract(evaluated, officer, approver):
    opportunity, bids = evaluated
    award = standstill_over(opportunity, bids[1], officer, approver)
    version = award.version
    standstill.confirm(officer, opportunity, version)
    with pytest.raises(services.Refused, match="already confirmed"):
        standstill.confirm(officer, opportunity, version)
    assert db.session.execute(sa.select(sa.func.count(Contract.id))).scalar_one() == 1


def test_a_confirm_button_from_before_a_challenge_was_recorded_is_refused(evaluated, officer, approver):
    opportunity, bids = evaluated
    award = standstill_over(opportunity, bids[1], officer, approver)
    version = award.version
    challenge = standstill.record_challenge(officer, opportunity, challenge_from(bids[0], award))
    standstill.resolve_challenge(officer, opportunity, challenge.id, standstill.DISMISSED, "No merit")
    with pytest.raises(services.Stale):
        standstill.confirm(officer, opportunity, version)


def test_only_a_procurement_officer_confirms(evaluated, officer, approver):
    opportunity, bids = evaluated
    award = standstill_over(opportunity, bids[1], officer, approver)
    with pytest.raises(services.NotAllowed):
        standstill.confirm(StaffFactory(roles=["administrator"]), opportunity, award.version)


# Cancellation ------------------------------------------------------------------------------------------------

def test_cancelling_in_standstill_cancels_the_award_and_tells_every_organisation_that_bid(evaluated, officer,
                                                                                          approver, mailbox):
    opportunity, bids = evaluated
    award = in_standstill(opportunity, bids[1], officer, approver)
    opportunity_services.cancel(officer, opportunity, "The panel misread the price schedule",
                                reload(Opportunity, opportunity.id).version, category="challenge_upheld")
    cancelled = reload(Opportunity, opportunity.id)
    assert cancelled.status == "cancelled"
    assert cancelled.cancel_reason == "A challenge was upheld. The panel misread the price schedule"
    assert reload(Award, award.id).status == "cancelled"
    assert events("award.cancelled")[0].details["bid_id"] == bids[1].id
    assert events("opportunity.cancel")[0].details["category"] == "challenge_upheld"
    for bid in bids:
        for email in db.session.execute(sa.select(User.email).join(Membership, Membership.user_id == User.id)
                                        .where(Membership.organisation_id == bid.organisation_id)).scalars():
            assert "A challenge was upheld" in mailbox.last_body(email)
            assert mailbox.to(email)[-1]["Subject"] == f"{opportunity.reference} has been cancelled"


@pytest.mark.parametrize(("category", "reason", "field"), [("made_up", "Details", "category"),
                                                          ("other", " ", "reason")])
def test_cancelling_takes_a_listed_reason_and_details_for_another_reason(evaluated, category, reason, field):
    opportunity, _ = evaluated
    with pytest.raises(DomainError) as refused:
        opportunity_services.cancel(opportunity.created_by, opportunity, reason, opportunity.version,
                                    category=category)
    assert refused.value.field == field
    assert reload(Opportunity, opportunity.id).status == "evaluating"


def test_a_confirmed_award_cannot_be_cancelled(evaluated, officer, approver):
    opportunity, bids = evaluated
    award = standstill_over(opportunity, bids[1], officer, approver)
    standstill.confirm(officer, opportunity, award.version)
    opportunity = reload(Opportunity, opportunity.id)
    with pytest.raises(DomainError):
        opportunity_services.cancel(officer, opportunity, "Too late", opportunity.version, category="other")
    assert reload(Award, award.id).status == "confirmed"
