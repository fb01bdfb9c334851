"""The pure rules for panel scores and moderation: scores on the scale, the text every score needs, spreads
flagged by scale, who is still to submit, and the moderator who is the only evaluator."""

from __future__ import annotations

from decimal import Decimal

import pytest

from marketplace.evaluation import moderation_rules as rules
from tests.unit.test_pure_imports import PACKAGE, violations

D = Decimal
DELIVERY = rules.Scale(1, "Delivery", 5)
TEN_POINT = rules.Scale(2, "Safeguarding", 10)


def test_the_rules_import_nothing_from_flask_or_the_database():
    assert violations(PACKAGE / "evaluation" / "moderation_rules.py") == []


# Scores on the scale --------------------------------------------------------------------------------

@pytest.mark.parametrize("typed, expected", [("3", D(3)), (" 3.5 ", D("3.5")), ("0", D(0)), ("4.25", D("4.25")),
                                             ("", None), ("   ", None)])
def test_a_score_is_typed_as_a_whole_or_decimal_number(typed, expected):
    assert rules.parse_score(typed) == expected


@pytest.mark.parametrize("typed", ["three", "-1", "1e3", "3,5", "NaN", "Infinity", "½"])
def test_anything_but_a_plain_number_is_not_a_score(typed):
    with pytest.raises(ValueError, match="must be a number"):
        rules.parse_score(typed)


@pytest.mark.parametrize("score, scale, problem", [
    (D(0), DELIVERY, None), (D(5), DELIVERY, None), (D("3.75"), DELIVERY, None),
    (D("5.01"), DELIVERY, "between 0 and 5"), (D(6), DELIVERY, "between 0 and 5"), (D(-1), DELIVERY, "between 0 and 5"),
    (D(10), TEN_POINT, None), (D(11), TEN_POINT, "between 0 and 10"),
    (D("3.125"), DELIVERY, "at most 2 decimal places"),
])
def test_a_score_must_lie_on_the_criterions_scale_to_two_places(score, scale, problem):
    found = rules.scale_problem(score, scale)
    assert (found is None) if problem is None else (problem in found)


def test_a_score_without_a_justification_is_refused_naming_the_justification_field():
    problems = rules.entry_problems([DELIVERY], {1: rules.Entry(D(3), "  ")}, rules.JUSTIFICATION)
    assert problems == [rules.Problem("justification_1", "Enter a justification for your score for ‘Delivery’")]


def test_a_justification_without_a_score_asks_for_the_score():
    problems = rules.entry_problems([DELIVERY], {1: rules.Entry(None, "Strong answer")}, rules.JUSTIFICATION)
    assert [p.field for p in problems] == ["score_1"]


def test_a_consensus_score_needs_a_reason():
    problems = rules.entry_problems([DELIVERY], {1: rules.Entry(D(3), "")}, rules.REASON)
    assert problems == [rules.Problem("reason_1", "Enter the reason for the consensus score for ‘Delivery’")]


def test_every_problem_is_reported_at_once_and_a_blank_criterion_is_simply_not_scored_yet():
    entries = {1: rules.Entry(D(7), ""), 2: rules.Entry(None, "")}
    problems = rules.entry_problems([DELIVERY, TEN_POINT], entries, rules.JUSTIFICATION)
    assert [p.field for p in problems] == ["score_1", "justification_1"]


# What an evaluator scores -----------------------------------------------------------------------------

def test_an_evaluator_with_no_criteria_named_scores_every_people_scored_criterion():
    assert rules.assigned_criteria([], [3, 5, 9]) == [3, 5, 9]


def test_an_evaluator_scores_only_the_criteria_assigned_in_the_models_order():
    assert rules.assigned_criteria(["9", 3, 42], [3, 5, 9]) == [3, 9]


def test_what_is_missing_is_listed_by_bid_then_criterion():
    assert rules.missing_pairs([10, 11], [1, 2], {(10, 1), (11, 2)}) == [(10, 2), (11, 1)]


def test_scores_are_fixed_once_submitted_or_when_the_opportunity_is_no_longer_being_evaluated():
    assert rules.scoring_refusal(submitted=False, evaluating=True) is None
    assert "submitted" in rules.scoring_refusal(submitted=True, evaluating=True)
    assert "no longer being evaluated" in rules.scoring_refusal(submitted=False, evaluating=False)


# Spreads flagged by scale -----------------------------------------------------------------------------

@pytest.mark.parametrize("scores, scale_max, wide", [
    ([D(2), D(4)], 5, True),  # 2 apart on 0-5: 40% of the scale
    ([D(2), D("3.99")], 5, False),
    ([D(1), D(3), D(2)], 5, True),
    ([D(3), D(6)], 10, False),  # 3 apart on 0-10 is 30%
    ([D(3), D(7)], 10, True),  # 4 apart on 0-10 is 40%
    ([D(0), D("1.2")], 3, True),
    ([D(5)], 5, False),  # one evaluator: nothing to disagree with
    ([], 5, False),
])
def test_a_spread_of_forty_per_cent_of_the_scale_is_flagged(scores, scale_max, wide):
    assert rules.is_wide(scores, scale_max, 40) is wide


def test_the_threshold_follows_the_setting():
    assert rules.spread_limit(5, 40) == D(2)
    assert rules.is_wide([D(2), D(3)], 5, 20) is True
    assert rules.is_wide([D(1), D(4)], 5, 80) is False


def test_the_spread_is_the_highest_score_less_the_lowest():
    assert rules.spread([D(3), D("4.5"), D(1)]) == D("3.5")
    assert rules.spread([D(3)]) == 0


def test_flagged_items_come_first_each_group_keeping_its_order():
    assert rules.flagged_first([1, 2, 3, 4, 5], lambda n: n % 2 == 0) == [2, 4, 1, 3, 5]


# Who may moderate, and when ---------------------------------------------------------------------------

ANN = rules.Evaluator(1, "Ann", submitted=True)
BOB = rules.Evaluator(2, "Bob", submitted=False)
BOB_DONE = rules.Evaluator(2, "Bob", submitted=True)


def test_moderation_waits_for_every_evaluator_and_names_those_still_to_submit():
    assert rules.outstanding([ANN, BOB]) == [BOB]
    assert "Still to submit: Bob." in rules.moderation_refusal([ANN, BOB], 9, completed=False)
    assert rules.moderation_refusal([ANN, BOB_DONE], 9, completed=False) is None


def test_a_moderator_who_is_the_only_evaluator_cannot_moderate():
    refusal = rules.moderation_refusal([ANN], ANN.user_id, completed=False)
    assert "only evaluator" in refusal
    assert rules.moderation_refusal([ANN, BOB_DONE], ANN.user_id, completed=False) is None


def test_completed_moderation_and_an_empty_panel_allow_no_consensus_scores():
    assert "complete" in rules.moderation_refusal([ANN], 9, completed=True)
    assert "no evaluators" in rules.moderation_refusal([], 9, completed=False)


def test_an_evaluator_who_has_not_submitted_sees_no_progress_of_the_others_even_as_officer():
    assert rules.sees_scoring_progress(oversees=True, own=None) is True
    assert rules.sees_scoring_progress(oversees=True, own=BOB) is False
    assert rules.sees_scoring_progress(oversees=True, own=BOB_DONE) is True
    assert rules.sees_scoring_progress(oversees=False, own=None) is False
