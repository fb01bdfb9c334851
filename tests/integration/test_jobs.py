"""Jobs run in the web process by default; with JOB_QUEUE=rq they wait in Redis until a worker runs them, and
the worker delivers email through the same backend."""

from __future__ import annotations

import uuid

import pytest
import redis

from marketplace import jobs
from marketplace.email import send_email

REDIS_URL = "redis://127.0.0.1:6379/15"


def redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def test_by_default_email_is_delivered_in_the_request_without_a_queue(app, mailbox):
    with app.test_request_context():
        send_email("volunteer@example.org", "Hello", "bid_withdrawn", **_withdrawn_context())
    assert len(mailbox.to("volunteer@example.org")) == 1


def test_an_unknown_job_is_refused(app):
    with pytest.raises(KeyError):
        jobs.enqueue("no.such.job")


@pytest.mark.parametrize("app_overrides", [{"JOB_QUEUE": "rq", "REDIS_URL": REDIS_URL}])
def test_with_the_queue_email_waits_for_a_worker_then_the_worker_delivers_it(app, mailbox, monkeypatch):
    assert redis_up(), "Redis is needed at 127.0.0.1:6379 (.ci/run starts it)"
    queue = jobs.queue(app)
    queue.empty()
    address = f"queued-{uuid.uuid4().hex[:8]}@example.org"
    with app.test_request_context():
        send_email(address, "Queued", "bid_withdrawn", **_withdrawn_context())
    assert mailbox.to(address) == [] and queue.count == 1
    monkeypatch.setattr(jobs, "_worker_app", app)  # the worker process would build its own app
    from rq import SimpleWorker

    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    assert len(mailbox.to(address)) == 1 and queue.count == 0


def _withdrawn_context() -> dict:
    notice = {"actor_name": "Sam", "number": 1, "reference": "KCC-2026-0001", "title": "Befriending",
              "at": "1 March 2027 at 2pm", "sha256": "ab" * 32, "deadline": "2 March 2027 at noon"}
    return {"notice": notice, "link": "https://marketplace.kent.example/bids"}
