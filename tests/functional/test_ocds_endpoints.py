"""The public open contracting data over HTTP: a release package per published opportunity and the bulk pages.
Drafts answer 404; bad page numbers 400 with a message; before the deadline no bid, not even a count, appears in
the releases or the API."""

from __future__ import annotations

from datetime import timedelta

import pytest

from marketplace.bids import submission
from marketplace.timeutil import utcnow
from marketplace.transparency.ocds_validate import validate_package
from tests.builders import make_bid, make_opportunity
from tests.factories import OrganisationFactory, StaffFactory, provider
from tests.staff_fixtures import author, request_context  # noqa: F401 (fixtures)


def body(response) -> dict:
    assert response.mimetype == "application/json"
    return response.get_json()


def test_a_published_opportunity_s_release_package_is_public_and_valid(client, author):
    opportunity = make_opportunity(author)
    response = client.get(f"/opportunities/{opportunity.id}/ocds.json")
    assert response.status_code == 200
    package = body(response)
    assert validate_package(package) == []
    assert package["uri"] == f"http://localhost/opportunities/{opportunity.id}/ocds.json"
    assert [r["tender"]["id"] for r in package["releases"]] == [opportunity.reference]


@pytest.mark.parametrize("overrides", [dict(status="draft", published_at=None),
                                       dict(status="awaiting_approval", published_at=None),
                                       dict(published_at=utcnow() + timedelta(days=2))],
                         ids=["draft", "awaiting approval", "publication still to come"])
def test_an_opportunity_the_public_cannot_see_has_no_release_package_even_for_staff(as_user, author, overrides):
    opportunity = make_opportunity(author, **overrides)
    client = as_user(StaffFactory(roles=["procurement_officer"]))
    response = client.get(f"/opportunities/{opportunity.id}/ocds.json")
    assert response.status_code == 404
    assert body(response) == {"error": {"status": 404, "message": "No published opportunity has this number."}}
    assert opportunity.reference not in client.get("/data/ocds/releases.json").get_data(as_text=True)


def test_an_unknown_opportunity_number_answers_404_json(client):
    assert client.get("/opportunities/999999/ocds.json").status_code == 404


def test_before_the_deadline_no_page_or_api_shows_any_bid_not_even_a_count(client, author):
    opportunity = make_opportunity(author)
    organisation = OrganisationFactory(legal_name="Sealed Bidder Trust")
    bid = make_bid(opportunity, organisation, marker="sealed-marker")
    submission.submit(provider(organisation), bid, bid.version)
    for url in (f"/opportunities/{opportunity.id}/ocds.json", "/data/ocds/releases.json",
                "/api/v1/opportunities", f"/api/v1/opportunities/{opportunity.reference}"):
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.get_data(as_text=True)
        assert opportunity.reference in text, url
        for sealed in ("Sealed Bidder Trust", "sealed-marker", "numberOfTenderers", '"bids"', "statistics",
                       "125000"):
            assert sealed not in text, (url, sealed)


@pytest.mark.parametrize("app_overrides", [{"PAGE_SIZE": 2}])
def test_the_bulk_releases_come_a_page_at_a_time_with_a_link_to_the_next(client, author):
    references = [make_opportunity(author).reference for _ in range(3)]
    first = body(client.get("/data/ocds/releases.json"))
    assert first["links"] == {"next": "http://localhost/data/ocds/releases.json?page=2"}
    second = body(client.get(first["links"]["next"]))
    assert "next" not in second["links"]
    assert [r["tender"]["id"] for r in first["releases"] + second["releases"]] == references
    assert validate_package(first) == [] and validate_package(second) == []


@pytest.mark.parametrize("query, message", [
    ("page=abc", "The page must be a whole number from 1 to 1,000,000; ‘abc’ is not."),
    ("page=0", "The page must be a whole number from 1 to 1,000,000; ‘0’ is not."),
    ("page=99999999999999999999", "The page must be a whole number from 1 to 1,000,000; "
                                  "‘99999999999999999999’ is not."),
    ("page=5", "There is no page 5: the last page is 1."),
    ("page=1&page=2", "Give ‘page’ once."),
    ("sort=newest", "Unknown parameter ‘sort’. This list accepts: page."),
])
def test_a_bad_page_of_bulk_releases_answers_400_with_a_message(client, author, query, message):
    make_opportunity(author)
    response = client.get(f"/data/ocds/releases.json?{query}")
    assert response.status_code == 400
    assert body(response) == {"error": {"status": 400, "message": message}}


def test_with_nothing_published_the_bulk_endpoint_answers_an_empty_first_page(client):
    package = body(client.get("/data/ocds/releases.json"))
    assert package["releases"] == [] and "links" not in package
    assert package["version"] == "1.1"
