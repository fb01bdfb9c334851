"""Panel use cases on a real database: the conflicts assessment that approval needs, assigning and replacing
evaluators and the moderator, conflict declarations with their mitigation, and a member's own panels. The
builders here are shared by the opening, compliance and functional evaluation tests."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from marketplace.audit import AuditEvent, verify_database
from marketplace.errors import DomainError
from marketplace.evaluation import access, compliance, opening, panel, panel_rules, results
from marketplace.evaluation.models import EVALUATOR, MODERATOR, ConflictsAssessment, PanelMember
from marketplace.extensions import db
from marketplace.opportunities import lifecycle, services
from marketplace.opportunities.models import Opportunity
from marketplace.opportunities.services import NotAllowed
from marketplace.timeutil import utcnow
from tests.builders import closed_with_bids, make_opportunity
from tests.factories import StaffFactory, provider
from tests.integration.test_opportunity_services import ASSESSMENT, ready_draft
from tests.staff_fixtures import author, officer, request_context  # noqa: F401 (fixtures)


# Builders (used by the other evaluation tests too) ---------------------------------------------------------

def staff(name: str, *roles: str):
    return StaffFactory(roles=list(roles or ["commissioner"]), full_name=name)


def criteria_ids(opportunity) -> list[int]:
    return [c.id for c in results.people_scored(results.evaluation_criteria(opportunity))]


def seat(officer, opportunity, person, role: str = EVALUATOR, criteria=()) -> PanelMember:
    return panel.assign(officer, opportunity, panel.Assignment(person.id, role, tuple(criteria)))


def full_panel(officer, opportunity, *evaluators, moderator=None) -> None:
    """Evaluators scoring every criterion, and the moderator (the first evaluator unless given)."""
    for person in evaluators:
        seat(officer, opportunity, person, criteria=criteria_ids(opportunity))
    seat(officer, opportunity, moderator or evaluators[0], MODERATOR)


def declare_clear(opportunity, *people) -> None:
    for person in people:
        panel.declare(person, opportunity, False, "")


def opened(officer, author, **overrides):
    """A closed opportunity with three sealed bids (prices 120k, 100k, 135k), opened by the officer."""
    opportunity, bids = closed_with_bids(author, **overrides)
    opening.open_bids(officer, opportunity)
    return opportunity, bids


def pass_all(opportunity, row: compliance.OpenedBid) -> dict[str, compliance.Answer]:
    return {item.key: compliance.Answer(item.key, True, "") for item in compliance.items_for(opportunity, row.content)}


def comply_all(officer, opportunity, excluded: tuple[int, ...] = ()) -> None:
    """A compliance decision on every opened bid: compliant, except the bid ids in `excluded`."""
    for row in compliance.opened_bids(opportunity.id):
        keep = row.bid.id not in excluded
        compliance.record(officer, opportunity, row, pass_all(opportunity, row), keep,
                          "" if keep else "No safeguarding policy")


def released(officer, author, evaluators, moderator=None, excluded: tuple[int, ...] = ()):
    """Opened, every bid decided, a full panel that has declared no conflicts, bids released."""
    opportunity, bids = opened(officer, author)
    comply_all(officer, opportunity, excluded)
    full_panel(officer, opportunity, *evaluators, moderator=moderator)
    declare_clear(opportunity, *{p.id: p for p in [*evaluators, *([moderator] if moderator else [])]}.values())
    compliance.release(officer, opportunity)
    return opportunity, bids


def events(action: str) -> list[AuditEvent]:
    return list(db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.id)).scalars())


def members(opportunity) -> list[PanelMember]:
    db.session.expire_all()
    return list(db.session.execute(sa.select(PanelMember).where(PanelMember.opportunity_id == opportunity.id)
                                   .order_by(PanelMember.id)).scalars())


@pytest.fixture()
def evaluators():
    return staff("Eve Evaluator"), staff("Sol Scorer"), staff("Mo Moderator", "procurement_officer")


@pytest.fixture()
def open_for_bids(author):
    """Published, bids due in ten days."""
    return make_opportunity(author)


# The conflicts assessment ----------------------------------------------------------------------------------

def test_approval_is_refused_until_a_procurement_officer_records_the_conflicts_assessment(author, officer):
    opportunity = ready_draft(author)
    services.submit_for_approval(author, opportunity, opportunity.version)
    with pytest.raises(services.NoConflictsAssessment, match="Record the conflicts assessment"):
        services.approve(officer, opportunity, opportunity.version)
    db.session.expire_all()
    assert db.session.get(Opportunity, opportunity.id).status == lifecycle.AWAITING_APPROVAL
    assert not events("opportunity.approve")

    panel.record_conflicts_assessment(officer, opportunity, ASSESSMENT)
    assert services.approve(officer, opportunity, opportunity.version).status == lifecycle.PUBLISHED


def test_the_assessment_records_who_prepared_it_the_interests_and_their_management_and_is_audited(author, officer):
    opportunity = ready_draft(author)
    parts = {"prepared_by": "Chris", "interests": "Chris volunteers for a likely bidder",
             "management": "Chris takes no part in the evaluation"}
    panel.record_conflicts_assessment(officer, opportunity, parts)
    stored = access.conflicts_assessment_of(opportunity.id)
    assert panel_rules.split_assessment(stored.summary) == parts
    assert stored.recorded_by_id == officer.id
    [event] = events("evaluation.conflicts_assessment_recorded")
    assert event.details["summary"] == stored.summary and event.actor_id == officer.id


def test_changing_the_assessment_before_publication_keeps_one_record_and_audits_the_change(author, officer):
    opportunity = ready_draft(author)
    panel.record_conflicts_assessment(officer, opportunity, ASSESSMENT)
    panel.record_conflicts_assessment(officer, opportunity, {**ASSESSMENT, "interests": "One found since"})
    rows = db.session.execute(sa.select(ConflictsAssessment)).scalars().all()
    assert len(rows) == 1 and "One found since" in rows[0].summary
    assert len(events("evaluation.conflicts_assessment_changed")) == 1


def test_each_part_of_the_assessment_is_required(author, officer):
    opportunity = ready_draft(author)
    with pytest.raises(DomainError, match="Enter how they are managed") as refused:
        panel.record_conflicts_assessment(officer, opportunity, {**ASSESSMENT, "management": "  "})
    assert refused.value.field == "management"
    assert access.conflicts_assessment_of(opportunity.id) is None


def test_a_commissioner_cannot_record_the_assessment_and_a_published_one_no_longer_changes(author, officer):
    opportunity = ready_draft(author)
    with pytest.raises(NotAllowed):
        panel.record_conflicts_assessment(author, opportunity, ASSESSMENT)
    panel.record_conflicts_assessment(officer, opportunity, ASSESSMENT)
    opportunity.status = lifecycle.PUBLISHED
    db.session.commit()
    with pytest.raises(NotAllowed):
        panel.record_conflicts_assessment(officer, opportunity, {**ASSESSMENT, "interests": "Rewritten"})
    assert "Rewritten" not in access.conflicts_assessment_of(opportunity.id).summary


# Assigning ------------------------------------------------------------------------------------------------------

def test_an_officer_assigns_evaluators_and_a_moderator_who_are_emailed(officer, open_for_bids, evaluators, mailbox):
    eve, sol, mo = evaluators
    quality = criteria_ids(open_for_bids)[0]
    seat(officer, open_for_bids, eve, criteria=[quality])
    seat(officer, open_for_bids, sol, criteria=criteria_ids(open_for_bids))
    seat(officer, open_for_bids, mo, MODERATOR)
    rows = members(open_for_bids)
    assert [(m.user_id, m.role, m.criterion_ids) for m in rows] == [
        (eve.id, EVALUATOR, [quality]), (sol.id, EVALUATOR, []), (mo.id, MODERATOR, [])]
    assert all(m.assigned_by_id == officer.id for m in rows)
    body = mailbox.last_body(eve.email)
    assert open_for_bids.reference in body and "How you will deliver the service" in body
    assert "Social value" not in body and f"/commissioning/{open_for_bids.id}/evaluation/declaration" in body
    assert "moderator" in mailbox.last_body(mo.email)
    assert [e.details["role"] for e in events("evaluation.panel_member_assigned")] == [EVALUATOR, EVALUATOR,
                                                                                     MODERATOR]


def test_a_moderator_who_would_be_the_only_evaluator_is_refused(officer, open_for_bids, evaluators):
    eve, sol, _ = evaluators
    seat(officer, open_for_bids, eve)
    with pytest.raises(DomainError, match="cannot also be the only evaluator") as refused:
        seat(officer, open_for_bids, eve, MODERATOR)
    assert refused.value.field == MODERATOR
    seat(officer, open_for_bids, sol)
    seat(officer, open_for_bids, eve, MODERATOR)
    assert {(m.user_id, m.role) for m in members(open_for_bids)} == {(eve.id, EVALUATOR), (sol.id, EVALUATOR),
                                                                     (eve.id, MODERATOR)}


def test_an_evaluator_must_score_at_least_one_criterion(officer, open_for_bids, evaluators):
    with pytest.raises(DomainError, match="Select at least one criterion"):
        panel.assign(officer, open_for_bids, panel.Assignment(evaluators[0].id, EVALUATOR, (999,)))
    assert members(open_for_bids) == []


@pytest.mark.parametrize("who", ["administrator", "provider", "deactivated"])
def test_only_active_council_commissioners_and_officers_sit_on_a_panel(officer, open_for_bids, who):
    person = {"administrator": lambda: staff("Ada", "administrator"), "provider": lambda: provider(),
              "deactivated": lambda: StaffFactory(roles=["commissioner"], deactivated_at=utcnow())}[who]()
    with pytest.raises(DomainError, match="Choose a member of council staff"):
        seat(officer, open_for_bids, person)
    assert members(open_for_bids) == []


def test_a_panel_cannot_be_set_up_before_publication_nor_by_a_commissioner(author, officer, evaluators):
    draft = ready_draft(author)
    with pytest.raises(NotAllowed):
        seat(officer, draft, evaluators[0])
    with pytest.raises(NotAllowed):
        seat(author, make_opportunity(author), evaluators[0])


def test_nobody_is_assigned_after_moderation_is_complete(officer, author, evaluators):
    eve, sol, mo = evaluators
    opportunity, _ = released(officer, author, [eve, sol], moderator=mo)
    evaluation = access.evaluation_of(opportunity.id)
    evaluation.moderation_completed_at = utcnow()
    db.session.commit()
    with pytest.raises(DomainError, match="Moderation is complete"):
        seat(officer, opportunity, staff("Late Larry"))


def test_replacing_a_member_keeps_their_row_with_the_reason_and_seats_the_replacement(officer, open_for_bids,
                                                                                    evaluators, mailbox):
    eve, sol, mo = evaluators
    quality = criteria_ids(open_for_bids)[0]
    seat(officer, open_for_bids, eve, criteria=[quality])
    leaving = seat(officer, open_for_bids, sol)
    seat(officer, open_for_bids, mo, MODERATOR)
    newcomer = staff("Nia Newcomer")
    evicted = [m for m in members(open_for_bids) if m.user_id == eve.id][0]
    panel.replace(officer, open_for_bids, evicted, "Declared a link with a bidder", newcomer.id)
    rows = {(m.user_id, m.role): m for m in members(open_for_bids)}
    old, new = rows[(eve.id, EVALUATOR)], rows[(newcomer.id, EVALUATOR)]
    assert old.removed_at is not None and old.removed_reason == "Declared a link with a bidder"
    assert new.removed_at is None and new.criterion_ids == [quality]
    assert "Declared a link with a bidder" in mailbox.last_body(eve.email)
    assert open_for_bids.reference in mailbox.last_body(newcomer.email)
    assert [m.user_id for m in access.current_panel(open_for_bids.id)] == [mo.id, sol.id, newcomer.id]
    [event] = events("evaluation.panel_member_removed")
    assert event.details["replaced_by"] == newcomer.id
    with pytest.raises(DomainError, match="cannot return in that role"):
        seat(officer, open_for_bids, eve)
    assert leaving.removed_at is None


def test_taking_off_the_only_other_evaluator_is_refused_when_the_moderator_would_score_alone(officer, open_for_bids,
                                                                                           evaluators):
    eve, sol, _ = evaluators
    seat(officer, open_for_bids, eve)
    other = seat(officer, open_for_bids, sol)
    seat(officer, open_for_bids, eve, MODERATOR)
    with pytest.raises(DomainError, match="cannot also be the only evaluator"):
        panel.replace(officer, open_for_bids, other, "Left the council")
    assert all(m.removed_at is None for m in members(open_for_bids))
    with pytest.raises(DomainError, match="Give the reason"):
        panel.replace(officer, open_for_bids, other, " ", staff("Someone").id)


# Declarations ---------------------------------------------------------------------------------------------------

@pytest.fixture()
def closed(author):
    """A closed opportunity with three sealed bids, not yet opened."""
    return closed_with_bids(author)


def test_declarations_open_only_at_the_deadline(officer, open_for_bids, evaluators):
    eve = evaluators[0]
    seat(officer, open_for_bids, eve)
    with pytest.raises(DomainError, match="Declarations open when bids close"):
        panel.declare(eve, open_for_bids, False, "")
    assert access.declaration_of(eve, open_for_bids.id) is None


def test_a_member_sees_the_bidders_names_and_declares_once(officer, closed, evaluators):
    opportunity, bids = closed
    eve = evaluators[0]
    seat(officer, opportunity, eve)
    assert panel.bidder_names(opportunity.id) == ["Bidder 1 Community Interest Company",
                                                  "Bidder 2 Community Interest Company",
                                                  "Bidder 3 Community Interest Company"]
    panel.declare(eve, opportunity, False, "")
    with pytest.raises(panel.AlreadyDeclared):
        panel.declare(eve, opportunity, True, "Changed my mind")
    declaration = access.declaration_of(eve, opportunity.id)
    assert (declaration.has_conflict, declaration.details) == (False, "")
    assert [e.details["has_conflict"] for e in events("evaluation.conflict_declared")] == [False]


def test_only_panel_members_declare_and_a_conflict_needs_details(officer, closed, evaluators):
    opportunity, _ = closed
    eve, sol, _ = evaluators
    seat(officer, opportunity, eve)
    with pytest.raises(NotAllowed):
        panel.declare(sol, opportunity, False, "")
    with pytest.raises(DomainError, match="Give details") as refused:
        panel.declare(eve, opportunity, True, "  ")
    assert refused.value.field == "details"


def test_a_declared_conflict_keeps_the_member_out_until_another_officer_mitigates_it(officer, author, evaluators,
                                                                                     mailbox):
    eve, sol, mo = evaluators
    opportunity, _ = opened(officer, author)
    comply_all(officer, opportunity)
    full_panel(officer, opportunity, eve, sol, moderator=mo)
    panel.declare(eve, opportunity, True, "My sister runs Bidder 2")
    assert "declared a conflict of interest" in mailbox.last_body(officer.email)
    declare_clear(opportunity, sol, mo)
    with pytest.raises(compliance.ReleaseRefused, match="Eve Evaluator declared a conflict"):
        compliance.release(officer, opportunity)
    declaration = access.declaration_of(eve, opportunity.id)
    with pytest.raises(NotAllowed):  # a procurement officer on the panel cannot clear their own conflict either
        panel.mitigate(eve, opportunity, declaration, "Fine")
    panel.mitigate(officer, opportunity, declaration, "Scores no criterion of Bidder 2's bid alone")
    assert "Scores no criterion" in mailbox.last_body(eve.email)
    compliance.release(officer, opportunity)
    assert access.cleared_member(eve, opportunity.id, EVALUATOR) is not None
    assert events("evaluation.conflict_mitigated")[0].details["user_id"] == eve.id


def test_a_procurement_officer_cannot_mitigate_their_own_declared_conflict(author, officer, evaluators):
    opportunity, _ = closed_with_bids(author)
    mo = evaluators[2]  # a procurement officer
    seat(officer, opportunity, mo)
    panel.declare(mo, opportunity, True, "I advised Bidder 1 last year")
    with pytest.raises(NotAllowed):
        panel.mitigate(mo, opportunity, access.declaration_of(mo, opportunity.id), "It is fine")


def test_a_conflict_found_later_revokes_access_until_mitigated_and_keeps_the_first_words(officer, author,
                                                                                         evaluators):
    eve, sol, mo = evaluators
    opportunity, _ = released(officer, author, [eve, sol], moderator=mo)
    assert access.cleared_member(sol, opportunity.id, EVALUATOR) is not None
    panel.declare_later_conflict(sol, opportunity, "Bidder 3 has offered me a job")
    assert access.cleared_member(sol, opportunity.id, EVALUATOR) is None
    declaration = access.declaration_of(sol, opportunity.id)
    assert declaration.has_conflict and "Bidder 3 has offered me a job" in declaration.details
    panel.mitigate(officer, opportunity, declaration, "Offer declined in writing")
    panel.declare_later_conflict(sol, opportunity, "And Bidder 1 is my landlord")
    declaration = access.declaration_of(sol, opportunity.id)
    assert "offered me a job" in declaration.details and "my landlord" in declaration.details
    assert declaration.mitigation is None
    assert access.cleared_member(sol, opportunity.id, EVALUATOR) is None
    added = events("evaluation.conflict_added")
    assert [e.details["previous_mitigation"] for e in added] == [None, "Offer declined in writing"]
    assert verify_database().ok


# A member's own panels ------------------------------------------------------------------------------------

def test_each_place_on_a_panel_comes_with_its_next_step(officer, author, evaluators):
    eve, sol, mo = evaluators
    upcoming = make_opportunity(author)
    seat(officer, upcoming, eve)
    live, _ = released(officer, author, [eve, sol], moderator=mo)
    places = db.session.execute(panel.my_panels_statement(eve)).scalars().all()
    rows = panel.panel_rows(eve, places, utcnow())
    steps = {(row.opportunity.id, row.member.role): row.step for row in rows}
    assert steps == {(upcoming.id, EVALUATOR): panel_rules.DECLARE_LATER, (live.id, EVALUATOR): panel_rules.SCORE}
    assert [row.step for row in panel.panel_rows(mo, db.session.execute(
        panel.my_panels_statement(mo)).scalars().all(), utcnow())] == [panel_rules.MODERATE]


def test_a_replaced_member_no_longer_sees_the_panel_in_their_list(officer, open_for_bids, evaluators):
    eve, sol, _ = evaluators
    seat(officer, open_for_bids, sol)
    member = seat(officer, open_for_bids, eve)
    panel.replace(officer, open_for_bids, member, "Moved to another team")
    assert db.session.execute(panel.my_panels_statement(eve)).scalars().all() == []


def test_the_panel_state_says_what_is_missing(officer, open_for_bids, evaluators):
    eve = evaluators[0]
    quality = criteria_ids(open_for_bids)[0]
    seat(officer, open_for_bids, eve, criteria=[quality])
    state = panel.panel_state(open_for_bids)
    assert state.structure_problems == ["No evaluator scores ‘Social value for Kent residents’: assign one",
                                        "Assign a moderator"]
    assert state.undeclared == ["Eve Evaluator"]
    assert [c.title for c in state.criteria_of(state.members[0])] == ["How you will deliver the service"]
