"""Right to bid over HTTP: the public catalogue and register, expressions of interest, the officers' list and
decisions; what each kind of user may do, and bad input on every form."""

from __future__ import annotations

import html
import re
from datetime import date
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from marketplace.audit import AuditEvent
from marketplace.extensions import db
from marketplace.opportunities.models import Opportunity
from marketplace.right_to_bid import services
from marketplace.right_to_bid.models import CatalogueService, Proposal
from tests.factories import OrganisationFactory, colleague, provider
from tests.functional.test_accounts import field_error, input_value, main, squash, text
from tests.integration.test_right_to_bid_services import (
    CASE,
    EFFECT,
    accept,
    commissioner,
    days,
    make_proposal,
    make_service,
    officer,
    reject,
)

CATALOGUE = "/right-to-bid"
REGISTER = "/right-to-bid/decisions"
MINE = "/right-to-bid/proposals"
QUEUE = "/right-to-bid/to-decide"
NEW_SERVICE = "/right-to-bid/services/new"


def uk(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def propose_url(service) -> str:
    return f"/right-to-bid/services/{service.id}/propose"


def proposal_url(proposal) -> str:
    return f"/right-to-bid/proposals/{proposal.id}"


def decide_url(proposal) -> str:
    return f"/right-to-bid/proposals/{proposal.id}/decide"


def path_of(response) -> str:
    return urlsplit(response.headers["Location"]).path


def error_summary(page: str) -> str:
    return squash(page.split('class="govuk-error-summary"', 1)[1].split("</div>\n</div>", 1)[0])


def textarea_value(page: str, field: str) -> str:
    return html.unescape(re.search(rf'<textarea\b[^>]*\bid="{field}"[^>]*>(.*?)</textarea>', page, re.S).group(1))


def proposals() -> list[Proposal]:
    db.session.expire_all()
    return list(db.session.execute(sa.select(Proposal).order_by(Proposal.id)).scalars())


def actions() -> list[str]:
    return list(db.session.execute(sa.select(AuditEvent.action).order_by(AuditEvent.id)).scalars())


@pytest.fixture()
def in_request(app):
    """Run a use case as a view would (emails carry links), then leave the request."""
    def run(function, *args, **kwargs):
        with app.test_request_context():
            return function(*args, **kwargs)
    return run


@pytest.fixture()
def charity():
    return OrganisationFactory(legal_name="Thanet Community Transport", org_type="charity")


@pytest.fixture()
def proposer(charity):
    return provider(charity, email="proposer@example.org")


@pytest.fixture()
def service():
    return make_service()


@pytest.fixture()
def submitted(in_request, proposer, service, mailbox) -> Proposal:
    proposal = in_request(make_proposal, proposer, service)
    mailbox.clear()
    return proposal


USER_KINDS = ("anonymous", "provider", "commissioner", "officer")


def become(as_user, kind: str):
    """Sign in as a fresh user of the kind (nobody for anonymous)."""
    user = {"anonymous": lambda: None, "provider": lambda: provider(OrganisationFactory()),
            "commissioner": commissioner, "officer": officer}[kind]()
    if user is not None:
        as_user(user)
    return user


def expect_status(response, kind: str, allowed: bool, hidden: int = 403) -> None:
    if kind == "anonymous" and not allowed:
        assert response.status_code == 302
        assert path_of(response) == "/sign-in"
    else:
        assert response.status_code == (200 if allowed else hidden)


# The public catalogue -----------------------------------------------------------------------------------

def test_the_catalogue_shows_each_service_and_when_its_window_closes_or_opens_next(client):
    make_service("Open service", opens=-5, closes=20)
    make_service("Upcoming service", opens=10, closes=40)
    make_service("Reopening service", opens=-60, closes=-30, next_window=(30, 90))
    make_service("Closed service", opens=-60, closes=-30)

    page = main(text(client.get(CATALOGUE)))

    assert "4 services in the catalogue" in page
    assert f"Open service Community and libraries Thanet £180,000 Open Open until {uk(days(20))}" in page
    assert f"Upcoming service Community and libraries Thanet £180,000 Opening later Opens {uk(days(10))}, " \
           f"closes {uk(days(40))}" in page
    assert f"Reopening service Community and libraries Thanet £180,000 Opening later Opens {uk(days(30))}" in page
    assert "Closed service Community and libraries Thanet £180,000 Closed Closed: no window scheduled" in page


def test_the_catalogue_is_paginated(client, app):
    for number in range(app.config["PAGE_SIZE"] + 1):
        make_service(f"Service {number:02d}")
    first = text(client.get(CATALOGUE))
    assert "Service 19" in first and "Service 20" not in first
    assert 'class="govuk-pagination' in first
    assert "Service 20" in text(client.get(CATALOGUE + "?page=2"))


def test_an_open_service_invites_an_expression_of_interest(client, service):
    page = text(client.get(f"/right-to-bid/services/{service.id}"))
    assert "Express an interest in running this service" in page
    assert f'href="{propose_url(service)}"' in page
    assert "It visits twelve stops a fortnight." in page


def test_a_closed_service_says_when_its_next_window_opens(client):
    closed = make_service(opens=-60, closes=-30, next_window=(30, 90))
    page = main(text(client.get(f"/right-to-bid/services/{closed.id}")))
    assert f"The next window opens on {uk(days(30))} and closes on {uk(days(90))}." in page
    assert "Express an interest in running this service" not in page


def test_an_unknown_service_is_not_found(client):
    assert client.get("/right-to-bid/services/999").status_code == 404


@pytest.mark.parametrize("kind", USER_KINDS)
def test_only_procurement_officers_are_offered_catalogue_changes(client, as_user, service, kind):
    become(as_user, kind)
    catalogue, page = text(client.get(CATALOGUE)), text(client.get(f"/right-to-bid/services/{service.id}"))
    assert ("Add a service" in catalogue) is (kind == "officer")
    assert ("Change this service" in page) is (kind == "officer")
    assert ("Expressions of interest to decide" in catalogue) is (kind == "officer")


# Adding and changing catalogue entries ------------------------------------------------------------------

def date_fields(name: str, day: date | None) -> dict:
    parts = ("", "", "") if day is None else (str(day.day), str(day.month), str(day.year))
    return {f"{name}-{part}": value for part, value in zip(("day", "month", "year"), parts)}


def service_form(**overrides) -> dict:
    data = {"name": "Day centre, Dover", "description": "Care and activities for older people.",
            "annual_cost": "£420,000", "category": "adult-social-care", "locality": "dover",
            **date_fields("window_opens", days(1)), **date_fields("window_closes", days(60)),
            **date_fields("next_window_opens", None), **date_fields("next_window_closes", None)}
    return {**data, **overrides}


@pytest.fixture()
def as_officer(as_user):
    user = officer(email="officer@kent.example")
    as_user(user)
    return user


def test_a_procurement_officer_adds_a_service_to_the_catalogue(client, as_officer):
    response = client.submit(NEW_SERVICE, service_form(**date_fields("next_window_opens", days(200)),
                                                       **date_fields("next_window_closes", days(260))))

    [added] = db.session.execute(sa.select(CatalogueService)).scalars().all()
    assert response.status_code == 302
    assert path_of(response) == f"/right-to-bid/services/{added.id}"
    assert (added.name, str(added.annual_cost), added.category, added.locality) == (
        "Day centre, Dover", "420000.00", "adult-social-care", "dover")
    assert (added.window_opens, added.window_closes) == (days(1), days(60))
    assert (added.next_window_opens, added.next_window_closes) == (days(200), days(260))
    assert actions() == ["right_to_bid.service_added"]
    assert "Day centre, Dover is added to the catalogue." in text(client.get(path_of(response)))


LONG = "x" * 2001


@pytest.mark.parametrize("changes, field, message", [
    ({"name": ""}, "name", "Enter the name of the service"),
    ({"name": "x" * 201}, "name", "Service name must be 200 characters or fewer"),
    ({"description": "  "}, "description", "Enter a description of the service"),
    ({"description": LONG}, "description", "Description must be 2,000 characters or fewer"),
    ({"annual_cost": ""}, "annual_cost", "Enter the current annual cost"),
    ({"annual_cost": "lots"}, "annual_cost", "Current annual cost must be an amount in pounds"),
    ({"annual_cost": "0"}, "annual_cost", "Current annual cost must be more than £0"),
    ({"annual_cost": "-10"}, "annual_cost", "Current annual cost must be £0 or more"),
    ({"category": ""}, "category", "Select the category of the service"),
    ({"category": "space-travel"}, "category", "Select from the options shown"),
    ({"locality": "medway"}, "locality", "Select from the options shown"),
    (date_fields("window_opens", None), "window_opens", "Enter the date the window opens"),
    ({"window_opens-day": "31", "window_opens-month": "2"}, "window_opens",
     "Window opens must be a real date, like 27 3 2027"),
    ({"window_opens-year": "27"}, "window_opens", "Window opens must have a 4-digit year, like 2027"),
    ({"window_closes-month": "March"}, "window_closes", "Window closes must be a real date"),
    (date_fields("window_closes", days(1)), "window_closes", "The window must close after it opens"),
    (date_fields("next_window_opens", days(100)), "next_window_closes",
     "Enter both dates of the next window, or neither"),
    ({**date_fields("next_window_opens", days(30)), **date_fields("next_window_closes", days(90))},
     "next_window_opens", "The next window must open after the current window closes"),
])
def test_bad_catalogue_input_is_explained_next_to_the_field_and_saves_nothing(client, as_officer, changes, field,
                                                                              message):
    response = client.submit(NEW_SERVICE, service_form(**changes))

    page = text(response)
    assert response.status_code == 200
    assert "There is a problem" in page
    assert field_error(page, field).startswith(message)
    assert f'href="#{field}"' in page
    assert db.session.execute(sa.select(sa.func.count(CatalogueService.id))).scalar_one() == 0


def test_the_catalogue_form_keeps_what_was_typed_and_shows_html_as_text(client, as_officer):
    page = text(client.submit(NEW_SERVICE, service_form(name="<script>alert(1)</script>", annual_cost="0",
                                                        **{"window_opens-day": "31", "window_opens-month": "2"})))
    assert "<script>alert(1)</script>" not in page
    assert input_value(page, "name") == "<script>alert(1)</script>"
    assert input_value(page, "annual_cost") == "0"
    assert input_value(page, "window_opens") == "31"
    assert textarea_value(page, "description") == "Care and activities for older people."


def test_a_procurement_officer_changes_a_service(client, as_officer, service):
    url = f"/right-to-bid/services/{service.id}/edit"
    page = text(client.get(url))
    assert input_value(page, "name") == "Mobile library, Thanet"
    assert input_value(page, "annual_cost") == "180,000"
    assert input_value(page, "window_opens") == str(service.window_opens.day)

    response = client.submit(url, service_form(name="Mobile library, Thanet and Dover", annual_cost="200000"))

    assert response.status_code == 302
    db.session.expire_all()
    assert (service.name, str(service.annual_cost)) == ("Mobile library, Thanet and Dover", "200000.00")
    assert actions() == ["right_to_bid.service_changed"]


@pytest.mark.parametrize("kind", USER_KINDS)
@pytest.mark.parametrize("page", ["new", "edit"])
def test_only_procurement_officers_reach_the_catalogue_forms(client, as_user, service, kind, page):
    become(as_user, kind)
    url = NEW_SERVICE if page == "new" else f"/right-to-bid/services/{service.id}/edit"
    expect_status(client.get(url), kind, kind == "officer")
    token = client.csrf_token("/sign-in" if kind == "anonymous" else CATALOGUE)
    response = client.post(url, data=service_form(csrf_token=token))
    if kind != "officer":
        expect_status(response, kind, False)
        assert db.session.execute(sa.select(sa.func.count(CatalogueService.id))).scalar_one() == 1


def test_changing_an_unknown_service_is_not_found(client, as_officer):
    assert client.get("/right-to-bid/services/999/edit").status_code == 404


# Expressions of interest --------------------------------------------------------------------------------

def proposal_form(proposer_type: str = "charity", **overrides) -> dict:
    data = {"proposer_type": proposer_type, **CASE, "evidence": "Survey of 300 users.", "effect_on_employees": ""}
    for row in range(1, 7):
        data |= {f"member_{row}_name": "", f"member_{row}_job": ""}
    if proposer_type == "staff_group":
        data |= {"member_1_name": "Anne Smith", "member_1_job": "Library assistant",
                 "member_2_name": "Bob Jones", "member_2_job": "Branch manager", "effect_on_employees": EFFECT}
    return {**data, **overrides}


def test_a_charity_sends_an_expression_of_interest_and_is_emailed_its_reference(client, as_user, proposer,
                                                                                service, mailbox):
    as_user(proposer)
    response = client.submit(propose_url(service), proposal_form())

    [proposal] = proposals()
    assert response.status_code == 302
    assert path_of(response) == proposal_url(proposal)
    assert (proposal.proposer_type, proposal.proposer_name, proposal.organisation_id) == (
        "charity", "Thanet Community Transport", proposer.membership.organisation_id)
    assert proposal.decision_due == days(90)
    assert actions() == ["right_to_bid.proposed"]
    page = main(text(client.get(path_of(response))))
    assert f"Your expression of interest {proposal.reference} has been sent" in page
    assert "Waiting for a decision" in page
    assert f"Decision due by {uk(days(90))} – 90 days left" in page
    assert proposal.reference in mailbox.last_body("proposer@example.org")


def test_a_council_employee_proposes_for_a_group_of_employees(client, as_user, service):
    as_user(commissioner())
    page = text(client.get(propose_url(service)))
    assert "Two or more council employees" in page
    assert "A registered provider" not in page and "A charity" not in page

    response = client.submit(propose_url(service), proposal_form("staff_group"))

    [proposal] = proposals()
    assert response.status_code == 302
    assert (proposal.proposer_name, proposal.organisation_id) == ("A group of council employees", None)
    assert [m["name"] for m in proposal.staff_members] == ["Anne Smith", "Bob Jones"]
    page = main(text(client.get(path_of(response))))
    assert "Anne Smith Library assistant" in page
    assert EFFECT in page


def test_the_form_offers_only_the_kinds_of_body_the_users_organisation_may_propose_as(client, as_user, proposer,
                                                                                     service):
    as_user(proposer)
    page = text(client.get(propose_url(service)))
    assert 'value="charity"' in page and 'value="staff_group"' in page and 'value="provider"' in page
    assert 'value="parish_council"' not in page and 'value="voluntary_community"' not in page


STAFF = "staff_group"
MAX_CASE = "y" * 5001


@pytest.mark.parametrize("proposer_type, changes, field, message", [
    ("", {}, "proposer_type", "Select who is making the proposal"),
    ("hacker", {}, "proposer_type", "Select from the options shown"),
    ("parish_council", {}, "proposer_type", "Select from the options shown"),
    ("charity", {"outcomes": ""}, "outcomes", "Enter the outcomes the service would improve"),
    ("charity", {"outcomes": "z" * 2001}, "outcomes",
     "Outcomes the service would improve must be 2,000 characters or fewer"),
    ("charity", {"cost_and_savings": " \r\n "}, "cost_and_savings", "Enter the cost and savings"),
    ("charity", {"staffing": MAX_CASE}, "staffing", "Staffing must be 5,000 characters or fewer"),
    ("charity", {"social_value": ""}, "social_value", "Enter the social value the proposal would bring"),
    ("charity", {"capacity": ""}, "capacity", "Enter your capacity to take on the service"),
    ("charity", {"evidence": MAX_CASE}, "evidence", "Evidence (optional) must be 5,000 characters or fewer"),
    ("charity", {"financial_resources": ""}, "financial_resources",
     "Enter the financial resources you have to run the service"),
    ("charity", {"capability": "Good\x07"}, "capability", "Capability must not contain control characters"),
    (STAFF, {"member_2_name": "", "member_2_job": ""}, "member_1_name",
     "List at least two council employees, with the name and job title of each"),
    (STAFF, {"member_2_job": ""}, "member_2_job", "Enter the job title of employee 2"),
    (STAFF, {"member_3_job": "Driver"}, "member_3_name", "Enter the name of employee 3"),
    (STAFF, {"member_1_name": "n" * 121}, "member_1_name",
     "Employee 1: full name must be 120 characters or fewer"),
    (STAFF, {"effect_on_employees": ""}, "effect_on_employees",
     "Describe the effect of the proposal on other council employees"),
])
def test_bad_proposal_input_is_explained_next_to_the_field_and_sends_nothing(client, as_user, proposer, service,
                                                                             mailbox, proposer_type, changes,
                                                                             field, message):
    as_user(proposer)
    response = client.submit(propose_url(service), proposal_form(proposer_type, **changes))

    page = text(response)
    assert response.status_code == 200
    assert "There is a problem" in page
    assert field_error(page, field) == message
    assert proposals() == []
    assert mailbox.messages == []


def test_the_proposal_form_keeps_what_was_typed_and_shows_html_as_text(client, as_user, proposer, service):
    as_user(proposer)
    page = text(client.submit(propose_url(service), proposal_form(
        outcomes="<b>Better</b> outcomes", capacity="", member_1_name="<i>Anne</i>")))
    assert "<b>Better</b>" not in page and "<i>Anne</i>" not in page
    assert textarea_value(page, "outcomes") == "<b>Better</b> outcomes"
    assert textarea_value(page, "staffing") == CASE["staffing"]
    assert input_value(page, "member_1_name") == "<i>Anne</i>"
    assert 'value="charity" checked' in page


def test_outside_the_window_the_form_is_not_offered_and_the_next_dates_are_given(client, as_user, proposer):
    upcoming = make_service(opens=10, closes=40)
    as_user(proposer)

    page = main(text(client.get(propose_url(upcoming))))
    assert (f"not being accepted now. The next window opens on {uk(days(10))} and closes on {uk(days(40))}."
            in page)
    assert "Submit expression of interest" not in page

    response = client.submit(propose_url(upcoming), proposal_form(), page_url=CATALOGUE)
    assert response.status_code == 200
    assert f"The next window opens on {uk(days(10))}" in error_summary(text(response))
    assert proposals() == []


def test_a_proposal_page_shows_html_typed_by_the_proposer_as_text(client, as_user, proposer, service, in_request):
    proposal = in_request(make_proposal, proposer, service, capability="<script>alert(1)</script>")
    as_user(proposer)
    page = text(client.get(proposal_url(proposal)))
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_signing_in_is_needed_to_propose(client, service):
    response = client.get(propose_url(service))
    assert (response.status_code, path_of(response)) == (302, "/sign-in")


# The proposer's own proposals ---------------------------------------------------------------------------

def test_a_proposer_sees_their_organisations_proposals_and_their_status_but_no_one_elses(client, as_user, charity,
                                                                                          proposer, service,
                                                                                          in_request):
    own = in_request(make_proposal, proposer, service)
    teammate = colleague(charity)
    teammates = in_request(make_proposal, teammate, service)
    theirs = in_request(make_proposal, provider(OrganisationFactory()), service)
    in_request(services.decide, officer(), own, reject())

    as_user(proposer)
    page = main(text(client.get(MINE)))

    assert "2 expressions of interest made by you or your organisation" in page
    assert f"{own.reference} Mobile library, Thanet" in page and "Rejected" in page
    assert f"{teammates.reference} Mobile library, Thanet" in page and "Waiting for a decision" in page
    assert theirs.reference not in page


@pytest.mark.parametrize("viewer, status", [
    ("proposer", 200), ("colleague", 200), ("other_provider", 404), ("commissioner", 404), ("officer", 200),
    ("anonymous", 302),
])
def test_a_proposal_is_seen_only_by_its_proposer_and_procurement_officers(client, as_user, charity, submitted,
                                                                          viewer, status):
    user = {"proposer": lambda: submitted.submitted_by, "colleague": lambda: colleague(charity),
            "other_provider": lambda: provider(OrganisationFactory()), "commissioner": commissioner,
            "officer": officer, "anonymous": lambda: None}[viewer]()
    if user is not None:
        as_user(user)
    response = client.get(proposal_url(submitted))
    assert response.status_code == status
    if status == 200:
        assert CASE["cost_and_savings"] in text(response)


def test_the_proposers_list_needs_signing_in(client):
    assert path_of(client.get(MINE)) == "/sign-in"


def test_an_unknown_proposal_is_not_found(client, as_officer):
    assert client.get("/right-to-bid/proposals/999").status_code == 404


# The officers' list -------------------------------------------------------------------------------------

def test_the_officers_list_shows_the_days_left_and_highlights_overdue_proposals(client, as_officer, proposer,
                                                                               service, in_request):
    on_time = in_request(make_proposal, proposer, service)
    late = in_request(make_proposal, proposer, service)
    db.session.execute(sa.update(Proposal).where(Proposal.id == on_time.id).values(decision_due=days(10)))
    db.session.execute(sa.update(Proposal).where(Proposal.id == late.id).values(decision_due=days(-3)))
    db.session.commit()

    page = text(client.get(QUEUE))

    body = main(page)
    assert body.index(late.reference) < body.index(on_time.reference)
    assert f"{late.reference} Mobile library, Thanet Thanet Community Transport" in body
    assert "10 days left" in body
    assert re.search(r'<strong class="govuk-tag govuk-tag--red">\s*Overdue by 3 days\s*</strong>', page)
    assert f"<strong>{uk(days(-3))}</strong>" in page


def test_the_officers_list_can_show_decided_proposals(client, as_officer, submitted, in_request):
    in_request(services.decide, officer(), submitted, reject())
    assert submitted.reference not in main(text(client.get(QUEUE)))
    page = main(text(client.get(QUEUE + "?show=decided")))
    assert f"{submitted.reference} Mobile library, Thanet" in page and "Rejected" in page


@pytest.mark.parametrize("kind", USER_KINDS)
def test_only_procurement_officers_see_the_list_to_decide(client, as_user, kind):
    become(as_user, kind)
    expect_status(client.get(QUEUE), kind, kind == "officer")


# Deciding -----------------------------------------------------------------------------------------------

def decision_form(decision: str = "accepted", lead=None, **overrides) -> dict:
    data = {"decision": decision, "modification": "", "ground": "", "reasons": "It meets every requirement.",
            "lead_commissioner": str(lead.id) if lead else ""}
    return {**data, **overrides}


@pytest.fixture()
def lead():
    return commissioner(full_name="Cara Lead", email="cara@kent.example")


def test_an_officer_accepts_and_a_draft_opportunity_is_created_for_the_lead_commissioner(client, as_officer, lead,
                                                                                         submitted, mailbox):
    page = text(client.get(decide_url(submitted)))
    assert "Cara Lead (cara@kent.example)" in page

    response = client.submit(decide_url(submitted), decision_form(lead=lead))

    assert (response.status_code, path_of(response)) == (302, proposal_url(submitted))
    [proposal] = proposals()
    opportunity = db.session.get(Opportunity, proposal.opportunity_id)
    assert (proposal.status, opportunity.status, opportunity.created_by_id) == ("accepted", "draft", lead.id)
    page = main(text(client.get(path_of(response))))
    assert "Your decision on" in page and "Decision Accepted" in page
    assert f"draft opportunity {opportunity.reference}, Mobile library, Thanet" in page
    assert "Decision: Accepted" in mailbox.last_body("proposer@example.org")


def test_an_officer_accepts_with_a_modification_the_proposer_agreed(client, as_officer, lead, submitted):
    client.submit(decide_url(submitted), decision_form("accepted_modified", lead, modification="Two depots.",
                                                       modification_agreed="y"))
    [proposal] = proposals()
    assert (proposal.status, proposal.modification, proposal.modification_agreed) == (
        "accepted_modified", "Two depots.", True)


def test_an_officer_rejects_on_a_ground_with_reasons(client, as_officer, submitted, mailbox):
    response = client.submit(decide_url(submitted), decision_form(
        "rejected", ground="frivolous_vexatious", reasons="The same proposal was made and rejected last month."))

    assert response.status_code == 302
    [proposal] = proposals()
    assert (proposal.status, proposal.decision_ground, proposal.opportunity_id) == (
        "rejected", "frivolous_vexatious", None)
    assert "Ground: The expression of interest is frivolous or vexatious" in mailbox.last_body(
        "proposer@example.org")


@pytest.mark.parametrize("decision, changes, field, message", [
    ("", {}, "decision", "Select whether to accept or reject the proposal"),
    ("later", {}, "decision", "Select from the options shown"),
    ("rejected", {}, "ground", "Select the ground for rejecting the proposal"),
    ("rejected", {"ground": "because"}, "ground", "Select a ground from the list"),
    ("accepted", {"lead_commissioner": ""}, "lead_commissioner",
     "Select the commissioner who will lead the procurement"),
    ("accepted", {"lead_commissioner": "999"}, "lead_commissioner", "Select a commissioner from the list"),
    ("accepted", {"lead_commissioner": "abc"}, "lead_commissioner", "Select a commissioner from the list"),
    ("accepted_modified", {"modification": "Two depots."}, "modification_agreed",
     "Confirm the proposer has agreed the modification"),
    ("accepted_modified", {"modification_agreed": "y"}, "modification",
     "Describe the modification the proposer agreed"),
    ("accepted_modified", {"modification": "m" * 1501, "modification_agreed": "y"}, "modification",
     "The agreed modification must be 1,500 characters or fewer"),
    ("accepted", {"reasons": ""}, "reasons", "Enter the reasons for the decision: they are published"),
    ("accepted", {"reasons": "r" * 5001}, "reasons", "Reasons for the decision must be 5,000 characters or fewer"),
])
def test_bad_decision_input_is_explained_next_to_the_field_and_decides_nothing(client, as_officer, lead, submitted,
                                                                               mailbox, decision, changes, field,
                                                                               message):
    response = client.submit(decide_url(submitted), decision_form(decision, lead, **changes))

    page = text(response)
    assert response.status_code == 200
    assert "There is a problem" in page
    assert field_error(page, field) == message
    assert proposals()[0].status == "submitted"
    assert mailbox.messages == []


def test_the_decision_form_keeps_what_was_typed_and_shows_html_as_text(client, as_officer, lead, submitted):
    page = text(client.submit(decide_url(submitted), decision_form(
        "rejected", lead, reasons="<script>alert(1)</script>")))
    assert "<script>alert(1)</script>" not in page
    assert textarea_value(page, "reasons") == "<script>alert(1)</script>"
    assert 'value="rejected" checked' in page


@pytest.mark.parametrize("kind", USER_KINDS)
def test_only_procurement_officers_reach_the_decision_form(client, as_user, submitted, kind):
    become(as_user, kind)
    expect_status(client.get(decide_url(submitted)), kind, kind == "officer")


def test_an_officer_cannot_decide_their_own_proposal(client, as_officer, service, in_request):
    own = in_request(make_proposal, as_officer, service, proposer_type="staff_group")
    assert client.get(decide_url(own)).status_code == 403
    assert "Decide this expression of interest" not in text(client.get(proposal_url(own)))


def test_a_decided_proposal_cannot_be_decided_again(client, as_officer, lead, submitted, in_request):
    in_request(services.decide, officer(), submitted, reject())
    assert client.get(decide_url(submitted)).status_code == 403


# The public register ------------------------------------------------------------------------------------

def test_the_register_publishes_decisions_and_reasons_but_not_business_cases(client, proposer, service, lead,
                                                                            in_request):
    accepted = in_request(make_proposal, proposer, service)
    staff_group = in_request(make_proposal, commissioner(), service, proposer_type="staff_group",
                             outcomes="<b>Shorter</b> waits.")
    waiting = in_request(make_proposal, proposer, service)
    decider = officer()
    in_request(services.decide, decider, accepted, accept(lead, reasons="A strong proposal."))
    in_request(services.decide, decider, staff_group, reject("no_wellbeing", reasons="No <em>benefit</em>."))

    page = text(client.get(REGISTER))
    body = main(page)

    assert "2 decisions, latest first." in body
    assert (f"Mobile library, Thanet: rejected Reference {staff_group.reference} Proposed by A group of council "
            f"employees Decision Rejected Date of decision {uk(services.today())} Ground The proposal would not "
            "promote or improve the social, economic or environmental well-being of the area Reasons No <em>benefit"
            "</em>. Outcomes proposed <b>Shorter</b> waits.") in body
    assert (f"Mobile library, Thanet: accepted Reference {accepted.reference} Proposed by Thanet Community "
            "Transport Decision Accepted") in body
    assert "A strong proposal." in body
    assert "<em>benefit</em>" not in page and "<b>Shorter</b>" not in page
    assert waiting.reference not in body
    for private in (CASE["staffing"], CASE["capability"], EFFECT, "Anne Smith"):
        assert private not in body


def test_the_register_is_paginated(client, app, proposer, service, in_request):
    decider = officer()
    for _ in range(app.config["PAGE_SIZE"] + 1):
        in_request(services.decide, decider, in_request(make_proposal, proposer, service), reject())
    assert 'class="govuk-pagination' in text(client.get(REGISTER))
    second_page = text(client.get(REGISTER + "?page=2"))
    assert f"{app.config['PAGE_SIZE'] + 1} decisions, latest first." in second_page
    assert second_page.count('class="govuk-summary-card"') == 1


# Across the pages ---------------------------------------------------------------------------------------

def count_queries(client, url: str) -> int:
    statements = []

    def record(*_args):
        statements.append(1)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert client.get(url).status_code == 200
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    return len(statements)


@pytest.mark.parametrize("url", [CATALOGUE, REGISTER, MINE, QUEUE, QUEUE + "?show=decided"])
def test_list_pages_make_the_same_number_of_queries_whatever_the_number_of_rows(client, as_user, proposer,
                                                                               in_request, url):
    reader = officer() if url.startswith(QUEUE) else proposer
    decider = officer()

    def add_rows(count: int) -> None:
        for number in range(count):
            entry = make_service(f"Service {number}")
            for decided in (False, True):
                proposal = in_request(make_proposal, proposer, entry)
                if decided:
                    in_request(services.decide, decider, proposal, reject())

    add_rows(1)
    as_user(reader)
    few = count_queries(client, url)
    add_rows(4)
    assert count_queries(client, url) == few


@pytest.mark.parametrize("url", [NEW_SERVICE, "edit", "propose", "decide"])
def test_every_form_refuses_a_post_without_the_csrf_token(client, as_officer, submitted, lead, url):
    url = {"edit": f"/right-to-bid/services/{submitted.service_id}/edit", "propose": propose_url(submitted.service),
           "decide": decide_url(submitted)}.get(url, url)
    data = {**service_form(), **proposal_form("staff_group"), **decision_form(lead=lead)}
    assert client.post(url, data=data).status_code == 400
    assert proposals()[0].status == "submitted" and len(proposals()) == 1
    assert actions() == ["right_to_bid.proposed"]


def test_the_navigation_links_to_the_right_to_bid(client):
    assert 'href="/right-to-bid"' in text(client.get("/"))
