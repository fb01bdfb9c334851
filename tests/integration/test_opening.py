"""Opening bids on a real database: once, after the deadline, every counting version re-verified against its
receipt; a mismatch stops the whole opening and is audited; withdrawn bids are listed as not counting."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from marketplace.bids import rules, submission
from marketplace.bids.models import Bid, BidSubmission
from marketplace.errors import DomainError
from marketplace.evaluation import access, opening
from marketplace.evaluation.models import Evaluation
from marketplace.extensions import db
from marketplace.opportunities import lifecycle
from marketplace.opportunities.models import Opportunity
from marketplace.opportunities.services import NotAllowed
from marketplace.timeutil import utcnow
from tests.builders import closed_with_bids, make_bid, make_opportunity
from tests.factories import OrganisationFactory, provider
from tests.integration.test_evaluation_panel import events
from tests.staff_fixtures import author, officer, request_context  # noqa: F401 (fixtures)


def reload(opportunity) -> Opportunity:
    db.session.expire_all()
    return db.session.get(Opportunity, opportunity.id)


def statuses(bids) -> list[str]:
    return [db.session.get(Bid, bid.id).status for bid in bids]


def evaluations() -> list[Evaluation]:
    return list(db.session.execute(sa.select(Evaluation)).scalars())


@pytest.fixture()
def closed(author):
    return closed_with_bids(author)


def test_opening_records_every_counting_bid_with_its_verified_receipt_and_starts_evaluation(officer, closed):
    opportunity, bids = closed
    evaluation = opening.open_bids(officer, opportunity)
    versions = {s.bid_id: s for s in db.session.execute(sa.select(BidSubmission)).scalars()}
    assert evaluation.opening_record == [
        {"bid_id": bid.id, "organisation": f"Bidder {n} Community Interest Company", "submission_number": 1,
         "submitted_at": versions[bid.id].submitted_at.isoformat(), "sha256": versions[bid.id].sha256,
         "verified": True} for n, bid in enumerate(bids, start=1)]
    assert evaluation.opened_by_id == officer.id
    assert reload(opportunity).status == lifecycle.EVALUATING
    assert statuses(bids) == [rules.OPENED] * 3
    [event] = events("evaluation.opened")
    assert event.details["bid_ids"] == [b.id for b in bids] and event.actor_id == officer.id
    assert event.details["receipts"][str(bids[0].id)] == versions[bids[0].id].sha256


def test_bids_cannot_be_opened_before_the_deadline(officer, author):
    opportunity = make_opportunity(author)
    organisation = OrganisationFactory()
    bid = make_bid(opportunity, organisation)
    submission.submit(provider(organisation), bid, bid.version)
    with pytest.raises(DomainError, match="only after the deadline"):
        opening.open_bids(officer, opportunity)
    assert evaluations() == [] and statuses([bid]) == [rules.SUBMITTED]
    assert reload(opportunity).status == lifecycle.PUBLISHED


def test_a_published_opportunity_past_its_deadline_opens_without_waiting_for_the_clock_job(officer, closed):
    opportunity, bids = closed
    opportunity.status = lifecycle.PUBLISHED  # the close-opportunities job has not run yet
    db.session.commit()
    opening.open_bids(officer, opportunity)
    assert reload(opportunity).status == lifecycle.EVALUATING


def test_a_second_opening_is_refused_and_changes_nothing(officer, closed):
    opportunity, bids = closed
    opening.open_bids(officer, opportunity)
    with pytest.raises(opening.AlreadyOpened, match="already opened"):
        opening.open_bids(officer, opportunity)
    assert len(evaluations()) == 1 and len(events("evaluation.opened")) == 1


def test_the_unique_constraint_stops_a_second_opening_that_slipped_past_the_checks(officer, closed, monkeypatch):
    opportunity, bids = closed
    opening.open_bids(officer, opportunity)
    # a second request that read the opportunity as still closed and saw no opening yet
    db.session.execute(sa.update(Opportunity).where(Opportunity.id == opportunity.id).values(status="closed"))
    db.session.commit()
    monkeypatch.setattr(access, "evaluation_of", lambda opportunity_id: None)
    with pytest.raises(opening.AlreadyOpened):
        opening.open_bids(officer, opportunity)
    monkeypatch.undo()
    assert len(evaluations()) == 1 and len(events("evaluation.opened")) == 1


def test_a_receipt_that_no_longer_matches_stops_the_whole_opening_and_is_audited(officer, closed):
    opportunity, bids = closed
    tampered = db.session.execute(sa.select(BidSubmission).where(BidSubmission.bid_id == bids[1].id)).scalar_one()
    tampered.content = tampered.content.replace("100000.00", "1.00")  # the price, changed after sealing
    db.session.commit()
    with pytest.raises(opening.OpeningStopped, match="Bidder 2 Community Interest Company") as stopped:
        opening.open_bids(officer, opportunity)
    assert [f.bid_id for f in stopped.value.failures] == [bids[1].id]
    assert evaluations() == []
    assert reload(opportunity).status == lifecycle.CLOSED
    assert statuses(bids) == [rules.SUBMITTED] * 3
    [event] = events("evaluation.opening_stopped")
    assert event.details["bid_ids"] == [bids[1].id] and event.actor_id == officer.id
    assert not events("evaluation.opened")


def test_only_a_procurement_officer_opens_bids(author, closed):
    opportunity, _ = closed
    with pytest.raises(NotAllowed):
        opening.open_bids(author, opportunity)
    assert evaluations() == []


def test_a_cancelled_opportunity_is_not_opened(officer, closed):
    opportunity, _ = closed
    opportunity.status = lifecycle.CANCELLED
    db.session.commit()
    with pytest.raises(DomainError, match="the opportunity is cancelled"):
        opening.open_bids(officer, opportunity)


def test_bids_withdrawn_before_the_deadline_are_listed_as_not_counting(officer, author):
    opportunity = make_opportunity(author)
    kept, gone = OrganisationFactory(legal_name="Kept Ltd"), OrganisationFactory(legal_name="Gone Ltd")
    for organisation in (kept, gone):
        bid = make_bid(opportunity, organisation)
        submission.submit(provider(organisation), bid, bid.version)
    withdrawn = db.session.execute(sa.select(Bid).where(Bid.organisation_id == gone.id)).scalar_one()
    submission.withdraw(provider(gone, role="colleague"), withdrawn, 1)
    opportunity.submission_deadline = utcnow() - timedelta(minutes=5)
    opportunity.status = lifecycle.CLOSED
    db.session.commit()
    evaluation = opening.open_bids(officer, opportunity)
    assert [entry["organisation"] for entry in evaluation.opening_record] == ["Kept Ltd"]
    assert [(bid.id, name, version.number) for bid, name, version in opening.withdrawn_bids(opportunity.id)] == [
        (withdrawn.id, "Gone Ltd", 1)]
    assert db.session.get(Bid, withdrawn.id).status == rules.WITHDRAWN
    assert events("evaluation.opened")[0].details["withdrawn_bid_ids"] == [withdrawn.id]


def test_an_opening_record_entry_shows_its_submission_time_as_the_receipt_did(officer, closed):
    opportunity, bids = closed
    evaluation = opening.open_bids(officer, opportunity)
    version = db.session.execute(sa.select(BidSubmission).where(BidSubmission.bid_id == bids[0].id)).scalar_one()
    assert opening.record_time(evaluation.opening_record[0]) == submission.receipt_time(version.submitted_at)
