"""The provider dashboard's lists, kept between visits while nothing they show has changed.

On a deadline day providers open "Your bids" again and again, and for an organisation with hundreds of bids every
visit orders all of them. So the rendered lists (everything on the page below its heading that comes from the
database) are kept in the page cache's shared store (`pagecache.fragment`: Redis when configured, else each
process's own), under a key that says everything they depend on:
- **the organisation and the page number**: only `/bids` and `/bids?page=N` up to `CACHED_PAGES`; any other query
  string is rendered afresh, so that nobody can fill the store with addresses;
- **the organisation's bids version** (`OrganisationBidsVersion`): database triggers move it on in the same
  transaction as a bid started, deleted or moved to another status, or a version sealed, withdrawn or deleted,
  whoever writes. Autosaves do not move it: a draft's answers are not on the dashboard;
- **the public version** (`pagecache`): every change to an opportunity's title, deadline or state moves it on;
- **the minute**: deadlines pass and "closes in …" counts down (deadlines are set to the minute).

Both versions are read in one statement, so a visit served from the store costs that and the signed-in user's.
Nothing in the lists depends on who in the organisation is looking: every member may see all of its bids.
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable

import sqlalchemy as sa
from flask import request

from marketplace import pagecache
from marketplace.bids.models import OrganisationBidsVersion
from marketplace.extensions import db
from marketplace.pagination import page_number

CACHED_PAGES = 50  # a thousand bids at twenty a page

_PUBLIC, _OWN = pagecache.PublicVersion.__table__.c, OrganisationBidsVersion.__table__.c
_VERSIONS = sa.select(  # table columns, run on the connection: a plain statement, not an ORM query
    sa.select(_PUBLIC.version).scalar_subquery(),
    sa.select(_OWN.version).where(_OWN.organisation_id == sa.bindparam("organisation_id")).scalar_subquery())


def lists(organisation_id: int, now: datetime, render: Callable[[], str]) -> str:
    """The organisation's dashboard lists at `now`, from the store when they are there, else `render()`ed."""
    key = _key(organisation_id, now) if pagecache.enabled() else None
    return render() if key is None else pagecache.fragment(key, render)


def _key(organisation_id: int, now: datetime) -> str | None:
    number = page_number()
    if set(request.args) - {"page"} or number > CACHED_PAGES:
        return None
    public, own = db.session.connection().execute(_VERSIONS, {"organisation_id": organisation_id}).one()
    if public is None:
        return None
    return f"dashboard|{organisation_id}|{number}|{own or 0}|{public}|{now:%Y%m%d%H%M}"
