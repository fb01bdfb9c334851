"""Every busy page costs the same number of SQL queries however many rows lie behind it: each is rendered with N
rows and again with 3N, counting the statements sent to the database (SQLAlchemy's `before_cursor_execute`),
and the counts must be equal. A lazy load per row (an N+1) makes the second count larger and fails the test."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest

from marketplace.bids import submission
from marketplace.bids.models import ConsortiumMember, PriceLine, SocialValueCommitment
from marketplace.clarifications.models import PUBLIC, Question
from marketplace.extensions import db
from marketplace.opportunities.models import Amendment, Lot, OpportunityDocument
from marketplace.timeutil import utcnow
from tests.builders import make_bid, make_opportunity
from tests.factories import OrganisationFactory, StaffFactory, provider
from tests.sql import statements_sent as counted
from tests.staff_fixtures import author, lead, request_context  # noqa: F401

N = 4
VERSION = re.compile(r'name="version"[^>]*value="(\d+)"')


def queries(client, path: str, data: dict | None = None, expected: int = 200) -> int:
    """How many statements one request sends, once the page has been shown before (as a returning visitor sees
    it, with nothing left to warm up)."""
    if data is None:
        client.get(path)
    with counted() as statements:
        response = client.post(path, data=data) if data is not None else client.get(path)
    assert response.status_code == expected, response.status_code
    return len(statements)


def page_text(client, path: str) -> str:
    return client.get(path).get_data(as_text=True)


def published(author, count: int, **fields) -> list:
    return [make_opportunity(author, lots=1, **fields) for _ in range(count)]


# Public pages ----------------------------------------------------------------------------------------------

def test_the_opportunity_list_costs_the_same_queries_with_three_times_the_opportunities(client, author):
    published(author, N)
    few = queries(client, "/opportunities")
    published(author, 2 * N)
    many = queries(client, "/opportunities")

    assert f"{3 * N} opportunities found" in page_text(client, "/opportunities")
    assert many == few


def test_a_search_costs_the_same_queries_with_three_times_the_matches(client, author):
    path = "/opportunities?q=befriending&category=adult-social-care&locality=thanet&status=any&sort=newest"
    published(author, N)
    few = queries(client, path)
    published(author, 2 * N)
    many = queries(client, path)

    assert f"{3 * N} opportunities found" in page_text(client, path)
    assert many == few


def _grow_opportunity(opportunity, asker, start: int, count: int) -> None:
    """Lots, documents, amendments and published answers on one opportunity."""
    now = utcnow()
    for n in range(start, start + count):
        db.session.add_all([
            Lot(opportunity_id=opportunity.id, number=n + 2, title=f"District {n}", estimated_value=Decimal(1000)),
            OpportunityDocument(opportunity_id=opportunity.id, kind="other", title=f"Annex {n}",
                                filename=f"annex-{n}.pdf", content_type="application/pdf", size=1024,
                                sha256="0" * 64, storage_key=f"annex-{n}"),
            Amendment(opportunity_id=opportunity.id, summary=f"Amendment {n}", published_at=now),
            Question(opportunity_id=opportunity.id, organisation_id=asker.membership.organisation_id,
                     asked_by_id=asker.id, text=f"Question {n}?", published_text=f"Question {n}?",
                     asked_at=now - timedelta(hours=2), answer=f"Answer {n}.", visibility=PUBLIC,
                     answered_at=now - timedelta(hours=1)),
        ])
    db.session.commit()


def test_an_opportunity_page_costs_the_same_queries_with_three_times_the_lots_documents_and_answers(client, author):
    [opportunity] = published(author, 1)
    asker = provider()
    path = f"/opportunities/{opportunity.id}"
    _grow_opportunity(opportunity, asker, 0, N)
    few = queries(client, path)
    _grow_opportunity(opportunity, asker, N, 2 * N)
    many = queries(client, path)

    page = page_text(client, path)
    assert f"Answer {3 * N - 1}." in page and f"Annex {3 * N - 1}" in page and f"Amendment {3 * N - 1}" in page
    assert many == few


# A provider's pages ---------------------------------------------------------------------------------------

def _sealed_bids(author, organisation, owner, count: int) -> None:
    for opportunity in published(author, count):
        bid = make_bid(opportunity, organisation)
        submission.submit(owner, bid, bid.version)


def test_the_provider_dashboard_costs_the_same_queries_with_three_times_the_bids(client, author, as_user):
    organisation = OrganisationFactory()
    owner = provider(organisation)
    _sealed_bids(author, organisation, owner, N)
    as_user(owner)
    few = queries(client, "/bids")
    _sealed_bids(author, organisation, owner, 2 * N)
    many = queries(client, "/bids")

    assert f"{3 * N} bids in all" in page_text(client, "/bids")
    assert many == few


def _grow_bid(bid, count: int) -> None:
    for n in range(count):
        db.session.add_all([
            PriceLine(bid_id=bid.id, position=len(bid.price_lines) + n, description=f"Line {n}",
                      quantity=Decimal(1), unit="month", unit_price=Decimal(100)),
            SocialValueCommitment(bid_id=bid.id, measure="training_hours", quantity=Decimal(10), unit="hours"),
            ConsortiumMember(bid_id=bid.id, name=f"Partner {n}", org_type="charity", size="small", kent_based=True,
                             role="subcontractor", share=Decimal("0.01")),
        ])
    db.session.commit()


def _autosave(client, path: str, text: str) -> int:
    page = page_text(client, path)
    form = {"csrf_token": re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1),
            "version": VERSION.search(page).group(1), "text": text, "save_continue": "Save and continue"}
    return queries(client, path, form, expected=302)


def test_saving_an_answer_costs_the_same_queries_with_three_times_the_rest_of_the_bid(client, author, as_user):
    organisation = OrganisationFactory()
    owner = provider(organisation)
    opportunity = published(author, 1)[0]
    bid = make_bid(opportunity, organisation)
    criterion = next(c for c in opportunity.models[0].criteria if c.kind == "quality")
    path = f"/opportunities/{opportunity.id}/bid/answers/{criterion.id}"
    as_user(owner)
    _autosave(client, path, "We visit.")  # the first save in a process also reads the opportunity's questions
    _grow_bid(bid, N)
    few = _autosave(client, path, "We visit every week.")
    _grow_bid(bid, 2 * N)
    many = _autosave(client, path, "We visit every week, with trained volunteers.")

    db.session.expire_all()
    assert any(a.text == "We visit every week, with trained volunteers." for a in bid.answers)
    assert len(bid.members) == 1 + 3 * N
    assert many == few


# Council staff ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("status", ["", "awaiting_approval"])
def test_the_staff_opportunity_list_costs_the_same_queries_with_three_times_the_opportunities(
        client, as_user, lead, status):
    writers = [StaffFactory(roles=["commissioner"]) for _ in range(3)]
    path = f"/commissioning?status={status}"

    def write(count: int) -> None:
        for n in range(count):
            published(writers[n % len(writers)], 1, status="awaiting_approval")

    as_user(lead)
    write(N)
    few = queries(client, path)
    write(2 * N)
    many = queries(client, path)

    assert f"{3 * N} opportunities" in page_text(client, path)
    assert many == few
