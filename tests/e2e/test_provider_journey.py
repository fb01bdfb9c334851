"""A new provider's first visit, in a real headless Chromium against the app served over HTTP.

Register, confirm the email address with the link from the (real, loopback SMTP) mailbox, register an
organisation in Kent, sign out and sign back in. axe-core checks every page on the way, including each
form after a submit that fails validation. The journey runs twice: with the service's JavaScript, and
without it (the service's scripts refused at the network), to show the service works without JavaScript.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

EMAIL = "sam.jones@folkestone-friends.example"
PASSWORD = "kettle orchard lantern"


def _error_summary_targets(page) -> list[str]:
    """The ids the error summary's links point at; each must exist on the page."""
    hrefs = page.locator(".govuk-error-summary__list a").evaluate_all("links => links.map(a => a.hash)")
    targets = [href.lstrip("#") for href in hrefs]
    for target in targets:
        assert page.locator(f"[id='{target}']").count() == 1, f"error summary links to missing #{target}"
    return targets


def _expect_errors(page, *messages: str) -> None:
    expect(page).to_have_title(re.compile(r"^Error: "))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    for message in messages:
        expect(summary).to_contain_text(message)
        expect(page.locator(".govuk-error-message").filter(has_text=message)).to_have_count(1)
    _error_summary_targets(page)


def _submit(page, name: str) -> None:
    page.get_by_role("button", name=name, exact=True).click()
    page.wait_for_load_state()


@pytest.mark.parametrize("javascript", ["with-javascript", "without-javascript"])
def test_new_provider_registers_confirms_and_registers_a_kent_organisation(
        javascript, page, mailbox, axe_check, block_scripts):
    if javascript == "without-javascript":
        block_scripts(page)

    # The home page
    page.goto("/")
    expect(page.locator("h1")).to_have_text("Kent Commissioning Marketplace")
    if javascript == "without-javascript":
        expect(page.locator("body")).not_to_have_class(re.compile(r"\bjs-enabled\b"))
    else:
        expect(page.locator("body")).to_have_class(re.compile(r"\bjs-enabled\b"))
    axe_check(page)

    # Register: a first try that fails validation
    page.get_by_role("button", name="Register your organisation").click()  # a link styled as a start button
    expect(page).to_have_url(re.compile(r"/register$"))
    expect(page.locator("h1")).to_have_text("Create an account")
    axe_check(page)
    for label in ("Create a password", "Confirm password"):
        assert page.get_by_label(label, exact=True).get_attribute("autocomplete") == "new-password", label
    page.get_by_label("Full name").fill("Sam Jones")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Create a password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password", exact=True).fill(PASSWORD + " typo")
    _submit(page, "Create account")
    _expect_errors(page, "Passwords do not match", "Agree to the terms of use to create an account")
    expect(page.get_by_label("Full name")).to_have_value("Sam Jones")
    axe_check(page)

    # ...and then correctly (passwords are never sent back, so both are typed again)
    page.get_by_label("Create a password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password", exact=True).fill(PASSWORD)
    page.get_by_label("I agree to the terms of use").check()
    _submit(page, "Create account")
    expect(page.locator("h1")).to_have_text("Check your email")
    expect(page.locator("main")).to_contain_text(EMAIL)
    axe_check(page)

    # The link in the email confirms the address, signs the user in and opens the organisation page
    link = mailbox.link_in(EMAIL, "/verify/")
    assert link.startswith(page.url.split("/register")[0]), f"link {link} does not point at the live server"
    page.goto(link)
    expect(page).to_have_url(re.compile(r"/organisation$"))
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Your email address is confirmed")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    axe_check(page)

    # Register the organisation: a first try that fails validation
    page.get_by_role("button", name="Register your organisation").click()
    expect(page.locator("h1")).to_have_text("Register your organisation")
    axe_check(page)
    page.get_by_label("Legal name").fill("Folkestone Friends")
    page.get_by_label("Registered charity").check()
    _submit(page, "Save organisation")
    _expect_errors(page, "Select the size of your organisation", "Enter your charity number",
                   "Enter the postcode of the trading address")
    expect(page.get_by_label("Legal name")).to_have_value("Folkestone Friends")
    expect(page.get_by_label("Registered charity")).to_be_checked()
    axe_check(page)

    # ...and then correctly
    page.get_by_label("Small", exact=True).check()
    page.get_by_label("Charity number (if registered)").fill("1123456")
    trading = page.get_by_role("group", name="Trading address")
    trading.get_by_label("Address line 1").fill("12 Harbour Street")
    trading.get_by_label("Town or city").fill("Canterbury")
    trading.get_by_label("Postcode").fill("ct1 2ab")
    page.get_by_label("Our substantive operations are at the trading address").check()
    _submit(page, "Save organisation")

    expect(page.locator("h1")).to_have_text("Folkestone Friends")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Your organisation is registered")
    expect(page.locator(".govuk-tag", has_text="Kent-based")).to_have_text("Kent-based: Canterbury")
    summary = page.locator(".govuk-summary-list")
    expect(summary).to_contain_text("Registered charity")
    expect(summary).to_contain_text("Small")
    expect(summary).to_contain_text("1123456")
    expect(summary.locator(".govuk-summary-list__row", has_text="Trading address")).to_contain_text("CT1 2AB")
    expect(summary.locator(".govuk-summary-list__row", has_text="Operations address")).to_contain_text("CT1 2AB")
    assert "ct1 2ab" not in page.locator("main").inner_text()
    axe_check(page)

    # Sign out (a POST form button in the service navigation)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("You have signed out")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    axe_check(page)

    # Sign back in: a wrong password first
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign in").click()
    expect(page.locator("h1")).to_have_text("Sign in")
    axe_check(page)
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill("not the password")
    _submit(page, "Sign in")
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    _error_summary_targets(page)
    axe_check(page)

    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    _submit(page, "Sign in")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.locator("main")).to_contain_text("You are signed in as Sam Jones")
    axe_check(page)
    page.get_by_role("link", name="Go to Folkestone Friends").click()
    expect(page.locator("h1")).to_have_text("Folkestone Friends")
    expect(page.locator(".govuk-tag", has_text="Kent-based")).to_have_text("Kent-based: Canterbury")
    axe_check(page)


def test_empty_registration_shows_an_error_summary_whose_links_move_focus_to_the_fields(page, axe_check):
    page.goto("/register")
    _submit(page, "Create account")

    _expect_errors(page, "Enter your full name", "Enter your email address", "Enter a password",
                   "Confirm your password", "Agree to the terms of use to create an account")
    targets = _error_summary_targets(page)
    assert targets == ["full_name", "email", "password", "confirm", "accept_terms"]
    # GOV.UK Frontend moves focus to the summary when the page loads, so it is announced first
    assert page.evaluate("() => document.activeElement.classList.contains('govuk-error-summary')")
    axe_check(page)

    page.locator(".govuk-error-summary__list a").first.click()
    assert page.evaluate("() => document.activeElement.id") == "full_name"
    page.locator(".govuk-error-summary__list a", has_text="Agree to the terms of use").click()
    assert page.evaluate("() => document.activeElement.id") == "accept_terms"
    # the field's label is scrolled into view with it, not hidden under the top of the window
    assert page.evaluate("() => document.querySelector(\"label[for='accept_terms']\").getBoundingClientRect().top") >= 0
