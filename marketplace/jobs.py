"""Work that can leave the request: run in-process by default, or on an RQ queue in Redis when
JOB_QUEUE=rq (production), where `flask jobs-worker` processes run it.

Jobs are registered by name with plain, serialisable arguments (bytes, str, numbers), so a worker on another
machine needs nothing from the process that queued them:

    @job("email.deliver")
    def deliver(message: bytes) -> None: ...

    enqueue("email.deliver", bytes(message))
"""

from __future__ import annotations

from typing import Any, Callable

from flask import Flask, current_app

QUEUE_NAME = "marketplace"
_REGISTRY: dict[str, Callable[..., Any]] = {}
_worker_app: Flask | None = None


def job(name: str):
    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        _REGISTRY[name] = function
        return function
    return register


def queue(app: Flask | None = None):
    """The RQ queue, or None when jobs run in-process."""
    config = (app or current_app).config
    if config.get("JOB_QUEUE") != "rq":
        return None
    from redis import Redis
    from rq import Queue

    return Queue(QUEUE_NAME, connection=Redis.from_url(config["REDIS_URL"]))


def enqueue(name: str, *args: Any) -> str | None:
    """Run job `name` now, or queue it; returns the RQ job id when queued."""
    if name not in _REGISTRY:
        raise KeyError(f"No job named {name!r}")
    rq_queue = queue()
    if rq_queue is None:
        _REGISTRY[name](*args)
        return None
    return rq_queue.enqueue(run, name, *args, job_timeout=600, result_ttl=3600, failure_ttl=7 * 24 * 3600).id


def run(name: str, *args: Any) -> Any:
    """The worker's entry point: the job inside an application context (one app per worker process)."""
    global _worker_app
    if _worker_app is None:
        from marketplace import create_app

        _worker_app = create_app()
    with _worker_app.app_context():
        return _REGISTRY[name](*args)


def init_cli(app: Flask) -> None:
    import click

    @app.cli.command("jobs-worker")
    @click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
    def jobs_worker(burst: bool) -> None:
        """Process queued jobs (email, large PDFs) from Redis: run as many as the load needs."""
        from rq import Worker

        rq_queue = queue(app)
        if rq_queue is None:
            raise click.ClickException("Set JOB_QUEUE=rq and REDIS_URL to use a worker; by default jobs run "
                                       "in the web process.")
        Worker([rq_queue], connection=rq_queue.connection).work(burst=burst)
