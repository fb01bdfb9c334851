"""`flask seed-demo`'s bids: every state a bidder can reach on the seeded opportunities, consortium and staff-mutual
bids, sealed versions whose receipts verify against what the bid holds, nothing sealed after a deadline, something
on each demo provider's dashboard, and a second run that adds nothing."""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections import Counter
from decimal import Decimal

import pytest
import sqlalchemy as sa

from marketplace import documents
from marketplace.accounts.models import User
from marketplace.audit import AuditEvent, verify_database
from marketplace.bids import measures, rules, snapshot
from marketplace.bids.models import (
    Bid,
    BidAnswer,
    BidDocument,
    BidSubmission,
    ConsortiumMember,
    PriceLine,
    SocialValueCommitment,
)
from marketplace.bids.submission import counting_submission, counting_submissions_statement
from marketplace.extensions import db
from marketplace.opportunities import lifecycle
from marketplace.opportunities.models import Opportunity
from marketplace.organisations.choices import VCSE_TYPES
from marketplace.organisations.models import Organisation
from marketplace.timeutil import utcnow

BID_TABLES = (Bid, BidAnswer, PriceLine, SocialValueCommitment, ConsortiumMember, BidDocument, BidSubmission,
              AuditEvent)
AFTER_THE_DEADLINE = (lifecycle.CLOSED, lifecycle.EVALUATING, lifecycle.AWARD_RECOMMENDED, lifecycle.STANDSTILL,
                      lifecycle.AWARDED)
PROVIDER_LOGIN = re.compile(r"^\s+(provider\d+@example\.org)$", re.MULTILINE)


def rows(model) -> list:
    return list(db.session.execute(sa.select(model)).scalars())


def count(model) -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def opportunity_of(bid: Bid) -> Opportunity:
    return db.session.get(Opportunity, bid.opportunity_id)


def organisation_of(bid: Bid) -> Organisation:
    return db.session.get(Organisation, bid.organisation_id)


def state_of(bid: Bid) -> str:
    opportunity = opportunity_of(bid)
    return lifecycle.effective_state(opportunity.status, opportunity.submission_deadline, utcnow())


def resubmitted(bid: Bid) -> bool:
    return bid.status == rules.SUBMITTED and len(bid.submissions) >= 2


def complete(bid: Bid) -> bool:
    return snapshot.take(bid, opportunity_of(bid)).complete


# Every state ------------------------------------------------------------------------------------------------

def test_bids_are_seeded_in_every_state_a_bidder_reaches_and_evaluation_takes_them_further(seeded):
    assert set(Counter(bid.status for bid in rows(Bid))) == {
        rules.DRAFT, rules.SUBMITTED, rules.WITHDRAWN, "compliant", "excluded", "evaluated", "successful",
        "unsuccessful"}


def test_open_opportunities_have_half_done_and_ready_drafts_and_submitted_withdrawn_and_resubmitted_bids(seeded):
    on_open = [bid for bid in rows(Bid) if state_of(bid) == lifecycle.PUBLISHED]
    drafts = [bid for bid in on_open if bid.status == rules.DRAFT]
    assert {complete(bid) for bid in drafts} == {True, False}
    assert all(not bid.submissions for bid in drafts)
    assert any(bid.status == rules.SUBMITTED and len(bid.submissions) == 1 for bid in on_open)
    withdrawn = [bid for bid in on_open if bid.status == rules.WITHDRAWN]
    assert withdrawn and all(counting_submission(bid) is None for bid in withdrawn)
    assert all(s.withdrawn_at is not None for bid in withdrawn for s in bid.submissions)
    assert any(resubmitted(bid) for bid in on_open)


def test_a_resubmitted_bid_keeps_its_withdrawn_first_version_and_its_counting_second_with_two_receipts(seeded):
    bids = [bid for bid in rows(Bid) if resubmitted(bid)]
    assert len(bids) >= 2
    for bid in bids:
        first, second = bid.submissions
        assert (first.number, second.number) == (1, 2)
        assert first.withdrawn_at is not None and second.withdrawn_at is None
        assert first.submitted_at < first.withdrawn_at < second.submitted_at
        assert counting_submission(bid) is second
        assert first.sha256 != second.sha256


def test_opportunities_past_their_deadline_have_three_to_five_sealed_bids_to_open(seeded):
    later = [o for o in rows(Opportunity)
             if lifecycle.effective_state(o.status, o.submission_deadline, utcnow()) in AFTER_THE_DEADLINE]
    assert len(later) == 23  # the commissioning seed's, and those the evaluation seed adds
    for opportunity in later:
        counting = db.session.execute(counting_submissions_statement(opportunity.id)).scalars().all()
        assert 3 <= len(counting) <= 5, opportunity.title
    missed = [bid for bid in rows(Bid) if state_of(bid) in AFTER_THE_DEADLINE and counting_submission(bid) is None]
    assert {bid.status for bid in missed} == {rules.DRAFT, rules.WITHDRAWN}


def test_cancelled_opportunities_keep_the_bids_they_had(seeded):
    cancelled = [bid for bid in rows(Bid) if state_of(bid) == lifecycle.CANCELLED]
    assert {bid.status for bid in cancelled} == {rules.DRAFT, rules.SUBMITTED, "excluded"}  # one opened first
    for bid in cancelled:
        assert all(s.submitted_at < opportunity_of(bid).updated_at for s in bid.submissions)


def test_no_bid_is_seeded_on_an_opportunity_that_was_never_published(seeded):
    assert all(opportunity_of(bid).published_at is not None for bid in rows(Bid))


# Sealed versions ---------------------------------------------------------------------------------------------

def test_every_version_s_receipt_is_the_sha256_of_its_sealed_content(seeded):
    versions = rows(BidSubmission)
    assert len(versions) >= 80
    for version in versions:
        assert hashlib.sha256(version.content.encode("utf-8")).hexdigest() == version.sha256
        assert rules.canonical_json(json.loads(version.content)) == version.content


def test_each_counting_version_seals_exactly_what_the_bid_holds_so_it_verifies_at_opening(seeded):
    for bid in rows(Bid):
        version = counting_submission(bid)
        if version is not None:
            assert version.content == rules.canonical_json(snapshot.take(bid, opportunity_of(bid)).content)


def test_nothing_is_sealed_or_withdrawn_outside_the_bidding_window(seeded):
    now = utcnow()
    for bid in rows(Bid):
        opportunity = opportunity_of(bid)
        assert opportunity.published_at <= bid.created_at <= bid.updated_at <= now
        for version in bid.submissions:
            assert opportunity.published_at < version.submitted_at < opportunity.submission_deadline
            assert version.submitted_at < now
            if version.withdrawn_at is not None:
                assert version.submitted_at < version.withdrawn_at < opportunity.submission_deadline


# What the bids say --------------------------------------------------------------------------------------------

def test_submitted_and_ready_bids_are_complete_and_half_done_drafts_say_what_is_missing(seeded):
    for bid in rows(Bid):
        if bid.status == rules.SUBMITTED:
            assert complete(bid)
    half_done = [bid for bid in rows(Bid) if not complete(bid)]
    assert half_done and all(bid.status == rules.DRAFT and not bid.submissions for bid in half_done)
    assert all(snapshot.take(bid, opportunity_of(bid)).missing() for bid in half_done)


def test_bidders_meet_each_opportunity_s_reservation(seeded):
    for bid in rows(Bid):
        opportunity, organisation = opportunity_of(bid), organisation_of(bid)
        assert rules.eligibility_problem(opportunity.reservation, organisation.kent_based, organisation.is_sme,
                                         organisation.is_vcse) is None
    assert any(not organisation_of(bid).kent_based for bid in rows(Bid))


def test_a_prime_provider_shows_a_whole_consortium_with_kent_micro_vcses_and_a_registered_member(seeded):
    consortia = [bid for bid in rows(Bid) if bid.members]
    assert len(consortia) >= 5
    largest = max(consortia, key=lambda bid: len(bid.members))
    assert len(largest.members) >= 5
    assert {m.role for m in largest.members} == {"consortium_member", "subcontractor"}
    members = [m for bid in consortia for m in bid.members]
    assert sum(m.kent_based and m.size == "micro" and m.org_type in VCSE_TYPES for m in members) >= 5
    linked = [(bid, m) for bid in consortia for m in bid.members if m.linked_organisation_id]
    assert linked
    for bid, member in linked:
        registered = db.session.get(Organisation, member.linked_organisation_id)
        assert registered.id != bid.organisation_id
        assert (member.name, member.org_type, member.kent_based) == (registered.legal_name, registered.org_type,
                                                                   registered.kent_based)
    assert all(sum(Decimal(m.share) for m in bid.members) <= 1 for bid in consortia)


def test_staff_mutuals_bid_on_open_and_closed_opportunities_including_as_a_consortium_prime(seeded):
    mutual = [bid for bid in rows(Bid) if organisation_of(bid).org_type == "staff_mutual"]
    assert len({bid.organisation_id for bid in mutual}) >= 3
    assert {state_of(bid) for bid in mutual} >= {lifecycle.PUBLISHED, lifecycle.EVALUATING}
    assert any(bid.members and bid.status == rules.SUBMITTED for bid in mutual)


def test_complete_bids_carry_commitments_local_economy_prices_and_documents(seeded):
    full = [bid for bid in rows(Bid) if complete(bid)]
    for bid in full:
        assert 2 <= len(bid.commitments) <= 4
        for commitment in bid.commitments:
            assert commitment.unit == measures.BY_CODE[commitment.measure].unit and commitment.quantity > 0
        assert bid.kent_share is not None and bid.kent_jobs >= 1 and bid.local_economy_notes
        assert bid.documents
        if bid.price_lines:
            lines = sum(Decimal(line.quantity) * Decimal(line.unit_price) for line in bid.price_lines)
            assert lines.quantize(Decimal("0.01")) == bid.price_total
    assert any(bid.price_lines for bid in full) and any(not bid.price_lines for bid in full)
    assert any(bid.declared_conflicts == "declared" and bid.conflict_details for bid in full)


def test_each_document_is_a_stored_pdf_whose_fingerprint_matches_its_bytes(seeded):
    stored = rows(BidDocument)
    assert stored
    for document in stored:
        data = documents.path_for(document.storage_key).read_bytes()
        assert data.startswith(b"%PDF-") and document.content_type == "application/pdf"
        assert hashlib.sha256(data).hexdigest() == document.sha256 and len(data) == document.size


# Through the pages ------------------------------------------------------------------------------------------

def test_each_demo_provider_account_printed_by_seed_demo_has_bids_on_its_dashboard(seeded, client, as_user):
    logins = PROVIDER_LOGIN.findall(seeded.output)
    assert len(logins) == 5
    for email in logins:
        owner = db.session.execute(sa.select(User).filter_by(email=email)).scalar_one()
        bids = [bid for bid in rows(Bid) if bid.organisation_id == owner.membership.organisation_id]
        assert len(bids) >= 3, email
        as_user(owner)
        page = html.unescape(client.get("/bids").get_data(as_text=True))
        for bid in bids:
            assert opportunity_of(bid).title in page


def test_the_bidder_opens_a_seeded_version_with_its_receipt_and_downloads_its_document(seeded, client, as_user):
    bid = next(bid for bid in rows(Bid) if resubmitted(bid) and bid.documents)
    owner = next(m.user for m in organisation_of(bid).memberships)
    as_user(owner)
    for version in bid.submissions:
        page = client.get(f"/opportunities/{bid.opportunity_id}/bid/versions/{version.number}")
        assert page.status_code == 200 and version.sha256 in page.get_data(as_text=True)
    document = bid.documents[0]
    download = client.get(f"/opportunities/{bid.opportunity_id}/bid/documents/{document.id}")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert hashlib.sha256(download.data).hexdigest() == document.sha256


# Idempotent and audited ---------------------------------------------------------------------------------------

def test_seeding_twice_adds_no_bids_versions_or_documents(app, runner, seeded):
    before = {model.__name__: count(model) for model in BID_TABLES}
    files = len(list(documents.path_for("0" * 32 + ".pdf").parent.iterdir()))
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0, again.output
    assert {model.__name__: count(model) for model in BID_TABLES} == before
    assert len(list(documents.path_for("0" * 32 + ".pdf").parent.iterdir())) == files


def test_each_seeded_bid_has_one_audit_event_without_its_content_and_the_chain_verifies(seeded):
    events = [e for e in rows(AuditEvent) if e.action == "bid.seeded"]
    assert sorted(int(e.object_id) for e in events) == sorted(bid.id for bid in rows(Bid))
    assert all(e.actor_label == "seed-demo" for e in events)
    by_id = {bid.id: bid for bid in rows(Bid)}
    for event in events:
        bid = by_id[int(event.object_id)]
        if bid.status in (rules.DRAFT, rules.SUBMITTED, rules.WITHDRAWN):  # not since taken on by evaluation
            assert event.details["status"] == bid.status
        assert [v["sha256"] for v in event.details["versions"]] == [s.sha256 for s in bid.submissions]
        assert set(event.details) == {"opportunity_id", "organisation_id", "status", "versions"}
    assert verify_database().ok
