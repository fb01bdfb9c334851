"""Scale-out: two app processes (gunicorn, as in production) over one database and one Redis share everything a
user's requests need: the signed-in session and its CSRF token, the sign-in rate limit, and queued jobs that a
third process (`flask jobs-worker`) runs. Nothing lives in one process's memory that another needs."""

from __future__ import annotations

import http.cookiejar
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import psycopg
import pytest
import redis

from config import BASE_DIR
from tests.redis_dbs import private_redis_url

REDIS_URL = private_redis_url(14)  # emptied before each test
PASSWORD = "correct horse battery staple"
EMAIL = "admin@kent.example"
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database(tmp_path: Path) -> str:
    """A database of its own: PostgreSQL when the suite runs on it, else a SQLite file both processes open."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        return f"sqlite:///{tmp_path / 'shared.sqlite'}"
    name = f"procs_{os.getpid()}"
    admin = base.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin.replace("+psycopg", ""), autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name}")
        connection.execute(f"CREATE DATABASE {name}")
    return base.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="module")
def environment(tmp_path_factory, smtp_server):
    assert redis.Redis.from_url(REDIS_URL).ping(), "Redis is needed at 127.0.0.1:6379 (.ci/run starts it)"
    tmp_path = tmp_path_factory.mktemp("two-processes")
    env = {**os.environ, "MARKETPLACE_ENV": "development", "SECRET_KEY": secrets.token_urlsafe(40),
           "DATABASE_URL": _database(tmp_path), "REDIS_URL": REDIS_URL, "JOB_QUEUE": "rq",
           "MAIL_BACKEND": "smtp", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp_server.port),
           "SIGN_IN_RATE_LIMIT": "6 per minute", "MARKETPLACE_INSTANCE_PATH": str(tmp_path / "instance"),
           "FLASK_APP": "wsgi.py", "SERVER_NAME": ""}
    env.pop("TEST_DATABASE_URL", None)
    flask = [str(BIN / "flask")]
    subprocess.run(flask + ["db", "upgrade"], env=env, cwd=BASE_DIR, check=True, capture_output=True)
    subprocess.run(flask + ["create-admin", EMAIL, "--password", PASSWORD], env=env, cwd=BASE_DIR, check=True,
                   capture_output=True)
    return env


@pytest.fixture(autouse=True)
def empty_redis():
    """Each test starts with no rate-limit counts and no queued jobs."""
    redis.Redis.from_url(REDIS_URL).flushdb()


@pytest.fixture(scope="module")
def two_processes(environment):
    ports, servers = [_free_port(), _free_port()], []
    for port in ports:
        servers.append(subprocess.Popen([str(BIN / "gunicorn"), "--workers", "1", "--bind", f"127.0.0.1:{port}",
                                         "wsgi:app"], env=environment, cwd=BASE_DIR, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL))
    try:
        for port in ports:
            _wait_for(port)
        yield [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)


def _wait_for(port: int) -> None:
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5)
            return
        except OSError:  # refused, reset or still booting
            time.sleep(0.1)
    raise AssertionError(f"the app on port {port} did not start")


class Browser:
    """Cookies shared across both processes, as a browser behind a load balancer would send them."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), self._NoRedirect)

    def request(self, url: str, data: dict | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(url, body, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def csrf(self, url: str) -> str:
        status, page = self.request(url)
        assert status == 200
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def test_a_session_signed_in_on_one_process_is_signed_in_on_the_other(two_processes):
    first, second = two_processes
    browser = Browser()
    token = browser.csrf(f"{first}/sign-in")
    status, _ = browser.request(f"{second}/sign-in", {"csrf_token": token, "email": EMAIL, "password": PASSWORD})
    assert status == 302  # the token from the first process is good on the second
    assert browser.request(f"{first}/account")[0] == 200
    assert browser.request(f"{second}/account")[0] == 200


def test_the_sign_in_rate_limit_counts_attempts_made_on_either_process(two_processes):
    first, second = two_processes
    browser = Browser()
    token = browser.csrf(f"{first}/sign-in")
    statuses = [browser.request(f"{base}/sign-in", {"csrf_token": token, "email": EMAIL, "password": "wrong"})[0]
                for base in (first, second) * 4]
    assert statuses[:6] == [200] * 6  # the form again, with its error
    assert statuses[6:] == [429, 429]


def test_a_job_queued_by_one_process_is_run_by_a_worker_process(two_processes, environment, mailbox):
    first, _ = two_processes
    browser = Browser()
    token = browser.csrf(f"{first}/forgot-password")
    assert browser.request(f"{first}/forgot-password", {"csrf_token": token, "email": EMAIL})[0] == 200
    assert mailbox.to(EMAIL) == []  # queued in Redis, not sent by the web process
    subprocess.run([str(BIN / "flask"), "jobs-worker", "--burst"], env=environment, cwd=BASE_DIR, check=True,
                   capture_output=True, timeout=60)
    assert len(mailbox.to(EMAIL)) == 1
    assert "/reset-password/" in mailbox.last_body(EMAIL)
