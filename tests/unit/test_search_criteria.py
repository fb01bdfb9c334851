"""Search criteria from a query string, and the words the public pages use (no app, no database)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace

import pytest
from werkzeug.datastructures import MultiDict

from marketplace.opportunities.search import (
    KEYWORDS_MAX,
    MAX_TERMS,
    SearchCriteria,
    contract_end,
    contract_period,
    countdown,
    describe_file,
    models_in_words,
    rfc3339,
    time_left,
    value_bands,
)

THRESHOLD = Decimal("214904")


def parse(*pairs: tuple[str, object]) -> SearchCriteria:
    return SearchCriteria.from_args(MultiDict(list(pairs)))


# Parsing ----------------------------------------------------------------------------------------------------

def test_no_arguments_mean_open_opportunities_closing_soonest_first():
    criteria = parse()
    assert criteria == SearchCriteria(status="open", sort="closing")
    assert criteria.to_args() == {}
    assert not criteria.is_filtered


def test_every_filter_is_read_from_the_query_string():
    criteria = parse(("q", "meals"), ("category", "public-health"), ("category", "adult-social-care"),
                     ("locality", "dover"), ("value", "25k-100k"), ("closing", "7"), ("reserved", "yes"),
                     ("status", "closed"), ("sort", "value-high"))
    assert criteria == SearchCriteria(
        keywords="meals", categories=("adult-social-care", "public-health"), localities=("dover",),
        values=("25k-100k",), closing="7", reserved="yes", status="closed", sort="value-high")
    assert criteria.is_filtered


@pytest.mark.parametrize(("name", "value"), [
    ("category", "not-a-category"),
    ("category", "<script>alert(1)</script>"),
    ("locality", "medway"),
    ("locality", "outside-kent"),
    ("value", "a-billion"),
    ("closing", "14"),
    ("closing", "-1"),
    ("reserved", "maybe"),
    ("status", "draft"),
    ("status", "awaiting_approval"),
    ("sort", "id; DROP TABLE opportunities"),
    ("page", "not a number"),
    ("unknown", "anything"),
])
def test_unknown_or_hostile_values_are_ignored(name, value):
    assert parse((name, value)) == SearchCriteria()


def test_choices_are_kept_once_each_in_the_order_of_the_options():
    criteria = parse(("locality", "thanet"), ("locality", "dover"), ("locality", "thanet"), ("locality", "x"))
    assert criteria.localities == ("dover", "thanet")


def test_the_first_known_single_choice_wins():
    assert parse(("sort", "bogus"), ("sort", "newest"), ("sort", "value-low")).sort == "newest"


@pytest.mark.parametrize(("raw", "expected"), [
    ("  community   transport ", "community transport"),
    ("care\x00home\x1b", "care home"),
    ("line\r\nbreak\ttab", "line break tab"),
    ("", ""),
])
def test_keywords_are_tidied(raw, expected):
    assert parse(("q", raw)).keywords == expected


def test_keywords_are_cut_to_the_maximum_length():
    assert parse(("q", "x" * 5000)).keywords == "x" * KEYWORDS_MAX


def test_keyword_terms_are_lower_case_once_each_and_limited_in_number():
    assert parse(("q", "Care CARE home")).terms == ("care", "home")
    assert len(parse(("q", " ".join(f"w{n}" for n in range(20)))).terms) == MAX_TERMS


def test_a_stored_search_is_read_back_and_junk_in_it_is_ignored():
    criteria = parse(("q", "meals"), ("category", "public-health"), ("status", "any"), ("sort", "newest"))
    assert SearchCriteria.from_args(criteria.to_args()) == criteria
    stored = {"q": 7, "category": ["public-health", None, {"x": 1}], "locality": "dover", "status": ["any"]}
    assert SearchCriteria.from_args(stored) == SearchCriteria(categories=("public-health",),
                                                              localities=("dover",), status="any")


def test_query_string_arguments_leave_out_the_defaults():
    criteria = parse(("locality", "dover"), ("status", "open"), ("sort", "closing"))
    assert criteria.to_args() == {"locality": ["dover"]}


# Applied filters ---------------------------------------------------------------------------------------------

def test_each_applied_filter_has_a_label_and_the_search_without_it():
    criteria = parse(("q", "meals"), ("category", "public-health"), ("locality", "dover"),
                     ("locality", "thanet"), ("value", "under-25k"), ("closing", "30"), ("reserved", "no"),
                     ("status", "awarded"), ("sort", "newest"))
    applied = {item.label: item.without for item in criteria.applied(THRESHOLD)}
    assert list(applied) == ["Keywords: meals", "Category: Public health", "Location: Dover", "Location: Thanet",
                             "Value: Under £25,000", "Closing within 30 days", "Not reserved", "Status: Awarded"]
    assert applied["Location: Dover"]["locality"] == ["thanet"]
    assert "q" not in applied["Keywords: meals"]
    assert "status" not in applied["Status: Awarded"]
    assert all(args["sort"] == "newest" for args in applied.values())


def test_the_sort_order_is_not_a_filter():
    assert parse(("sort", "newest")).applied(THRESHOLD) == []
    assert not parse(("sort", "newest")).is_filtered


@pytest.mark.parametrize(("pairs", "words"), [
    ((), "Open opportunities"),
    ((("status", "any"),), "Any status"),
    ((("status", "any"), ("locality", "dover")), "Location: Dover; Any status"),
    ((("category", "public-health"), ("reserved", "yes")),
     "Open opportunities; Category: Public health; Reserved for Kent suppliers"),
])
def test_a_search_described_in_words(pairs, words):
    assert parse(*pairs).describe(THRESHOLD) == words


def test_value_bands_meet_at_the_threshold_setting():
    bands = value_bands(Decimal("150000"))
    assert [band.label for band in bands] == ["Under £25,000", "£25,000 to £100,000",
                                              "£100,000 to £150,000 (the threshold)",
                                              "£150,000 or more (over the threshold)"]
    assert (bands[2].high, bands[3].low) == (Decimal("150000"), Decimal("150000"))


# Words for the pages -----------------------------------------------------------------------------------------

NOW = datetime(2027, 3, 24, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(("delta", "words"), [
    (timedelta(days=3, hours=5), "3 days, 5 hours"),
    (timedelta(days=1, minutes=30), "1 day"),
    (timedelta(hours=1, minutes=1), "1 hour, 1 minute"),
    (timedelta(hours=2), "2 hours"),
    (timedelta(minutes=59, seconds=59), "59 minutes"),
    (timedelta(seconds=30), "less than a minute"),
])
def test_time_left_in_words(delta, words):
    assert time_left(delta) == words


def test_the_countdown_names_the_deadline_in_uk_time():
    deadline = datetime(2027, 3, 27, 17, 0, tzinfo=timezone.utc)  # 5pm GMT, before the clocks change
    assert countdown(deadline, deadline - timedelta(days=3, hours=4)) == \
        "Closes in 3 days, 4 hours – 27 March 2027 at 5:00pm"
    summer = datetime(2027, 6, 1, 16, 0, tzinfo=timezone.utc)  # 5pm BST
    assert countdown(summer, summer - timedelta(hours=2)) == "Closes in 2 hours – 1 June 2027 at 5:00pm"


def test_the_countdown_says_closed_once_the_deadline_has_passed():
    deadline = datetime(2027, 3, 27, 17, 0, tzinfo=timezone.utc)
    assert countdown(deadline, deadline) == "Closed on 27 March 2027 at 5:00pm"


@pytest.mark.parametrize(("start", "months", "end"), [
    (date(2027, 4, 1), 24, date(2029, 3, 31)),
    (date(2027, 1, 31), 1, date(2027, 2, 27)),
    (date(2027, 12, 15), 1, date(2028, 1, 14)),
    (date(2027, 4, 1), None, None),
    (None, 12, None),
])
def test_contract_end(start, months, end):
    assert contract_end(start, months) == end


@pytest.mark.parametrize(("start", "months", "words"), [
    (date(2027, 4, 1), 24, "Starts 1 April 2027 and runs for 24 months, to 31 March 2029"),
    (date(2027, 4, 1), None, "Starts 1 April 2027"),
    (None, 1, "Runs for 1 month"),
    (None, None, "Not given"),
])
def test_contract_period_in_words(start, months, words):
    assert contract_period(start, months) == words


@pytest.mark.parametrize(("content_type", "size", "words"), [
    ("application/pdf", 120 * 1024, "PDF, 120KB"),
    ("application/pdf", 10, "PDF, 1KB"),
    ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", 2_500_000, "Word document, 2.4MB"),
    ("application/octet-stream", 2048, "File, 2KB"),
])
def test_files_described_by_type_and_size(content_type, size, words):
    assert describe_file(content_type, size) == words


def test_atom_timestamps_are_utc_with_a_z():
    assert rfc3339(datetime(2027, 6, 1, 17, 5, 9, tzinfo=timezone(timedelta(hours=1)))) == "2027-06-01T16:05:09Z"


def _criterion(kind, title, weight=None, **fields):
    values = {"scale_max": 5, "min_score": None, "word_limit": None, "method": None, "params": {},
              "scores_location": False}
    return SimpleNamespace(kind=kind, title=title, weight=None if weight is None else Decimal(weight),
                           **{**values, **fields})


def test_the_evaluation_model_in_plain_words_lists_the_main_model_then_each_lots_own():
    lot = SimpleNamespace(id=7, number=2, title="Evenings")
    main = SimpleNamespace(lot_id=None, criteria=[
        _criterion("pass_fail", "Safeguarding"),
        _criterion("quality", "Outcomes", 60, min_score=Decimal(2)),
        _criterion("price", "Price", 40, method="relative_lowest"),
    ])
    own = SimpleNamespace(lot_id=7, criteria=[_criterion("price", "Price", 100, method="relative_lowest")])
    empty = SimpleNamespace(lot_id=None, criteria=[])
    opportunity = SimpleNamespace(lots=[lot], models=[own, main, empty])

    [first, second] = models_in_words(opportunity)

    assert first.heading is None
    assert [(c.title, c.kind, c.how) for c in first.criteria] == [
        ("Safeguarding", "Pass or fail", "Pass or fail: a fail excludes the bid."),
        ("Outcomes", "Quality", "60% of the marks, scored 0 to 5 by the panel; a score under 2 excludes the bid."),
        ("Price", "Price", "40% of the marks, scored relative to the lowest price (lowest ÷ price × weight)."),
    ]
    assert second.heading == "Lot 2: Evenings"
    assert second.criteria[0].how.startswith("100% of the marks")
