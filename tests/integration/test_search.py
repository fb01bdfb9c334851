"""Searching published opportunities on a real database: only public ones, every filter, keywords, sort,
county-wide work, pagination, and a query count that does not grow with the number of rows."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from werkzeug.datastructures import MultiDict

from marketplace.extensions import db
from marketplace.opportunities.models import Criterion, EvaluationModel, Lot, Opportunity
from marketplace.opportunities.search import SearchCriteria, search_statement
from marketplace.settings.models import Setting
from marketplace.timeutil import utcnow
from tests.sql import statements_sent

_numbers = itertools.count(1)


# Helpers shared with tests/integration/test_alerts.py and tests/functional/test_finding_work.py -------------

def make_opportunity(**overrides) -> Opportunity:
    """A published opportunity, open for bids for 20 more days. Times are relative to the server clock."""
    now = utcnow()
    number = next(_numbers)
    fields = {
        "reference": f"KCC-2027-{number:04d}",
        "title": f"Opportunity {number}",
        "summary": "A service for Kent residents.",
        "outcomes": [],
        "category": "adult-social-care",
        "localities": ["canterbury"],
        "estimated_value": Decimal("50000.00"),
        "status": "published",
        "published_at": now - timedelta(days=2),
        "publication_date": now - timedelta(days=2),
        "clarification_deadline": now + timedelta(days=10),
        "submission_deadline": now + timedelta(days=20),
        "contact_name": "Commissioning team",
        "contact_email": "commissioning@kent.example",
    }
    fields.update(overrides)
    opportunity = Opportunity(**fields)
    db.session.add(opportunity)
    db.session.commit()
    return opportunity


def add_model(opportunity: Opportunity, lot: Lot | None = None) -> EvaluationModel:
    """A typical model: a gate, quality, public value, Kent spend and price."""
    model = EvaluationModel(opportunity_id=opportunity.id, lot_id=lot.id if lot else None)
    model.criteria = [
        Criterion(position=0, kind="pass_fail", title="Safeguarding policy"),
        Criterion(position=1, kind="quality", title="How you will achieve the outcomes", weight=Decimal(40),
                  min_score=Decimal(2)),
        Criterion(position=2, kind="social_value", title="Volunteering and local skills", weight=Decimal(15)),
        Criterion(position=3, kind="local_economy", title="Spend with Kent-based subcontractors",
                  weight=Decimal(15), method="relative_highest"),
        Criterion(position=4, kind="price", title="Price", weight=Decimal(30), method="relative_lowest"),
    ]
    db.session.add(model)
    db.session.commit()
    return model


def add_lot(opportunity: Opportunity, number: int, title: str, value: str = "20000") -> Lot:
    lot = Lot(opportunity_id=opportunity.id, number=number, title=title, estimated_value=Decimal(value),
              description=f"The {title.lower()} lot.", localities=["thanet"])
    db.session.add(lot)
    db.session.commit()
    return lot


def set_threshold(value: str) -> None:
    db.session.add(Setting(key="procurement_threshold", value=value, updated_at=utcnow()))
    db.session.commit()


def found(threshold: str = "214904", **args) -> list[str]:
    """Titles of the opportunities a search with these query-string arguments finds, in order."""
    criteria = SearchCriteria.from_args(MultiDict(args))
    statement = search_statement(criteria, utcnow(), Decimal(threshold))
    return [o.title for o in db.session.execute(statement).scalars()]


# Only public opportunities ------------------------------------------------------------------------------

@pytest.mark.parametrize("status", ["draft", "awaiting_approval"])
@pytest.mark.parametrize("status_filter", ["open", "closed", "any"])
def test_drafts_and_opportunities_awaiting_approval_are_never_found(app, status, status_filter):
    make_opportunity(title="Hidden", status=status, published_at=None)
    make_opportunity(title="Hidden, but once published", status=status)
    make_opportunity(title="Visible")
    assert found(status=status_filter, q="") == (["Visible"] if status_filter in ("open", "any") else [])


def test_an_opportunity_is_not_found_before_its_publication_time(app):
    make_opportunity(title="Tomorrow", published_at=utcnow() + timedelta(days=1))
    make_opportunity(title="Today")
    assert found() == ["Today"]


# Status ---------------------------------------------------------------------------------------------------

@pytest.fixture()
def every_state(app):
    past = utcnow() - timedelta(hours=1)
    make_opportunity(title="Open")
    make_opportunity(title="Published, deadline passed", submission_deadline=past)
    for status in ("closed", "evaluating", "award_recommended", "standstill", "awarded", "cancelled"):
        make_opportunity(title=status.capitalize(), status=status, submission_deadline=past)


@pytest.mark.parametrize(("status", "expected"), [
    (None, {"Open"}),
    ("open", {"Open"}),
    ("closed", {"Published, deadline passed", "Closed", "Evaluating", "Award_recommended", "Standstill"}),
    ("awarded", {"Awarded"}),
    ("cancelled", {"Cancelled"}),
    ("any", {"Open", "Published, deadline passed", "Closed", "Evaluating", "Award_recommended", "Standstill",
             "Awarded", "Cancelled"}),
    ("draft", {"Open"}),  # not a choice: the default, open, applies
])
def test_the_status_filter_judges_closed_by_the_clock_and_defaults_to_open(every_state, status, expected):
    assert set(found(**({"status": status} if status else {}))) == expected


# Keywords -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("field", "value", "query"), [
    ("title", "Meals on Wheels in Thanet", "wheels"),
    ("summary", "Hot lunches delivered to older people at home.", "LUNCHES"),
    ("reference", "KCC-2027-9001", "kcc-2027-9001"),
    ("outcomes", ["Fewer hospital admissions", "Less loneliness"], "Loneliness"),
    ("outcomes", ["Better access to the café network"], "café"),
    ("outcomes", ['People say "I feel safe"'], '"i feel safe"'),
])
def test_keywords_match_title_summary_reference_and_outcomes_ignoring_case(app, field, value, query):
    make_opportunity(**{field: value, "title": value if field == "title" else "Match"})
    make_opportunity(title="Other", summary="Something else entirely.")
    assert found(q=query) == [value if field == "title" else "Match"]


def test_every_keyword_must_appear_but_in_any_field(app):
    make_opportunity(title="Community transport", summary="Minibuses for Dover")
    make_opportunity(title="Community meals", summary="Lunch clubs in Dover")
    make_opportunity(title="Home care", summary="Visits in Dover")
    assert found(q="community dover") == ["Community transport", "Community meals"]
    assert found(q="transport   DOVER") == ["Community transport"]


@pytest.mark.parametrize("query", ["%", "_", "100%", "a_b", "\\", "'; DROP TABLE opportunities; --"])
def test_wildcards_and_quotes_in_keywords_are_taken_literally(app, query):
    make_opportunity(title="Ordinary title")
    make_opportunity(title=f"Title with {query} in it")
    assert found(q=query) == [f"Title with {query} in it"]


# Filters --------------------------------------------------------------------------------------------------

def test_categories_match_any_of_those_chosen(app):
    make_opportunity(title="Care", category="adult-social-care")
    make_opportunity(title="Health", category="public-health")
    make_opportunity(title="Roads", category="highways-and-transport")
    assert found(category=["public-health", "adult-social-care"]) == ["Care", "Health"]
    assert found(category=["not-a-category"]) == ["Care", "Health", "Roads"]


@pytest.mark.parametrize(("chosen", "expected"), [
    (["dover"], ["Dover", "Dover and Thanet", "County-wide"]),
    (["thanet", "dover"], ["Dover", "Thanet", "Dover and Thanet", "County-wide"]),
    (["county-wide"], ["County-wide"]),
    (["medway"], ["Dover", "Thanet", "Dover and Thanet", "County-wide", "Dartford"]),  # not a Kent locality
])
def test_a_county_wide_opportunity_matches_every_district(app, chosen, expected):
    make_opportunity(title="Dover", localities=["dover"])
    make_opportunity(title="Thanet", localities=["thanet"])
    make_opportunity(title="Dover and Thanet", localities=["dover", "thanet"])
    make_opportunity(title="County-wide", localities=["county-wide"])
    make_opportunity(title="Dartford", localities=["dartford"])
    assert found(locality=chosen) == expected


@pytest.mark.parametrize(("value", "band"), [
    ("0.00", "under-25k"),
    ("24999.99", "under-25k"),
    ("25000.00", "25k-100k"),
    ("99999.99", "25k-100k"),
    ("100000.00", "100k-threshold"),
    ("214903.99", "100k-threshold"),
    ("214904.00", "over-threshold"),
    ("5000000.00", "over-threshold"),
])
def test_value_bands_include_their_lower_bound_and_meet_at_the_threshold(app, value, band):
    make_opportunity(title="This one", estimated_value=Decimal(value))
    assert found(value=band) == ["This one"]
    others = [key for key in ("under-25k", "25k-100k", "100k-threshold", "over-threshold") if key != band]
    assert found(value=others) == []


def test_the_threshold_band_follows_the_threshold_setting(app):
    make_opportunity(title="£150,000", estimated_value=Decimal("150000"))
    set_threshold("140000")
    assert found(threshold="140000", value="over-threshold") == ["£150,000"]
    assert found(threshold="140000", value="100k-threshold") == []


@pytest.mark.parametrize(("closing", "expected"), [
    ("7", ["In 2 days", "In 7 days"]),
    ("30", ["In 2 days", "In 7 days", "In 20 days"]),
    ("", ["In 2 days", "In 7 days", "In 20 days", "In 40 days"]),
    ("14", ["In 2 days", "In 7 days", "In 20 days", "In 40 days"]),  # not a choice: ignored
])
def test_closing_within_a_number_of_days(app, closing, expected):
    now = utcnow()
    for days, title in ((2, "In 2 days"), (7, "In 7 days"), (20, "In 20 days"), (40, "In 40 days")):
        make_opportunity(title=title, submission_deadline=now + timedelta(days=days, minutes=-5))
    assert found(closing=closing) == expected


@pytest.mark.parametrize(("reserved", "expected"), [
    ("yes", ["Kent", "Kent SME or VCSE"]),
    ("no", ["Anyone"]),
    ("", ["Anyone", "Kent", "Kent SME or VCSE"]),
])
def test_reserved_or_not(app, reserved, expected):
    make_opportunity(title="Anyone", reservation="none")
    make_opportunity(title="Kent", reservation="kent")
    make_opportunity(title="Kent SME or VCSE", reservation="kent_sme_vcse")
    assert found(reserved=reserved) == expected


def test_filters_combine(app):
    make_opportunity(title="Match", category="public-health", localities=["county-wide"], reservation="kent",
                     estimated_value=Decimal("30000"), summary="Stop smoking service")
    make_opportunity(title="Wrong category", category="adult-social-care", localities=["dover"],
                     reservation="kent", estimated_value=Decimal("30000"), summary="Stop smoking service")
    make_opportunity(title="Not reserved", category="public-health", localities=["dover"],
                     estimated_value=Decimal("30000"), summary="Stop smoking service")
    assert found(q="smoking", category="public-health", locality="dover", reserved="yes",
                 value="25k-100k") == ["Match"]


# Sort -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("sort", "expected"), [
    (None, ["Closes first", "Newest", "Biggest", "Oldest"]),
    ("closing", ["Closes first", "Newest", "Biggest", "Oldest"]),
    ("newest", ["Newest", "Biggest", "Closes first", "Oldest"]),
    ("value-high", ["Biggest", "Oldest", "Newest", "Closes first"]),
    ("value-low", ["Closes first", "Newest", "Oldest", "Biggest"]),
    ("nonsense", ["Closes first", "Newest", "Biggest", "Oldest"]),
])
def test_sort_orders(app, sort, expected):
    now = utcnow()
    for title, published_days_ago, closes_in, value in (("Oldest", 9, 30, "90000"), ("Newest", 1, 20, "40000"),
                                                        ("Closes first", 5, 3, "10000"), ("Biggest", 3, 25, "900000")):
        make_opportunity(title=title, published_at=now - timedelta(days=published_days_ago),
                         submission_deadline=now + timedelta(days=closes_in), estimated_value=Decimal(value))
    assert found(**({"sort": sort} if sort else {})) == expected


# Pagination and query count -------------------------------------------------------------------------------

def test_results_come_twenty_a_page(app):
    from marketplace.pagination import paginate

    for number in range(25):
        make_opportunity(title=f"Closing in {number + 1:02d} days",
                         submission_deadline=utcnow() + timedelta(days=number + 1))
    criteria = SearchCriteria()
    with app.test_request_context("/opportunities?page=2"):
        page = paginate(search_statement(criteria, utcnow(), Decimal("214904")))
    assert (page.total, page.pages) == (25, 2)
    assert [o.title for o in page.items] == [f"Closing in {n:02d} days" for n in range(21, 26)]


def test_the_list_page_runs_the_same_number_of_queries_for_3_or_30_opportunities(client):
    def queries() -> int:
        with statements_sent() as statements:
            assert client.get("/opportunities?locality=dover&sort=newest").status_code == 200
        return len(statements)

    for _ in range(3):
        make_opportunity(localities=["dover"], reservation="kent")
    few = queries()
    for _ in range(27):
        make_opportunity(localities=["county-wide"])
    assert queries() == few
