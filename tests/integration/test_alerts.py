"""Saved searches, saved opportunities and the daily digest (`flask send-alerts`) on a real database, with email
through the real loopback SMTP mailbox."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from marketplace.audit import AuditEvent, verify_database
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.opportunities import alerts
from marketplace.opportunities.models import SavedSearch, Watch
from marketplace.opportunities.search import SearchCriteria
from marketplace.timeutil import utcnow
from tests.factories import StaffFactory, provider
from tests.integration.test_search import make_opportunity

BASE_URL = "https://marketplace.kent.example"
DOVER_HEALTH = SearchCriteria(categories=("public-health",), localities=("dover",))


def events(action: str) -> list[AuditEvent]:
    return list(db.session.execute(
        sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).scalars())


def send_alerts(runner):
    result = runner.invoke(args=["send-alerts", "--base-url", BASE_URL])
    assert result.exit_code == 0, result.output
    return result.output


def saved_search(user, name="Health in Dover", criteria=DOVER_HEALTH, created_days_ago=7) -> SavedSearch:
    """A saved search kept for a week already (so opportunities published since then are new to it)."""
    saved = SavedSearch(user_id=user.id, name=name, criteria=criteria.to_args(),
                        created_at=utcnow() - timedelta(days=created_days_ago))
    db.session.add(saved)
    db.session.commit()
    return saved


def health_in(locality: str, **fields):
    return make_opportunity(category="public-health", localities=[locality], **fields)


# Saving searches ------------------------------------------------------------------------------------------

def test_saving_a_search_stores_its_criteria_and_is_audited(app):
    user = provider()
    saved = alerts.save_search(user, "  Health   in Dover ", DOVER_HEALTH)
    assert (saved.name, saved.user_id) == ("Health in Dover", user.id)
    assert saved.criteria == {"category": ["public-health"], "locality": ["dover"]}
    assert alerts.criteria_of(saved) == DOVER_HEALTH
    [event] = events("saved_search.created")
    assert (event.actor_id, event.object_id) == (user.id, str(saved.id))
    assert verify_database().ok


@pytest.mark.parametrize(("name", "message"), [
    ("", "Enter a name for this search"),
    ("   ", "Enter a name for this search"),
    ("x" * 121, "Name must be 120 characters or fewer"),
    ("health IN dover", "You already have a saved search called ‘health IN dover’. Choose another name."),
])
def test_a_saved_search_needs_a_new_name(app, name, message):
    user = provider()
    saved_search(user)
    with pytest.raises(DomainError) as refused:
        alerts.save_search(user, name, DOVER_HEALTH)
    assert (refused.value.message, refused.value.field) == (message, "name")


def test_another_person_may_use_the_same_name(app):
    saved_search(provider())
    assert alerts.save_search(provider(), "Health in Dover", DOVER_HEALTH).id


def test_a_person_keeps_at_most_twenty_saved_searches(app):
    user = provider()
    for n in range(alerts.MAX_SAVED_SEARCHES):
        saved_search(user, name=f"Search {n}")
    with pytest.raises(DomainError, match="You can keep up to 20 saved searches"):
        alerts.save_search(user, "One more", DOVER_HEALTH)


def test_council_staff_do_not_save_searches(app):
    with pytest.raises(alerts.NotAllowed):
        alerts.save_search(StaffFactory(), "Mine", DOVER_HEALTH)
    assert db.session.execute(sa.select(SavedSearch)).first() is None


def test_deleting_a_saved_search_is_audited_and_only_for_its_owner(app):
    owner, other = provider(), provider()
    saved = saved_search(owner)
    assert alerts.get_saved_search(other, saved.id) is None
    with pytest.raises(alerts.NotAllowed):
        alerts.delete_search(other, saved)
    alerts.delete_search(owner, alerts.get_saved_search(owner, saved.id))
    assert db.session.get(SavedSearch, saved.id) is None
    assert [e.actor_id for e in events("saved_search.deleted")] == [owner.id]


# Saving opportunities -------------------------------------------------------------------------------------

def test_saving_and_removing_an_opportunity_is_idempotent_and_audited(app):
    user, opportunity = provider(), make_opportunity()
    alerts.watch(user, opportunity)
    alerts.watch(user, opportunity)
    assert alerts.is_watching(user, opportunity)
    alerts.unwatch(user, opportunity)
    alerts.unwatch(user, opportunity)
    assert not alerts.is_watching(user, opportunity)
    assert len(events("opportunity.watched")) == len(events("opportunity.unwatched")) == 1


@pytest.mark.parametrize("fields", [{"status": "draft", "published_at": None},
                                    {"status": "awaiting_approval", "published_at": None},
                                    {"published_at": utcnow() + timedelta(days=1)}])
def test_only_published_opportunities_can_be_saved(app, fields):
    opportunity = make_opportunity(**fields)
    with pytest.raises(DomainError, match="You can only save published opportunities"):
        alerts.watch(provider(), opportunity)
    assert db.session.execute(sa.select(Watch)).first() is None


def test_council_staff_do_not_save_opportunities(app):
    with pytest.raises(alerts.NotAllowed):
        alerts.watch(StaffFactory(), make_opportunity())


# The daily digest -----------------------------------------------------------------------------------------

def test_each_person_gets_one_digest_of_new_matches_from_all_their_saved_searches(runner, mailbox):
    user = provider(email="sam@dover-health.example")
    saved_search(user)
    saved_search(user, name="Anything in Thanet", criteria=SearchCriteria(localities=("thanet",)))
    dover = health_in("dover", title="Stop smoking in Dover")
    kent = health_in("county-wide", title="Kent-wide sexual health")
    thanet = make_opportunity(title="Lunch clubs in Thanet", localities=["thanet"], estimated_value=Decimal("12000"))
    health_in("ashford", title="Health in Ashford")  # matches neither search
    health_in("dover", title="Draft in Dover", status="draft", published_at=None)

    output = send_alerts(runner)

    assert "Sent 1 digest listing 3 new matches." in output
    [message] = mailbox.to(user.email)
    assert message["Subject"] == "3 new opportunities match your saved searches"
    body = mailbox.last_body(user.email)
    for expected in ("Health in Dover (Open opportunities; Category: Public health; Location: Dover)",
                     f"- {dover.reference}: Stop smoking in Dover", f"{BASE_URL}/opportunities/{dover.id}",
                     f"- {kent.reference}: Kent-wide sexual health",
                     "Anything in Thanet (Open opportunities; Location: Thanet)",
                     f"- {thanet.reference}: Lunch clubs in Thanet", "Estimated value £12,000",
                     f"{BASE_URL}/opportunities?locality=thanet",
                     f"{BASE_URL}/opportunities/saved-searches"):
        assert expected in body, expected
    assert "Ashford" not in body and "Draft in Dover" not in body


def test_running_send_alerts_again_sends_nothing_new(runner, mailbox):
    user = provider()
    saved = saved_search(user)
    health_in("dover")
    send_alerts(runner)
    db.session.refresh(saved)
    first_alert = saved.last_alerted_at
    assert first_alert is not None
    mailbox.clear()

    assert "Sent 0 digests listing 0 new matches." in send_alerts(runner)
    assert mailbox.messages == []
    assert len(events("saved_search.digest_sent")) == 1


def test_the_next_digest_has_only_what_was_published_since_the_last(runner, mailbox):
    user = provider()
    saved_search(user)
    first = health_in("dover", title="First")
    send_alerts(runner)
    mailbox.clear()
    second = health_in("dover", title="Second", published_at=utcnow())

    send_alerts(runner)

    body = mailbox.last_body(user.email)
    assert second.reference in body and first.reference not in body


def test_opportunities_published_before_a_search_was_saved_are_not_sent(runner, mailbox):
    user = provider()
    health_in("dover", published_at=utcnow() - timedelta(days=3))
    saved_search(user, created_days_ago=1)
    send_alerts(runner)
    assert mailbox.to(user.email) == []


def test_an_opportunity_is_sent_once_its_publication_time_comes(app, mailbox):
    user = provider()
    saved_search(user)
    now = utcnow()
    later = health_in("dover", published_at=now + timedelta(hours=1))
    with app.test_request_context(base_url=BASE_URL):
        assert alerts.send_alerts(now).emailed == 0
        assert alerts.send_alerts(now + timedelta(hours=2)).emailed == 1
    assert later.reference in mailbox.last_body(user.email)


def test_deactivated_and_unverified_people_get_no_digest(runner, mailbox):
    gone = provider(deactivated_at=utcnow())
    unverified = provider(email_verified_at=None)
    for user in (gone, unverified):
        saved_search(user)
    health_in("dover")
    send_alerts(runner)
    assert mailbox.messages == []


def test_each_saved_search_lists_at_most_25_with_a_count_of_the_rest(runner, mailbox):
    user = provider()
    saved_search(user)
    for n in range(27):
        health_in("dover", title=f"Service {n}")
    send_alerts(runner)
    body = mailbox.last_body(user.email)
    assert body.count("\n- KCC-") == 25
    assert "And 2 more." in body


@pytest.mark.parametrize("app_overrides", [{"MAIL_PORT": 1}])  # nothing listens there
def test_a_failed_delivery_is_tried_again_next_time(runner, mailbox):
    user = provider()
    saved = saved_search(user)
    health_in("dover")
    output = send_alerts(runner)
    assert "1 could not be sent and will be tried again next time." in output
    db.session.refresh(saved)
    assert saved.last_alerted_at is None
    assert events("saved_search.digest_sent") == []


def test_send_alerts_needs_the_services_address_for_its_links(runner):
    result = runner.invoke(args=["send-alerts"])
    assert result.exit_code != 0
    assert "Give --base-url (or set BASE_URL)" in result.output


@pytest.mark.parametrize("app_overrides", [{"BASE_URL": BASE_URL}])
def test_send_alerts_links_to_base_url_without_the_option(runner, mailbox):
    user = provider()
    saved_search(user)
    dover = health_in("dover")

    result = runner.invoke(args=["send-alerts"])

    assert result.exit_code == 0, result.output
    assert f"{BASE_URL}/opportunities/{dover.id}" in mailbox.last_body(user.email)


@pytest.mark.parametrize("app_overrides", [{"BASE_URL": "https://old-address.kent.example"}])
def test_the_base_url_option_overrides_the_setting_for_one_run(runner, mailbox):
    user = provider()
    saved_search(user)
    dover = health_in("dover")

    send_alerts(runner)

    body = mailbox.last_body(user.email)
    assert f"{BASE_URL}/opportunities/{dover.id}" in body
    assert "old-address" not in body


def test_a_base_url_option_that_is_not_an_address_is_refused(runner):
    result = runner.invoke(args=["send-alerts", "--base-url", "marketplace.kent.example"])
    assert result.exit_code == 2
    assert "BASE_URL must be the service's address" in result.output
