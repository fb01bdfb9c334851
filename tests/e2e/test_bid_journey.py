"""A provider bids online, in a real headless Chromium against the app served over HTTP.

Over two visits a charity's volunteer prepares a bid (the work of the first visit is there on the second; an answer
over the word limit is refused without losing it), adds a commitment, a subcontractor and a PDF, checks the bid,
submits it and gets a receipt (time and SHA-256) on screen and by email; then withdraws it, changes the price,
submits it again and sees both receipts, on the bid and on the dashboard. axe-core checks every page on the way,
including the page with the error.
"""

from __future__ import annotations

import hashlib

import pytest
from playwright.sync_api import expect

from marketplace.bids.models import Bid
from marketplace.bids.submission import receipt_time
from marketplace.extensions import db
from tests.builders import PDF, make_opportunity
from tests.factories import OrganisationFactory, StaffFactory, provider

QUALITY = "How you will deliver the service"
SOCIAL_VALUE = "Social value for Kent residents"
DELIVERY = "Trained volunteers visit each older person every week and phone them between visits."


@pytest.fixture()
def data(app) -> dict:
    """A published opportunity open for bids for ten days, and the owner of a Kent charity."""
    opportunity = make_opportunity(StaffFactory(roles=["commissioner"]))
    organisation = OrganisationFactory(legal_name="Margate Good Neighbours", org_type="charity", size="small",
                                       charity_number="1123456")
    owner = provider(organisation, full_name="Vic Volunteer")
    return {"opportunity": opportunity.id, "title": opportunity.title, "reference": opportunity.reference,
            "email": owner.email}


def _h1(page, text: str) -> None:
    expect(page.locator("h1")).to_contain_text(text)


def _click(page, role: str, name: str) -> None:
    page.get_by_role(role, name=name, exact=True).click()
    page.wait_for_load_state()


def _task(page, title: str):
    return page.locator(".govuk-task-list__item", has_text=title)


def _open_task(page, title: str, axe_check) -> None:
    _task(page, title).get_by_role("link").click()
    page.wait_for_load_state()
    _h1(page, title)
    axe_check(page)


def _saved(page, message: str) -> None:
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(message)


def _bid(opportunity_id: int) -> Bid:
    db.session.expire_all()
    return db.session.execute(db.select(Bid).filter_by(opportunity_id=opportunity_id)).scalar_one()


def _receipt(page, bid: Bid, number: int) -> None:
    """The version page shows the receipt: the server time to the second and the SHA-256 of what was sealed."""
    sealed = bid.submissions[number - 1]
    assert hashlib.sha256(sealed.content.encode("utf-8")).hexdigest() == sealed.sha256
    _h1(page, f"Version {number} of your bid")
    receipt = page.locator("#receipt")
    expect(receipt).to_contain_text(receipt_time(sealed.submitted_at))
    expect(receipt).to_contain_text(sealed.sha256)


def _first_visit(page, data, sign_in, axe_check) -> None:
    """Start the bid, confirm the pass or fail question and answer the first question; then sign out."""
    sign_in(page, data["email"], next=f"/opportunities/{data['opportunity']}")
    page.get_by_role("button", name="Bid for this opportunity").click()
    _h1(page, "Start a bid")
    axe_check(page)
    _click(page, "button", "Start a bid")
    _h1(page, f"Your bid for {data['title']}")
    axe_check(page)

    _open_task(page, "Eligibility and pass or fail questions", axe_check)
    page.get_by_role("group", name="Safeguarding policy in place").get_by_label("Yes").check()
    _click(page, "button", "Save and continue")
    _h1(page, QUALITY)  # on to the next section
    axe_check(page)
    too_long = " ".join([DELIVERY] * 5)  # the limit is 50 words
    page.get_by_label("Your answer").fill(too_long)
    _click(page, "button", "Save and return to task list")
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        f"Your answer is {len(too_long.split())} words. The limit is 50 words")
    expect(page.get_by_label("Your answer")).to_have_value(too_long)  # nothing typed is lost
    axe_check(page)
    page.get_by_label("Your answer").fill(DELIVERY)
    _click(page, "button", "Save and return to task list")
    _h1(page, "Your bid for")
    expect(page.locator("main")).to_contain_text("You have completed 2 of")
    _click(page, "button", "Sign out")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)


def _second_visit(page, data, sign_in, axe_check, tmp_path) -> None:
    """The work is saved; finish every other section from the task list."""
    sign_in(page, data["email"], next="/bids")
    _h1(page, "Your bids")
    expect(page.locator("#group-to_submit")).to_contain_text(data["title"])
    axe_check(page)
    page.get_by_role("link", name=f"Continue your bid for {data['title']}").click()
    expect(_task(page, "Eligibility and pass or fail questions")).to_contain_text("Completed")
    expect(_task(page, QUALITY)).to_contain_text("Completed")
    expect(_task(page, SOCIAL_VALUE)).to_contain_text("Not started")
    axe_check(page)

    _open_task(page, QUALITY, axe_check)
    expect(page.get_by_label("Your answer")).to_have_value(DELIVERY)
    _click(page, "button", "Save and continue")
    _h1(page, SOCIAL_VALUE)
    axe_check(page)
    page.get_by_label("Your answer").fill("Half of our volunteers will be young people from Margate gaining "
                                          "their first work experience.")
    _click(page, "button", "Save and continue")

    _h1(page, "Price")
    axe_check(page)
    page.get_by_label("Total price").fill("118,500")
    _click(page, "button", "Save and continue")

    _h1(page, "Social value commitments")
    axe_check(page)
    page.get_by_label("Measure").select_option("volunteering_hours")
    page.get_by_label("Quantity").fill("400")
    page.get_by_label("How you will deliver it").fill("Our staff give a day a month to Margate community groups.")
    _click(page, "button", "Add commitment")
    _saved(page, "The commitment is added.")
    expect(page.get_by_role("table", name="Your commitments")).to_contain_text("400 hours")
    axe_check(page)
    _click(page, "link", "Continue")

    _h1(page, "Local economy commitments")
    axe_check(page)
    page.get_by_label("Share of the contract value you will spend with Kent-based suppliers").fill("60")
    page.get_by_label("Jobs for Kent residents").fill("4")
    page.get_by_label("Apprenticeships for Kent residents").fill("1")
    _click(page, "button", "Save and continue")

    _consortium(page, axe_check)
    _documents(page, axe_check, tmp_path)

    _h1(page, "Declarations")
    axe_check(page)
    page.get_by_label("No, we have no conflicts of interest").check()
    page.get_by_label("I confirm that none of the mandatory or discretionary exclusion grounds apply").check()
    page.get_by_label("I confirm that the information in this bid is accurate and complete").check()
    _click(page, "button", "Save and continue")
    _h1(page, "Your bid for")
    expect(page.locator(".govuk-task-list__status", has_text="Not started")).to_have_count(0)
    axe_check(page)


def _consortium(page, axe_check) -> None:
    _h1(page, "Consortium and subcontractors")
    axe_check(page)
    _click(page, "link", "Add a member or subcontractor")
    _h1(page, "Add a member or subcontractor")
    axe_check(page)
    page.get_by_label("Organisation name").fill("Cliftonville Lunch Club")
    page.get_by_role("group", name="Type of organisation").get_by_label("Voluntary or community group").check()
    page.get_by_role("group", name="Size").get_by_label("Micro").check()
    page.get_by_role("group", name="Is it based in Kent?").get_by_label("Yes").check()
    page.get_by_role("group", name="Role").get_by_label("Subcontractor").check()
    page.get_by_label("Share of contract value").fill("10")
    _click(page, "button", "Save")
    _saved(page, "Cliftonville Lunch Club is saved.")
    _h1(page, "Consortium and subcontractors")
    expect(page.get_by_role("table", name="Members and subcontractors")).to_contain_text("Cliftonville Lunch Club")
    axe_check(page)
    _click(page, "link", "Continue")


def _documents(page, axe_check, tmp_path) -> None:
    _h1(page, "Supporting documents")
    axe_check(page)
    pdf = tmp_path / "safeguarding-policy.pdf"
    pdf.write_bytes(PDF)
    page.get_by_label("Title").fill("Safeguarding policy")
    page.get_by_label("Upload a file").set_input_files(str(pdf))
    _click(page, "button", "Upload document")
    _saved(page, "‘Safeguarding policy’ is uploaded.")
    table = page.get_by_role("table", name="Your documents")
    expect(table).to_contain_text("Safeguarding policy")
    expect(table).to_contain_text(hashlib.sha256(PDF).hexdigest())
    axe_check(page)
    _click(page, "link", "Continue")


def _submit(page, data, axe_check, mailbox, number: int) -> Bid:
    _h1(page, "Check your bid before you submit it")
    expect(page.locator("#missing")).to_have_count(0)
    axe_check(page)
    _click(page, "button", "Submit your bid")
    _saved(page, "Your bid has been submitted")
    bid = _bid(data["opportunity"])
    assert bid.status == "submitted" and len(bid.submissions) == number
    _receipt(page, bid, number)
    axe_check(page)
    assert bid.submissions[number - 1].sha256 in mailbox.last_body(data["email"])
    return bid


def _withdraw_and_resubmit(page, data, axe_check, mailbox) -> Bid:
    """Withdraw version 1, lower the price and submit version 2."""
    _click(page, "link", "withdraw it")
    _h1(page, "Withdraw your bid")
    axe_check(page)
    _click(page, "button", "Withdraw version 1")
    _saved(page, "Version 1 of your bid is withdrawn")
    assert _bid(data["opportunity"]).status == "withdrawn"
    axe_check(page)

    page.goto(f"/opportunities/{data['opportunity']}/bid")
    _open_task(page, "Price", axe_check)
    page.get_by_label("Total price").fill("112000")
    _click(page, "button", "Save and return to task list")
    _click(page, "link", "Check your bid")
    expect(page.locator("main")).to_contain_text("£112,000")
    return _submit(page, data, axe_check, mailbox, 2)


def _both_receipts(page, data, bid: Bid, axe_check) -> None:
    first, second = bid.submissions
    versions = page.get_by_role("table", name="Your submitted versions and receipts")
    for sealed, status in ((first, "Withdrawn"), (second, "Counts")):
        row = versions.get_by_role("row").filter(has_text=f"Version {sealed.number}")
        expect(row).to_contain_text(sealed.sha256)
        expect(row).to_contain_text(status)
    _click(page, "link", "Version 1")
    _receipt(page, bid, 1)
    expect(page.locator("#receipt")).to_contain_text("Withdrawn")
    axe_check(page)

    page.goto("/bids")
    submitted = page.locator("#group-submitted")
    expect(submitted).to_contain_text(data["title"])
    expect(submitted).to_contain_text("Version 2")
    expect(submitted).to_contain_text(second.sha256[:16])
    axe_check(page)


def test_a_provider_prepares_a_bid_over_two_visits_submits_withdraws_resubmits_and_sees_both_receipts(
        page, data, sign_in, axe_check, mailbox, tmp_path):
    _first_visit(page, data, sign_in, axe_check)
    _second_visit(page, data, sign_in, axe_check, tmp_path)
    _click(page, "link", "Check your bid")
    _submit(page, data, axe_check, mailbox, 1)
    bid = _withdraw_and_resubmit(page, data, axe_check, mailbox)
    assert bid.submissions[0].withdrawn_at is not None and bid.submissions[1].withdrawn_at is None
    assert bid.submissions[0].sha256 != bid.submissions[1].sha256
    _both_receipts(page, data, bid, axe_check)
