"""The provider dashboard's lists are kept between visits (marketplace/bids/dashboard.py): served again without
ordering the bids, they still show every change the moment it is committed, whoever makes it, and never another
organisation's bids."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from marketplace import create_app, pagecache
from marketplace.bids import answering, rules, submission
from marketplace.bids.models import Bid
from marketplace.extensions import db
from marketplace.opportunities.models import Opportunity
from marketplace.timeutil import utcnow
from tests.builders import make_bid, make_opportunity
from tests.conftest import sign_in_as
from tests.factories import OrganisationFactory, StaffFactory, colleague, provider
from tests.integration.test_bid_preparation import criterion_of
from tests.integration.test_bid_submission import fresh
from tests.redis_dbs import private_redis_url
from tests.sql import statements_sent

SHARED_CACHE = private_redis_url(9)  # the page cache's tests' database: each empties it first


@pytest.fixture(autouse=True)
def same_minute(monkeypatch):
    """The dashboard's clock stands still, so that a test's two visits never fall either side of a minute's end."""
    now = utcnow()
    monkeypatch.setattr("marketplace.bids.views_submit.utcnow", lambda: now)


@pytest.fixture()
def commissioner(app):
    return StaffFactory(roles=["commissioner"])


@pytest.fixture()
def organisation(app):
    return OrganisationFactory(legal_name="Thanet Befriending Trust")


@pytest.fixture()
def owner(organisation):
    return provider(organisation, email="owner@befriending.example")


@pytest.fixture()
def opportunity(commissioner):
    return make_opportunity(commissioner, title="Befriending in Thanet")


@pytest.fixture()
def bid(opportunity, organisation):
    return make_bid(opportunity, organisation)


def visit(client, url: str = "/bids") -> tuple[str, list[str]]:
    with statements_sent() as statements:
        response = client.get(url)
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True)), statements


def without_form_tokens(page: str) -> str:
    """The page without its CSRF tokens (the sign-out form's), which carry the second they were made."""
    return re.sub(r'name="csrf_token" value="[^"]*"', "", page)


def bids_read(statements: list[str]) -> bool:
    return any("FROM bids" in statement for statement in statements)


def test_a_second_visit_is_served_from_the_cache_without_reading_the_bids(client, as_user, owner, bid):
    as_user(owner)
    first, statements = visit(client)
    assert bids_read(statements)

    again, statements = visit(client)

    assert not bids_read(statements) and len(statements) == 2  # the signed-in user, then the two versions
    assert without_form_tokens(again) == without_form_tokens(first)


def test_a_submission_shows_at_once_on_the_cached_dashboard(client, app, as_user, owner, bid):
    as_user(owner)
    assert "Not submitted yet" in visit(client)[0]

    with app.test_request_context("/"):
        submission.submit(owner, bid, fresh(bid).version)

    page, statements = visit(client)
    assert bids_read(statements) and "Submitted" in page and "Version 1" in page
    assert "Not submitted yet" not in page


def test_a_withdrawal_shows_at_once_on_the_cached_dashboard(client, app, as_user, owner, bid):
    with app.test_request_context("/"):
        submission.submit(owner, bid, fresh(bid).version)
    as_user(owner)
    assert "(withdrawn)" not in visit(client)[0]

    with app.test_request_context("/"):
        submission.withdraw(owner, fresh(bid), 1)

    assert "(withdrawn)" in visit(client)[0]


def test_a_status_written_outside_the_application_shows_at_once(client, as_user, owner, bid, opportunity):
    """The triggers move the version on whoever writes: here a plain UPDATE, as a console or a bulk job would."""
    opportunity.submission_deadline, opportunity.status = utcnow() - timedelta(days=1), "evaluating"
    db.session.commit()
    as_user(owner)
    assert "Successful" not in visit(client)[0]

    db.session.execute(sa.update(Bid).where(Bid.id == bid.id).values(status=rules.SUCCESSFUL))
    db.session.commit()

    assert "Successful" in visit(client)[0]


def test_a_new_bid_shows_at_once_on_the_cached_dashboard(client, as_user, owner, organisation, bid, commissioner):
    another = make_opportunity(commissioner, title="Lunch clubs in Swale")
    as_user(owner)
    assert "1 bid in all" in visit(client)[0]

    make_bid(another, organisation)

    page = visit(client)[0]
    assert "2 bids in all" in page and "Lunch clubs in Swale" in page


def test_an_amended_opportunity_shows_at_once_on_the_cached_dashboard(client, as_user, owner, bid, opportunity):
    as_user(owner)
    visit(client)

    opportunity.title = "Befriending and lunch clubs in Thanet"
    db.session.commit()

    assert "Befriending and lunch clubs in Thanet" in visit(client)[0]


def test_an_autosave_leaves_the_cached_dashboard_in_place(client, app, as_user, owner, bid, opportunity):
    as_user(owner)
    visit(client)
    with app.test_request_context("/"):
        answering.save_answer(owner, bid.opportunity_id, criterion_of(opportunity, "quality").id,
                              "A new draft answer", fresh(bid).version)
    assert fresh(bid).version == 2

    assert not bids_read(visit(client)[1])


def test_a_deadline_passing_moves_the_bid_on_the_cached_dashboard(client, as_user, owner, bid, opportunity,
                                                                 monkeypatch):
    as_user(owner)
    assert "Not submitted yet" in visit(client)[0]

    later = opportunity.submission_deadline + timedelta(minutes=1)
    monkeypatch.setattr("marketplace.bids.views_submit.utcnow", lambda: later)

    page = visit(client)[0]
    assert "Not submitted by the deadline" in page and "Not submitted yet" not in page


def test_a_colleague_sees_the_same_lists_and_another_organisation_never_does(client, as_user, owner, organisation,
                                                                            bid, commissioner):
    as_user(owner)
    mine = visit(client)[0]
    other = OrganisationFactory(legal_name="Swale Lunch Clubs")
    make_bid(make_opportunity(commissioner, title="Someone else's bid"), other)

    as_user(provider(other, email="someone@swale.example"))
    theirs = visit(client)[0]
    as_user(colleague(organisation, email="colleague@befriending.example"))
    colleagues = visit(client)[0]

    assert "Someone else's bid" in theirs and "Befriending in Thanet" not in theirs
    assert "Befriending in Thanet" in colleagues and "Someone else's bid" not in mine + colleagues


def test_each_page_is_kept_apart_and_other_query_strings_are_not_kept(client, app, as_user, owner, organisation,
                                                                     commissioner):
    app.config["PAGE_SIZE"] = 1
    for title in ("Day care in Dover", "Meals in Margate"):
        make_bid(make_opportunity(commissioner, title=title), organisation)
    as_user(owner)
    first, second = visit(client, "/bids?page=1")[0], visit(client, "/bids?page=2")[0]
    assert ("Day care in Dover" in first) != ("Day care in Dover" in second)

    assert not bids_read(visit(client, "/bids?page=2")[1])
    assert bids_read(visit(client, "/bids?page=2&sort=x")[1]) and bids_read(visit(client, "/bids?page=2&sort=x")[1])


def test_with_the_cache_turned_off_every_visit_orders_the_bids(client, app, as_user, owner, bid):
    app.extensions.pop(pagecache.EXTENSION)
    as_user(owner)
    visit(client)

    page, statements = visit(client)
    assert bids_read(statements) and "Befriending in Thanet" in page


@pytest.mark.parametrize("app_overrides", [{"REDIS_URL": "redis://127.0.0.1:1/0"}])
def test_a_cache_that_cannot_be_reached_costs_a_render_not_an_error(client, as_user, owner, bid):
    as_user(owner)

    page, statements = visit(client)

    assert "Befriending in Thanet" in page and bids_read(statements)


@pytest.mark.parametrize("app_overrides", [{"REDIS_URL": SHARED_CACHE}])
def test_with_redis_another_process_serves_the_lists_one_process_rendered(app, client, as_user, owner, bid):
    from redis import Redis

    Redis.from_url(app.config["REDIS_URL"]).flushdb()
    as_user(owner)
    visit(client)
    another_process = create_app("test", {k: app.config[k] for k in ("SQLALCHEMY_DATABASE_URI", "REDIS_URL")})
    with another_process.app_context():
        other_client = another_process.test_client()
        sign_in_as(other_client, owner)
        page, statements = visit(other_client)
        db.session.remove()

    assert "Befriending in Thanet" in page and not bids_read(statements)
