"""Redis databases for tests that empty one or count in one (the shared page cache, rate limits, the job queue).

xdist may run one module's tests in several workers at once, so each worker gets a database of its own: one test
emptying it, or counting sign-ins from 127.0.0.1 in it, cannot undo another's."""

from __future__ import annotations

import os

SPREAD = 5  # workers 0-4 get different databases; a sixth shares the first's


def private_redis_url(first: int) -> str:
    """Database `first` for worker gw0, `first - 1` for gw1, and so on."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    return f"redis://127.0.0.1:6379/{first - (int(worker) if worker.isdigit() else 0) % SPREAD}"
