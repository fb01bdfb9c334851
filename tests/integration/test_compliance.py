"""Compliance on a real database: each pass/fail criterion and check recorded with its note, compliant or
excluded with a reason, read by the engine bridge; the release of the compliant bids to a complete panel; and who
may read an opened bid and download its documents."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from marketplace import documents
from marketplace.bids import rules
from marketplace.bids.models import Bid, BidDocument
from marketplace.errors import DomainError
from marketplace.evaluation import access, compliance, panel, results
from marketplace.evaluation.models import MODERATOR, ComplianceCheck
from marketplace.extensions import db
from marketplace.opportunities.services import Invalid, NotAllowed
from marketplace.organisations.models import Organisation
from tests.factories import provider
from tests.integration.test_evaluation_panel import (
    comply_all,
    declare_clear,
    events,
    full_panel,
    opened,
    pass_all,
    released,
    seat,
    staff,
)
from tests.staff_fixtures import author, officer, request_context  # noqa: F401 (fixtures)


@pytest.fixture()
def panel_people():
    return staff("Eve Evaluator"), staff("Sol Scorer"), staff("Mo Moderator")


@pytest.fixture()
def opened_bids(officer, author):
    opportunity, bids = opened(officer, author)
    return opportunity, compliance.opened_bids(opportunity.id)


def pass_fail_id(opportunity) -> int:
    return next(c.id for c in results.evaluation_criteria(opportunity) if c.kind == "pass_fail")


def test_each_bid_is_checked_on_its_pass_fail_criteria_beside_the_bidders_own_confirmation(opened_bids):
    opportunity, rows = opened_bids
    items = compliance.items_for(opportunity, rows[0].content)
    assert [(i.key, i.label, i.bidder_says) for i in items] == [
        (f"criterion-{pass_fail_id(opportunity)}", "Safeguarding policy in place", "The bidder confirms it meets this"),
        ("documents", "Documents present and readable", "1 document listed"),
        ("declarations", "Declarations made", "Both confirmations given; no conflicts of interest"),
        ("price", "Price complete", "Total £120,000; 1 line in the schedule"),
    ]


def test_a_compliant_decision_stores_every_check_for_the_engine_and_is_audited(officer, opened_bids):
    opportunity, rows = opened_bids
    answers = pass_all(opportunity, rows[0])
    answers["documents"] = compliance.Answer("documents", True, "All open")
    compliance.record(officer, opportunity, rows[0], answers, True, "ignored when compliant")
    check = db.session.execute(sa.select(ComplianceCheck)).scalar_one()
    key = f"criterion-{pass_fail_id(opportunity)}"
    assert check.compliant and check.reason == "" and check.recorded_by_id == officer.id
    assert check.checks[0] == {"key": key, "label": "Safeguarding policy in place", "passed": True, "note": ""}
    assert check.checks[1]["note"] == "All open"
    assert db.session.get(Bid, rows[0].bid.id).status == rules.COMPLIANT
    assert results._pass_fail(check, results.evaluation_criteria(opportunity)) == {
        str(pass_fail_id(opportunity)): True}
    [event] = events("evaluation.compliance_recorded")
    assert event.object_id == str(rows[0].bid.id) and event.details["compliant"] is True


def test_every_problem_with_a_decision_is_reported_at_once_and_nothing_is_saved(officer, opened_bids):
    opportunity, rows = opened_bids
    answers = pass_all(opportunity, rows[0])
    answers["documents"] = compliance.Answer("documents", False, "  ")
    answers.pop("price")
    with pytest.raises(Invalid) as refused:
        compliance.record(officer, opportunity, rows[0], answers, False, "")
    assert [(e.field, e.message) for e in refused.value.errors] == [
        ("note_documents", "Say why ‘Documents present and readable’ is not met"),
        ("passed_price", "Select whether ‘Price complete’ is met"),
        ("reason", "Give the reason for excluding the bid: the bidder is told it"),
    ]
    assert db.session.execute(sa.select(ComplianceCheck)).scalars().all() == []
    assert db.session.get(Bid, rows[0].bid.id).status == rules.OPENED


def test_a_bid_failing_a_pass_fail_criterion_cannot_be_compliant(officer, opened_bids):
    opportunity, rows = opened_bids
    key = f"criterion-{pass_fail_id(opportunity)}"
    answers = {**pass_all(opportunity, rows[0]), key: compliance.Answer(key, False, "No policy attached")}
    with pytest.raises(Invalid, match="cannot be compliant"):
        compliance.record(officer, opportunity, rows[0], answers, True, "")
    compliance.record(officer, opportunity, rows[0], answers, False, "No safeguarding policy")
    bid = db.session.get(Bid, rows[0].bid.id)
    assert bid.status == rules.EXCLUDED
    assert db.session.execute(sa.select(ComplianceCheck)).scalar_one().reason == "No safeguarding policy"


def test_a_decision_can_change_until_release_and_each_change_is_audited(officer, opened_bids):
    opportunity, rows = opened_bids
    compliance.record(officer, opportunity, rows[0], pass_all(opportunity, rows[0]), False, "Late documents")
    row = compliance.opened_bid(opportunity.id, rows[0].bid.id)
    compliance.record(officer, opportunity, row, pass_all(opportunity, row), True, "")
    assert db.session.execute(sa.select(ComplianceCheck)).scalar_one().compliant
    assert len(events("evaluation.compliance_changed")) == 1


def test_only_a_procurement_officer_checks_compliance(author, opened_bids):
    opportunity, rows = opened_bids
    with pytest.raises(NotAllowed):
        compliance.record(author, opportunity, rows[0], pass_all(opportunity, rows[0]), True, "")


# Release ---------------------------------------------------------------------------------------------------

def test_release_waits_for_every_decision_and_a_complete_declared_panel(officer, author, panel_people, mailbox):
    eve, sol, mo = panel_people
    opportunity, _ = opened(officer, author)
    with pytest.raises(compliance.ReleaseRefused) as refused:
        compliance.release(officer, opportunity)
    assert refused.value.problems == [
        "Record the compliance decision on 3 bids: Bidder 1 Community Interest Company, Bidder 2 Community Interest "
        "Company, Bidder 3 Community Interest Company",
        "Assign at least one evaluator", "Assign a moderator"]
    comply_all(officer, opportunity)
    quality = results.people_scored(results.evaluation_criteria(opportunity))[0]
    seat(officer, opportunity, eve, criteria=[quality.id])
    seat(officer, opportunity, mo, MODERATOR)
    with pytest.raises(compliance.ReleaseRefused) as refused:
        compliance.release(officer, opportunity)
    assert refused.value.problems == ["No evaluator scores ‘Social value for Kent residents’: assign one",
                                      "Mo Moderator has not declared conflicts of interest yet",
                                      "Eve Evaluator has not declared conflicts of interest yet"]
    assert access.evaluation_of(opportunity.id).released_at is None
    seat(officer, opportunity, sol)
    declare_clear(opportunity, eve, sol, mo)
    compliance.release(officer, opportunity)
    evaluation = access.evaluation_of(opportunity.id)
    assert evaluation.released_at is not None and evaluation.released_by_id == officer.id
    assert "released the compliant bids" in mailbox.last_body(sol.email)
    assert events("evaluation.released")[0].details["compliant_bid_ids"]
    with pytest.raises(DomainError, match="already released"):
        compliance.release(officer, opportunity)


def test_release_is_refused_when_no_bid_is_compliant(officer, author, panel_people):
    opportunity, bids = opened(officer, author)
    comply_all(officer, opportunity, excluded=tuple(b.id for b in bids))
    full_panel(officer, opportunity, *panel_people[:2])
    declare_clear(opportunity, *panel_people[:2])
    with pytest.raises(compliance.ReleaseRefused, match="No bid is compliant"):
        compliance.release(officer, opportunity)


def test_compliance_is_fixed_once_the_bids_are_released(officer, author, panel_people):
    opportunity, bids = released(officer, author, panel_people[:2])
    row = compliance.opened_bid(opportunity.id, bids[0].id)
    with pytest.raises(DomainError, match="can no longer change"):
        compliance.record(officer, opportunity, row, pass_all(opportunity, row), False, "Second thoughts")
    assert db.session.get(Bid, bids[0].id).status == rules.COMPLIANT


# Reading a bid and its documents --------------------------------------------------------------------------

def test_panel_members_read_only_compliant_bids_only_after_release_and_only_while_cleared(officer, author,
                                                                                      panel_people):
    eve, sol, mo = panel_people
    opportunity, bids = opened(officer, author)
    comply_all(officer, opportunity, excluded=(bids[2].id,))
    full_panel(officer, opportunity, eve, sol, moderator=mo)
    declare_clear(opportunity, eve, sol, mo)
    assert compliance.readable_bid(officer, opportunity, bids[2].id) is not None
    assert compliance.readable_bid(eve, opportunity, bids[0].id) is None  # not released yet
    compliance.release(officer, opportunity)
    assert compliance.readable_bid(eve, opportunity, bids[0].id).organisation == "Bidder 1 Community Interest Company"
    assert compliance.readable_bid(mo, opportunity, bids[1].id) is not None
    assert compliance.readable_bid(eve, opportunity, bids[2].id) is None  # excluded
    assert compliance.readable_bid(author, opportunity, bids[0].id) is None  # not on the panel
    panel.declare_later_conflict(eve, opportunity, "Bidder 1's chair is my neighbour")
    assert compliance.readable_bid(eve, opportunity, bids[0].id) is None


def test_a_document_downloads_only_for_those_who_may_read_the_bid_and_only_while_it_matches(officer, author,
                                                                                         panel_people):
    opportunity, bids = released(officer, author, panel_people[:2])
    document = db.session.execute(sa.select(BidDocument).where(BidDocument.bid_id == bids[0].id)).scalar_one()
    stored, path = compliance.document_to_download(officer, opportunity, bids[0].id, document.id)
    assert stored.id == document.id and path.read_bytes().startswith(b"%PDF")
    assert compliance.document_to_download(panel_people[0], opportunity, bids[0].id, document.id) is not None
    bidder = provider(db.session.get(Organisation, bids[0].organisation_id))
    assert compliance.document_to_download(bidder, opportunity, bids[0].id, document.id) is None
    assert compliance.document_to_download(author, opportunity, bids[0].id, document.id) is None
    assert compliance.document_to_download(officer, opportunity, bids[1].id, document.id) is None  # another bid's
    documents.path_for(document.storage_key).write_bytes(b"%PDF-1.7 altered")
    row = compliance.opened_bid(opportunity.id, bids[0].id)
    assert [d.state for d in compliance.sealed_documents(row)] == ["changed"]
    assert compliance.document_to_download(officer, opportunity, bids[0].id, document.id) is None


def test_the_progress_counts_decisions_once_bids_are_opened(officer, author):
    opportunity, bids = opened(officer, author)
    row = compliance.opened_bid(opportunity.id, bids[0].id)
    compliance.record(officer, opportunity, row, pass_all(opportunity, row), True, "")
    progress = compliance.progress(opportunity)
    assert (progress.opened, progress.checked, progress.compliant, len(progress.bids)) == (True, 1, 1, 3)
    assert not progress.released and progress.release_problems
