"""The audit log's hash chain, checked without a database: EventContent chains built by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from marketplace.audit import GENESIS, EventContent, compute_hash, verify_chain

START = datetime(2026, 11, 23, 9, 30, tzinfo=timezone.utc)


def sealed(content: EventContent) -> EventContent:
    return replace(content, hash=compute_hash(content))


def build_chain(length: int = 5) -> list[tuple[int, EventContent]]:
    """Events with ids 101, 102, ... each linked to the one before."""
    events, previous = [], GENESIS
    for n in range(length):
        content = sealed(EventContent(START + timedelta(minutes=n), 7, "owner@example.org",
                                      "organisation.updated", "organisation", str(40 + n),
                                      {"step": n, "name": "Café Zoë"}, previous))
        events.append((101 + n, content))
        previous = content.hash
    return events


def test_an_untouched_chain_is_intact_and_every_event_is_checked():
    report = verify_chain(build_chain(5))
    assert report.ok
    assert report.checked == 5
    assert report.broken_at is None


def test_an_empty_log_is_intact():
    report = verify_chain([])
    assert report.ok and report.checked == 0


@pytest.mark.parametrize("position", [0, 2, 4])
def test_a_changed_detail_is_reported_at_that_event(position):
    events = build_chain(5)
    event_id, content = events[position]
    events[position] = (event_id, replace(content, details={**content.details, "step": 99}))
    report = verify_chain(events)
    assert not report.ok
    assert report.broken_at == event_id
    assert report.checked == position
    assert "content" in report.problem


@pytest.mark.parametrize("field, value", [
    ("occurred_at", START + timedelta(days=1)),
    ("actor_id", 8),
    ("actor_label", "someone-else@example.org"),
    ("action", "organisation.registered"),
    ("object_type", "user"),
    ("object_id", "999"),
])
def test_every_field_the_hash_covers_shows_tampering(field, value):
    events = build_chain(3)
    event_id, content = events[1]
    events[1] = (event_id, replace(content, **{field: value}))
    assert verify_chain(events).broken_at == event_id


def test_a_changed_previous_hash_is_reported_at_that_event():
    events = build_chain(5)
    event_id, content = events[3]
    # Re-sealed with a forged link: its own hash is consistent, but it no longer follows event 3.
    events[3] = (event_id, sealed(replace(content, prev_hash="f" * 64)))
    report = verify_chain(events)
    assert report.broken_at == event_id
    assert "previous-hash" in report.problem


def test_a_first_event_that_does_not_start_from_genesis_is_reported():
    events = build_chain(2)
    event_id, content = events[0]
    events[0] = (event_id, sealed(replace(content, prev_hash="a" * 64)))
    assert verify_chain(events).broken_at == event_id


def test_a_deleted_middle_event_is_reported_at_the_event_after_the_gap():
    events = build_chain(5)
    del events[2]  # event 103
    report = verify_chain(events)
    assert report.broken_at == 104
    assert report.checked == 2


def test_a_reordered_pair_is_reported_at_the_first_event_out_of_place():
    events = build_chain(5)
    events[1], events[2] = events[2], events[1]  # 103 now comes before 102
    report = verify_chain(events)
    assert report.broken_at == 103
    assert report.checked == 1


def test_the_first_broken_link_is_the_one_reported():
    events = build_chain(5)
    for position in (1, 3):
        event_id, content = events[position]
        events[position] = (event_id, replace(content, actor_label="forged"))
    assert verify_chain(events).broken_at == 102


def test_the_hash_depends_on_the_previous_hash():
    _, content = build_chain(1)[0]
    assert compute_hash(content) != compute_hash(replace(content, prev_hash="1" * 64))


def test_the_hash_is_a_sha256_hex_digest_and_repeatable():
    _, content = build_chain(1)[0]
    digest = compute_hash(content)
    assert len(digest) == 64 and set(digest) <= set("0123456789abcdef")
    assert compute_hash(replace(content)) == digest


def test_the_hash_ignores_key_order_in_details_and_the_time_zone_of_the_same_instant():
    _, content = build_chain(1)[0]
    reordered = replace(content, details=dict(reversed(list(content.details.items()))))
    in_london = replace(content, occurred_at=content.occurred_at.astimezone(ZoneInfo("Europe/London")))
    naive_utc = replace(content, occurred_at=content.occurred_at.replace(tzinfo=None))
    assert compute_hash(reordered) == compute_hash(in_london) == compute_hash(naive_utc) == compute_hash(content)


def test_the_hash_tells_apart_instants_a_microsecond_apart():
    _, content = build_chain(1)[0]
    later = replace(content, occurred_at=content.occurred_at + timedelta(microseconds=1))
    assert compute_hash(later) != compute_hash(content)
