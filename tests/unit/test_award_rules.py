"""Award rules (pure): who may approve, what blocks a recommendation, an approval or a confirmation, the state of
standstill, challenges in time, cancellation reasons, contract dates and references, and the engine's output in
words."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from marketplace.awards import rules, wording
from tests.unit.test_pure_imports import violations

ROOT = Path(__file__).resolve().parents[2]
OFFICER, ADMIN, COMMISSIONER = "procurement_officer", "administrator", "commissioner"


@pytest.mark.parametrize("module", ["rules.py", "wording.py", "permissions.py"])
def test_the_award_rules_import_nothing_from_flask_or_the_database(module):
    assert violations(ROOT / "marketplace" / "awards" / module) == []


# Who may approve --------------------------------------------------------------------------------------

@pytest.mark.parametrize("roles", [{OFFICER}, {ADMIN}, {OFFICER, COMMISSIONER}])
def test_another_procurement_officer_or_an_administrator_may_approve(roles):
    assert rules.approval_refusal(2, roles, recommended_by_id=1) is None


@pytest.mark.parametrize("roles", [{OFFICER}, {OFFICER, ADMIN}, {ADMIN}])
def test_the_recommender_may_never_approve_whatever_roles_they_hold(roles):
    assert "separation of duties" in rules.approval_refusal(1, roles, recommended_by_id=1)


@pytest.mark.parametrize("roles", [set(), {COMMISSIONER}])
def test_nobody_else_may_approve(roles):
    assert rules.approval_refusal(2, roles, recommended_by_id=1).startswith("Only a procurement officer or an admin")


def test_only_procurement_officers_run_awards_but_administrators_see_them():
    assert rules.runs_awards({OFFICER}) and not rules.runs_awards({ADMIN})
    assert rules.sees_awards({ADMIN}) and rules.sees_awards({OFFICER}) and not rules.sees_awards({COMMISSIONER})


# Recommending -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("status", "moderated", "current", "expected"), [
    ("evaluating", True, None, None),
    ("evaluating", True, rules.RETURNED, None),
    ("evaluating", True, rules.CANCELLED, None),
    ("evaluating", False, None, "Moderation is not complete"),
    ("closed", True, None, "not being evaluated"),
    ("award_recommended", True, rules.RECOMMENDED, "already recommended"),
    ("standstill", True, rules.APPROVED, "already recommended"),
    ("awarded", True, rules.CONFIRMED, "confirmed"),
])
def test_a_recommendation_needs_complete_moderation_and_no_other_recommendation_standing(status, moderated, current,
                                                                                        expected):
    refusal = rules.recommendation_refusal(status, moderated, current)
    assert refusal is None if expected is None else expected in refusal


@pytest.mark.parametrize(("chosen", "decision", "expected"), [
    ("7", "Drawn by lot in front of two witnesses", None),
    (None, "Drawn by lot", ("bid_id", "Select which of the tied bids you recommend")),
    ("9", "Drawn by lot", ("bid_id", "Select which of the tied bids you recommend")),
    ("7", "   ", ("tie_decision", "Explain how the tie was decided")),
])
def test_a_surviving_tie_needs_one_of_the_tied_bids_and_the_recorded_decision(chosen, decision, expected):
    assert rules.tie_problem(("7", "8"), chosen, decision) == expected


def test_without_a_tie_the_engines_winner_is_recommended_whatever_was_chosen():
    assert rules.tie_problem((), None, "") is None
    assert rules.recommended_bid("7", (), "8") == "7"
    assert rules.recommended_bid(None, ("7", "8"), "8") == "8"
    assert rules.recommended_bid(None, (), None) is None


# Approval ----------------------------------------------------------------------------------------------

def test_flags_without_an_answer_are_listed_in_order():
    assert rules.unanswered(["3", "5", "9"], ["5"]) == ["3", "9"]


def test_an_award_is_not_approved_while_a_flag_is_unanswered_or_the_ranking_has_changed():
    blockers = rules.approval_blockers(["Bidder 2 CIC"], ranking_changed=True)
    assert blockers[0].startswith("The abnormally low price of Bidder 2 CIC has not been answered")
    assert blockers[1].startswith("The ranking has changed since the recommendation")
    assert rules.approval_blockers([], ranking_changed=False) == []


# Standstill ----------------------------------------------------------------------------------------------

ENDS = date(2026, 12, 8)


@pytest.mark.parametrize(("ends_on", "today", "unresolved", "upheld", "expected"), [
    (None, ENDS, 0, 0, rules.NOT_STARTED),
    (ENDS, ENDS - timedelta(days=3), 0, 0, rules.RUNNING),
    (ENDS, ENDS, 0, 0, rules.RUNNING),
    (ENDS, ENDS + timedelta(days=1), 0, 0, rules.ENDED),
    (ENDS, ENDS + timedelta(days=1), 1, 0, rules.SUSPENDED),
    (ENDS, ENDS, 1, 1, rules.SUSPENDED),
    (ENDS, ENDS + timedelta(days=1), 0, 1, rules.UPHELD),
])
def test_standstill_runs_to_the_end_of_its_last_day_and_a_challenge_suspends_it(ends_on, today, unresolved, upheld,
                                                                                expected):
    assert rules.standstill_state(ends_on, today, unresolved, upheld) == expected


def test_the_end_of_standstill_is_said_in_words():
    assert rules.standstill_end_words(ENDS) == "midnight at the end of Tuesday 8 December 2026"


@pytest.mark.parametrize(("status", "today", "unresolved", "upheld", "expected"), [
    (rules.APPROVED, ENDS + timedelta(days=1), 0, 0, None),
    (rules.APPROVED, ENDS, 0, 0, "Standstill ends at midnight at the end of Tuesday 8 December 2026. You can "
                                 "confirm the award from Wednesday 9 December 2026."),
    (rules.APPROVED, ENDS + timedelta(days=5), 1, 0, "has not been resolved"),
    (rules.APPROVED, ENDS + timedelta(days=5), 0, 1, "was upheld"),
    (rules.RECOMMENDED, ENDS + timedelta(days=5), 0, 0, "Only an approved award"),
    (rules.CONFIRMED, ENDS + timedelta(days=5), 0, 0, "already confirmed"),
])
def test_confirmation_waits_for_the_end_of_standstill_and_every_challenge(status, today, unresolved, upheld,
                                                                          expected):
    refusal = rules.confirmation_refusal(status, ENDS, today, unresolved, upheld)
    assert refusal is None if expected is None else expected in refusal


NOTICE = datetime(2026, 11, 26, 10, 0, tzinfo=timezone.utc)
NOW = datetime(2026, 12, 15, 10, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(("received", "day", "expected"), [
    (NOTICE + timedelta(hours=1), date(2026, 11, 26), None),
    (NOTICE - timedelta(minutes=1), date(2026, 11, 26), "after the award notice"),
    (datetime(2026, 12, 9, 0, 1, tzinfo=timezone.utc), date(2026, 12, 9), "Standstill ended"),
    (NOW + timedelta(minutes=1), date(2026, 12, 15), "in the future"),
])
def test_a_challenge_counts_when_received_between_the_notice_and_the_end_of_standstill(received, day, expected):
    refusal = rules.challenge_time_refusal(received, day, NOTICE, ENDS, NOW)
    assert refusal is None if expected is None else expected in refusal


def test_a_challenge_late_in_the_evening_of_the_last_day_counts():
    late = datetime(2026, 12, 8, 23, 30, tzinfo=timezone.utc)  # 11:30pm in London (GMT in December)
    assert rules.challenge_time_refusal(late, date(2026, 12, 8), NOTICE, ENDS, NOW) is None


def test_an_award_goes_back_to_evaluation_from_standstill_only_after_an_upheld_challenge():
    assert rules.return_refusal(rules.APPROVED, upheld=1) is None
    assert "upheld" in rules.return_refusal(rules.APPROVED, upheld=0)
    assert "Only an award in standstill" in rules.return_refusal(rules.CONFIRMED, upheld=1)


# Cancellation --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("category", "details", "problem", "text"), [
    ("unaffordable", "", None, "Every compliant bid is above the available budget"),
    ("unaffordable", "The lowest was £40,000 over", None,
     "Every compliant bid is above the available budget. The lowest was £40,000 over"),
    ("other", "The service moves to the NHS", None, "The service moves to the NHS"),
    ("other", "  ", "reason", None),
    ("", "Details", "category", None),
    ("made_up", "Details", "category", None),
])
def test_cancelling_takes_a_listed_reason_and_details_which_other_needs(category, details, problem, text):
    found = rules.cancel_problem(category, details)
    assert (found[0] if found else None) == problem
    if text is not None:
        assert rules.cancel_reason_text(category, details) == text


# The contract ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("start", "months", "end"), [
    (date(2027, 4, 1), 12, date(2028, 3, 31)),
    (date(2027, 4, 1), 24, date(2029, 3, 31)),
    (date(2027, 1, 31), 1, date(2027, 2, 27)),  # one month from 31 January runs to 28 February, less a day
    (date(2028, 1, 31), 1, date(2028, 2, 28)),  # in a leap year, to 29 February less a day
    (date(2027, 11, 15), 3, date(2028, 2, 14)),
])
def test_a_contract_ends_the_day_before_the_same_date_months_later(start, months, end):
    assert rules.contract_end(start, months) == end


def test_contract_references_are_numbered_within_the_year():
    assert rules.contract_reference(2026, None) == "KCC-C-2026-0001"
    assert rules.contract_reference(2026, "KCC-C-2026-0041") == "KCC-C-2026-0042"


def test_kent_spend_is_the_value_times_the_committed_share_to_the_penny():
    assert rules.kent_spend(Decimal("100000.00"), Decimal("0.333333")) == Decimal("33333.30")
    assert rules.kent_spend(Decimal("100000.00"), None) is None


# Words ----------------------------------------------------------------------------------------------------

NAMES = {"7": "Bidder 1 CIC", "8": "Bidder 2 CIC"}
TITLES = {"12": "How you will deliver the service", "13": "Price"}


def test_flags_name_the_bid_they_compare_with():
    flag = "abnormally_low: 50.0% under the next lowest compliant price (7)"
    assert wording.flag_words(flag, NAMES) == "Abnormally low: 50.0% under the next lowest compliant price (Bidder 1 CIC)"


def test_exclusion_reasons_name_the_criterion():
    assert wording.reason_words("12: scored 1, under the minimum score of 2", TITLES) == (
        "How you will deliver the service: scored 1, under the minimum score of 2")
    assert wording.reason_words("Price rejected as abnormally low: no staff costs", TITLES) == (
        "Price rejected as abnormally low: no staff costs")


def test_sensitivity_says_how_far_one_weight_would_have_to_move():
    sensitivity = {"leader": "8", "smallest": {"criterion": "13", "weight": "35.00", "shift": "-7.30",
                                               "new_weight": "27.70", "challenger": "7"}}
    assert wording.sensitivity_words(sensitivity, TITLES, NAMES) == (
        "The result would change if the weight of Price moved by 7.30 points (down from 35.00 to 27.70): "
        "Bidder 1 CIC would then draw level. Other weights move in proportion.")


def test_sensitivity_says_when_nothing_would_change_the_result_or_nothing_was_tested():
    assert wording.sensitivity_words({"leader": "8", "smallest": None}, TITLES, NAMES).startswith("No change")
    assert wording.sensitivity_words(None, TITLES, NAMES).startswith("Not tested")


def test_each_way_of_deciding_the_leader_has_words():
    for decided_by in ("total", "quality_and_public_value_points", "lower_price", "only_compliant_bid", "tie"):
        assert wording.decided_by_words(decided_by) != wording.decided_by_words(None)
