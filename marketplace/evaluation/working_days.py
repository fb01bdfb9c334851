"""Working days and the standstill period (pure but for the `holidays` package's calendar data).

A working day is Monday to Friday, other than a bank holiday in England and Wales (`holidays.country_holidays("GB",
subdiv="ENG")`, with substitute days: Boxing Day on a Saturday is observed on the Monday after).

Dates are calendar dates in Europe/London: pass the London date on which the notice was published, not a UTC date.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays

STANDSTILL_WORKING_DAYS = 8
SATURDAY = 5
ONE_DAY = timedelta(days=1)


@lru_cache(maxsize=64)
def bank_holidays(year: int) -> frozenset[date]:
    """England and Wales bank holidays in `year` (including substitute days)."""
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def is_working_day(day: date) -> bool:
    return day.weekday() < SATURDAY and day not in bank_holidays(day.year)


def add_working_days(start: date, count: int) -> date:
    """The date `count` working days after `start`; `start` itself is not counted (0 gives `start` back)."""
    if count < 0:
        raise ValueError("count must be 0 or more")
    day = start
    while count:
        day += ONE_DAY
        if is_working_day(day):
            count -= 1
    return day


def next_working_day(day: date) -> date:
    """`day` itself when it is a working day, otherwise the first working day after it."""
    while not is_working_day(day):
        day += ONE_DAY
    return day


def standstill_end(notice_date: date) -> date:
    """The last day of the standstill: eight working days beginning with the day the award notice is published.

    The notice day counts as day 1 when it is a working day; a notice published on a weekend or bank holiday
    starts the count on the next working day. Weekends and England and Wales bank holidays are not counted. The
    standstill runs to the end (midnight, London time) of the returned day, so the contract may be entered into
    from the next day at the earliest. A notice on Tuesday 22 December 2026 gives Tuesday 5 January 2027:
    22, 23, 24, 29, 30, 31 December and 4, 5 January (25 and 28 December and 1 January are bank holidays).
    """
    return add_working_days(next_working_day(notice_date), STANDSTILL_WORKING_DAYS - 1)
