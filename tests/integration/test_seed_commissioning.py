"""`flask seed-demo`'s commissioning data: opportunities in every state, category and locality with valid,
frozen evaluation models; clarification questions; the right-to-bid catalogue and proposals; saved searches and
saved opportunities. Idempotent, audited, quick, and usable through the real pages."""

from __future__ import annotations

import html
import re
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import User
from marketplace.audit import AuditEvent, verify_database
from marketplace.clarifications.models import PRIVATE, PUBLIC, Question
from marketplace.evaluation import model_rules
from marketplace.extensions import db
from marketplace.kent import LOCALITY_CHOICES
from marketplace.opportunities import lifecycle, services
from marketplace.opportunities.models import (
    Criterion, EvaluationModel, Lot, Opportunity, OpportunityDocument, SavedSearch, Watch,
)
from marketplace.opportunities.search import SearchCriteria
from marketplace.organisations.models import Organisation
from marketplace.right_to_bid import rules
from marketplace.right_to_bid.models import CatalogueService, Proposal
from marketplace.right_to_bid.services import today
from marketplace.seed import COMMISSIONER_EMAIL, LEAD_EMAIL, OFFICER_EMAIL
from marketplace.settings import services as settings
from marketplace.taxonomy import CATEGORIES
from marketplace.timeutil import as_utc, london, utcnow
from tests.integration.test_opportunity_services import assess

SEEDED_TABLES = (Opportunity, Lot, EvaluationModel, Criterion, OpportunityDocument, Question, CatalogueService,
                 Proposal, SavedSearch, Watch, User, Organisation, AuditEvent)
# With the past opportunities seed_evaluation adds: one evaluating, one award recommended and two awarded.
EXPECTED_STATES = {
    lifecycle.DRAFT: 4, lifecycle.AWAITING_APPROVAL: 3, lifecycle.PUBLISHED: 30, lifecycle.CLOSED: 8,
    lifecycle.EVALUATING: 3, lifecycle.AWARD_RECOMMENDED: 2, lifecycle.STANDSTILL: 2, lifecycle.AWARDED: 8,
    lifecycle.CANCELLED: 4,
}
TITLE_LINK = re.compile(r'<a class="govuk-link" href="/opportunities/\d+">([^<]+)</a>')


def rows(model) -> list:
    return list(db.session.execute(sa.select(model)).scalars())


def count(model) -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def user(email: str) -> User:
    return db.session.execute(sa.select(User).filter_by(email=email)).scalar_one()


def effective_states() -> Counter:
    now = utcnow()
    return Counter(lifecycle.effective_state(o.status, o.submission_deadline, now) for o in rows(Opportunity))


def in_state(*states: str) -> list[Opportunity]:
    now = utcnow()
    return [o for o in rows(Opportunity) if lifecycle.effective_state(o.status, o.submission_deadline, now) in states]


def public() -> list[Opportunity]:
    return in_state(*lifecycle.PUBLIC_STATES)


# Idempotent, audited, quick ---------------------------------------------------------------------------------

def test_seeding_twice_adds_nothing(runner, seeded):
    before = {model.__name__: count(model) for model in SEEDED_TABLES}
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0, again.output
    assert {model.__name__: count(model) for model in SEEDED_TABLES} == before
    for line in ("Opportunities added: 0.", "Clarification questions added: 0.",
                 "Right-to-bid catalogue services added: 0.", "Right-to-bid proposals added: 0.",
                 "Saved searches added: 0; saved opportunities added: 0."):
        assert line in again.output


def test_the_summary_gives_what_was_added_with_counts_by_state(seeded):
    assert ("Opportunities added: 60 (4 draft, 3 awaiting approval, 30 open, 8 closed, 2 evaluating, "
            "1 award recommended, 2 standstill, 6 awarded, 4 cancelled).") in seeded.output
    assert "Clarification questions added: 15 (8 answered publicly, 3 answered privately, 4 unanswered)." \
        in seeded.output
    assert "Right-to-bid catalogue services added: 10." in seeded.output
    assert ("Right-to-bid proposals added: 7 (3 waiting for a decision, 1 accepted, 1 accepted with a "
            "modification, 2 rejected).") in seeded.output
    assert "Saved searches added: 3; saved opportunities added: 5." in seeded.output


def test_every_seeded_row_has_a_seed_demo_audit_event_and_the_chain_verifies(runner, seeded):
    runner.invoke(args=["seed-demo"])
    by_seed = Counter(e.action for e in rows(AuditEvent) if e.actor_label == "seed-demo")
    assert by_seed == {"staff.seeded": 4, "organisation.seeded": 40, "opportunity.seeded": 64,
                       "clarification.seeded": 15, "right_to_bid.service_seeded": 10,
                       "right_to_bid.proposal_seeded": 7, "saved_search.seeded": 3, "opportunity.watch_seeded": 5,
                       "bid.seeded": 117, "evaluation.conflicts_assessment_seeded": 57, "evaluation.panel_seeded": 19,
                       "evaluation.release_seeded": 15, "award.approval_seeded": 10, "award.confirmation_seeded": 8,
                       "opportunity.cancellation_seeded": 1}
    report = verify_database()
    assert report.ok and report.checked == count(AuditEvent)
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 0 and f"intact: {report.checked} events checked" in result.output


# Opportunities ----------------------------------------------------------------------------------------------

def test_the_opportunities_are_spread_over_every_state_by_the_clock_of_the_run(seeded):
    assert effective_states() == EXPECTED_STATES


def test_some_open_opportunities_close_within_seven_days_and_the_rest_later(seeded):
    now = utcnow()
    left = [o.submission_deadline - now for o in in_state(lifecycle.PUBLISHED)]
    soon = [delta for delta in left if delta <= timedelta(days=7)]
    assert 3 <= len(soon) < len(left)
    assert all(delta > timedelta(0) for delta in left)


def test_the_opportunities_cover_every_category_and_every_locality_including_county_wide(seeded):
    opportunities = rows(Opportunity)
    assert {o.category for o in opportunities} == set(CATEGORIES)
    assert {slug for o in opportunities for slug in o.localities} == {slug for slug, _ in LOCALITY_CHOICES}
    assert all(o.localities == ["county-wide"] or "county-wide" not in o.localities for o in opportunities)


def test_values_run_from_15k_to_2_5m_and_only_those_below_the_threshold_are_reserved(seeded):
    threshold = settings.get("procurement_threshold")
    opportunities = rows(Opportunity)
    values = [o.estimated_value for o in opportunities]
    assert min(values) >= Decimal(15_000) and max(values) <= Decimal(2_500_000)
    assert any(v >= threshold for v in values)
    reserved = Counter(o.reservation for o in opportunities if o.reservation != "none")
    assert reserved["kent"] >= 5 and reserved["kent_sme_vcse"] >= 5
    assert all(services.reservation_error(o.reservation, o.estimated_value) is None for o in opportunities)


def test_some_opportunities_have_lots_that_fit_within_their_value(seeded):
    with_lots = [o for o in rows(Opportunity) if o.lots]
    assert len(with_lots) >= 3
    for opportunity in with_lots:
        assert [lot.number for lot in opportunity.lots] == list(range(1, len(opportunity.lots) + 1))
        assert services.lots_total(opportunity) <= opportunity.estimated_value


def test_every_published_opportunity_has_a_valid_evaluation_model_frozen_at_publication(seeded):
    published = public()
    assert len(published) == 57
    for opportunity in published:
        for model in opportunity.models:
            spec = services.model_spec(model)
            assert model.criteria and model_rules.model_problems(spec, services.rules_context(opportunity)) == []
            assert model_rules.total_weight(spec) == 100
        assert opportunity.model_frozen_at is not None
        assert as_utc(opportunity.model_frozen_at) == as_utc(opportunity.published_at)


def test_published_timetables_follow_the_rules(seeded):
    now = utcnow()
    gap, tender = (timedelta(days=settings.get(key)) for key in
                   ("minimum_clarification_gap_days", "minimum_tender_period_days"))
    for opportunity in public():
        published, clarification, submission = (as_utc(opportunity.published_at),
                                                as_utc(opportunity.clarification_deadline),
                                                as_utc(opportunity.submission_deadline))
        assert published < now
        assert published < clarification <= submission - gap
        assert submission - published >= tender
        assert opportunity.contract_start > london(submission).date()


def test_seeded_commissioners_write_them_and_another_procurement_officer_approves(seeded):
    commissioners = {user(COMMISSIONER_EMAIL).id, user(LEAD_EMAIL).id}
    officer = user(OFFICER_EMAIL)
    for opportunity in rows(Opportunity):
        assert opportunity.created_by_id in commissioners
        assert opportunity.contact_email and opportunity.reference.startswith("KCC-")
    for opportunity in public():
        assert opportunity.approved_by_id == officer.id != opportunity.created_by_id
    assert all(o.approved_by_id is None for o in in_state(lifecycle.DRAFT, lifecycle.AWAITING_APPROVAL))


def test_cancelled_opportunities_give_their_reason_and_a_returned_draft_says_why(seeded):
    assert all(o.cancel_reason for o in in_state(lifecycle.CANCELLED))
    assert any(o.return_reason for o in in_state(lifecycle.DRAFT))


def test_opportunities_awaiting_approval_are_ready_to_approve(seeded):
    waiting = in_state(lifecycle.AWAITING_APPROVAL)
    assert waiting and all(services.readiness(o, utcnow(), approving=True) == [] for o in waiting)


def test_the_procurement_officer_can_approve_a_seeded_opportunity(seeded, client, as_user, mailbox):
    opportunity = in_state(lifecycle.AWAITING_APPROVAL)[0]
    assess(user(OFFICER_EMAIL), opportunity)
    as_user(user(OFFICER_EMAIL))
    response = client.submit(f"/commissioning/{opportunity.id}/approve", {"version": str(opportunity.version)},
                             page_url=f"/commissioning/{opportunity.id}", follow_redirects=True)
    assert "approved and published" in response.get_data(as_text=True)
    db.session.refresh(opportunity)
    assert opportunity.status == lifecycle.PUBLISHED


def test_each_complete_opportunity_has_a_specification_the_public_can_download(seeded, client):
    opportunity = in_state(lifecycle.PUBLISHED)[0]
    document = opportunity.documents[0]
    response = client.get(f"/opportunities/{opportunity.id}/documents/{document.id}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    without = [o.title for o in rows(Opportunity) if not any(d.kind == "specification" for d in o.documents)]
    assert len(without) == 3 and all(o.status == lifecycle.DRAFT for o in rows(Opportunity) if o.title in without)


# Through the pages ------------------------------------------------------------------------------------------

def test_the_public_search_page_lists_every_open_opportunity(seeded, client):
    open_titles = {o.title for o in in_state(lifecycle.PUBLISHED)}
    first = client.get("/opportunities").get_data(as_text=True)
    assert "30 opportunities found" in first
    second = client.get("/opportunities?page=2").get_data(as_text=True)
    listed = [html.unescape(title) for page in (first, second) for title in TITLE_LINK.findall(page)]
    assert sorted(listed) == sorted(open_titles)


@pytest.mark.parametrize("state", lifecycle.STATES)
def test_an_opportunity_in_each_state_shows_to_staff_and_only_public_ones_to_everyone(seeded, client, as_user,
                                                                                     state):
    opportunity = in_state(state)[0]
    assert client.get(f"/opportunities/{opportunity.id}").status_code == (
        200 if state in lifecycle.PUBLIC_STATES else 404)
    as_user(user(OFFICER_EMAIL))
    page = client.get(f"/commissioning/{opportunity.id}")
    assert page.status_code == 200
    assert opportunity.title in html.unescape(page.get_data(as_text=True))


# Clarification questions ------------------------------------------------------------------------------------

def test_questions_on_open_opportunities_are_answered_publicly_privately_or_not_yet(seeded):
    questions = rows(Question)
    kinds = Counter(q.visibility or "unanswered" for q in questions)
    assert kinds == {PUBLIC: 8, PRIVATE: 3, "unanswered": 4}
    assert any(q.wording_edited for q in questions if q.visibility == PUBLIC)
    now = utcnow()
    for question in questions:
        opportunity = question.opportunity
        assert lifecycle.effective_state(opportunity.status, opportunity.submission_deadline, now) == \
            lifecycle.PUBLISHED
        asker = db.session.get(User, question.asked_by_id)
        assert asker.membership.organisation_id == question.organisation_id
        assert as_utc(opportunity.published_at) < as_utc(question.asked_at) < as_utc(
            opportunity.clarification_deadline)
        if question.is_answered:
            assert question.published_text and question.answer
            assert question.answered_by_id == opportunity.created_by_id
            assert as_utc(question.asked_at) < as_utc(question.answered_at) < now


def test_public_answers_show_on_the_opportunity_page_without_the_asker(seeded, client):
    question = next(q for q in rows(Question) if q.visibility == PUBLIC and q.wording_edited)
    page = html.unescape(client.get(f"/opportunities/{question.opportunity_id}").get_data(as_text=True))
    assert question.published_text in page and question.answer in page
    assert question.text not in page and question.organisation.legal_name not in page


# Right to bid -----------------------------------------------------------------------------------------------

def test_the_catalogue_has_windows_open_now_closed_and_opening_later(seeded):
    services_ = rows(CatalogueService)
    assert len(services_) == 10
    on = today()
    windows = Counter(s.window_on(on).kind for s in services_)
    assert windows[rules.OPEN] >= 3 and windows[rules.UPCOMING] >= 3 and windows[rules.NONE_SCHEDULED] >= 1
    assert any(s.window_closes < on and s.next_window_opens and s.next_window_opens > on for s in services_)
    for service in services_:
        assert rules.catalogue_problems(service.annual_cost, service.window_opens, service.window_closes,
                                        service.next_window_opens, service.next_window_closes) == []


def test_proposals_are_in_every_state_with_one_overdue_and_one_due_soon(seeded):
    proposals = rows(Proposal)
    assert Counter(p.status for p in proposals) == {rules.SUBMITTED: 3, rules.ACCEPTED: 1,
                                                    rules.ACCEPTED_MODIFIED: 1, rules.REJECTED: 2}
    on = today()
    waiting = [rules.days_left(p.decision_due, on) for p in proposals if p.status == rules.SUBMITTED]
    assert any(left < 0 for left in waiting) and any(0 <= left <= 14 for left in waiting)


def test_proposals_were_made_inside_their_window_by_eligible_proposers(seeded):
    days = settings.get("right_to_bid_decision_days")
    for proposal in rows(Proposal):
        submitted_on = london(proposal.submitted_at).date()
        assert proposal.service.window_on(submitted_on).is_open
        assert proposal.decision_due == rules.decision_due(submitted_on, days)
        org_type = proposal.organisation.org_type if proposal.organisation else None
        assert rules.eligibility_refusal(proposal.proposer_type, org_type) is None
        if proposal.is_staff_group:
            assert rules.staff_group_problems([(m["name"], m["job_title"]) for m in proposal.staff_members],
                                              proposal.effect_on_employees) == []


def test_decided_proposals_have_reasons_and_acceptances_start_a_draft_opportunity(seeded):
    officer = user(OFFICER_EMAIL)
    for proposal in (p for p in rows(Proposal) if p.is_decided):
        assert rules.decision_problems(proposal.status, proposal.decision_ground, proposal.decision_reasons,
                                       proposal.modification, proposal.modification_agreed, True) == []
        assert proposal.decided_by_id == officer.id
        assert as_utc(proposal.submitted_at) < as_utc(proposal.decided_at) < utcnow()
        if rules.is_acceptance(proposal.status):
            assert proposal.opportunity.status == lifecycle.DRAFT
            assert proposal.opportunity.title == proposal.service.name
            assert proposal.reference in proposal.opportunity.summary
        else:
            assert proposal.opportunity_id is None


def test_the_public_register_lists_the_decisions(seeded, client):
    page = html.unescape(client.get("/right-to-bid/decisions").get_data(as_text=True))
    for proposal in (p for p in rows(Proposal) if p.is_decided):
        assert proposal.reference in page


# Saved searches and saved opportunities ---------------------------------------------------------------------

def test_two_providers_have_saved_searches_and_saved_open_opportunities(seeded):
    searches = rows(SavedSearch)
    assert len({s.user_id for s in searches}) == 2
    for saved in searches:
        assert SearchCriteria.from_args(saved.criteria).to_args() == saved.criteria
    watched = rows(Watch)
    assert len({w.user_id for w in watched}) == 2
    assert all(db.session.get(Opportunity, w.opportunity_id).status == lifecycle.PUBLISHED for w in watched)
    assert {w.user_id for w in watched} <= {s.user_id for s in searches}
