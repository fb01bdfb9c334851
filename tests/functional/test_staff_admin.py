"""Staff administration over HTTP: who reaches it, invitations, roles, deactivation, the audit log, the CLI and
the navigation each role sees."""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from marketplace import audit
from marketplace.accounts.models import User
from marketplace.accounts.passwords import check_password
from marketplace.audit import AuditEvent
from marketplace.extensions import db
from tests.factories import PASSWORD, StaffFactory, UserFactory, provider

NEW_PASSWORD = "a different long passphrase"
FORBIDDEN = "You do not have permission to see this page"


def text(response) -> str:
    return response.get_data(as_text=True)


def squash(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def main(page: str) -> str:
    return squash(re.search(r"<main\b.*?</main>", page, re.S).group(0))


def field_error(page: str, field: str) -> str:
    match = re.search(rf'<p id="{field}-error" class="govuk-error-message">(.*?)</p>', page, re.S)
    return squash(match.group(1)).removeprefix("Error: ") if match else ""


def user_named(email: str) -> User | None:
    db.session.expire_all()
    return db.session.scalars(sa.select(User).filter_by(email=email)).one_or_none()


def events(action: str) -> list[AuditEvent]:
    return db.session.scalars(sa.select(AuditEvent).filter_by(action=action).order_by(AuditEvent.id)).all()


def sign_in(client, email: str, password: str = PASSWORD):
    return client.submit("/sign-in", {"email": email, "password": password})


def signed_in(client) -> bool:
    return client.get("/account").status_code == 200


PEOPLE = {
    "administrator": lambda: StaffFactory(roles=["administrator"]),
    "procurement officer": lambda: StaffFactory(roles=["procurement_officer"]),
    "commissioner": lambda: StaffFactory(roles=["commissioner"]),
    "provider": provider,
}


def visit(client, as_user, who: str, url: str):
    if who != "anonymous":
        as_user(PEOPLE[who]())
    return client.get(url)


def assert_answer(response, expected: int) -> None:
    assert response.status_code == expected
    if expected == 302:
        assert urlsplit(response.headers["Location"]).path == "/sign-in"
    if expected == 403:
        assert FORBIDDEN in main(text(response))


# Who reaches the staff pages -------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/admin/staff", "/admin/staff/invite"])
@pytest.mark.parametrize(("who", "expected"), [
    ("administrator", 200), ("procurement officer", 403), ("commissioner", 403), ("provider", 403),
    ("anonymous", 302),
])
def test_only_administrators_reach_the_staff_pages(client, as_user, url, who, expected):
    assert_answer(visit(client, as_user, who, url), expected)


def test_a_providers_account_is_not_a_staff_page(client, as_user):
    as_user(PEOPLE["administrator"]())

    assert client.get(f"/admin/staff/{provider().id}").status_code == 404


# Inviting staff --------------------------------------------------------------------------------------------

INVITE = {"full_name": "Grace Hopper", "email": "grace.hopper@kent.example",
          "roles": ["commissioner", "procurement_officer"]}


@pytest.fixture()
def admin(as_user):
    person = StaffFactory(roles=["administrator"], full_name="Alan Admin")
    as_user(person)
    return person


def invite(client, **changes):
    return client.submit("/admin/staff/invite", {**INVITE, **changes})


def test_inviting_staff_creates_an_account_with_the_chosen_roles_and_emails_a_link(client, admin, mailbox):
    response = invite(client, email="  Grace.Hopper@KENT.example ")

    assert response.status_code == 302 and response.headers["Location"] == "/admin/staff"
    listing = main(text(client.get("/admin/staff")))
    assert "We have sent an invitation to grace.hopper@kent.example." in listing
    assert "Grace Hopper grace.hopper@kent.example Commissioner, Procurement officer Invited" in listing
    person = user_named("grace.hopper@kent.example")
    assert person.is_staff and not person.has_password and not person.is_verified
    assert person.roles == {"commissioner", "procurement_officer"}
    [event] = events("staff.invited")
    assert (event.actor_id, event.object_id, event.details) == (
        admin.id, str(person.id), {"roles": ["commissioner", "procurement_officer"]})
    body = mailbox.last_body("grace.hopper@kent.example")
    assert "Alan Admin has invited you to the Kent Commissioning Marketplace as: Commissioner, Procurement officer" in body
    assert "/invitation/" in mailbox.link_in("grace.hopper@kent.example", "/invitation/")


def accept(client, link: str, password: str = NEW_PASSWORD, page_url: str | None = None):
    return client.submit(link, {"password": password, "confirm": password}, page_url=page_url)


def invitation_link(client, mailbox) -> str:
    invite(client)
    return urlsplit(mailbox.link_in(INVITE["email"], "/invitation/")).path


def test_the_invitation_link_sets_a_password_and_signs_the_person_in(app, client, admin, mailbox):
    link = invitation_link(client, mailbox)
    newcomer = app.test_client()
    assert "Welcome, Grace Hopper. Set a password for grace.hopper@kent.example" in main(text(newcomer.get(link)))

    response = accept(newcomer, link)

    assert response.status_code == 302 and response.headers["Location"] == "/"
    account = main(text(newcomer.get("/account")))
    assert "Roles Commissioner, Procurement officer" in account and "Email confirmed Yes" in account
    person = user_named(INVITE["email"])
    assert check_password(person.password_hash, NEW_PASSWORD) and person.is_verified
    assert [event.actor_id for event in events("staff.invitation_accepted")] == [person.id]
    assert sign_in(app.test_client(), INVITE["email"], NEW_PASSWORD).status_code == 302


def test_an_invitation_link_cannot_be_used_twice(app, client, admin, mailbox):
    link = invitation_link(client, mailbox)
    accept(app.test_client(), link)

    again = accept(app.test_client(), link, "someone else's password", page_url="/sign-in")

    assert again.status_code == 400
    assert "already" in main(text(again))
    assert check_password(user_named(INVITE["email"]).password_hash, NEW_PASSWORD)
    assert len(events("staff.invitation_accepted")) == 1


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"roles": []}, "roles", "Select at least one role"),
    ({"roles": ["superuser"]}, "roles", "Select from the options shown"),
    ({"roles": ["commissioner", "superuser"]}, "roles", "Select from the options shown"),
    ({"full_name": "  "}, "full_name", "Enter the person's full name"),
    ({"email": "grace at kent"}, "email", "Enter an email address in the correct format, like name@example.com"),
    ({"email": "TAKEN@kent.example"}, "email", "An account already uses this email address."),
])
def test_the_invite_form_explains_bad_input_and_invites_nobody(client, admin, mailbox, changes, field, message):
    StaffFactory(email="taken@kent.example")
    staff_before = db.session.scalar(sa.select(sa.func.count()).select_from(User))

    response = invite(client, **changes)

    page = text(response)
    assert response.status_code == 200 and "There is a problem" in page
    assert field_error(page, field) == message
    assert f'value="{changes.get("full_name", INVITE["full_name"]).strip()}"' in page  # what was typed stays
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == staff_before
    assert events("staff.invited") == [] and mailbox.messages == []


# Roles and deactivation ------------------------------------------------------------------------------------

def test_an_administrator_changes_a_persons_roles(app, client, admin):
    person = StaffFactory(roles=["commissioner"])
    theirs = app.test_client()
    sign_in(theirs, person.email)
    assert theirs.get("/admin/audit").status_code == 403

    response = client.submit(f"/admin/staff/{person.id}", {"roles": ["procurement_officer", "administrator"]})

    assert response.status_code == 302 and response.headers["Location"] == "/admin/staff"
    assert user_named(person.email).roles == {"procurement_officer", "administrator"}
    [event] = events("staff.roles_changed")
    assert event.details == {"from": ["commissioner"], "to": ["administrator", "procurement_officer"]}
    assert theirs.get("/admin/audit").status_code == 200  # the change applies to their current session


def test_an_administrator_cannot_remove_their_own_administrator_role(client, admin):
    response = client.submit(f"/admin/staff/{admin.id}", {"roles": ["commissioner"]})

    assert response.status_code == 200
    assert field_error(text(response), "roles") == "You cannot remove your own administrator role."
    assert user_named(admin.email).roles == {"administrator"}
    assert events("staff.roles_changed") == []


def test_an_administrator_cannot_deactivate_themselves(client, admin):
    own_page = text(client.get(f"/admin/staff/{admin.id}"))
    assert "Deactivate account" not in own_page

    response = client.submit(f"/admin/staff/{admin.id}/active", {"active": "0"}, page_url=f"/admin/staff/{admin.id}")

    assert response.status_code == 302
    assert "You cannot deactivate your own account." in main(text(client.get(response.headers["Location"])))
    assert user_named(admin.email).is_active and signed_in(client)
    assert events("staff.deactivated") == []


def test_deactivating_a_person_signs_them_out_and_keeps_them_out(app, client, admin):
    person = StaffFactory(roles=["commissioner"])
    theirs = app.test_client()
    sign_in(theirs, person.email)
    assert signed_in(theirs)

    response = client.submit(f"/admin/staff/{person.id}/active", {"active": "0"}, page_url=f"/admin/staff/{person.id}")

    assert response.status_code == 302
    assert f"{person.full_name}'s account is deactivated." in main(text(client.get(response.headers["Location"])))
    assert not user_named(person.email).is_active
    assert [event.actor_id for event in events("staff.deactivated")] == [admin.id]
    assert not signed_in(theirs)
    assert sign_in(theirs, person.email).status_code == 200 and not signed_in(theirs)


def test_a_reactivated_person_can_sign_in_again(app, client, admin):
    person = StaffFactory(roles=["commissioner"])
    for active in ("0", "1"):
        client.submit(f"/admin/staff/{person.id}/active", {"active": active}, page_url=f"/admin/staff/{person.id}")

    assert user_named(person.email).is_active
    assert sign_in(app.test_client(), person.email).status_code == 302


# The audit log ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("who", "expected"), [
    ("administrator", 200), ("procurement officer", 200), ("commissioner", 403), ("provider", 403),
    ("anonymous", 302),
])
def test_the_audit_log_is_for_administrators_and_procurement_officers(client, as_user, who, expected):
    assert_answer(visit(client, as_user, who, "/admin/audit"), expected)


def rows(page: str) -> list[str]:
    return [squash(row) for row in re.findall(r'<tbody class="govuk-table__body">(.*?)</tbody>', page, re.S)[0]
            .split('<tr class="govuk-table__row">')[1:]]


def test_the_audit_log_shows_the_newest_50_events_a_page(client, admin):
    for number in range(60):
        audit.record("test.event", "widget", f"w-{number:03d}", actor=admin)
    db.session.commit()

    first, second = (text(client.get(f"/admin/audit?page={page}")) for page in (1, 2))

    assert "60 events" in main(first)
    assert len(rows(first)) == 50 and len(rows(second)) == 10
    assert "widget w-059" in rows(first)[0] and "widget w-010" in rows(first)[-1]
    assert "widget w-009" in rows(second)[0] and "widget w-000" in rows(second)[-1]
    assert 'href="/admin/audit?page=2"' in first


def test_the_audit_log_can_be_filtered_by_action(client, admin):
    audit.record("staff.invited", "user", 1, actor=admin)
    audit.record("user.signed_in", "user", 1, actor=admin)
    db.session.commit()

    page = text(client.get("/admin/audit?action=staff."))

    assert [row.split()[-4] for row in rows(page)] == ["staff.invited"]


# flask create-admin ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["prompt", "environment"])
def test_create_admin_makes_a_verified_administrator_who_can_sign_in(app, client, runner, how):
    arguments = ["create-admin", "Boss@Kent.example", "--name", "Bea Boss"]
    if how == "prompt":
        result = runner.invoke(args=arguments, input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    else:
        result = runner.invoke(args=arguments, env={"ADMIN_PASSWORD": NEW_PASSWORD})

    assert result.exit_code == 0, result.output
    assert "Administrator boss@kent.example is ready" in result.output
    person = user_named("boss@kent.example")
    assert person.is_staff and person.is_verified and person.roles == {"administrator"}
    assert sign_in(client, "boss@kent.example", NEW_PASSWORD).status_code == 302
    assert client.get("/admin/staff").status_code == 200


def test_create_admin_refuses_a_password_under_12_characters(runner):
    result = runner.invoke(args=["create-admin", "boss@kent.example"], env={"ADMIN_PASSWORD": "elevenchars"})

    assert result.exit_code != 0
    assert "Use at least 12 characters" in result.output
    assert user_named("boss@kent.example") is None


def test_create_admin_refuses_a_providers_email_address(runner):
    UserFactory(email="someone@example.org")

    result = runner.invoke(args=["create-admin", "someone@example.org"], env={"ADMIN_PASSWORD": NEW_PASSWORD})

    assert result.exit_code != 0
    assert "That email address belongs to a provider account." in result.output
    assert user_named("someone@example.org").roles == frozenset()


# Navigation ------------------------------------------------------------------------------------------------

def navigation(page: str) -> list[str]:
    nav = re.search(r'<nav aria-label="Main".*?</nav>', page, re.S).group(0)
    return [squash(item) for item in re.findall(r'class="govuk-service-navigation__link[^"]*"[^>]*>(.*?)</(?:a|button)>',
                                                nav, re.S)]


@pytest.mark.parametrize(("who", "shown", "hidden"), [
    ("anonymous", {"Sign in", "Register"}, {"Your organisation", "Staff", "Audit log", "Sign out"}),
    ("provider", {"Your organisation", "Your account", "Sign out"}, {"Staff", "Audit log", "Sign in", "Register"}),
    ("administrator", {"Staff", "Audit log", "Your account", "Sign out"}, {"Your organisation", "Sign in"}),
    ("procurement officer", {"Audit log", "Sign out"}, {"Staff", "Your organisation"}),
    ("commissioner", {"Your account", "Sign out"}, {"Staff", "Audit log", "Your organisation", "Register"}),
])
def test_the_navigation_shows_what_the_role_can_use(client, as_user, who, shown, hidden):
    items = set(navigation(text(visit(client, as_user, who, "/"))))

    assert shown <= items
    assert not hidden & items
