"""The read-only JSON API: published opportunities with the public search's filters, awarded contracts, and an
OpenAPI 3.1 description that covers every route and matches what the routes answer."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from jsonschema import Draft202012Validator

from marketplace.awards.models import Award, Contract
from marketplace.extensions import db
from marketplace.opportunities.models import Amendment
from marketplace.organisations.models import Organisation
from marketplace.timeutil import utcnow
from marketplace.transparency.openapi import document
from tests.builders import closed_with_bids, make_opportunity
from tests.staff_fixtures import author, request_context  # noqa: F401 (fixtures)


def body(response, status: int = 200) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()


def references(listing: dict) -> list[str]:
    return [item["reference"] for item in listing["data"]]


def add_contract(opportunity, bid, reference: str, value: str = "100000.00", category: str | None = None) -> Contract:
    organisation = db.session.get(Organisation, bid.organisation_id)
    now = utcnow()
    award = Award(opportunity_id=opportunity.id, bid_id=bid.id, status="confirmed", reasons="Best value",
                  notice_published_at=now - timedelta(days=12), confirmed_at=now - timedelta(days=1))
    db.session.add(award)
    db.session.flush()
    contract = Contract(reference=reference, opportunity_id=opportunity.id, award_id=award.id, bid_id=bid.id,
                        organisation_id=organisation.id, title=opportunity.title,
                        category=category or opportunity.category, supplier_name=organisation.legal_name,
                        supplier_org_type=organisation.org_type, supplier_size=organisation.size,
                        supplier_is_vcse=organisation.is_vcse, supplier_is_sme=organisation.is_sme,
                        supplier_kent_based=organisation.kent_based, value=Decimal(value),
                        start_date=date(2027, 4, 1), end_date=date(2029, 3, 31), awarded_at=award.confirmed_at)
    opportunity.status = "awarded"
    db.session.add(contract)
    db.session.commit()
    return contract


# Opportunities ------------------------------------------------------------------------------------------

def test_the_list_shows_open_published_opportunities_like_the_public_search(client, author):
    open_one = make_opportunity(author, title="Befriending in Thanet")
    make_opportunity(author, status="draft", published_at=None, title="Draft befriending")
    make_opportunity(author, published_at=utcnow() + timedelta(days=1))
    closed = make_opportunity(author, submission_deadline=utcnow() - timedelta(hours=1))
    listing = body(client.get("/api/v1/opportunities"))
    assert references(listing) == [open_one.reference]
    assert listing["meta"] == {"page": 1, "per_page": 20, "total": 1, "pages": 1}
    [item] = listing["data"]
    assert item["status"] == {"code": "published", "label": "Open"}
    assert item["estimated_value"] == "300000.00" and item["currency"] == "GBP"
    assert item["links"]["html"] == f"http://localhost/opportunities/{open_one.id}"
    everything = body(client.get("/api/v1/opportunities?status=any"))
    assert set(references(everything)) == {open_one.reference, closed.reference}


def test_filters_narrow_the_list_as_they_do_on_the_search_page(client, author):
    care = make_opportunity(author, category="adult-social-care", localities=["thanet"])
    libraries = make_opportunity(author, category="community-and-libraries", localities=["dover"],
                                 title="Library outreach")
    assert references(body(client.get("/api/v1/opportunities?category=community-and-libraries"))) == \
        [libraries.reference]
    assert references(body(client.get("/api/v1/opportunities?locality=thanet"))) == [care.reference]
    assert references(body(client.get("/api/v1/opportunities?q=library+outreach"))) == [libraries.reference]
    both = body(client.get("/api/v1/opportunities?category=adult-social-care&category=community-and-libraries"))
    assert set(references(both)) == {care.reference, libraries.reference}


@pytest.mark.parametrize("app_overrides", [{"PAGE_SIZE": 2}])
def test_the_list_is_paginated_with_links_that_keep_the_filters(client, author):
    for _ in range(3):
        make_opportunity(author, category="public-health")
    first = body(client.get("/api/v1/opportunities?category=public-health"))
    assert first["meta"]["pages"] == 2 and first["links"]["prev"] is None
    assert first["links"]["next"] == "http://localhost/api/v1/opportunities?category=public-health&page=2"
    second = body(client.get(first["links"]["next"]))
    assert len(second["data"]) == 1 and second["links"]["next"] is None


@pytest.mark.parametrize("query, message", [
    ("category=space-travel", "Unknown category ‘space-travel’. Use one of: adult-social-care,"),
    ("status=secret", "Unknown status ‘secret’. Use one of: open, closed, awarded, cancelled, any."),
    ("colour=blue", "Unknown parameter ‘colour’. This list accepts: q, category, locality, value,"),
    ("sort=newest&sort=closing", "Give ‘sort’ once."),
    ("page=-1", "The page must be a whole number from 1 to 1,000,000; ‘-1’ is not."),
    ("page=2", "There is no page 2: the last page is 1."),
    ("page=1e9", "The page must be a whole number from 1 to 1,000,000; ‘1e9’ is not."),
    ("page=%C2%B2", "The page must be a whole number from 1 to 1,000,000; ‘²’ is not."),
    ("page=" + "9" * 5000, "The page must be a whole number from 1 to 1,000,000; ‘99999999999999999999’ is not."),
])
def test_a_filter_or_page_the_api_does_not_know_answers_400_naming_it(client, author, query, message):
    make_opportunity(author)
    error = body(client.get(f"/api/v1/opportunities?{query}"), 400)["error"]
    assert error["status"] == 400 and error["message"].startswith(message)


def test_an_opportunity_has_the_fields_its_public_page_shows(client, author):
    opportunity = make_opportunity(author, lots=1, outcomes=["Fewer people feel lonely"])
    opportunity.amendments.append(Amendment(summary="More time to bid", changes_requirements=False,
                                            previous_deadline=opportunity.submission_deadline,
                                            new_deadline=opportunity.submission_deadline + timedelta(days=2)))
    db.session.commit()
    found = body(client.get(f"/api/v1/opportunities/{opportunity.reference}"))
    assert found["title"] == "Befriending for older people in Thanet"
    assert found["outcomes"] == ["Fewer people feel lonely"]
    assert found["localities"] == [{"code": "thanet", "label": "Thanet"}]
    assert found["lots"][0]["estimated_value"] == "100000.00"
    assert [c["title"] for c in found["evaluation"][0]["criteria"]][-1] == "Price"
    assert found["amendments"][0]["summary"] == "More time to bid"
    assert found["contact"] == {"name": "Commissioning team", "email": "commissioning@kent.example"}
    assert found["contracts"] == [] and found["cancel_reason"] is None


@pytest.mark.parametrize("overrides", [dict(status="draft", published_at=None),
                                       dict(published_at=utcnow() + timedelta(days=1))], ids=["draft", "scheduled"])
def test_an_opportunity_the_public_cannot_see_answers_404(client, author, overrides):
    opportunity = make_opportunity(author, **overrides)
    error = body(client.get(f"/api/v1/opportunities/{opportunity.reference}"), 404)["error"]
    assert error["message"] == f"No published opportunity has the reference ‘{opportunity.reference}’."


# Contracts ----------------------------------------------------------------------------------------------

def test_contracts_list_newest_first_with_the_register_s_fields_and_filters(client, author):
    opportunity, bids = closed_with_bids(author)
    first = add_contract(opportunity, bids[0], "KCC-C-0001", category="public-health")
    second = add_contract(opportunity, bids[1], "KCC-C-0002")
    listing = body(client.get("/api/v1/contracts"))
    assert references(listing) == [second.reference, first.reference]
    record = listing["data"][1]
    assert record["supplier"]["name"] == "Bidder 1 Community Interest Company"
    assert record["supplier"]["charity_number"] is not None and record["supplier"]["is_vcse"] is True
    assert record["value"] == "100000.00" and record["start_date"] == "2027-04-01"
    assert record["procurement_route"] == {"code": "open", "label": "Open procedure"}
    assert references(body(client.get("/api/v1/contracts?category=public-health"))) == [first.reference]
    assert references(body(client.get("/api/v1/contracts?q=bidder+2"))) == [second.reference]
    assert body(client.get("/api/v1/contracts?category=nonsense"), 400)["error"]["message"].startswith(
        "Unknown category ‘nonsense’.")


def test_a_contract_is_found_by_its_reference_and_an_unknown_one_answers_404(client, author):
    opportunity, bids = closed_with_bids(author)
    contract = add_contract(opportunity, bids[0], "KCC-C-0009")
    found = body(client.get(f"/api/v1/contracts/{contract.reference}"))
    assert found["opportunity"]["reference"] == opportunity.reference
    assert body(client.get("/api/v1/opportunities/" + opportunity.reference))["contracts"] == [
        {"reference": "KCC-C-0009", "links": {"self": "http://localhost/api/v1/contracts/KCC-C-0009"}}]
    assert body(client.get("/api/v1/contracts/KCC-C-9999"), 404)["error"]["message"] == \
        "No published contract has the reference ‘KCC-C-9999’."


# The OpenAPI description ---------------------------------------------------------------------------------

def described_path(rule: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)


def test_every_api_and_open_data_route_is_described(app, client):
    served = {described_path(rule.rule) for rule in app.url_map.iter_rules()
              if rule.endpoint.startswith(("transparency.api_", "transparency.ocds_"))}
    described = body(client.get("/api/v1/openapi.json"))
    assert described["openapi"] == "3.1.0"
    assert served == set(described["paths"])


def validator_for(schema_name: str) -> Draft202012Validator:
    root = {"$ref": f"#/components/schemas/{schema_name}", "components": document()["components"]}
    return Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)


def test_each_response_matches_the_schema_the_description_gives_it(client, author):
    opportunity, bids = closed_with_bids(author, lots=1, outcomes=["Less loneliness"])
    contract = add_contract(opportunity, bids[0], "KCC-C-0100")
    make_opportunity(author)
    answers = {
        "/api/v1/opportunities?status=any": "OpportunityList",
        f"/api/v1/opportunities/{opportunity.reference}": "Opportunity",
        "/api/v1/contracts": "ContractList",
        f"/api/v1/contracts/{contract.reference}": "Contract",
        "/api/v1/opportunities?page=9": "Error",
        "/api/v1/contracts/nothing": "Error",
        f"/opportunities/{opportunity.id}/ocds.json": "ReleasePackage",
    }
    for url, schema in answers.items():
        response = client.get(url)
        problems = [e.message for e in validator_for(schema).iter_errors(response.get_json())]
        assert problems == [], url


def test_the_description_s_schemas_are_closed_so_a_new_field_must_be_described():
    opportunity = validator_for("OpportunitySummary")
    assert not opportunity.is_valid({"reference": "KCC-1"})
    contract = validator_for("Error")
    assert not contract.is_valid({"error": {"status": 400, "message": "x", "extra": True}})


@pytest.mark.parametrize("list_path", ["/api/v1/opportunities", "/api/v1/contracts", "/data/ocds/releases.json"])
def test_every_described_query_parameter_is_accepted_with_each_described_value(client, list_path):
    for parameter in document()["paths"][list_path]["get"]["parameters"]:
        schema = parameter["schema"].get("items", parameter["schema"])
        for value in schema.get("enum", ["1" if parameter["name"] == "page" else "care"]):
            response = client.get(list_path, query_string={parameter["name"]: value})
            assert response.status_code == 200, (parameter["name"], value, response.get_json())
