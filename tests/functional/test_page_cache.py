"""Public pages served again from the cache to visitors who are not signed in (marketplace/pagecache.py): what is
shown stays current, and nothing personal is ever stored or served."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from marketplace import create_app, pagecache
from marketplace.extensions import db
from marketplace.timeutil import utcnow
from tests.builders import make_bid, make_opportunity
from tests.conftest import sign_in_as
from tests.factories import OrganisationFactory, StaffFactory, provider
from tests.redis_dbs import private_redis_url
from tests.sql import statements_sent

SHARED_CACHE = private_redis_url(9)  # emptied by the tests that use it

PUBLIC_PAGES = ("/opportunities", "/opportunities?q=befriending&status=any", "/contracts", "/spending",
                "/right-to-bid", "/opportunities.atom")


@pytest.fixture(autouse=True)
def same_minute(monkeypatch):
    """The cache's clock stands still, so that a test's two visits never fall either side of a minute's end."""
    now = utcnow()
    monkeypatch.setattr(pagecache, "utcnow", lambda: now)


def statements_for(client, url: str) -> list[str]:
    with statements_sent() as statements:
        assert client.get(url).status_code == 200
    return statements


def public_version() -> int:
    return db.session.execute(sa.text("SELECT version FROM public_version")).scalar_one()


@pytest.fixture()
def opportunity(app):
    return make_opportunity(StaffFactory(roles=["commissioner"]))


@pytest.mark.parametrize("url", PUBLIC_PAGES)
def test_a_public_page_is_rendered_once_then_served_with_one_query_until_something_public_changes(client, opportunity,
                                                                                                 url):
    assert len(statements_for(client, url)) > 1
    assert len(statements_for(client, url)) == 1  # the public version, nothing else


def test_an_opportunity_page_is_served_from_the_cache(client, opportunity):
    url = f"/opportunities/{opportunity.id}"
    statements_for(client, url)
    assert len(statements_for(client, url)) == 1


def test_a_change_to_an_opportunity_shows_on_the_next_visit(client, opportunity):
    url = f"/opportunities/{opportunity.id}"
    assert "Befriending for older people" in client.get(url).get_data(as_text=True)
    before = public_version()
    opportunity.title = "Lunch clubs in Swale"
    db.session.commit()
    assert public_version() > before
    for page in (url, "/opportunities"):
        assert "Lunch clubs in Swale" in client.get(page).get_data(as_text=True)


def test_a_change_written_outside_the_orm_also_shows(client, opportunity):
    client.get("/opportunities")
    db.session.execute(sa.text("UPDATE opportunities SET title = 'Meals on wheels' WHERE id = :id"),
                       {"id": opportunity.id})
    db.session.commit()
    assert "Meals on wheels" in client.get("/opportunities").get_data(as_text=True)


def test_saving_a_bid_leaves_the_cached_pages_current(client, opportunity):
    """Bids are sealed: nothing public changes when one is written, so a deadline day's autosaves keep the cache."""
    bidder = OrganisationFactory()
    client.get("/opportunities")
    before = public_version()
    make_bid(opportunity, bidder)
    assert public_version() == before
    assert len(statements_for(client, "/opportunities")) == 1


def test_a_new_minute_renders_afresh_so_countdowns_and_deadlines_stay_right(client, opportunity, monkeypatch):
    statements_for(client, "/opportunities")
    later = utcnow() + timedelta(minutes=1)
    monkeypatch.setattr(pagecache, "utcnow", lambda: later)
    assert len(statements_for(client, "/opportunities")) > 1


def test_signed_in_users_are_never_served_or_stored_a_cached_page(client, opportunity):
    anonymous = client.get("/opportunities").get_data(as_text=True)
    assert "Your bids" not in anonymous
    user = provider()
    sign_in_as(client, user)
    assert "Your bids" in client.get("/opportunities").get_data(as_text=True)
    assert len(statements_for(client, "/opportunities")) > 1
    client.post("/sign-out", data={"csrf_token": client.csrf_token("/opportunities")})
    with client.session_transaction() as session:
        session.clear()
    assert "Your bids" not in client.get("/opportunities").get_data(as_text=True)


def test_a_message_waiting_for_a_visitor_is_shown_to_them_and_never_to_anyone_else(app, client, opportunity):
    client.get("/opportunities")
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "Your account is deleted.")]
    assert "Your account is deleted." in client.get("/opportunities").get_data(as_text=True)
    other = app.test_client()
    assert "Your account is deleted." not in other.get("/opportunities").get_data(as_text=True)


def test_a_draft_is_not_found_for_visitors_and_appears_once_published(client, opportunity):
    opportunity.status, opportunity.published_at = "draft", None
    db.session.commit()
    url = f"/opportunities/{opportunity.id}"
    assert client.get(url).status_code == 404
    assert client.get(url).status_code == 404
    opportunity.status, opportunity.published_at = "published", utcnow()
    db.session.commit()
    assert client.get(url).status_code == 200


def test_a_page_with_full_links_is_kept_apart_for_each_address_the_service_is_reached_at(client, opportunity):
    first = client.get("/opportunities.atom", base_url="https://marketplace.kent.example").get_data(as_text=True)
    other = client.get("/opportunities.atom", base_url="http://internal.example").get_data(as_text=True)
    assert "https://marketplace.kent.example/" in first and "marketplace.kent.example" not in other


def test_with_the_cache_turned_off_every_visit_renders(app, client, opportunity):
    app.extensions.pop(pagecache.EXTENSION)
    statements_for(client, "/opportunities")
    assert len(statements_for(client, "/opportunities")) > 1


def test_every_table_a_public_page_may_read_has_the_public_version_trigger(app):
    """A new table gets the trigger in its migration, or is declared unseen by the public in marketplace/pagecache."""
    inspector = sa.inspect(db.engine)
    if db.engine.dialect.name == "postgresql":
        triggered = set(db.session.execute(sa.text(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname LIKE '%\\_public\\_version'")).scalars())
    else:
        triggered = set(db.session.execute(sa.text(
            "SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%\\_public\\_version\\_%' "
            "ESCAPE '\\'")).scalars())
    tables = set(inspector.get_table_names())
    assert tables - pagecache.UNSEEN_BY_THE_PUBLIC - triggered == set()
    assert triggered & pagecache.UNSEEN_BY_THE_PUBLIC == set()


@pytest.mark.parametrize("app_overrides", [{"REDIS_URL": SHARED_CACHE}])
def test_with_redis_every_process_shares_the_cached_pages(app, client, opportunity):
    from redis import Redis

    Redis.from_url(app.config["REDIS_URL"]).flushdb()
    statements_for(client, "/opportunities")
    another_process = create_app("test", {**{k: app.config[k] for k in ("SQLALCHEMY_DATABASE_URI", "REDIS_URL")}})
    with another_process.app_context():
        assert len(statements_for(another_process.test_client(), "/opportunities")) == 1
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("app_overrides", [{"REDIS_URL": SHARED_CACHE}])
def test_with_redis_a_search_is_kept_by_its_own_process_so_endless_query_strings_cannot_fill_redis(app, client,
                                                                                                  opportunity):
    from redis import Redis

    redis = Redis.from_url(app.config["REDIS_URL"])
    redis.flushdb()
    statements_for(client, "/opportunities?q=befriending&status=any")
    assert len(statements_for(client, "/opportunities?q=befriending&status=any")) == 1
    assert redis.keys("page:*") == []
    statements_for(client, f"/opportunities/{opportunity.id}")
    assert len(redis.keys("page:*")) == 1


@pytest.mark.parametrize("app_overrides", [{"REDIS_URL": "redis://127.0.0.1:1/0"}])
def test_a_cache_that_cannot_be_reached_costs_a_render_not_an_error(client, opportunity):
    assert "Befriending for older people" in client.get("/opportunities").get_data(as_text=True)
