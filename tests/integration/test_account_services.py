"""Account services on a real database: password rehashing, single-use links, lock-out counting, staff rules."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from marketplace import audit
from marketplace.accounts import services, tokens
from marketplace.accounts.models import SignInThrottle, User
from marketplace.accounts.passwords import check_password, needs_rehash
from marketplace.errors import DomainError
from marketplace.extensions import db
from tests.factories import PASSWORD, StaffFactory, UserFactory

NEW_PASSWORD = "a different long passphrase"


@pytest.fixture(autouse=True)
def request_context(app):
    """Links in emails are absolute URLs, which Flask builds from a request."""
    with app.test_request_context():
        yield


def token_in(mailbox, email: str, fragment: str) -> str:
    return urlsplit(mailbox.link_in(email, fragment)).path.rsplit("/", 1)[1]


# Passwords -------------------------------------------------------------------------------------------------

def test_signing_in_rehashes_a_password_hashed_with_older_parameters(app):
    old = PasswordHasher(time_cost=app.config["ARGON2_TIME_COST"] + 1, memory_cost=16, parallelism=1).hash(PASSWORD)
    user = UserFactory(password_hash=old)

    services.authenticate(user.email, PASSWORD)

    db.session.refresh(user)
    assert user.password_hash != old and user.password_hash.startswith("$argon2id$")
    assert not needs_rehash(user.password_hash)
    assert check_password(user.password_hash, PASSWORD)


def test_signing_in_keeps_a_hash_made_with_the_current_parameters():
    user = UserFactory()
    current = user.password_hash

    services.authenticate(user.email, PASSWORD)

    db.session.refresh(user)
    assert user.password_hash == current


def test_a_user_without_a_password_cannot_sign_in_with_any_password():
    invited = StaffFactory(password_hash=None)

    with pytest.raises(services.SignInRefused, match="Enter a correct email address and password."):
        services.authenticate(invited.email, "")


# Single-use links ------------------------------------------------------------------------------------------

def change_by_reset(user: User, mailbox) -> None:
    services.request_password_reset(user.email)
    services.reset_password(token_in(mailbox, user.email, "/reset-password/"), NEW_PASSWORD)


def change_by_form(user: User, mailbox) -> None:
    services.change_password(user, PASSWORD, NEW_PASSWORD)


@pytest.mark.parametrize("change", [change_by_reset, change_by_form], ids=["another reset", "changed password"])
def test_a_reset_link_stops_working_once_the_password_hash_changes(mailbox, change):
    user = UserFactory()
    services.request_password_reset(user.email)
    first = token_in(mailbox, user.email, "/reset-password/")
    assert services.check_reset_link(first).id == user.id

    change(user, mailbox)

    with pytest.raises(services.LinkProblem, match="already been used") as problem:
        services.check_reset_link(first)
    assert not problem.value.expired


def test_a_reset_link_can_be_used_once_only(mailbox):
    user = UserFactory()
    services.request_password_reset(user.email)
    token = token_in(mailbox, user.email, "/reset-password/")

    services.reset_password(token, NEW_PASSWORD)

    with pytest.raises(services.LinkProblem):
        services.reset_password(token, "someone else's new password")
    db.session.refresh(user)
    assert check_password(user.password_hash, NEW_PASSWORD)


def test_the_fingerprint_in_a_link_covers_the_password_hash():
    assert tokens.state_fingerprint("hash-a", "") != tokens.state_fingerprint("hash-b", "")
    assert tokens.state_fingerprint("hash-a", "") == tokens.state_fingerprint("hash-a", "")


def test_a_verification_link_stops_working_once_the_address_is_confirmed(mailbox):
    services.register_provider("ada@example.org", "Ada Lovelace", PASSWORD)
    token = token_in(mailbox, "ada@example.org", "/verify/")

    assert services.verify_email(token).is_verified
    with pytest.raises(services.LinkProblem, match="already been used"):
        services.verify_email(token)
    assert [event.action for event in db.session.scalars(sa.select(audit.AuditEvent))].count(
        "user.email_verified") == 1


def test_a_link_made_for_one_purpose_is_refused_for_another(mailbox):
    user = UserFactory(email_verified_at=None)
    services.resend_verification(user.email)
    verify_token = token_in(mailbox, user.email, "/verify/")

    with pytest.raises(services.LinkProblem, match="not valid"):
        services.check_reset_link(verify_token)
    with pytest.raises(services.LinkProblem, match="not valid"):
        services.check_staff_invitation(verify_token)


def test_a_link_for_a_deactivated_account_is_refused(mailbox):
    user = StaffFactory()
    services.request_password_reset(user.email)
    token = token_in(mailbox, user.email, "/reset-password/")
    services.set_active(StaffFactory(roles=["administrator"]), user, False)

    with pytest.raises(services.LinkProblem):
        services.check_reset_link(token)


def test_no_reset_email_goes_to_an_unknown_or_deactivated_address(mailbox):
    services.request_password_reset("nobody@example.org")
    services.request_password_reset(UserFactory(deactivated_at=services.utcnow()).email)

    assert mailbox.messages == []


# Registration and lock-out ---------------------------------------------------------------------------------

def test_an_email_address_registers_once_whatever_its_case(mailbox):
    services.register_provider("ada@example.org", "Ada Lovelace", PASSWORD)

    with pytest.raises(services.EmailTaken) as taken:
        services.register_provider("  ADA@Example.org ", "Another Ada", PASSWORD)

    assert taken.value.field == "email"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def fail(email: str, times: int) -> list[str]:
    messages = []
    for _ in range(times):
        with pytest.raises(services.SignInRefused) as refused:
            services.authenticate(email, "wrong password here")
        messages.append(refused.value.message)
    return messages


def test_a_successful_sign_in_clears_the_count_of_failures(app):
    user = UserFactory()
    almost = app.config["LOCKOUT_ATTEMPTS"] - 1
    fail(user.email, almost)

    services.authenticate(user.email, PASSWORD)

    assert fail(user.email, almost) == [services.GENERIC_FAILURE] * almost
    assert services.authenticate(user.email, PASSWORD).id == user.id


def test_failures_are_counted_per_address_under_a_digest_not_the_address(app):
    fail("Someone@Example.org ", 2)
    fail("other@example.org", 1)

    stored = {row.email_key: row.failures for row in db.session.scalars(sa.select(SignInThrottle))}
    assert stored == {services._throttle_key("someone@example.org"): 2, services._throttle_key("other@example.org"): 1}
    assert not any("@" in key for key in stored)


def test_the_account_changes_leave_the_audit_chain_intact(mailbox):
    user = services.register_provider("ada@example.org", "Ada Lovelace", PASSWORD)
    services.verify_email(token_in(mailbox, "ada@example.org", "/verify/"))
    services.authenticate("ada@example.org", PASSWORD)
    services.change_password(user, PASSWORD, NEW_PASSWORD)

    report = audit.verify_database()
    assert report.ok and report.checked == 4


# Staff rules -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("roles", [[], ["superuser"], ["commissioner", "root"]])
def test_roles_must_be_known_and_at_least_one(mailbox, roles):
    admin = StaffFactory(roles=["administrator"])
    person = StaffFactory(roles=["commissioner"])

    with pytest.raises(DomainError, match="Select at least one role"):
        services.set_roles(admin, person, roles)
    with pytest.raises(DomainError, match="Select at least one role"):
        services.invite_staff(admin, "new@kent.example", "New Person", roles)
    db.session.rollback()
    assert person.roles == {"commissioner"}
    assert db.session.scalars(sa.select(User).filter_by(email="new@kent.example")).first() is None


def test_setting_roles_replaces_them_and_keeps_the_ones_that_stay():
    admin = StaffFactory(roles=["administrator"])
    person = StaffFactory(roles=["commissioner", "procurement_officer"])

    services.set_roles(admin, person, ["procurement_officer", "administrator", "administrator"])

    db.session.expire_all()
    assert person.roles == {"procurement_officer", "administrator"}


def test_an_accepted_invitation_link_is_refused_afterwards(mailbox):
    admin = StaffFactory(roles=["administrator"])
    services.invite_staff(admin, "new@kent.example", "New Person", ["commissioner"])
    token = token_in(mailbox, "new@kent.example", "/invitation/")

    person = services.accept_staff_invitation(token, NEW_PASSWORD)

    assert person.is_verified and check_password(person.password_hash, NEW_PASSWORD)
    with pytest.raises(services.LinkProblem):
        services.accept_staff_invitation(token, "someone else's password")
