"""Moderation on a real database: it waits for every evaluator, flags wide spreads, keeps the originals beside
each consensus score, and completing it fixes the consensus and marks the bids evaluated."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import User
from marketplace.audit import AuditEvent, verify_database
from marketplace.bids.models import Bid
from marketplace.errors import NotFound
from marketplace.evaluation import marking, moderation
from marketplace.evaluation.marking import Incomplete, Invalid
from marketplace.evaluation.models import MODERATOR, ModeratedScore, Score
from marketplace.evaluation.moderation_rules import Entry
from marketplace.extensions import db
from marketplace.opportunities.models import Opportunity
from marketplace.settings import services as settings
from marketplace.timeutil import utcnow
from tests.evaluation_builders import moderate_all, released_panel, score_all, scored_and_submitted, seat, submit
from tests.factories import StaffFactory
from tests.staff_fixtures import request_context  # noqa: F401


@pytest.fixture()
def panel():
    return released_panel(evaluators=2)


@pytest.fixture()
def ready(panel):
    """Both evaluators have scored everything and submitted: Evaluator 1 gave 1, Evaluator 2 gave 4."""
    scored_and_submitted(panel, [1, 4])
    return panel


def consensus(criteria, value="3", reason="Agreed after discussion") -> dict[int, Entry]:
    return {c.id: Entry(Decimal(value), reason) for c in criteria}


def events(action: str) -> list[AuditEvent]:
    return list(db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == action)).scalars())


def test_moderation_needs_all_evaluators_to_have_submitted(panel):
    ann, bob = panel.evaluators
    score_all(panel.opportunity, ann, 3)
    submit(panel.member(ann))
    sheet = moderation.sheet(panel.opportunity, panel.moderator)
    assert not sheet.open and sheet.rows == []
    assert [e.name for e in sheet.outstanding] == ["Evaluator 2"]
    assert "Still to submit: Evaluator 2." in sheet.refusal
    with pytest.raises(moderation.ModerationRefused, match="Evaluator 2"):
        moderation.set_consensus(panel.moderator, panel.opportunity, panel.bids[0].id, consensus(panel.criteria))
    assert db.session.query(ModeratedScore).count() == 0


def test_the_sheet_shows_every_evaluators_score_and_flags_a_wide_spread(ready):
    sheet = moderation.sheet(ready.opportunity, ready.moderator)
    assert sheet.open and sheet.refusal is None
    assert len(sheet.rows) == 3 and sheet.flagged == 3  # 1 and 4 are 3 points apart on 0 to 5
    cell = sheet.rows[0].cells[0]
    assert [(m.name, Decimal(m.score.score)) for m in cell.marks] == [("Evaluator 1", Decimal(1)),
                                                                      ("Evaluator 2", Decimal(4))]
    assert cell.spread == Decimal(3) and cell.wide


def test_the_spread_threshold_comes_from_the_settings_and_flagged_bids_come_first(panel):
    ann, bob = panel.evaluators
    score_all(panel.opportunity, ann, 3)
    score_all(panel.opportunity, bob, 3, bids=[panel.bids[0], panel.bids[1]])
    score_all(panel.opportunity, bob, 1, bids=[panel.bids[2]])  # 2 apart: 40% of 0 to 5
    submit(panel.member(ann))
    submit(panel.member(bob))
    sheet = moderation.sheet(panel.opportunity, panel.moderator)
    assert [row.bidder.bid_id for row in sheet.rows] == [panel.bids[2].id, panel.bids[0].id, panel.bids[1].id]
    assert [row.flagged for row in sheet.rows] == [True, False, False]
    settings.update(StaffFactory(roles=["admin"]), {"moderation_spread_pct": "50"})
    assert moderation.sheet(panel.opportunity, panel.moderator).flagged == 0


def test_originals_are_kept_beside_the_consensus(ready):
    bid = ready.bids[0]
    before = {(s.evaluator_id, s.criterion_id): (Decimal(s.score), s.justification)
              for s in db.session.query(Score).filter_by(bid_id=bid.id)}
    changed = moderation.set_consensus(ready.moderator, ready.opportunity, bid.id, consensus(ready.criteria, "2.5"))
    assert sorted(changed) == sorted(c.id for c in ready.criteria)
    after = {(s.evaluator_id, s.criterion_id): (Decimal(s.score), s.justification)
             for s in db.session.query(Score).filter_by(bid_id=bid.id)}
    assert after == before
    row = moderation.sheet(ready.opportunity, ready.moderator).rows[0]
    cell = row.cells[0]
    assert Decimal(cell.consensus.score) == Decimal("2.5") and cell.consensus.reason == "Agreed after discussion"
    assert cell.consensus.moderator_id == ready.moderator.id
    assert [Decimal(m.score.score) for m in cell.marks] == [Decimal(1), Decimal(4)]
    [event] = events("evaluation.consensus_set")
    assert event.object_id == str(bid.id) and event.actor_id == ready.moderator.id


def test_a_consensus_score_needs_a_reason_and_a_score_in_scale(ready):
    first, second = ready.criteria
    entries = {first.id: Entry(Decimal(3), ""), second.id: Entry(Decimal(9), "Too high")}
    with pytest.raises(Invalid) as refused:
        moderation.set_consensus(ready.moderator, ready.opportunity, ready.bids[0].id, entries)
    assert {e.field for e in refused.value.errors} == {f"reason_{first.id}", f"score_{second.id}"}
    assert db.session.query(ModeratedScore).count() == 0


def test_only_the_cleared_moderator_sets_consensus_scores(ready):
    officer = StaffFactory(roles=["procurement_officer"])
    for user in (officer, ready.evaluators[0]):
        with pytest.raises(NotFound):
            moderation.set_consensus(user, ready.opportunity, ready.bids[0].id, consensus(ready.criteria))


def test_a_moderator_who_is_the_only_evaluator_cannot_moderate():
    solo = released_panel(evaluators=0)
    seat(solo.opportunity, solo.moderator)  # the moderator also sits as the only evaluator
    score_all(solo.opportunity, solo.moderator, 3)
    submit(solo.member(solo.moderator))
    assert "only evaluator" in moderation.sheet(solo.opportunity, solo.moderator).refusal
    with pytest.raises(moderation.ModerationRefused, match="only evaluator"):
        moderation.set_consensus(solo.moderator, solo.opportunity, solo.bids[0].id, consensus(solo.criteria))
    with pytest.raises(moderation.ModerationRefused, match="only evaluator"):
        moderation.complete(solo.moderator, solo.opportunity)


def test_a_moderator_who_also_evaluates_beside_others_may_moderate(panel):
    seat(panel.opportunity, panel.moderator)
    panel.evaluators.append(panel.moderator)
    scored_and_submitted(panel, [3, 3, 3])
    assert moderation.sheet(panel.opportunity, panel.moderator).refusal is None
    moderation.set_consensus(panel.moderator, panel.opportunity, panel.bids[0].id, consensus(panel.criteria))


def test_completing_needs_every_consensus_score_and_lists_what_is_missing(ready):
    moderation.set_consensus(ready.moderator, ready.opportunity, ready.bids[0].id, consensus(ready.criteria))
    with pytest.raises(Incomplete) as refused:
        moderation.complete(ready.moderator, ready.opportunity)
    assert {m.bid_id for m in refused.value.missing} == {ready.bids[1].id, ready.bids[2].id}
    assert ready.evaluation.moderation_completed_at is None


def test_completion_locks_the_consensus_and_marks_the_bids_evaluated(ready):
    moderate_all(ready.opportunity, 3, ready.moderator)
    outcome = moderation.complete(ready.moderator, ready.opportunity)
    assert not outcome.duplicate
    db.session.expire_all()
    evaluation = moderation.evaluation_or_404(ready.opportunity.id)
    assert evaluation.moderation_completed_at is not None
    assert evaluation.moderation_completed_by_id == ready.moderator.id
    assert {b.status for b in db.session.query(Bid).filter(Bid.id.in_([b.id for b in ready.bids]))} == {"evaluated"}
    [event] = events("evaluation.moderation_completed")
    assert event.details["bids"] == [b.id for b in ready.bids]
    with pytest.raises(moderation.ModerationRefused, match="complete"):
        moderation.set_consensus(ready.moderator, ready.opportunity, ready.bids[0].id, consensus(ready.criteria, "5"))
    assert {Decimal(m.score) for m in db.session.query(ModeratedScore)} == {Decimal(3)}


def test_double_completion_is_harmless_one_event(ready):
    moderate_all(ready.opportunity, 3, ready.moderator)
    first = moderation.complete(ready.moderator, ready.opportunity)
    second = moderation.complete(ready.moderator, ready.opportunity)
    assert second.duplicate and not first.duplicate
    assert len(events("evaluation.moderation_completed")) == 1


def test_the_ranking_comes_from_the_consensus_scores_with_engine_points(ready):
    assert moderation.standing(ready.opportunity) is None
    moderate_all(ready.opportunity, 3, ready.moderator)
    best = ready.bids[2]
    moderation.set_consensus(ready.moderator, ready.opportunity, best.id, consensus(ready.criteria, "5"))
    standing = moderation.standing(ready.opportunity)
    assert standing.leader == "Bidder 3 Community Interest Company"
    assert [row.rank for row in standing.rows] == [1, 2, 3]
    assert [c.kind for c in standing.criteria] == ["quality", "social_value", "local_economy", "price"]
    top = standing.rows[0]
    # quality 5/5 x 40 = 40.00, public value 5/5 x 15 = 15.00, Kent 0.35/0.5 x 10 = 7.00,
    # price 100,000 / 135,000 x 35 = 25.93; total 87.93
    assert top.points == ["40.00", "15.00", "7.00", "25.93"] and top.total == "87.93"


def test_a_replaced_evaluator_no_longer_holds_up_moderation(panel):
    ann, bob = panel.evaluators
    score_all(panel.opportunity, ann, 3)
    submit(panel.member(ann))
    member = panel.member(bob)
    member.removed_at, member.removed_reason = utcnow(), "Off sick for the rest of the evaluation"
    db.session.commit()
    assert moderation.sheet(panel.opportunity, panel.moderator).open


def test_the_overview_status_counts_consensus_scores(ready):
    moderation.set_consensus(ready.moderator, ready.opportunity, ready.bids[0].id, consensus(ready.criteria))
    status = moderation.status(ready.opportunity, ready.evaluation)
    assert (status.open, status.completed, status.moderated, status.required) == (True, False, 2, 6)


def test_an_evaluator_does_not_hold_the_moderators_place(ready):
    with pytest.raises(NotFound):
        moderation.moderator_place(ready.evaluators[0], ready.opportunity)
    assert moderation.moderator_place(ready.moderator, ready.opportunity).role == MODERATOR


# At the same moment ----------------------------------------------------------------------------------

def at_once(app, actions) -> list:
    """Run each action (given the user and opportunity reloaded in its own session) in its own thread with its
    own app context, all released together; returns each outcome or the exception it raised."""
    db.session.commit()
    barrier, outcomes = threading.Barrier(len(actions)), [None] * len(actions)

    def run(index, action, user_id, opportunity_id):
        with app.test_request_context("/"):
            try:
                user, opportunity = db.session.get(User, user_id), db.session.get(Opportunity, opportunity_id)
                barrier.wait(timeout=30)
                outcomes[index] = action(user, opportunity)
            except Exception as error:  # noqa: BLE001 - reported to the test
                outcomes[index] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, *spec)) for i, spec in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    db.session.expire_all()
    return outcomes


def test_two_submissions_at_the_same_moment_record_one_event(app, panel):
    ann = panel.evaluators[0]
    score_all(panel.opportunity, ann, 3)
    outcomes = at_once(app, [(marking.submit_scores, ann.id, panel.opportunity.id)] * 2)
    assert all(isinstance(o, marking.Submitted) for o in outcomes), outcomes
    assert sorted(o.duplicate for o in outcomes) == [False, True]
    assert len(events("evaluation.scores_submitted")) == 1


def test_two_completions_at_the_same_moment_record_one_event(app, ready):
    moderate_all(ready.opportunity, 3, ready.moderator)
    outcomes = at_once(app, [(moderation.complete, ready.moderator.id, ready.opportunity.id)] * 2)
    assert all(isinstance(o, moderation.Completed) for o in outcomes), outcomes
    assert sorted(o.duplicate for o in outcomes) == [False, True]
    assert len(events("evaluation.moderation_completed")) == 1
    assert verify_database().ok
