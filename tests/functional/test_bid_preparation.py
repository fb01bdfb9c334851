"""Bid preparation over HTTP: start a bid, the task list, each section page saving as the user goes, bad input
refused next to the field keeping what was typed, colleagues sharing one working copy without overwriting each
other, and bids sealed: another organisation, council staff and anonymous people never reach them."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from marketplace.bids import answering
from marketplace.bids import preparation as prep
from marketplace.bids import rules
from marketplace.bids.models import Bid
from marketplace.extensions import db
from marketplace.timeutil import utcnow
from tests.factories import OrganisationFactory, StaffFactory, UserFactory, colleague, provider
from tests.integration.test_bid_preparation import (
    LONDON_POSTCODE,
    PDF,
    close,
    criterion_of,
    docx_bytes,
    give_lot_its_own_model,
    make_opportunity,
    mark,
    reload,
    start,
)


def text(response) -> str:
    return response.get_data(as_text=True)


def url(opportunity, path: str = "") -> str:
    return f"/opportunities/{opportunity.id}/bid{path}"


def version_of(bid) -> str:
    return str(reload(bid).version)


def only_bid() -> Bid | None:
    db.session.expire_all()
    return db.session.execute(sa.select(Bid)).scalar_one_or_none()


def shows_error(page: str, message: str) -> bool:
    """The message is in the error summary and next to the field (or the summary alone for the form)."""
    escaped = html.escape(message, quote=False)
    return "There is a problem" in page and (message in page or escaped in page)


@pytest.fixture()
def organisation(app):
    return OrganisationFactory(legal_name="Thanet Lunch Club", postcode="CT9 1AA")


@pytest.fixture()
def bidder(organisation):
    return provider(organisation, email="volunteer@lunchclub.example")


@pytest.fixture()
def opportunity(app):
    return make_opportunity()


@pytest.fixture()
def bid(bidder, opportunity):
    return start(bidder, opportunity)


@pytest.fixture()
def signed_in(client, as_user, bidder):
    return as_user(bidder)


# Starting a bid ----------------------------------------------------------------------------------------

def test_a_provider_starts_a_bid_and_lands_on_its_task_list(signed_in, opportunity):
    page = text(signed_in.get(url(opportunity, "/start")))
    assert "Start a bid" in page and "Thanet Lunch Club" in page and "Closes in" in page

    response = signed_in.submit(url(opportunity, "/start"), {})

    assert response.status_code == 302 and response.headers["Location"].endswith(url(opportunity))
    assert only_bid().status == "draft"
    page = text(signed_in.get(url(opportunity)))
    assert "Your bid is started" in page and "Your bid for Befriending for older people in Thanet" in page
    assert "Not started" in page and "govuk-task-list" in page and "Bids are due by" in page


def test_starting_twice_or_after_a_colleague_opens_the_same_bid(signed_in, bid, opportunity, client, as_user,
                                                                 organisation):
    assert signed_in.submit(url(opportunity, "/start"), {}, page_url=url(opportunity)).status_code == 302
    as_user(colleague(organisation))
    assert client.get(url(opportunity, "/start")).headers["Location"].endswith(url(opportunity))
    assert db.session.execute(sa.select(sa.func.count(Bid.id))).scalar_one() == 1


def test_the_task_list_sends_someone_without_a_bid_to_the_start_page(signed_in, opportunity):
    response = signed_in.get(url(opportunity))
    assert response.status_code == 302 and response.headers["Location"].endswith(url(opportunity, "/start"))


def test_an_organisation_outside_a_reservation_is_told_why_it_cannot_bid(client, as_user, app):
    opportunity = make_opportunity(reservation="kent")
    as_user(provider(OrganisationFactory(postcode=LONDON_POSTCODE)))

    page = text(client.get(url(opportunity, "/start")))
    assert "reserved to suppliers established in Kent" in page and "Start a bid</button>" not in page

    response = client.submit(url(opportunity, "/start"), {})
    assert response.status_code == 200 and shows_error(text(response), "reserved to suppliers established in Kent")
    assert only_bid() is None


@pytest.mark.parametrize("overrides, message", [
    ({"status": "cancelled", "cancel_reason": "Brought in-house"}, "was cancelled"),
    ({"submission_deadline": utcnow() - timedelta(minutes=5)}, "Bids closed on"),
])
def test_a_closed_or_cancelled_opportunity_takes_no_new_bids(signed_in, overrides, message):
    opportunity = make_opportunity(**overrides)
    assert message in text(signed_in.get(url(opportunity, "/start")))
    response = signed_in.submit(url(opportunity, "/start"), {})
    assert response.status_code == 200 and shows_error(text(response), message)
    assert only_bid() is None


@pytest.mark.parametrize("status", ["draft", "awaiting_approval"])
def test_an_unpublished_opportunity_answers_404(signed_in, status):
    opportunity = make_opportunity(status=status, published_at=None)
    assert signed_in.get(url(opportunity, "/start")).status_code == 404
    assert signed_in.submit(url(opportunity, "/start"), {}, page_url="/opportunities").status_code == 404
    assert only_bid() is None


def test_a_provider_without_an_organisation_is_asked_to_register(client, as_user, opportunity):
    as_user(UserFactory())
    page = text(client.get(url(opportunity, "/start")))
    assert "Register your organisation" in page and "Start a bid</button>" not in page
    assert client.get(url(opportunity)).headers["Location"].endswith(url(opportunity, "/start"))
    assert client.get(url(opportunity, "/price")).status_code == 404


def test_starting_a_bid_needs_the_csrf_token(signed_in, opportunity):
    assert signed_in.post(url(opportunity, "/start"), data={}).status_code == 400
    assert only_bid() is None


# Sealed: nobody outside the organisation reaches a bid -------------------------------------------------------

SECTION_PATHS = ["", "/eligibility", "/price", "/social-value", "/local-economy", "/consortium", "/consortium/new",
                 "/documents", "/declarations", "/sections/price"]


def answer_path(opportunity) -> str:
    return f"/answers/{criterion_of(opportunity, 'quality').id}"


@pytest.mark.parametrize("path", SECTION_PATHS + ["answer"])
@pytest.mark.parametrize("who", ["other provider", "commissioner", "procurement officer", "administrator"])
def test_no_one_outside_the_bidders_organisation_can_open_any_bid_page(client, as_user, bid, opportunity, path, who):
    outsider = {"other provider": provider, "commissioner": lambda: StaffFactory(roles=["commissioner"]),
                "procurement officer": lambda: StaffFactory(roles=["procurement_officer"]),
                "administrator": lambda: StaffFactory(roles=["administrator"])}[who]()
    as_user(outsider)
    path = answer_path(opportunity) if path == "answer" else path
    response = client.get(url(opportunity, path))
    if who == "other provider" and path == "":  # the task list of its own organisation's bid: none yet
        assert response.headers["Location"].endswith(url(opportunity, "/start"))
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("path", SECTION_PATHS + ["/start"])
def test_anonymous_people_are_asked_to_sign_in(client, bid, opportunity, path):
    response = client.get(url(opportunity, path))
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_council_staff_cannot_start_a_bid(client, as_user, opportunity):
    as_user(StaffFactory(roles=["commissioner"]))
    assert client.get(url(opportunity, "/start")).status_code == 404


def test_another_organisation_with_its_own_bid_cannot_touch_rows_of_this_bid(client, as_user, bid, bidder,
                                                                              opportunity):
    line = prep.add_price_line(bidder, bid, prep.PriceLineDetails("Visits", Decimal(1), "", Decimal(10)))
    commitment = prep.add_commitment(bidder, reload(bid), prep.CommitmentDetails("apprenticeships", Decimal(52), "x"))
    member = prep.add_member(bidder, reload(bid), prep.MemberDetails("Shed", "charity", "micro", True,
                                                                     "subcontractor", Decimal("0.1")))
    document = prep.add_document(bidder, reload(bid), "Policy", "policy.pdf", PDF)
    rival = provider()
    start(rival, opportunity)
    as_user(rival)
    token = client.csrf_token(url(opportunity, "/price"))

    for path in (f"/price/lines/{line.id}/remove", f"/social-value/{commitment.id}/remove",
                 f"/consortium/{member.id}/remove", f"/documents/{document.id}/remove"):
        assert client.post(url(opportunity, path), data={"csrf_token": token}).status_code == 404
    assert client.get(url(opportunity, f"/documents/{document.id}")).status_code == 404
    assert client.get(url(opportunity, f"/consortium/{member.id}")).status_code == 404
    stored = reload(bid)
    counts = (len(stored.price_lines), len(stored.commitments), len(stored.members), len(stored.documents))
    assert counts == (1, 1, 1, 1)


# The task list -------------------------------------------------------------------------------------------

def test_the_task_list_shows_each_section_with_its_status_and_who_saved_last(signed_in, bid, bidder, opportunity,
                                                                              organisation):
    quality = criterion_of(opportunity, "quality")
    answering.save_answer(colleague(organisation, full_name="Priya Shah"), bid.opportunity_id, quality.id,
                          "Weekly visits.", bid.version)

    page = text(signed_in.get(url(opportunity)))

    for title in ("Eligibility and pass or fail questions", "How you will deliver the service", "Price",
                  "Social value commitments", "Local economy commitments", "Consortium and subcontractors",
                  "Supporting documents", "Declarations"):
        assert title in page
    assert "Completed" in page and "Not started" in page and "by Priya Shah" in page
    assert f'href="{url(opportunity, answer_path(opportunity))}"' in page
    assert "You have completed 1 of" in page


def test_with_lots_the_questions_cannot_start_until_lots_are_chosen(signed_in, bidder, app):
    opportunity = make_opportunity(lots=2)
    give_lot_its_own_model(opportunity, opportunity.lots[1])
    start(bidder, opportunity)

    page = text(signed_in.get(url(opportunity)))
    assert "Cannot start yet" in page and "Choose the lots you are bidding for first" in page

    response = signed_in.submit(url(opportunity, "/lots"), {"lots": [str(opportunity.lots[1].id)],
                                                            "version": version_of(only_bid())})
    assert response.status_code == 302
    assert only_bid().lot_ids == [opportunity.lots[1].id]
    page = text(signed_in.get(url(opportunity)))
    assert "Lot 2: Rural outreach" in page and "Cannot start yet" not in page


@pytest.mark.parametrize("lots, message", [([], "Select at least one lot"), (["999999"], "Select from the options"),
                                          (["abc"], "Select from the options")])
def test_choosing_no_lot_or_a_lot_not_offered_is_refused(signed_in, bidder, app, lots, message):
    opportunity = make_opportunity(lots=2)
    start(bidder, opportunity)
    response = signed_in.submit(url(opportunity, "/lots"), {"lots": lots, "version": version_of(only_bid())})
    assert response.status_code == 200 and shows_error(text(response), message)
    assert only_bid().lot_ids == []


def test_an_opportunity_without_lots_has_no_lots_page(signed_in, bid, opportunity):
    assert signed_in.get(url(opportunity, "/lots")).status_code == 404


# Save and continue, save and return ---------------------------------------------------------------------

def test_save_and_continue_goes_to_the_next_section_and_save_and_return_to_the_task_list(signed_in, bid,
                                                                                         opportunity):
    gate = criterion_of(opportunity, "pass_fail")
    response = signed_in.submit(url(opportunity, "/eligibility"), {
        f"confirm_{gate.id}": "yes", f"note_{gate.id}": "", "version": version_of(bid), "save_continue": "y"})
    assert response.headers["Location"].endswith(url(opportunity, answer_path(opportunity)))

    response = signed_in.submit(url(opportunity, answer_path(opportunity)), {
        "text": "Weekly visits by trained volunteers.", "version": version_of(bid), "save_return": "y"})
    assert response.headers["Location"].endswith(url(opportunity))
    assert "Your answer to ‘How you will deliver the service’ is saved." in text(signed_in.get(url(opportunity)))


def test_the_last_section_continues_to_the_task_list(signed_in, bid, opportunity):
    response = signed_in.submit(url(opportunity, "/declarations"), {
        "conflicts": "none", "no_exclusion_grounds": "y", "accurate": "y", "version": version_of(bid)})
    assert response.headers["Location"].endswith(url(opportunity))
    stored = only_bid()
    assert (stored.declared_conflicts, stored.declared_no_exclusion_grounds, stored.declared_accurate) == (
        "none", True, True)


def test_the_check_pages_section_links_lead_to_the_section(signed_in, bid, opportunity):
    response = signed_in.get(url(opportunity, f"/sections/answer-{criterion_of(opportunity, 'quality').id}"))
    assert response.headers["Location"].endswith(url(opportunity, answer_path(opportunity)))
    assert signed_in.get(url(opportunity, "/sections/nonsense")).headers["Location"].endswith(url(opportunity))


# Answers -------------------------------------------------------------------------------------------------

def test_an_answer_page_shows_the_question_guidance_scale_and_word_limit(signed_in, bid, opportunity):
    page = text(signed_in.get(url(opportunity, answer_path(opportunity))))
    assert "Describe how you will deliver weekly visits." in page and "Say who visits and how often." in page
    assert "5 – Excellent" in page and 'data-maxwords="50"' in page and "You can enter up to 50 words" in page


def test_an_answer_without_a_limit_gets_a_live_word_count(signed_in, bid, opportunity):
    social = criterion_of(opportunity, "social_value")
    page = text(signed_in.get(url(opportunity, f"/answers/{social.id}")))
    assert 'data-word-count="text-word-count"' in page and "js/word-count.js" in page and "0 words" in page


@pytest.mark.parametrize("typed, message", [
    ("", "Enter your answer"),
    ("   \r\n ", "Enter your answer"),
    (" ".join(["volunteers"] * 51), "Your answer is 51 words. The limit is 50 words: remove 1 word, then save again"),
    ("bad \x07 bell", "Your answer must not contain control characters"),
])
def test_a_bad_answer_is_refused_next_to_the_field_keeping_the_text(signed_in, bid, opportunity, typed, message):
    response = signed_in.submit(url(opportunity, answer_path(opportunity)), {"text": typed,
                                                                               "version": version_of(bid)})
    page = text(response)
    assert response.status_code == 200 and shows_error(page, message) and 'href="#text"' in page
    if typed.strip():
        assert typed.strip().replace("\x07", "")[:40] in page.replace("\x07", "")
    assert prep.saved_answer(reload(bid), criterion_of(opportunity, "quality").id) == ""


def test_html_in_an_answer_is_shown_as_text(signed_in, bid, opportunity):
    typed = "<script>alert('x')</script> We visit <b>weekly</b>."
    signed_in.submit(url(opportunity, answer_path(opportunity)), {"text": typed, "version": version_of(bid)})
    page = text(signed_in.get(url(opportunity, answer_path(opportunity))))
    assert "<script>alert" not in page and "&lt;script&gt;alert(" in page


def test_an_answer_for_a_criterion_not_in_the_bid_answers_404(signed_in, bid, opportunity):
    assert signed_in.get(url(opportunity, f"/answers/{criterion_of(opportunity, 'price').id}")).status_code == 404
    assert signed_in.get(url(opportunity, "/answers/999999")).status_code == 404


# Two members of one organisation ------------------------------------------------------------------------

def test_two_colleagues_share_one_bid_and_a_stale_save_is_refused_keeping_the_text(client, as_user, bid, bidder,
                                                                                   opportunity, organisation,
                                                                                   app):
    other = app.test_client()
    as_user(bidder)
    from tests.conftest import sign_in_as
    sign_in_as(other, colleague(organisation, full_name="Priya Shah"))
    page_url = url(opportunity, answer_path(opportunity))
    loaded = version_of(bid)  # both open the page now

    first = other.submit(page_url, {"text": "Priya's answer about weekly visits.", "version": loaded})
    second = client.submit(page_url, {"text": "My own answer about lunch clubs.", "version": loaded})

    assert first.status_code == 302
    page = text(second)
    assert second.status_code == 200 and shows_error(page, "A colleague changed this section at")
    assert "Your text is below: copy it, then reload" in page
    assert "My own answer about lunch clubs." in page  # what this user typed, kept in the box
    assert "See the answer your colleague saved" in page and "Priya&#39;s answer" in page
    assert prep.saved_answer(reload(bid), criterion_of(opportunity, "quality").id) == \
        "Priya's answer about weekly visits."

    again = client.submit(page_url, {"text": "My own answer about lunch clubs.", "version": loaded})
    assert again.status_code == 200  # still refused until the page is reloaded
    reloaded = text(client.get(page_url))
    assert "Priya&#39;s answer about weekly visits." in reloaded and f'value="{version_of(bid)}"' in reloaded


def test_a_colleague_sees_the_same_working_copy(client, as_user, bid, bidder, opportunity, organisation):
    prep.save_local_economy(bidder, bid, prep.LocalEconomyDetails(Decimal("0.375"), 4, 2, "Local caterers"),
                            bid.version)
    as_user(colleague(organisation))
    page = text(client.get(url(opportunity, "/local-economy")))
    assert 'value="37.5"' in page and 'value="4"' in page and "Local caterers" in page


# When the bid cannot change ------------------------------------------------------------------------------

def test_after_the_deadline_pages_say_so_and_a_save_is_refused_keeping_the_text(signed_in, bid, opportunity):
    loaded = version_of(bid)
    close(opportunity)

    page = text(signed_in.get(url(opportunity, answer_path(opportunity))))
    assert "The deadline for bids passed on" in page and "Save and continue" not in page

    response = signed_in.submit(url(opportunity, answer_path(opportunity)),
                                {"text": "Written just too late.", "version": loaded})
    page = text(response)
    assert response.status_code == 200 and shows_error(page, "The deadline for bids passed on")
    assert "Written just too late." in page
    assert prep.saved_answer(reload(bid), criterion_of(opportunity, "quality").id) == ""


def test_a_submitted_bid_says_to_withdraw_it_before_changing_it(signed_in, bid, opportunity):
    mark(bid, rules.SUBMITTED)
    page = text(signed_in.get(url(opportunity, "/price")))
    assert "withdraw it first" in page and "Withdraw your bid so you can change it" in page

    response = signed_in.submit(url(opportunity, "/price"), {"total": "5000", "version": version_of(bid)})
    page = text(response)
    assert response.status_code == 200 and shows_error(page, "withdraw it first") and 'value="5000"' in page
    assert reload(bid).price_total is None


# Price ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("typed, message", [
    ("", "Enter your total price"),
    ("   ", "Enter your total price"),
    ("-5", "Total price must be £0 or more"),
    ("0", "Total price must be more than £0"),
    ("twelve pounds", "Total price must be an amount in pounds"),
    ("100000000001", "Total price is too large: check the number of zeros"),
    ("1.234", "Total price must be an amount in pounds"),
])
def test_a_bad_total_price_is_refused_keeping_what_was_typed(signed_in, bid, opportunity, typed, message):
    response = signed_in.submit(url(opportunity, "/price"), {"total": typed, "version": version_of(bid)})
    page = text(response)
    assert response.status_code == 200 and shows_error(page, message) and 'href="#total"' in page
    assert f'value="{typed}"' in page
    assert reload(bid).price_total is None


def test_a_price_schedule_shows_its_total_and_the_difference_from_the_price(signed_in, bid, opportunity):
    for line in ({"description": "Weekly visits", "quantity": "52", "unit": "weeks", "unit_price": "1,000"},
                 {"description": "Volunteer training", "quantity": "2.5", "unit": "days", "unit_price": "£400.50"}):
        response = signed_in.submit(url(opportunity, "/price/lines"), line, page_url=url(opportunity, "/price"))
        assert response.status_code == 302
    page = text(signed_in.get(url(opportunity, "/price")))
    assert "£53,001.25" in page and 'value="53,001.25"' in page  # the total starts as the schedule's

    response = signed_in.submit(url(opportunity, "/price"), {"total": "60000", "version": version_of(bid)})
    assert shows_error(text(response), "a difference of £6,998.75")
    assert signed_in.submit(url(opportunity, "/price"), {"total": "53001.25", "version": version_of(bid)}) \
        .status_code == 302
    assert reload(bid).price_total == Decimal("53001.25")


@pytest.mark.parametrize("line, message", [
    ({"description": "", "quantity": "1", "unit_price": "10"}, "Enter a description of the line"),
    ({"description": "Visits", "quantity": "", "unit_price": "10"}, "Enter the quantity"),
    ({"description": "Visits", "quantity": "0", "unit_price": "10"}, "Quantity must be more than 0"),
    ({"description": "Visits", "quantity": "lots", "unit_price": "10"}, "Quantity must be a number"),
    ({"description": "Visits", "quantity": "1", "unit_price": "-1"}, "Unit price must be £0 or more"),
    ({"description": "Visits", "quantity": "1", "unit_price": "0"}, "Unit price must be more than £0"),
    ({"description": "x" * 301, "quantity": "1", "unit_price": "1"}, "Description must be 300 characters or fewer"),
])
def test_a_bad_price_line_is_refused_keeping_what_was_typed(signed_in, bid, opportunity, line, message):
    response = signed_in.submit(url(opportunity, "/price/lines"), line, page_url=url(opportunity, "/price"))
    page = text(response)
    assert response.status_code == 200 and shows_error(page, message)
    assert f'value="{line["quantity"]}"' in page
    assert reload(bid).price_lines == []


def test_removing_a_price_line(signed_in, bid, bidder, opportunity):
    line = prep.add_price_line(bidder, bid, prep.PriceLineDetails("Visits", Decimal(1), "", Decimal(10)))
    response = signed_in.submit(url(opportunity, f"/price/lines/{line.id}/remove"), {},
                                page_url=url(opportunity, "/price"))
    assert response.status_code == 302 and reload(bid).price_lines == []


# Social value commitments ------------------------------------------------------------------------------

def test_a_provider_adds_and_removes_social_value_commitments(signed_in, bid, opportunity):
    response = signed_in.submit(url(opportunity, "/social-value"), {
        "measure": "apprenticeships", "quantity": "156", "description": "3 apprentices from Thanet for 52 weeks"})
    assert response.status_code == 302
    page = text(signed_in.get(url(opportunity, "/social-value")))
    assert "Apprenticeships created: 156 weeks" in page and "3 apprentices from Thanet" in page

    [commitment] = reload(bid).commitments
    signed_in.submit(url(opportunity, f"/social-value/{commitment.id}/remove"), {},
                     page_url=url(opportunity, "/social-value"))
    assert reload(bid).commitments == []


@pytest.mark.parametrize("data, message", [
    ({"measure": "", "quantity": "3", "description": "x"}, "Choose a measure"),
    ({"measure": "free_lunches", "quantity": "3", "description": "x"}, "Choose a measure from the list"),
    ({"measure": "apprenticeships", "quantity": "0", "description": "x"}, "Quantity must be more than 0"),
    ({"measure": "apprenticeships", "quantity": "-2", "description": "x"}, "Quantity must be between"),
    ({"measure": "apprenticeships", "quantity": "three", "description": "x"}, "Quantity must be a number"),
    ({"measure": "apprenticeships", "quantity": "3", "description": ""}, "Describe how you will deliver"),
    ({"measure": "apprenticeships", "quantity": "3", "description": "x" * 501}, "500 characters or fewer"),
])
def test_a_bad_commitment_is_refused_keeping_what_was_typed(signed_in, bid, opportunity, data, message):
    response = signed_in.submit(url(opportunity, "/social-value"), data)
    page = text(response)
    assert response.status_code == 200 and shows_error(page, message)
    assert f'value="{data["quantity"]}"' in page
    assert reload(bid).commitments == []


# Local economy -------------------------------------------------------------------------------------------

def test_local_economy_commitments_are_saved_as_a_share(signed_in, bid, opportunity):
    response = signed_in.submit(url(opportunity, "/local-economy"), {
        "kent_share": "42.5%", "kent_jobs": "6", "kent_apprenticeships": "0", "notes": "Kent caterers",
        "version": version_of(bid)})
    assert response.status_code == 302
    stored = reload(bid)
    assert (stored.kent_share, stored.kent_jobs, stored.kent_apprenticeships) == (Decimal("0.425"), 6, 0)


@pytest.mark.parametrize("field, typed, message", [
    ("kent_share", "", "Enter the share of contract value spent in Kent"),
    ("kent_share", "101", "must be between 0 and 100"),
    ("kent_share", "-1", "must be between 0 and 100"),
    ("kent_share", "forty", "must be a number"),
    ("kent_jobs", "2.5", "Jobs for Kent residents must be a whole number"),
    ("kent_jobs", "10001", "Jobs for Kent residents must be between 0 and 10000"),
    ("kent_apprenticeships", "-1", "must be between 0 and 10000"),
])
def test_bad_local_economy_figures_are_refused_keeping_what_was_typed(signed_in, bid, opportunity, field, typed,
                                                                      message):
    data = {"kent_share": "40", "kent_jobs": "3", "kent_apprenticeships": "1", "version": version_of(bid)}
    data[field] = typed
    response = signed_in.submit(url(opportunity, "/local-economy"), data)
    page = text(response)
    assert response.status_code == 200 and shows_error(page, message) and f'href="#{field}"' in page
    assert f'value="{typed}"' in page
    assert reload(bid).kent_share is None


# Consortium and subcontractors ---------------------------------------------------------------------------

def member_data(**overrides) -> dict:
    data = {"name": "Margate Men's Shed", "org_type": "voluntary_community", "size": "micro", "kent_based": "yes",
            "role": "subcontractor", "share": "15", "find": "", "save_member": "y"}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_a_prime_provider_lists_its_consortium(signed_in, bid, opportunity):
    assert signed_in.submit(url(opportunity, "/consortium/new"), member_data()).status_code == 302
    assert signed_in.submit(url(opportunity, "/consortium/new"), member_data(
        name="Deal Youth Trust", org_type="charity", size="small", role="consortium_member", share="25")) \
        .status_code == 302

    page = text(signed_in.get(url(opportunity, "/consortium")))
    assert "Margate Men&#39;s Shed" in page and "Deal Youth Trust" in page and "Consortium member" in page
    assert "have 40% of the contract value" in page and "keeps 60%" in page


def test_shares_over_100_percent_are_refused(signed_in, bid, bidder, opportunity):
    prep.add_member(bidder, bid, prep.MemberDetails("Shed", "charity", "micro", True, "subcontractor",
                                                    Decimal("0.7")))
    response = signed_in.submit(url(opportunity, "/consortium/new"), member_data(share="31"))
    page = text(response)
    assert response.status_code == 200 and shows_error(page, "Shares would add up to 101%, more than 100%")
    assert 'value="Margate Men&#39;s Shed"' in page and len(reload(bid).members) == 1


@pytest.mark.parametrize("overrides, message", [
    ({"name": ""}, "Enter the organisation&#39;s name"),
    ({"org_type": "cult"}, "Select the type of organisation"),
    ({"size": "huge"}, "Select the organisation&#39;s size"),
    ({"kent_based": "maybe"}, "Select whether the organisation is based in Kent"),
    ({"role": "boss"}, "Select whether it is a consortium member or a subcontractor"),
    ({"share": "0"}, "Share of contract value must be more than 0"),
    ({"share": "150"}, "Share of contract value must be between 0 and 100"),
    ({"linked_organisation": "999999"}, "Select an organisation from the search results"),
])
def test_a_bad_member_is_refused_keeping_what_was_typed(signed_in, bid, opportunity, overrides, message):
    response = signed_in.submit(url(opportunity, "/consortium/new"), member_data(**overrides))
    page = text(response)
    assert response.status_code == 200 and "There is a problem" in page and message in page
    assert reload(bid).members == []


def test_linking_a_registered_organisation_shows_its_legal_name_and_nothing_else(signed_in, bid, opportunity):
    partner = OrganisationFactory(legal_name="Deal Youth Trust", postcode="CT14 6AA", charity_number="7654321")

    response = signed_in.submit(url(opportunity, "/consortium/new"), member_data(find="youth", search="y",
                                                                                 save_member=None))
    page = text(response)
    assert response.status_code == 200 and "Deal Youth Trust" in page
    assert "7654321" not in page and "CT14" not in page and 'value="Margate Men&#39;s Shed"' in page

    data = member_data(linked_organisation=str(partner.id))
    assert signed_in.submit(url(opportunity, "/consortium/new"), data).status_code == 302
    assert reload(bid).members[0].linked_organisation_id == partner.id
    assert "Linked to Deal Youth Trust" in text(signed_in.get(url(opportunity, "/consortium")))


def test_a_search_too_short_asks_for_more(signed_in, bid, opportunity):
    response = signed_in.submit(url(opportunity, "/consortium/new"),
                                member_data(find="de", search="y", save_member=None))
    assert shows_error(text(response), "Enter at least 3 characters")


def test_changing_a_member_uses_the_optimistic_lock(signed_in, bid, bidder, opportunity):
    member = prep.add_member(bidder, bid, prep.MemberDetails("Shed", "charity", "micro", True, "subcontractor",
                                                             Decimal("0.1")))
    page = text(signed_in.get(url(opportunity, f"/consortium/{member.id}")))
    assert 'value="Shed"' in page and 'value="10"' in page
    stale = str(reload(bid).version - 1)

    response = signed_in.submit(url(opportunity, f"/consortium/{member.id}"), member_data(version=stale))
    assert shows_error(text(response), "A colleague changed this section at")
    response = signed_in.submit(url(opportunity, f"/consortium/{member.id}"), member_data(version=version_of(bid)))
    assert response.status_code == 302 and reload(bid).members[0].name == "Margate Men's Shed"


def test_removing_a_member(signed_in, bid, bidder, opportunity):
    member = prep.add_member(bidder, bid, prep.MemberDetails("Shed", "charity", "micro", True, "subcontractor",
                                                             Decimal("0.1")))
    signed_in.submit(url(opportunity, f"/consortium/{member.id}/remove"), {}, page_url=url(opportunity, "/consortium"))
    assert reload(bid).members == []


# Documents -----------------------------------------------------------------------------------------------

def upload(client, opportunity, name: str, data: bytes, title: str = "Safeguarding policy"):
    import io

    return client.submit(url(opportunity, "/documents"), {"title": title, "file": (io.BytesIO(data), name)},
                         content_type="multipart/form-data")


def test_a_document_is_uploaded_listed_with_its_hash_and_downloaded_as_an_attachment(signed_in, bid, opportunity,
                                                                                     client, as_user, organisation):
    import hashlib

    assert upload(signed_in, opportunity, "policy.pdf", PDF).status_code == 302
    [document] = reload(bid).documents
    page = text(signed_in.get(url(opportunity, "/documents")))
    assert "Safeguarding policy" in page and hashlib.sha256(PDF).hexdigest() in page and "PDF, 1KB" in page

    as_user(colleague(organisation))
    response = client.get(url(opportunity, f"/documents/{document.id}"))
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response.headers["Cache-Control"]


def test_a_document_named_wrongly_is_stored_as_what_it_is(signed_in, bid, opportunity):
    upload(signed_in, opportunity, "report.pdf", docx_bytes())
    assert reload(bid).documents[0].filename == "report.docx"


@pytest.mark.parametrize("app_overrides", [{"MAX_DOCUMENT_BYTES": 1024}])
@pytest.mark.parametrize("name, data, message", [
    ("policy.pdf", b"This is a text file renamed to .pdf", "The selected file must be a PDF, DOCX, XLSX, ODT or ODS"),
    ("empty.pdf", b"", "The selected file is empty"),
    ("big.pdf", PDF + b"0" * 2048, "The selected file must be smaller than"),
])
def test_a_bad_document_is_refused_keeping_the_title(signed_in, bid, opportunity, app_overrides, name, data, message):
    response = upload(signed_in, opportunity, name, data, title="Our safeguarding policy")
    page = text(response)
    assert response.status_code == 200 and shows_error(page, message)
    assert 'value="Our safeguarding policy"' in page and "smaller than 1KB" in page
    assert reload(bid).documents == []


def test_a_document_needs_a_title_and_a_file(signed_in, bid, opportunity):
    page = text(signed_in.submit(url(opportunity, "/documents"), {"title": ""}, content_type="multipart/form-data"))
    assert shows_error(page, "Enter a title for the document") and "Select a file" in page


def test_removing_a_document(signed_in, bid, bidder, opportunity):
    document = prep.add_document(bidder, bid, "Policy", "policy.pdf", PDF)
    response = signed_in.submit(url(opportunity, f"/documents/{document.id}/remove"), {},
                                page_url=url(opportunity, "/documents"))
    assert response.status_code == 302 and reload(bid).documents == []
    assert "‘Policy’ is removed." in text(signed_in.get(url(opportunity, "/documents")))


def test_removing_after_the_deadline_is_refused_with_a_message(signed_in, bid, bidder, opportunity):
    document = prep.add_document(bidder, bid, "Policy", "policy.pdf", PDF)
    token = signed_in.csrf_token(url(opportunity, "/documents"))
    close(opportunity)
    response = signed_in.post(url(opportunity, f"/documents/{document.id}/remove"), data={"csrf_token": token})
    assert response.status_code == 302 and len(reload(bid).documents) == 1
    assert "The deadline for bids passed on" in text(signed_in.get(url(opportunity, "/documents")))


# Eligibility and declarations ----------------------------------------------------------------------------

def test_eligibility_questions_are_answered_yes_or_no_with_a_note(signed_in, bid, opportunity):
    gate = criterion_of(opportunity, "pass_fail")
    page = text(signed_in.get(url(opportunity, "/eligibility")))
    assert "Safeguarding policy in place" in page and "Do you have a safeguarding policy?" in page

    signed_in.submit(url(opportunity, "/eligibility"), {f"confirm_{gate.id}": "no", f"note_{gate.id}": "Renewing",
                                                        "version": version_of(bid)})
    [answer] = reload(bid).answers
    assert (answer.confirmed, answer.text) == (False, "Renewing")


def test_an_unknown_eligibility_answer_is_refused(signed_in, bid, opportunity):
    gate = criterion_of(opportunity, "pass_fail")
    response = signed_in.submit(url(opportunity, "/eligibility"), {f"confirm_{gate.id}": "perhaps",
                                                                   f"note_{gate.id}": "x" * 2001,
                                                                   "version": version_of(bid)})
    page = text(response)
    assert shows_error(page, "Select yes or no") and "2,000 characters or fewer" in page
    assert reload(bid).answers == []


@pytest.mark.parametrize("data, message", [
    ({}, "Select whether you have any conflicts of interest"),
    ({"conflicts": "sometimes"}, "Select whether you have any conflicts of interest"),
    ({"conflicts": "declared", "conflict_details": ""}, "Give details of the conflict of interest"),
    ({"conflicts": "declared", "conflict_details": "x" * 4001}, "4,000 characters or fewer"),
])
def test_bad_declarations_are_refused(signed_in, bid, opportunity, data, message):
    response = signed_in.submit(url(opportunity, "/declarations"), {**data, "version": version_of(bid)})
    assert response.status_code == 200 and shows_error(text(response), message)
    assert reload(bid).declared_conflicts is None


def test_a_declared_conflict_keeps_its_details_shown_as_text(signed_in, bid, opportunity):
    signed_in.submit(url(opportunity, "/declarations"), {
        "conflicts": "declared", "conflict_details": "Our chair's <b>sister</b> works in commissioning",
        "version": version_of(bid)})
    page = text(signed_in.get(url(opportunity, "/declarations")))
    assert "sister&lt;/b&gt;" in page and "<b>sister</b>" not in page
    assert reload(bid).conflict_details.startswith("Our chair's")


# Every page renders ------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", SECTION_PATHS + ["answer"])
def test_every_page_renders_for_the_bidder(signed_in, bid, opportunity, path):
    path = answer_path(opportunity) if path == "answer" else path
    response = signed_in.get(url(opportunity, path), follow_redirects=True)
    assert response.status_code == 200
    page = text(response)
    assert re.search(r"<h1 class=\"govuk-heading-l\">", page) and "Back to" in page
