"""axe-core (WCAG 2.2 A and AA) on every page, for each kind of user, in a real headless Chromium.

Users sign in through the real sign-in form. Form pages are checked again after a submit that fails
validation, so the error summary and the error messages are checked too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

import pytest

from marketplace.bids import preparation
from marketplace.opportunities import services as opportunity_services
from marketplace.timeutil import utcnow
from tests.factories import OrganisationFactory, StaffFactory, UserFactory, colleague, provider
from tests.integration.test_opportunity_services import draft, published


def _submit(page) -> None:
    """Submit the page's main form as it stands (the last POST form in <main>)."""
    page.locator("main form[method='post'] [type='submit']").last.click()
    page.wait_for_load_state()


def _clear_legal_name_and_submit(page) -> None:
    page.get_by_label("Legal name").fill("")
    _submit(page)


@dataclass(frozen=True)
class Check:
    user: str  # anonymous, provider, commissioner or administrator
    path: str  # formatted with the ids of the data each user's fixture makes
    then: Callable | None = None  # an action before the check, e.g. a failing submit
    status: int = 200
    title: str | None = None  # part of the <h1>, to be sure we checked the page we meant to


CHECKS = {
    # Anyone. (Registration, its errors, the organisation form and signed-in home pages are checked on the
    # way through tests/e2e/test_provider_journey.py.)
    "anonymous-home": Check("anonymous", "/", title="Kent Commissioning Marketplace"),
    "anonymous-sign-in": Check("anonymous", "/sign-in", title="Sign in"),
    "anonymous-sign-in-errors": Check("anonymous", "/sign-in", then=_submit, title="Sign in"),
    "anonymous-register": Check("anonymous", "/register", title="Create an account"),
    "anonymous-forgot-password": Check("anonymous", "/forgot-password", title="Reset your password"),
    "anonymous-forgot-password-errors": Check("anonymous", "/forgot-password", then=_submit,
                                              title="Reset your password"),
    "anonymous-cookies-and-privacy": Check("anonymous", "/cookies-and-privacy", title="Cookies and privacy"),
    "anonymous-accessibility": Check("anonymous", "/accessibility", title="Accessibility statement"),
    "anonymous-not-found": Check("anonymous", "/no-such-page", status=404, title="Page not found"),
    # Finding work (/opportunities.atom is a feed, not HTML, so axe has nothing to check there)
    "anonymous-opportunities": Check("anonymous", "/opportunities", title="Find opportunities"),
    "anonymous-opportunities-filtered": Check("anonymous", "/opportunities?q=transport&category=community-and-libraries"
                                                           "&locality=swale", title="Find opportunities"),
    "anonymous-opportunity": Check("anonymous", "/opportunities/{published}", title="{published_title}"),
    "anonymous-right-to-bid": Check("anonymous", "/right-to-bid", title="Right to bid"),
    "anonymous-right-to-bid-decisions": Check("anonymous", "/right-to-bid/decisions",
                                              title="Decisions on expressions of interest"),
    # A provider who owns a registered organisation with a colleague
    "provider-organisation": Check("provider", "/organisation/{organisation}", title="{organisation_name}"),
    "provider-organisation-edit": Check("provider", "/organisation/{organisation}/edit",
                                        title="Change your organisation"),
    "provider-organisation-edit-errors": Check("provider", "/organisation/{organisation}/edit",
                                               then=_clear_legal_name_and_submit, title="Change your organisation"),
    "provider-members": Check("provider", "/organisation/{organisation}/members", title="Colleagues"),
    "provider-members-errors": Check("provider", "/organisation/{organisation}/members", then=_submit,
                                     title="Colleagues"),
    "provider-account": Check("provider", "/account", title="Your account"),
    "provider-change-password": Check("provider", "/account/password", title="Change your password"),
    "provider-change-password-errors": Check("provider", "/account/password", then=_submit,
                                             title="Change your password"),
    "provider-opportunities": Check("provider", "/opportunities", title="Find opportunities"),
    "provider-opportunity": Check("provider", "/opportunities/{published}", title="{published_title}"),
    "provider-saved-searches": Check("provider", "/opportunities/saved-searches", title="Your saved searches"),
    "provider-bids": Check("provider", "/bids", title="Your bids"),
    "provider-bid-task-list": Check("provider", "/opportunities/{published}/bid", title="Your bid for"),
    # A commissioner with a draft (its evaluation model from a template; no timetable or documents yet)
    "commissioner-commissioning": Check("commissioner", "/commissioning", title="Commissioning"),
    "commissioner-draft-overview": Check("commissioner", "/commissioning/{draft}", title="{draft_title}"),
    "commissioner-evaluation-model": Check("commissioner", "/commissioning/{draft}/models/{draft_model}",
                                           title="Evaluation model"),
    # An administrator
    "administrator-staff": Check("administrator", "/admin/staff", title="Staff accounts"),
    "administrator-invite-staff": Check("administrator", "/admin/staff/invite", title="Invite a member of staff"),
    "administrator-invite-staff-errors": Check("administrator", "/admin/staff/invite", then=_submit,
                                               title="Invite a member of staff"),
    # an invited colleague's page has every control: roles, resend the invitation, deactivate
    "administrator-staff-member": Check("administrator", "/admin/staff/{invited}", title="{invited_name}"),
    "administrator-audit": Check("administrator", "/admin/audit", title="Audit log"),
    "administrator-providers": Check("administrator", "/admin/providers", title="Provider directory"),
    "administrator-settings": Check("administrator", "/admin/settings", title="Settings"),
}


@pytest.fixture()
def data(app) -> dict:
    """Data the checks refer to: organisations (in and outside Kent), a provider, a new provider and staff; a
    published opportunity (the provider has started a bid for it) and a commissioner's draft."""
    organisation = OrganisationFactory(legal_name="Canterbury Community Transport")
    OrganisationFactory(legal_name="Maidstone Meals", postcode="ME14 1XX")
    OrganisationFactory(legal_name="Lewisham Lunches", postcode="SE13 5AB")
    owner = provider(organisation, full_name="Priya Provider")
    colleague(organisation, full_name="Colin Colleague")
    new_provider = UserFactory(full_name="Nadia New")
    administrator = StaffFactory(roles=["administrator"], full_name="Ada Administrator")
    officer = StaffFactory(roles=["commissioner", "procurement_officer"], full_name="Cora Commissioner")
    invited = StaffFactory(roles=["commissioner"], full_name="Ian Invited", password_hash=None)
    commissioner = StaffFactory(roles=["commissioner"], full_name="Chris Commissioner")
    with app.test_request_context():  # the services send email, which builds links
        # written and approved two days ago, so it went public yesterday and is open for bids now
        opportunity = published(commissioner, officer, now=utcnow() - timedelta(days=2))
        preparation.start_bid(owner, opportunity)  # as the "Start a bid" button does
        drafted = draft(commissioner, title="Befriending for older people in Thanet", localities=("thanet",))
        opportunity_services.apply_template(commissioner, drafted, drafted.main_model, "social_care", drafted.version)
    return {
        "users": {"provider": owner, "new_provider": new_provider, "administrator": administrator,
                  "commissioner": commissioner},
        "ids": {
            "organisation": organisation.id, "organisation_name": organisation.legal_name,
            "invited": invited.id, "invited_name": invited.full_name,
            "published": opportunity.id, "published_title": opportunity.title,
            "draft": drafted.id, "draft_title": drafted.title, "draft_model": drafted.main_model.id,
        },
    }


@pytest.mark.parametrize("name", list(CHECKS))
def test_page_has_no_axe_violations(name, page, data, sign_in, axe_check):
    check = CHECKS[name]
    path = check.path.format(**data["ids"])
    if check.user == "anonymous":
        response = page.goto(path)
        assert response.status == check.status, f"{page.url} answered {response.status}"
    else:
        # the sign-in form goes straight on to the page (?next=), as after "Sign in to see this page"
        sign_in(page, data["users"][check.user].email, next=path)
    if check.then:
        check.then(page)
        assert page.locator(".govuk-error-summary").is_visible(), "the failing submit showed no error summary"
        assert page.title().startswith("Error: ")
    if check.title:
        assert check.title.format(**data["ids"]) in page.locator("h1").inner_text()
    axe_check(page)


def test_screenshots_of_the_layout(page, data, sign_in):
    """Screenshots for a person to look at: the home page, and the organisation form with its errors."""
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/")
    header = page.locator("header")
    assert "Kent County Council" in header.inner_text()
    assert "Kent Commissioning Marketplace" in header.inner_text()
    assert page.locator("header svg, .govuk-header__logotype, .govuk-footer__crown, footer svg").count() == 0, \
        "the crown (or another logo) is in the header or footer"
    assert "Kent County Council" in page.locator("footer").inner_text()
    page.screenshot(path="/tmp/e2e-home.png", full_page=True)

    sign_in(page, data["users"]["new_provider"].email, next="/organisation/new")
    page.get_by_label("Legal name").fill("Folkestone Friends")
    _submit(page)
    page.screenshot(path="/tmp/e2e-organisation-form.png", full_page=True)

    page.set_viewport_size({"width": 375, "height": 800})
    page.goto("/")
    page.screenshot(path="/tmp/e2e-home-mobile.png", full_page=True)
