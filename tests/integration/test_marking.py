"""Independent scoring on a real database: each evaluator scores alone, on the scale, with a justification, and
submits once; nobody sees anyone else's scores before submitting."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from marketplace.audit import AuditEvent
from marketplace.bids.models import BidAnswer
from marketplace.errors import NotFound
from marketplace.evaluation import marking
from marketplace.evaluation.moderation_rules import Entry
from marketplace.evaluation.models import ComplianceCheck, PanelMember, Score
from marketplace.extensions import db
from marketplace.opportunities.lifecycle import CANCELLED
from marketplace.opportunities.models import Opportunity
from marketplace.timeutil import utcnow
from tests.builders import make_bid, make_opportunity
from tests.evaluation_builders import record_compliance, released_panel, score_all, seat, submit
from tests.factories import OrganisationFactory, StaffFactory
from tests.staff_fixtures import request_context  # noqa: F401


@pytest.fixture()
def panel():
    return released_panel(evaluators=2)


def entries_for(criteria, value="3", text="Clear plan with named staff") -> dict[int, Entry]:
    return {c.id: Entry(None if value is None else Decimal(value), text) for c in criteria}


def events(action: str) -> list[AuditEvent]:
    return list(db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == action)).scalars())


def scores_of(user) -> list[Score]:
    return list(db.session.execute(sa.select(Score).where(Score.evaluator_id == user.id)).scalars())


def test_an_evaluator_saves_scores_with_justifications_and_the_save_is_audited(panel):
    ann, bid = panel.evaluators[0], panel.bids[0]
    changed = marking.save_scores(ann, panel.opportunity, bid.id, entries_for(panel.criteria, "3.5"))
    assert sorted(changed) == sorted(c.id for c in panel.criteria)
    saved = scores_of(ann)
    assert {(s.bid_id, Decimal(s.score), s.justification) for s in saved} == {
        (bid.id, Decimal("3.5"), "Clear plan with named staff")}
    assert len(saved) == len(panel.criteria)
    [event] = events("evaluation.scores_saved")
    assert event.object_id == str(bid.id) and event.actor_id == ann.id
    assert event.details["criteria"][str(panel.criteria[0].id)] == {"score": "3.50", "previous": None}


def test_saving_the_same_scores_again_records_no_second_event(panel):
    ann, bid = panel.evaluators[0], panel.bids[0]
    marking.save_scores(ann, panel.opportunity, bid.id, entries_for(panel.criteria))
    assert marking.save_scores(ann, panel.opportunity, bid.id, entries_for(panel.criteria)) == []
    assert len(events("evaluation.scores_saved")) == 1


def test_a_justification_is_mandatory_and_nothing_is_saved_without_it(panel):
    ann = panel.evaluators[0]
    with pytest.raises(marking.Invalid) as refused:
        marking.save_scores(ann, panel.opportunity, panel.bids[0].id, entries_for(panel.criteria, "4", text=" "))
    assert {e.field for e in refused.value.errors} == {f"justification_{c.id}" for c in panel.criteria}
    assert scores_of(ann) == [] and events("evaluation.scores_saved") == []


@pytest.mark.parametrize("value", ["5.01", "6", "-1", "2.125"])
def test_a_score_outside_the_scale_is_refused(panel, value):
    ann = panel.evaluators[0]
    with pytest.raises(marking.Invalid) as refused:
        marking.save_scores(ann, panel.opportunity, panel.bids[0].id, entries_for(panel.criteria, value))
    assert {e.field for e in refused.value.errors} == {f"score_{c.id}" for c in panel.criteria}
    assert scores_of(ann) == []


def test_clearing_a_criterion_removes_the_evaluators_unsubmitted_score(panel):
    ann, bid = panel.evaluators[0], panel.bids[0]
    first, second = panel.criteria
    marking.save_scores(ann, panel.opportunity, bid.id, entries_for(panel.criteria))
    marking.save_scores(ann, panel.opportunity, bid.id,
                        {first.id: Entry(None, ""), second.id: Entry(Decimal(4), "Better")})
    assert {(s.criterion_id, Decimal(s.score)) for s in scores_of(ann)} == {(second.id, Decimal(4))}


def test_a_criterion_not_assigned_to_the_evaluator_cannot_be_scored(panel):
    first, second = panel.criteria
    member = panel.member(panel.evaluators[0])
    member.criterion_ids = [first.id]
    db.session.commit()
    assert [c.id for c in marking.desk(panel.evaluators[0], panel.opportunity).criteria] == [first.id]
    with pytest.raises(NotFound):
        marking.save_scores(panel.evaluators[0], panel.opportunity, panel.bids[0].id,
                            {second.id: Entry(Decimal(3), "Fine")})
    assert scores_of(panel.evaluators[0]) == []


def test_a_bid_excluded_at_compliance_or_of_another_opportunity_cannot_be_scored(panel):
    elsewhere = make_bid(make_opportunity(panel.opportunity.created_by), OrganisationFactory())
    record_compliance(db.session.get(Opportunity, elsewhere.opportunity_id), [elsewhere])
    excluded = panel.bids[2]
    check = db.session.query(ComplianceCheck).filter_by(bid_id=excluded.id).one()
    check.compliant, check.reason = False, "No safeguarding policy"
    db.session.commit()
    for bid_id in (excluded.id, elsewhere.id, 999_999):
        with pytest.raises(NotFound):
            marking.save_scores(panel.evaluators[0], panel.opportunity, bid_id, entries_for(panel.criteria))
    assert [r.bidder.bid_id for r in marking.desk(panel.evaluators[0], panel.opportunity).rows] == [
        panel.bids[0].id, panel.bids[1].id]


def test_nobody_off_the_panel_or_with_an_unresolved_conflict_can_score(panel):
    conflicted = StaffFactory(roles=["commissioner"])
    seat(panel.opportunity, conflicted, conflict=True)
    for user in (StaffFactory(roles=["procurement_officer"]), conflicted, panel.moderator):
        with pytest.raises(NotFound):
            marking.save_scores(user, panel.opportunity, panel.bids[0].id, entries_for(panel.criteria))


def test_nobody_can_score_before_the_bids_are_released():
    unreleased = released_panel(evaluators=1, released=False)
    with pytest.raises(NotFound):
        marking.desk(unreleased.evaluators[0], unreleased.opportunity)


def test_scores_cannot_change_once_the_opportunity_is_cancelled(panel):
    panel.opportunity.status = CANCELLED
    db.session.commit()
    with pytest.raises(marking.ScoringRefused, match="no longer being evaluated"):
        marking.save_scores(panel.evaluators[0], panel.opportunity, panel.bids[0].id, entries_for(panel.criteria))


# Submitting ------------------------------------------------------------------------------------------

def test_submitting_is_refused_with_the_list_of_what_is_missing(panel):
    ann = panel.evaluators[0]
    score_all(panel.opportunity, ann, 3, bids=panel.bids[:2])
    with pytest.raises(marking.Incomplete) as refused:
        marking.submit_scores(ann, panel.opportunity)
    assert [(m.bid_id, m.criterion) for m in refused.value.missing] == [
        (panel.bids[2].id, c.title) for c in panel.criteria]
    assert panel.member(ann).scores_submitted_at is None
    assert events("evaluation.scores_submitted") == []


def test_submitting_every_score_fixes_them_and_is_audited(panel):
    ann = panel.evaluators[0]
    score_all(panel.opportunity, ann, 3)
    outcome = marking.submit_scores(ann, panel.opportunity)
    assert not outcome.duplicate
    member = panel.member(ann)
    assert member.scores_submitted_at is not None
    [event] = events("evaluation.scores_submitted")
    assert event.object_id == str(member.id) and event.actor_id == ann.id
    with pytest.raises(marking.ScoringRefused, match="submitted your scores"):
        marking.save_scores(ann, panel.opportunity, panel.bids[0].id, entries_for(panel.criteria, "1"))
    assert {Decimal(s.score) for s in scores_of(ann)} == {Decimal(3)}


def test_a_double_submit_is_harmless_one_event_same_outcome(panel):
    ann = panel.evaluators[0]
    score_all(panel.opportunity, ann, 3)
    first = marking.submit_scores(ann, panel.opportunity)
    second = marking.submit_scores(ann, panel.opportunity)
    assert second.duplicate and second.submitted_at == panel.member(ann).scores_submitted_at
    assert first.submitted_at.replace(tzinfo=None) == second.submitted_at.replace(tzinfo=None)
    assert len(events("evaluation.scores_submitted")) == 1


# Independence ----------------------------------------------------------------------------------------

def test_an_evaluator_cannot_see_other_scores_until_they_submit_theirs(panel):
    ann, bob = panel.evaluators
    score_all(panel.opportunity, bob, 5)
    submit(panel.member(bob))
    score_all(panel.opportunity, ann, 2)
    before = marking.bid_sheet(ann, panel.opportunity, panel.bids[0].id)
    assert all(sheet.others == [] for sheet in before.criteria)
    assert before.waiting_for == []
    marking.submit_scores(ann, panel.opportunity)
    after = marking.bid_sheet(ann, panel.opportunity, panel.bids[0].id)
    assert [(o.name, Decimal(o.score.score)) for o in after.criteria[0].others] == [("Evaluator 2", Decimal(5))]


def test_after_submitting_an_evaluator_sees_only_the_others_who_have_submitted_too(panel):
    ann, bob = panel.evaluators
    score_all(panel.opportunity, ann, 2)
    score_all(panel.opportunity, bob, 5)  # saved but not submitted
    marking.submit_scores(ann, panel.opportunity)
    sheet = marking.bid_sheet(ann, panel.opportunity, panel.bids[0].id)
    assert all(s.others == [] for s in sheet.criteria)
    assert sheet.waiting_for == ["Evaluator 2"]


def test_the_sheet_shows_the_sealed_answer_not_the_working_copy(panel):
    criterion = panel.criteria[0]
    answer = db.session.query(BidAnswer).filter_by(bid_id=panel.bids[0].id, criterion_id=criterion.id).one()
    answer.text = "Changed after the deadline"
    db.session.commit()
    sheet = marking.bid_sheet(panel.evaluators[0], panel.opportunity, panel.bids[0].id)
    assert "bidder-1" in sheet.criteria[0].answer["text"]
    assert "Changed" not in sheet.criteria[0].answer["text"]


def test_price_and_computed_kent_points_are_calculated_not_scored(panel):
    calculated = {item.criterion.kind: item.method for item in marking.calculated(panel.opportunity)}
    assert set(calculated) == {"price", "local_economy"}
    assert calculated["price"] == "Points = the lowest compliant price ÷ this bid's price × 35."
    assert "target of 50%" in calculated["local_economy"]
    assert {c.kind for c in panel.criteria} == {"quality", "social_value"}


def test_progress_counts_each_evaluators_scores_against_what_is_asked_of_them(panel):
    ann, bob = panel.evaluators
    first = panel.criteria[0]
    panel.member(bob).criterion_ids = [first.id]
    db.session.commit()
    score_all(panel.opportunity, ann, 3, bids=panel.bids[:1])
    score_all(panel.opportunity, bob, 3)
    rows = {row.name: (row.scored, row.required, row.submitted) for row in marking.progress(panel.opportunity)}
    assert rows == {"Evaluator 1": (2, 6, False), "Evaluator 2": (3, 3, False)}


def test_a_replaced_evaluator_leaves_the_panel_and_its_progress(panel):
    member: PanelMember = panel.member(panel.evaluators[1])
    member.removed_at, member.removed_reason = utcnow(), "Left the council"
    db.session.commit()
    assert [row.name for row in marking.progress(panel.opportunity)] == ["Evaluator 1"]
    with pytest.raises(NotFound):
        marking.desk(panel.evaluators[1], panel.opportunity)


@pytest.mark.parametrize("method, params, words", [
    ("relative_lowest", {}, "Points = the lowest compliant price ÷ this bid's price × 35."),
    ("deviation_from_lowest", {"factor": "2"}, "Points = 35 × (1 − 2 × (this bid's price − the lowest compliant "
                                               "price) ÷ the lowest compliant price), never below 0."),
    ("linear_bounds", {"min_price": "100000", "max_price": "150000.50"},
     "Points = 35 at £100,000 or less, falling in a straight line to 0 at £150,000.50 or more."),
    ("relative_highest", {}, "Points = this bid's committed share of contract value spent in Kent ÷ the highest "
                             "committed share × 35."),
    ("target", {"target": "0.4"}, "Points = this bid's committed share of contract value spent in Kent ÷ the "
                                  "target of 40%, at most 1, × 35."),
])
def test_each_calculated_method_is_explained_with_its_parameters(method, params, words):
    criterion = SimpleNamespace(method=method, params=params, weight=Decimal("35.00"))
    assert marking.method_explanation(criterion) == words
