"""Evaluation pages over HTTP for the conflicts assessment, the panel, conflict declarations and a staff
member's own panels: who sees what (everyone else gets 404), what each form refuses and keeps, and the
database after each request."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa

from marketplace.evaluation import access, panel, panel_rules
from marketplace.evaluation.models import EVALUATOR, MODERATOR, PanelMember
from marketplace.extensions import db
from marketplace.opportunities import lifecycle, services
from marketplace.opportunities.models import Opportunity
from tests.builders import closed_with_bids, make_opportunity
from tests.factories import provider
from tests.integration.test_evaluation_panel import (
    criteria_ids,
    declare_clear,
    full_panel,
    opened,
    released,
    seat,
    staff,
)
from tests.integration.test_opportunity_services import ready_draft
from tests.staff_fixtures import author, officer, request_context  # noqa: F401 (fixtures)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def evaluation(opportunity, suffix: str = "") -> str:
    return f"/commissioning/{opportunity.id}/evaluation{suffix}"


def reload(opportunity) -> Opportunity:
    db.session.expire_all()
    return db.session.get(Opportunity, opportunity.id)


@pytest.fixture()
def eve():
    return staff("Eve Evaluator")


@pytest.fixture()
def sol():
    return staff("Sol Scorer")


# The conflicts assessment and approval ---------------------------------------------------------------------

def test_approval_without_an_assessment_is_refused_with_a_link_to_record_it(client, as_user, author, officer):
    opportunity = ready_draft(author)
    services.submit_for_approval(author, opportunity, opportunity.version)
    as_user(officer)
    overview = text(client.get(f"/commissioning/{opportunity.id}"))
    assert "cannot be approved until a procurement officer records its conflicts assessment" in overview
    response = client.submit(f"/commissioning/{opportunity.id}/approve", {"version": str(opportunity.version)},
                             page_url=f"/commissioning/{opportunity.id}", follow_redirects=True)
    raw = response.get_data(as_text=True)  # not unescaped: the link must be markup, not shown as text
    assert "Record the conflicts assessment before you approve this opportunity" in raw
    assert (f'<a class="govuk-notification-banner__link" href="/commissioning/{opportunity.id}/evaluation/'
            'conflicts-assessment">Record the conflicts assessment</a>') in raw
    assert reload(opportunity).status == lifecycle.AWAITING_APPROVAL


def test_the_officer_records_the_assessment_then_approves(client, as_user, author, officer, mailbox):
    opportunity = ready_draft(author)
    services.submit_for_approval(author, opportunity, opportunity.version)
    as_user(officer)
    form_page = text(client.get(evaluation(opportunity, "/conflicts-assessment")))
    assert "Chris Commissioner, commissioner" in form_page  # who prepared it, suggested
    response = client.submit(evaluation(opportunity, "/conflicts-assessment"), {
        "prepared_by": "Chris Commissioner, commissioner", "interests": "None known",
        "management": "Nothing to manage"}, follow_redirects=True)
    assert "The conflicts assessment is recorded. You can now approve and publish" in text(response)
    assert "Check or change the conflicts assessment" in text(response)
    response = client.submit(f"/commissioning/{opportunity.id}/approve", {"version": str(reload(opportunity).version)},
                             page_url=f"/commissioning/{opportunity.id}", follow_redirects=True)
    assert "approved and published" in text(response)
    assert reload(opportunity).status == lifecycle.PUBLISHED


def test_a_blank_part_of_the_assessment_is_refused_and_what_was_typed_stays(client, as_user, author, officer):
    opportunity = ready_draft(author)
    as_user(officer)
    response = client.submit(evaluation(opportunity, "/conflicts-assessment"), {
        "prepared_by": "Chris", "interests": "Chris chairs a likely bidder", "management": " "})
    body = text(response)
    assert response.status_code == 200 and "There is a problem" in body
    assert 'href="#management">Enter how they are managed' in body
    assert "Chris chairs a likely bidder" in body
    assert access.conflicts_assessment_of(opportunity.id) is None


def test_a_commissioner_cannot_reach_the_assessment_page(client, as_user, author):
    opportunity = ready_draft(author)
    as_user(author)
    assert client.get(evaluation(opportunity, "/conflicts-assessment")).status_code == 404


# Who sees the evaluation ------------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", ["", "/panel", "/opening", "/conflicts-assessment", "/declaration"])
def test_providers_and_staff_off_the_panel_get_404(client, as_user, author, suffix):
    opportunity = make_opportunity(author)
    as_user(provider())
    assert client.get(evaluation(opportunity, suffix)).status_code == 404
    as_user(author)  # the commissioner who wrote it, but not on its panel
    assert client.get(evaluation(opportunity, suffix)).status_code == 404


def test_a_panel_member_sees_the_overview_with_their_own_task_but_not_the_management_pages(client, as_user, author,
                                                                                           officer, eve):
    opportunity = make_opportunity(author)
    seat(officer, opportunity, eve)
    as_user(eve)
    body = text(client.get(evaluation(opportunity)))
    assert "Declare conflicts of interest" in body and "Declarations open when bids close" in body
    assert f'href="{evaluation(opportunity, "/panel")}"' not in body
    assert client.get(evaluation(opportunity, "/panel")).status_code == 404
    assert client.get(evaluation(opportunity, "/opening")).status_code == 404


def test_the_staff_opportunity_page_links_officers_to_the_evaluation_once_published(client, as_user, author,
                                                                                    officer):
    opportunity = make_opportunity(author)
    as_user(officer)
    assert f'href="{evaluation(opportunity)}"' in text(client.get(f"/commissioning/{opportunity.id}"))
    body = text(client.get(evaluation(opportunity)))
    assert "Conflicts assessment" in body and "Not recorded" in body and "Open the bids" in body


# The panel ----------------------------------------------------------------------------------------------------

def test_an_officer_adds_an_evaluator_for_some_criteria_and_a_moderator(client, as_user, author, officer, eve, sol,
                                                                       mailbox):
    opportunity = make_opportunity(author)
    quality = criteria_ids(opportunity)[0]
    as_user(officer)
    page = text(client.get(evaluation(opportunity, "/panel")))
    assert "Nobody is on the panel yet" in page and "Assign a moderator" in page
    response = client.submit(evaluation(opportunity, "/panel/evaluators"),
                             {"evaluator": str(eve.id), "criteria": [str(quality)]},
                             page_url=evaluation(opportunity, "/panel"), follow_redirects=True)
    assert "Eve Evaluator is added to the panel as an evaluator" in text(response)
    response = client.submit(evaluation(opportunity, "/panel/moderator"), {"moderator": str(sol.id)},
                             page_url=evaluation(opportunity, "/panel"), follow_redirects=True)
    body = text(response)
    assert "Sol Scorer is the moderator" in body
    assert "No evaluator scores ‘Social value for Kent residents’: assign one" in body
    rows = db.session.execute(sa.select(PanelMember).order_by(PanelMember.id)).scalars().all()
    assert [(m.user_id, m.role, m.criterion_ids) for m in rows] == [(eve.id, EVALUATOR, [quality]),
                                                                     (sol.id, MODERATOR, [])]
    assert mailbox.to(eve.email) and mailbox.to(sol.email)


def test_the_moderator_as_only_evaluator_is_refused_beside_the_field(client, as_user, author, officer, eve):
    opportunity = make_opportunity(author)
    seat(officer, opportunity, eve)
    as_user(officer)
    response = client.submit(evaluation(opportunity, "/panel/moderator"), {"moderator": str(eve.id)},
                             page_url=evaluation(opportunity, "/panel"))
    body = text(response)
    assert response.status_code == 200
    assert 'href="#moderator">Eve Evaluator is the moderator, so cannot also be the only evaluator' in body
    assert db.session.execute(sa.select(PanelMember).where(PanelMember.role == MODERATOR)).first() is None


@pytest.mark.parametrize("data, message", [
    ({"evaluator": ""}, "Choose the evaluator"),
    ({"evaluator": "999999"}, "Choose a person from the list"),
    ({"evaluator": "EVE"}, "Select at least one criterion for the evaluator to score"),
])
def test_bad_evaluator_input_is_refused_without_a_500(client, as_user, author, officer, eve, data, message):
    opportunity = make_opportunity(author)
    as_user(officer)
    data = {key: str(eve.id) if value == "EVE" else value for key, value in data.items()}
    response = client.submit(evaluation(opportunity, "/panel/evaluators"), data,
                             page_url=evaluation(opportunity, "/panel"))
    assert response.status_code == 200 and message in text(response)
    assert db.session.execute(sa.select(PanelMember)).first() is None


def test_replacing_a_member_needs_a_reason_and_keeps_the_old_place_on_record(client, as_user, author, officer, eve,
                                                                            sol):
    opportunity = make_opportunity(author)
    member = seat(officer, opportunity, eve)
    nia = staff("Nia Newcomer")
    as_user(officer)
    page = evaluation(opportunity, f"/panel/{member.id}/replace")
    response = client.submit(page, {"reason": "", "replacement": str(nia.id)})
    assert "Enter why they are leaving the panel" in text(response)
    response = client.submit(page, {"reason": "Moved to another team", "replacement": str(nia.id)},
                             follow_redirects=True)
    body = text(response)
    assert "Eve Evaluator is off the panel" in body and "Former members" in body and "Moved to another team" in body
    db.session.expire_all()
    assert db.session.get(PanelMember, member.id).removed_reason == "Moved to another team"
    assert [m.user_id for m in access.current_panel(opportunity.id)] == [nia.id]
    assert client.get(page).status_code == 404  # no longer on the panel


def test_another_opportunitys_panel_member_answers_404(client, as_user, author, officer, eve):
    first, second = make_opportunity(author), make_opportunity(author)
    member = seat(officer, first, eve)
    as_user(officer)
    assert client.get(evaluation(second, f"/panel/{member.id}/replace")).status_code == 404


# Declarations ------------------------------------------------------------------------------------------------

def test_before_the_deadline_a_member_sees_no_bidder_and_cannot_declare(client, as_user, author, officer, eve):
    opportunity = make_opportunity(author)
    seat(officer, opportunity, eve)
    as_user(eve)
    body = text(client.get(evaluation(opportunity, "/declaration")))
    assert "Declarations open when bids close" in body and 'id="bidders"' not in body
    response = client.submit(evaluation(opportunity, "/declaration"), {"conflict": "no"},
                             page_url=evaluation(opportunity, "/declaration"))
    assert "Declarations open when bids close" in text(response)
    assert access.declaration_of(eve, opportunity.id) is None


def test_after_the_deadline_a_member_sees_the_bidders_names_and_nothing_of_their_bids(client, as_user, author,
                                                                                     officer, eve):
    opportunity, bids = closed_with_bids(author)
    seat(officer, opportunity, eve)
    as_user(eve)
    body = text(client.get(evaluation(opportunity, "/declaration")))
    names = re.findall(r"<li>(Bidder \d Community Interest Company)</li>", body)
    assert names == [f"Bidder {n} Community Interest Company" for n in (1, 2, 3)]
    assert "120,000" not in body and "bidder-1" not in body and "Method statement" not in body


def test_a_declared_conflict_needs_details_and_then_waits_for_mitigation(client, as_user, author, officer, eve,
                                                                         mailbox):
    opportunity, _ = closed_with_bids(author)
    seat(officer, opportunity, eve)
    as_user(eve)
    page = evaluation(opportunity, "/declaration")
    response = client.submit(page, {"conflict": "yes", "details": ""})
    assert 'href="#details">Give details of the conflict of interest' in text(response)
    response = client.submit(page, {"conflict": "yes", "details": "My brother works for Bidder 2"},
                             follow_redirects=True)
    body = text(response)
    assert "A procurement officer must record how your conflict is managed" in body
    assert "Conflict: awaiting mitigation" in body and "My brother works for Bidder 2" in body
    declaration = access.declaration_of(eve, opportunity.id)
    assert declaration.has_conflict and declaration.mitigation is None
    assert "declared a conflict of interest" in mailbox.last_body(officer.email)

    as_user(officer)
    mitigate = evaluation(opportunity, f"/declarations/{declaration.id}/mitigate")
    assert "My brother works for Bidder 2" in text(client.get(evaluation(opportunity, "/panel")))
    response = client.submit(mitigate, {"mitigation": ""})
    assert "Say how the conflict is managed" in text(response)
    response = client.submit(mitigate, {"mitigation": "Does not score Bidder 2 alone"}, follow_redirects=True)
    assert "The mitigation is recorded" in text(response)
    assert access.declaration_of(eve, opportunity.id).mitigation == "Does not score Bidder 2 alone"


def test_declaring_twice_is_refused_and_a_later_conflict_is_added(client, as_user, author, officer, eve):
    opportunity, _ = closed_with_bids(author)
    seat(officer, opportunity, eve)
    panel.declare(eve, opportunity, False, "")
    as_user(eve)
    response = client.submit(evaluation(opportunity, "/declaration"), {"conflict": "yes", "details": "Later"},
                             page_url=evaluation(opportunity, "/declaration"))
    assert "You have already declared for this opportunity" in text(response)
    response = client.submit(evaluation(opportunity, "/declaration/later"), {"details": "Bidder 3 called me"},
                             page_url=evaluation(opportunity, "/declaration"), follow_redirects=True)
    assert "Your conflict is recorded" in text(response)
    declaration = access.declaration_of(eve, opportunity.id)
    assert declaration.has_conflict and "Bidder 3 called me" in declaration.details


def test_an_officer_cannot_mitigate_another_opportunitys_declaration(client, as_user, author, officer, eve):
    first, _ = closed_with_bids(author)
    second = make_opportunity(author)
    seat(officer, first, eve)
    panel.declare(eve, first, True, "A link")
    as_user(officer)
    declaration = access.declaration_of(eve, first.id)
    assert client.get(evaluation(second, f"/declarations/{declaration.id}/mitigate")).status_code == 404


# Your panels --------------------------------------------------------------------------------------------------

def test_your_panels_lists_each_place_with_its_next_step_and_is_in_the_navigation(client, as_user, author, officer,
                                                                                 eve, sol):
    upcoming = make_opportunity(author, title="Meals on wheels in Dover")
    seat(officer, upcoming, eve)
    live, _ = opened(officer, author, title="Community transport in Swale")
    full_panel(officer, live, eve, sol)
    declare_clear(live, sol)
    as_user(eve)
    body = text(client.get("/commissioning/evaluations"))
    assert 'href="/commissioning/evaluations"' in body and 'aria-current="page"' in body
    assert "Meals on wheels in Dover" in body and panel_rules.DECLARE_LATER.text in body
    assert f'href="{evaluation(live, "/declaration")}">Declare conflicts of interest' in body
    assert "3 panel places" in body  # an evaluator on both, and the moderator of the live one
    as_user(provider())
    assert client.get("/commissioning/evaluations").status_code == 404


def test_once_bids_are_released_your_panels_links_evaluators_to_scoring_and_the_moderator_to_moderation(
        client, as_user, author, officer, eve, sol):
    opportunity, _ = released(officer, author, [eve, sol], moderator=sol)
    as_user(eve)
    body = text(client.get("/commissioning/evaluations"))
    assert f'href="{evaluation(opportunity, "/scoring")}">Score the bids' in body
    as_user(sol)
    body = text(client.get("/commissioning/evaluations"))
    assert f'href="{evaluation(opportunity, "/moderation")}">Moderate the scores' in body
