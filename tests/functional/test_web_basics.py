"""Every response carries security headers (a content security policy without inline script), a request id and
one JSON log line; /healthz reports the database and Redis; an idle session is signed out."""

from __future__ import annotations

import json
import logging
import time

import pytest

from marketplace import web
from tests.factories import PASSWORD, provider


def test_every_page_sends_a_content_security_policy_that_allows_no_inline_script(client):
    response = client.get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_no_template_holds_an_inline_script_or_event_handler(app):
    import re
    from pathlib import Path

    from config import BASE_DIR

    offenders = []
    for path in Path(BASE_DIR, "templates").rglob("*.html"):
        text = path.read_text()
        inline = [m for m in re.finditer(r"<script(?![^>]*\bsrc=)[^>]*>", text)]
        handlers = re.findall(r"\son[a-z]+\s*=\s*[\"']", text)
        if inline or handlers:
            offenders.append(str(path.relative_to(BASE_DIR)))
    assert offenders == []


def test_hsts_is_sent_only_over_tls(client):
    assert "Strict-Transport-Security" not in client.get("/").headers
    secure = client.get("/", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_a_request_id_is_generated_echoed_from_a_proxy_and_never_taken_from_hostile_input(client):
    generated = client.get("/").headers[web.REQUEST_ID_HEADER]
    assert len(generated) == 32
    assert client.get("/", headers={web.REQUEST_ID_HEADER: "proxy-abc-12345"}).headers[web.REQUEST_ID_HEADER] \
        == "proxy-abc-12345"
    hostile = client.get("/", headers={web.REQUEST_ID_HEADER: "<script>alert(1)</script>"})
    assert len(hostile.headers[web.REQUEST_ID_HEADER]) == 32
    assert "<" not in hostile.headers[web.REQUEST_ID_HEADER]


def test_each_request_is_logged_as_one_json_line_with_its_request_id(client, caplog):
    with caplog.at_level(logging.INFO, logger="marketplace.request"):
        response = client.get("/opportunities")
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "marketplace.request"]
    assert lines[-1]["request_id"] == response.headers[web.REQUEST_ID_HEADER]
    assert lines[-1]["path"] == "/opportunities" and lines[-1]["status"] == 200
    assert lines[-1]["duration_ms"] >= 0


def test_healthz_reports_the_database_and_that_redis_is_not_configured_by_default(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "redis": "not configured"}


@pytest.mark.parametrize("app_overrides", [{"REDIS_URL": "redis://127.0.0.1:1/0"}])
def test_healthz_answers_503_when_redis_is_configured_but_unreachable(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["redis"] == "unreachable" and response.json["status"] == "unavailable"


@pytest.mark.parametrize("app_overrides", [{"SESSION_IDLE_MINUTES": 30}])
def test_a_session_idle_for_longer_than_the_limit_is_signed_out(client, as_user):
    user = provider()
    as_user(user)
    assert client.get("/account").status_code == 200
    with client.session_transaction() as session:
        session[web.LAST_SEEN] = int(time.time()) - 31 * 60
    response = client.get("/account")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    with client.session_transaction() as session:
        assert "_user_id" not in session


@pytest.mark.parametrize("app_overrides", [{"SESSION_IDLE_MINUTES": 30}])
def test_a_session_in_use_stays_signed_in(client, as_user):
    as_user(provider())
    with client.session_transaction() as session:
        session[web.LAST_SEEN] = int(time.time()) - 29 * 60
    assert client.get("/account").status_code == 200


def test_a_session_signed_in_through_the_form_is_kept_for_hours_and_not_sent_again_with_every_page(client):
    """Signing in makes the session permanent (it outlives the browser); Flask would otherwise sign it again and
    send it with every response, however little changed."""
    user = provider()
    response = client.submit("/sign-in", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302 and "Expires=" in response.headers["Set-Cookie"]
    client.get("/account")

    assert [client.get(path).headers.get("Set-Cookie") for path in ("/account", "/bids", "/account")] == [None] * 3
    assert client.get("/account").status_code == 200


@pytest.mark.parametrize("app_overrides", [{"SESSION_IDLE_MINUTES": 30}])
def test_the_last_seen_time_moves_on_at_most_once_a_minute_so_most_pages_send_no_new_cookie(client, as_user):
    as_user(provider())
    client.get("/account")
    assert "Set-Cookie" not in client.get("/account").headers
    with client.session_transaction() as session:
        session[web.LAST_SEEN] = int(time.time()) - 61
    assert "Set-Cookie" in client.get("/account").headers
    with client.session_transaction() as session:
        assert int(time.time()) - session[web.LAST_SEEN] < 5


@pytest.mark.parametrize("app_overrides", [{"PROXY_HOPS": 1}])
def test_behind_one_proxy_the_forwarded_scheme_counts_as_tls(client):
    response = client.get("/", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"})
    assert "Strict-Transport-Security" in response.headers


def test_without_a_declared_proxy_forwarded_headers_are_ignored(client):
    response = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers


@pytest.mark.parametrize("path", ["/opportunities/2147483648", "/opportunities/99999999999999999999999",
                                  "/commissioning/99999999999999999999999"])
def test_an_id_too_large_for_the_database_answers_404_not_500(client, path):
    assert client.get(path).status_code == 404
