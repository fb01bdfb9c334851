"""What the HTTP benchmarks share: the portal's app for seeding and checking, its migrations, gunicorn on a free
loopback port (stopped whatever happens), and percentiles.

Imported by the benchmark scripts as `benchmarks._harness` (the project root is put on the path first).
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def make_app(database_url: str, **config):
    from marketplace import create_app

    return create_app("development", {"SQLALCHEMY_DATABASE_URI": database_url, "MAIL_BACKEND": "console", **config})


def migrate(app) -> None:
    from flask_migrate import upgrade

    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(database_url: str, instance: Path, workers: int, threads: int, app: str = "wsgi:app",
             extra: tuple[str, ...] = ()):
    """gunicorn (gthread workers) serving `app` against the database, with `extra` command-line settings; yields
    its base URL; its output goes to instance/gunicorn.log."""
    port = free_port()
    environment = {**os.environ, "DATABASE_URL": database_url, "MARKETPLACE_ENV": "development",
                   "MARKETPLACE_INSTANCE_PATH": str(instance), "SECRET_KEY": secrets.token_hex(32),
                   "MAIL_BACKEND": "console", "SIGN_IN_RATE_LIMIT": "100000 per minute", "PYTHONUNBUFFERED": "1"}
    log = open(instance / "gunicorn.log", "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--threads", str(threads), "--worker-class", "gthread", "--timeout", "60", "--graceful-timeout", "5", *extra],
        cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(base, process, instance / "gunicorn.log")
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_until_up(base: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn stopped:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(f"{base}/", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer within a minute")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]
