"""Right-to-bid use cases on a real database: the catalogue, expressions of interest inside and outside their
windows, staff groups, decisions (who may, what each needs, the draft opportunity an acceptance starts), emails
and the audit trail."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from marketplace.audit import AuditEvent, verify_database
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.opportunities.models import EvaluationModel, Opportunity
from marketplace.right_to_bid import services
from marketplace.right_to_bid.models import CatalogueService, Proposal
from marketplace.settings import services as settings
from marketplace.timeutil import utcnow
from tests.factories import OrganisationFactory, StaffFactory, UserFactory, colleague, provider

# Helpers shared with the functional tests ---------------------------------------------------------------


def days(n: int) -> date:
    """n days from today (UK date)."""
    return services.today() + timedelta(days=n)


def make_service(name: str = "Mobile library, Thanet", opens: int = -10, closes: int = 10,
                 next_window: tuple[int, int] | None = None, **fields) -> CatalogueService:
    """A catalogue entry whose window opens and closes the given number of days from today."""
    service = CatalogueService(
        name=name, description="A van that takes books to villages.\nIt visits twelve stops a fortnight.",
        annual_cost=Decimal("180000.00"), locality="thanet", category="community-and-libraries",
        window_opens=days(opens), window_closes=days(closes),
        next_window_opens=days(next_window[0]) if next_window else None,
        next_window_closes=days(next_window[1]) if next_window else None, **fields)
    db.session.add(service)
    db.session.commit()
    return service


CASE = {
    "outcomes": "More people in rural Thanet borrow books.\nFewer people feel isolated.",
    "cost_and_savings": "We would run it for £150,000 a year, saving £30,000.",
    "staffing": "Two drivers and a librarian, all transferred.",
    "social_value": "Volunteers from each village help at the stops.",
    "capacity": "We run three community buses now.",
    "financial_resources": "Reserves of £90,000 and a grant from the Lottery.",
    "capability": "Ten years running community transport.",
}
EMPLOYEES = (("Anne Smith", "Library assistant"), ("Bob Jones", "Branch manager"))
EFFECT = "Two other employees would transfer with their terms protected."


def details(proposer_type: str = "charity", **overrides) -> services.ProposalDetails:
    fields = {**CASE, "proposer_type": proposer_type, "evidence": "Survey of 300 users."}
    if proposer_type == "staff_group":
        fields |= {"staff_members": EMPLOYEES, "effect_on_employees": EFFECT}
    return services.ProposalDetails(**(fields | overrides))


def make_proposal(user, service=None, proposer_type: str = "charity", **overrides) -> Proposal:
    return services.propose(user, service or make_service(), details(proposer_type, **overrides))


def officer(**fields):
    return StaffFactory(roles=["procurement_officer"], **fields)


def commissioner(**fields):
    return StaffFactory(roles=["commissioner"], **fields)


def accept(lead, **overrides) -> services.Decision:
    return services.Decision(**({"decision": "accepted", "reasons": "It meets every requirement.",
                                 "lead_commissioner_id": lead.id} | overrides))


def reject(ground: str = "already_procured", **overrides) -> services.Decision:
    return services.Decision(**({"decision": "rejected", "ground": ground,
                                 "reasons": "The service was put out to tender last month."} | overrides))


def audit_actions() -> list[str]:
    return list(db.session.execute(sa.select(AuditEvent.action).order_by(AuditEvent.id)).scalars())


def proposals() -> list[Proposal]:
    db.session.expire_all()
    return list(db.session.execute(sa.select(Proposal).order_by(Proposal.id)).scalars())


@pytest.fixture()
def ctx(app):
    """Emails carry links, so use cases run inside a request, as they do from the views."""
    with app.test_request_context():
        yield


@pytest.fixture()
def charity_user(ctx):
    return provider(OrganisationFactory(legal_name="Thanet Community Transport", org_type="charity"),
                    email="proposer@example.org")


# Expressions of interest -------------------------------------------------------------------------------

def test_a_charity_proposes_inside_the_window_and_the_decision_is_due_after_the_set_period(charity_user, mailbox):
    proposal = make_proposal(charity_user)

    [stored] = proposals()
    assert stored.id == proposal.id
    assert stored.reference == f"RTB-{services.today().year}-0001"
    assert (stored.status, stored.proposer_type) == ("submitted", "charity")
    assert stored.organisation_id == charity_user.membership.organisation_id
    assert stored.proposer_name == "Thanet Community Transport"
    assert stored.submitted_by_id == charity_user.id
    assert stored.decision_due == days(90)
    assert (stored.staff_members, stored.effect_on_employees) == ([], None)
    assert audit_actions() == ["right_to_bid.proposed"]
    assert verify_database().ok
    body = mailbox.last_body("proposer@example.org")
    assert stored.reference in body and "Mobile library, Thanet" in body
    assert f"decide it by {(days(90)).day} {days(90):%B %Y}" in body


def test_the_decision_period_comes_from_the_settings(charity_user):
    settings.update(officer(), {"right_to_bid_decision_days": "30"})
    assert make_proposal(charity_user).decision_due == days(30)


def test_references_are_numbered_in_order(charity_user):
    service = make_service()
    first, second = make_proposal(charity_user, service), make_proposal(charity_user, service)
    assert [first.reference[-4:], second.reference[-4:]] == ["0001", "0002"]


@pytest.mark.parametrize("opens, closes, next_window, message", [
    (5, 20, None, "The next window opens on {d5} and closes on {d20}."),
    (-30, -1, (40, 60), "The next window opens on {d40} and closes on {d60}."),
    (-30, -1, None, "No window is scheduled yet"),
])
def test_outside_the_window_a_proposal_is_refused_with_the_next_windows_dates(charity_user, mailbox, opens, closes,
                                                                              next_window, message):
    service = make_service(opens=opens, closes=closes, next_window=next_window)
    dates = {f"d{n}": f"{days(n).day} {days(n):%B %Y}" for n in (5, 20, 40, 60)}

    with pytest.raises(DomainError) as refused:
        make_proposal(charity_user, service)

    assert message.format(**dates) in refused.value.message
    assert refused.value.message.startswith("Expressions of interest for this service are not being accepted now.")
    assert proposals() == []
    assert audit_actions() == []
    assert mailbox.messages == []


@pytest.mark.parametrize("opens, closes", [(0, 5), (-5, 0)])
def test_the_first_and_last_days_of_a_window_are_inside_it(charity_user, opens, closes):
    assert make_proposal(charity_user, make_service(opens=opens, closes=closes)).status == "submitted"


def test_a_service_that_has_reopened_takes_proposals_in_its_next_window(charity_user):
    service = make_service(opens=-60, closes=-30, next_window=(-1, 30))
    assert make_proposal(charity_user, service).status == "submitted"


def test_the_window_is_judged_by_the_clock_when_the_proposal_is_committed(charity_user, monkeypatch):
    service = make_service(opens=-10, closes=0)
    tomorrow = services.utcnow() + timedelta(days=1)
    monkeypatch.setattr(services, "utcnow", lambda: tomorrow)

    with pytest.raises(DomainError, match="not being accepted now"):
        make_proposal(charity_user, service)


def test_a_group_of_council_employees_proposes_without_an_organisation(ctx, mailbox):
    staff = commissioner(email="anne@kent.example")

    proposal = make_proposal(staff, proposer_type="staff_group")

    assert proposal.organisation_id is None
    assert proposal.proposer_name == "A group of council employees"
    assert proposal.staff_members == [{"name": "Anne Smith", "job_title": "Library assistant"},
                                      {"name": "Bob Jones", "job_title": "Branch manager"}]
    assert proposal.effect_on_employees == EFFECT
    assert "A group of council employees" in mailbox.last_body("anne@kent.example")


def test_a_provider_user_may_propose_as_a_staff_group_and_it_is_not_tied_to_their_organisation(charity_user):
    proposal = make_proposal(charity_user, proposer_type="staff_group")
    assert (proposal.organisation_id, proposal.proposer_name) == (None, "A group of council employees")


@pytest.mark.parametrize("overrides, field, message", [
    ({"staff_members": EMPLOYEES[:1]}, "member_1_name", "List at least two council employees"),
    ({"staff_members": (EMPLOYEES[0], ("Bob Jones", ""))}, "member_1_name", "List at least two council employees"),
    ({"staff_members": ()}, "member_1_name", "List at least two council employees"),
    ({"effect_on_employees": ""}, "effect_on_employees", "Describe the effect of the proposal on other council"),
    ({"effect_on_employees": None}, "effect_on_employees", "Describe the effect of the proposal on other council"),
])
def test_a_staff_group_needs_two_employees_and_the_effect_on_other_employees(ctx, overrides, field, message):
    with pytest.raises(DomainError) as refused:
        make_proposal(commissioner(), proposer_type="staff_group", **overrides)
    assert (refused.value.field, refused.value.message.startswith(message)) == (field, True)
    assert proposals() == []


@pytest.mark.parametrize("org_type, proposer_type, message", [
    ("private_company", "charity", "Your organisation is not registered as a charity"),
    ("charity", "parish_council", "Your organisation is not registered as a parish or town council"),
    ("charity", "made_up", "Select who is making the proposal"),
])
def test_an_organisation_proposes_only_as_the_kind_of_body_it_is(ctx, org_type, proposer_type, message):
    user = provider(OrganisationFactory(org_type=org_type))
    with pytest.raises(DomainError) as refused:
        make_proposal(user, proposer_type=proposer_type)
    assert refused.value.field == "proposer_type"
    assert refused.value.message.startswith(message)


@pytest.mark.parametrize("user_kind", ["staff", "provider_without_organisation"])
def test_someone_without_an_organisation_cannot_propose_for_one(ctx, user_kind):
    user = commissioner() if user_kind == "staff" else UserFactory()
    with pytest.raises(DomainError, match="Register your organisation"):
        make_proposal(user, proposer_type="provider")


def test_a_parish_council_registered_as_a_public_body_may_propose(ctx):
    user = provider(OrganisationFactory(legal_name="Minster Parish Council", org_type="public_body"))
    proposal = make_proposal(user, proposer_type="parish_council")
    assert proposal.proposer_name == "Minster Parish Council"


def test_an_organisation_proposal_keeps_no_staff_list_or_effect_on_employees(charity_user):
    proposal = make_proposal(charity_user, staff_members=EMPLOYEES, effect_on_employees=EFFECT)
    assert (proposal.staff_members, proposal.effect_on_employees) == ([], None)


@pytest.mark.parametrize("field", sorted(CASE))
def test_every_part_of_the_business_case_is_needed(charity_user, field):
    with pytest.raises(DomainError) as refused:
        make_proposal(charity_user, **{field: "  "})
    assert refused.value.field == field


@pytest.mark.parametrize("app_overrides", [{"MAIL_PORT": 9}])
def test_a_failed_email_does_not_undo_the_proposal(charity_user, app_overrides):
    make_proposal(charity_user)
    assert len(proposals()) == 1


# Decisions ----------------------------------------------------------------------------------------------

@pytest.fixture()
def submitted(charity_user, mailbox) -> Proposal:
    proposal = make_proposal(charity_user)
    mailbox.clear()
    return proposal


def test_accepting_starts_a_procurement_with_a_linked_draft_opportunity(submitted, mailbox):
    lead = commissioner(full_name="Cara Lead", email="cara@kent.example")
    decider = officer()

    services.decide(decider, submitted, accept(lead))

    [proposal] = proposals()
    assert (proposal.status, proposal.decided_by_id, proposal.decision_ground) == ("accepted", decider.id, None)
    assert proposal.decision_reasons == "It meets every requirement."
    assert proposal.decided_at is not None
    opportunity = db.session.get(Opportunity, proposal.opportunity_id)
    assert opportunity.status == "draft"
    assert opportunity.reference == f"KCC-{services.today().year}-0001"
    assert (opportunity.title, opportunity.category, opportunity.localities) == (
        "Mobile library, Thanet", "community-and-libraries", ["thanet"])
    assert opportunity.estimated_value == Decimal("180000.00")
    assert opportunity.outcomes == ["More people in rural Thanet borrow books.", "Fewer people feel isolated."]
    assert f"right-to-bid proposal {proposal.reference} from Thanet Community Transport" in opportunity.summary
    assert (opportunity.created_by_id, opportunity.contact_email) == (lead.id, "cara@kent.example")
    [model] = db.session.execute(sa.select(EvaluationModel)).scalars().all()
    assert (model.opportunity_id, model.lot_id, model.criteria) == (opportunity.id, None, [])
    assert audit_actions()[-2:] == ["opportunity.created_from_right_to_bid", "right_to_bid.accepted"]
    assert verify_database().ok
    body = mailbox.last_body("proposer@example.org")
    assert "Decision: Accepted" in body and "It meets every requirement." in body
    assert "procurement exercise" in body


def test_accepting_with_a_modification_records_it_and_that_the_proposer_agreed(submitted, mailbox):
    decision = accept(commissioner(), decision="accepted_modified", modification="Run it from two depots.",
                      proposer_agreed=True)

    services.decide(officer(), submitted, decision)

    [proposal] = proposals()
    assert (proposal.status, proposal.modification, proposal.modification_agreed) == (
        "accepted_modified", "Run it from two depots.", True)
    assert "Agreed modification: Run it from two depots." in proposal.opportunity.summary
    assert audit_actions()[-1] == "right_to_bid.accepted_with_modification"
    assert "Run it from two depots." in mailbox.last_body("proposer@example.org")


def test_rejecting_records_the_ground_and_reasons_and_starts_nothing(submitted, mailbox):
    services.decide(officer(), submitted, reject("already_procured"))

    [proposal] = proposals()
    assert (proposal.status, proposal.decision_ground, proposal.opportunity_id) == (
        "rejected", "already_procured", None)
    assert db.session.execute(sa.select(sa.func.count(Opportunity.id))).scalar_one() == 0
    assert audit_actions()[-1] == "right_to_bid.rejected"
    body = mailbox.last_body("proposer@example.org")
    assert "Decision: Rejected" in body
    assert "Ground: The service is already being procured" in body
    assert "The service was put out to tender last month." in body
    assert "procurement exercise" not in body


@pytest.mark.parametrize("decision, field", [
    (reject(ground=None), "ground"),
    (reject(ground="not_a_ground"), "ground"),
    (reject(reasons=""), "reasons"),
    (reject(reasons="   "), "reasons"),
    (services.Decision(decision="accepted", reasons="Fine."), "lead_commissioner"),
    (services.Decision(decision="accepted_modified", reasons="Fine.", modification="Smaller.",
                       proposer_agreed=False, lead_commissioner_id=1), "modification_agreed"),
    (services.Decision(decision="accepted_modified", reasons="Fine.", modification="", proposer_agreed=True,
                       lead_commissioner_id=1), "modification"),
    (services.Decision(decision="postponed", reasons="Fine."), "decision"),
])
def test_a_decision_without_what_it_needs_is_refused_and_changes_nothing(submitted, mailbox, decision, field):
    with pytest.raises(DomainError) as refused:
        services.decide(officer(), submitted, decision)
    assert refused.value.field == field
    [proposal] = proposals()
    assert (proposal.status, proposal.decided_at) == ("submitted", None)
    assert audit_actions() == ["right_to_bid.proposed"]
    assert mailbox.messages == []


@pytest.mark.parametrize("lead_kind", ["procurement_officer_only", "deactivated", "provider", "missing"])
def test_the_lead_of_the_procurement_must_be_an_active_commissioner(submitted, lead_kind):
    lead_id = {
        "procurement_officer_only": lambda: officer().id,
        "deactivated": lambda: commissioner(deactivated_at=utcnow()).id,
        "provider": lambda: submitted.submitted_by_id,
        "missing": lambda: 999_999,
    }[lead_kind]()
    with pytest.raises(DomainError) as refused:
        services.decide(officer(), submitted, services.Decision(decision="accepted", reasons="Fine.",
                                                                lead_commissioner_id=lead_id))
    assert refused.value.field == "lead_commissioner"
    assert proposals()[0].status == "submitted"


@pytest.mark.parametrize("decider_kind", ["commissioner", "provider", "proposer_who_is_an_officer"])
def test_only_a_procurement_officer_who_did_not_make_the_proposal_decides_it(ctx, decider_kind):
    if decider_kind == "proposer_who_is_an_officer":
        decider = officer()
        proposal = make_proposal(decider, proposer_type="staff_group")
    else:
        proposal = make_proposal(provider(OrganisationFactory()))
        decider = commissioner() if decider_kind == "commissioner" else provider(OrganisationFactory())
    with pytest.raises(DomainError, match="Only a procurement officer who did not make the proposal"):
        services.decide(decider, proposal, reject())
    assert proposals()[0].status == "submitted"


def test_a_proposal_is_decided_only_once(submitted):
    services.decide(officer(), submitted, reject())
    with pytest.raises(DomainError, match="already been decided"):
        services.decide(officer(), submitted, accept(commissioner()))
    assert audit_actions().count("right_to_bid.rejected") == 1


def test_a_second_officer_deciding_a_stale_copy_is_refused(submitted):
    """Two officers open the same proposal; the first to commit wins and the second changes nothing."""
    stale = submitted
    assert stale.status == "submitted"  # what the second officer's page shows
    with db.engine.begin() as first_officer:
        first_officer.execute(sa.update(Proposal).where(Proposal.id == stale.id).values(status="rejected"))
    with pytest.raises(DomainError, match="already been decided"):
        services.decide(officer(), stale, accept(commissioner()))
    assert db.session.execute(sa.select(sa.func.count(Opportunity.id))).scalar_one() == 0


# The catalogue ------------------------------------------------------------------------------------------

def catalogue_entry(**overrides) -> services.ServiceDetails:
    return services.ServiceDetails(**({
        "name": "Day centre, Dover", "description": "Care and activities for older people.",
        "annual_cost": Decimal("420000"), "locality": "dover", "category": "adult-social-care",
        "window_opens": days(1), "window_closes": days(60)} | overrides))


def test_a_procurement_officer_adds_a_service_to_the_catalogue(ctx):
    service = services.add_service(officer(), catalogue_entry())
    [stored] = db.session.execute(sa.select(CatalogueService)).scalars().all()
    assert (stored.id, stored.name, stored.annual_cost) == (service.id, "Day centre, Dover", Decimal("420000.00"))
    assert audit_actions() == ["right_to_bid.service_added"]


def test_changing_a_service_audits_what_changed(ctx):
    decider = officer()
    service = services.add_service(decider, catalogue_entry())
    services.change_service(decider, service, catalogue_entry(annual_cost=Decimal("400000"),
                                                              next_window_opens=days(200),
                                                              next_window_closes=days(260)))
    event = db.session.execute(sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).scalar_one()
    assert event.action == "right_to_bid.service_changed"
    assert event.details["annual_cost"] == {"from": "420000.00", "to": "400000.00"}
    assert set(event.details) == {"annual_cost", "next_window_opens", "next_window_closes"}


def test_saving_a_service_unchanged_writes_no_audit_event(ctx):
    decider = officer()
    service = services.add_service(decider, catalogue_entry())
    services.change_service(decider, service, catalogue_entry())
    assert audit_actions() == ["right_to_bid.service_added"]


@pytest.mark.parametrize("overrides, field", [
    ({"annual_cost": Decimal("0")}, "annual_cost"),
    ({"window_closes": days(1)}, "window_closes"),
    ({"next_window_opens": days(70)}, "next_window_closes"),
    ({"next_window_opens": days(30), "next_window_closes": days(90)}, "next_window_opens"),
    ({"category": "space-travel"}, "category"),
    ({"locality": "medway"}, "locality"),
    ({"name": "  "}, "name"),
])
def test_a_catalogue_entry_that_breaks_a_rule_is_refused(ctx, overrides, field):
    with pytest.raises(DomainError) as refused:
        services.add_service(officer(), catalogue_entry(**overrides))
    assert refused.value.field == field
    assert db.session.execute(sa.select(sa.func.count(CatalogueService.id))).scalar_one() == 0


@pytest.mark.parametrize("make_user", [commissioner, lambda: provider(OrganisationFactory())])
def test_only_procurement_officers_change_the_catalogue(ctx, make_user):
    with pytest.raises(DomainError, match="Only procurement officers"):
        services.add_service(make_user(), catalogue_entry())


# Lists --------------------------------------------------------------------------------------------------

def test_a_proposer_lists_their_own_and_their_organisations_proposals_only(ctx):
    organisation = OrganisationFactory()
    owner, teammate = provider(organisation), colleague(organisation)
    stranger = provider(OrganisationFactory())
    service = make_service()
    own = make_proposal(owner, service)
    teammates = make_proposal(teammate, service)
    own_staff_group = make_proposal(owner, service, proposer_type="staff_group")
    make_proposal(stranger, service)

    listed = db.session.execute(services.mine_query(owner)).scalars().all()
    assert [p.id for p in listed] == [own_staff_group.id, teammates.id, own.id]
    listed = db.session.execute(services.mine_query(teammate)).scalars().all()
    assert [p.id for p in listed] == [teammates.id, own.id]


def test_the_register_lists_decided_proposals_latest_first_and_the_queue_undecided_ones_soonest_due_first(
        charity_user):
    service = make_service()
    first, second, waiting, later_due = (make_proposal(charity_user, service) for _ in range(4))
    db.session.execute(sa.update(Proposal).where(Proposal.id == later_due.id).values(decision_due=days(200)))
    db.session.execute(sa.update(Proposal).where(Proposal.id == waiting.id).values(decision_due=days(-3)))
    db.session.commit()
    decider = officer()
    services.decide(decider, first, reject())
    services.decide(decider, second, accept(commissioner()))

    assert [p.id for p in db.session.execute(services.register_query()).scalars()] == [second.id, first.id]
    assert [p.id for p in db.session.execute(services.decision_queue_query()).scalars()] == [waiting.id,
                                                                                              later_due.id]
    assert [p.id for p in db.session.execute(services.decision_queue_query(decided=True)).scalars()] == [
        second.id, first.id]


def test_commissioners_to_lead_a_procurement_are_active_commissioners_by_name(ctx):
    zoe = commissioner(full_name="Zoe Adams", email="zoe@kent.example")
    amy = commissioner(full_name="Amy Brown", email="amy@kent.example")
    commissioner(full_name="Gone Away", deactivated_at=utcnow())
    officer(full_name="Olly Officer")
    assert services.commissioners() == [(amy.id, "Amy Brown (amy@kent.example)"),
                                        (zoe.id, "Zoe Adams (zoe@kent.example)")]
