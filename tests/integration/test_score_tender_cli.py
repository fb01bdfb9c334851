"""`flask score-tender INPUT`: the scoring engine from the command line, for "what if" scenarios."""

from __future__ import annotations

import copy
import json

import pytest
import sqlalchemy as sa

from marketplace.audit import AuditEvent
from marketplace.evaluation.cli import init_cli
from marketplace.extensions import db
from marketplace.settings import services as settings
from tests.factories import StaffFactory

# The example (worked by hand in tests/unit/test_scoring.py): A 81.33, B 78.67; C fails pf1; D scores 1 on
# q1, under the minimum of 2.
SCENARIO = {
    "criteria": [
        {"id": "price", "kind": "price", "weight": 40, "method": "relative_lowest"},
        {"id": "pf1", "kind": "pass_fail"},
        {"id": "q1", "kind": "quality", "weight": 40, "scale_max": 5, "min_score": 2},
        {"id": "sv", "kind": "social_value", "weight": 10, "scale_max": 5},
        {"id": "kent", "kind": "local_economy", "weight": 10, "method": "relative_highest"},
    ],
    "bids": [
        {"id": "A", "price": "120000.00", "pass_fail": {"pf1": True}, "scores": {"q1": 4, "sv": 3},
         "local_economy_share": "0.45"},
        {"id": "B", "price": "100000.00", "pass_fail": {"pf1": True}, "scores": {"q1": 3, "sv": 4},
         "local_economy_share": "0.30"},
        {"id": "C", "price": "90000.00", "pass_fail": {"pf1": False}},
        {"id": "D", "price": "150000.00", "pass_fail": {"pf1": True}, "scores": {"q1": 1, "sv": 5},
         "local_economy_share": "0.50"},
    ],
}

# A is 40% under the mean of the others (100) and 25% under the next lowest (80).
LOW_PRICE_SCENARIO = {
    "criteria": [{"id": "price", "kind": "price", "weight": 50, "method": "relative_lowest"},
                 {"id": "q1", "kind": "quality", "weight": 50}],
    "bids": [{"id": bid_id, "price": price, "scores": {"q1": 3}}
             for bid_id, price in (("A", "60"), ("B", "80"), ("C", "100"), ("D", "120"))],
}
LOW_PRICE_FLAG = "abnormally_low: 40.0% under the mean of the other compliant bids"


@pytest.fixture()
def score(app, runner):
    init_cli(app)

    def _score(*args, input=None):
        return runner.invoke(args=["score-tender", *args], input=input)

    return _score


def scenario_file(tmp_path, scenario) -> str:
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(scenario), encoding="utf-8")
    return str(path)


def changed(index, **fields) -> dict:
    scenario = copy.deepcopy(SCENARIO)
    kind, position = index
    scenario[kind][position].update(fields)
    return scenario


def test_scoring_a_scenario_file_prints_the_ranked_bids_the_winner_and_the_sensitivity(score, tmp_path):
    result = score(scenario_file(tmp_path, SCENARIO))
    assert result.exit_code == 0, result.output
    output = json.loads(result.stdout)
    assert [(b["id"], b["total"], b["rank"], b["excluded"]) for b in output["bids"]] == [
        ("A", "81.33", 1, False), ("B", "78.67", 2, False), ("C", None, None, True), ("D", None, None, True)]
    assert output["bids"][1]["points"] == {"price": "40.00", "q1": "24.00", "sv": "8.00", "kent": "6.67"}
    assert output["bids"][3]["reasons"] == ["q1: scored 1, under the minimum score of 2"]
    assert (output["winner"], output["tied"], output["decided_by"]) == ("A", [], "total")
    assert output["sensitivity"]["smallest"] == {"criterion": "kent", "weight": "10.00", "shift": "-7.83",
                                                 "new_weight": "2.17", "challenger": "B"}
    assert output["settings"] == {"abnormally_low_mean_pct": "40.00", "abnormally_low_next_pct": "30.00"}


def test_standard_input_gives_the_same_result_as_a_file(score, tmp_path):
    from_stdin = score("-", input=json.dumps(SCENARIO))
    assert from_stdin.exit_code == 0, from_stdin.output
    assert from_stdin.stdout == score(scenario_file(tmp_path, SCENARIO)).stdout


def test_a_surviving_tie_is_printed_as_the_tied_bids_with_no_winner(score):
    scenario = {"criteria": [{"id": "q1", "kind": "quality", "weight": 100}],
                "bids": [{"id": "A", "scores": {"q1": 4}}, {"id": "B", "scores": {"q1": 4}}]}
    output = json.loads(score("-", input=json.dumps(scenario)).stdout)
    assert (output["winner"], output["tied"], output["decided_by"], output["sensitivity"]) == \
        (None, ["A", "B"], "tie", None)


@pytest.mark.parametrize(("scenario", "errors"), [
    (changed(("criteria", 2), weight=35), ["criteria[4].weight: weights add up to 95, they must add up to 100"]),
    (changed(("criteria", 0), method="cheapest"),
     ["criteria[0].method: unknown method 'cheapest' for a price criterion; use one of relative_lowest, "
      "deviation_from_lowest, linear_bounds"]),
    (changed(("bids", 0), scores={"q1": 6, "sv": 3}), ["bids[0].scores.q1: a score must be between 0 and 5"]),
    (changed(("bids", 1), price=None), ["bids[1].price: enter the price: the model scores price"]),
    (changed(("bids", 1), price="-100"), ["bids[1].price: a price cannot be negative"]),
    (changed(("bids", 1), price="100,000"), ["bids[1].price: enter a number, like 120000.00 or 0.45"]),
    (changed(("bids", 0), price="-1", scores={"q1": 9, "sv": 3}),
     ["bids[0].price: a price cannot be negative", "bids[0].scores.q1: a score must be between 0 and 5"]),
], ids=["weights_95", "unknown_method", "score_above_scale", "missing_price", "negative_price", "price_with_commas",
        "two_problems"])
def test_malformed_input_exits_non_zero_naming_each_field(score, tmp_path, scenario, errors):
    result = score(scenario_file(tmp_path, scenario))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [f"Error: {error}" for error in errors]


@pytest.mark.parametrize(("text", "error"), [
    ('{"criteria": [', "Error: input: not valid JSON: Expecting value (line 1, column 15)"),
    ("", "Error: input: not valid JSON: Expecting value (line 1, column 1)"),
    ("[]", "Error: input: must be a JSON object with criteria and bids"),
])
def test_input_that_is_not_a_json_scenario_exits_non_zero(score, text, error):
    result = score("-", input=text)
    assert (result.exit_code, result.stderr.strip()) == (1, error)


def test_a_file_that_is_not_utf8_text_exits_non_zero(score, tmp_path):
    path = tmp_path / "scenario.json"
    path.write_bytes(b'{"criteria": "\xff\xfe"}')
    result = score(str(path))
    assert (result.exit_code, result.stderr.strip()) == (1, "Error: INPUT is not UTF-8 text")


def test_a_missing_file_is_a_usage_error(score, tmp_path):
    result = score(str(tmp_path / "nowhere.json"))
    assert result.exit_code == 2
    assert "No such file or directory" in result.stderr


def test_help_describes_the_input(score):
    result = score("--help")
    assert result.exit_code == 0
    assert "relative_lowest" in result.stdout and "- for standard input" in result.stdout


def test_the_administrators_abnormally_low_thresholds_apply_unless_the_input_sets_its_own(score, tmp_path):
    def flags_of_a(scenario):
        output = json.loads(score("-", input=json.dumps(scenario)).stdout)
        return output["bids"][0]["flags"], output["settings"]["abnormally_low_mean_pct"]

    assert flags_of_a(LOW_PRICE_SCENARIO) == ([LOW_PRICE_FLAG], "40.00")
    settings.update(StaffFactory(roles=["administrator"]), {"abnormally_low_mean_pct": "45"})
    assert flags_of_a(LOW_PRICE_SCENARIO) == ([], "45.00")
    assert flags_of_a({**LOW_PRICE_SCENARIO, "settings": {"abnormally_low_mean_pct": 40}}) == \
        ([LOW_PRICE_FLAG], "40.00")


def test_scoring_writes_nothing_to_the_database(score, tmp_path):
    count = sa.select(sa.func.count()).select_from(AuditEvent)
    before = db.session.scalar(count)
    assert score(scenario_file(tmp_path, SCENARIO)).exit_code == 0
    db.session.rollback()
    assert db.session.scalar(count) == before
