"""Command-line tools: flask seed-demo, audit-verify and create-admin."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import User
from marketplace.accounts.passwords import check_password
from marketplace.audit import AuditEvent, verify_database
from marketplace.extensions import db
from marketplace.kent import DISTRICTS
from marketplace.organisations.choices import ORGANISATION_TYPES
from marketplace.organisations.models import Membership, Organisation
from marketplace.seed import DEMO_PASSWORD, STAFF


def count(statement) -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(statement.subquery())).scalar_one()


def totals() -> tuple[int, int, int, int]:
    return (count(sa.select(User).where(User.is_staff.is_(True))), count(sa.select(Organisation)),
            count(sa.select(User)), count(sa.select(AuditEvent)))


def test_seed_demo_creates_four_staff_and_forty_organisations(seeded):
    assert totals()[:2] == (4, 40)
    assert "4 staff and 40 organisations added" in seeded.output


def test_seed_demo_staff_hold_the_roles_listed(seeded):
    for email, _, roles in STAFF:
        user = db.session.execute(sa.select(User).filter_by(email=email)).scalar_one()
        assert user.roles == frozenset(roles)
        assert user.is_verified and user.membership is None


def test_seed_demo_covers_every_organisation_type_and_all_twelve_districts_with_some_outside_kent(seeded):
    organisations = db.session.execute(sa.select(Organisation)).scalars().all()
    assert {o.org_type for o in organisations} == set(ORGANISATION_TYPES)
    assert {o.district for o in organisations if o.kent_based} == {d.slug for d in DISTRICTS}
    outside = [o for o in organisations if not o.kent_based]
    assert outside and all(o.district is None for o in outside)
    assert any("Medway" in o.kent_derivation for o in outside)
    for organisation in organisations:
        assert organisation.kent_derivation.startswith(f"From postcode {organisation.operations_postcode}: ")
        assert [m.role for m in organisation.memberships] == ["owner"]
        if organisation.org_type == "charity":
            assert organisation.charity_number


def test_seed_demo_prints_the_password_and_sign_in_emails(seeded):
    assert f"Every demo account's password is: {DEMO_PASSWORD}" in seeded.output
    for email, _, _ in STAFF:
        assert email in seeded.output
    assert "provider01@example.org" in seeded.output


def test_the_demo_password_signs_in(seeded):
    owner = db.session.execute(sa.select(User).filter_by(email="provider01@example.org")).scalar_one()
    assert check_password(owner.password_hash, DEMO_PASSWORD)


def test_seed_demo_twice_adds_nothing(runner, seeded):
    before = totals()
    memberships = count(sa.select(Membership))
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0, again.output
    assert "0 staff and 0 organisations added" in again.output
    assert totals() == before
    assert count(sa.select(Membership)) == memberships


def test_the_audit_chain_verifies_after_seeding(runner, seeded):
    runner.invoke(args=["seed-demo"])
    report = verify_database()
    assert report.ok and report.checked == totals()[3]
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 0 and f"intact: {report.checked} events checked" in result.output


def test_create_admin_makes_an_administrator(runner):
    result = runner.invoke(args=["create-admin", "Boss@Kent.example", "--name", "Bo Boss",
                                 "--password", "a long admin passphrase"])
    assert result.exit_code == 0, result.output
    user = db.session.execute(sa.select(User).where(sa.func.lower(User.email) == "boss@kent.example")).scalar_one()
    assert "administrator" in user.roles
    assert check_password(user.password_hash, "a long admin passphrase")
    assert verify_database().ok


def test_create_admin_refuses_a_short_password(runner):
    result = runner.invoke(args=["create-admin", "boss@kent.example", "--password", "short"])
    assert result.exit_code != 0
    assert "at least 12 characters" in result.output
    assert count(sa.select(User)) == 0
