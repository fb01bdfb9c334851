"""`flask seed-demo`'s evaluation and award data: a conflicts assessment for every published opportunity; panels
declaring on closed opportunities; opened, checked, scored and moderated evaluations; recommendations, a price
review, standstill with a challenge, confirmed awards with contracts and one cancellation, each consistent with
what the use cases and the engine say. Idempotent, audited, and usable through the real pages."""

from __future__ import annotations

import hashlib
import html
import re
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import User
from marketplace.audit import AuditEvent, verify_database
from marketplace.awards import reading
from marketplace.awards import rules as award_rules
from marketplace.awards.models import Award, Challenge, Contract, PriceReview
from marketplace.bids import rules as bid_rules
from marketplace.bids.models import Bid
from marketplace.bids.snapshot import sealed_kent_share, sealed_price
from marketplace.bids.submission import counting_submission, sealed_content
from marketplace.evaluation import results
from marketplace.evaluation.models import (
    EVALUATOR,
    MODERATOR,
    ComplianceCheck,
    ConflictDeclaration,
    ConflictsAssessment,
    Evaluation,
    ModeratedScore,
    PanelMember,
    Score,
)
from marketplace.evaluation.moderation_rules import is_wide
from marketplace.evaluation.working_days import standstill_end
from marketplace.extensions import db
from marketplace.opportunities import lifecycle
from marketplace.opportunities.models import Opportunity
from marketplace.organisations.models import Organisation
from marketplace.seed import ADMIN_EMAIL, COMMISSIONER_EMAIL, DEMO_PASSWORD, LEAD_EMAIL, OFFICER_EMAIL
from marketplace.timeutil import as_utc, london, utcnow
from marketplace.transparency.dashboard import Quarter

EVALUATION_TABLES = (ConflictsAssessment, PanelMember, ConflictDeclaration, Evaluation, ComplianceCheck, Score,
                     ModeratedScore, Award, PriceReview, Challenge, Contract, Opportunity, Bid, AuditEvent)


def rows(model, *where) -> list:
    return list(db.session.execute(sa.select(model).where(*where)).scalars())


def count(model) -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def in_state(state: str) -> list[Opportunity]:
    return rows(Opportunity, Opportunity.status == state)


def evaluation_of(opportunity: Opportunity) -> Evaluation | None:
    return db.session.execute(sa.select(Evaluation).filter_by(opportunity_id=opportunity.id)).scalar_one_or_none()


def award_of(opportunity: Opportunity) -> Award:
    return db.session.execute(sa.select(Award).filter_by(opportunity_id=opportunity.id)).scalar_one()


def panel_of(opportunity: Opportunity) -> list[PanelMember]:
    return rows(PanelMember, PanelMember.opportunity_id == opportunity.id)


def bids_of(opportunity: Opportunity) -> list[Bid]:
    return rows(Bid, Bid.opportunity_id == opportunity.id)


def user_id(email: str) -> int:
    return db.session.execute(sa.select(User.id).filter_by(email=email)).scalar_one()


def evaluators_submitted(opportunity: Opportunity) -> list[bool]:
    return [m.scores_submitted_at is not None for m in panel_of(opportunity) if m.role == EVALUATOR]


# Before the bids are opened ---------------------------------------------------------------------------------

def test_every_published_opportunity_has_a_conflicts_assessment_recorded_before_publication(seeded):
    published = rows(Opportunity, Opportunity.published_at.is_not(None))
    assessments = {a.opportunity_id: a for a in rows(ConflictsAssessment)}
    assert len(published) == 57 and set(assessments) == {o.id for o in published}
    for opportunity in published:
        assessment = assessments[opportunity.id]
        assert "Who prepared the opportunity:" in assessment.summary and assessment.recorded_by_id
        assert as_utc(opportunity.created_at) < as_utc(assessment.recorded_at) < as_utc(opportunity.published_at)


def test_closed_opportunities_have_panels_declaring_and_one_conflict_awaits_mitigation(seeded):
    with_panel = [o for o in in_state(lifecycle.CLOSED) if panel_of(o)]
    assert len(with_panel) == 3 and not any(evaluation_of(o) for o in with_panel)
    declared = sorted(len(rows(ConflictDeclaration, ConflictDeclaration.opportunity_id == o.id)) for o in with_panel)
    assert declared == [0, 2, 3]
    waiting = rows(ConflictDeclaration, ConflictDeclaration.has_conflict.is_(True),
                   ConflictDeclaration.mitigation.is_(None))
    assert len(waiting) == 1 and waiting[0].details
    assert db.session.get(Opportunity, waiting[0].opportunity_id).status == lifecycle.CLOSED
    seats = {(user_id(COMMISSIONER_EMAIL), EVALUATOR), (user_id(LEAD_EMAIL), EVALUATOR),
             (user_id(OFFICER_EMAIL), MODERATOR)}
    for opportunity in with_panel:
        members = panel_of(opportunity)
        assert {(m.user_id, m.role) for m in members} == seats
        assert all(as_utc(m.assigned_at) < as_utc(opportunity.submission_deadline) for m in members)
    for declaration in rows(ConflictDeclaration):
        deadline = db.session.get(Opportunity, declaration.opportunity_id).submission_deadline
        assert as_utc(deadline) < as_utc(declaration.declared_at) < utcnow()


# Opening, compliance, scores and moderation ----------------------------------------------------------------

def test_opening_records_verify_every_receipt_and_each_opened_bid_has_a_compliance_decision(seeded):
    evaluations = rows(Evaluation)
    assert len(evaluations) == 16
    for evaluation in evaluations:
        opportunity = db.session.get(Opportunity, evaluation.opportunity_id)
        versions = {v.bid_id: v for v in results.counting_versions(opportunity.id)}
        assert [entry["bid_id"] for entry in evaluation.opening_record] == sorted(versions)
        for entry in evaluation.opening_record:
            version = versions[entry["bid_id"]]
            assert entry["verified"] and entry["sha256"] == version.sha256
            assert hashlib.sha256(version.content.encode("utf-8")).hexdigest() == entry["sha256"]
        assert as_utc(opportunity.submission_deadline) < as_utc(evaluation.opened_at) < utcnow()
        for entry in evaluation.opening_record:
            check = db.session.execute(sa.select(ComplianceCheck).filter_by(bid_id=entry["bid_id"])).scalar_one()
            bid = db.session.get(Bid, entry["bid_id"])
            assert (bid.status == bid_rules.EXCLUDED) == (not check.compliant)
            if not check.compliant:
                assert check.reason.startswith("The bid does not meet")
                assert any(not c["passed"] and c["note"] for c in check.checks)
    excluded_while_evaluating = [o for o in in_state(lifecycle.EVALUATING)
                                 if any(b.status == bid_rules.EXCLUDED for b in bids_of(o))]
    assert excluded_while_evaluating


def test_one_opportunity_was_cancelled_after_opening_with_a_reason_from_the_list(seeded):
    cancelled = [o for o in in_state(lifecycle.CANCELLED) if evaluation_of(o)]
    assert len(cancelled) == 1
    opportunity = cancelled[0]
    assert opportunity.cancel_reason.startswith(award_rules.CANCEL_REASONS["no_compliant_bids"])
    assert {b.status for b in bids_of(opportunity) if b.submissions} == {bid_rules.EXCLUDED}


def test_evaluations_are_being_scored_in_moderation_and_moderated(seeded):
    evaluating = {o.title: o for o in in_state(lifecycle.EVALUATING)}
    assert len(evaluating) == 3 and all(evaluation_of(o).released_at for o in evaluating.values())
    stages = sorted((sorted(evaluators_submitted(o)), evaluation_of(o).moderation_completed_at is not None)
                    for o in evaluating.values())
    assert stages == [([False, True], False), ([True, True], False), ([True, True], True)]
    moderating = next(o for o in evaluating.values()
                      if all(evaluators_submitted(o)) and not evaluation_of(o).moderation_completed_at)
    compliant = [b for b in bids_of(moderating) if b.status == bid_rules.COMPLIANT]
    consensus = rows(ModeratedScore, ModeratedScore.bid_id.in_([b.id for b in compliant]))
    assert 0 < len({m.bid_id for m in consensus}) < len(compliant)


def test_consensus_scores_keep_both_evaluators_originals_and_some_were_far_apart(seeded):
    consensus = rows(ModeratedScore)
    assert consensus
    wide = 0
    for agreed in consensus:
        originals = [Decimal(s.score) for s in rows(Score, Score.bid_id == agreed.bid_id,
                                                     Score.criterion_id == agreed.criterion_id)]
        assert len(originals) == 2 and min(originals) <= Decimal(agreed.score) <= max(originals)
        assert agreed.reason and agreed.moderator_id
        wide += is_wide(originals, 5, 40)
    assert wide >= 5
    assert all(s.justification.strip() for s in rows(Score))


# Awards ----------------------------------------------------------------------------------------------------

def test_awards_are_in_each_status_and_each_stored_ranking_is_the_engine_s(seeded):
    awards = rows(Award)
    assert Counter(a.status for a in awards) == {award_rules.RECOMMENDED: 2, award_rules.APPROVED: 2,
                                                 award_rules.CONFIRMED: 8}
    for award in awards:
        opportunity = db.session.get(Opportunity, award.opportunity_id)
        assert results.rank(opportunity).display() == award.ranking
        assert award.ranking["winner"] == str(award.bid_id)
        assert award.reasons.startswith(reading.names_of(opportunity.id)[str(award.bid_id)])
        assert award.recommended_by_id == user_id(OFFICER_EMAIL)
        if award.status != award_rules.RECOMMENDED:
            assert award.decided_by_id == user_id(ADMIN_EMAIL)
            assert award.standstill_ends_on == standstill_end(london(award.notice_published_at).date())
            assert as_utc(award.recommended_at) < as_utc(award.decided_at) == as_utc(award.notice_published_at)
    waiting = [a for a in awards if a.status == award_rules.RECOMMENDED]
    assert {db.session.get(Opportunity, a.opportunity_id).status for a in waiting} == {lifecycle.AWARD_RECOMMENDED}


def test_an_abnormally_low_price_was_explained_and_accepted_so_its_award_can_be_approved(seeded):
    [review] = rows(PriceReview)
    assert review.accepted and review.bidder_explanation and review.flags[0].startswith("abnormally_low")
    opportunity = db.session.get(Opportunity, db.session.get(Bid, review.bid_id).opportunity_id)
    award = award_of(opportunity)
    assert award.status == award_rules.RECOMMENDED
    assert reading.approval_blockers(opportunity, award, reading.live_display(opportunity)) == []


def test_standstill_runs_from_the_notice_and_a_challenge_suspends_one_award(seeded):
    today = london(utcnow()).date()
    states = []
    for opportunity in in_state(lifecycle.STANDSTILL):
        award = award_of(opportunity)
        assert london(award.notice_published_at).date() < today <= award.standstill_ends_on
        states.append(award_rules.standstill_state(award.standstill_ends_on, today,
                                                   *reading.challenge_counts(award.id)))
    assert sorted(states) == [award_rules.RUNNING, award_rules.SUSPENDED]
    challenge = rows(Challenge)[0]
    award = db.session.get(Award, challenge.award_id)
    assert as_utc(award.notice_published_at) < as_utc(challenge.received_at) < utcnow()
    assert challenge.organisation_id in {org_id for org_id, _ in reading.bidders_of(award.opportunity_id)}


def test_awarded_opportunities_have_a_contract_with_the_supplier_status_captured_at_award(seeded):
    awarded = in_state(lifecycle.AWARDED)
    contracts = {c.opportunity_id: c for c in rows(Contract)}
    assert len(awarded) == 8 and set(contracts) == {o.id for o in awarded}
    for opportunity in awarded:
        contract, award = contracts[opportunity.id], award_of(opportunity)
        bid = db.session.get(Bid, award.bid_id)
        organisation = db.session.get(Organisation, bid.organisation_id)
        sealed = sealed_content(counting_submission(bid))
        assert (contract.bid_id, contract.supplier_name) == (bid.id, organisation.legal_name)
        assert (contract.supplier_is_vcse, contract.supplier_is_sme, contract.supplier_kent_based) == (
            organisation.is_vcse, organisation.is_sme, organisation.kent_based)
        assert contract.value == sealed_price(sealed) and contract.kent_share == sealed_kent_share(sealed)
        assert as_utc(contract.awarded_at) == as_utc(award.confirmed_at)
        assert london(award.confirmed_at).date() > award.standstill_ends_on
        assert Counter(b.status for b in bids_of(opportunity))[bid_rules.SUCCESSFUL] == 1


def test_the_contracts_spread_over_the_past_year_and_a_mix_of_suppliers(seeded):
    contracts = rows(Contract)
    now = utcnow()
    assert all(now - timedelta(days=365) < as_utc(c.awarded_at) < now for c in contracts)
    assert len({Quarter.containing(london(c.awarded_at).date()) for c in contracts}) >= 3
    assert any(c.supplier_is_vcse for c in contracts) and any(c.supplier_size == "large" for c in contracts)
    assert any(c.supplier_is_sme and not c.supplier_is_vcse for c in contracts)
    assert any(not c.supplier_kent_based for c in contracts) and any(c.supplier_kent_based for c in contracts)
    assert any(any(m["kent_based"] for m in c.consortium) for c in contracts)
    assert len({c.category for c in contracts}) >= 6


# Idempotent, audited, quick ----------------------------------------------------------------------------------

def test_seeding_again_adds_nothing_every_step_is_audited_and_the_chain_verifies(runner, seeded):
    assert "Contracts added: 8." in seeded.output
    assert "Conflicts assessments added: 57." in seeded.output
    before = {model.__name__: count(model) for model in EVALUATION_TABLES}
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0, again.output
    assert {model.__name__: count(model) for model in EVALUATION_TABLES} == before
    assert "Contracts added: 0." in again.output and "Evaluations added: 0." in again.output
    report = verify_database()
    assert report.ok and report.checked == count(AuditEvent)
    assert runner.invoke(args=["audit-verify"]).exit_code == 0
    actions = Counter(e.action for e in rows(AuditEvent))
    assert actions["evaluation.opened"] == count(Evaluation)
    assert actions["evaluation.compliance_recorded"] == count(ComplianceCheck)
    assert actions["award.recommended"] == count(Award)
    assert actions["award.approval_seeded"] == 10 and actions["award.confirmation_seeded"] == count(Contract)
    assert actions["evaluation.panel_seeded"] == len({m.opportunity_id for m in rows(PanelMember)})
    submitted = rows(PanelMember, PanelMember.scores_submitted_at.is_not(None))
    assert actions["evaluation.scores_submitted"] == len(submitted)


# Through the pages ------------------------------------------------------------------------------------------

def sign_in(client, email: str) -> None:
    response = client.submit("/sign-in", {"email": email, "password": DEMO_PASSWORD})
    assert response.status_code == 302, email


def text(response) -> str:
    assert response.status_code == 200
    return re.sub(r"\s+", " ", html.unescape(response.get_data(as_text=True)))


def test_the_seeded_officer_reads_every_page_and_the_evaluator_still_scoring_carries_on(seeded, client):
    moderating = next(o for o in in_state(lifecycle.EVALUATING)
                      if all(evaluators_submitted(o)) and not evaluation_of(o).moderation_completed_at)
    recommended = in_state(lifecycle.AWARD_RECOMMENDED)[0]
    contract = rows(Contract)[0]
    sign_in(client, OFFICER_EMAIL)
    assert moderating.title in text(client.get(f"/commissioning/{moderating.id}/evaluation"))
    assert "Moderation" in text(client.get(f"/commissioning/{moderating.id}/evaluation/moderation"))
    assert recommended.title in text(client.get(f"/commissioning/{recommended.id}/award"))
    assert contract.supplier_name in text(client.get("/contracts"))
    assert client.get("/spending").status_code == 200
    client.post("/sign-out", data={"csrf_token": client.csrf_token("/commissioning/evaluations")})

    scoring = next(o for o in in_state(lifecycle.EVALUATING) if not all(evaluators_submitted(o)))
    sign_in(client, LEAD_EMAIL)
    assert scoring.title in text(client.get(f"/commissioning/{scoring.id}/evaluation/scoring"))
