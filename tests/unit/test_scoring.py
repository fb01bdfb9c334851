"""The scoring engine and its JSON, against worked examples computed by hand (the arithmetic is in the comments).

Points are compared as shown to users: 2 decimal places, half up (`two_places`).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from decimal import ROUND_DOWN, Decimal, localcontext
from pathlib import Path

import pytest

from marketplace.evaluation.engine_io import loads, parse, result_to_json, two_places
from marketplace.evaluation.scoring import Bid, Criterion, ModelError, Settings, evaluate

D = Decimal
ROOT = Path(__file__).resolve().parents[2]


def price(weight, method="relative_lowest", **params) -> Criterion:
    return Criterion("price", "price", D(weight), method=method, params={k: D(v) for k, v in params.items()})


def quality(cid="q", weight=40, scale_max=5, min_score=None) -> Criterion:
    return Criterion(cid, "quality", D(weight), scale_max=scale_max,
                     min_score=None if min_score is None else D(min_score))


def social_value(cid="sv", weight=10) -> Criterion:
    return Criterion(cid, "social_value", D(weight))


def kent(weight=10, method="relative_highest", **params) -> Criterion:
    return Criterion("kent", "local_economy", D(weight), method=method, params={k: D(v) for k, v in params.items()})


def bid(bid_id, price_=None, share=None, pass_fail=None, **scores) -> Bid:
    return Bid(bid_id, None if price_ is None else D(price_), pass_fail or {},
               {k: D(v) for k, v in scores.items()}, None if share is None else D(share))


def by_id(result) -> dict:
    return {b.id: b for b in result.bids}


def shown_points(result, criterion) -> dict:
    return {b.id: two_places(b.points[criterion]) for b in result.bids if not b.excluded}


def shown_totals(result) -> dict:
    return {b.id: two_places(b.total) for b in result.bids}


# The issue's example: A and B compliant; C fails pf1; D scores 1 on q1, under its minimum of 2.
WORKED_CRITERIA = (price(40), Criterion("pf1", "pass_fail"), quality("q1", 40, min_score=2), social_value("sv", 10),
                   kent(10))
WORKED_BIDS = (
    bid("A", "120000.00", "0.45", {"pf1": True}, q1=4, sv=3),
    bid("B", "100000.00", "0.30", {"pf1": True}, q1=3, sv=4),
    bid("C", "90000.00", None, {"pf1": False}),  # excluded: needs no scores and no Kent share
    bid("D", "150000.00", "0.50", {"pf1": True}, q1=1, sv=5),
)


# Points per criterion ------------------------------------------------------------------------------

@pytest.mark.parametrize(("criterion", "prices", "expected"), [
    # lowest / price x 60: 100k/100k x 60 = 60; 100k/125k = 0.8 x 60 = 48; 100k/200k = 0.5 x 60 = 30
    (price(60), {"A": 100000, "B": 125000, "C": 200000}, {"A": "60.00", "B": "48.00", "C": "30.00"}),
    # 90k/210k = 3/7; 3/7 x 60 = 25.714285... -> 25.71
    (price(60), {"A": 90000, "B": 210000}, {"A": "60.00", "B": "25.71"}),
    # 60 x max(0, 1 - 1 x (p - 100k)/100k): B 1 - 0.25 = 0.75 -> 45; C 1 - 1 = 0 -> 0
    (price(60, "deviation_from_lowest"), {"A": 100000, "B": 125000, "C": 200000},
     {"A": "60.00", "B": "45.00", "C": "0.00"}),
    # factor 2: B 1 - 2 x 0.25 = 0.5 -> 30; C 1 - 2 x 0.4 = 0.2 -> 12; E 1 - 2 x 0.6 < 0 -> 0
    (price(60, "deviation_from_lowest", factor=2), {"A": 100000, "B": 125000, "C": 140000, "E": 160000},
     {"A": "60.00", "B": "30.00", "C": "12.00", "E": "0.00"}),
    # factor 0.5: B 1 - 0.5 x 0.25 = 0.875 -> 52.5; C 1 - 0.5 x 1 = 0.5 -> 30
    (price(60, "deviation_from_lowest", factor="0.5"), {"A": 100000, "B": 125000, "C": 200000},
     {"A": "60.00", "B": "52.50", "C": "30.00"}),
    # 60 x (180k - p) / (180k - 80k): A 80k/100k = 0.8 -> 48; B 55k/100k -> 33; C negative -> 0; E 1.3 -> 60
    (price(60, "linear_bounds", min_price=80000, max_price=180000),
     {"A": 100000, "B": 125000, "C": 200000, "E": 50000}, {"A": "48.00", "B": "33.00", "C": "0.00", "E": "60.00"}),
], ids=["relative_lowest", "relative_lowest_recurring", "deviation_factor_1", "deviation_factor_2",
        "deviation_factor_half", "linear_bounds_clipped"])
def test_price_points_follow_the_opportunitys_method(criterion, prices, expected):
    result = evaluate((criterion, quality(weight=40)), [bid(i, p, q=5) for i, p in prices.items()])
    assert shown_points(result, "price") == expected


@pytest.mark.parametrize(("criterion", "bids", "expected"), [
    # share / highest x 10: 0.45/0.45 -> 10; 0.30/0.45 = 2/3 -> 6.67; 0 -> 0
    (kent(10), [bid("A", share="0.45", q=5), bid("B", share="0.30", q=5), bid("C", share="0", q=5)],
     {"A": "10.00", "B": "6.67", "C": "0.00"}),
    # nobody commits any Kent spend: 0 points each, not a division by zero
    (kent(10), [bid("A", share="0", q=5), bid("B", share="0", q=5)], {"A": "0.00", "B": "0.00"}),
    # min(share / 0.5, 1) x 10: 0.45 -> 0.9 -> 9; 0.30 -> 0.6 -> 6; 0.60 -> 1.2 capped at 1 -> 10
    (kent(10, "target", target="0.5"), [bid("A", share="0.45", q=5), bid("B", share="0.30", q=5),
                                        bid("C", share="0.60", q=5)], {"A": "9.00", "B": "6.00", "C": "10.00"}),
    # scored by the panel on 0-5: 3/5 x 10 = 6; 4.5/5 x 10 = 9; no share needed
    (kent(10, "panel"), [bid("A", q=5, kent=3), bid("B", q=5, kent="4.5")], {"A": "6.00", "B": "9.00"}),
], ids=["relative_highest", "relative_highest_all_zero", "target", "panel"])
def test_kent_local_economy_points_follow_the_criterions_method(criterion, bids, expected):
    result = evaluate((criterion, quality(weight=90)), bids)
    assert shown_points(result, "kent") == expected


@pytest.mark.parametrize(("scale_max", "score", "weight", "expected"), [
    (5, "4", 40, "32.00"),     # 4/5 x 40
    (5, "3.5", 40, "28.00"),   # 3.5/5 x 40: scores may be decimals (an average of the panel)
    (10, "7", 40, "28.00"),    # 7/10 x 40
    (5, "0", 40, "0.00"),
    (3, "1", 50, "16.67"),     # 1/3 x 50 = 16.666...
])
def test_a_panel_score_earns_score_over_scale_times_weight(scale_max, score, weight, expected):
    criteria = (quality("q", weight, scale_max=scale_max), social_value("sv", 100 - weight))
    result = evaluate(criteria, [bid("A", q=score, sv=5)])
    assert shown_points(result, "q") == {"A": expected}


def test_totals_add_the_unrounded_points_and_are_rounded_only_when_shown():
    # B: price 100/300 x 50 = 16.666..., quality 1/3 x 50 = 16.666...; total 33.333... -> 33.33,
    # not 16.67 + 16.67 = 33.34
    result = evaluate((price(50), quality(weight=50, scale_max=3)), [bid("A", 100, q=3), bid("B", 300, q=1)])
    b = by_id(result)["B"]
    assert [two_places(p) for p in b.points.values()] == ["16.67", "16.67"]
    assert two_places(b.total) == "33.33"
    assert b.points["price"] != D("16.67")


def test_the_issues_worked_example_scores_the_compliant_bids_and_excludes_the_rest():
    result = evaluate(WORKED_CRITERIA, WORKED_BIDS)
    # Compliant: A and B. Lowest compliant price 100,000 (C's 90,000 is excluded); highest compliant share 0.45
    # (D's 0.50 is excluded).
    # A: 100k/120k x 40 = 33.33 + 4/5 x 40 = 32 + 3/5 x 10 = 6 + 0.45/0.45 x 10 = 10 -> 81.33
    # B: 100k/100k x 40 = 40 + 3/5 x 40 = 24 + 4/5 x 10 = 8 + 0.30/0.45 x 10 = 6.67 -> 78.67
    a, b, c, d = (by_id(result)[i] for i in "ABCD")
    assert {k: two_places(v) for k, v in a.points.items()} == {"price": "33.33", "q1": "32.00", "sv": "6.00",
                                                               "kent": "10.00"}
    assert {k: two_places(v) for k, v in b.points.items()} == {"price": "40.00", "q1": "24.00", "sv": "8.00",
                                                               "kent": "6.67"}
    assert shown_totals(result) == {"A": "81.33", "B": "78.67", "C": None, "D": None}
    assert (a.rank, b.rank, c.rank, d.rank) == (1, 2, None, None)
    assert (result.winner, result.tied, result.decided_by) == ("A", (), "total")
    assert [r.id for r in result.bids] == ["A", "B", "C", "D"]


# Exclusions ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("answers", "scores", "reasons"), [
    ({"pf1": False}, {"q1": 4, "sv": 3}, ("pf1: failed this pass or fail criterion",)),
    ({"pf1": True}, {"q1": "1.5", "sv": 3}, ("q1: scored 1.5, under the minimum score of 2",)),
    ({"pf1": False}, {"q1": 1}, ("pf1: failed this pass or fail criterion",
                                 "q1: scored 1, under the minimum score of 2")),
])
def test_a_failed_pass_fail_or_a_score_under_the_minimum_excludes_the_bid_with_the_reason(answers, scores, reasons):
    bids = (bid("A", 100000, "0.4", answers, **scores), bid("B", 110000, "0.4", {"pf1": True}, q1=3, sv=3))
    excluded = by_id(evaluate(WORKED_CRITERIA, bids))["A"]
    assert (excluded.excluded, excluded.reasons, excluded.rank, excluded.total, dict(excluded.points)) == \
        (True, reasons, None, None, {})


def test_a_score_exactly_at_the_minimum_keeps_the_bid_in():
    result = evaluate(WORKED_CRITERIA, (bid("A", 100000, "0.4", {"pf1": True}, q1=2, sv=3),))
    assert by_id(result)["A"].excluded is False
    assert result.winner == "A"
    assert result.decided_by == "only_compliant_bid"


def test_excluded_bids_take_no_part_in_the_price_comparison():
    # Without C (excluded, 50,000) B is the lowest price and earns the full 40 price points.
    bids = (bid("B", 100000, "0.3", {"pf1": True}, q1=3, sv=3), bid("C", 50000, "0.3", {"pf1": False}))
    assert shown_points(evaluate(WORKED_CRITERIA, bids), "price") == {"B": "40.00"}


def test_when_every_bid_is_excluded_there_is_no_winner_and_no_sensitivity():
    result = evaluate(WORKED_CRITERIA, (bid("C", 90000, None, {"pf1": False}),))
    assert (result.winner, result.tied, result.decided_by, result.sensitivity) == (None, (), None, None)


# Ranking and ties ------------------------------------------------------------------------------------

def test_equal_totals_go_to_the_higher_quality_and_public_value_points():
    # A: 100/100 x 50 = 50 + 2/5 x 30 = 12 + 2/5 x 20 = 8 -> 70 (quality and public value 20)
    # B: 100/200 x 50 = 25 + 5/5 x 30 = 30 + 3.75/5 x 20 = 15 -> 70 (quality and public value 45)
    criteria = (price(50), quality("q", 30), social_value("sv", 20))
    result = evaluate(criteria, [bid("A", 100, q=2, sv=2), bid("B", 200, q=5, sv="3.75")])
    assert shown_totals(result) == {"B": "70.00", "A": "70.00"}
    assert (result.winner, result.decided_by) == ("B", "quality_and_public_value_points")
    assert [(r.id, r.rank) for r in result.bids] == [("B", 1), ("A", 2)]


def test_equal_totals_and_quality_go_to_the_lower_price():
    # Both prices are above the 100,000 upper bound: 0 price points each; quality 4/5 x 60 = 48 each.
    criteria = (price(40, "linear_bounds", min_price=50000, max_price=100000), quality(weight=60))
    result = evaluate(criteria, [bid("B", 120000, q=4), bid("A", 110000, q=4)])
    assert shown_totals(result) == {"A": "48.00", "B": "48.00"}
    assert (result.winner, result.decided_by) == ("A", "lower_price")
    assert [(r.id, r.rank) for r in result.bids] == [("A", 1), ("B", 2)]


def test_a_tie_the_rule_cannot_break_is_reported_for_a_recorded_decision_never_broken_silently():
    # A and B: same price and score (50 + 40 = 90); C 100/200 x 50 = 25 + 40 = 65.
    result = evaluate((price(50), quality(weight=50)), [bid("A", 100, q=4), bid("B", 100, q=4), bid("C", 200, q=4)])
    assert (result.winner, result.tied, result.decided_by) == (None, ("A", "B"), "tie")
    assert [(r.id, r.rank) for r in result.bids] == [("A", 1), ("B", 1), ("C", 3)]
    assert result.sensitivity is None


def test_a_tie_below_first_place_shares_the_rank():
    # A 50 + 50 = 100; B and C 25 + 40 = 65; D 100/400 x 50 = 12.5 + 40 = 52.5
    bids = [bid("A", 100, q=5), bid("B", 200, q=4), bid("C", 200, q=4), bid("D", 400, q=4)]
    result = evaluate((price(50), quality(weight=50)), bids)
    assert [(r.id, r.rank) for r in result.bids] == [("A", 1), ("B", 2), ("C", 2), ("D", 4)]
    assert (result.winner, result.tied) == ("A", ())


def test_totals_that_differ_only_in_the_last_digit_of_the_arithmetic_are_equal_and_go_to_the_rule():
    # A: 100/100 x 20 = 20 + 1/6 x 80 = 13.333... -> 33.333...  B: 100/300 x 20 = 6.666... + 2/6 x 80 = 26.666...
    # -> 33.333... The same total; at 28 digits A comes out 1E-26 ahead. The rule gives it to B (quality 26.67).
    result = evaluate((price(20), quality(weight=80, scale_max=6)), [bid("A", 100, q=1), bid("B", 300, q=2)])
    a, b = by_id(result)["A"], by_id(result)["B"]
    assert a.total > b.total
    assert (result.winner, result.decided_by) == ("B", "quality_and_public_value_points")


# Abnormally low prices -------------------------------------------------------------------------------

MEAN_40 = "abnormally_low: 40.0% under the mean of the other compliant bids"


@pytest.mark.parametrize(("prices", "settings", "expected"), [
    # A: mean of the others (80 + 100 + 120) / 3 = 100; (100 - 60) / 100 = 40% -> flagged (40% counts);
    # next lowest 80: (80 - 60) / 80 = 25% -> not.  B: next 100 -> 20%; mean (60+100+120)/3 = 93.3 -> 14.3%.
    ({"A": "60", "B": "80", "C": "100", "D": "120"}, Settings(), {"A": (MEAN_40,)}),
    # A at 60.01: 39.99% under the mean, 24.99% under the next -> nothing
    ({"A": "60.01", "B": "80", "C": "100", "D": "120"}, Settings(), {}),
    # the administrator's threshold of 41%: 40% is not enough
    ({"A": "60", "B": "80", "C": "100", "D": "120"}, Settings(abnormally_low_mean_pct=D(41)), {}),
    # A: next lowest 100: (100 - 70) / 100 = 30% -> flagged; mean (100 + 110) / 2 = 105: 33.3% -> not
    ({"A": "70", "B": "100", "C": "110"}, Settings(),
     {"A": ("abnormally_low: 30.0% under the next lowest compliant price (B)",)}),
    # A at 70.01: 29.99% under the next lowest -> nothing
    ({"A": "70.01", "B": "100", "C": "110"}, Settings(), {}),
    # A: 50% under the mean (100) and 50% under the next lowest (B at 100): both flags
    ({"A": "50", "B": "100", "C": "100"}, Settings(),
     {"A": ("abnormally_low: 50.0% under the mean of the other compliant bids",
            "abnormally_low: 50.0% under the next lowest compliant price (B)")}),
    # A and B at 50: each one's next lowest is the other (0%), not C; mean for A (50 + 80) / 2 = 65 -> 23.1%
    ({"A": "50", "B": "50", "C": "80"}, Settings(), {}),
    # one compliant bid has nothing to be compared with
    ({"A": "10"}, Settings(), {}),
], ids=["mean_exactly_40", "mean_just_under_40", "mean_threshold_from_settings", "next_exactly_30",
        "next_just_under_30", "both_rules", "equal_low_prices", "single_bid"])
def test_abnormally_low_prices_are_flagged_against_the_other_compliant_bids(prices, settings, expected):
    result = evaluate((price(50), quality(weight=50)), [bid(i, p, q=3) for i, p in prices.items()], settings)
    assert {r.id: r.flags for r in result.bids if r.flags} == expected
    assert {r.id for r in result.bids if r.abnormally_low} == set(expected)


def test_an_excluded_bids_price_takes_no_part_in_the_abnormally_low_check():
    # Without E: B is 40% under the mean (100) and 40% under C. With E's 10 the mean would be 70 (14.3%).
    criteria = (price(50), Criterion("pf", "pass_fail"), quality(weight=50))
    bids = [bid("B", 60, pass_fail={"pf": True}, q=3), bid("C", 100, pass_fail={"pf": True}, q=3),
            bid("D", 100, pass_fail={"pf": True}, q=3), bid("E", 10, pass_fail={"pf": False})]
    flags = {r.id: r.flags for r in evaluate(criteria, bids).bids}
    assert flags == {"B": (MEAN_40, "abnormally_low: 40.0% under the next lowest compliant price (C)"),
                     "C": (), "D": (), "E": ()}


# Sensitivity ------------------------------------------------------------------------------------------

def test_sensitivity_gives_the_smallest_weight_shift_that_lets_another_bid_draw_level():
    # Unit scores (share of the weight earned): A price 1, quality 0.6; B price 0.8, quality 1.
    # Totals: A 50 + 30 = 80; B 40 + 50 = 90 -> B leads by 10.
    # Price +d (quality -d): A 80 + d x (1 - 0.6) = 80 + 0.4d; B 90 + d x (0.8 - 1) = 90 - 0.2d;
    # level at 0.6d = 10 -> d = 16.666... (price 66.67, quality 33.33: A 66.67 + 20 = 86.67 = B 53.33 + 33.33).
    # Quality +d is price -d: level at d = -16.67. Equal sizes: the first criterion is reported.
    result = evaluate((price(50), quality(weight=50)), [bid("A", 100, q=3), bid("B", 125, q=5)])
    s = result.sensitivity
    assert (s.leader, s.smallest.criterion, two_places(s.smallest.shift), s.smallest.challenger) == \
        ("B", "price", "16.67", "A")
    assert [(w.criterion, two_places(w.shift), two_places(w.new_weight), w.challenger) for w in s.by_criterion] == \
        [("price", "16.67", "66.67", "A"), ("q", "-16.67", "33.33", "A")]


def test_sensitivity_of_the_worked_example_takes_weight_from_the_others_in_proportion():
    # Unit scores: A price 5/6, q1 0.8, sv 0.6, kent 1; B price 1, q1 0.6, sv 0.8, kent 2/3.
    # Totals A 244/3 (81.33), B 236/3 (78.67): A leads by 8/3.
    # Moving criterion c by d (the rest scaled by 1 - d / (100 - w_c)), a bid's total moves by
    # d x (u_c - (T - w_c x u_c) / (100 - w_c)):
    #   price (w 40): A 5/6 - 48/60 = 1/30; B 1 - (116/3)/60 = 16/45; d = (8/3) / (16/45 - 1/30) = 240/29 = 8.28
    #   q1 (w 40):    A 0.8 - (148/3)/60 = -1/45; B 0.6 - (164/3)/60 = -14/45; d = (8/3) / (-13/45) = -120/13 = -9.23
    #   sv (w 10):    A 0.6 - (226/3)/90 = -32/135; B 0.8 - (212/3)/90 = 2/135; d = (8/3) / (34/135) = 180/17 = 10.59
    #   kent (w 10):  A 1 - (214/3)/90 = 28/135; B 2/3 - 72/90 = -18/135; d = (8/3) / (-46/135) = -180/23 = -7.83
    # Check kent at 10 - 7.83 = 2.17, the rest x 25/23: price and q1 43.48, sv 10.87:
    #   A 36.23 + 34.78 + 6.52 + 2.17 = 79.71; B 43.48 + 26.09 + 8.70 + 1.45 = 79.71.
    s = evaluate(WORKED_CRITERIA, WORKED_BIDS).sensitivity
    assert [(w.criterion, two_places(w.shift), w.challenger) for w in s.by_criterion] == [
        ("price", "8.28", "B"), ("q1", "-9.23", "B"), ("sv", "10.59", "B"), ("kent", "-7.83", "B")]
    assert (s.smallest.criterion, two_places(s.smallest.shift), two_places(s.smallest.new_weight)) == \
        ("kent", "-7.83", "2.17")
    assert abs(s.smallest.shift - D(-180) / D(23)) < D("1E-20")  # exact but for the last digits


def test_a_winner_ahead_on_every_criterion_cannot_be_overtaken_by_any_single_weight_shift():
    # A earns the full weight everywhere; B half of it. Any weights keep A ahead.
    result = evaluate((price(50), quality(weight=50)), [bid("A", 100, q=5), bid("B", 200, q="2.5")])
    s = result.sensitivity
    assert s.leader == "A"
    assert s.smallest is None
    assert [(w.criterion, w.shift, w.challenger) for w in s.by_criterion] == [("price", None, None), ("q", None, None)]


def test_a_single_criterion_weighted_100_has_no_weight_to_shift():
    result = evaluate((quality(weight=100),), [bid("A", q=5), bid("B", q=1)])
    assert [(w.criterion, w.shift) for w in result.sensitivity.by_criterion] == [("q", None)]


def test_there_is_no_sensitivity_with_one_compliant_bid():
    assert evaluate((price(50), quality(weight=50)), [bid("A", 100, q=3)]).sensitivity is None


# Validation ---------------------------------------------------------------------------------------------

def criteria_with(index, **changes):
    criteria = list(WORKED_CRITERIA)
    criteria[index] = dataclasses.replace(criteria[index], **changes)
    return tuple(criteria)


def bids_with(index, **changes):
    bids = list(WORKED_BIDS)
    bids[index] = dataclasses.replace(bids[index], **changes)
    return tuple(bids)


CRITERIA_ERRORS = [
    (criteria_with(2, weight=D(35)), "criteria[4].weight", "weights add up to 95, they must add up to 100"),
    (criteria_with(2, kind="qualty"), "criteria[2].kind", "unknown kind 'qualty'"),
    (criteria_with(0, method="lowest"), "criteria[0].method", "unknown method 'lowest' for a price criterion"),
    (criteria_with(0, method=None), "criteria[0].method", "no method for a price criterion"),
    (criteria_with(4, method="highest"), "criteria[4].method", "unknown method 'highest' for a local_economy"),
    (criteria_with(2, method="relative_lowest"), "criteria[2].method", "a quality criterion takes no method"),
    (criteria_with(3, weight=None), "criteria[3].weight", "give this criterion a weight"),
    (criteria_with(3, weight=D(-10)), "criteria[3].weight", "more than 0 and no more than 100"),
    (criteria_with(3, weight=D(110)), "criteria[3].weight", "more than 0 and no more than 100"),
    (criteria_with(1, weight=D(10)), "criteria[1].weight", "a pass or fail criterion has no weight"),
    (criteria_with(0, method="linear_bounds", params={"min_price": D(1)}), "criteria[0].max_price",
     "linear_bounds needs a max_price"),
    (criteria_with(0, method="linear_bounds", params={"min_price": D(9), "max_price": D(9)}),
     "criteria[0].max_price", "more than the minimum price"),
    (criteria_with(0, method="linear_bounds", params={"min_price": D(-1), "max_price": D(9)}),
     "criteria[0].min_price", "cannot be negative"),
    (criteria_with(0, method="deviation_from_lowest", params={"factor": D(0)}), "criteria[0].factor",
     "the deviation factor must be more than 0"),
    (criteria_with(0, params={"factor": D(2)}), "criteria[0].factor", "relative_lowest takes no factor"),
    (criteria_with(4, method="target"), "criteria[4].target", "target needs a target"),
    (criteria_with(4, method="target", params={"target": D("1.5")}), "criteria[4].target",
     "more than 0 and no more than 1"),
    (criteria_with(2, min_score=D(6)), "criteria[2].min_score", "between 0 and 5"),
    (criteria_with(0, min_score=D(1)), "criteria[0].min_score", "only panel-scored criteria have a minimum"),
    (criteria_with(2, scale_max=0), "criteria[2].scale_max", "a whole number of at least 1"),
    (criteria_with(3, id="q1"), "criteria[3].id", "another criterion has the id 'q1'"),
    (criteria_with(2, kind="price", method="relative_lowest", min_score=None), "criteria[2].kind",
     "use one price criterion"),
    ((Criterion("pf1", "pass_fail"),), "criteria", "add at least one scored criterion"),
]

BID_ERRORS = [
    (bids_with(0, scores={"q1": D(6), "sv": D(3)}), "bids[0].scores.q1", "a score must be between 0 and 5"),
    (bids_with(0, scores={"q1": D(-1), "sv": D(3)}), "bids[0].scores.q1", "a score must be between 0 and 5"),
    (bids_with(0, scores={"q1": D(4)}), "bids[0].scores.sv", "enter the panel's score"),
    (bids_with(0, scores={"q1": D(4), "sv": D(3), "q9": D(1)}), "bids[0].scores.q9",
     "no panel-scored criterion has this id"),
    (bids_with(0, scores={"q1": D(4), "sv": D(3), "price": D(1)}), "bids[0].scores.price",
     "no panel-scored criterion has this id"),
    (bids_with(1, price=None), "bids[1].price", "enter the price"),
    (bids_with(1, price=D(-1)), "bids[1].price", "a price cannot be negative"),
    (bids_with(1, price=D(0)), "bids[1].price", "a price of 0 cannot be scored (relative to the lowest price it "
                                                "would divide by zero)"),
    (bids_with(0, local_economy_share=D("1.2")), "bids[0].local_economy_share", "between 0 and 1"),
    (bids_with(0, local_economy_share=D("-0.1")), "bids[0].local_economy_share", "between 0 and 1"),
    (bids_with(0, local_economy_share=None), "bids[0].local_economy_share", "enter the Kent share"),
    (bids_with(0, pass_fail={"pf1": True, "pf9": True}), "bids[0].pass_fail.pf9", "no pass or fail criterion"),
    (bids_with(0, pass_fail={}), "bids[0].pass_fail.pf1", "record whether the bid passes"),
    (bids_with(1, id="A"), "bids[1].id", "another bid has the id 'A'"),
    (bids_with(1, id=" "), "bids[1].id", "give the bid an id"),
]


@pytest.mark.parametrize(("criteria", "field", "message"), CRITERIA_ERRORS,
                         ids=[f"{f}:{m[:30]}" for _, f, m in CRITERIA_ERRORS])
def test_criteria_that_cannot_be_scored_are_refused_naming_the_field(criteria, field, message):
    with pytest.raises(ModelError) as caught:
        evaluate(criteria, WORKED_BIDS)
    assert caught.value.field == field
    assert message in caught.value.message
    assert str(caught.value).startswith(f"{field}: ")


@pytest.mark.parametrize(("bids", "field", "message"), BID_ERRORS, ids=[f"{f}:{m[:30]}" for _, f, m in BID_ERRORS])
def test_bids_that_cannot_be_scored_are_refused_naming_the_field(bids, field, message):
    with pytest.raises(ModelError) as caught:
        evaluate(WORKED_CRITERIA, bids)
    assert (caught.value.field, message in caught.value.message) == (field, True)


def test_the_weights_message_reads_as_the_issue_asks():
    with pytest.raises(ModelError, match=r"^criteria\[4\]\.weight: weights add up to 95, they must add up to 100$"):
        evaluate(criteria_with(2, weight=D(35)), WORKED_BIDS)


def test_every_problem_is_reported_at_once():
    bids = bids_with(0, price=D(-5), scores={"q1": D(9), "sv": D(3)})
    with pytest.raises(ModelError) as caught:
        evaluate(WORKED_CRITERIA, bids)
    assert [field for field, _ in caught.value.problems] == ["bids[0].price", "bids[0].scores.q1"]


def test_no_bids_is_refused():
    with pytest.raises(ModelError, match=r"^bids: add at least one bid"):
        evaluate(WORKED_CRITERIA, ())


@pytest.mark.parametrize("name", ["abnormally_low_mean_pct", "abnormally_low_next_pct"])
@pytest.mark.parametrize("value", ["0", "100", "-5"])
def test_abnormally_low_thresholds_must_be_percentages_between_0_and_100(name, value):
    with pytest.raises(ModelError) as caught:
        evaluate(WORKED_CRITERIA, WORKED_BIDS, Settings(**{name: D(value)}))
    assert caught.value.field == f"settings.{name}"


# Purity -------------------------------------------------------------------------------------------------

def test_results_do_not_depend_on_the_callers_decimal_context():
    expected = evaluate(WORKED_CRITERIA, WORKED_BIDS)
    with localcontext() as context:
        context.prec, context.rounding = 6, ROUND_DOWN
        assert evaluate(WORKED_CRITERIA, WORKED_BIDS) == expected


def test_inputs_and_results_are_frozen():
    criterion, result = price(50, "deviation_from_lowest", factor=1), evaluate(WORKED_CRITERIA, WORKED_BIDS)
    with pytest.raises(dataclasses.FrozenInstanceError):
        criterion.weight = D(60)
    with pytest.raises(TypeError):
        criterion.params["factor"] = D(2)
    with pytest.raises(TypeError):
        result.bids[0].points["price"] = D(0)


# The JSON (engine_io) -----------------------------------------------------------------------------------

WORKED_JSON = """{"criteria": [{"id": "price", "kind": "price", "weight": 40, "method": "relative_lowest"},
  {"id": "pf1", "kind": "pass_fail", "title": "Insurance"},
  {"id": "q1", "kind": "quality", "weight": 40, "scale_max": 5, "min_score": 2},
  {"id": "sv", "kind": "social_value", "weight": 10, "scale_max": 5},
  {"id": "kent", "kind": "local_economy", "weight": 10, "method": "relative_highest"}],
 "bids": [{"id": "A", "price": "120000.00", "pass_fail": {"pf1": true}, "scores": {"q1": 4, "sv": 3},
           "local_economy_share": "0.45"},
          {"id": "B", "price": 100000.00, "pass_fail": {"pf1": true}, "scores": {"q1": 3, "sv": 4.0},
           "local_economy_share": 0.30},
          {"id": "C", "price": "90000", "pass_fail": {"pf1": false}},
          {"id": "D", "price": "150000", "pass_fail": {"pf1": true}, "scores": {"q1": 1, "sv": 5},
           "local_economy_share": "0.5"}]}"""


def test_the_json_reads_into_the_same_scenario_as_the_dataclasses():
    scenario = loads(WORKED_JSON)
    assert evaluate(scenario.criteria, scenario.bids) == evaluate(WORKED_CRITERIA, WORKED_BIDS)
    assert scenario.bids[1].local_economy_share == D("0.30")  # read exactly, never through a float


def test_input_settings_override_the_callers_thresholds():
    scenario = loads('{"criteria": [], "bids": [], "settings": {"abnormally_low_mean_pct": "35"}}')
    assert scenario.settings_over(Settings(D(50), D(25))) == Settings(D(35), D(25))


@pytest.mark.parametrize(("text", "field", "message"), [
    ('{"criteria": [{"id": "p", "kind": "price", "weight": "forty"}], "bids": []}', "criteria[0].weight",
     "enter a number"),
    ('{"criteria": [{"id": "p", "kind": "price", "weight": true}], "bids": []}', "criteria[0].weight",
     "enter a number"),
    ('{"criteria": [{"id": "p", "kind": "price", "weight": 1e20}], "bids": []}', "criteria[0].weight",
     "enter a number under 1,000,000,000,000,000"),
    ('{"criteria": [{"id": "q", "kind": "quality", "scale_max": 5.5}], "bids": []}', "criteria[0].scale_max",
     "enter a whole number"),
    ('{"criteria": [{"id": "q", "kind": "quality", "wieght": 5}], "bids": []}', "criteria[0].wieght",
     "unknown field"),
    ('{"criteria": [{"kind": "quality"}], "bids": []}', "criteria[0].id", "missing"),
    ('{"criteria": [{"id": 7, "kind": "quality"}], "bids": []}', "criteria[0].id", "enter it as text"),
    ('{"criteria": [{"id": "' + "x" * 101 + '", "kind": "quality"}], "bids": []}', "criteria[0].id",
     "100 characters or fewer"),
    ('{"criteria": [], "bids": [{"id": "A", "price": "120,000"}]}', "bids[0].price", "enter a number"),
    ('{"criteria": [], "bids": [{"id": "A", "price": "NaN"}]}', "bids[0].price", "enter a number"),
    ('{"criteria": [], "bids": [{"id": "A", "pass_fail": {"pf1": "yes"}}]}', "bids[0].pass_fail.pf1",
     "enter true or false"),
    ('{"criteria": [], "bids": [{"id": "A", "scores": [4]}]}', "bids[0].scores", "must be an object"),
    ('{"criteria": {}, "bids": []}', "criteria", "must be a list"),
    ('{"criteria": []}', "bids", "missing"),
    ('{"criteria": [], "bids": [], "settings": {"mean": 40}}', "settings.mean", "unknown field"),
    ('{"criteria": [], "bids": [], "extra": 1}', "extra", "unknown field"),
    ('[1, 2]', "input", "must be a JSON object"),
    ('{"criteria": [NaN], "bids": []}', "input", "not valid JSON"),
    ('{"criteria": [', "input", "not valid JSON: Expecting value (line 1, column 15)"),
])
def test_malformed_json_is_refused_naming_the_field(text, field, message):
    with pytest.raises(ModelError) as caught:
        loads(text)
    assert caught.value.field == field
    assert message in caught.value.message


def test_parse_accepts_decoded_json_with_python_floats():
    scenario = parse({"criteria": [{"id": "q", "kind": "quality", "weight": 100}],
                      "bids": [{"id": "A", "scores": {"q": 3.3}}]})
    assert scenario.bids[0].scores["q"] == D("3.3")


@pytest.mark.parametrize(("value", "shown"), [
    (D("120000"), "120000.00"), (D("2.345"), "2.35"), (D("2.344999"), "2.34"), (D("0.005"), "0.01"),
    (D("-7.826"), "-7.83"), (D("-0.001"), "0.00"), (None, None),
])
def test_numbers_are_shown_to_two_places_rounded_half_up(value, shown):
    assert two_places(value) == shown


def test_the_result_json_has_one_entry_per_bid_then_the_winner_and_the_sensitivity():
    output = result_to_json(evaluate(WORKED_CRITERIA, WORKED_BIDS), Settings())
    assert output["bids"][0] == {"id": "A", "excluded": False, "reasons": [], "rank": 1, "flags": [],
                                 "points": {"price": "33.33", "q1": "32.00", "sv": "6.00", "kent": "10.00"},
                                 "total": "81.33"}
    assert output["bids"][2] == {"id": "C", "excluded": True, "reasons": ["pf1: failed this pass or fail criterion"],
                                 "points": {}, "total": None, "rank": None, "flags": []}
    assert (output["winner"], output["tied"], output["decided_by"]) == ("A", [], "total")
    assert output["sensitivity"]["smallest"] == {"criterion": "kent", "weight": "10.00", "shift": "-7.83",
                                                 "new_weight": "2.17", "challenger": "B"}
    assert output["settings"] == {"abnormally_low_mean_pct": "40.00", "abnormally_low_next_pct": "30.00"}


# The benchmark still runs ---------------------------------------------------------------------------------

def test_the_scoring_benchmark_runs_on_a_small_tender(monkeypatch):
    spec = importlib.util.spec_from_file_location("bench_scoring", ROOT / "benchmarks" / "bench_scoring.py")
    bench = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, bench)
    spec.loader.exec_module(bench)
    rows = bench.run(bids=20, criteria=6, evaluators=3, repeats=1)
    assert [row.stage for row in rows] == ["average the panel's scores", "evaluate", "serialise to JSON"]
    assert all(row.seconds >= 0 and row.peak_bytes > 0 for row in rows)
