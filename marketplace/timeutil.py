"""Time helpers: store UTC, show Europe/London."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def utcnow() -> datetime:
    """The current time as an aware UTC datetime (call it; never evaluate it at import)."""
    return datetime.now(timezone.utc)


def as_utc(value: datetime) -> datetime:
    """Treat a naive datetime (SQLite drops the zone) as UTC."""
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def london(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value).astimezone(LONDON)


def format_london(value: datetime | None, with_time: bool = True) -> str:
    """'3 March 2027 at 2:05pm' in UK time, the GOV.UK style for dates and times."""
    local = london(value)
    if local is None:
        return ""
    day = f"{local.day} {local:%B %Y}"
    if not with_time:
        return day
    return f"{day} at {_clock(local)}"


def format_london_time(value: datetime) -> str:
    """'2:05pm' (or 'midday') in UK time."""
    return _clock(london(value))


def _clock(local: datetime) -> str:
    if local.hour == 12 and local.minute == 0:
        return "midday"
    return f"{local.hour % 12 or 12}:{local:%M}{'am' if local.hour < 12 else 'pm'}"
