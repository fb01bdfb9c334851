"""Times as the service writes them: UK time, the GOV.UK style (2:05pm, midday), whatever the season."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from marketplace.timeutil import format_london, format_london_time


@pytest.mark.parametrize("moment, expected", [
    (datetime(2027, 1, 12, 14, 5, tzinfo=timezone.utc), "2:05pm"),  # winter: UK time is UTC
    (datetime(2027, 7, 12, 13, 5, tzinfo=timezone.utc), "2:05pm"),  # summer: an hour ahead
    (datetime(2027, 7, 12, 11, 0, tzinfo=timezone.utc), "midday"),
    (datetime(2027, 1, 12, 0, 30, tzinfo=timezone.utc), "12:30am"),
])
def test_a_time_of_day_is_written_in_uk_time_in_the_govuk_style(moment, expected):
    assert format_london_time(moment) == expected
    assert format_london(moment).endswith(f" at {expected}")
