"""Which stored award-report PDF the status page shows and a new request reuses, and how its size reads (pure)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from marketplace.reports.renders import LOST, LOST_AFTER, NONE, OUT_OF_DATE, choose, error_of, size_words

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=timezone.utc)
CURRENT, OLDER = "a" * 64, "b" * 64


def render(status: str, fingerprint: str = CURRENT, minutes_ago: int = 1, error: str | None = None):
    return SimpleNamespace(status=status, fingerprint=fingerprint, requested_at=NOW - timedelta(minutes=minutes_ago),
                           error=error)


def test_a_render_still_queued_is_shown_and_reused_before_any_other():
    queued = render("queued", OLDER)
    shown = choose([render("failed"), queued, render("ready")], CURRENT, NOW)
    assert shown.render is queued and shown.state == "queued" and shown.reusable


def test_a_ready_render_of_the_report_as_it_is_now_is_reused_even_behind_a_newer_failure():
    ready = render("ready")
    shown = choose([render("failed", error="Something went wrong."), ready], CURRENT, NOW)
    assert shown.render is ready and shown.state == "ready" and shown.reusable


def test_a_ready_render_of_an_older_report_is_out_of_date_and_not_reused():
    shown = choose([render("ready", OLDER)], CURRENT, NOW)
    assert shown.state == OUT_OF_DATE and not shown.reusable


def test_the_newest_failure_is_shown_with_its_message_when_nothing_can_be_reused():
    failed = render("failed", error="Something went wrong.")
    shown = choose([failed, render("ready", OLDER)], CURRENT, NOW)
    assert shown.render is failed and shown.state == "failed" and shown.error == "Something went wrong."
    assert not shown.reusable


def test_a_render_queued_for_longer_than_a_job_can_take_was_lost_and_counts_as_failed():
    lost = render("queued", minutes_ago=int(LOST_AFTER.total_seconds() // 60) + 1)
    shown = choose([lost], CURRENT, NOW)
    assert shown.state == "failed" and not shown.reusable and error_of(lost, NOW) == LOST


def test_no_render_yet():
    shown = choose([], CURRENT, NOW)
    assert shown.render is None and shown.state == NONE and shown.error == ""


def test_sizes_read_in_kilobytes_then_megabytes():
    assert [size_words(n) for n in (0, 300, 840 * 1024, 1024 * 1024, 2_516_582)] == \
        ["1 KB", "1 KB", "840 KB", "1.0 MB", "2.4 MB"]
