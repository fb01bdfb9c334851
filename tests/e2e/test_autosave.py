"""A volunteer's answer is saved as they type, in a real headless Chromium against the app served over HTTP:
the draft is there after the browser is closed, even a moment after the last key press; a Save button pressed
while a draft is on its way is not taken for a colleague's change; and a colleague's change or the end of the
sign-in stops the background save with a message, keeping the text. axe-core checks the page with the message
showing.
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from marketplace.bids import answering
from marketplace.bids import preparation as prep
from marketplace.bids.models import Bid
from marketplace.extensions import db
from tests.builders import make_opportunity
from tests.factories import OrganisationFactory, StaffFactory, colleague, provider

QUALITY = "How you will deliver the service"
FIRST = "Trained volunteers visit each older person every week"
MORE = " and phone them between visits."


@pytest.fixture()
def data(app) -> dict:
    opportunity = make_opportunity(StaffFactory(roles=["commissioner"]))
    organisation = OrganisationFactory(legal_name="Margate Good Neighbours")
    owner = provider(organisation, full_name="Vic Volunteer")
    bid, _ = prep.start_bid(owner, opportunity)
    criterion = next(c for c in opportunity.main_model.criteria if c.kind == "quality")
    return {"email": owner.email, "bid": bid.id, "criterion": criterion.id, "organisation": organisation,
            "answer_url": f"/opportunities/{opportunity.id}/bid/answers/{criterion.id}"}


def _saved_answer(data) -> str:
    db.session.expire_all()
    return prep.saved_answer(db.session.get(Bid, data["bid"]), data["criterion"])


def test_a_draft_is_saved_while_typing_and_a_save_button_pressed_meanwhile_is_not_a_conflict(page, data, sign_in,
                                                                                          axe_check):
    sign_in(page, data["email"], next=data["answer_url"])
    status = page.locator("#autosave-status")
    expect(status).to_be_empty()

    page.get_by_label("Your answer").fill(FIRST)
    expect(status).to_have_text(re.compile(r"^Draft saved at \d{1,2}:\d{2}(am|pm)$|^Draft saved at midday$"))
    assert _saved_answer(data) == FIRST
    axe_check(page)

    page.reload()  # as after the browser was closed
    expect(page.get_by_label("Your answer")).to_have_value(FIRST)

    page.get_by_label("Your answer").fill(FIRST + MORE)
    page.get_by_role("button", name="Save and continue").click()  # leaving the box sends the draft first
    page.wait_for_load_state()
    expect(page.locator(".govuk-error-summary")).to_have_count(0)
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(f"Your answer to ‘{QUALITY}’")
    assert _saved_answer(data) == FIRST + MORE


def test_a_colleagues_save_stops_the_background_save_and_keeps_the_text(page, data, sign_in, axe_check):
    sign_in(page, data["email"], next=data["answer_url"])
    bid = db.session.get(Bid, data["bid"])
    answering.save_answer(colleague(data["organisation"]), bid.opportunity_id, data["criterion"],
                          "The colleague's answer", bid.version)

    page.get_by_label("Your answer").fill(FIRST)

    expect(page.locator("#autosave-status")).to_contain_text("A colleague changed this bid")
    expect(page.get_by_label("Your answer")).to_have_value(FIRST)
    assert _saved_answer(data) == "The colleague's answer"
    axe_check(page)


@pytest.mark.parametrize("ending, message", [("timed out", "you have been signed out"),
                                             ("signed out elsewhere", "this page has expired")])
def test_a_draft_after_the_sign_in_has_ended_says_what_to_do_and_keeps_the_text(page, app, data, sign_in, axe_check,
                                                                                ending, message):
    sign_in(page, data["email"], next=data["answer_url"])
    if ending == "timed out":
        app.config["SESSION_IDLE_MINUTES"] = 0
        time.sleep(1.1)
    else:
        page.context.clear_cookies()

    page.get_by_label("Your answer").fill(FIRST)

    expect(page.locator("#autosave-status")).to_contain_text(message)
    expect(page.get_by_label("Your answer")).to_have_value(FIRST)
    assert _saved_answer(data) == ""
    axe_check(page)


def test_what_was_typed_just_before_the_tab_was_closed_is_saved(page, data, sign_in):
    sign_in(page, data["email"], next=data["answer_url"])

    page.get_by_label("Your answer").fill(FIRST)
    page.close()  # before the pause after typing is over

    for _ in range(50):
        if _saved_answer(data) == FIRST:
            break
        time.sleep(0.1)
    assert _saved_answer(data) == FIRST
