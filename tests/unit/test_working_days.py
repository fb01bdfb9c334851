"""Working days (England and Wales bank holidays) and the standstill: eight working days beginning with the day
the award notice is published."""

from __future__ import annotations

from datetime import date, timedelta

import holidays
import pytest

from marketplace.evaluation.working_days import (
    add_working_days,
    bank_holidays,
    is_working_day,
    next_working_day,
    standstill_end,
)

# England and Wales bank holidays as published on GOV.UK (www.gov.uk/bank-holidays), substitute days included.
GOV_UK_BANK_HOLIDAYS = {
    2026: ["2026-01-01", "2026-04-03", "2026-04-06", "2026-05-04", "2026-05-25", "2026-08-31", "2026-12-25",
           "2026-12-28"],
    2027: ["2027-01-01", "2027-03-26", "2027-03-29", "2027-05-03", "2027-05-31", "2027-08-30", "2027-12-27",
           "2027-12-28"],
    2028: ["2028-01-03", "2028-04-14", "2028-04-17", "2028-05-01", "2028-05-29", "2028-08-28", "2028-12-25",
           "2028-12-26"],
}


def d(text: str) -> date:
    return date.fromisoformat(text)


@pytest.mark.parametrize(("notice", "end"), [
    # Mon 1 Jun 2026: 1, 2, 3, 4, 5, 8, 9, 10 June
    ("2026-06-01", "2026-06-10"),
    # Fri 5 Jun 2026: 5, 8, 9, 10, 11, 12, 15, 16 June
    ("2026-06-05", "2026-06-16"),
    # Tue 22 Dec 2026: 22, 23, 24 Dec (Fri 25 Christmas, Sat 26, Sun 27, Mon 28 Boxing Day substitute),
    # 29, 30, 31 Dec (Fri 1 Jan New Year's Day, weekend), Mon 4, Tue 5 Jan
    ("2026-12-22", "2027-01-05"),
    # Thu 24 Dec 2026: 24, 29, 30, 31 Dec, 4, 5, 6, 7 Jan
    ("2026-12-24", "2027-01-07"),
    # Thu 25 Mar 2027: 25 (Good Friday 26, weekend, Easter Monday 29), 30, 31 Mar, 1, 2, 5, 6, 7 Apr
    ("2027-03-25", "2027-04-07"),
    # Good Friday 26 Mar 2027 is no working day: the count starts on Tue 30 Mar: 30, 31, 1, 2, 5, 6, 7, 8 Apr
    ("2027-03-26", "2027-04-08"),
    # Easter Monday 29 Mar 2027: the same
    ("2027-03-29", "2027-04-08"),
    # Saturday 6 Jun 2026: the count starts on Monday 8: 8, 9, 10, 11, 12, 15, 16, 17 June
    ("2026-06-06", "2026-06-17"),
    # Sunday 7 Jun 2026: the same
    ("2026-06-07", "2026-06-17"),
    # Fri 22 Dec 2028: 22 (weekend, Mon 25 and Tue 26 Christmas and Boxing Day), 27, 28, 29 Dec
    # (weekend, Mon 1 Jan 2029 New Year's Day), 2, 3, 4, 5 Jan 2029
    ("2028-12-22", "2029-01-05"),
], ids=["monday", "friday", "christmas_2026", "christmas_eve_2026", "easter_2027", "good_friday_2027",
        "easter_monday_2027", "saturday", "sunday", "christmas_2028"])
def test_standstill_is_eight_working_days_beginning_with_the_notice_day(notice, end):
    assert standstill_end(d(notice)) == d(end)


@pytest.mark.parametrize(("day", "working"), [
    ("2026-06-01", True),    # a Monday
    ("2026-06-06", False),   # a Saturday
    ("2026-06-07", False),   # a Sunday
    ("2026-12-25", False),   # Christmas Day
    ("2026-12-28", False),   # Boxing Day (substitute day)
    ("2027-03-26", False),   # Good Friday
    ("2027-03-29", False),   # Easter Monday
    ("2026-12-24", True),    # Christmas Eve is a working day
    ("2027-03-17", True),    # St Patrick's Day: a bank holiday in Northern Ireland only
    ("2027-11-30", True),    # St Andrew's Day: Scotland only
])
def test_a_working_day_is_a_weekday_other_than_an_england_and_wales_bank_holiday(day, working):
    assert is_working_day(d(day)) is working


@pytest.mark.parametrize(("start", "count", "expected"), [
    ("2026-06-05", 0, "2026-06-05"),
    ("2026-06-05", 1, "2026-06-08"),    # Friday + 1 -> Monday
    ("2026-06-06", 1, "2026-06-08"),    # Saturday + 1 -> Monday
    ("2026-12-24", 1, "2026-12-29"),    # over Christmas and the Boxing Day substitute
    ("2026-12-31", 1, "2027-01-04"),    # over New Year's Day and the weekend
    ("2027-03-25", 2, "2027-03-31"),    # over Easter: Tue 30, Wed 31
])
def test_add_working_days_counts_the_working_days_after_the_start(start, count, expected):
    assert add_working_days(d(start), count) == d(expected)


def test_add_working_days_refuses_a_negative_count():
    with pytest.raises(ValueError):
        add_working_days(d("2026-06-05"), -1)


@pytest.mark.parametrize(("day", "expected"), [
    ("2026-06-05", "2026-06-05"), ("2026-06-06", "2026-06-08"), ("2026-12-25", "2026-12-29"),
])
def test_next_working_day_is_the_day_itself_or_the_first_working_day_after(day, expected):
    assert next_working_day(d(day)) == d(expected)


@pytest.mark.parametrize("year", sorted(GOV_UK_BANK_HOLIDAYS))
def test_the_holidays_data_matches_the_published_england_and_wales_bank_holidays(year):
    weekday_holidays = sorted(day.isoformat() for day in bank_holidays(year) if day.weekday() < 5)
    assert weekday_holidays == GOV_UK_BANK_HOLIDAYS[year]
    assert bank_holidays(year) == frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


@pytest.mark.parametrize("year", sorted(GOV_UK_BANK_HOLIDAYS))
def test_every_day_of_the_year_is_judged_by_the_weekday_and_the_published_bank_holidays(year):
    published = {d(day) for day in GOV_UK_BANK_HOLIDAYS[year]}
    day, judged = date(year, 1, 1), 0
    while day.year == year:
        assert is_working_day(day) is (day.weekday() < 5 and day not in published), day
        day, judged = day + timedelta(days=1), judged + 1
    assert judged in (365, 366)
