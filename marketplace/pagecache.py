"""Public pages served from a cache to visitors who are not signed in.

On a deadline day most requests are anonymous visits to the same few public pages: the opportunity list and its
searches, opportunity pages, the contracts register, the spend dashboard. Those pages are the same for every visitor
who is not signed in, so each process keeps the pages it has rendered (a bounded in-memory cache) and serves them
again while nothing public has changed.

What keeps a cached page right:
- **The public version.** `public_version` holds one number. A database trigger on every table that public pages
  read adds one to it in the same transaction as the change (migration 0009; a migration that adds such a table adds its trigger the same way), whoever writes: a request in any
  process, a job, the command line, or a database console. A page is cached under the version it was rendered at,
  so the first request after a commit renders afresh. The tables no public page reads (users and sign-in
  bookkeeping, the audit log, saved searches, and bids: sealed until the deadline, and unchangeable by bidders
  after it) have no trigger, so bid autosaves and sign-ins do not empty the cache. `tests` check that every other
  table has the trigger.
- **The minute.** Pages say "closes in 3 days, 4 hours" and change state at the deadline; keys include the current
  minute (deadlines are set to the minute), and nothing is kept longer than PAGE_CACHE_SECONDS.
- **Only what is the same for everyone.** Signed-in users, requests with a message waiting for them, and responses
  that set a cookie, made a CSRF token or changed the session are neither served from nor stored in the cache.

Parts of signed-in pages are kept with `fragment`, under keys their callers make to say everything they depend on
(the provider dashboard's lists: marketplace/bids/dashboard.py).

PAGE_CACHE_SECONDS=0 turns it off. With REDIS_URL set, pages at plain addresses (an opportunity, the first page of
the list, the register) are kept in Redis, shared by every process; pages with a query string (searches, filters,
page numbers: endless in number) are kept by each process, PAGE_CACHE_ENTRIES at most, as every page is without
Redis. Bodies are stored compressed (a fifth of their size). The version lives in the database either way, so
processes never disagree about what is current. A cache that cannot be reached costs a render, never an error.
"""

from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass
from functools import wraps
from typing import Callable

import sqlalchemy as sa
from cachelib import RedisCache, SimpleCache
from flask import Flask, Response, current_app, g, request, session
from flask_login import current_user
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.extensions import db
from marketplace.timeutil import utcnow

log = logging.getLogger(__name__)
EXTENSION = "marketplace.page_cache"
VERSION_TABLE = "public_version"
# Tables no public page reads: writing them leaves cached pages current (no trigger; see the module's docstring).
UNSEEN_BY_THE_PUBLIC = frozenset({
    VERSION_TABLE, "alembic_version", "audit_events", "users", "staff_roles", "sign_in_throttles",
    "organisation_invitations", "saved_searches", "watches", "bids", "bid_answers", "price_lines",
    "social_value_commitments", "consortium_members", "bid_documents", "bid_submissions", "report_renders",
    "organisation_bids_versions",
})
_VERSION = sa.text("SELECT version FROM public_version")


class PublicVersion(db.Model):
    """One row: the number the triggers add one to whenever something a public page shows changes."""

    __tablename__ = VERSION_TABLE
    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)


@dataclass(frozen=True)
class Stores:
    local: SimpleCache  # this process's, bounded: pages with a query string (searches, filters, page numbers)
    shared: SimpleCache | RedisCache  # Redis when configured: pages at plain addresses, as many as there are pages


def init_app(app: Flask) -> None:
    seconds = int(app.config.get("PAGE_CACHE_SECONDS", 0))
    if seconds <= 0:
        return
    local = SimpleCache(threshold=int(app.config.get("PAGE_CACHE_ENTRIES", 500)), default_timeout=seconds)
    shared = local
    if app.config.get("REDIS_URL"):
        from redis import Redis

        shared = RedisCache(Redis.from_url(app.config["REDIS_URL"]), default_timeout=seconds, key_prefix="page:")
    app.extensions[EXTENSION] = Stores(local, shared)


def public_page(view: Callable) -> Callable:
    """Serve this view's page from the cache to visitors who are not signed in (see the module's docstring)."""

    @wraps(view)
    def cached_view(*args, **kwargs):
        stores = current_app.extensions.get(EXTENSION)
        key = _key() if stores is not None and _same_for_everyone() else None
        if key is None:
            return view(*args, **kwargs)
        # Only plain addresses go to Redis: there are no more of them than public pages, while query strings are
        # endless and could fill the memory that rate limits and the job queue share.
        store = stores.local if request.query_string else stores.shared
        hit = _quietly(store.get, key)
        if hit is not None:
            body, mimetype = hit
            return current_app.response_class(zlib.decompress(body), mimetype=mimetype)
        response = current_app.make_response(view(*args, **kwargs))
        if _storable(response):
            _quietly(store.set, key, (zlib.compress(response.get_data(), 1), response.mimetype))
        return response

    return cached_view


def enabled() -> bool:
    return EXTENSION in current_app.extensions


def fragment(key: str, render: Callable[[], str]) -> str:
    """Part of a page kept under `key`, or rendered when it is not kept (or the cache is off). The caller's key must
    say everything the part depends on (whose it is, the versions of the data it shows, the minute), so a kept copy
    is never out of date: each process keeps the parts it has served, in front of the shared store (Redis when
    configured), which spares most visits a round trip to Redis."""
    stores = current_app.extensions.get(EXTENSION)
    if stores is None:
        return render()
    key = f"part|{key}"
    kept = stores.local.get(key)
    if kept is None:
        kept = _quietly(stores.shared.get, key)
        if kept is None:
            kept = zlib.compress(render().encode(), 1)
            _quietly(stores.shared.set, key, kept)
        stores.local.set(key, kept)
    return zlib.decompress(kept).decode()


def _quietly(operation: Callable, *args):
    """A cache that cannot be reached (Redis restarting) costs a render, never an error page."""
    try:
        return operation(*args)
    except Exception:  # noqa: BLE001  (any failure of the cache's backend)
        log.warning("The page cache could not be used; the page is rendered.", exc_info=True)
        return None


def _same_for_everyone() -> bool:
    return (request.method in ("GET", "HEAD") and not current_user.is_authenticated
            and not session.get("_flashes"))


def _key() -> str | None:
    """The page's whole address (some pages give full links, such as the feed's), the public version and the
    minute; None when the version cannot be read."""
    version = db.session.connection().execute(_VERSION).scalar()
    if version is None:
        return None
    return f"{request.host_url}{request.full_path}|{version}|{utcnow():%Y%m%d%H%M}"


def _storable(response: Response) -> bool:
    return (response.status_code == 200 and "Set-Cookie" not in response.headers and "csrf_token" not in g
            and not session.modified)
