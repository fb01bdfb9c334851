"""Opportunity use cases on a real database: drafting, the rules on details, timetable, lots and the evaluation
model, the lifecycle with separation of duties, amendments, cancelling, closing by the clock, audit events,
emails and the optimistic lock."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from marketplace.audit import AuditEvent, verify_database
from marketplace.errors import DomainError
from marketplace.evaluation import model_rules, panel
from marketplace.extensions import db
from marketplace.opportunities import lifecycle, services
from marketplace.opportunities.models import Amendment, Criterion, Opportunity, Watch
from marketplace.settings import services as settings
from marketplace.timeutil import london, utcnow
from tests.factories import StaffFactory, provider
from tests.staff_fixtures import author, colleague, lead, officer, request_context  # noqa: F401 (fixtures)

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


# Builders (used by the functional tests too) ---------------------------------------------------------

def details(**overrides) -> services.Details:
    values = dict(
        title="Community transport in Swale", summary="Door-to-door transport for older and disabled people.",
        outcomes=("People get to appointments on time", "Fewer people feel isolated"),
        category="community-and-libraries", localities=("swale",), estimated_value=Decimal("150000"),
        contract_start=date.today() + timedelta(days=120), contract_months=36, procedure="below_threshold_open",
        reservation="none", contact_name="Chris Commissioner", contact_email="chris@kent.example")
    values.update(overrides)
    return services.Details(**values)


def timetable(now: datetime, publication_in: timedelta = timedelta(days=1), tender_days: int = 30,
              gap_days: int = 7) -> services.Timetable:
    publication = now + publication_in
    submission = publication + timedelta(days=tender_days)
    return services.Timetable(publication, submission - timedelta(days=gap_days), submission)


def draft(author, **overrides) -> Opportunity:
    """A draft with only its details."""
    return services.create_opportunity(author, details(**overrides))


def ready_draft(author, now: datetime | None = None, template: str = "community_services", **overrides) -> Opportunity:
    """A draft that passes every check: details, timetable, a template model and a specification."""
    opportunity = draft(author, **overrides)
    now = now or utcnow()
    services.update_timetable(author, opportunity, timetable(now), opportunity.version, now=now)
    services.apply_template(author, opportunity, opportunity.main_model, template, opportunity.version)
    services.add_document(author, opportunity, "specification", "Specification", "spec.pdf", PDF, opportunity.version)
    return opportunity


ASSESSMENT = {"prepared_by": "Chris Commissioner, commissioner", "interests": "None known",
              "management": "Nothing to manage"}


def assess(officer, opportunity: Opportunity) -> None:
    """The conflicts assessment a procurement officer records before approving."""
    panel.record_conflicts_assessment(officer, opportunity, ASSESSMENT)


def published(author, officer, now: datetime | None = None, **overrides) -> Opportunity:
    now = now or utcnow()
    opportunity = ready_draft(author, now, **overrides)
    services.submit_for_approval(author, opportunity, opportunity.version, now=now)
    assess(officer, opportunity)
    return services.approve(officer, opportunity, opportunity.version, now=now)


def events(action: str) -> list[AuditEvent]:
    return list(db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.id)).scalars())


# Creating and editing ----------------------------------------------------------------------------------

def test_a_commissioner_creates_a_draft_with_a_reference_and_an_empty_evaluation_model(author):
    opportunity = draft(author)
    assert opportunity.status == lifecycle.DRAFT
    assert opportunity.reference == f"KCC-{london(utcnow()).year}-0001"
    assert opportunity.outcomes == ["People get to appointments on time", "Fewer people feel isolated"]
    assert opportunity.created_by_id == author.id
    assert opportunity.main_model is not None and opportunity.main_model.criteria == []
    [event] = events("opportunity.created")
    assert (event.object_id, event.actor_id, event.details["reference"]) == (str(opportunity.id), author.id,
                                                                            opportunity.reference)


def test_references_are_numbered_in_order(author):
    assert [draft(author).reference[-4:] for _ in range(3)] == ["0001", "0002", "0003"]


@pytest.mark.parametrize("roles", [["procurement_officer"], ["administrator"]])
def test_only_commissioners_create_opportunities(roles):
    with pytest.raises(services.NotAllowed):
        draft(StaffFactory(roles=roles))
    assert db.session.query(Opportunity).count() == 0


def test_a_provider_cannot_create_an_opportunity():
    with pytest.raises(services.NotAllowed):
        draft(provider())


def test_county_wide_excludes_districts(author):
    with pytest.raises(services.Invalid) as refused:
        draft(author, localities=("county-wide", "swale"))
    assert (refused.value.field, refused.value.message) == (
        "localities", "Choose county-wide or one or more districts, not both")


@pytest.mark.parametrize("reservation", ["kent", "kent_sme_vcse"])
def test_an_opportunity_above_the_threshold_cannot_be_reserved_and_the_message_says_why(author, reservation):
    with pytest.raises(services.Invalid) as refused:
        draft(author, estimated_value=Decimal("500000"), reservation=reservation)
    assert refused.value.field == "reservation"
    assert refused.value.message == ("Only opportunities below the £214,904 threshold can be reserved. "
                                     "This one is estimated at £500,000.")


def test_the_threshold_itself_is_not_below_the_threshold(author):
    with pytest.raises(services.Invalid):
        draft(author, estimated_value=Decimal("214904"), reservation="kent")
    assert draft(author, estimated_value=Decimal("214903.99"), reservation="kent").reservation == "kent"


def test_the_threshold_comes_from_the_settings(author):
    admin = StaffFactory(roles=["administrator"])
    settings.update(admin, {"procurement_threshold": "600000"})
    assert draft(author, estimated_value=Decimal("500000"), reservation="kent_sme_vcse").reservation == "kent_sme_vcse"


def test_the_author_edits_their_draft_and_the_change_is_audited(author):
    opportunity = draft(author)
    services.update_details(author, opportunity, details(title="Community transport in Swale and Faversham"),
                            opportunity.version)
    db.session.expire_all()
    assert db.session.get(Opportunity, opportunity.id).title == "Community transport in Swale and Faversham"
    [event] = events("opportunity.details_changed")
    assert event.details["fields"] == ["title"]


@pytest.mark.parametrize("who", ["colleague", "officer", "lead"])
def test_only_the_author_can_edit_a_draft(request, author, who):
    opportunity = draft(author)
    with pytest.raises(services.NotAllowed):
        services.update_details(request.getfixturevalue(who), opportunity, details(title="Hijacked"),
                                opportunity.version)
    db.session.rollback()
    assert db.session.get(Opportunity, opportunity.id).title == "Community transport in Swale"


def test_a_draft_sent_for_approval_cannot_be_edited(author):
    opportunity = ready_draft(author)
    services.submit_for_approval(author, opportunity, opportunity.version)
    with pytest.raises(services.Locked, match="waiting for approval"):
        services.update_details(author, opportunity, details(title="Changed"), opportunity.version)


# The timetable -----------------------------------------------------------------------------------------

def _fields(error: DomainError) -> dict[str, str]:
    return {e.field: e.message for e in getattr(error, "errors", [error])}


def test_a_sound_timetable_is_saved_in_utc(author):
    opportunity = draft(author)
    now = utcnow()
    wanted = timetable(now)
    services.update_timetable(author, opportunity, wanted, opportunity.version, now=now)
    db.session.expire_all()
    stored = db.session.get(Opportunity, opportunity.id)
    assert stored.submission_deadline == wanted.submission_deadline
    assert stored.submission_deadline.utcoffset() == timedelta(0)
    assert events("opportunity.timetable_changed")


@pytest.mark.parametrize(("changes", "field", "message"), [
    (dict(tender_days=20), "submission_deadline", "The submission deadline must be at least 25 days after publication"),
    (dict(gap_days=3), "clarification_deadline",
     "The clarification deadline must be at least 5 days before the submission deadline"),
    (dict(publication_in=timedelta(days=-2)), "publication_date", "The publication date must be today or in the future"),
])
def test_the_timetable_rules(author, changes, field, message):
    opportunity = draft(author)
    now = utcnow()
    with pytest.raises(services.Invalid) as refused:
        services.update_timetable(author, opportunity, timetable(now, **changes), opportunity.version, now=now)
    assert message in _fields(refused.value)[field]


def test_no_deadline_may_be_in_the_past(author):
    opportunity = draft(author)
    now = utcnow()
    past = services.Timetable(now, now - timedelta(days=2), now - timedelta(days=1))
    with pytest.raises(services.Invalid) as refused:
        services.update_timetable(author, opportunity, past, opportunity.version, now=now)
    assert _fields(refused.value) == {"submission_deadline": "The submission deadline must be in the future",
                                      "clarification_deadline": "The clarification deadline must be in the future"}


def test_the_clarification_deadline_comes_after_publication(author):
    opportunity = draft(author)
    now = utcnow()
    bad = services.Timetable(now + timedelta(days=3), now + timedelta(days=2), now + timedelta(days=40))
    with pytest.raises(services.Invalid) as refused:
        services.update_timetable(author, opportunity, bad, opportunity.version, now=now)
    assert _fields(refused.value) == {"clarification_deadline": "The clarification deadline must be after publication"}


def test_the_periods_come_from_the_settings(author):
    settings.update(StaffFactory(roles=["administrator"]), {"minimum_tender_period_days": "10",
                                                            "minimum_clarification_gap_days": "1"})
    opportunity = draft(author)
    now = utcnow()
    services.update_timetable(author, opportunity, timetable(now, tender_days=12, gap_days=2), opportunity.version,
                              now=now)
    assert opportunity.submission_deadline is not None


# Lots --------------------------------------------------------------------------------------------------

def lot(number=1, value="50000", title="Sittingbourne") -> services.LotDetails:
    return services.LotDetails(number, title, "", Decimal(value))


def test_lots_may_not_add_up_to_more_than_the_total(author):
    opportunity = draft(author)
    services.add_lot(author, opportunity, lot(1, "100000"), opportunity.version)
    with pytest.raises(services.Invalid) as refused:
        services.add_lot(author, opportunity, lot(2, "60000", "Faversham"), opportunity.version)
    assert _fields(refused.value) == {"estimated_value": "The lots add up to £160,000, more than the estimated total "
                                                         "value of £150,000. Lower a lot's value or raise the total."}


def test_lowering_the_total_below_the_lots_is_refused(author):
    opportunity = draft(author)
    services.add_lot(author, opportunity, lot(1, "100000"), opportunity.version)
    with pytest.raises(services.Invalid) as refused:
        services.update_details(author, opportunity, details(estimated_value=Decimal("90000")), opportunity.version)
    assert "The lots add up to £100,000" in _fields(refused.value)["estimated_value"]


def test_lot_numbers_are_unique(author):
    opportunity = draft(author)
    services.add_lot(author, opportunity, lot(1), opportunity.version)
    with pytest.raises(services.Invalid) as refused:
        services.add_lot(author, opportunity, lot(1, title="Again"), opportunity.version)
    assert _fields(refused.value) == {"number": "There is already a lot 1. Choose another number."}


def test_a_lot_can_have_its_own_evaluation_model_copied_from_the_opportunitys(author):
    opportunity = ready_draft(author)
    first = services.add_lot(author, opportunity, lot(1), opportunity.version)
    model = services.give_lot_its_own_model(author, opportunity, first, opportunity.version)
    assert [c.title for c in model.criteria] == [c.title for c in opportunity.main_model.criteria]
    services.remove_lot(author, opportunity, first, opportunity.version)
    db.session.expire_all()
    assert [m.lot_id for m in db.session.get(Opportunity, opportunity.id).models] == [None]


# The evaluation model ----------------------------------------------------------------------------------

def criterion(**overrides) -> services.CriterionDetails:
    values = dict(kind=model_rules.QUALITY, title="How you will achieve the outcomes", weight=Decimal(60))
    values.update(overrides)
    return services.CriterionDetails(**values)


def test_a_criterion_gets_the_default_descriptors_and_goes_to_the_end(author):
    opportunity = draft(author)
    model = opportunity.main_model
    services.add_criterion(author, opportunity, model, criterion(kind=model_rules.PASS_FAIL, weight=None, title="Gate"),
                           opportunity.version)
    added = services.add_criterion(author, opportunity, model, criterion(), opportunity.version)
    assert (added.position, added.descriptors) == (1, list(model_rules.DEFAULT_DESCRIPTORS))


def test_a_criterion_the_rules_refuse_is_not_saved_and_each_problem_names_its_field(author):
    opportunity = draft(author)
    bad = criterion(kind=model_rules.PRICE, weight=None, method=None)
    with pytest.raises(services.Invalid) as refused:
        services.add_criterion(author, opportunity, opportunity.main_model, bad, opportunity.version)
    assert _fields(refused.value) == {"weight": "Give this criterion a weight above 0",
                                      "price_method": "Choose how price is scored"}
    db.session.rollback()
    assert db.session.query(Criterion).count() == 0


def test_a_location_criterion_is_refused_above_the_threshold(author):
    opportunity = draft(author, estimated_value=Decimal("500000"))
    located = criterion(kind=model_rules.LOCAL_ECONOMY, method="panel", scores_location=True, weight=Decimal(10))
    with pytest.raises(services.Invalid) as refused:
        services.add_criterion(author, opportunity, opportunity.main_model, located, opportunity.version)
    assert "lawful only under a below-threshold reservation" in _fields(refused.value)["scores_location"]


def test_a_location_criterion_is_allowed_below_the_threshold_when_reserved(author):
    opportunity = draft(author, reservation="kent")
    located = criterion(kind=model_rules.LOCAL_ECONOMY, method="panel", scores_location=True, weight=Decimal(10))
    added = services.add_criterion(author, opportunity, opportunity.main_model, located, opportunity.version)
    assert added.scores_location is True


def test_descriptors_must_match_the_scale(author):
    opportunity = draft(author)
    with pytest.raises(services.Invalid) as refused:
        services.add_criterion(author, opportunity, opportunity.main_model,
                               criterion(scale_max=3, descriptors=("0", "1", "2")), opportunity.version)
    assert _fields(refused.value) == {"descriptors": "Give one descriptor for each score from 0 to 3: 4 lines, not 3"}


def test_a_template_replaces_the_criteria(author):
    opportunity = draft(author)
    services.add_criterion(author, opportunity, opportunity.main_model, criterion(title="Mine"), opportunity.version)
    services.apply_template(author, opportunity, opportunity.main_model, "works", opportunity.version)
    titles = [c.title for c in opportunity.main_model.criteria]
    assert "Mine" not in titles and titles[0] == "Health and safety accreditation"
    assert [c.position for c in opportunity.main_model.criteria] == list(range(len(titles)))
    assert services.model_summary(opportunity, opportunity.main_model)["problems"] == []
    assert events("evaluation.template_applied")[0].details["criteria_replaced"] == 1


def test_an_unknown_template_is_refused(author):
    opportunity = draft(author)
    with pytest.raises(DomainError, match="Choose a template from the list"):
        services.apply_template(author, opportunity, opportunity.main_model, "everything", opportunity.version)


def test_criteria_move_up_and_down(author):
    opportunity = draft(author)
    model = opportunity.main_model
    services.apply_template(author, opportunity, model, "works", opportunity.version)
    first, second = model.criteria[0], model.criteria[1]
    services.move_criterion(author, opportunity, second, "up", opportunity.version)
    db.session.expire_all()
    assert [c.id for c in db.session.get(Opportunity, opportunity.id).main_model.criteria][:2] == [second.id, first.id]


def test_the_converter_gives_the_rules_what_is_stored(author):
    opportunity = draft(author)
    added = services.add_criterion(author, opportunity, opportunity.main_model,
                                   criterion(kind=model_rules.PRICE, method="linear_bounds", weight=Decimal(30),
                                             params={"min_price": "1000", "max_price": "2000"}), opportunity.version)
    spec = services.criterion_spec(added)
    assert spec == model_rules.CriterionSpec(model_rules.PRICE, "How you will achieve the outcomes", Decimal(30),
                                             method="linear_bounds", params={"min_price": "1000", "max_price": "2000"})


# Sending for approval and approving ----------------------------------------------------------------------

def test_sending_for_approval_is_refused_with_every_problem_and_where_to_fix_it(author):
    opportunity = draft(author)
    with pytest.raises(services.NotReady) as refused:
        services.submit_for_approval(author, opportunity, opportunity.version)
    sections = {problem.section for problem in refused.value.problems}
    assert sections == {"timetable", "model", "documents"}
    assert "Evaluation model: Add at least one scored criterion" in [p.message for p in refused.value.problems]
    assert db.session.get(Opportunity, opportunity.id).status == lifecycle.DRAFT


def test_a_draft_made_elsewhere_without_every_detail_is_not_ready(author):
    opportunity = ready_draft(author)
    opportunity.contract_start, opportunity.outcomes = None, []
    db.session.commit()
    problems = services.readiness(opportunity, utcnow())
    assert [(p.section, p.anchor, p.message) for p in problems] == [
        ("details", "outcomes", "Enter at least one outcome"),
        ("details", "contract_start", "Enter the contract start date")]


def test_lowering_the_threshold_later_makes_a_reserved_draft_not_ready(author):
    opportunity = ready_draft(author, reservation="kent")
    settings.update(StaffFactory(roles=["administrator"]), {"procurement_threshold": "100000"})
    [problem] = services.readiness(opportunity, utcnow())
    assert (problem.section, problem.anchor) == ("details", "reservation")
    assert problem.message.startswith("Only opportunities below the £100,000 threshold can be reserved")


def test_a_criterion_problem_points_at_the_criterion(author):
    opportunity = ready_draft(author)
    price = opportunity.main_model.criteria[-1]
    price.weight = Decimal(20)
    db.session.commit()
    problems = services.readiness(opportunity, utcnow())
    assert [(p.section, p.model_id) for p in problems] == [("model", opportunity.main_model.id)]
    assert problems[0].message == "Evaluation model: The weights add up to 90. They must add up to exactly 100."


def test_sending_for_approval_emails_the_procurement_officers(author, officer, lead, mailbox):
    opportunity = ready_draft(author)
    services.submit_for_approval(author, opportunity, opportunity.version)
    assert opportunity.status == lifecycle.AWAITING_APPROVAL
    assert mailbox.to(officer.email) and mailbox.to(lead.email)
    assert not mailbox.to(author.email)
    body = mailbox.last_body(officer.email)
    assert opportunity.reference in body and f"/commissioning/{opportunity.id}" in body
    assert events("opportunity.submit_for_approval")


def test_a_procurement_officer_approves_which_publishes_and_freezes_the_model(author, officer, mailbox):
    now = utcnow()
    opportunity = ready_draft(author, now)
    services.submit_for_approval(author, opportunity, opportunity.version, now=now)
    assess(officer, opportunity)
    services.approve(officer, opportunity, opportunity.version, now=now)
    db.session.expire_all()
    stored = db.session.get(Opportunity, opportunity.id)
    assert stored.status == lifecycle.PUBLISHED
    assert stored.published_at == stored.publication_date  # the publication date is tomorrow
    assert stored.model_frozen_at == now
    assert stored.approved_by_id == officer.id
    assert "approved your opportunity" in mailbox.last_body(author.email)
    [event] = events("opportunity.approve")
    assert event.actor_id == officer.id


def test_approving_after_the_publication_date_publishes_now(author, officer):
    now = utcnow()
    opportunity = ready_draft(author, now)
    services.submit_for_approval(author, opportunity, opportunity.version, now=now)
    later = now + timedelta(days=2)
    assess(officer, opportunity)
    services.approve(officer, opportunity, opportunity.version, now=later)
    assert opportunity.published_at == later


def test_a_commissioner_cannot_approve(author, colleague):
    opportunity = ready_draft(author)
    services.submit_for_approval(author, opportunity, opportunity.version)
    with pytest.raises(services.NotAllowed):
        services.approve(colleague, opportunity, opportunity.version)


def test_someone_with_both_roles_may_not_approve_their_own_opportunity(lead):
    opportunity = ready_draft(lead)
    services.submit_for_approval(lead, opportunity, opportunity.version)
    with pytest.raises(DomainError, match=r"You wrote this opportunity.*separation of duties"):
        services.approve(lead, opportunity, opportunity.version)
    assert db.session.get(Opportunity, opportunity.id).status == lifecycle.AWAITING_APPROVAL


def test_someone_with_both_roles_may_approve_a_colleagues_opportunity(author, lead):
    opportunity = ready_draft(author)
    services.submit_for_approval(author, opportunity, opportunity.version)
    assess(lead, opportunity)
    assert services.approve(lead, opportunity, opportunity.version).status == lifecycle.PUBLISHED


def test_approval_rechecks_the_timetable_against_the_clock(author, officer):
    now = utcnow()
    opportunity = ready_draft(author, now)
    services.submit_for_approval(author, opportunity, opportunity.version, now=now)
    with pytest.raises(services.NotReady) as refused:
        services.approve(officer, opportunity, opportunity.version, now=now + timedelta(days=10))
    assert [p.section for p in refused.value.problems] == ["timetable"]


def test_returning_to_draft_needs_a_reason_which_the_commissioner_is_sent(author, officer, mailbox):
    opportunity = ready_draft(author)
    services.submit_for_approval(author, opportunity, opportunity.version)
    with pytest.raises(DomainError, match="Give the reason"):
        services.return_to_draft(officer, opportunity, "  ", opportunity.version)
    services.return_to_draft(officer, opportunity, "The outcomes need measures", opportunity.version)
    assert (opportunity.status, opportunity.return_reason) == (lifecycle.DRAFT, "The outcomes need measures")
    assert "The outcomes need measures" in mailbox.last_body(author.email)
    assert events("opportunity.return_to_draft")[0].details["reason"] == "The outcomes need measures"


def test_another_commissioner_cannot_return_an_opportunity_to_draft(author, colleague):
    opportunity = ready_draft(author)
    services.submit_for_approval(author, opportunity, opportunity.version)
    with pytest.raises(services.NotAllowed):
        services.return_to_draft(colleague, opportunity, "Not mine but still", opportunity.version)


# After publication -------------------------------------------------------------------------------------

@pytest.mark.parametrize("change", [
    lambda a, o: services.add_criterion(a, o, o.main_model, criterion(), o.version),
    lambda a, o: services.update_criterion(a, o, o.main_model.criteria[0], criterion(), o.version),
    lambda a, o: services.remove_criterion(a, o, o.main_model.criteria[0], o.version),
    lambda a, o: services.move_criterion(a, o, o.main_model.criteria[1], "up", o.version),
    lambda a, o: services.apply_template(a, o, o.main_model, "works", o.version),
    lambda a, o: services.record_low_public_value_reason(a, o, o.main_model, "Because", o.version),
    lambda a, o: services.update_details(a, o, details(), o.version),
    lambda a, o: services.update_timetable(a, o, timetable(utcnow()), o.version),
    lambda a, o: services.add_lot(a, o, lot(), o.version),
    lambda a, o: services.add_document(a, o, "other", "More", "more.pdf", PDF, o.version),
], ids=["add", "update", "remove", "move", "template", "reason", "details", "timetable", "lot", "document"])
def test_publication_freezes_the_evaluation_model_and_details(author, officer, change):
    opportunity = published(author, officer)
    before = [c.title for c in opportunity.main_model.criteria]
    with pytest.raises(services.Locked, match="frozen"):
        change(author, opportunity)
    db.session.rollback()
    assert [c.title for c in db.session.get(Opportunity, opportunity.id).main_model.criteria] == before


def amendment(summary="The specification now includes weekend journeys", changes=True, new_deadline=None):
    return services.AmendmentDetails(summary, changes, new_deadline)


def test_an_amendment_that_changes_what_bidders_must_do_extends_a_close_deadline(author, officer):
    now = utcnow()
    opportunity = published(author, officer, now)
    soon = now + timedelta(days=3)
    opportunity.submission_deadline = soon
    db.session.commit()
    services.publish_amendment(officer, opportunity, amendment(), opportunity.version, now=now)
    db.session.expire_all()
    stored = db.session.get(Opportunity, opportunity.id)
    assert stored.submission_deadline == now + timedelta(days=7)
    [notice] = stored.amendments
    assert (notice.previous_deadline, notice.new_deadline, notice.changes_requirements) == (
        soon, now + timedelta(days=7), True)
    assert events("opportunity.amend")[0].details["new_deadline"] == (now + timedelta(days=7)).isoformat()


def test_an_amendment_never_shortens_the_deadline(author, officer):
    opportunity = published(author, officer)
    deadline = opportunity.submission_deadline
    with pytest.raises(DomainError, match="cannot bring the submission deadline forward") as refused:
        services.publish_amendment(officer, opportunity, amendment(new_deadline=deadline - timedelta(days=1)),
                                   opportunity.version)
    assert refused.value.field == "new_deadline"
    assert db.session.get(Opportunity, opportunity.id).submission_deadline == deadline
    assert db.session.query(Amendment).count() == 0


def test_an_amendment_that_does_not_change_requirements_keeps_the_deadline(author, officer):
    opportunity = published(author, officer)
    deadline = opportunity.submission_deadline
    services.publish_amendment(author, opportunity, amendment(changes=False), opportunity.version)
    assert opportunity.submission_deadline == deadline


def test_an_amendment_may_move_the_deadline_later(author, officer):
    opportunity = published(author, officer)
    later = opportunity.submission_deadline + timedelta(days=14)
    services.publish_amendment(author, opportunity, amendment(changes=False, new_deadline=later), opportunity.version)
    assert opportunity.submission_deadline == later


def test_watchers_hear_about_an_amendment(author, officer, mailbox):
    opportunity = published(author, officer)
    watcher = provider()
    db.session.add(Watch(user_id=watcher.id, opportunity_id=opportunity.id))
    db.session.commit()
    services.publish_amendment(officer, opportunity, amendment(), opportunity.version)
    assert "weekend journeys" in mailbox.last_body(watcher.email)


def test_a_closed_opportunity_cannot_be_amended(author, officer):
    now = utcnow()
    opportunity = published(author, officer, now)
    with pytest.raises(DomainError, match="Only an open opportunity can be amended"):
        services.publish_amendment(officer, opportunity, amendment(), opportunity.version,
                                   now=opportunity.submission_deadline + timedelta(minutes=1))


def test_another_commissioner_cannot_amend(author, officer, colleague):
    opportunity = published(author, officer)
    with pytest.raises(services.NotAllowed):
        services.publish_amendment(colleague, opportunity, amendment(), opportunity.version)


# Cancelling and closing --------------------------------------------------------------------------------

def test_cancelling_stores_the_reason_and_audits_it(author, officer):
    opportunity = published(author, officer)
    services.cancel(officer, opportunity, "Funding withdrawn", opportunity.version)
    db.session.expire_all()
    stored = db.session.get(Opportunity, opportunity.id)
    assert (stored.status, stored.cancel_reason) == (lifecycle.CANCELLED, "Funding withdrawn")
    assert events("opportunity.cancel")[0].details["reason"] == "Funding withdrawn"


def test_cancelling_without_a_reason_is_refused(author):
    opportunity = draft(author)
    with pytest.raises(DomainError, match="Give the reason for cancelling") as refused:
        services.cancel(author, opportunity, "", opportunity.version)
    assert refused.value.field == "reason"


def test_another_commissioner_cannot_cancel(author, colleague):
    opportunity = draft(author)
    with pytest.raises(services.NotAllowed):
        services.cancel(colleague, opportunity, "Not mine", opportunity.version)


def test_close_due_closes_published_opportunities_past_their_deadline(author, officer):
    now = utcnow()
    due = published(author, officer, now)
    still_open = published(author, officer, now)
    still_open.submission_deadline = due.submission_deadline + timedelta(days=1)
    db.session.commit()
    still_draft = draft(author)
    assert services.close_due(due.submission_deadline) == 1
    db.session.expire_all()
    assert db.session.get(Opportunity, due.id).status == lifecycle.CLOSED
    assert db.session.get(Opportunity, still_open.id).status == lifecycle.PUBLISHED
    assert db.session.get(Opportunity, still_draft.id).status == lifecycle.DRAFT
    assert {e.actor_label for e in events("opportunity.close")} == {"clock"}


def test_close_due_leaves_open_opportunities_alone(author, officer):
    opportunity = published(author, officer)
    assert services.close_due(opportunity.submission_deadline - timedelta(seconds=1)) == 0
    assert db.session.get(Opportunity, opportunity.id).status == lifecycle.PUBLISHED


def test_the_close_opportunities_command_closes_due_ones(author, officer, runner):
    opportunity = published(author, officer)
    opportunity.submission_deadline = utcnow() - timedelta(minutes=1)
    db.session.commit()
    result = runner.invoke(args=["close-opportunities"])
    assert result.exit_code == 0, result.output
    assert "Closed 1 opportunity." in result.output
    db.session.expire_all()
    assert db.session.get(Opportunity, opportunity.id).status == lifecycle.CLOSED


# The optimistic lock and the audit chain -----------------------------------------------------------------

def test_a_stale_version_is_refused_and_nothing_is_saved(author):
    opportunity = draft(author)
    loaded_version = opportunity.version
    services.update_details(author, opportunity, details(title="First change"), loaded_version)
    with pytest.raises(services.StaleEdit, match="Someone else changed this opportunity"):
        services.update_details(author, opportunity, details(title="Second change"), loaded_version)
    db.session.expire_all()
    assert db.session.get(Opportunity, opportunity.id).title == "First change"


def test_a_change_committed_by_someone_else_meanwhile_is_not_overwritten(author, database_url):
    opportunity = draft(author)
    version = opportunity.version
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE opportunities SET title = 'Theirs', version = version + 1 WHERE id = :id"),
                           {"id": opportunity.id})
    engine.dispose()
    with pytest.raises(services.StaleEdit):
        services.update_details(author, opportunity, details(title="Mine"), version)
    db.session.expire_all()
    assert db.session.get(Opportunity, opportunity.id).title == "Theirs"


def test_every_change_bumps_the_version(author):
    opportunity = draft(author)
    versions = [opportunity.version]
    services.add_criterion(author, opportunity, opportunity.main_model, criterion(), opportunity.version)
    versions.append(opportunity.version)
    services.add_lot(author, opportunity, lot(), opportunity.version)
    versions.append(opportunity.version)
    assert versions == sorted(set(versions))


def test_the_whole_lifecycle_leaves_an_intact_audit_chain(author, officer):
    opportunity = published(author, officer)
    services.publish_amendment(officer, opportunity, amendment(), opportunity.version)
    services.cancel(officer, opportunity, "Funding withdrawn", opportunity.version)
    actions = [e.action for e in db.session.execute(
        sa.select(AuditEvent).where(AuditEvent.object_type == "opportunity").order_by(AuditEvent.id)).scalars()]
    assert actions == ["opportunity.created", "opportunity.timetable_changed", "evaluation.template_applied",
                       "opportunity.document_added", "opportunity.submit_for_approval",
                       "evaluation.conflicts_assessment_recorded", "opportunity.approve",
                       "opportunity.amend", "opportunity.cancel"]
    assert verify_database().ok


# Queries -----------------------------------------------------------------------------------------------

def test_the_staff_list_filters_by_the_state_people_see(author, officer):
    now = utcnow()
    open_one = published(author, officer, now)
    past = published(author, officer, now)
    past.submission_deadline = now - timedelta(minutes=1)
    db.session.commit()
    a_draft = draft(author)

    def ids(status):
        return {o.id for o in db.session.execute(services.staff_query(status, now)).scalars()}

    assert ids("published") == {open_one.id}
    assert ids("closed") == {past.id}
    assert ids("draft") == {a_draft.id}
    assert ids(None) == {open_one.id, past.id, a_draft.id}


def test_awaiting_approval_leaves_out_the_officers_own(author, lead, officer):
    mine = ready_draft(lead)
    services.submit_for_approval(lead, mine, mine.version)
    theirs = ready_draft(author)
    services.submit_for_approval(author, theirs, theirs.version)
    assert [o.id for o in services.awaiting_approval_for(lead)] == [theirs.id]
    assert {o.id for o in services.awaiting_approval_for(officer)} == {mine.id, theirs.id}
    assert services.awaiting_approval_for(author) == []


def test_a_document_whose_save_fails_leaves_no_file_behind_in_the_store(author, monkeypatch):
    from marketplace import documents
    from marketplace.opportunities.models import OpportunityDocument

    opportunity = draft(author)
    before = set(documents._root().iterdir()) if documents._root().exists() else set()

    def someone_else_saved_first() -> None:
        db.session.rollback()
        raise services.StaleEdit()

    monkeypatch.setattr(services, "_commit", someone_else_saved_first)
    with pytest.raises(services.StaleEdit):
        services.add_document(author, opportunity, "specification", "Specification", "spec.pdf", b"%PDF-1.4 spec",
                              opportunity.version)
    assert set(documents._root().iterdir()) == before
    assert db.session.execute(sa.select(sa.func.count()).select_from(OpportunityDocument)).scalar_one() == 0
