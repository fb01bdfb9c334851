"""The panel's pure rules and the evaluation permissions, without the app: who may join a panel as it stands,
when it is complete enough to see bids, each member's next step, the conflicts assessment's parts, and who may
do what in an evaluation. Both modules import nothing from Flask or the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest

from marketplace.evaluation import panel_rules as r
from marketplace.evaluation import permissions as p
from tests.unit.test_pure_imports import PACKAGE, violations

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=timezone.utc)
QUALITY, SOCIAL = r.Scored(1, "How you will deliver the service"), r.Scored(2, "Social value")


def evaluator(user_id: int, name: str, *criteria: int) -> r.Seat:
    return r.Seat(user_id, name, r.EVALUATOR, tuple(criteria))


def moderator(user_id: int, name: str) -> r.Seat:
    return r.Seat(user_id, name, r.MODERATOR)


@dataclass
class User:
    roles: frozenset = frozenset()
    id: int = 1
    is_authenticated: bool = True
    deactivated_at: datetime | None = None


OFFICER = User(frozenset({"procurement_officer"}), id=7)
COMMISSIONER = User(frozenset({"commissioner"}), id=8)
ADMINISTRATOR = User(frozenset({"administrator"}), id=9)
ANONYMOUS = User(is_authenticated=False)


@pytest.mark.parametrize("module", ["panel_rules.py", "permissions.py"])
def test_the_panel_rules_and_permissions_import_nothing_from_flask_or_the_database(module):
    assert violations(PACKAGE / "evaluation" / module) == []


# Assigning --------------------------------------------------------------------------------------------------

def test_a_moderator_cannot_also_be_the_only_evaluator_whichever_is_assigned_first():
    pat = evaluator(1, "Pat")
    refusal = r.assignment_refusal([pat], moderator(1, "Pat"))
    assert "Pat is the moderator, so cannot also be the only evaluator" in refusal
    assert "cannot also be the only evaluator" in r.assignment_refusal([moderator(1, "Pat")], pat)


def test_a_moderator_may_also_evaluate_alongside_another_evaluator():
    seats = [evaluator(1, "Pat"), evaluator(2, "Sam")]
    assert r.assignment_refusal(seats, moderator(1, "Pat")) is None


def test_a_panel_has_one_moderator_and_nobody_sits_twice_in_the_same_role():
    seats = [moderator(1, "Pat"), evaluator(2, "Sam")]
    assert r.assignment_refusal(seats, moderator(3, "Alex")) == ("Pat is already the moderator. To change the "
                                                                  "moderator, replace them.")
    assert r.assignment_refusal(seats, evaluator(2, "Sam")) == "Sam is already an evaluator on this panel."


def test_removing_the_other_evaluator_is_refused_when_it_leaves_the_moderator_scoring_alone():
    pat, sam = evaluator(1, "Pat"), evaluator(2, "Sam")
    seats = [moderator(1, "Pat"), pat, sam]
    assert "cannot also be the only evaluator" in r.removal_refusal(seats, sam)
    assert r.removal_refusal(seats, sam, replacement=evaluator(3, "Alex")) is None


def test_a_replacement_must_not_already_hold_that_role():
    sam, alex = evaluator(2, "Sam"), evaluator(3, "Alex")
    assert r.removal_refusal([sam, alex], sam, replacement=evaluator(3, "Alex")) == \
        "Alex is already an evaluator on this panel."


# Completeness ------------------------------------------------------------------------------------------------

def test_an_empty_panel_needs_an_evaluator_and_a_moderator():
    assert r.panel_problems([], [QUALITY]) == ["Assign at least one evaluator", "Assign a moderator"]


def test_every_people_scored_criterion_needs_an_evaluator_and_the_one_without_is_named():
    seats = [moderator(1, "Pat"), evaluator(2, "Sam", QUALITY.id)]
    assert r.panel_problems(seats, [QUALITY, SOCIAL]) == ["No evaluator scores ‘Social value’: assign one"]


def test_an_evaluator_with_no_listed_criteria_scores_every_one():
    seats = [moderator(1, "Pat"), evaluator(2, "Sam")]
    assert r.panel_problems(seats, [QUALITY, SOCIAL]) == []


def test_a_moderator_never_covers_a_criterion():
    assert not moderator(1, "Pat").scores(QUALITY.id)


def test_everyone_must_have_declared_and_any_conflict_be_mitigated_before_bids_reach_the_panel():
    seats = [moderator(1, "Pat"), evaluator(1, "Pat"), evaluator(2, "Sam"), evaluator(3, "Alex")]
    declared = {1: r.Declared(False, False), 2: r.Declared(True, False)}
    assert r.declaration_problems(seats, declared) == [
        "Sam declared a conflict of interest: record a mitigation or replace them",
        "Alex has not declared conflicts of interest yet",
    ]
    assert r.awaiting_mitigation(seats, declared) == [2]
    declared[2], declared[3] = r.Declared(True, True), r.Declared(False, False)
    assert r.declaration_problems(seats, declared) == []


# Next steps -------------------------------------------------------------------------------------------------

CLEAR, CONFLICTED = r.Declared(False, False), r.Declared(True, False)


@pytest.mark.parametrize("role, closed, declared, released, submitted, complete, expected", [
    (r.EVALUATOR, False, None, False, False, False, r.DECLARE_LATER),
    (r.EVALUATOR, True, None, False, False, False, r.DECLARE),
    (r.EVALUATOR, True, CONFLICTED, True, False, False, r.CONFLICT),
    (r.EVALUATOR, True, CLEAR, False, False, False, r.WAIT_RELEASE),
    (r.EVALUATOR, True, CLEAR, True, False, False, r.SCORE),
    (r.EVALUATOR, True, CLEAR, True, True, False, r.SCORED),
    (r.MODERATOR, True, CLEAR, True, False, False, r.MODERATE),
    (r.MODERATOR, True, CLEAR, True, False, True, r.DONE),
    (r.EVALUATOR, True, r.Declared(True, True), True, False, False, r.SCORE),
])
def test_each_panel_member_is_told_their_next_step(role, closed, declared, released, submitted, complete, expected):
    assert r.next_step(role, closed, declared, released, submitted, complete) == expected


def test_a_step_that_waits_on_someone_else_is_not_an_action():
    assert r.CONFLICT.waiting and r.WAIT_RELEASE.waiting and not r.DECLARE.waiting and not r.SCORE.waiting


# The conflicts assessment -------------------------------------------------------------------------------

def test_the_conflicts_assessment_is_stored_in_three_headed_parts_and_read_back():
    parts = {"prepared_by": "Chris, commissioner", "interests": "Chris chairs a charity\nthat may bid",
             "management": "Chris takes no part in the evaluation"}
    text = r.compose_assessment(parts)
    assert text.startswith("Who prepared the opportunity:\nChris, commissioner\n\nInterests known:\n")
    assert r.split_assessment(text) == parts


def test_an_assessment_not_written_in_parts_is_kept_whole_in_the_first():
    assert r.split_assessment("Old free text") == {"prepared_by": "Old free text", "interests": "",
                                                   "management": ""}


# Permissions --------------------------------------------------------------------------------------------------

def test_only_a_procurement_officer_records_the_conflicts_assessment_and_only_before_publication():
    assert p.can_record_conflicts_assessment(OFFICER, "awaiting_approval", recorded=True)
    assert p.can_record_conflicts_assessment(OFFICER, "draft", recorded=False)
    assert not p.can_record_conflicts_assessment(COMMISSIONER, "awaiting_approval", recorded=False)
    assert not p.can_record_conflicts_assessment(OFFICER, "published", recorded=True)
    assert p.can_record_conflicts_assessment(OFFICER, "published", recorded=False)  # a gap from before the rule
    assert not p.can_record_conflicts_assessment(OFFICER, "cancelled", recorded=False)


def test_the_panel_is_managed_by_procurement_officers_from_publication_until_moderation_is_complete():
    assert p.can_manage_panel(OFFICER, "published", False)
    assert p.can_manage_panel(OFFICER, "evaluating", False)
    assert not p.can_manage_panel(OFFICER, "evaluating", True)
    assert not p.can_manage_panel(OFFICER, "awaiting_approval", False)
    assert not p.can_manage_panel(COMMISSIONER, "published", False)


def test_active_commissioners_and_procurement_officers_may_sit_on_a_panel_but_not_administrators_alone():
    assert p.is_panel_candidate(COMMISSIONER) and p.is_panel_candidate(OFFICER)
    assert not p.is_panel_candidate(ADMINISTRATOR)
    assert not p.is_panel_candidate(User(frozenset({"commissioner"}), deactivated_at=NOW))


def test_declarations_open_at_the_deadline_and_only_for_panel_members():
    deadline = NOW
    assert not p.can_declare(True, deadline, NOW - timedelta(seconds=1))
    assert p.can_declare(True, deadline, NOW)
    assert not p.can_declare(False, deadline, NOW + timedelta(days=1))


def test_nobody_records_the_mitigation_of_their_own_conflict():
    assert p.can_mitigate(OFFICER, declared_by_id=COMMISSIONER.id, state="evaluating")
    assert not p.can_mitigate(OFFICER, declared_by_id=OFFICER.id, state="evaluating")
    assert not p.can_mitigate(COMMISSIONER, declared_by_id=OFFICER.id, state="evaluating")


def test_bids_are_opened_once_by_a_procurement_officer_after_the_close():
    assert p.can_open_bids(OFFICER, "closed", opened=False)
    assert not p.can_open_bids(OFFICER, "closed", opened=True)
    assert not p.can_open_bids(OFFICER, "published", opened=False)
    assert not p.can_open_bids(COMMISSIONER, "closed", opened=False)


def test_compliance_changes_until_release_and_release_happens_once():
    assert p.can_check_compliance(OFFICER, opened=True, released=False)
    assert not p.can_check_compliance(OFFICER, opened=True, released=True)
    assert not p.can_check_compliance(OFFICER, opened=False, released=False)
    assert p.can_release(OFFICER, opened=True, released=False) and not p.can_release(OFFICER, True, True)


@pytest.mark.parametrize("user, status, cleared, expected", [
    (OFFICER, "opened", False, True),
    (OFFICER, "excluded", False, True),
    (OFFICER, "withdrawn", False, False),
    (COMMISSIONER, "compliant", True, True),
    (COMMISSIONER, "excluded", True, False),
    (COMMISSIONER, "opened", True, False),
    (COMMISSIONER, "compliant", False, False),
    (ANONYMOUS, "compliant", False, False),
])
def test_officers_read_every_opened_bid_and_cleared_panel_members_only_compliant_ones(user, status, cleared,
                                                                                        expected):
    assert p.can_read_bid(user, status, opened=True, cleared_on_panel=cleared) is expected


def test_the_evaluation_overview_is_for_officers_and_panel_members():
    assert p.can_see_evaluation(OFFICER, on_panel=False)
    assert p.can_see_evaluation(COMMISSIONER, on_panel=True)
    assert not p.can_see_evaluation(COMMISSIONER, on_panel=False)
    assert not p.can_see_evaluation(ANONYMOUS, on_panel=True)
