"""What every response carries in every environment: a request id and one structured log line per request,
security headers with a content security policy that allows no inline script, HSTS under TLS, and an idle
timeout that signs a user out after SESSION_IDLE_MINUTES without a request."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from datetime import datetime, timezone

from flask import Flask, Response, flash, g, request, session
from flask_login import current_user, logout_user
from werkzeug.routing import IntegerConverter

REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
LAST_SEEN = "_last_seen"
# The last-seen time is rewritten at most once a minute: the timeout is counted in minutes, and a session that is not
# changed is not signed and sent back as a new cookie on every response.
LAST_SEEN_STEP = 60

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "font-src 'self'",
    "connect-src 'self'", "object-src 'none'", "base-uri 'self'", "form-action 'self'", "frame-ancestors 'none'",
))
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=31536000; includeSubDomains"

log = logging.getLogger("marketplace.request")


class RowIdConverter(IntegerConverter):
    """`<int:...>` in every route: a number too large for a database key does not match (404), rather than
    reaching the database and failing there (SQLite overflows past 2**63, PostgreSQL's integer past 2**31)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def request_id() -> str:
    return getattr(g, "request_id", "")


def _incoming_request_id() -> str:
    """A proxy's request id when it is a plain token; otherwise a new one (never echo arbitrary input)."""
    given = request.headers.get(REQUEST_ID_HEADER, "")
    return given if _SAFE_REQUEST_ID.match(given) else uuid.uuid4().hex


def _start() -> None:
    g.request_id = _incoming_request_id()
    g.request_started = time.perf_counter()


def _idle_timeout(app: Flask):
    def check() -> None:
        if request.endpoint == "static" or not current_user.is_authenticated:
            return
        now = int(time.time())
        limit = app.config["SESSION_IDLE_MINUTES"] * 60
        last_seen = session.get(LAST_SEEN)
        if last_seen is not None and now - int(last_seen) > limit:
            logout_user()
            session.pop(LAST_SEEN, None)
            flash("You were signed out because you had not used the service for a while. Sign in again.", "info")
            return
        if last_seen is None or now - int(last_seen) >= LAST_SEEN_STEP:
            session[LAST_SEEN] = now
    return check


def _finish(app: Flask):
    def finish(response: Response) -> Response:
        for header, value in SECURITY_HEADERS.items():
            response.headers.setdefault(header, value)
        if request.is_secure or app.config.get("PREFERRED_URL_SCHEME") == "https":
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        response.headers[REQUEST_ID_HEADER] = request_id()
        _log(response)
        return response
    return finish


def _log(response: Response) -> None:
    if request.endpoint == "static":
        return
    started = getattr(g, "request_started", None)
    record = {
        "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
        "request_id": request_id(), "method": request.method, "path": request.path,
        "endpoint": request.endpoint, "status": response.status_code,
        "duration_ms": None if started is None else round((time.perf_counter() - started) * 1000, 1),
        "user_id": current_user.get_id() if current_user and current_user.is_authenticated else None,
    }
    log.info(json.dumps(record))


class JsonLineFormatter(logging.Formatter):
    """The request line is JSON already; other records become JSON with their request id."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.name == log.name:
            return message
        return json.dumps({"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(),
                           "level": record.levelname, "logger": record.name, "message": message})


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = RowIdConverter  # before any blueprint adds its routes
    hops = app.config.get("PROXY_HOPS", 0)
    if hops:  # behind a proxy: client address and scheme from its X-Forwarded-* headers (rate limits, HSTS)
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.before_request(_start)
    app.before_request(_idle_timeout(app))
    app.after_request(_finish(app))
    if app.config.get("REQUEST_LOG") and not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(JsonLineFormatter())
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
