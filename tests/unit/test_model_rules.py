"""Evaluation model rules (pure): weights, one price criterion, public value, lawful Kent criteria, price and
local economy methods, scales, and the templates."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest

from marketplace.evaluation import model_rules as rules
from marketplace.evaluation.model_rules import Context, CriterionSpec, ModelSpec
from marketplace.evaluation.templates import TEMPLATE_CHOICES, TEMPLATES, template_criteria

QUALITY = CriterionSpec(rules.QUALITY, "How you will achieve the outcomes", D(50))
PUBLIC_VALUE = CriterionSpec(rules.SOCIAL_VALUE, "Public value", D(10))
LOCAL = CriterionSpec(rules.LOCAL_ECONOMY, "Spend with Kent suppliers", D(10), method="relative_highest")
PRICE = CriterionSpec(rules.PRICE, "Price", D(30), method="relative_lowest")
GATE = CriterionSpec(rules.PASS_FAIL, "Insurance")
OPEN = Context(reservation="none", below_threshold=True)


def model(*criteria: CriterionSpec, reason: str | None = None) -> ModelSpec:
    return ModelSpec(tuple(criteria), reason)


def messages(spec: ModelSpec, context: Context = OPEN) -> list[str]:
    return [p.message for p in rules.model_problems(spec, context)]


def test_a_model_whose_weights_add_up_to_100_is_ready():
    assert rules.model_problems(model(GATE, QUALITY, PUBLIC_VALUE, LOCAL, PRICE), OPEN) == []


@pytest.mark.parametrize(("price_weight", "total"), [(D(20), "90"), (D(40), "110"), (D("25.5"), "95.5")])
def test_weights_that_do_not_add_up_to_100_are_refused_with_the_total(price_weight, total):
    spec = model(QUALITY, PUBLIC_VALUE, LOCAL, replace(PRICE, weight=price_weight))
    [problem] = rules.model_problems(spec, OPEN)
    assert problem.field == "weights"
    assert problem.message == f"The weights add up to {total}. They must add up to exactly 100."


def test_pass_or_fail_questions_do_not_count_towards_the_weights():
    assert rules.total_weight(model(GATE, QUALITY, PRICE)) == D(80)


def test_two_price_criteria_are_refused():
    spec = model(replace(QUALITY, weight=D(30)), PUBLIC_VALUE, LOCAL, PRICE, replace(PRICE, title="Price 2", weight=D(20)))
    assert "Use one price criterion; put price lines in the price schedule" in messages(spec)


def test_a_model_with_only_pass_or_fail_questions_is_refused():
    assert messages(model(GATE)) == ["Add at least one scored criterion"]


def test_public_value_under_10_percent_needs_a_recorded_reason():
    spec = model(replace(QUALITY, weight=D(55)), replace(PUBLIC_VALUE, weight=D(5)), LOCAL, PRICE)
    [problem] = rules.model_problems(spec, OPEN)
    assert problem.field == "public_value"
    assert "Record the reason" in problem.message


def test_public_value_under_10_percent_is_accepted_with_a_reason():
    spec = model(replace(QUALITY, weight=D(55)), replace(PUBLIC_VALUE, weight=D(5)), LOCAL, PRICE,
                 reason="A specialist clinical service with little scope for social value")
    assert rules.model_problems(spec, OPEN) == []


def test_a_blank_reason_does_not_count():
    spec = model(replace(QUALITY, weight=D(60)), LOCAL, PRICE, reason="   ")
    assert any(p.field == "public_value" for p in rules.model_problems(spec, OPEN))


LOCATION = replace(LOCAL, title="Bidder based in Kent", method="panel", scores_location=True)


@pytest.mark.parametrize(("below_threshold", "reservation", "lawful"), [
    (True, "kent", True),
    (True, "kent_sme_vcse", True),
    (True, "none", False),
    (False, "kent", False),
    (False, "kent_sme_vcse", False),
    (False, "none", False),
])
def test_a_criterion_that_scores_where_the_bidder_is_based_needs_a_below_threshold_reservation(
        below_threshold, reservation, lawful):
    problems = rules.criterion_field_problems(LOCATION, Context(reservation, below_threshold))
    if lawful:
        assert problems == []
    else:
        assert [p.field for p in problems] == ["scores_location"]
        assert problems[0].message.startswith("A criterion that scores where a bidder is based is lawful only under "
                                              "a below-threshold reservation")
        assert "Score what bidders commit to deliver in Kent instead" in problems[0].message


def test_the_model_names_the_criterion_that_is_unlawful():
    spec = model(QUALITY, PUBLIC_VALUE, LOCATION, PRICE)
    [problem] = rules.model_problems(spec, Context("none", True))
    assert problem.field == "criterion-2"


@pytest.mark.parametrize(("params", "field", "message"), [
    ({"min_price": "100", "max_price": "100"}, "max_price", "The maximum price must be more than the minimum price"),
    ({"min_price": "200", "max_price": "100"}, "max_price", "The maximum price must be more than the minimum price"),
    ({"min_price": "-1", "max_price": "100"}, "max_price", "neither below £0"),
    ({"max_price": "100"}, "min_price", "Enter the minimum and maximum prices"),
    ({"min_price": "100"}, "max_price", "Enter the minimum and maximum prices"),
    ({"min_price": "abc", "max_price": "100"}, "min_price", "Enter the minimum and maximum prices"),
    ({"min_price": "NaN", "max_price": "100"}, "min_price", "Enter the minimum and maximum prices"),
])
def test_linear_price_scoring_needs_a_minimum_below_the_maximum(params, field, message):
    criterion = replace(PRICE, method="linear_bounds", params=params)
    [problem] = rules.criterion_field_problems(criterion, OPEN)
    assert (problem.field, message in problem.message) == (field, True)


def test_linear_price_scoring_with_sensible_bounds_is_accepted():
    criterion = replace(PRICE, method="linear_bounds", params={"min_price": "80000", "max_price": "120000"})
    assert rules.criterion_field_problems(criterion, OPEN) == []


@pytest.mark.parametrize(("factor", "ok"), [(None, True), ("1", True), ("10", True), ("0", False), ("10.5", False),
                                            ("-1", False)])
def test_the_deviation_factor_is_above_0_and_at_most_10(factor, ok):
    params = {} if factor is None else {"factor": factor}
    problems = rules.criterion_field_problems(replace(PRICE, method="deviation_from_lowest", params=params), OPEN)
    assert (problems == []) is ok
    if not ok:
        assert problems[0].field == "factor"


@pytest.mark.parametrize(("target", "ok"), [("0.5", True), ("1", True), ("0.01", True), (None, False), ("0", False),
                                            ("0.005", False), ("1.5", False), ("-0.2", False), ("half", False)])
def test_a_target_kent_share_is_between_1_and_100_percent(target, ok):
    params = {} if target is None else {"target": target}
    problems = rules.criterion_field_problems(replace(LOCAL, method="target", params=params), OPEN)
    assert (problems == []) is ok
    if not ok:
        assert [(p.field, p.message) for p in problems] == [("target", "Enter a target Kent share between 1% and 100%")]


@pytest.mark.parametrize(("criterion", "field", "message"), [
    (replace(PRICE, method=None), "method", "Choose how price is scored"),
    (replace(PRICE, method="cheapest_wins"), "method", "Choose how price is scored"),
    (replace(LOCAL, method=None), "method", "Choose how the Kent local economy criterion is scored"),
    (replace(GATE, weight=D(5)), "weight", "A pass or fail question has no weight"),
    (replace(QUALITY, weight=None), "weight", "Give this criterion a weight above 0"),
    (replace(QUALITY, weight=D(0)), "weight", "Give this criterion a weight above 0"),
    (replace(QUALITY, weight=D(101)), "weight", "A weight cannot be more than 100"),
    (replace(QUALITY, scale_max=0), "scale_max", "The scale must run from 0 to between 1 and 10"),
    (replace(QUALITY, scale_max=11), "scale_max", "The scale must run from 0 to between 1 and 10"),
    (replace(QUALITY, min_score=D(6)), "min_score", "The minimum score must be between 0 and 5"),
    (replace(QUALITY, word_limit=10), "word_limit", "The word limit must be between 50 and 5000"),
    (replace(QUALITY, word_limit=6000), "word_limit", "The word limit must be between 50 and 5000"),
    (replace(QUALITY, kind="vibes"), "kind", "Choose a kind of criterion from the list"),
])
def test_each_criterion_problem_names_the_part_to_fix(criterion, field, message):
    assert [(p.field, p.message) for p in rules.criterion_field_problems(criterion, OPEN)] == [(field, message)]


def test_criterion_problems_gives_the_same_messages_as_plain_strings():
    criterion = replace(QUALITY, weight=None, word_limit=10)
    assert rules.criterion_problems(criterion, OPEN) == [
        p.message for p in rules.criterion_field_problems(criterion, OPEN)]


def test_a_panel_scored_local_economy_criterion_has_a_scale_but_a_formula_one_does_not():
    assert rules.is_panel_scored(replace(LOCAL, method="panel"))
    assert not rules.is_panel_scored(LOCAL)
    assert not rules.is_panel_scored(PRICE)
    assert rules.is_panel_scored(QUALITY)


@pytest.mark.parametrize("key", list(TEMPLATES))
def test_every_template_is_a_valid_model(key):
    spec = ModelSpec(template_criteria(key))
    assert rules.model_problems(spec, OPEN) == []
    assert rules.model_problems(spec, Context("none", below_threshold=False)) == []
    assert rules.total_weight(spec) == D(100)


def test_the_template_choices_list_every_template():
    assert [key for key, _ in TEMPLATE_CHOICES] == list(TEMPLATES)


@pytest.mark.parametrize(("criterion", "words"), [
    (GATE, "Pass or fail: a fail excludes the bid."),
    (PRICE, "30% of the marks, scored relative to the lowest price (lowest ÷ price × weight)."),
    (replace(QUALITY, min_score=D(2)), "50% of the marks, scored 0 to 5 by the panel; a score under 2 excludes the bid."),
    (LOCAL, "10% of the marks, from the share of contract value you commit to spend with Kent-based suppliers and "
            "subcontractors (relative to the highest committed kent share)."),
])
def test_plain_words_tell_bidders_how_a_criterion_is_scored(criterion, words):
    assert rules.plain_words(criterion) == words
