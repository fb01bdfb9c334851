"""The stored audit log: chains across requests (one per group of objects), append-only in the database,
tampering shows."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from marketplace import audit
from marketplace.audit import AuditEvent, verify_database
from marketplace.extensions import db
from marketplace.organisations import services
from marketplace.organisations.models import Organisation
from marketplace.organisations.services import Address, OrganisationDetails
from tests.factories import OrganisationFactory, UserFactory, provider


def stored() -> list[AuditEvent]:
    return list(db.session.execute(sa.select(AuditEvent).order_by(AuditEvent.id)).scalars())


def dialect() -> str:
    return db.engine.dialect.name


def a_few_events(n: int = 3) -> list[AuditEvent]:
    """Events about one object: one chain."""
    for i in range(n):
        audit.record("test.happened", "thing", 1, actor="tester", details={"n": i})
    db.session.commit()
    return stored()[-n:]


@pytest.fixture()
def without_append_only_trigger(app):
    """Drop the UPDATE trigger as an attacker with database access would; put it back afterwards (the
    PostgreSQL test database lives on between tests)."""
    drop = {"sqlite": "DROP TRIGGER audit_events_no_update",
            "postgresql": "DROP TRIGGER audit_events_no_update ON audit_events"}[dialect()]
    db.session.execute(sa.text(drop))
    db.session.commit()
    yield
    db.session.rollback()
    if dialect() == "postgresql":
        db.session.execute(sa.text(
            "CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"))
        db.session.commit()


def test_events_about_one_object_link_into_one_chain(app):
    first, second, third = a_few_events(3)
    assert first.prev_hash == audit.GENESIS
    assert second.prev_hash == first.hash and third.prev_hash == second.hash
    assert first.chain == second.chain == third.chain == audit.chain_of("thing", 1)
    report = verify_database()
    assert report.ok and report.checked == 3


def objects_in_two_chains() -> tuple[int, int]:
    """Two ids of 'thing' objects whose events go to different chains."""
    other = next(i for i in range(2, 200) if audit.chain_of("thing", i) != audit.chain_of("thing", 1))
    return 1, other


def test_events_about_objects_in_other_chains_link_only_within_their_own_and_all_verify(app):
    one, other = objects_in_two_chains()
    for object_id in (one, other, one, other):
        audit.record("test.happened", "thing", object_id)
    db.session.commit()

    first, second, third, fourth = stored()
    assert (first.prev_hash, second.prev_hash) == (audit.GENESIS, audit.GENESIS)
    assert (third.prev_hash, fourth.prev_hash) == (first.hash, second.hash)
    assert verify_database().checked == 4 and verify_database().ok


def test_an_event_moved_to_another_chain_breaks_the_log(app, without_append_only_trigger):
    one, other = objects_in_two_chains()
    for object_id in (one, other, one):
        audit.record("test.happened", "thing", object_id)
    db.session.commit()
    moved = stored()[2]
    db.session.execute(sa.text("UPDATE audit_events SET chain = :chain WHERE id = :id"),
                       {"chain": audit.chain_of("thing", other), "id": moved.id})
    db.session.commit()
    assert verify_database().broken_at == moved.id


def _record_and_hold(object_id: int, holding: threading.Event, release: threading.Event, app) -> None:
    with app.app_context():
        audit.record("test.held", "thing", object_id)
        holding.set()
        release.wait(10)
        db.session.commit()


def test_on_postgresql_an_append_waits_only_for_a_transaction_appending_to_the_same_chain(app):
    if dialect() != "postgresql":
        pytest.skip("SQLite serialises writers; chain locks are PostgreSQL's")
    one, other = objects_in_two_chains()
    holding, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_record_and_hold, args=(one, holding, release, app))
    holder.start()
    try:
        assert holding.wait(10)
        db.session.execute(sa.text("SET LOCAL lock_timeout = '300ms'"))
        audit.record("test.other_chain", "thing", other)  # another chain: no wait
        db.session.commit()
        db.session.execute(sa.text("SET LOCAL lock_timeout = '300ms'"))
        with pytest.raises(sa.exc.OperationalError, match="lock timeout"):
            audit.record("test.same_chain", "thing", one)
        db.session.rollback()
    finally:
        release.set()
        holder.join(10)
    assert [event.action for event in stored()] == ["test.held", "test.other_chain"]
    assert verify_database().ok


def test_events_from_several_requests_form_one_valid_chain(client, as_user):
    user = UserFactory()
    as_user(user)
    token = client.csrf_token("/organisation/new")
    base = {"csrf_token": token, "org_type": "sole_trader", "size": "micro", "trading_line1": "1 Road",
            "trading_town": "Ashford", "trading_postcode": "TN23 1AA", "same_address": "y"}
    assert client.post("/organisation/new", data={**base, "legal_name": "Solo Services"}).status_code == 302
    organisation = db.session.execute(sa.select(Organisation)).scalar_one()
    for name in ("Solo Services Two", "Solo Services Three"):
        response = client.post(f"/organisation/{organisation.id}/edit", data={**base, "legal_name": name})
        assert response.status_code == 302
    events = stored()
    assert [e.action for e in events] == ["organisation.registered", "organisation.updated", "organisation.updated"]
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(events, events[1:]))
    report = verify_database()
    assert report.ok and report.checked == 3


def test_an_actor_is_recorded_by_id_and_label(app):
    user = UserFactory(email="actor@example.org")
    event = audit.record("test.acted", "user", user.id, actor=user)
    system = audit.record("test.acted", "user", user.id)
    db.session.commit()
    assert (event.actor_id, event.actor_label) == (user.id, "actor@example.org")
    assert (system.actor_id, system.actor_label) == (None, "system")


def test_details_are_stored_as_json_the_hash_can_be_checked_against(app):
    from datetime import date
    from decimal import Decimal

    audit.record("test.values", "thing", 1, details={"when": date(2027, 3, 1), "amount": Decimal("12.50"),
                                                      "name": "Café Zoë", "nested": {"list": [1, 2]}})
    db.session.commit()
    db.session.expire_all()
    [event] = stored()
    assert event.details == {"when": "2027-03-01", "amount": "12.50", "name": "Café Zoë", "nested": {"list": [1, 2]}}
    assert verify_database().ok


@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET details = '{}'",
    "UPDATE audit_events SET action = 'forged'",
    "DELETE FROM audit_events",
])
def test_the_database_refuses_to_change_or_delete_audit_events(app, statement):
    a_few_events(2)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        db.session.execute(sa.text(statement))
        db.session.flush()
    db.session.rollback()
    assert len(stored()) == 2
    assert verify_database().ok


def test_the_orm_cannot_change_an_audit_event_either(app):
    [event] = a_few_events(1)
    event.action = "forged"
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        db.session.commit()
    db.session.rollback()
    assert stored()[0].action == "test.happened"


def test_audit_verify_says_intact_on_an_untouched_log(runner):
    a_few_events(4)
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 0, result.output
    assert "intact" in result.output
    assert "4 events checked" in result.output


def test_audit_verify_on_an_empty_log_is_intact(runner):
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 0
    assert "intact: 0 events" in result.output


@pytest.mark.parametrize("column, value", [
    ("details", """'{"n": 99}'"""),
    ("actor_label", "'someone-else'"),
    ("prev_hash", "'" + "0" * 64 + "'"),
])
def test_audit_verify_names_the_event_tampered_with(runner, without_append_only_trigger, column, value):
    events = a_few_events(4)
    target = events[2].id
    db.session.execute(sa.text(f"UPDATE audit_events SET {column} = {value} WHERE id = :id"), {"id": target})
    db.session.commit()
    db.session.expire_all()

    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 1
    assert f"broken at event {target}" in result.output
    assert "2 events before it are intact" in result.output


def test_audit_verify_notices_a_deleted_event(runner, app):
    events = a_few_events(4)
    if dialect() == "sqlite":
        db.session.execute(sa.text("DROP TRIGGER audit_events_no_delete"))
        db.session.execute(sa.text("DELETE FROM audit_events WHERE id = :id"), {"id": events[1].id})
        db.session.commit()
    else:
        # The trigger stays; a superuser can still bypass it for one transaction.
        db.session.execute(sa.text("SET LOCAL session_replication_role = replica"))
        db.session.execute(sa.text("DELETE FROM audit_events WHERE id = :id"), {"id": events[1].id})
        db.session.commit()
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 1
    assert f"broken at event {events[2].id}" in result.output


def _details() -> OrganisationDetails:
    address = Address("1 Road", None, "Ashford", "TN23 1AA")
    return OrganisationDetails("Doomed Ltd", "sole_trader", "micro", None, None, address, address)


def test_an_event_from_a_service_that_fails_before_commit_is_not_stored(app, monkeypatch):
    real_record = audit.record

    def record_then_fail(*args, **kwargs):
        real_record(*args, **kwargs)
        raise RuntimeError("the service failed after writing its audit event")

    user = UserFactory()
    monkeypatch.setattr(audit, "record", record_then_fail)
    with pytest.raises(RuntimeError):
        services.create_organisation(user, _details())
    db.session.rollback()
    assert stored() == []
    assert db.session.execute(sa.select(Organisation)).first() is None


def test_a_request_that_fails_after_writing_its_audit_event_stores_neither(client, as_user, monkeypatch):
    real_record = audit.record

    def record_then_fail(*args, **kwargs):
        real_record(*args, **kwargs)
        raise RuntimeError("boom")

    as_user(UserFactory())
    token = client.csrf_token("/organisation/new")
    monkeypatch.setattr(audit, "record", record_then_fail)
    response = client.post("/organisation/new", data={
        "csrf_token": token, "legal_name": "Doomed Ltd", "org_type": "sole_trader", "size": "micro",
        "trading_line1": "1 Road", "trading_town": "Ashford", "trading_postcode": "TN23 1AA", "same_address": "y"})
    assert response.status_code == 500
    db.session.expire_all()
    assert stored() == []
    assert db.session.execute(sa.select(Organisation)).first() is None


def test_the_chain_continues_correctly_after_a_rolled_back_event(app):
    a_few_events(2)
    audit.record("test.abandoned", "thing", 1)
    db.session.rollback()
    a_few_events(1)
    assert [e.action for e in stored()] == ["test.happened"] * 3
    assert verify_database().ok


def test_factories_and_services_together_keep_the_chain_valid(app):
    organisation = OrganisationFactory()
    owner = provider(organisation)
    address = Address("1 Road", None, "Ashford", "TN23 1AA")
    services.update_organisation(owner, organisation, OrganisationDetails(
        organisation.legal_name, "charity", "small", None, "1123456", address, address))
    assert verify_database().ok
