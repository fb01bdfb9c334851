"""Bid submission on a real database: only complete bids are sealed; the seal is a numbered version with the
server time and the SHA-256 of its canonical content; late is refused, judged at commit; withdraw and resubmit
keep every receipt and only the latest counts; a double submission makes one version; the audit trail holds
the receipt hash, never the content; the receipt is emailed."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from marketplace.audit import AuditEvent, verify_database
from marketplace.bids import rules, snapshot, submission
from marketplace.bids.models import Bid, BidSubmission
from marketplace.extensions import db
from marketplace.opportunities.models import Criterion, EvaluationModel, Opportunity
from marketplace.timeutil import utcnow
from tests.builders import CRITERIA, PDF, make_bid, make_opportunity
from tests.factories import OrganisationFactory, StaffFactory, colleague, provider

def submissions(bid_id: int | None = None) -> list[BidSubmission]:
    db.session.expire_all()
    statement = sa.select(BidSubmission).order_by(BidSubmission.bid_id, BidSubmission.number)
    if bid_id is not None:
        statement = statement.where(BidSubmission.bid_id == bid_id)
    return list(db.session.execute(statement).scalars())


def events(action: str) -> list[AuditEvent]:
    return list(db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.id)).scalars())


def fresh(bid: Bid) -> Bid:
    db.session.expire_all()
    return db.session.get(Bid, bid.id)


def submit(user, bid: Bid) -> submission.Outcome:
    return submission.submit(user, bid, fresh(bid).version)


# Fixtures -------------------------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def request_context(app):
    """Receipts carry absolute links, built as in a request."""
    with app.test_request_context("/"):
        yield


@pytest.fixture()
def commissioner(app):
    return StaffFactory(roles=["commissioner"])


@pytest.fixture()
def opportunity(commissioner):
    return make_opportunity(commissioner)


@pytest.fixture()
def organisation(app):
    return OrganisationFactory(legal_name="Thanet Befriending Trust")


@pytest.fixture()
def owner(organisation):
    return provider(organisation, email="owner@befriending.example", full_name="Olive Owner")


@pytest.fixture()
def bid(opportunity, organisation, owner):
    return make_bid(opportunity, organisation, marker="MARKER-7731")


# Submitting -----------------------------------------------------------------------------------------------

def test_a_complete_bid_is_sealed_as_version_1_with_the_server_time_and_the_hash_of_its_content(owner, bid,
                                                                                             opportunity):
    before = utcnow()
    outcome = submit(owner, bid)

    [sealed] = submissions(bid.id)
    assert outcome.submission.id == sealed.id and not outcome.duplicate
    assert sealed.number == 1 and sealed.submitted_by_id == owner.id and sealed.withdrawn_at is None
    assert before <= sealed.submitted_at <= utcnow()
    assert sealed.sha256 == rules.receipt_hash(sealed.content)
    content = json.loads(sealed.content)
    assert content["price"]["total"] == "125000.00"
    assert "MARKER-7731" in json.dumps(content["answers"])
    assert content["documents"][0]["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert "bytes" not in json.dumps(content["documents"]) and PDF.decode() not in sealed.content
    assert fresh(bid).status == rules.SUBMITTED


def test_the_receipt_hash_is_reproducible_from_the_stored_content_and_from_the_unchanged_bid(owner, bid,
                                                                                          opportunity):
    submit(owner, bid)

    [sealed] = submissions(bid.id)
    assert rules.receipt_hash(sealed.content) == sealed.sha256
    again = rules.canonical_json(snapshot.take(fresh(bid), db.session.get(Opportunity, opportunity.id)).content)
    assert again == sealed.content
    assert rules.canonical_json(json.loads(sealed.content)) == sealed.content


def test_the_audit_event_holds_the_receipt_hash_and_never_the_content(owner, bid):
    submit(owner, bid)

    [event] = events("bid.submitted")
    [sealed] = submissions(bid.id)
    assert (event.object_type, event.object_id, event.actor_id) == ("bid", str(bid.id), owner.id)
    assert event.details == {"version": 1, "sha256": sealed.sha256}
    assert "MARKER" not in json.dumps(event.details) and "125000" not in json.dumps(event.details)
    assert verify_database().ok


def _blank_answer(bid):
    bid.answers[1].text = "   "


def _too_long(bid):
    bid.answers[1].text = "word " * 51


def _unconfirmed(bid):
    bid.answers[0].confirmed = False


def _shares(bid):
    bid.members[0].share = Decimal("1.000001")


@pytest.mark.parametrize("change, message", [
    (_blank_answer, "Answer “How you will deliver the service”"),
    (_too_long, "Your answer to “How you will deliver the service” is 51 words; the limit is 50"),
    (_unconfirmed, "Confirm you meet “Safeguarding policy in place”"),
    (lambda bid: setattr(bid, "price_total", None), "Enter your total price"),
    (lambda bid: setattr(bid, "price_total", Decimal(0)), "Enter your total price"),
    (lambda bid: setattr(bid, "kent_share", None), "Enter the share of contract value you will spend in Kent"),
    (_shares, "Consortium and subcontractor shares add up to more than 100%"),
    (lambda bid: setattr(bid, "declared_conflicts", None), "Declare whether you have any conflicts of interest"),
    (lambda bid: setattr(bid, "declared_no_exclusion_grounds", False), "Confirm that no exclusion grounds apply"),
    (lambda bid: setattr(bid, "declared_accurate", False), "Confirm that the information in your bid is accurate"),
])
def test_an_incomplete_bid_is_refused_with_what_is_missing_and_nothing_is_sealed(owner, bid, change, message):
    change(bid)
    db.session.commit()

    with pytest.raises(submission.Incomplete) as refused:
        submit(owner, bid)

    assert any(item.message.startswith(message) for item in refused.value.missing)
    assert submissions() == [] and events("bid.submitted") == []
    assert fresh(bid).status == rules.DRAFT


def test_an_opportunity_with_lots_needs_at_least_one_lot_chosen(commissioner, organisation, owner):
    opportunity = make_opportunity(commissioner, lots=2)
    bid = make_bid(opportunity, organisation, lot_ids=[])

    with pytest.raises(submission.Incomplete) as refused:
        submit(owner, bid)

    assert [item.section for item in refused.value.missing] == ["lots"]


def test_a_lot_with_its_own_model_asks_its_own_criteria_instead_of_the_main_models(commissioner):
    opportunity = make_opportunity(commissioner, lots=2)
    own = EvaluationModel(opportunity_id=opportunity.id, lot_id=opportunity.lots[1].id,
                          criteria=[Criterion(kind="quality", title="Rural outreach", word_limit=100)])
    db.session.add(own)
    db.session.commit()
    main_titles = [c["title"] for c in CRITERIA]

    def titles(lot_ids):
        return [c.title for c in snapshot.applicable_criteria(opportunity, lot_ids)]

    assert titles([opportunity.lots[0].id]) == main_titles
    assert titles([opportunity.lots[1].id]) == ["Rural outreach"]
    assert titles([lot.id for lot in opportunity.lots]) == main_titles + ["Rural outreach"]
    assert titles([]) == main_titles


def test_a_bid_names_only_its_opportunitys_lots_in_what_it_seals(commissioner, organisation, owner):
    opportunity = make_opportunity(commissioner, lots=2)
    other = make_opportunity(commissioner, lots=1)
    bid = make_bid(opportunity, organisation, lot_ids=[opportunity.lots[1].id, other.lots[0].id, "x"])

    submit(owner, bid)

    [sealed] = submissions(bid.id)
    assert [lot["id"] for lot in json.loads(sealed.content)["lots"]] == [opportunity.lots[1].id]


def test_a_late_submission_is_refused_whole(owner, bid, opportunity):
    opportunity.submission_deadline = utcnow() - timedelta(seconds=1)
    db.session.commit()

    with pytest.raises(submission.SubmissionRefused, match="The deadline for this opportunity has passed"):
        submit(owner, bid)

    assert submissions() == [] and events("bid.submitted") == [] and fresh(bid).status == rules.DRAFT


def test_the_deadline_is_judged_by_the_clock_at_commit_not_when_the_request_began(owner, bid, opportunity,
                                                                                 monkeypatch):
    """The request is checked a moment before the deadline, but by the time everything is written and the
    commit is due, the deadline has passed: the whole submission is refused."""
    deadline = utcnow() + timedelta(minutes=5)
    opportunity.submission_deadline = deadline
    db.session.commit()
    clock = iter([deadline - timedelta(seconds=2), deadline - timedelta(seconds=1)])
    monkeypatch.setattr(submission, "utcnow", lambda: next(clock, deadline))

    with pytest.raises(submission.SubmissionRefused, match="deadline"):
        submit(owner, bid)

    assert submissions() == [] and events("bid.submitted") == [] and fresh(bid).status == rules.DRAFT
    assert verify_database().ok


def test_a_submission_a_moment_before_the_deadline_is_stamped_with_the_time_at_commit(owner, bid, opportunity,
                                                                                     monkeypatch):
    deadline = utcnow() + timedelta(minutes=5)
    opportunity.submission_deadline = deadline
    db.session.commit()
    last_moment = deadline - timedelta(microseconds=1)
    clock = iter([deadline - timedelta(seconds=3), deadline - timedelta(seconds=2)])
    monkeypatch.setattr(submission, "utcnow", lambda: next(clock, last_moment))

    submit(owner, bid)

    [sealed] = submissions(bid.id)
    assert sealed.submitted_at == last_moment


def test_a_cancelled_opportunity_refuses_bids(owner, bid, opportunity):
    opportunity.status, opportunity.cancel_reason = "cancelled", "Service brought in-house"
    db.session.commit()

    with pytest.raises(submission.SubmissionRefused, match="This opportunity was cancelled"):
        submit(owner, bid)

    assert submissions() == []


def test_a_reserved_opportunity_refuses_an_organisation_outside_kent_at_submission(commissioner):
    opportunity = make_opportunity(commissioner, reservation="kent")
    organisation = OrganisationFactory(postcode="SE1 7PB")
    bid = make_bid(opportunity, organisation)

    with pytest.raises(submission.SubmissionRefused, match="reserved to suppliers established in Kent"):
        submit(provider(organisation), bid)

    assert submissions() == []


def test_only_members_of_the_bidding_organisation_can_submit_its_bid(bid, commissioner):
    for outsider in (provider(), commissioner):
        with pytest.raises(submission.NotBidder):
            submit(outsider, bid)
    assert submissions() == []


def test_a_bid_changed_by_a_colleague_after_the_page_was_loaded_is_not_sealed(owner, organisation, bid):
    seen_version = fresh(bid).version
    bid.price_total = Decimal("99000.00")  # a colleague saves a new price meanwhile
    db.session.commit()

    with pytest.raises(submission.SubmissionRefused, match="Your bid changed after you opened this page"):
        submission.submit(colleague(organisation), bid, seen_version)

    assert submissions() == [] and fresh(bid).status == rules.DRAFT


@pytest.mark.parametrize("version", [None, 0, 99])
def test_a_submission_that_does_not_name_the_bids_current_version_is_refused(owner, bid, version):
    with pytest.raises(submission.SubmissionRefused, match="Your bid changed"):
        submission.submit(owner, bid, version)
    assert submissions() == []


def test_a_double_submission_of_the_same_version_makes_one_version(owner, bid):
    version = fresh(bid).version
    first = submission.submit(owner, bid, version)
    second = submission.submit(owner, bid, version)

    assert [s.number for s in submissions(bid.id)] == [1]
    assert second.duplicate and second.submission.id == first.submission.id
    assert len(events("bid.submitted")) == 1


# Withdrawing and resubmitting -----------------------------------------------------------------------------

def test_withdrawing_makes_the_bid_editable_and_no_version_counts(owner, bid):
    submit(owner, bid)

    outcome = submission.withdraw(owner, fresh(bid), 1)

    [withdrawn] = submissions(bid.id)
    assert outcome.submission.id == withdrawn.id and withdrawn.withdrawn_at is not None
    current = fresh(bid)
    assert current.status == rules.WITHDRAWN and current.status in rules.EDITABLE
    assert submission.counting_submission(current) is None
    [event] = events("bid.withdrawn")
    assert event.details == {"version": 1}


def test_a_resubmission_is_a_new_version_with_its_own_receipt_and_only_the_latest_counts(owner, bid):
    submit(owner, bid)
    submission.withdraw(owner, fresh(bid), 1)
    changed = fresh(bid)
    changed.price_total = Decimal("119000.00")
    db.session.commit()

    submit(owner, changed)

    first, second = submissions(bid.id)
    assert (first.number, second.number) == (1, 2)
    assert first.withdrawn_at is not None and second.withdrawn_at is None
    assert first.sha256 != second.sha256
    assert json.loads(second.content)["price"]["total"] == "119000.00"
    assert submission.counting_submission(fresh(bid)).id == second.id
    assert [e.details["version"] for e in events("bid.submitted")] == [1, 2]


def test_the_counting_versions_of_an_opportunity_are_the_latest_not_withdrawn_of_each_bid(owner, bid, opportunity):
    submit(owner, bid)
    submission.withdraw(owner, fresh(bid), 1)
    submit(owner, bid)
    second_org = OrganisationFactory()
    withdrawn_bid = make_bid(opportunity, second_org)
    second_owner = provider(second_org)
    submit(second_owner, withdrawn_bid)
    submission.withdraw(second_owner, fresh(withdrawn_bid), 1)
    make_bid(opportunity, OrganisationFactory())  # a draft never submitted

    counting = db.session.execute(submission.counting_submissions_statement(opportunity.id)).scalars().all()

    assert [(s.bid_id, s.number) for s in counting] == [(bid.id, 2)]


def test_withdrawing_twice_changes_nothing_the_second_time(owner, bid):
    submit(owner, bid)
    first = submission.withdraw(owner, fresh(bid), 1)
    second = submission.withdraw(owner, fresh(bid), 1)

    assert second.duplicate and second.submission.id == first.submission.id
    assert len(events("bid.withdrawn")) == 1


def test_withdrawing_a_version_other_than_the_latest_is_refused(owner, bid):
    submit(owner, bid)
    submission.withdraw(owner, fresh(bid), 1)
    submit(owner, bid)

    with pytest.raises(submission.SubmissionRefused, match="Your bid changed after you opened this page"):
        submission.withdraw(owner, fresh(bid), 1)

    assert submission.counting_submission(fresh(bid)).number == 2


def test_a_draft_cannot_be_withdrawn(owner, bid):
    with pytest.raises(submission.SubmissionRefused, match="not submitted, so you cannot withdraw it"):
        submission.withdraw(owner, bid, 1)


def test_withdrawing_after_the_deadline_is_refused_and_the_version_still_counts(owner, bid, opportunity):
    submit(owner, bid)
    opportunity = db.session.get(Opportunity, opportunity.id)
    opportunity.submission_deadline = utcnow() - timedelta(seconds=1)
    db.session.commit()

    with pytest.raises(submission.SubmissionRefused, match="deadline"):
        submission.withdraw(owner, fresh(bid), 1)

    assert submission.counting_submission(fresh(bid)).number == 1 and fresh(bid).status == rules.SUBMITTED


# Receipts by email ----------------------------------------------------------------------------------------

def test_the_receipt_is_emailed_to_the_submitter_and_the_organisations_owner(organisation, owner, bid, mailbox):
    member = colleague(organisation, email="member@befriending.example", full_name="Max Member")

    submit(member, bid)

    [sealed] = submissions(bid.id)
    for address in ("member@befriending.example", "owner@befriending.example"):
        body = mailbox.last_body(address)
        assert sealed.sha256 in body and submission.receipt_time(sealed.submitted_at) in body
        assert "Max Member submitted" in body and "Version: 1" in body
        assert f"/opportunities/{bid.opportunity_id}/bid/versions/1" in body
        assert "MARKER-7731" not in body
    assert len(mailbox.to("member@befriending.example")) == 1 and len(mailbox.messages) == 2


def test_a_withdrawal_is_emailed_with_the_withdrawn_versions_receipt(owner, bid, mailbox):
    submit(owner, bid)
    mailbox.clear()

    submission.withdraw(owner, fresh(bid), 1)

    body = mailbox.last_body("owner@befriending.example")
    assert "withdrew version 1" in body and submissions(bid.id)[0].sha256 in body
    assert mailbox.to("owner@befriending.example")[0]["Subject"].startswith("Bid withdrawn")


@pytest.mark.parametrize("app_overrides", [{"BASE_URL": "https://marketplace.kent.example"}])
def test_receipt_and_withdrawal_emails_link_to_the_services_address_whatever_host_the_request_came_to(
        owner, bid, mailbox):
    submit(owner, bid)
    receipt = mailbox.last_body("owner@befriending.example")
    submission.withdraw(owner, fresh(bid), 1)
    withdrawal = mailbox.last_body("owner@befriending.example")

    assert f"https://marketplace.kent.example/opportunities/{bid.opportunity_id}/bid/versions/1" in receipt
    assert f"https://marketplace.kent.example/opportunities/{bid.opportunity_id}/bid/check" in withdrawal
    assert "http://localhost" not in receipt + withdrawal


def test_receipt_times_are_in_uk_time_to_the_second():
    from datetime import datetime, timezone

    assert submission.receipt_time(datetime(2027, 7, 1, 13, 5, 9, tzinfo=timezone.utc)) == "1 July 2027 at 2:05:09pm"
    assert submission.receipt_time(datetime(2027, 1, 1, 0, 0, 1, tzinfo=timezone.utc)) == "1 January 2027 at 12:00:01am"


def test_the_audit_chain_verifies_after_submissions_and_withdrawals(owner, bid):
    submit(owner, bid)
    submission.withdraw(owner, fresh(bid), 1)
    submit(owner, bid)

    assert verify_database().ok and verify_database().checked == 3
