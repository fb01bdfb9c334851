"""An opportunity from draft to a published answer, in a real headless Chromium against the app over HTTP.

A commissioner writes an opportunity (details, timetable, a specification, an evaluation model from a
template) and sends it for approval; a procurement officer records the conflicts assessment and approves it; a
provider finds it with the keyword search, opens it and asks a question; the commissioner answers it publicly;
anyone then sees the question and answer on the opportunity page, without the asking organisation's name.
axe-core checks every page on the way.
"""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect

from marketplace.extensions import db
from marketplace.opportunities.models import Opportunity
from marketplace.timeutil import london, utcnow
from tests.factories import OrganisationFactory, StaffFactory, provider

TITLE = "Befriending for older people in Thanet"
QUESTION = "Can volunteers who are not DBS checked yet make the telephone calls?"
ANSWER = "Yes, for telephone calls only, while their DBS check is in progress."
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _submit(page, name: str) -> None:
    page.get_by_role("button", name=name, exact=True).click()
    page.wait_for_load_state()


def _no_errors(page) -> None:
    page.wait_for_load_state()
    summary = page.locator(".govuk-error-summary")
    assert summary.count() == 0, f"errors on {page.url}: {summary.first.inner_text()}"


def _sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)


def _fill_moment(page, field: str, moment, time: str) -> None:
    page.locator(f"#{field}").fill(str(moment.day))
    page.locator(f"#{field}-month").fill(str(moment.month))
    page.locator(f"#{field}-year").fill(str(moment.year))
    page.locator(f"#{field}-time").fill(time)


def test_an_opportunity_is_written_approved_found_questioned_and_answered(page, sign_in, axe_check):
    commissioner = StaffFactory(roles=["commissioner"], full_name="Chris Commissioner")
    officer = StaffFactory(roles=["procurement_officer"], full_name="Pat Procurement")
    organisation = OrganisationFactory(legal_name="Margate Good Neighbours")
    bidder = provider(organisation, full_name="Bea Bidder")
    today = london(utcnow())

    # The commissioner signs in and creates an opportunity
    sign_in(page, commissioner.email, next="/commissioning")
    expect(page.locator("h1")).to_have_text("Commissioning")
    axe_check(page)
    page.get_by_role("link", name="Create an opportunity").click()  # a link styled as a button
    page.wait_for_load_state()
    expect(page.locator("h1")).to_have_text("Create an opportunity")
    axe_check(page)
    page.get_by_label("Title", exact=True).fill(TITLE)
    page.get_by_label("Summary", exact=True).fill("Regular visits and calls for people who live alone.")
    page.get_by_label("Outcomes sought").fill("Fewer people feel lonely\nMore people take part in community life")
    page.get_by_label("Category").select_option("adult-social-care")
    page.get_by_label("Thanet", exact=True).check()
    page.get_by_label("Estimated total value").fill("120000")
    page.locator("#contract_start").fill("1")
    page.locator("#contract_start-month").fill("10")
    page.locator("#contract_start-year").fill(str(today.year + 1))
    page.get_by_label("Contract length in months").fill("24")
    page.get_by_label(re.compile(r"Light-touch regime")).check()
    page.get_by_label("Contact name").fill("Chris Commissioner")
    page.get_by_label("Contact email address").fill("chris@kent.example")
    _submit(page, "Save and continue")
    _no_errors(page)
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("is saved as a draft")
    expect(page.locator("h1")).to_have_text("Timetable")
    axe_check(page)
    opportunity_id = int(re.search(r"/commissioning/(\d+)/timetable", page.url).group(1))

    # The timetable: published today, questions close in about 30 days, bids in about 40 (UK time)
    _fill_moment(page, "publication_date", today, "00:00")
    _fill_moment(page, "clarification_deadline", today + timedelta(days=30), "12:00")
    _fill_moment(page, "submission_deadline", today + timedelta(days=40), "12:00")
    _submit(page, "Save timetable")
    expect(page.locator("h1")).not_to_have_text("Timetable")  # the overview, which lists what is still to do
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("The timetable is saved")
    expect(page.locator("h1")).to_have_text(TITLE)
    axe_check(page)

    # The specification
    page.get_by_role("link", name="See the documents").click()
    expect(page.locator("h1")).to_have_text("Documents")
    axe_check(page)
    page.get_by_label("Specification", exact=True).check()
    page.get_by_label("Title (optional)").fill("Service specification")
    page.get_by_label("Upload a file").set_input_files(
        {"name": "specification.pdf", "mimeType": "application/pdf", "buffer": PDF})
    _submit(page, "Upload document")
    _no_errors(page)
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("The document is uploaded")
    expect(page.locator("main table")).to_contain_text("Service specification")
    axe_check(page)

    # The evaluation model, from a template
    page.goto(f"/commissioning/{opportunity_id}")
    page.get_by_role("link", name="The opportunity's evaluation model").click()
    expect(page.locator("h1")).to_have_text("Evaluation model")
    axe_check(page)
    page.get_by_label("Adult or children's social care").check()
    _submit(page, "Use this template")
    _no_errors(page)
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("The criteria now come from the template")
    expect(page.locator("#weights-total")).to_contain_text("Weights add up to 100 of 100")
    axe_check(page)

    # Send it for approval
    page.goto(f"/commissioning/{opportunity_id}")
    axe_check(page)
    _submit(page, "Send for approval")
    _no_errors(page)
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("sent for approval")
    expect(page.locator("main")).to_contain_text("Awaiting approval")
    axe_check(page)
    _sign_out(page)
    axe_check(page)

    # A procurement officer approves it from the commissioning list
    sign_in(page, officer.email, next="/commissioning")
    axe_check(page)
    page.locator("#awaiting + table").get_by_role("link", name=TITLE).click()
    expect(page.locator("h1")).to_have_text(TITLE)
    axe_check(page)
    # first the conflicts assessment, without which approval is refused
    page.get_by_role("link", name="Record the conflicts assessment").click()
    expect(page.locator("h1")).to_have_text("Conflicts assessment")
    expect(page.get_by_label("Who prepared the opportunity")).to_have_value("Chris Commissioner, commissioner")
    axe_check(page)
    page.get_by_label("Interests known").fill("None known")
    page.get_by_label("How they are managed").fill("Nothing to manage")
    _submit(page, "Save the conflicts assessment")
    _no_errors(page)
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("You can now approve")
    _submit(page, "Approve and publish")
    _no_errors(page)
    expect(page.locator(".govuk-notification-banner--success")).to_be_visible()
    axe_check(page)
    db.session.expire_all()
    assert db.session.get(Opportunity, opportunity_id).status == "published"
    _sign_out(page)

    # The provider finds it with the keyword search and asks a question
    sign_in(page, bidder.email, next="/opportunities")
    expect(page.locator("h1")).to_have_text("Find opportunities")
    axe_check(page)
    page.get_by_label("Keywords").fill("befriending")
    _submit(page, "Apply filters")
    expect(page.locator("#results")).to_have_text("1 opportunity found")
    axe_check(page)
    page.get_by_role("link", name=TITLE).click()
    expect(page.locator("h1")).to_have_text(TITLE)
    expect(page.locator("#questions ~ p").first).to_have_text("No questions have been answered yet.")
    axe_check(page)
    page.get_by_role("link", name="Ask a question").click()
    expect(page.locator("h1")).to_have_text("Ask a question")
    axe_check(page)
    page.get_by_label("Your question").fill(QUESTION)
    _submit(page, "Send question")
    _no_errors(page)
    expect(page.locator(".govuk-notification-banner--success")).to_be_visible()
    axe_check(page)
    _sign_out(page)

    # The commissioner answers it publicly
    sign_in(page, commissioner.email, next=f"/commissioning/{opportunity_id}")
    axe_check(page)
    page.get_by_role("link", name="Clarification questions").click()
    expect(page.locator("h1")).to_have_text("Questions")
    expect(page.locator("main table")).to_contain_text(organisation.legal_name)  # staff see who asked
    axe_check(page)
    page.get_by_role("link", name=re.compile(r"^Answer")).click()
    expect(page.locator("h1")).to_have_text("Answer a question")
    axe_check(page)
    page.get_by_label("Question as it will be published").fill(QUESTION)
    page.get_by_label("Answer", exact=True).fill(ANSWER)
    page.get_by_label("Publish to everyone").check()
    _submit(page, "Send answer")
    _no_errors(page)
    axe_check(page)
    _sign_out(page)

    # Anyone sees the question and the answer on the opportunity page, without who asked
    for viewer in ("anonymous", "provider"):
        if viewer == "provider":
            sign_in(page, bidder.email, next=f"/opportunities/{opportunity_id}")
        else:
            page.goto(f"/opportunities/{opportunity_id}")
        expect(page.locator("h1")).to_have_text(TITLE)
        main = page.locator("main")
        expect(main).to_contain_text(QUESTION)
        expect(main).to_contain_text(ANSWER)
        expect(main).not_to_contain_text(organisation.legal_name)
        expect(main).not_to_contain_text(bidder.full_name)
        axe_check(page)
