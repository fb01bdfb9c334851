"""Award pages over HTTP: who may open each, the recommendation from the ranking, price answers, approval with
separation of duties, standstill and challenges, confirmation, cancellation with a listed reason, a bidder's
own result after the award notice, and the award stage of the evaluation overview."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask import render_template
from flask_login import login_user

from marketplace.accounts.models import User
from marketplace.awards.models import Award, Challenge, Contract, PriceReview
from marketplace.extensions import db
from marketplace.opportunities.models import Opportunity
from marketplace.organisations.models import Membership
from marketplace.timeutil import london, utcnow
from tests.award_builders import EXCLUSION, answered, in_standstill, moderated, recommended, standstill_over
from tests.factories import StaffFactory, provider
from tests.staff_fixtures import author, officer, request_context  # noqa: F401 (fixtures)

FLAGGED_PRICES = (Decimal("120000.00"), Decimal("60000.00"), Decimal("135000.00"))
WINNER, RUNNER_UP, EXCLUDED = "Bidder 2 Community Interest Company", "Bidder 1 Community Interest Company", \
    "Bidder 3 Community Interest Company"


@pytest.fixture()
def approver():
    return StaffFactory(roles=["procurement_officer"], full_name="Alex Approver")


@pytest.fixture()
def evaluated(author):
    """Three bids: the second (lowest price) leads, the third failed compliance."""
    return moderated(author, excluded=(2,))


def text(response) -> str:
    return response.get_data(as_text=True)


def page(opportunity, suffix: str = "") -> str:
    return f"/commissioning/{opportunity.id}/award{suffix}"


def result_page(opportunity) -> str:
    return f"/opportunities/{opportunity.id}/bid/result"


def awards() -> list[Award]:
    db.session.expire_all()
    return list(db.session.execute(sa.select(Award).order_by(Award.id)).scalars())


def member_of(bid) -> User:
    return db.session.execute(sa.select(User).join(Membership, Membership.user_id == User.id)
                              .where(Membership.organisation_id == bid.organisation_id)).scalars().first()


# Who may open the pages ---------------------------------------------------------------------------------

STAFF_PAGES = ["", "/recommend", "/decision", "/challenges/new"]


@pytest.mark.parametrize("suffix", STAFF_PAGES)
def test_providers_and_commissioners_cannot_open_the_award_pages(client, as_user, evaluated, author, suffix):
    opportunity, bids = evaluated
    as_user(member_of(bids[0]))
    assert client.get(page(opportunity, suffix)).status_code == 403
    as_user(author)
    assert client.get(page(opportunity, suffix)).status_code == 403


@pytest.mark.parametrize(("suffix", "status"), [("", 200), ("/decision", 200), ("/recommend", 403),
                                                ("/challenges/new", 403)])
def test_an_administrator_reads_the_award_and_decides_but_does_not_run_it(client, as_user, evaluated, suffix,
                                                                           status):
    opportunity, _ = evaluated
    as_user(StaffFactory(roles=["administrator"]))
    assert client.get(page(opportunity, suffix)).status_code == status


def test_signed_out_people_are_asked_to_sign_in_and_unknown_opportunities_are_not_found(client, as_user, officer):
    assert client.get("/commissioning/999/award").status_code == 302
    as_user(officer)
    assert client.get("/commissioning/999/award").status_code == 404


@pytest.mark.parametrize("role", ["administrator", "procurement_officer"])
def test_an_opportunity_never_published_has_no_award_pages_even_for_staff(client, as_user, evaluated, role):
    opportunity, _ = evaluated
    opportunity.status, opportunity.published_at = "draft", None
    db.session.commit()
    as_user(StaffFactory(roles=[role]))
    for suffix in ("", "/decision"):
        response = client.get(page(opportunity, suffix))
        assert response.status_code == 404 and opportunity.reference not in text(response)


# Recommending ------------------------------------------------------------------------------------------------

def test_the_recommendation_page_shows_the_ranking_the_exclusions_and_the_robustness(client, as_user, evaluated,
                                                                                      officer):
    opportunity, _ = evaluated
    as_user(officer)
    body = text(client.get(page(opportunity, "/recommend")))
    assert WINNER in body and RUNNER_UP in body
    assert "How you will deliver the service" in body and "(weight 40)" in body
    assert EXCLUDED in body and EXCLUSION in body
    assert "The result would change if the weight of" in body or "No change to the weight" in body
    assert "You are recommending " + WINNER in body


def test_an_officer_recommends_and_the_award_page_shows_it(client, as_user, evaluated, officer):
    opportunity, bids = evaluated
    as_user(officer)
    response = client.submit(page(opportunity, "/recommend"), {"reasons": "Best value for Kent residents"})
    assert response.status_code == 302 and response.location.endswith(page(opportunity))
    assert [(a.bid_id, a.reasons) for a in awards()] == [(bids[1].id, "Best value for Kent residents")]
    body = text(client.get(page(opportunity)))
    assert "The award is recommended" in body and "Best value for Kent residents" in body
    assert "You recommended this award, so you cannot approve or return it" in body


def test_a_recommendation_without_reasons_is_refused_by_the_field(client, as_user, evaluated, officer):
    opportunity, _ = evaluated
    as_user(officer)
    response = client.submit(page(opportunity, "/recommend"), {"reasons": "  "})
    body = text(response)
    assert response.status_code == 200 and "There is a problem" in body
    assert 'href="#reasons"' in body and "Enter the reasons for the recommendation" in body
    assert awards() == []


def test_a_tie_needs_a_choice_and_what_was_typed_is_kept(client, as_user, author, officer):
    opportunity, bids = moderated(author, prices=(Decimal("100000.00"), Decimal("100000.00")))
    as_user(officer)
    response = client.submit(page(opportunity, "/recommend"), {"reasons": "Both excellent",
                                                               "tie_decision": "Drawn by lot"})
    body = text(response)
    assert "Select which of the tied bids you recommend" in body
    assert "Both excellent" in body and "Drawn by lot" in body and awards() == []
    response = client.submit(page(opportunity, "/recommend"), {"reasons": "Both excellent", "bid_id": str(bids[0].id),
                                                               "tie_decision": "Drawn by lot"})
    assert response.status_code == 302 and awards()[0].tie_decision == "Drawn by lot"


def test_a_second_recommendation_is_refused_clearly(client, as_user, evaluated, officer):
    opportunity, _ = evaluated
    as_user(officer)
    form_page = page(opportunity, "/recommend")
    token = client.csrf_token(form_page)
    client.post(form_page, data={"csrf_token": token, "reasons": "First"})
    response = client.post(form_page, data={"csrf_token": token, "reasons": "Second"})
    assert response.status_code == 200 and "already recommended" in text(response)
    assert [a.reasons for a in awards()] == ["First"]


# Abnormally low prices -------------------------------------------------------------------------------------------

def test_an_officer_records_the_answer_to_a_flag_and_a_rejected_price_excludes_the_bid(client, as_user, author,
                                                                                      officer):
    opportunity, bids = moderated(author, prices=FLAGGED_PRICES)
    as_user(officer)
    url = page(opportunity, f"/prices/{bids[1].id}")
    body = text(client.get(url))
    assert "Abnormally low: " in body and "under the next lowest compliant price (" + RUNNER_UP + ")" in body
    response = client.submit(url, {"explanation": "Volunteers", "decision": "reject", "reason": "No staff costs"})
    assert response.status_code == 302
    body = text(client.get(page(opportunity, "/recommend")))
    assert "Price rejected as abnormally low: No staff costs" in body
    assert "You are recommending " + RUNNER_UP in body


def test_a_price_answer_keeps_what_was_typed_when_a_field_is_missing(client, as_user, author, officer):
    opportunity, bids = moderated(author, prices=FLAGGED_PRICES)
    as_user(officer)
    response = client.submit(page(opportunity, f"/prices/{bids[1].id}"), {"explanation": "Volunteers", "reason": ""})
    body = text(response)
    assert "Select whether you accept the price" in body and "Enter the reason for your decision" in body
    assert "Volunteers" in body and db.session.execute(sa.select(PriceReview)).first() is None


def test_a_bid_that_is_not_flagged_has_no_price_page(client, as_user, author, officer):
    opportunity, bids = moderated(author, prices=FLAGGED_PRICES)
    as_user(officer)
    assert client.get(page(opportunity, f"/prices/{bids[0].id}")).status_code == 404


# Approving or returning -----------------------------------------------------------------------------------------

def test_the_recommender_cannot_approve_even_by_posting_the_form(client, as_user, evaluated, officer):
    opportunity, bids = evaluated
    award = recommended(opportunity, bids[1], officer)
    as_user(officer)
    assert "separation of duties" in text(client.get(page(opportunity, "/decision")))
    response = client.submit(page(opportunity, "/decision"), {"decision": "approve", "version": str(award.version)},
                             page_url=page(opportunity, "/decision"))
    assert response.status_code == 200 and "You recommended this award" in text(response)
    assert awards()[0].status == "recommended"


def test_approval_is_refused_while_a_flag_is_unanswered_and_says_which(client, as_user, author, officer, approver):
    opportunity, bids = moderated(author, prices=FLAGGED_PRICES)
    award = recommended(opportunity, bids[1], officer)
    as_user(approver)
    response = client.submit(page(opportunity, "/decision"), {"decision": "approve", "version": str(award.version)})
    assert response.status_code == 200
    assert f"The abnormally low price of {WINNER} has not been answered" in text(response)
    assert awards()[0].status == "recommended"


def test_approval_starts_standstill_and_the_award_page_says_when_it_ends(client, as_user, evaluated, officer,
                                                                         approver, mailbox):
    opportunity, bids = evaluated
    award = recommended(opportunity, bids[1], officer)
    as_user(approver)
    response = client.submit(page(opportunity, "/decision"), {"decision": "approve", "version": str(award.version)})
    assert response.status_code == 302
    stored = awards()[0]
    ends = stored.standstill_ends_on
    body = text(client.get(page(opportunity)))
    assert f"Standstill ends at midnight at the end of {ends:%A} {ends.day} {ends:%B %Y}" in body
    assert "every bidder has been emailed" in body
    assert mailbox.to(member_of(bids[0]).email)


def test_returning_needs_a_note_and_keeps_the_choice(client, as_user, evaluated, officer, approver):
    opportunity, bids = evaluated
    award = recommended(opportunity, bids[1], officer)
    as_user(approver)
    response = client.submit(page(opportunity, "/decision"), {"decision": "return", "note": "",
                                                              "version": str(award.version)})
    body = text(response)
    assert "Enter a note saying why you are returning the recommendation" in body
    assert 'value="return" checked' in body
    response = client.submit(page(opportunity, "/decision"), {"decision": "return", "note": "Check Kent spend",
                                                              "version": str(award.version)})
    assert response.status_code == 302 and awards()[0].status == "returned"
    assert db.session.get(Opportunity, opportunity.id).status == "evaluating"
    assert "Check Kent spend" in text(client.get(page(opportunity)))


# Standstill, challenges and confirmation --------------------------------------------------------------------------

def test_a_challenge_recorded_during_standstill_suspends_the_award(client, as_user, evaluated, officer, approver):
    opportunity, bids = evaluated
    award = in_standstill(opportunity, bids[1], officer, approver)
    received = london(award.notice_published_at + timedelta(minutes=30))
    as_user(officer)
    response = client.submit(page(opportunity, "/challenges/new"), {
        "organisation_id": str(bids[0].organisation_id), "received_at-day": str(received.day),
        "received_at-month": str(received.month), "received_at-year": str(received.year),
        "received_at-time": f"{received:%H:%M}", "summary": "Price scoring misapplied"})
    assert response.status_code == 302
    body = text(client.get(page(opportunity)))
    assert "Suspended by a challenge" in body and "Price scoring misapplied" in body and "Unresolved" in body


def test_a_challenge_form_with_problems_keeps_what_was_typed(client, as_user, evaluated, officer, approver):
    opportunity, bids = evaluated
    in_standstill(opportunity, bids[1], officer, approver)
    as_user(officer)
    response = client.submit(page(opportunity, "/challenges/new"), {
        "organisation_id": str(bids[0].organisation_id), "received_at-day": "31", "received_at-month": "2",
        "received_at-year": "2027", "received_at-time": "10:00", "summary": "Price scoring misapplied"})
    body = text(response)
    assert response.status_code == 200 and "must be a real date" in body and "Price scoring misapplied" in body
    assert db.session.execute(sa.select(Challenge)).first() is None


def test_resolving_a_challenge_and_confirming_after_standstill_records_the_contract(client, as_user, evaluated,
                                                                                    officer, approver):
    opportunity, bids = evaluated
    award = standstill_over(opportunity, bids[1], officer, approver)
    challenge = Challenge(award_id=award.id, organisation_id=bids[0].organisation_id,
                          received_at=award.notice_published_at + timedelta(hours=1), summary="Unfair")
    db.session.add(challenge)
    db.session.commit()
    as_user(officer)
    assert "has not been resolved" in text(client.get(page(opportunity)))
    response = client.submit(page(opportunity, f"/challenges/{challenge.id}"),
                             {"outcome": "dismissed", "resolution": "Scored as published"})
    assert response.status_code == 302
    response = client.submit(page(opportunity, "/confirm"), {"version": str(awards()[0].version)},
                             page_url=page(opportunity))
    assert response.status_code == 302
    body = text(client.get(page(opportunity)))
    contract = db.session.execute(sa.select(Contract)).scalar_one()
    assert f"contract {contract.reference} is recorded" in body and "£100,000.00" in body


def test_confirming_before_standstill_ends_is_refused_with_the_date(client, as_user, evaluated, officer, approver):
    opportunity, bids = evaluated
    award = in_standstill(opportunity, bids[1], officer, approver)
    as_user(officer)
    body = text(client.get(page(opportunity)))
    assert "You can confirm the award from" in body and "Confirm the award</button>" not in body
    response = client.submit(page(opportunity, "/confirm"), {"version": str(award.version)},
                             page_url=page(opportunity))
    assert response.status_code == 302
    assert "Standstill ends at midnight at the end of" in text(client.get(page(opportunity)))
    assert db.session.execute(sa.select(Contract)).first() is None


def test_a_confirm_button_without_its_csrf_token_is_refused(client, as_user, evaluated, officer, approver):
    opportunity, bids = evaluated
    award = standstill_over(opportunity, bids[1], officer, approver)
    as_user(officer)
    assert client.post(page(opportunity, "/confirm"), data={"version": str(award.version)}).status_code == 400
    assert db.session.execute(sa.select(Contract)).first() is None


# Cancelling --------------------------------------------------------------------------------------------------------

def test_an_officer_cancels_in_standstill_with_a_listed_reason_and_bidders_are_emailed(client, as_user, evaluated,
                                                                                      officer, approver, mailbox):
    opportunity, bids = evaluated
    in_standstill(opportunity, bids[1], officer, approver)
    as_user(officer)
    url = f"/commissioning/{opportunity.id}/cancel"
    body = text(client.get(url))
    assert "Every compliant bid is above the available budget" in body
    response = client.submit(url, {"category": "unaffordable", "reason": "",
                                   "version": str(db.session.get(Opportunity, opportunity.id).version)})
    assert response.status_code == 302
    assert awards()[0].status == "cancelled"
    assert "Every compliant bid is above the available budget" in mailbox.last_body(member_of(bids[2]).email)


def test_cancelling_without_choosing_a_reason_is_refused(client, as_user, evaluated, officer):
    opportunity, _ = evaluated
    as_user(officer)
    url = f"/commissioning/{opportunity.id}/cancel"
    response = client.submit(url, {"reason": "Money", "version": str(opportunity.version)})
    assert "Select why you are cancelling it" in text(response) and "Money" in text(response)
    assert db.session.get(Opportunity, opportunity.id).status == "evaluating"


# A bidder's own result ---------------------------------------------------------------------------------------------

def test_a_bidder_sees_no_result_before_the_award_notice(client, as_user, evaluated, officer):
    opportunity, bids = evaluated
    recommended(opportunity, bids[1], officer)
    as_user(member_of(bids[0]))
    assert client.get(result_page(opportunity)).status_code == 404


def test_an_unsuccessful_bidder_sees_their_own_scores_and_the_winners_total_only(client, as_user, evaluated,
                                                                                  officer, approver):
    opportunity, bids = evaluated
    award = in_standstill(opportunity, bids[1], officer, approver)
    as_user(member_of(bids[0]))
    body = text(client.get(result_page(opportunity)))
    own = next(e for e in award.ranking["bids"] if e["id"] == str(bids[0].id))
    winner = next(e for e in award.ranking["bids"] if e["id"] == str(bids[1].id))
    assert "Your bid was not successful" in body and WINNER in body
    assert f"{own['total']} points out of 100" in body and f"{winner['total']} points" in body
    assert "Agreed 3 for How you will deliver the service" in body and "3 out of 5" in body
    assert "2 of 2 bids scored" in body
    assert EXCLUDED not in body and "Standstill ends at midnight at the end of" in body


def test_an_excluded_bidder_sees_why(client, as_user, evaluated, officer, approver):
    opportunity, bids = evaluated
    in_standstill(opportunity, bids[1], officer, approver)
    as_user(member_of(bids[2]))
    body = text(client.get(result_page(opportunity)))
    assert "Your bid was excluded" in body and EXCLUSION in body and WINNER not in body


def test_the_successful_bidder_is_told_and_the_dashboard_links_the_result(client, as_user, evaluated, officer,
                                                                          approver):
    opportunity, bids = evaluated
    in_standstill(opportunity, bids[1], officer, approver)
    as_user(member_of(bids[1]))
    assert "Your bid is successful" in text(client.get(result_page(opportunity)))
    assert f'href="{result_page(opportunity)}"' in text(client.get("/bids"))


def test_the_result_page_links_the_bidders_letter_which_downloads_as_a_pdf(client, as_user, evaluated, officer,
                                                                          approver):
    opportunity, bids = evaluated
    in_standstill(opportunity, bids[1], officer, approver)
    as_user(member_of(bids[0]))
    letter = f"/opportunities/{opportunity.id}/bid/assessment-letter.pdf"
    assert f'href="{letter}"' in text(client.get(result_page(opportunity)))
    response = client.get(letter)
    assert response.status_code == 200 and response.data.startswith(b"%PDF")


def test_people_outside_the_bidding_organisations_see_no_result(client, as_user, evaluated, officer, approver):
    opportunity, bids = evaluated
    in_standstill(opportunity, bids[1], officer, approver)
    as_user(provider())
    assert client.get(result_page(opportunity)).status_code == 404
    as_user(officer)
    assert client.get(result_page(opportunity)).status_code == 404


# The award stage of the evaluation overview -----------------------------------------------------------------------

def hub(app, user, opportunity) -> str:
    with app.test_request_context():
        login_user(user)
        return render_template("awards/_hub_award.html", opportunity=opportunity, evaluation=None)


def test_the_overview_task_list_follows_the_award_through_its_steps(app, author, officer, approver):
    opportunity, bids = moderated(author, prices=FLAGGED_PRICES)
    body = hub(app, officer, opportunity)
    assert f'href="/commissioning/{opportunity.id}/award/recommend"' in body and "1 to answer" in body
    award = recommended(opportunity, bids[1], officer)
    answered(bids[1], officer)
    body = hub(app, approver, opportunity)
    assert "Waiting for approval" in body and f'href="/commissioning/{opportunity.id}/award/decision"' in body
    award.status, award.notice_published_at = "approved", utcnow()
    award.standstill_ends_on = london(utcnow()).date() + timedelta(days=10)
    db.session.commit()
    assert "Ends at midnight at the end of" in hub(app, officer, opportunity)


def test_the_overview_task_list_offers_no_links_to_people_who_cannot_open_the_pages(app, author, evaluated):
    opportunity, _ = evaluated
    body = hub(app, author, opportunity)
    assert "Recommend the award" in body and "/award" not in body


def test_the_evaluation_overview_shows_the_award_stage_and_the_award_page_links_back(client, as_user, evaluated,
                                                                                     officer):
    opportunity, _ = evaluated
    as_user(officer)
    overview = f"/commissioning/{opportunity.id}/evaluation"
    body = text(client.get(overview))
    assert "Recommend the award" in body and f'href="{page(opportunity, "/recommend")}"' in body
    assert f'href="{overview}"' in text(client.get(page(opportunity)))
