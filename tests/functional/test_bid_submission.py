"""Bid submission over HTTP: the check page lists what is missing or shows the whole bid with a Submit button;
submitting shows and emails the receipt (UK time to the second, SHA-256); a double-click makes one version;
withdraw and resubmit keep every receipt; after the deadline the sealed version is shown read-only; the provider
dashboard groups the organisation's bids by state. Bad input gets a clear message and stores nothing; another
organisation's bid answers 404."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask import url_for

from marketplace.bids import rules, submission
from marketplace.bids.models import Bid
from marketplace.extensions import db
from marketplace.timeutil import utcnow
from tests.factories import OrganisationFactory, StaffFactory, UserFactory, colleague, provider
from tests.builders import make_bid, make_opportunity
from tests.integration.test_bid_submission import fresh, submissions

MARKER = "MARKER-5150"


def text(response) -> str:
    return response.get_data(as_text=True)


def check_url(opportunity) -> str:
    return f"/opportunities/{opportunity.id}/bid/check"


def submit_url(opportunity) -> str:
    return f"/opportunities/{opportunity.id}/bid/submit"


def withdraw_url(opportunity) -> str:
    return f"/opportunities/{opportunity.id}/bid/withdraw"


def version_url(opportunity, number: int) -> str:
    return f"/opportunities/{opportunity.id}/bid/versions/{number}"


def post_submit(client, opportunity, bid, **data):
    data.setdefault("version", str(fresh(bid).version))
    return client.submit(submit_url(opportunity), data, page_url=check_url(opportunity))


@pytest.fixture()
def commissioner(app):
    return StaffFactory(roles=["commissioner"])


@pytest.fixture()
def opportunity(commissioner):
    return make_opportunity(commissioner)


@pytest.fixture()
def organisation(app):
    return OrganisationFactory(legal_name="Thanet Befriending Trust")


@pytest.fixture()
def owner(organisation):
    return provider(organisation, email="owner@befriending.example", full_name="Olive Owner")


@pytest.fixture()
def member(organisation):
    return colleague(organisation, email="member@befriending.example", full_name="Max Member")


@pytest.fixture()
def bid(opportunity, organisation, owner):
    return make_bid(opportunity, organisation, marker=MARKER)


@pytest.fixture()
def section_href(app):
    """The link to a preparation section, as the check page should write it. Stand-in pages are added when this
    build has no preparation pages, so the links are tested either way."""
    for endpoint, rule in (("bids.section", "/test/<int:opportunity_id>/sections/<section>"),
                           ("bids.task_list", "/test/<int:opportunity_id>/tasks")):
        if endpoint not in app.view_functions:
            app.add_url_rule(rule, endpoint=endpoint, view_func=lambda **kwargs: "stand-in")

    def href(opportunity, section: str) -> str:
        with app.test_request_context("/"):
            return f'href="{url_for("bids.section", opportunity_id=opportunity.id, section=section)}"'

    return href


# Check your answers ---------------------------------------------------------------------------------------

def test_the_check_page_lists_what_is_missing_with_links_and_offers_no_submit_button(client, as_user, member,
                                                                                      organisation, opportunity,
                                                                                      section_href):
    make_bid(opportunity, organisation, complete=False)

    page = text(as_user(member).get(check_url(opportunity)))

    assert "What is missing" in page and "Submit your bid" not in page
    criterion = opportunity.models[0].criteria[1]
    assert section_href(opportunity, f"answer-{criterion.id}") in page
    assert section_href(opportunity, "declarations") in page
    assert "Answer “How you will deliver the service”" in page and "Enter your total price" in page


def test_missing_items_are_listed_without_links_when_the_preparation_pages_do_not_exist(client, as_user, member,
                                                                                        organisation, opportunity,
                                                                                        app, monkeypatch):
    make_bid(opportunity, organisation, complete=False)
    for endpoint in ("bids.section", "bids.task_list"):
        monkeypatch.delitem(app.view_functions, endpoint, raising=False)

    page = text(as_user(member).get(check_url(opportunity)))

    assert "<li>Enter your total price</li>" in page


def test_a_complete_bid_is_shown_in_full_with_a_submit_button_carrying_its_version(client, as_user, member, bid,
                                                                                   opportunity, section_href):
    page = text(as_user(member).get(check_url(opportunity)))

    assert "Check your bid before you submit it" in page and "What is missing" not in page
    assert f"We visit every week with trained volunteers {MARKER}" in page
    assert "£125,000" in page and "35%" in page and "Apprenticeships created: 156 weeks" in page
    assert "Margate Men&#39;s Shed" in page and "15%" in page
    assert fresh(bid).documents[0].sha256 in page
    assert re.search(rf'name="version" value="{fresh(bid).version}"', page)
    assert "Submit your bid" in page and section_href(opportunity, "price") in page


def test_what_the_bidder_typed_is_shown_escaped(client, as_user, member, bid, opportunity):
    bid = fresh(bid)
    bid.answers[1].text = "<script>alert('x')</script> & more"
    db.session.commit()

    page = text(as_user(member).get(check_url(opportunity)))

    assert "<script>alert" not in page and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more" in page


# Submitting ------------------------------------------------------------------------------------------------

def test_submitting_shows_the_receipt_in_uk_time_to_the_second_and_emails_it(client, as_user, member, owner, bid,
                                                                              opportunity, mailbox):
    as_user(member)

    response = post_submit(client, opportunity, bid)

    assert response.status_code == 302 and response.headers["Location"].endswith(version_url(opportunity, 1))
    [sealed] = submissions(bid.id)
    page = text(client.get(version_url(opportunity, 1)))
    assert "Your bid has been submitted" in page and "Version 1 of your bid" in page
    assert f"{submission.receipt_time(sealed.submitted_at)} (UK time)" in page
    assert re.search(r"at \d{1,2}:\d{2}:\d{2}[ap]m \(UK time\)", page)
    assert sealed.sha256 in page and "Counts" in page
    for address in ("member@befriending.example", "owner@befriending.example"):
        assert sealed.sha256 in mailbox.last_body(address)
    assert fresh(bid).status == rules.SUBMITTED


def test_a_double_click_on_submit_makes_one_version_and_shows_its_receipt(client, as_user, member, bid,
                                                                         opportunity):
    as_user(member)
    version = str(fresh(bid).version)

    first = post_submit(client, opportunity, bid, version=version)
    second = post_submit(client, opportunity, bid, version=version)

    assert first.status_code == second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]
    assert [s.number for s in submissions(bid.id)] == [1]
    assert "it was not submitted twice" in text(client.get(second.headers["Location"]))


def test_submitting_without_the_forms_security_token_is_refused_and_stores_nothing(client, as_user, member, bid,
                                                                                   opportunity):
    response = as_user(member).post(submit_url(opportunity), data={"version": str(fresh(bid).version)})

    assert response.status_code == 400 and "The form had expired" in text(response)
    assert submissions() == []


@pytest.mark.parametrize("version", ["", "abc", "-1", "1e3", "999", "1.0", "<b>2</b>", "9" * 40])
def test_a_missing_or_tampered_version_is_refused_with_a_clear_message(client, as_user, member, bid, opportunity,
                                                                       version):
    response = post_submit(as_user(member), opportunity, bid, version=version)

    page = text(response)
    assert response.status_code == 200 and "There is a problem" in page
    assert "Your bid changed after you opened this page" in page and "<b>2</b>" not in page
    assert submissions() == []


def test_an_incomplete_bid_cannot_be_submitted_and_the_page_says_what_is_missing(client, as_user, member,
                                                                                 organisation, opportunity):
    bid = make_bid(opportunity, organisation, complete=False)

    response = post_submit(as_user(member), opportunity, bid)

    page = text(response)
    assert response.status_code == 200 and "There is a problem" in page
    assert "Your bid is not complete" in page and "Enter your total price" in page
    assert submissions() == [] and fresh(bid).status == rules.DRAFT


def test_a_bid_past_the_deadline_is_refused_and_the_page_says_so(client, as_user, member, bid, opportunity):
    as_user(member)
    token = client.csrf_token(check_url(opportunity))
    version = str(fresh(bid).version)
    opportunity.submission_deadline = utcnow() - timedelta(seconds=1)
    db.session.commit()

    response = client.post(submit_url(opportunity), data={"csrf_token": token, "version": version})

    page = text(response)
    assert response.status_code == 200 and "The deadline for this opportunity has passed" in page
    assert "Submit your bid" not in page and submissions() == []


def test_a_bid_on_a_cancelled_opportunity_is_refused(client, as_user, member, bid, opportunity):
    opportunity.status, opportunity.cancel_reason = "cancelled", "Service brought in-house"
    db.session.commit()

    response = post_submit(as_user(member), opportunity, bid)

    assert "This opportunity was cancelled" in text(response) and submissions() == []


def test_a_form_naming_an_opportunity_the_organisation_has_not_bid_for_answers_404(client, as_user, member,
                                                                                  commissioner):
    elsewhere = make_opportunity(commissioner)
    rival = make_bid(elsewhere, OrganisationFactory(), marker="RIVAL")
    as_user(member)
    token = client.csrf_token("/bids")

    response = client.post(submit_url(elsewhere), data={"csrf_token": token, "version": str(fresh(rival).version)})

    assert response.status_code == 404 and "RIVAL" not in text(response)
    assert submissions() == [] and fresh(rival).status == rules.DRAFT


# Versions, withdrawal and resubmission ---------------------------------------------------------------------

def test_withdraw_asks_for_confirmation_then_makes_the_bid_editable_and_emails(client, as_user, member, bid,
                                                                              opportunity, mailbox):
    as_user(member)
    post_submit(client, opportunity, bid)
    page = text(client.get(withdraw_url(opportunity)))
    assert "Withdraw version 1" in page and 'name="number" value="1"' in page

    response = client.submit(withdraw_url(opportunity), {"number": "1"})

    assert response.status_code == 302 and response.headers["Location"].endswith(check_url(opportunity))
    page = text(client.get(check_url(opportunity)))
    assert "Version 1 of your bid is withdrawn" in page and "Submit your bid" in page
    assert fresh(bid).status == rules.WITHDRAWN and submissions(bid.id)[0].withdrawn_at is not None
    assert "withdrew version 1" in mailbox.last_body("owner@befriending.example")


def test_resubmitting_makes_version_2_and_both_receipts_are_listed(client, as_user, member, bid, opportunity):
    as_user(member)
    post_submit(client, opportunity, bid)
    client.submit(withdraw_url(opportunity), {"number": "1"})
    changed = fresh(bid)
    changed.price_total = Decimal("119500.00")
    db.session.commit()

    response = post_submit(client, opportunity, bid)

    assert response.headers["Location"].endswith(version_url(opportunity, 2))
    first, second = submissions(bid.id)
    page = text(client.get(version_url(opportunity, 2)))
    assert first.sha256 in page and second.sha256 in page
    assert "Withdrawn" in page and "Counts" in page and "£119,500" in page
    old = text(client.get(version_url(opportunity, 1)))
    assert "£125,000" in old and "It does not count" in old


@pytest.mark.parametrize("number", ["", "abc", "2", "-1", "1.0", "<b>1</b>", "9" * 40])
def test_a_withdrawal_naming_a_missing_or_wrong_version_is_refused(client, as_user, member, bid, opportunity,
                                                                   number):
    as_user(member)
    post_submit(client, opportunity, bid)

    response = client.submit(withdraw_url(opportunity), {"number": number})

    page = text(response)
    assert response.status_code == 200 and "There is a problem" in page
    assert "Your bid changed after you opened this page" in page and "<b>1</b>" not in page
    assert fresh(bid).status == rules.SUBMITTED and submissions(bid.id)[0].withdrawn_at is None


def test_withdrawing_without_the_forms_security_token_is_refused(client, as_user, member, bid, opportunity):
    as_user(member)
    post_submit(client, opportunity, bid)

    response = client.post(withdraw_url(opportunity), data={"number": "1"})

    assert response.status_code == 400 and fresh(bid).status == rules.SUBMITTED


def test_a_bid_that_is_not_submitted_has_nothing_to_withdraw(client, as_user, member, bid, opportunity):
    page = text(as_user(member).get(withdraw_url(opportunity)))

    assert "Your bid is not submitted, so there is nothing to withdraw" in page and "Withdraw version" not in page
    response = client.submit(withdraw_url(opportunity), {"number": "1"})
    assert "not submitted, so you cannot withdraw it" in text(response) and fresh(bid).status == rules.DRAFT


def test_withdrawing_after_the_deadline_is_refused(client, as_user, member, bid, opportunity):
    as_user(member)
    post_submit(client, opportunity, bid)
    token = client.csrf_token(withdraw_url(opportunity))
    opportunity.submission_deadline = utcnow() - timedelta(seconds=1)
    db.session.commit()

    response = client.post(withdraw_url(opportunity), data={"csrf_token": token, "number": "1"})

    assert "The deadline for this opportunity has passed" in text(response)
    assert fresh(bid).status == rules.SUBMITTED and submissions(bid.id)[0].withdrawn_at is None


def test_after_the_deadline_the_submitted_version_is_shown_read_only_from_what_was_sealed(client, as_user, member,
                                                                                          bid, opportunity):
    as_user(member)
    post_submit(client, opportunity, bid)
    working = fresh(bid)
    working.answers[1].text = "Changed afterwards directly in the database"
    opportunity.submission_deadline = utcnow() - timedelta(seconds=1)
    db.session.commit()

    page = text(client.get(version_url(opportunity, 1)))

    assert f"We visit every week with trained volunteers {MARKER}" in page
    assert "Changed afterwards" not in page and "Change<" not in page
    assert "withdraw it" not in page and "Counts" in page
    assert "Submit your bid" not in text(client.get(check_url(opportunity)))


def test_a_version_that_does_not_exist_answers_404(client, as_user, member, bid, opportunity):
    as_user(member)
    post_submit(client, opportunity, bid)

    assert client.get(version_url(opportunity, 2)).status_code == 404


# Who may see bid pages -------------------------------------------------------------------------------------

BID_PAGES = [check_url, withdraw_url, lambda opportunity: version_url(opportunity, 1)]


@pytest.mark.parametrize("page", BID_PAGES)
def test_anyone_signed_out_is_asked_to_sign_in(client, bid, opportunity, page):
    response = client.get(page(opportunity))

    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


@pytest.mark.parametrize("viewer", ["another provider", "commissioner", "procurement officer", "administrator",
                                    "provider without organisation"])
@pytest.mark.parametrize("page", BID_PAGES)
def test_a_bid_page_answers_404_to_anyone_outside_the_bidding_organisation(client, as_user, app, owner, bid,
                                                                          opportunity, viewer, page):
    with app.test_request_context("/"):
        submission.submit(owner, bid, fresh(bid).version)
    outsider = {"another provider": lambda: provider(),
                "commissioner": lambda: StaffFactory(roles=["commissioner"]),
                "procurement officer": lambda: StaffFactory(roles=["procurement_officer"]),
                "administrator": lambda: StaffFactory(roles=["administrator"]),
                "provider without organisation": lambda: UserFactory()}[viewer]()

    response = as_user(outsider).get(page(opportunity))

    assert response.status_code == 404 and MARKER not in text(response)


# The provider dashboard ------------------------------------------------------------------------------------

def _bid_in_state(commissioner, organisation, bid_status: str, **opportunity_fields) -> Bid:
    opportunity = make_opportunity(commissioner, title=f"Opportunity with a {bid_status} bid", **opportunity_fields)
    return make_bid(opportunity, organisation, status=bid_status)


def test_the_dashboard_groups_the_organisations_bids_by_state_with_deadlines_receipts_and_outcomes(
        client, as_user, app, member, owner, organisation, commissioner, bid, opportunity):
    with app.test_request_context("/"):
        submission.submit(owner, bid, fresh(bid).version)
    past = dict(submission_deadline=utcnow() - timedelta(days=2), status="evaluating")
    _bid_in_state(commissioner, organisation, "draft")
    _bid_in_state(commissioner, organisation, "successful", **past)
    _bid_in_state(commissioner, organisation, "unsuccessful", **past)
    _bid_in_state(commissioner, organisation, "draft", submission_deadline=utcnow() - timedelta(days=1))
    make_bid(make_opportunity(commissioner, title="Someone else's bid"), OrganisationFactory())

    page = text(as_user(member).get("/bids"))

    headings = re.findall(r'govuk-table__caption--m">([^<]+)<', page)
    assert headings == ["Not submitted yet", "Submitted", "Outcome known", "Not submitted by the deadline"]
    assert "Successful" in page and "Unsuccessful" in page and "Someone else" not in page
    assert "Closes in 9 days" in page and "Closed on" in page
    [sealed] = submissions(bid.id)
    assert sealed.sha256[:16] in page and submission.receipt_time(sealed.submitted_at) in page
    assert f'href="{version_url(opportunity, 1)}"' in page and "5 bids in all" in page


def test_after_the_deadline_the_dashboard_links_to_the_submitted_version(client, as_user, app, member, owner, bid,
                                                                         opportunity):
    with app.test_request_context("/"):
        submission.submit(owner, bid, fresh(bid).version)
    opportunity.submission_deadline = utcnow() - timedelta(hours=1)
    db.session.commit()

    page = text(as_user(member).get("/bids"))

    assert "Closed: waiting for the outcome" in page and "View your submitted bid" in page


def test_a_bid_on_a_cancelled_opportunity_is_grouped_as_cancelled(client, as_user, member, organisation,
                                                                  commissioner):
    _bid_in_state(commissioner, organisation, "draft", status="cancelled", cancel_reason="No longer needed")

    page = text(as_user(member).get("/bids"))

    assert "Opportunity cancelled" in page and "The opportunity was cancelled." in page


def test_the_dashboard_is_paginated(client, as_user, app, member, organisation, commissioner):
    app.config["PAGE_SIZE"] = 2
    for _ in range(3):
        _bid_in_state(commissioner, organisation, "draft")

    first, second = (text(as_user(member).get(f"/bids?page={n}")) for n in (1, 2))

    assert first.count("Continue<span") == 2 and second.count("Continue<span") == 1
    assert "?page=2" in first
    assert "3 bids in all" in first and "3 bids in all" in second


def test_a_dashboard_page_past_the_last_still_says_how_many_bids_there_are(client, as_user, app, member,
                                                                        organisation, commissioner):
    app.config["PAGE_SIZE"] = 2
    for _ in range(3):
        _bid_in_state(commissioner, organisation, "draft")

    past = text(as_user(member).get("/bids?page=5"))

    assert "Continue<span" not in past and "3 bids in all" in past
    assert 'href="/bids?page=1"' in past


def _count_queries(client, url: str) -> int:
    statements = []

    def record(*_args):
        statements.append(1)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert client.get(url).status_code == 200
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    return len(statements)


def test_the_dashboards_query_count_does_not_grow_with_the_number_of_bids(client, as_user, app, member, owner,
                                                                         organisation, commissioner):
    def add_submitted_bid():
        bid = _bid_in_state(commissioner, organisation, "draft")
        with app.test_request_context("/"):
            submission.submit(owner, bid, fresh(bid).version)

    add_submitted_bid()
    as_user(member)
    few = _count_queries(client, "/bids")
    for _ in range(6):
        add_submitted_bid()

    assert _count_queries(client, "/bids") == few


@pytest.mark.parametrize("viewer, status", [("signed out", 302), ("commissioner", 403)])
def test_the_dashboard_is_for_providers(client, as_user, viewer, status):
    if viewer == "commissioner":
        as_user(StaffFactory(roles=["commissioner"]))

    assert client.get("/bids").status_code == status


def test_a_provider_without_an_organisation_is_told_to_register_one(client, as_user):
    page = text(as_user(UserFactory()).get("/bids"))

    assert "You need to belong to a registered organisation to bid" in page


def test_html_in_an_opportunity_title_is_escaped_on_the_dashboard(client, as_user, member, organisation,
                                                                  commissioner):
    make_bid(make_opportunity(commissioner, title="<i>Day care</i>"), organisation)

    page = text(as_user(member).get("/bids"))

    assert "<i>Day care</i>" not in page and html.escape("<i>Day care</i>") in page

