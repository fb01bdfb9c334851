"""Bid rules (pure, no app): who may bid under each reservation, what stops a bid being submitted, how words
are counted, the bidder's own transitions, and the canonical text that a receipt's SHA-256 covers."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from marketplace.bids import rules
from marketplace.bids.rules import BidSnapshot, CriterionNeed, Missing
from marketplace.organisations.choices import ORGANISATION_TYPES, SIZES, SME_SIZES, VCSE_TYPES

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=timezone.utc)
DEADLINE = NOW + timedelta(days=1)


# Eligibility under a reservation ------------------------------------------------------------------------

ORGANISATION_KINDS = [(org_type, size) for org_type in ORGANISATION_TYPES for size in SIZES]


@pytest.mark.parametrize("org_type, size", ORGANISATION_KINDS)
@pytest.mark.parametrize("kent_based", [True, False])
def test_an_unreserved_opportunity_is_open_to_every_organisation(org_type, size, kent_based):
    assert rules.eligibility_problem("none", kent_based, size in SME_SIZES, org_type in VCSE_TYPES) is None


@pytest.mark.parametrize("org_type, size", ORGANISATION_KINDS)
@pytest.mark.parametrize("kent_based", [True, False])
def test_a_kent_reservation_admits_every_kind_of_organisation_established_in_kent(org_type, size, kent_based):
    problem = rules.eligibility_problem("kent", kent_based, size in SME_SIZES, org_type in VCSE_TYPES)
    if kent_based:
        assert problem is None
    else:
        assert "reserved to suppliers established in Kent" in problem and "outside Kent" in problem


@pytest.mark.parametrize("org_type, size", ORGANISATION_KINDS)
@pytest.mark.parametrize("kent_based", [True, False])
def test_a_kent_sme_or_vcse_reservation_admits_kent_smes_and_vcses_only(org_type, size, kent_based):
    is_sme, is_vcse = size in SME_SIZES, org_type in VCSE_TYPES
    problem = rules.eligibility_problem("kent_sme_vcse", kent_based, is_sme, is_vcse)
    if not kent_based:
        assert "outside Kent" in problem
    elif is_sme or is_vcse:
        assert problem is None
    else:
        assert "recorded as large and not a VCSE" in problem


def test_the_kinds_table_covers_large_private_companies_and_large_charities():
    assert ("private_company", "large") in ORGANISATION_KINDS and ("charity", "large") in ORGANISATION_KINDS
    assert rules.eligibility_problem("kent_sme_vcse", True, False, True) is None  # a large Kent charity


# Counting words -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, words", [
    ("", 0), (None, 0), ("   \n\t ", 0), ("one", 1), ("one two", 2), ("  padded   words  ", 2),
    ("line one\nline two", 4), ("tab\tseparated", 2), ("non\u00a0breaking", 2), ("well-being", 1),
    ("yes , no", 3), ("£40,000 for 3 weeks", 4), ("naïve café", 2),
])
def test_words_are_runs_of_characters_between_spaces(text, words):
    assert rules.count_words(text) == words


# What stops a bid being submitted -----------------------------------------------------------------------

GATE = CriterionNeed(1, "pass_fail", "Safeguarding policy")
QUALITY = CriterionNeed(2, "quality", "Delivery", 5)
SOCIAL = CriterionNeed(3, "social_value", "Social value")
KENT = CriterionNeed(4, "local_economy", "Spend in Kent")
KENT_NARRATIVE = CriterionNeed(5, "local_economy", "Kent supply chain", 10)
PRICE = CriterionNeed(6, "price", "Price")
CRITERIA = (GATE, QUALITY, SOCIAL, KENT, PRICE)


def complete(**changes) -> BidSnapshot:
    fields = dict(lot_ids=(7,), answers={2: "We visit every week", 3: "Local volunteers"}, confirmations={1: True},
                  price_total=Decimal("1000.00"), kent_share=Decimal("0.4"), member_shares=(Decimal("0.3"),),
                  declared_conflicts="none", declared_no_exclusion_grounds=True, declared_accurate=True,
                  commitments=1)
    fields.update(changes)
    return BidSnapshot(**fields)


def sections(missing: list[Missing]) -> list[str]:
    return [item.section for item in missing]


def test_a_complete_bid_misses_nothing():
    assert rules.missing_items(CRITERIA, complete(), has_lots=True) == []


@pytest.mark.parametrize("changes, has_lots, expected", [
    ({"lot_ids": ()}, True, ["lots"]),
    ({"lot_ids": ()}, False, []),
    ({"confirmations": {}}, False, ["eligibility"]),
    ({"confirmations": {1: False}}, False, ["eligibility"]),
    ({"confirmations": {1: None}}, False, ["eligibility"]),
    ({"answers": {3: "x"}}, False, ["answer-2"]),
    ({"answers": {2: "   ", 3: "x"}}, False, ["answer-2"]),
    ({"answers": {2: "one two three four five six", 3: "x"}}, False, ["answer-2"]),
    ({"answers": {2: "one two three four five", 3: "x"}}, False, []),
    ({"answers": {2: "x"}}, False, ["answer-3"]),
    ({"price_total": None}, False, ["price"]),
    ({"price_total": Decimal(0)}, False, ["price"]),
    ({"price_total": Decimal("-1")}, False, ["price"]),
    ({"kent_share": None}, False, ["local_economy"]),
    ({"kent_share": Decimal(0)}, False, []),
    ({"member_shares": (Decimal("0.6"), Decimal("0.41"))}, False, ["consortium"]),
    ({"member_shares": (Decimal("0.6"), Decimal("0.4"))}, False, []),
    ({"declared_conflicts": None}, False, ["declarations"]),
    ({"declared_conflicts": "maybe"}, False, ["declarations"]),
    ({"declared_conflicts": "declared"}, False, []),
    ({"declared_no_exclusion_grounds": False}, False, ["declarations"]),
    ({"declared_accurate": False}, False, ["declarations"]),
    ({"commitments": 0}, False, []),
])
def test_each_gap_is_reported_against_the_section_that_fixes_it(changes, has_lots, expected):
    assert sections(rules.missing_items(CRITERIA, complete(**changes), has_lots)) == expected


def test_an_answer_over_its_word_limit_says_by_how_much():
    [missing] = rules.missing_items(CRITERIA, complete(answers={2: "a b c d e f g", 3: "x"}), False)
    assert missing.message == "Your answer to “Delivery” is 7 words; the limit is 5"


def test_price_is_not_asked_when_the_model_has_no_price():
    assert rules.missing_items(CRITERIA, complete(price_total=None), False, price_asked=False) == []


def test_a_kent_criterion_wants_written_words_only_when_it_has_a_word_limit():
    assert sections(rules.missing_items((KENT_NARRATIVE,), complete(), False)) == ["answer-5"]
    assert rules.missing_items((KENT,), complete(), False) == []


def test_gaps_come_in_task_list_order():
    empty = BidSnapshot(lot_ids=(), answers={}, confirmations={}, price_total=None, kent_share=None,
                        member_shares=(Decimal("1.5"),), declared_conflicts=None,
                        declared_no_exclusion_grounds=False, declared_accurate=False)
    assert sections(rules.missing_items(CRITERIA, empty, has_lots=True)) == [
        "lots", "eligibility", "answer-2", "answer-3", "price", "local_economy", "consortium", "declarations",
        "declarations", "declarations"]


# The bidder's own transitions ---------------------------------------------------------------------------

@pytest.mark.parametrize("status, action, target", [
    ("draft", "submit", "submitted"), ("withdrawn", "submit", "submitted"), ("submitted", "withdraw", "withdrawn"),
    ("submitted", "submit", "submitted"),
])
def test_before_the_deadline_a_bidder_submits_withdraws_and_resubmits(status, action, target):
    assert rules.bidder_transition(status, action, DEADLINE, NOW) == target


@pytest.mark.parametrize("status, action", [("draft", "withdraw"), ("withdrawn", "withdraw"), ("opened", "submit"),
                                            ("successful", "withdraw")])
def test_other_moves_are_refused_saying_what_state_the_bid_is_in(status, action):
    with pytest.raises(rules.BidRefused, match=f"This bid is {rules.STATUS_LABELS[status].lower()}"):
        rules.bidder_transition(status, action, DEADLINE, NOW)


@pytest.mark.parametrize("deadline", [NOW, NOW - timedelta(seconds=1), None])
def test_at_or_after_the_deadline_nothing_moves(deadline):
    with pytest.raises(rules.BidRefused, match="deadline .* has passed"):
        rules.bidder_transition("draft", "submit", deadline, NOW)


def test_only_drafts_and_withdrawn_bids_are_editable():
    assert rules.EDITABLE == {"draft", "withdrawn"}


# The canonical content and its hash ---------------------------------------------------------------------

def test_the_same_content_gives_the_same_text_whatever_the_order_of_its_keys():
    one = {"price": {"total": Decimal("10.00"), "lines": []}, "answers": {"2": "Yes"}, "lots": [1, 2]}
    two = {"lots": [1, 2], "answers": {"2": "Yes"}, "price": {"lines": [], "total": Decimal("10.00")}}
    assert rules.canonical_json(one) == rules.canonical_json(two)
    assert rules.canonical_json(one) == '{"answers":{"2":"Yes"},"lots":[1,2],"price":{"lines":[],"total":"10.00"}}'


@pytest.mark.parametrize("value, text", [
    (Decimal("10.00"), '"10.00"'), (Decimal("10"), '"10"'), (Decimal("0.000001"), '"0.000001"'),
    (Decimal("1E+3"), '"1000"'), (Decimal("-2.50"), '"-2.50"'), (Decimal("123456789012.34"), '"123456789012.34"'),
])
def test_decimals_are_written_as_plain_strings_never_floats_or_exponents(value, text):
    assert rules.canonical_json({"v": value}) == '{"v":' + text + "}"


def test_other_values_are_written_plainly():
    moment = datetime(2027, 3, 1, 17, 0, tzinfo=timezone.utc)
    content = {"at": moment, "tuple": (1, Decimal("2.5")), "nested": {3: "three"}, "name": "Café Ñ", "none": None,
               "flag": True}
    assert rules.canonical_json(content) == ('{"at":"2027-03-01T17:00:00+00:00","flag":true,"name":"Café Ñ",'
                                             '"nested":{"3":"three"},"none":null,"tuple":[1,"2.5"]}')


def test_the_receipt_hash_is_the_sha256_of_the_canonical_text_in_utf8():
    text = rules.canonical_json({"name": "Café"})
    assert rules.receipt_hash(text) == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert rules.receipt_hash(text) != rules.receipt_hash(rules.canonical_json({"name": "Cafe"}))
    assert len(rules.receipt_hash(text)) == 64
