"""The first half of an evaluation in a real headless Chromium, with axe-core on every page (and on each form
after a submit that fails): a procurement officer sets up the panel; an evaluator declares a conflict, which the
officer mitigates; the officer opens the bids, checks compliance and releases them; the evaluator then reads a
compliant bid. The conflicts assessment page is checked on an opportunity awaiting approval."""

from __future__ import annotations

from playwright.sync_api import expect

from marketplace.evaluation import compliance, panel
from marketplace.extensions import db
from marketplace.opportunities import services
from tests.builders import closed_with_bids
from tests.factories import StaffFactory
from tests.integration.test_evaluation_panel import pass_all
from tests.integration.test_opportunity_services import ready_draft


def _submit(page, name: str) -> None:
    page.get_by_role("button", name=name, exact=True).click()
    page.wait_for_load_state()


def _errors(page, axe_check, *messages: str) -> None:
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    for message in messages:
        expect(summary).to_contain_text(message)
    axe_check(page)


def _sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()


def test_panel_declarations_opening_compliance_and_release_pages(app, page, sign_in, axe_check):
    author = StaffFactory(roles=["commissioner"], full_name="Chris Commissioner")
    officer = StaffFactory(roles=["procurement_officer"], full_name="Pat Procurement")
    eve = StaffFactory(roles=["commissioner"], full_name="Eve Evaluator")
    sol = StaffFactory(roles=["commissioner"], full_name="Sol Scorer")
    with app.test_request_context():
        opportunity, bids = closed_with_bids(author)
        waiting = ready_draft(author, title="Meals on wheels in Dover")
        services.submit_for_approval(author, waiting, waiting.version)
    base = f"/commissioning/{opportunity.id}/evaluation"

    # The officer: the conflicts assessment of an opportunity awaiting approval, with its errors
    sign_in(page, officer.email, next=f"/commissioning/{waiting.id}/evaluation/conflicts-assessment")
    expect(page.locator("h1")).to_have_text("Conflicts assessment")
    axe_check(page)
    page.get_by_label("Who prepared the opportunity").fill("")
    _submit(page, "Save the conflicts assessment")
    _errors(page, axe_check, "Enter who prepared the opportunity", "Enter the interests known")

    # The evaluation overview and the panel
    page.goto(base)
    expect(page.locator("h1")).to_have_text("Evaluation")
    axe_check(page)
    page.get_by_role("link", name="Panel", exact=True).click()
    expect(page.locator("h1")).to_have_text("Evaluation panel")
    axe_check(page)
    _submit(page, "Add evaluator")
    _errors(page, axe_check, "Choose the evaluator")
    for person in (eve, sol):
        page.get_by_label("Evaluator", exact=True).select_option(str(person.id))
        _submit(page, "Add evaluator")
        expect(page.locator(".govuk-notification-banner--success")).to_contain_text("added to the panel")
    page.get_by_label("Moderator", exact=True).select_option(str(sol.id))
    _submit(page, "Set moderator")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Sol Scorer is the moderator")
    axe_check(page)
    page.get_by_role("link", name="Replace Eve Evaluator as evaluator").click()
    expect(page.locator("h1")).to_have_text("Replace Eve Evaluator on the panel")
    axe_check(page)
    _submit(page, "Take them off the panel")
    _errors(page, axe_check, "Enter why they are leaving the panel")
    _sign_out(page)

    # The evaluator: their panels, then a declared conflict (first without details)
    sign_in(page, eve.email, next="/commissioning/evaluations")
    expect(page.locator("h1")).to_have_text("Your panels")
    axe_check(page)
    page.get_by_role("link", name=f"Declare conflicts of interest for {opportunity.reference}").click()
    expect(page.locator("h1")).to_have_text("Declare conflicts of interest")
    expect(page.locator("#bidders li")).to_have_count(3)
    axe_check(page)
    page.get_by_label("Yes, I have a conflict of interest").check()
    _submit(page, "Make my declaration")
    _errors(page, axe_check, "Give details of the conflict of interest")
    page.get_by_label("Details of the conflict").fill("My brother volunteers for Bidder 2")
    _submit(page, "Make my declaration")
    expect(page.locator("main")).to_contain_text("Conflict: awaiting mitigation")
    axe_check(page)
    page.goto(base)
    axe_check(page)  # the overview as a panel member sees it
    _sign_out(page)
    panel.declare(sol, opportunity, False, "")

    # The officer mitigates, opens, checks compliance and releases
    sign_in(page, officer.email, next=f"{base}/panel")
    page.get_by_role("link", name="Record how this conflict is managed for Eve Evaluator").click()
    axe_check(page)
    _submit(page, "Record the mitigation")
    _errors(page, axe_check, "Say how the conflict is managed")
    page.get_by_label("How is the conflict managed?").fill("Eve does not score Bidder 2 alone")
    _submit(page, "Record the mitigation")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("The mitigation is recorded")
    page.goto(f"{base}/opening")
    expect(page.locator("h1")).to_have_text("Open the bids")
    axe_check(page)
    _submit(page, "Open the bids")
    expect(page.locator("h1")).to_have_text("Opening record")
    expect(page.locator("main table").first.locator("tbody tr")).to_have_count(3)
    axe_check(page)
    page.get_by_role("link", name="Check each bid’s compliance").click()
    expect(page.locator("h1")).to_have_text("Compliance")
    axe_check(page)
    page.get_by_role("link", name="Bidder 1 Community Interest Company").click()
    expect(page.locator("h1")).to_have_text("Bidder 1 Community Interest Company’s bid")
    axe_check(page)
    page.get_by_label("Excluded").check()
    _submit(page, "Save the compliance decision")
    _errors(page, axe_check, "Give the reason for excluding the bid", "Select whether ‘Price complete’ is met")
    for fieldset in page.locator("main form fieldset").all()[:-1]:
        fieldset.get_by_label("Met", exact=True).check()
    page.get_by_label("Compliant: it goes to the panel").check()
    _submit(page, "Save the compliance decision")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("is saved")
    with app.test_request_context():
        db.session.expire_all()
        for row in compliance.opened_bids(opportunity.id)[1:]:
            compliance.record(officer, opportunity, row, pass_all(opportunity, row), True, "")
    page.goto(base)
    axe_check(page)
    _submit(page, "Release the bids to the panel")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("released to the panel")
    axe_check(page)
    _sign_out(page)

    # The evaluator reads a compliant bid, without the compliance form
    sign_in(page, eve.email, next=f"{base}/bids/{bids[0].id}")
    expect(page.locator("h1")).to_have_text("Bidder 1 Community Interest Company’s bid")
    expect(page.locator("main")).not_to_contain_text("Compliance checks")
    axe_check(page)
