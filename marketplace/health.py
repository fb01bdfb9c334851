"""Readiness: the database answers, and Redis does when the portal is configured to use it."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from marketplace.extensions import db


def _database() -> str:
    try:
        db.session.execute(sa.text("SELECT 1"))
        return "ok"
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return "unreachable"


def _redis() -> str:
    url = current_app.config.get("REDIS_URL")
    if not url:
        return "not configured"
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()
        return "ok"
    except redis.RedisError:
        return "unreachable"


def check() -> tuple[dict, bool]:
    checks = {"database": _database(), "redis": _redis()}
    healthy = all(value in ("ok", "not configured") for value in checks.values())
    return {"status": "ok" if healthy else "unavailable", **checks}, healthy
