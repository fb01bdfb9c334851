"""The spend dashboard's figures and the contract register's wording, as pure functions with hand-computed
numbers: financial-year quarters, shares, the charts and their CSV, review dates, CSV-injection safety."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from marketplace.transparency import dashboard
from marketplace.transparency.dashboard import (
    BandTotal,
    Chart,
    Column,
    MeasureTotal,
    Quarter,
    SupplierTotals,
    percent,
)
from marketplace.transparency.register import (
    csv_lines,
    months_before,
    registration_number,
    review_date,
    safe_cell,
)
from tests.unit.test_pure_imports import violations

ROOT = Path(__file__).resolve().parents[2]


def test_the_dashboard_figures_import_nothing_from_flask_or_the_database():
    assert violations(ROOT / "marketplace" / "transparency" / "dashboard.py") == []


# Quarters of the financial year ---------------------------------------------------------------------------

@pytest.mark.parametrize("day, expected", [
    (date(2026, 4, 1), Quarter(2026, 1)), (date(2026, 6, 30), Quarter(2026, 1)),
    (date(2026, 7, 1), Quarter(2026, 2)), (date(2026, 12, 31), Quarter(2026, 3)),
    (date(2027, 1, 1), Quarter(2026, 4)), (date(2027, 3, 31), Quarter(2026, 4)),
])
def test_the_financial_year_starts_in_april(day, expected):
    assert Quarter.containing(day) == expected


def test_a_quarter_is_written_as_year_and_number_and_labelled_in_words():
    quarter = Quarter.parse("2026-q4")
    assert quarter == Quarter(2026, 4)
    assert quarter.key == "2026-Q4"
    assert quarter.label == "Q4 2026 to 2027 (January to March 2027)"
    assert quarter.first_day == date(2027, 1, 1)


@pytest.mark.parametrize("text", ["", "2026", "2026-Q0", "2026-Q5", "Q3-2026", "1999-Q1", "2026-Q3; drop", None])
def test_anything_else_is_not_a_quarter(text):
    with pytest.raises(ValueError):
        Quarter.parse(text)


def test_quarter_bounds_are_uk_midnights_so_british_summer_time_is_respected():
    start, end = Quarter(2026, 1).bounds()
    assert start.astimezone(timezone.utc) == datetime(2026, 3, 31, 23, 0, tzinfo=timezone.utc)  # BST
    assert end.astimezone(timezone.utc) == datetime(2026, 6, 30, 23, 0, tzinfo=timezone.utc)
    assert Quarter(2026, 3).bounds()[1].astimezone(timezone.utc) == datetime(2027, 1, 1, tzinfo=timezone.utc)


def test_quarters_step_across_the_financial_year():
    assert Quarter(2026, 4).next == Quarter(2027, 1)
    assert Quarter(2027, 1).previous == Quarter(2026, 4)
    assert dashboard.recent_quarters(date(2026, 11, 23), 3) == [Quarter(2026, 3), Quarter(2026, 2), Quarter(2026, 1)]


# Shares and charts ------------------------------------------------------------------------------------

def test_a_share_is_a_percentage_to_one_place_and_nothing_of_nothing_is_no_share():
    assert percent(Decimal(150000), Decimal(450000)) == Decimal("33.3")
    assert percent(2, 3) == Decimal("66.7")
    assert percent(1, 8) == Decimal("12.5")
    assert percent(0, 0) is None


TOTALS = SupplierTotals(contracts=3, value=Decimal(450000), kent_contracts=2, kent_value=Decimal(150000),
                        vcse_contracts=1, vcse_value=Decimal(100000), sme_contracts=2, sme_value=Decimal(150000),
                        kent_spend=Decimal(60000), kent_jobs=5, kent_apprenticeships=2)


def test_the_headline_is_the_share_of_value_and_of_contracts_won_by_kent_based_suppliers():
    headline = dashboard.Headline.of(TOTALS)
    assert (headline.value_share, headline.count_share) == (Decimal("33.3"), Decimal("66.7"))
    assert (headline.kent_value, headline.value) == (Decimal("150000.00"), Decimal("450000.00"))


def test_supplier_shares_give_value_and_count_shares_for_each_kind_of_supplier():
    chart = dashboard.supplier_shares(TOTALS)
    assert chart.rows[0] == ("Kent-based suppliers", Decimal("33.3"), Decimal("150000.00"), Decimal("66.7"), 2)
    assert chart.rows[1][1:] == (Decimal("22.2"), Decimal("100000.00"), Decimal("33.3"), 1)
    assert chart.table[0] == ["Kent-based suppliers", "33.3%", "£150,000", "66.7%", "2"]
    assert [bar.fraction for bar in chart.bars][:2] == [Decimal("0.333"), Decimal("0.222")]  # out of 100%


def test_the_supply_chain_divides_the_value_between_kent_members_other_members_and_the_primes():
    chart = dashboard.supply_chain(Decimal(450000), Decimal(25000), Decimal(10000))
    assert [row[2] for row in chart.rows] == [Decimal("25000.00"), Decimal("10000.00"), Decimal("415000.00")]
    assert [row[1] for row in chart.rows] == [Decimal("5.6"), Decimal("2.2"), Decimal("92.2")]


def test_social_value_is_grouped_by_the_theme_of_each_measure():
    themes, measures = dashboard.social_value([
        MeasureTotal("community_fund", "£", Decimal("5000"), 1),
        MeasureTotal("apprenticeships", "weeks", Decimal("208"), 2),
        MeasureTotal("local_jobs", "FTE", Decimal("3.5"), 1),
        MeasureTotal("made_up", "things", Decimal("1"), 1),
    ])
    assert dict(themes.rows) == {"Jobs and skills": 3, "Supporting local business and the VCSE sector": 0,
                                 "Healthier, safer communities": 1, "Protecting the environment": 0,
                                 "Other commitments": 1}
    assert measures.rows[0] == ("Jobs and skills", "Apprenticeships created", Decimal("208.00"), "weeks", 2)
    assert measures.table[1][2] == "3.5"
    assert measures.table[2][2:4] == ["5,000", "pounds"]
    assert measures.rows[-1][:2] == ("Other commitments", "made_up")


def test_bids_per_opportunity_fall_into_bands_with_the_average():
    chart = dashboard.bids_per_opportunity({0: 1, 1: 2, 3: 1, 4: 1, 12: 1})
    assert dict(chart.rows) == {"No bids": 1, "1 bid": 2, "2 bids": 0, "3 or 4 bids": 2, "5 to 9 bids": 0,
                                "10 or more bids": 1}
    # 21 bids over 6 opportunities
    assert chart.notes == ("6 opportunities closed, with 21 bids in all: 3.5 for each opportunity on average.",)


def test_days_to_award_fall_into_bands_with_the_average():
    chart = dashboard.days_to_award([BandTotal(0, 2, Decimal("100")), BandTotal(2, 1, Decimal("95.5"))])
    assert dict(chart.rows) == {"Up to 60 days": 2, "61 to 90 days": 0, "91 to 120 days": 1, "121 to 180 days": 0,
                                "More than 180 days": 0}
    assert chart.notes == ("On average 65.2 days from publication to award.",)  # 195.5 / 3


def test_right_to_bid_outcomes_list_every_outcome_and_the_total():
    chart = dashboard.right_to_bid({"accepted": 2, "rejected": 1}, {"submitted": "Waiting", "accepted": "Accepted",
                                                                    "rejected": "Rejected"})
    assert chart.rows == (("Waiting", 0), ("Accepted", 2), ("Rejected", 1), ("All proposals received", 3))


def test_bars_are_drawn_against_the_largest_value_and_an_empty_chart_says_so():
    chart = Chart("k", "T", "D", (Column("Name"), Column("Count", "count")), (("a", 4), ("b", 1), ("c", 0)))
    assert [bar.fraction for bar in chart.bars] == [Decimal(1), Decimal("0.25"), Decimal(0)]
    assert not chart.is_empty
    assert Chart("k", "T", "D", chart.columns, (("a", 0),)).is_empty


def test_the_csv_of_a_chart_has_plain_numbers_and_the_page_has_formatted_ones():
    chart = Chart("k", "T", "D", (Column("Name"), Column("Value", "money"), Column("Share", "percent")),
                  (("Kent", Decimal("1250000.00"), Decimal("12.5")), ("None", Decimal(0), None)))
    assert chart.csv_rows() == [["Kent", "1250000.00", "12.5"], ["None", "0", ""]]
    assert chart.table == [["Kent", "£1,250,000", "12.5%"], ["None", "£0", "–"]]


def test_filters_give_back_only_the_arguments_in_use():
    assert dashboard.Filters(Quarter(2026, 3), "", "thanet").args() == {"quarter": "2026-Q3", "locality": "thanet"}
    assert dashboard.Filters().args() == {}


# The contract register's words ------------------------------------------------------------------------

@pytest.mark.parametrize("start, end, review", [
    (date(2027, 4, 1), date(2029, 3, 31), date(2028, 12, 31)),
    (date(2027, 4, 1), date(2029, 5, 31), date(2029, 2, 28)),  # no 31 February: the month's last day
    (date(2027, 4, 1), date(2028, 5, 31), date(2028, 2, 29)),  # leap year
    (date(2027, 4, 1), date(2027, 5, 31), date(2027, 4, 1)),  # a two-month contract: reviewed from its start
])
def test_the_review_date_is_three_months_before_the_end_and_never_before_the_start(start, end, review):
    assert review_date(start, end) == review


def test_months_before_crosses_the_year():
    assert months_before(date(2027, 2, 15), 3) == date(2026, 11, 15)


def test_the_registration_number_names_the_register_it_comes_from():
    assert registration_number("01234567", None) == "Companies House 01234567"
    assert registration_number(None, "1100001") == "Charity 1100001"
    assert registration_number("01234567", "1100001") == "Companies House 01234567; Charity 1100001"
    assert registration_number(None, "") == ""


@pytest.mark.parametrize("value, safe", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+44 1622", "'+44 1622"), ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\tTab", "'\tTab"), ("Plain = fine", "Plain = fine"), (None, ""),
    (Decimal("125000.00"), "125000.00"),
])
def test_a_csv_cell_that_a_spreadsheet_would_run_gets_a_leading_quote(value, safe):
    assert safe_cell(value) == safe


def test_csv_lines_read_back_as_the_same_cells():
    rows = [["Meals, wheels and \"more\"", "Line one\nline two", "=1+1"], ["", "£5,000", "ok"]]
    text = "".join(csv_lines(["A", "B", "C"], rows))
    assert list(csv.reader(io.StringIO(text))) == [["A", "B", "C"],
                                                   ["Meals, wheels and \"more\"", "Line one\nline two", "'=1+1"],
                                                   ["", "£5,000", "ok"]]
