"""Provider accounts over HTTP: registration, email links, sign-in and lock-out, password reset and change, CSRF."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from urllib.parse import quote, urlsplit

import pytest
import sqlalchemy as sa
from itsdangerous import URLSafeTimedSerializer

from marketplace.accounts import services
from marketplace.accounts.models import SignInThrottle, User
from marketplace.accounts.passwords import check_password
from marketplace.audit import AuditEvent
from marketplace.extensions import db
from marketplace.timeutil import utcnow
from tests.factories import PASSWORD, UserFactory

NEW_PASSWORD = "a different long passphrase"
VALID = {"full_name": "Ada Lovelace", "email": "ada@example.org", "password": PASSWORD, "confirm": PASSWORD,
         "accept_terms": "y"}
GENERIC = "Enter a correct email address and password."
LOCKED = "Too many attempts to sign in with this email address. Wait 15 minutes"
CSRF_PAGE = "The form had expired or was not sent from this site"


# Reading pages and the database --------------------------------------------------------------------------

def text(response) -> str:
    return response.get_data(as_text=True)


def squash(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def title(page: str) -> str:
    return squash(re.search(r"<title>(.*?)</title>", page, re.S).group(1))


def main(page: str) -> str:
    return squash(re.search(r'<main\b.*?</main>', page, re.S).group(0))


def field_error(page: str, field: str) -> str:
    match = re.search(rf'<p id="{field}-error" class="govuk-error-message">(.*?)</p>', page, re.S)
    return squash(match.group(1)).removeprefix("Error: ") if match else ""


def input_value(page: str, field: str) -> str:
    tag = re.search(rf'<input\b[^>]*\bid="{field}"[^>]*>', page, re.S).group(0)
    value = re.search(r'\bvalue="([^"]*)"', tag)
    return html.unescape(value.group(1)) if value else ""


def users() -> list[User]:
    db.session.expire_all()
    return db.session.scalars(sa.select(User).order_by(User.id)).all()


def actions() -> list[str]:
    return db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()


def link_path(mailbox, email: str, fragment: str) -> str:
    return urlsplit(mailbox.link_in(email, fragment)).path


# Doing things ----------------------------------------------------------------------------------------------

def register(client, **changes):
    return client.submit("/register", {**VALID, **changes})


def sign_in(client, email: str, password: str = PASSWORD, next_path: str | None = None):
    url = "/sign-in" + (f"?next={quote(next_path, safe='')}" if next_path is not None else "")
    return client.submit(url, {"email": email, "password": password})


def signed_in(client) -> bool:
    return client.get("/account").status_code == 200


def verification_link(client, mailbox, user: User) -> str:
    client.submit("/register/resend", {"email": user.email}, page_url="/register/check-your-email")
    return link_path(mailbox, user.email, "/verify/")


def reset_link(client, mailbox, user: User) -> str:
    client.submit("/forgot-password", {"email": user.email})
    return link_path(mailbox, user.email, "/reset-password/")


# Registration ----------------------------------------------------------------------------------------------

def test_registering_creates_an_unverified_account_and_emails_a_confirmation_link(client, mailbox):
    response = register(client, email="  Ada@Example.ORG ")

    assert response.status_code == 302
    assert response.headers["Location"] == "/register/check-your-email"
    assert "We have sent a link to ada@example.org" in main(text(client.get(response.headers["Location"])))
    [user] = users()
    assert (user.email, user.full_name, user.is_staff, user.email_verified_at) == (
        "ada@example.org", "Ada Lovelace", False, None)
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    assert check_password(user.password_hash, PASSWORD)
    event = db.session.scalars(sa.select(AuditEvent).filter_by(action="user.registered")).one()
    assert (event.object_id, event.actor_id) == (str(user.id), user.id)
    [message] = mailbox.to("ada@example.org")
    assert message["Subject"] == "Confirm your email address"
    assert link_path(mailbox, "ada@example.org", "/verify/").startswith("/verify/")


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"full_name": ""}, "full_name", "Enter your full name"),
    ({"full_name": "    "}, "full_name", "Enter your full name"),
    ({"full_name": "x" * 121}, "full_name", "Full name must be 120 characters or fewer"),
    ({"full_name": "Ada\x00Lovelace"}, "full_name", "Full name must not contain control characters"),
    ({"email": ""}, "email", "Enter your email address"),
    ({"email": "ada@" + ".".join(["a" * 50] * 5) + ".org"}, "email", "Email address must be 254 characters or fewer"),
    ({"email": "ada.example.org"}, "email", "Enter an email address in the correct format, like name@example.com"),
    ({"email": "ada@"}, "email", "Enter an email address in the correct format, like name@example.com"),
    ({"password": "", "confirm": ""}, "password", "Enter a password"),
    ({"password": "elevenchars", "confirm": "elevenchars"}, "password", "Password must be 12 characters or more"),
    ({"confirm": PASSWORD + "!"}, "confirm", "Passwords do not match"),
    ({"confirm": ""}, "confirm", "Confirm your password"),
    ({"accept_terms": ""}, "accept_terms", "Agree to the terms of use to create an account"),
])
def test_registration_with_bad_input_explains_the_problem_keeps_the_answers_and_creates_nobody(
        client, mailbox, changes, field, message):
    response = register(client, **changes)

    page = text(response)
    assert response.status_code == 200
    assert title(page).startswith("Error: Create an account")
    assert "There is a problem" in page
    assert f'href="#{field}">{message}' in page  # the summary links to the field
    assert field_error(page, field) == message
    typed = {**VALID, **changes}
    assert input_value(page, "full_name") == typed["full_name"].strip()
    assert input_value(page, "email") == typed["email"].strip()
    assert input_value(page, "password") == "" and input_value(page, "confirm") == ""
    assert users() == [] and actions() == [] and mailbox.messages == []


def test_an_email_address_can_register_only_once_whatever_its_case_or_spaces(client, mailbox):
    UserFactory(email="taken@example.org")

    response = register(client, email="  TAKEN@Example.org  ")

    page = text(response)
    assert response.status_code == 200 and title(page).startswith("Error:")
    assert field_error(page, "email") == ("An account already uses this email address. Sign in or reset your "
                                          "password.")
    assert input_value(page, "email") == "TAKEN@Example.org"
    assert len(users()) == 1 and mailbox.messages == []


@pytest.mark.parametrize("name", ["Zoë Ní Bhriain", "Łukasz Żółć-O'Brien", "山田 太郎"])
def test_names_in_any_alphabet_are_stored_and_shown_intact(client, mailbox, as_user, name):
    assert register(client, full_name=name).status_code == 302

    [user] = users()
    assert user.full_name == name
    assert f"Dear {name}," in mailbox.last_body(user.email)
    assert name in main(text(as_user(user).get("/account")))


def test_html_in_a_name_is_shown_as_text_not_markup(client, as_user):
    name = '<script>alert("hi")</script> <b>Bold</b>'
    register(client, full_name=name)

    [user] = users()
    page = text(as_user(user).get("/account"))
    assert user.full_name == name
    assert "<script>alert" not in page and "<b>Bold</b>" not in page
    assert "&lt;script&gt;alert(" in page and "&lt;b&gt;Bold&lt;/b&gt;" in page


# Email verification ----------------------------------------------------------------------------------------

def test_the_emailed_link_confirms_the_address_and_signs_the_person_in(client, mailbox):
    register(client)
    link = link_path(mailbox, VALID["email"], "/verify/")

    response = client.get(link)

    assert response.status_code == 302 and response.headers["Location"] == "/organisation"
    [user] = users()
    assert user.email_verified_at is not None
    assert "user.email_verified" in actions()
    account = main(text(client.get("/account")))
    assert "Email confirmed Yes" in account and VALID["email"] in account


@pytest.mark.parametrize("same_browser", [True, False])
def test_a_verification_link_works_only_once(app, client, mailbox, same_browser):
    register(client)
    link = link_path(mailbox, VALID["email"], "/verify/")
    client.get(link)

    response = (client if same_browser else app.test_client()).get(link)

    page = text(response)
    assert response.status_code == 400
    assert title(page).startswith("This link does not work")
    assert "This link has already been used or is no longer valid." in main(page)
    assert actions().count("user.email_verified") == 1


def forge(path: str, user: User, purpose: str) -> str:
    token = URLSafeTimedSerializer("not-the-service-secret", salt=f"marketplace:{purpose}").dumps(
        {"id": user.id, "fp": "0" * 16})
    return path.rsplit("/", 1)[0] + "/" + token


LINK_PROBLEMS = {
    # problem: (how to spoil the emailed path, heading, message)
    "expired": (None, "This link has expired", "This link has expired."),
    "forged": (forge, "This link does not work", "This link is not valid."),
    "truncated": (lambda path, user, purpose: path[:-4], "This link does not work", "This link is not valid."),
}


@pytest.mark.parametrize("problem", LINK_PROBLEMS)
def test_an_expired_or_tampered_verification_link_gives_a_clear_page(app, client, mailbox, monkeypatch, problem):
    user = UserFactory(email_verified_at=None)
    link = verification_link(client, mailbox, user)
    spoil, heading, message = LINK_PROBLEMS[problem]
    if spoil is None:
        monkeypatch.setitem(app.config, "EMAIL_VERIFY_MAX_AGE", -1)
    else:
        link = spoil(link, user, "verify-email")

    response = client.get(link)

    page = text(response)
    assert response.status_code == 400
    assert title(page).startswith(heading) and message in main(page) and "Get a new link" in page
    assert users()[0].email_verified_at is None and not signed_in(client)


@pytest.mark.parametrize(("who", "emailed"), [("waiting", True), ("unknown", False), ("verified", False)])
def test_sending_the_link_again_says_the_same_whether_or_not_the_address_is_waiting(client, mailbox, who, emailed):
    waiting = UserFactory(email="waiting@example.org", email_verified_at=None)
    UserFactory(email="verified@example.org")
    email = f"{who}@example.org"

    response = client.submit("/register/resend", {"email": email}, page_url="/register/check-your-email")

    assert response.status_code == 302 and response.headers["Location"] == "/register/check-your-email"
    page = main(text(client.get("/register/check-your-email")))
    assert "If that address has an account waiting for confirmation, we have sent a new link." in page
    assert bool(mailbox.to(email)) is emailed
    if emailed:
        assert client.get(link_path(mailbox, email, "/verify/")).status_code == 302
        assert users()[0].id == waiting.id and users()[0].is_verified


# Signing in and out ----------------------------------------------------------------------------------------

def test_the_right_password_signs_in_and_is_audited(client):
    user = UserFactory(email="ada@example.org")

    response = sign_in(client, " ADA@example.org ")

    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert signed_in(client)
    db.session.refresh(user)
    assert user.last_signed_in_at is not None
    event = db.session.scalars(sa.select(AuditEvent).filter_by(action="user.signed_in")).one()
    assert event.actor_id == user.id
    assert "Sign out" in text(client.get("/"))


@pytest.mark.parametrize("email", ["ada@example.org", "nobody@example.org"], ids=["registered", "unregistered"])
def test_sign_in_is_refused_with_the_same_message_whether_or_not_the_email_is_registered(client, email):
    UserFactory(email="ada@example.org")

    response = sign_in(client, email, "not the password at all")

    page = text(response)
    assert response.status_code == 200 and title(page).startswith("Error: Sign in")
    assert field_error(page, "email") == GENERIC
    assert input_value(page, "email") == email and input_value(page, "password") == ""
    assert not signed_in(client) and "user.signed_in" not in actions()


@pytest.mark.parametrize("email", ["ada@example.org", "nobody@example.org"], ids=["registered", "unregistered"])
def test_too_many_wrong_passwords_lock_the_address_with_the_same_message_whether_or_not_it_is_registered(
        app, client, email):
    UserFactory(email="ada@example.org")
    attempts = app.config["LOCKOUT_ATTEMPTS"]

    messages = [field_error(text(sign_in(client, email, "wrong password here")), "email") for _ in range(attempts)]

    assert messages[:-1] == [GENERIC] * (attempts - 1)
    assert messages[-1].startswith(LOCKED)
    assert field_error(text(sign_in(client, email, PASSWORD)), "email").startswith(LOCKED)
    assert not signed_in(client)
    # What is stored says nothing about the address itself.
    assert email not in str(db.session.scalars(sa.select(SignInThrottle.email_key)).all())


def lock(app, client, email: str) -> None:
    for _ in range(app.config["LOCKOUT_ATTEMPTS"]):
        sign_in(client, email, "wrong password here")


def minutes_later(monkeypatch, minutes: int) -> None:
    later = utcnow() + timedelta(minutes=minutes)
    monkeypatch.setattr(services, "utcnow", lambda: later)


def test_a_locked_account_cannot_sign_in_with_the_right_password_until_the_lock_expires(app, client, monkeypatch):
    UserFactory(email="ada@example.org")
    lock(app, client, "ada@example.org")

    minutes_later(monkeypatch, app.config["LOCKOUT_MINUTES"] - 1)
    assert field_error(text(sign_in(client, "ada@example.org")), "email").startswith(LOCKED)
    minutes_later(monkeypatch, app.config["LOCKOUT_MINUTES"] + 1)
    assert sign_in(client, "ada@example.org").status_code == 302
    assert signed_in(client)


def test_once_a_lock_expires_a_single_wrong_password_is_not_reported_as_a_lock(app, client, monkeypatch):
    UserFactory(email="ada@example.org")
    lock(app, client, "ada@example.org")
    minutes_later(monkeypatch, app.config["LOCKOUT_MINUTES"] + 1)

    page = text(sign_in(client, "ada@example.org", "wrong password here"))

    assert field_error(page, "email") == GENERIC
    assert sign_in(client, "ada@example.org").status_code == 302


def test_a_deactivated_account_cannot_sign_in(client):
    UserFactory(email="gone@example.org", deactivated_at=utcnow())

    response = sign_in(client, "gone@example.org")

    assert response.status_code == 200 and field_error(text(response), "email") == GENERIC
    assert not signed_in(client) and "user.signed_in" not in actions()


def test_signing_out_needs_a_post_carrying_the_form_token(client):
    sign_in(client, UserFactory().email)

    refused_get = client.get("/sign-out")
    assert refused_get.status_code == 405
    assert title(text(refused_get)).startswith("Sorry, there is a problem with your request")
    assert client.post("/sign-out").status_code == 400
    assert signed_in(client)

    response = client.submit("/sign-out", page_url="/")

    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert not signed_in(client)
    assert "You have signed out." in main(text(client.get("/")))


@pytest.mark.parametrize(("next_path", "destination"), [
    ("/account", "/account"),
    ("/account?tab=1", "/account?tab=1"),
    ("//evil.example", "/"),
    ("https://evil.example", "/"),
    ("\\\\evil.example", "/"),
    ("/\\evil.example", "/%5Cevil.example"),  # Werkzeug percent-encodes the backslash: a path on this site
    ("/\t/evil.example", "/"),
    ("javascript:alert(1)", "/"),
])
def test_after_signing_in_only_a_path_on_this_site_is_followed(client, next_path, destination):
    response = sign_in(client, UserFactory().email, next_path=next_path)

    assert response.status_code == 302
    assert response.headers["Location"] == destination


def test_a_page_that_needs_an_account_sends_visitors_to_sign_in_and_back(client):
    user = UserFactory()

    response = client.get("/account")

    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/sign-in"
    back = client.submit(response.headers["Location"], {"email": user.email, "password": PASSWORD})
    assert back.headers["Location"] == "/account"


@pytest.mark.parametrize("app_overrides", [{"SIGN_IN_RATE_LIMIT": "3 per minute"}])
def test_the_fourth_sign_in_attempt_in_a_minute_gets_the_services_too_many_requests_page(client):
    token = client.csrf_token("/sign-in")
    statuses = [client.post("/sign-in", data={"csrf_token": token, "email": "ada@example.org",
                                               "password": "wrong password here"}).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    response = client.post("/sign-in", data={"csrf_token": token, "email": "ada@example.org", "password": PASSWORD})
    page = text(response)
    assert response.status_code == 429
    assert title(page).startswith("Too many requests")
    assert "You have tried this too many times in a short period." in main(page)


# Password reset --------------------------------------------------------------------------------------------

def test_asking_for_a_reset_says_the_same_whether_or_not_the_address_has_an_account(client, mailbox):
    UserFactory(email="ada@example.org")

    pages = {email: main(text(client.submit("/forgot-password", {"email": email}))).replace(email, "EMAIL")
             for email in ("ada@example.org", "nobody@example.org")}

    assert pages["ada@example.org"] == pages["nobody@example.org"]
    assert "If EMAIL has an account, we have sent it a link" in pages["nobody@example.org"]
    assert [m["To"] for m in mailbox.messages] == ["ada@example.org"]
    assert mailbox.messages[0]["Subject"] == "Reset your password"


def test_the_reset_link_sets_a_new_password_and_the_old_one_stops_working(app, client, mailbox):
    user = UserFactory()
    link = reset_link(client, mailbox, user)
    assert "Reset your password" in title(text(client.get(link)))

    response = client.submit(link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})

    assert response.status_code == 302 and response.headers["Location"] == "/sign-in"
    assert "Your password has been changed." in main(text(client.get("/sign-in")))
    assert "user.password_reset" in actions()
    other = app.test_client()
    assert field_error(text(sign_in(other, user.email, PASSWORD)), "email") == GENERIC
    assert sign_in(other, user.email, NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize("app_overrides", [{"BASE_URL": "https://marketplace.kent.example"}])
def test_with_base_url_set_the_reset_link_points_at_the_service_whatever_host_the_request_named(client, mailbox):
    user = UserFactory()
    forged = "http://attacker.example"
    page = text(client.get("/forgot-password", base_url=forged))
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)

    client.post("/forgot-password", data={"email": user.email, "csrf_token": token}, base_url=forged)

    link = mailbox.link_in(user.email, "/reset-password/")
    assert link.startswith("https://marketplace.kent.example/reset-password/")


def test_a_reset_link_works_only_once(client, mailbox):
    user = UserFactory()
    link = reset_link(client, mailbox, user)
    client.submit(link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})

    again = client.submit(link, {"password": "yet another passphrase", "confirm": "yet another passphrase"},
                          page_url="/forgot-password")

    assert again.status_code == 400
    assert "This link has already been used or is no longer valid." in main(text(again))
    assert check_password(users()[0].password_hash, NEW_PASSWORD)


@pytest.mark.parametrize("problem", LINK_PROBLEMS)
def test_an_expired_or_tampered_reset_link_gives_a_clear_page_and_changes_nothing(
        app, client, mailbox, monkeypatch, problem):
    user = UserFactory()
    link = reset_link(client, mailbox, user)
    spoil, heading, message = LINK_PROBLEMS[problem]
    if spoil is None:
        monkeypatch.setitem(app.config, "PASSWORD_RESET_MAX_AGE", -1)
    else:
        link = spoil(link, user, "reset-password")

    shown = client.get(link)
    posted = client.submit(link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, page_url="/forgot-password")

    for response in (shown, posted):
        assert response.status_code == 400
        assert title(text(response)).startswith(heading) and message in main(text(response))
    assert check_password(users()[0].password_hash, PASSWORD)


def test_the_reset_form_checks_the_new_password(client, mailbox):
    user = UserFactory()
    link = reset_link(client, mailbox, user)

    response = client.submit(link, {"password": "too short", "confirm": "too short"})

    assert response.status_code == 200
    assert field_error(text(response), "password") == "Password must be 12 characters or more"
    assert check_password(users()[0].password_hash, PASSWORD)


def test_resetting_the_password_signs_out_a_session_started_elsewhere(app, client, mailbox):
    user = UserFactory()
    elsewhere = app.test_client()
    sign_in(elsewhere, user.email)
    assert signed_in(elsewhere)

    client.submit(reset_link(client, mailbox, user), {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})

    response = elsewhere.get("/account")
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/sign-in"


# Changing the password -------------------------------------------------------------------------------------

def change_password(client, current: str, new: str = NEW_PASSWORD):
    return client.submit("/account/password", {"current_password": current, "password": new, "confirm": new})


def test_changing_the_password_needs_the_current_password(client, as_user):
    user = UserFactory()
    as_user(user)

    response = change_password(client, "not my password at all")

    page = text(response)
    assert response.status_code == 200 and title(page).startswith("Error: Change your password")
    assert field_error(page, "current_password") == "Your current password is not correct."
    assert check_password(users()[0].password_hash, PASSWORD)
    assert "user.password_changed" not in actions()


def test_changing_the_password_keeps_this_session_and_ends_the_others(app, client, as_user):
    user = UserFactory()
    elsewhere = app.test_client()
    sign_in(elsewhere, user.email)
    as_user(user)

    response = change_password(client, PASSWORD)

    assert response.status_code == 302 and response.headers["Location"] == "/account"
    account = client.get("/account")
    assert account.status_code == 200 and "Your password has been changed." in main(text(account))
    assert not signed_in(elsewhere)
    assert check_password(users()[0].password_hash, NEW_PASSWORD)
    assert "user.password_changed" in actions()


# CSRF ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/register", "/sign-in"])
@pytest.mark.parametrize("token", ["missing", "forged", "another visitor's"])
def test_a_form_posted_without_this_sessions_token_is_refused_and_changes_nothing(app, client, url, token):
    UserFactory(email="ada@example.org")
    data = dict(VALID, email="new@example.org") if url == "/register" else {"email": "ada@example.org",
                                                                             "password": PASSWORD}
    client.get(url)
    if token == "forged":
        data["csrf_token"] = "IjAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAi.aaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbb"
    elif token != "missing":
        data["csrf_token"] = app.test_client().csrf_token(url)

    response = client.post(url, data=data)

    assert response.status_code == 400
    assert CSRF_PAGE in main(text(response))
    assert len(users()) == 1 and actions() == []
    assert not signed_in(client)
