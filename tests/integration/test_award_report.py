"""The award report's loader and the bidders' letters, on a real database: the figures are the engine's, every
section reads the records of the procurement, the loader's query count does not grow with the number of bids,
and a report or letter exists only at the stages the rules allow."""

from __future__ import annotations

import importlib.util
import sys
from types import SimpleNamespace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from marketplace.bids.models import Bid
from marketplace.evaluation import results
from marketplace.evaluation.models import Evaluation, ModeratedScore
from marketplace.extensions import db
from marketplace.opportunities import lifecycle
from marketplace.opportunities.models import Opportunity
from marketplace.reports import award_report, letters
from marketplace.timeutil import utcnow
from tests.builders import closed_with_bids, make_bid
from tests.factories import OrganisationFactory
from tests.report_builders import EXCLUSION_REASON, evaluated, set_aside
from tests.staff_fixtures import author, request_context  # noqa: F401
from tests.sql import statements_sent as counted


def build(opportunity):
    return award_report.build(opportunity, utcnow())


def by_bid(ranking: dict) -> dict:
    return {entry["id"]: entry for entry in ranking["bids"]}


# The figures are the engine's ----------------------------------------------------------------------------

@pytest.mark.parametrize("stage", [lifecycle.EVALUATING, lifecycle.AWARDED])
def test_every_figure_in_the_ranking_and_the_points_table_is_the_engines(author, stage):
    state = evaluated(author, stage=stage)
    report = build(state.opportunity)
    engine = by_bid(results.rank(state.opportunity).display())
    assert [row.bid_id for row in report.ranking] == [int(i) for i, e in engine.items() if not e["excluded"]]
    for row in report.ranking:
        entry = engine[str(row.bid_id)]
        assert (row.rank, row.total) == (entry["rank"], entry["total"])
        assert row.points == [entry["points"][criterion.id] for criterion in report.scored]
    assert report.summary.winner == "Bidder 3 Community Interest Company"
    assert (report.summary.winner_total, report.summary.runner_up_total) == ("74.56", "68.50")
    assert report.summary.margin == Decimal("6.06")


def test_once_recommended_the_report_keeps_the_ranking_stored_with_the_recommendation(author):
    state = evaluated(author, stage=lifecycle.AWARD_RECOMMENDED)
    score = db.session.execute(sa.select(ModeratedScore).where(ModeratedScore.bid_id == state.bids[0].id)
                               .order_by(ModeratedScore.id)).scalars().first()
    score.score = Decimal(5)  # a later change to the moderated scores does not rewrite the recommendation
    db.session.commit()
    assert by_bid(results.rank(state.opportunity).display())[str(state.bids[0].id)]["total"] == "76.50"
    report = build(state.opportunity)
    stored = by_bid(state.award.ranking)
    assert {row.bid_id: row.total for row in report.ranking} == {int(i): e["total"] for i, e in stored.items()
                                                                  if not e["excluded"]}
    assert "stored with the recommendation" in report.ranking_source


def test_the_robustness_comes_from_the_engines_sensitivity(author):
    state = evaluated(author, stage=lifecycle.AWARD_RECOMMENDED)
    summary = build(state.opportunity).summary
    smallest = state.ranking["sensitivity"]["smallest"]
    assert (smallest["weight"], smallest["new_weight"]) == ("35.00", "45.38")
    assert summary.robustness == "Robust"  # a 10.38-point shift of one weight is needed
    assert "‘Price’ from 35.00 to 45.38" in summary.robustness_detail
    assert "Bidder 4 Community Interest Company level with the winner" in summary.robustness_detail


# Stages -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("stage, draft", [(lifecycle.EVALUATING, True), (lifecycle.AWARD_RECOMMENDED, True),
                                          (lifecycle.STANDSTILL, False), (lifecycle.AWARDED, False)])
def test_the_report_is_a_draft_until_the_award_is_approved(author, stage, draft):
    assert build(evaluated(author, stage=stage).opportunity).draft is draft


def test_no_report_while_moderation_is_incomplete(author):
    state = evaluated(author, stage=lifecycle.EVALUATING)
    db.session.get(Evaluation, state.evaluation.id).moderation_completed_at = None
    db.session.commit()
    with pytest.raises(award_report.NotReportable, match="once moderation is complete"):
        build(state.opportunity)


def test_no_report_for_bids_not_yet_opened_nor_for_a_cancelled_opportunity(author):
    opportunity, _ = closed_with_bids(author)
    with pytest.raises(award_report.NotReportable, match="have not been opened"):
        build(opportunity)
    opportunity.status = lifecycle.CANCELLED
    db.session.commit()
    with pytest.raises(award_report.NotReportable, match="cancelled"):
        build(opportunity)


def test_a_report_needs_a_ranking(author):
    state = evaluated(author, stage=lifecycle.EVALUATING)
    db.session.execute(sa.delete(ModeratedScore).where(ModeratedScore.bid_id == state.bids[0].id))
    db.session.commit()
    with pytest.raises(award_report.NotReportable, match="no consensus score yet"):
        build(state.opportunity)


def test_who_may_read_an_award_report():
    opportunity = SimpleNamespace(created_by_id=7)

    def user(*roles, id=1):
        return SimpleNamespace(is_authenticated=True, id=id, roles=frozenset(roles))

    assert award_report.can_read_award_report(user("procurement_officer"), opportunity)
    assert award_report.can_read_award_report(user("administrator"), opportunity)
    assert award_report.can_read_award_report(user("commissioner", id=7), opportunity)
    assert not award_report.can_read_award_report(user("commissioner", id=8), opportunity)
    assert not award_report.can_read_award_report(user(), opportunity)
    assert not award_report.can_read_award_report(SimpleNamespace(is_authenticated=False), opportunity)


def test_before_the_deadline_no_report_exists_whatever_the_status(author):
    opportunity, _ = closed_with_bids(author)
    assert not award_report.is_sealed(opportunity, utcnow())
    assert award_report.is_sealed(opportunity, opportunity.submission_deadline - timedelta(seconds=1))
    opportunity.status = lifecycle.PUBLISHED
    assert award_report.is_sealed(opportunity, utcnow())


# The sections ---------------------------------------------------------------------------------------------

def test_every_opened_bid_is_listed_with_its_receipt_hash_and_the_excluded_one_with_its_ground(author):
    state = evaluated(author)
    report = build(state.opportunity)
    record = {entry["bid_id"]: entry["sha256"] for entry in state.evaluation.opening_record}
    assert {r.bid_id: r.sha256 for r in report.receipts} == record
    [excluded] = report.excluded
    assert excluded.bid_id == state.bids[4].id and excluded.outcome == f"Excluded: {EXCLUSION_REASON}"
    assert state.bids[4].id not in [row.bid_id for row in report.ranking]


def test_the_moderation_record_keeps_each_evaluators_score_and_marks_wide_disagreement(author):
    state = evaluated(author)
    rows = build(state.opportunity).moderation
    assert len(rows) == 4 * 2  # four compliant bids, two panel-scored criteria
    first = rows[0]
    assert (first.organisation, first.criterion) == ("Bidder 1 Community Interest Company",
                                                     "How you will deliver the service")
    assert [(s.evaluator, s.score) for s in first.scores] == [("Evie Evaluator", 5), ("Ellis Evaluator", 3)]
    assert first.wide and first.consensus == 4 and first.reason.startswith("Consensus 4")
    assert not any(row.wide for row in rows[1:])


def test_a_declared_conflict_is_shown_with_its_mitigation(author):
    conflicts = build(evaluated(author).opportunity).conflicts
    assert conflicts.assessment.startswith("Prepared by the adult social care commissioning team")
    declared = {row.person: row for row in conflicts.declarations}
    assert declared["Ellis Evaluator"].has_conflict and "Bidder 2" in declared["Ellis Evaluator"].details
    assert declared["Ellis Evaluator"].mitigated_by == "Pat Procurement"
    assert declared["Evie Evaluator"].has_conflict is False
    assert declared["Pat Procurement"].roles == "Moderator"


def test_an_abnormally_low_price_shows_the_flags_the_explanation_and_the_decision(author):
    state = evaluated(author)
    [review] = build(state.opportunity).price_reviews
    assert review.organisation == "Bidder 4 Community Interest Company"
    assert review.flags == ["49.3% under the mean of the other compliant bids",
                            "40.0% under the next lowest compliant price (Bidder 2 Community Interest Company)"]
    assert review.accepted and review.explanation.startswith("Our volunteers")
    assert review.decided_by == "Pat Procurement"


def test_the_winners_commitments_come_from_its_sealed_bid_then_from_the_contract(author):
    recommended_state = evaluated(author, stage=lifecycle.AWARD_RECOMMENDED)
    recommended = build(recommended_state.opportunity).commitments
    assert recommended.source == "its sealed bid (version 1)"
    assert (recommended.value, recommended.kent_share, recommended.kent_spend) == (
        Decimal("135000.00"), Decimal("0.350000"), Decimal("47250.00"))
    assert recommended.social_value == ["Apprenticeships created: 156 weeks"]
    assert recommended.supply_chain[0].name == "Margate Men's Shed"
    set_aside(recommended_state.opportunity.id)
    state = evaluated(author)
    awarded = build(state.opportunity).commitments
    assert awarded.source == f"the contract {state.contract.reference}"
    assert (awarded.kent_spend, awarded.kent_jobs, awarded.kent_apprenticeships) == (Decimal("47250.00"), 4, 1)


def test_standstill_and_the_approvals_name_who_did_what(author):
    state = evaluated(author, stage=lifecycle.STANDSTILL)
    report = build(state.opportunity)
    assert report.standstill.ends_on == state.award.standstill_ends_on
    assert [(a.step, a.person) for a in report.approvals] == [
        ("Award recommended", "Pat Procurement"), ("Award approved", "Alex Approver"), ("Award notice published", "")]


def test_the_audit_trail_has_the_procurements_steps_but_no_bidders_activity_before_the_deadline(author):
    state = evaluated(author)
    actions = [row.action for row in build(state.opportunity).audit]
    assert actions[0] == "evaluation.panel_assigned" and actions[-1] == "award.confirmed"
    assert {"evaluation.bids_opened", "evaluation.compliance_recorded", "award.recommended",
            "award.price_review_recorded", "award.approved"} <= set(actions)
    assert "bid.submitted" not in actions  # before the deadline: the bidder's own business


def test_the_loader_makes_the_same_number_of_queries_whatever_the_number_of_bids(author):
    few = evaluated(author, prices=[Decimal(100000 + n * 1000) for n in range(3)])
    set_aside(few.opportunity.id)
    many = evaluated(author, prices=[Decimal(100000 + n * 1000) for n in range(12)])

    def queries(opportunity_id: int) -> int:
        db.session.expunge_all()
        opportunity = db.session.get(Opportunity, opportunity_id)
        with counted() as statements:
            build(opportunity)
        return len(statements)

    ids = many.opportunity.id, few.opportunity.id
    assert queries(ids[0]) == queries(ids[1])


# Letters -------------------------------------------------------------------------------------------------

def test_each_evaluated_bidder_gets_its_own_and_the_winners_points_with_the_moderators_reasons(author):
    state = evaluated(author, stage=lifecycle.STANDSTILL)
    letter = letters.letter_for(db.session.get(Bid, state.bids[0].id))
    stored = by_bid(state.award.ranking)
    own, winner = stored[str(state.bids[0].id)], stored[state.ranking["winner"]]
    assert (letter.kind, letter.winner, letter.rank, letter.total) == ("assessment", False, 2, "68.50")
    assert letter.winner_name == "Bidder 3 Community Interest Company" and letter.winner_total == winner["total"]
    assert [line.own_points for line in letter.lines] == list(own["points"].values())
    assert [line.winner_points for line in letter.lines] == list(winner["points"].values())
    assert letter.lines[0].reason.startswith("Consensus 4") and letter.lines[0].assessment == \
        "Consensus score 4 out of 5"
    assert letter.lines[3].assessment == "Your price of £120,000.00, scored relative to the lowest price " \
                                         "(lowest ÷ price × weight)"
    assert letter.standstill_ends_on == state.award.standstill_ends_on and not letter.draft


def test_an_excluded_bid_gets_an_exclusion_letter_with_its_ground(author):
    state = evaluated(author, stage=lifecycle.STANDSTILL)
    letter = letters.letter_for(db.session.get(Bid, state.bids[4].id))
    assert (letter.kind, letter.ground, letter.rank) == ("exclusion", EXCLUSION_REASON, None)


def test_letter_pdf_is_none_until_the_award_notice_is_published(author):
    state = evaluated(author, stage=lifecycle.AWARD_RECOMMENDED)
    bid = db.session.get(Bid, state.bids[2].id)
    assert letters.letter_for(bid).draft and letters.letter_pdf(bid) is None
    set_aside(state.opportunity.id)
    state = evaluated(author, stage=lifecycle.STANDSTILL)
    filename, data = letters.letter_pdf(db.session.get(Bid, state.winner.id))
    assert filename == f"{state.opportunity.reference}-assessment-summary-bidder-3-community-interest-company.pdf"
    assert data.startswith(b"%PDF-")


def test_a_bid_that_was_never_opened_has_no_letter(author):
    state = evaluated(author, stage=lifecycle.STANDSTILL)
    unsent = make_bid(state.opportunity, OrganisationFactory(), complete=False)
    assert letters.letter_for(unsent) is None and letters.letter_pdf(unsent) is None


# The benchmark still runs ---------------------------------------------------------------------------------

def test_the_award_report_benchmark_runs_on_a_small_tender(monkeypatch):
    root = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location("bench_award_report", root / "benchmarks" / "bench_award_report.py")
    bench = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, bench)
    spec.loader.exec_module(bench)
    [row] = bench.measure(sizes=(2,), repeats=1)
    assert row.bids == 2 and row.pages >= 5 and row.queries > 0 and row.render_peak > 0
    assert bench.table([row], 1).splitlines()[2].split()[0] == "2"
