"""The contract register, the spend dashboard, their CSV downloads and the quarterly KPI report over HTTP: what
the public sees, what only staff see, filters with nonsense in them, huge page numbers, and the CSV read back with
csv.reader."""

from __future__ import annotations

import csv
import html
import io
import re
import subprocess
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from marketplace.awards.models import Contract
from marketplace.bids.models import Bid
from marketplace.extensions import db
from marketplace.settings import services as settings
from marketplace.timeutil import london, utcnow
from marketplace.transparency.dashboard import Quarter
from tests.contract_builders import OUTSIDE_KENT, awarded_opportunity, commitment, make_contract, member
from tests.factories import OrganisationFactory, StaffFactory, provider
from tests.sql import statements_sent as count_queries

REGISTER = "/contracts"
DASHBOARD = "/spending"


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def rows_of(response) -> list[list[str]]:
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def titles_on(page: str) -> list[str]:
    return re.findall(r'<a class="govuk-link" href="/contracts/\d+">([^<]+)</a>', page)


def this_quarter() -> Quarter:
    return Quarter.containing(london(utcnow()).date())


@pytest.fixture()
def staff(as_user):
    return StaffFactory(roles=["procurement_officer"], full_name="Pat Procurement")


@pytest.fixture()
def contracts():
    """A Kent-based charity's contract (£120,000, with a Kent subcontractor) and a large firm's from outside
    Kent (£80,000), both written by Chris Commissioner."""
    commissioner = StaffFactory(roles=["commissioner"], full_name="Chris Commissioner")
    kent = OrganisationFactory(legal_name="Margate Community Meals", companies_house_number="09876543",
                               charity_number="1100999")
    away = OrganisationFactory(legal_name="Lewisham Lunches Ltd", postcode=OUTSIDE_KENT, org_type="private_company",
                               size="large", charity_number=None)
    first = make_contract(kent, value="120000", created_by=commissioner, title="Befriending in Thanet",
                          kent_share="0.400000", kent_spend="48000", kent_jobs=3,
                          consortium=[member("Margate Men's Shed", "0.150000", True)],
                          social_value_commitments=[commitment("apprenticeships", "156.00", "weeks")],
                          opportunity_fields={"procedure": "light_touch"})
    second = make_contract(away, value="80000", created_by=commissioner, title="Meals on wheels in Dartford",
                           category="public-health", opportunity_fields={"category": "public-health"})
    return first, second


# The register -----------------------------------------------------------------------------------------

def test_anyone_can_read_the_register_with_each_contracts_supplier_value_and_dates(client, contracts):
    page = text(client.get(REGISTER))
    assert "2 contracts found" in page
    assert titles_on(page) == ["Meals on wheels in Dartford", "Befriending in Thanet"]  # newest award first
    assert "Margate Community Meals" in page and "£120,000" in page and "1 April 2027 to 31 March 2029" in page


def test_the_register_threshold_is_a_setting_and_contracts_below_it_are_not_listed(client, contracts):
    administrator = StaffFactory(roles=["administrator"])
    settings.update(administrator, {"contract_register_threshold": "100000"})
    page = text(client.get(REGISTER))
    assert titles_on(page) == ["Befriending in Thanet"]
    assert "worth £100,000 or more" in page
    assert client.get(f"/contracts/{contracts[1].id}").status_code == 404


def test_a_contract_page_shows_the_transparency_code_fields_and_the_commitments(client, contracts):
    page = text(client.get(f"/contracts/{contracts[0].id}"))
    for expected in ("Befriending in Thanet", contracts[0].reference, "Weekly befriending visits for older people.",
                     "Companies House 09876543; Charity 1100999", "Adult social care", "£120,000", "1 April 2027",
                     "31 March 2029", "31 December 2028", "Light-touch regime", "3 months before the contract ends",
                     "40.0% of the contract's value spent with Kent-based", "Apprenticeships created: 156 weeks",
                     "Margate Men's Shed", "15.0%"):
        assert expected in page, expected
    for key in ("SME", "VCSE", "Based in Kent"):
        assert re.search(rf"{key}\s*</dt>\s*<dd[^>]*>\s*Yes", page), key


def test_a_contract_that_does_not_exist_or_is_not_awarded_is_not_found(client, contracts):
    for contract_id in ("999", "2147483648", "99999999999999999999999"):
        assert client.get(f"/contracts/{contract_id}").status_code == 404
    not_yet = make_contract(opportunity_fields={"status": "standstill"})
    assert client.get(f"/contracts/{not_yet.id}").status_code == 404


def test_the_register_filters_by_words_category_supplier_and_value(client, contracts):
    assert titles_on(text(client.get(REGISTER + "?q=margate+befriending"))) == ["Befriending in Thanet"]
    assert titles_on(text(client.get(REGISTER + "?category=public-health"))) == ["Meals on wheels in Dartford"]
    assert titles_on(text(client.get(REGISTER + "?supplier=vcse"))) == ["Befriending in Thanet"]
    assert titles_on(text(client.get(REGISTER + "?value_from=£90,000"))) == ["Befriending in Thanet"]
    assert titles_on(text(client.get(REGISTER + "?value_to=90000&sort=value-high"))) == ["Meals on wheels in Dartford"]


@pytest.mark.parametrize("query, message", [
    ("value_from=lots", "Value from must be an amount in pounds"),
    ("value_from=-5", "Value from must be £0 or more"),
    ("value_from=90000&value_to=1000", "Value to must be the same as or more than value from"),
    ("category=<script>", "Select a category from the list"),
    ("supplier=huge", "Select a kind of supplier from the list"),
    ("sort=random()", "Select an order from the list"),
])
def test_nonsense_filters_get_a_message_by_the_filter_not_an_error_page(client, contracts, query, message):
    response = client.get(f"{REGISTER}?{query}")
    assert response.status_code == 200
    page = text(response)
    assert "There is a problem" in page and message in page
    assert "<title>Error: Contract register" in page
    assert "<script>" not in response.get_data(as_text=True)


def test_what_was_typed_is_kept_and_the_valid_filters_still_apply(client, contracts):
    page = text(client.get(REGISTER + "?value_from=lots&category=public-health"))
    assert 'value="lots"' in page
    assert titles_on(page) == ["Meals on wheels in Dartford"]


def test_the_register_is_paginated_keeping_the_filters(client, app):
    supplier = OrganisationFactory()
    for n in range(23):
        make_contract(supplier, title=f"Service {n + 1:02d}", value=str(10000 + n))
    first = text(client.get(REGISTER + "?sort=value-low"))
    assert "23 contracts found" in first and len(titles_on(first)) == app.config["PAGE_SIZE"]
    second = text(client.get(REGISTER + "?sort=value-low&page=2"))
    assert titles_on(second) == ["Service 21", "Service 22", "Service 23"]
    assert "sort=value-low&amp;page=1" in client.get(REGISTER + "?sort=value-low&page=2").get_data(as_text=True)


@pytest.mark.parametrize("page_arg, listed, message", [
    ("99999", 0, "There is no such page: these contracts fill 1 page."),
    ("99999999999999999999999", 0, "There is no such page: these contracts fill 1 page."),
    ("-3", 2, None), ("abc", 2, None), ("1e9", 2, None),
])
def test_a_page_number_past_the_end_or_not_a_number_is_a_clear_answer_not_an_error(client, contracts, page_arg,
                                                                                   listed, message):
    response = client.get(f"{REGISTER}?page={page_arg}")
    assert response.status_code == 200
    page = text(response)
    assert len(titles_on(page)) == listed
    assert message is None or message in " ".join(page.split())


def test_the_register_csv_has_every_contract_on_every_page_with_the_same_figures(client, app):
    supplier = OrganisationFactory(legal_name="Sandwich Support", companies_house_number="07654321",
                                   charity_number=None)
    for n in range(app.config["PAGE_SIZE"] + 5):
        make_contract(supplier, title=f"Service {n + 1:02d}", value=f"{10000 + n}.50")
    rows = rows_of(client.get("/contracts.csv?sort=value-low"))
    header, body = rows[0], rows[1:]
    assert header[:4] == ["Reference", "Title", "Description", "Supplier"] and "Review date" in header
    assert len(body) == app.config["PAGE_SIZE"] + 5
    stored = db.session.execute(sa.select(Contract).order_by(Contract.value)).scalars().all()
    for row, contract in zip(body, stored):
        record = dict(zip(header, row))
        assert record["Reference"] == contract.reference and record["Title"] == contract.title
        assert Decimal(record["Value (£)"]) == contract.value
        assert record["Supplier registration number"] == "Companies House 07654321"
        assert record["Start date"] == "2027-04-01" and record["Review date"] == "2028-12-31"


def test_the_csv_is_the_filtered_register(client, contracts):
    body = rows_of(client.get("/contracts.csv?supplier=large"))[1:]
    assert [row[1] for row in body] == ["Meals on wheels in Dartford"]
    assert body[0][10:13] == ["No", "No", "No"]  # SME, VCSE, Kent-based


def test_the_csv_link_on_the_page_carries_the_filters(client, contracts):
    page = client.get(REGISTER + "?supplier=large&page=1").get_data(as_text=True)
    assert 'href="/contracts.csv?supplier=large"' in page


def test_a_cell_a_spreadsheet_would_run_is_quoted_in_the_csv(client):
    make_contract(OrganisationFactory(legal_name="=HYPERLINK(\"http://evil.example\")"), title="@SUM(1+1)")
    row = rows_of(client.get("/contracts.csv"))[1]
    assert row[1] == "'@SUM(1+1)" and row[3] == "'=HYPERLINK(\"http://evil.example\")"


def test_the_csv_with_a_bad_filter_goes_back_to_the_register_to_say_why(client, contracts):
    response = client.get("/contracts.csv?value_to=tons", follow_redirects=True)
    assert "Value to must be an amount in pounds" in text(response)


def test_the_register_page_runs_the_same_queries_however_many_contracts(client):
    supplier = OrganisationFactory()
    make_contract(supplier)
    with count_queries() as few:
        client.get(REGISTER)
    for _ in range(12):
        make_contract(supplier)
    with count_queries() as many:
        client.get(REGISTER)
    assert len(many) == len(few)


# The dashboard ----------------------------------------------------------------------------------------

def test_the_dashboard_headline_is_the_share_going_to_kent_based_suppliers(client, contracts):
    page = text(client.get(DASHBOARD))
    assert "60.0%" in page and "£120,000 of £200,000" in page
    assert "Kent-based suppliers won 1 of the 2 contracts awarded (50.0%)" in page


def test_each_chart_has_a_table_and_a_csv_with_the_same_figures(client, contracts):
    page = text(client.get(DASHBOARD))
    assert "Who the money goes to: the figures" in page
    assert re.search(r"Kent-based subcontractors and consortium members</th>\s*<td[^>]*>9.0%</td>\s*<td[^>]*>£18,000",
                     page)
    rows = rows_of(client.get("/spending/supply-chain.csv"))
    assert rows == [["Who delivers", "Share of value", "Value"],
                    ["Kent-based subcontractors and consortium members", "9.0", "18000.00"],
                    ["Other subcontractors and consortium members", "0.0", "0.00"],
                    ["Prime suppliers", "91.0", "182000.00"]]
    shares = {row[0]: row for row in rows_of(client.get("/spending/supplier-shares.csv"))}
    assert shares["Kent-based suppliers"] == ["Kent-based suppliers", "60.0", "120000.00", "50.0", "1"]
    assert 'href="/spending/supply-chain.csv"' in client.get(DASHBOARD).get_data(as_text=True)


def test_the_dashboard_filters_by_quarter_category_and_locality(client, contracts):
    page = text(client.get(f"{DASHBOARD}?category=public-health"))
    assert "0.0%" in page and "£0 of £80,000" in page
    empty = text(client.get(f"{DASHBOARD}?quarter={this_quarter().previous.key}"))
    assert "No contracts were awarded for these filters." in empty
    shares = rows_of(client.get(f"/spending/supplier-shares.csv?quarter={this_quarter().key}&locality=thanet"))
    assert shares[-1] == ["All suppliers", "100.0", "200000.00", "100.0", "2"]


@pytest.mark.parametrize("query, message", [
    ("quarter=2026-Q9", "Select a quarter from the list"),
    ("quarter=next-year", "Select a quarter from the list"),
    ("quarter=2099-Q1", "Select a quarter from the list"),
    ("category=%00", "Select a category from the list"),
    ("locality=medway", "Select a locality from the list"),
])
def test_nonsense_dashboard_filters_get_a_message_by_the_filter(client, contracts, query, message):
    response = client.get(f"{DASHBOARD}?{query}")
    assert response.status_code == 200
    page = text(response)
    assert "There is a problem" in page and message in page
    assert "£120,000 of £200,000" in page  # the figures, without the filter that made no sense


def test_an_older_quarter_typed_into_the_address_is_accepted(client, contracts):
    page = text(client.get(f"{DASHBOARD}?quarter=2015-Q2"))
    assert "There is a problem" not in page and "Q2 2015 to 2016 (July to September 2015)" in page


def test_downloads_with_a_bad_filter_go_back_to_the_dashboard_to_say_why(client, contracts):
    for path in ("/spending/supply-chain.csv?locality=paris", "/spending/kpi-report.pdf?locality=paris"):
        response = client.get(path, follow_redirects=True)
        assert "Select a locality from the list" in text(response)


def test_an_unknown_chart_has_no_csv(client, contracts):
    assert client.get("/spending/everything.csv").status_code == 404


def test_bids_are_never_counted_before_the_deadline(client):
    open_now = awarded_opportunity(status="published", submission_deadline=utcnow() + timedelta(days=5),
                                   published_at=utcnow() - timedelta(days=5))
    closed = awarded_opportunity(status="published", submission_deadline=utcnow() - timedelta(hours=1),
                                 published_at=utcnow() - timedelta(days=30))
    for target, count in ((open_now, 3), (closed, 2)):
        for _ in range(count):
            db.session.add(Bid(opportunity_id=target.id, organisation_id=OrganisationFactory().id,
                               status="submitted"))
    db.session.commit()
    rows = dict((row[0], row[1]) for row in rows_of(client.get("/spending/bids.csv"))[1:])
    assert rows["2 bids"] == "1" and rows["3 or 4 bids"] == "0"
    assert "1 opportunity closed, with 2 bids in all" in text(client.get(DASHBOARD))


STAFF_ONLY = ("For council staff only", "Awarded value by commissioner", "Chris Commissioner",
              "Awarded value by category", "Opportunities in evaluation")


@pytest.mark.parametrize("who", ["anonymous", "provider"])
def test_staff_only_figures_never_appear_for_the_public(client, as_user, contracts, who):
    if who == "provider":
        as_user(provider())
    page = text(client.get(DASHBOARD))
    for words in STAFF_ONLY:
        assert words not in page
    for key in ("by-commissioner", "by-category", "pipeline", "pipeline-list"):
        assert client.get(f"/spending/{key}.csv").status_code == 404
    report = pdf_text(client.get(f"/spending/kpi-report.pdf?quarter={this_quarter().key}"))
    for words in STAFF_ONLY:
        assert words not in report


def test_council_staff_see_the_breakdowns_and_can_download_them(client, as_user, contracts, staff):
    as_user(staff)
    page = text(client.get(DASHBOARD))
    for words in STAFF_ONLY:
        assert words in page
    rows = rows_of(client.get("/spending/by-commissioner.csv"))
    assert rows == [["Commissioner", "Contracts", "Value", "Share to Kent-based suppliers"],
                    ["Chris Commissioner", "2", "200000.00", "60.0"]]


def test_the_dashboard_runs_the_same_queries_however_many_contracts(client, as_user, staff):
    as_user(staff)
    supplier = OrganisationFactory()
    make_contract(supplier, consortium=[member("A", "0.1", True)],
                  social_value_commitments=[commitment("local_jobs", "2", "FTE")])
    with count_queries() as few:
        assert client.get(DASHBOARD).status_code == 200
    for n in range(10):
        make_contract(supplier, consortium=[member("A", "0.1", True)],
                      social_value_commitments=[commitment("local_jobs", "2", "FTE")])
    with count_queries() as many:
        client.get(DASHBOARD)
    assert len(many) == len(few)


# The quarterly KPI report -----------------------------------------------------------------------------

def pdf_text(response) -> str:
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    """The text in reading order (a draft's diagonal watermark would break up a layout view's lines)."""
    return subprocess.run(["pdftotext", "-raw", "-", "-"], input=response.data, capture_output=True,
                          check=True).stdout.decode()


def test_the_kpi_report_has_the_quarters_figures_and_tables(client, contracts):
    response = client.get(f"/spending/kpi-report.pdf?quarter={this_quarter().key}")
    assert f'filename="kpi-report-{this_quarter().key}.pdf"' in response.headers["Content-Disposition"]
    report = pdf_text(response)
    assert f"Quarterly KPI report: {this_quarter().label.split(' (')[0]}" in report
    assert "60.0%" in report and "£120,000 of £200,000" in report
    for title in ("Who the money goes to", "Through subcontractors", "Social value committed, by theme",
                  "Right-to-bid proposals and outcomes", "Bids per opportunity", "Days from publication to award"):
        assert title in report
    assert re.search(r"Prime suppliers\s+91.0%\s+£182,000", report)


def test_the_kpi_report_for_a_quarter_still_running_is_a_draft_and_a_past_one_is_not(client, contracts):
    current = pdf_text(client.get("/spending/kpi-report.pdf"))
    assert "D\nR\nA\nF\nT" in current and "The quarter has not ended" in current
    past = pdf_text(client.get(f"/spending/kpi-report.pdf?quarter={this_quarter().previous.key}"))
    assert "not ended" not in past and "No contracts were awarded in the quarter" in past


def test_the_kpi_report_for_staff_includes_their_figures_marked_not_for_publication(client, as_user, contracts,
                                                                                   staff):
    as_user(staff)
    response = client.get("/spending/kpi-report.pdf")
    assert response.headers["Cache-Control"] == "private, no-store"
    report = pdf_text(response)
    assert "not for publication" in report and "Chris Commissioner" in report
