"""Opening, compliance, release and reading opened bids over HTTP: the printable opening record with every
receipt hash, a stopped opening, the compliance form's refusals, the release from the overview, and who may read
an opened bid and download its documents (everyone else gets 404)."""

from __future__ import annotations

import html

import pytest
import sqlalchemy as sa

from marketplace.bids import rules
from marketplace.bids.models import Bid, BidDocument, BidSubmission
from marketplace.evaluation import access, compliance, panel, results
from marketplace.evaluation.models import ComplianceCheck, Evaluation
from marketplace.extensions import db
from marketplace.opportunities import lifecycle
from marketplace.opportunities.models import Opportunity
from marketplace.organisations.models import Organisation
from tests.builders import closed_with_bids, make_opportunity
from tests.factories import provider
from tests.integration.test_evaluation_panel import (
    comply_all,
    declare_clear,
    full_panel,
    opened,
    released,
    staff,
)
from tests.staff_fixtures import author, officer, request_context  # noqa: F401 (fixtures)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def evaluation(opportunity, suffix: str = "") -> str:
    return f"/commissioning/{opportunity.id}/evaluation{suffix}"


def versions() -> list[BidSubmission]:
    return list(db.session.execute(sa.select(BidSubmission).order_by(BidSubmission.bid_id)).scalars())


@pytest.fixture()
def people():
    return staff("Eve Evaluator"), staff("Sol Scorer")


# Opening ----------------------------------------------------------------------------------------------------

def test_the_officer_opens_the_bids_and_the_record_shows_every_receipt(client, as_user, author, officer):
    opportunity, bids = closed_with_bids(author)
    as_user(officer)
    page = text(client.get(evaluation(opportunity, "/opening")))
    assert "Open the bids" in page and "Bidder 1" not in page  # nothing of the bids before opening
    response = client.submit(evaluation(opportunity, "/opening"), page_url=evaluation(opportunity, "/opening"),
                             follow_redirects=True)
    body = text(response)
    assert "The bids are opened and every receipt is verified" in body and "Opening record" in body
    for version in versions():
        assert f"<code>{version.sha256}</code>" in body
    assert body.count("Matches") == 3 and "Bidder 2 Community Interest Company" in body
    db.session.expire_all()
    assert db.session.get(Opportunity, opportunity.id).status == lifecycle.EVALUATING


def test_a_second_opening_is_refused_with_a_message(client, as_user, author, officer):
    opportunity, _ = opened(officer, author)
    as_user(officer)
    response = client.submit(evaluation(opportunity, "/opening"), page_url=evaluation(opportunity, "/opening"),
                             follow_redirects=True)
    assert "The bids were already opened" in text(response)
    assert len(db.session.execute(sa.select(Evaluation)).scalars().all()) == 1


def test_before_the_deadline_there_is_no_open_button_and_a_post_is_refused(client, as_user, author, officer):
    opportunity = make_opportunity(author)
    as_user(officer)
    page = text(client.get(evaluation(opportunity, "/opening")))
    assert "Bids can be opened after the deadline" in page and ">Open the bids</button>" not in page
    response = client.submit(evaluation(opportunity, "/opening"), page_url=evaluation(opportunity, "/opening"),
                             follow_redirects=True)
    assert "Bids can be opened only after the deadline" in text(response)
    assert db.session.execute(sa.select(Evaluation)).first() is None


def test_a_tampered_bid_stops_the_opening_and_the_officer_is_told_which(client, as_user, author, officer):
    opportunity, bids = closed_with_bids(author)
    tampered = versions()[2]
    tampered.content = tampered.content.replace("135000.00", "35000.00")
    db.session.commit()
    as_user(officer)
    response = client.submit(evaluation(opportunity, "/opening"), page_url=evaluation(opportunity, "/opening"),
                             follow_redirects=True)
    body = text(response)
    assert "Opening stopped" in body and f"Bidder 3 Community Interest Company (bid {bids[2].id}, version 1)" in body
    db.session.expire_all()
    assert db.session.get(Opportunity, opportunity.id).status == lifecycle.CLOSED
    assert db.session.execute(sa.select(Evaluation)).first() is None


def test_only_officers_open_bids(client, as_user, author):
    opportunity, _ = closed_with_bids(author)
    as_user(author)
    response = client.submit(evaluation(opportunity, "/opening"), page_url="/commissioning")
    assert response.status_code == 404
    assert db.session.execute(sa.select(Evaluation)).first() is None


# Compliance ------------------------------------------------------------------------------------------------

def bid_page(opportunity, bid) -> str:
    return evaluation(opportunity, f"/bids/{bid.id}")


def compliance_form(opportunity, overrides: dict | None = None) -> dict:
    pass_fail = next(c for c in results.evaluation_criteria(opportunity) if c.kind == "pass_fail")
    data = {f"passed_criterion_{pass_fail.id}": "yes", "passed_documents": "yes", "passed_declarations": "yes",
            "passed_price": "yes", "decision": "compliant"}
    data.update(overrides or {})
    return data


def test_the_bid_page_shows_the_sealed_bid_its_documents_and_the_checks_with_the_bidders_confirmation(
        client, as_user, author, officer):
    opportunity, bids = opened(officer, author)
    as_user(officer)
    body = text(client.get(bid_page(opportunity, bids[0])))
    assert "Bidder 1 Community Interest Company’s bid" in body
    assert "We visit every week with trained volunteers bidder-1" in body  # the sealed answer
    assert "The bid: The bidder confirms it meets this." in body
    assert "Method statement bidder-1" in body and "the file matches its fingerprint" in body
    assert versions()[0].sha256 in body


def test_an_exclusion_without_a_reason_and_a_failure_without_a_note_are_refused_keeping_the_notes(
        client, as_user, author, officer):
    opportunity, bids = opened(officer, author)
    as_user(officer)
    data = compliance_form(opportunity, {"passed_documents": "no", "note_declarations": "Signed by the chair",
                                         "decision": "excluded", "reason": ""})
    response = client.submit(bid_page(opportunity, bids[0]), data)
    body = text(response)
    assert response.status_code == 200
    assert 'href="#note_documents">Say why ‘Documents present and readable’ is not met' in body
    assert 'href="#reason">Give the reason for excluding the bid' in body
    assert "Signed by the chair" in body
    assert db.session.execute(sa.select(ComplianceCheck)).first() is None


def test_a_compliance_decision_is_saved_and_listed(client, as_user, author, officer):
    opportunity, bids = opened(officer, author)
    as_user(officer)
    data = compliance_form(opportunity, {"passed_price": "no", "note_price": "No schedule", "decision": "excluded",
                                         "reason": "The price schedule is missing"})
    response = client.submit(bid_page(opportunity, bids[1]), data, follow_redirects=True)
    body = text(response)
    assert "The compliance decision on Bidder 2 Community Interest Company's bid is saved" in body
    assert "1 of 3 bids checked" in body and "The price schedule is missing" in body
    db.session.expire_all()
    assert db.session.get(Bid, bids[1].id).status == rules.EXCLUDED
    again = text(client.get(bid_page(opportunity, bids[1])))
    assert "No schedule" in again  # the recorded decision fills the form for a change


def test_garbage_in_the_compliance_form_is_refused_without_a_500(client, as_user, author, officer):
    opportunity, bids = opened(officer, author)
    as_user(officer)
    response = client.submit(bid_page(opportunity, bids[0]), compliance_form(opportunity, {"decision": "maybe"}))
    assert response.status_code == 200 and "Select whether the bid is compliant or excluded" in text(response)


# Release and reading -------------------------------------------------------------------------------------------

def test_the_overview_lists_what_stops_release_then_releases_from_its_button(client, as_user, author, officer,
                                                                             people, mailbox):
    eve, sol = people
    opportunity, bids = opened(officer, author)
    as_user(officer)
    body = text(client.get(evaluation(opportunity)))
    assert "What stops the release to the panel" in body and "Assign a moderator" in body
    assert "0 of 3 bids checked" in body
    comply_all(officer, opportunity)
    full_panel(officer, opportunity, eve, sol)
    declare_clear(opportunity, eve, sol)
    body = text(client.get(evaluation(opportunity)))
    assert "Release the bids to the panel" in body and "3 of 3 bids checked, 3 compliant" in body
    response = client.submit(evaluation(opportunity, "/release"), page_url=evaluation(opportunity),
                             follow_redirects=True)
    assert "The compliant bids are released to the panel" in text(response)
    assert access.evaluation_of(opportunity.id).released_at is not None
    assert mailbox.to(eve.email) and mailbox.to(sol.email)


def test_a_panel_member_reads_compliant_bids_after_release_but_never_an_excluded_one(client, as_user, author,
                                                                                    officer, people):
    eve, sol = people
    opportunity, bids = opened(officer, author)
    comply_all(officer, opportunity, excluded=(bids[2].id,))
    full_panel(officer, opportunity, eve, sol)
    as_user(eve)
    assert client.get(bid_page(opportunity, bids[0])).status_code == 404  # not declared, not released
    declare_clear(opportunity, eve, sol)
    as_user(officer)
    client.submit(evaluation(opportunity, "/release"), page_url=evaluation(opportunity))
    as_user(eve)
    body = text(client.get(bid_page(opportunity, bids[0])))
    assert "We visit every week with trained volunteers bidder-1" in body and "Compliance checks" not in body
    assert client.get(bid_page(opportunity, bids[2])).status_code == 404


def test_documents_download_as_attachments_only_for_those_who_may_read_the_bid(client, as_user, author, officer,
                                                                              people):
    opportunity, bids = released(officer, author, list(people))
    document = db.session.execute(sa.select(BidDocument).where(BidDocument.bid_id == bids[0].id)).scalar_one()
    url = evaluation(opportunity, f"/bids/{bids[0].id}/documents/{document.id}")
    as_user(officer)
    response = client.get(url)
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "no-store" in response.headers["Cache-Control"]
    as_user(people[0])
    assert client.get(url).status_code == 200
    as_user(provider(db.session.get(Organisation, bids[1].organisation_id)))  # another bidder
    assert client.get(url).status_code == 404
    as_user(author)  # council staff, not on the panel
    assert client.get(url).status_code == 404
    assert client.get(evaluation(opportunity, f"/bids/{bids[1].id}/documents/{document.id}")).status_code == 404


def test_a_conflict_declared_after_release_shuts_the_bid_pages(client, as_user, author, officer, people):
    opportunity, bids = released(officer, author, list(people))
    panel.declare_later_conflict(people[1], opportunity, "Bidder 1 is my landlord")
    as_user(people[1])
    assert client.get(bid_page(opportunity, bids[0])).status_code == 404
    assert compliance.readable_bid(people[0], opportunity, bids[0].id) is not None
