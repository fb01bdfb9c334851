"""The settings page: administrators see and change each setting, every change is audited, bad values are
refused next to the field and kept as typed; nobody else gets in."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from marketplace.audit import AuditEvent, verify_database
from marketplace.extensions import db
from marketplace.settings import services as settings
from marketplace.settings.defaults import SPECS
from tests.factories import StaffFactory, provider

URL = "/admin/settings"


def text(response) -> str:
    return response.get_data(as_text=True)


def current_form(**overrides) -> dict:
    data = {spec.key: str(settings.get(spec.key)) for spec in SPECS}
    data.update(overrides)
    return data


@pytest.fixture()
def admin(as_user):
    user = StaffFactory(roles=["administrator"])
    as_user(user)
    return user


def test_the_page_shows_every_setting_with_its_hint_and_current_value(client, admin):
    body = text(client.get(URL))
    for spec in SPECS:
        assert spec.label.replace("'", "&#39;") in body
        assert spec.hint in body
        assert f"Current value: {spec.default}." in body
    assert 'id="procurement_threshold" name="procurement_threshold" type="text" spellcheck="false" value="214904"' \
        in body


def test_an_administrator_changes_a_setting_and_the_change_is_audited(client, admin):
    response = client.submit(URL, current_form(procurement_threshold="£250,000", minimum_tender_period_days="30"))
    assert response.status_code == 302
    assert "The settings are saved" in text(client.get(URL))
    assert settings.get("procurement_threshold") == Decimal("250000")
    assert settings.get("minimum_tender_period_days") == 30
    [event] = db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == "settings.changed")).scalars()
    assert event.actor_id == admin.id
    assert event.details == {"procurement_threshold": {"from": "214904", "to": "250000"},
                             "minimum_tender_period_days": {"from": "25", "to": "30"}}
    assert verify_database().ok
    assert "Current value: 250000." in text(client.get(URL))


def test_saving_without_changes_writes_no_audit_event(client, admin):
    client.submit(URL, current_form())
    assert db.session.execute(sa.select(sa.func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "settings.changed")).scalar_one() == 0


@pytest.mark.parametrize(("key", "value", "message"), [
    ("minimum_tender_period_days", "", "Enter the shortest time from publication to the submission deadline"),
    ("minimum_tender_period_days", "   ", "Enter the shortest time from publication to the submission deadline"),
    ("minimum_tender_period_days", "ten", "Enter a number for shortest time from publication"),
    ("minimum_tender_period_days", "2.5", "Enter a number for shortest time from publication"),
    ("minimum_tender_period_days", "0", "must be between 1 and 365"),
    ("minimum_tender_period_days", "366", "must be between 1 and 365"),
    ("procurement_threshold", "-1", "must be between 0 and 100000000"),
    ("procurement_threshold", "NaN", "Enter a number for procurement threshold"),
    ("procurement_threshold", "1" * 31, "must be 30 characters or fewer"),
    ("amendment_extension_days", "<b>7</b>", "Enter a number for deadline extension"),
])
def test_bad_values_are_refused_next_to_the_field_and_kept_as_typed(client, admin, key, value, message):
    response = client.submit(URL, current_form(**{key: value}))
    assert response.status_code == 200
    body = text(response)
    assert "There is a problem" in body and message in body
    assert f'href="#{key}"' in body
    if value.strip():
        assert f'value="{value.replace("<", "&lt;").replace(">", "&gt;")}"' in body
    assert "<b>7</b>" not in body
    assert settings.all_values() == {spec.key: spec.default for spec in SPECS}


@pytest.mark.parametrize("who", ["commissioner", "procurement_officer", "provider"])
def test_only_administrators_see_the_settings(client, as_user, who):
    as_user(provider() if who == "provider" else StaffFactory(roles=[who]))
    assert client.get(URL).status_code == 403
    assert client.post(URL, data=current_form()).status_code in (400, 403)
    assert settings.all_values()["procurement_threshold"] == Decimal("214904")


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_a_post_without_the_csrf_token_is_refused(client, admin):
    response = client.post(URL, data=current_form(procurement_threshold="1"))
    assert response.status_code == 400
    assert settings.get("procurement_threshold") == Decimal("214904")


def test_the_navigation_links_administrators_to_the_settings(client, admin):
    assert f'href="{URL}"' in text(client.get("/"))
