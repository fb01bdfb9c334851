"""Moderation over HTTP, for each kind of user: the moderator waits for every evaluator, reads every score side by
side with wide spreads flagged, sets consensus scores with reasons, completes moderation and sees the ranking; a
procurement officer reads it all; anyone else gets 404. The sheet's query count does not grow with the bids."""

from __future__ import annotations

import html
import importlib.util
import re
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from marketplace.bids.models import Bid
from marketplace.evaluation.models import ComplianceCheck, ModeratedScore, Score
from marketplace.extensions import db
from tests.evaluation_builders import (
    moderate_all,
    released_panel,
    score_all,
    scored_and_submitted,
    seat,
    submit,
)
from tests.factories import OrganisationFactory, StaffFactory, provider
from tests.sql import statements_sent as count_queries
from tests.staff_fixtures import request_context  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]


def words(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.unescape(response.get_data(as_text=True))))


def url(panel, suffix: str = "") -> str:
    return f"/commissioning/{panel.opportunity.id}/evaluation/moderation{suffix}"


def bid_url(panel, bid) -> str:
    return url(panel, f"/bids/{bid.id}")


def consensus_form(panel, value="3", reason="The panel agreed the plan is sound", **overrides) -> dict:
    data = {}
    for criterion in panel.criteria:
        data[f"score_{criterion.id}"] = value
        data[f"reason_{criterion.id}"] = reason
    data.update(overrides)
    return data


@pytest.fixture()
def panel():
    return released_panel(evaluators=2)


@pytest.fixture()
def ready(panel):
    scored_and_submitted(panel, [1, 4])
    return panel


def test_before_every_evaluator_submits_the_page_names_who_is_outstanding_and_allows_nothing(client, as_user, panel):
    score_all(panel.opportunity, panel.evaluators[0], 1)
    submit(panel.member(panel.evaluators[0]))
    as_user(panel.moderator)
    page = words(client.get(url(panel)))
    assert "Still to submit: Evaluator 2" in page
    assert "Scored 1" not in page and "Set consensus scores" not in page and "Complete moderation" not in page
    response = client.submit(bid_url(panel, panel.bids[0]), consensus_form(panel), page_url="/")
    assert "Moderation starts when every evaluator has submitted their scores." in words(response)
    assert db.session.query(ModeratedScore).count() == 0


def test_the_sheet_shows_every_score_and_justification_side_by_side_with_wide_spreads_flagged(client, as_user,
                                                                                             ready):
    as_user(ready.moderator)
    page = words(client.get(url(ready)))
    assert "Evaluator 1" in page and "Evaluator 2" in page
    assert "Scored 1: seen in the answer" in page and "Scored 4: seen in the answer" in page
    assert page.count("Wide spread") == 3  # each bid: 1 and 4 are 3 points apart on 0 to 5
    assert "3 flagged" in page and "at least 40% of the scale apart" in page


def test_the_moderator_sets_a_consensus_score_and_the_originals_stay_beside_it(client, as_user, ready):
    as_user(ready.moderator)
    response = client.submit(bid_url(ready, ready.bids[0]), consensus_form(ready, "2.5"))
    assert response.status_code == 302 and response.location.endswith(url(ready))
    assert {Decimal(m.score) for m in db.session.query(ModeratedScore).filter_by(bid_id=ready.bids[0].id)} == {
        Decimal("2.5")}
    assert {Decimal(s.score) for s in db.session.query(Score).filter_by(bid_id=ready.bids[0].id)} == {
        Decimal(1), Decimal(4)}
    page = words(client.get(bid_url(ready, ready.bids[0])))
    assert "Scored 1: seen in the answer" in page and "Scored 4: seen in the answer" in page
    assert 'value="2.5"' in client.get(bid_url(ready, ready.bids[0])).get_data(as_text=True)
    sheet = words(client.get(url(ready)))
    assert "The panel agreed the plan is sound" in sheet and "Consensus set" in sheet


def test_a_consensus_score_needs_a_reason_and_a_score_on_the_scale_keeping_what_was_typed(client, as_user, ready):
    first, second = ready.criteria
    as_user(ready.moderator)
    response = client.submit(bid_url(ready, ready.bids[0]), consensus_form(
        ready, **{f"reason_{first.id}": "", f"score_{second.id}": "7"}))
    page = words(response)
    assert response.status_code == 200 and "There is a problem" in page
    assert "Enter the reason for the consensus score for ‘How you will deliver the service’" in page
    assert "The score for ‘Social value for Kent residents’ must be between 0 and 5" in page
    assert 'value="7"' in response.get_data(as_text=True)
    assert db.session.query(ModeratedScore).count() == 0


def test_completing_moderation_lists_what_is_missing_then_fixes_the_scores_and_shows_the_ranking(client, as_user,
                                                                                                ready):
    as_user(ready.moderator)
    client.submit(bid_url(ready, ready.bids[0]), consensus_form(ready))
    refused = client.submit(url(ready, "/complete"), page_url=url(ready))
    assert refused.status_code == 400
    assert "Bidder 2 Community Interest Company: How you will deliver the service" in words(refused)
    assert ready.evaluation.moderation_completed_at is None
    moderate_all_rest(ready)
    done = client.submit(url(ready, "/complete"), page_url=url(ready), follow_redirects=True)
    page = words(done)
    assert "Moderation is complete." in page and "Ranking from the consensus scores" in page
    assert "Leading bid: Bidder 2 Community Interest Company" in page  # equal scores: the lowest price wins
    assert "35.00" in page  # Bidder 2's price points: lowest price x 35
    assert {b.status for b in db.session.query(Bid)} == {"evaluated"}
    again = client.submit(url(ready, "/complete"), page_url=url(ready), follow_redirects=True)
    assert "Moderation was already complete." in words(again)
    locked = client.submit(bid_url(ready, ready.bids[0]), consensus_form(ready, "5"), page_url="/")
    assert "Moderation is complete" in words(locked)
    assert {Decimal(m.score) for m in db.session.query(ModeratedScore)} == {Decimal(3)}


def moderate_all_rest(panel):
    for bid in panel.bids[1:]:
        for criterion in panel.criteria:
            db.session.add(ModeratedScore(bid_id=bid.id, criterion_id=criterion.id, score=Decimal(3), reason="Agreed"))
    db.session.commit()


def test_only_flagged_bids_can_be_listed(client, as_user, panel):
    ann, bob = panel.evaluators
    score_all(panel.opportunity, ann, 3)
    score_all(panel.opportunity, bob, 3, bids=panel.bids[:2])
    score_all(panel.opportunity, bob, 5, bids=panel.bids[2:])
    submit(panel.member(ann))
    submit(panel.member(bob))
    as_user(panel.moderator)
    page = words(client.get(url(panel, "?show=flagged")))
    assert "Bidder 3 Community Interest Company" in page
    assert "Bidder 1 Community Interest Company" not in page and "Show all bids" in page


def test_the_sheet_is_paginated_by_25_bids_flagged_first(client, as_user):
    many = released_panel(evaluators=2, bid_count=27)
    ann, bob = many.evaluators
    score_all(many.opportunity, ann, 3)
    score_all(many.opportunity, bob, 3, bids=many.bids[:26])
    score_all(many.opportunity, bob, 1, bids=many.bids[26:])
    submit(many.member(ann))
    submit(many.member(bob))
    as_user(many.moderator)
    first = client.get(url(many)).get_data(as_text=True)
    assert first.count('class="govuk-heading-m">') >= 25 and "page=2" in first
    assert first.index(f"/bids/{many.bids[26].id}") < first.index(f"/bids/{many.bids[0].id}")
    second = client.get(url(many, "?page=2")).get_data(as_text=True)
    assert f"/bids/{many.bids[25].id}" in second and f"/bids/{many.bids[0].id}" not in second


# Who may see what ------------------------------------------------------------------------------------

def test_a_procurement_officer_reads_the_sheet_and_ranking_but_changes_nothing(client, as_user, ready):
    moderate_all(ready.opportunity, 3, ready.moderator)
    as_user(StaffFactory(roles=["procurement_officer"]))
    page = words(client.get(url(ready)))
    assert "Scored 4: seen in the answer" in page and "Only the moderator sets consensus scores" in page
    assert "Complete moderation" not in page
    assert "Leading bid" in words(client.get(url(ready, "/ranking")))
    assert "Provisional" in words(client.get(url(ready, "/ranking")))
    bid_page = client.get(bid_url(ready, ready.bids[0]))
    assert bid_page.status_code == 200 and 'name="score_' not in bid_page.get_data(as_text=True)
    assert client.submit(bid_url(ready, ready.bids[0]), consensus_form(ready, "5"), page_url="/").status_code == 404
    assert client.submit(url(ready, "/complete"), page_url="/").status_code == 404
    assert {Decimal(m.score) for m in db.session.query(ModeratedScore)} == {Decimal(3)}


def test_the_moderator_who_is_the_only_evaluator_is_refused_on_the_page(client, as_user):
    solo = released_panel(evaluators=0)
    seat(solo.opportunity, solo.moderator)
    score_all(solo.opportunity, solo.moderator, 3)
    submit(solo.member(solo.moderator))
    as_user(solo.moderator)
    page = words(client.get(url(solo)))
    assert "You are the only evaluator on this panel, so you cannot also moderate" in page
    assert "Complete moderation" not in page
    client.submit(bid_url(solo, solo.bids[0]), consensus_form(solo), page_url="/")
    assert db.session.query(ModeratedScore).count() == 0


@pytest.mark.parametrize("who", ["evaluator", "commissioner off the panel", "provider"])
def test_evaluators_and_people_off_the_panel_get_404(client, as_user, ready, who):
    user = {"evaluator": lambda: ready.evaluators[0], "commissioner off the panel":
            lambda: StaffFactory(roles=["commissioner"]), "provider": lambda: provider(OrganisationFactory())}[who]()
    as_user(user)
    for path in (url(ready), bid_url(ready, ready.bids[0]), url(ready, "/ranking")):
        assert client.get(path).status_code == 404, path
    assert client.submit(url(ready, "/complete"), page_url="/").status_code == 404


def test_nothing_is_visible_before_the_bids_are_released(client, as_user):
    unreleased = released_panel(evaluators=1, released=False)
    for user in (unreleased.moderator, StaffFactory(roles=["procurement_officer"])):
        as_user(user)
        assert client.get(url(unreleased)).status_code == 404
        assert client.get(url(unreleased, "/ranking")).status_code == 404


def test_a_bid_of_another_opportunity_or_excluded_answers_404(client, as_user, ready):
    check = db.session.query(ComplianceCheck).filter_by(bid_id=ready.bids[2].id).one()
    check.compliant = False
    db.session.commit()
    as_user(ready.moderator)
    assert client.get(bid_url(ready, ready.bids[2])).status_code == 404
    assert client.get(url(ready, "/bids/999999")).status_code == 404


# Performance -----------------------------------------------------------------------------------------

def test_the_moderation_pages_query_count_does_not_grow_with_the_number_of_bids(client, as_user):
    many = released_panel(evaluators=3, bid_count=12)
    for check in db.session.query(ComplianceCheck).filter(ComplianceCheck.bid_id.in_([b.id for b in many.bids[3:]])):
        check.compliant = False
    db.session.commit()
    scored_and_submitted(many, [1, 3, 4])
    moderate_all(many.opportunity, 3, many.moderator)
    as_user(many.moderator)

    def queries(path: str) -> int:
        db.session.expire_all()  # start each request from the same, cold session
        with count_queries() as statements:
            assert client.get(path).status_code == 200
        return len(statements)

    paths = (url(many), url(many, "?show=flagged"), url(many, "/ranking"), bid_url(many, many.bids[0]))
    few = {path: queries(path) for path in paths}
    for check in db.session.query(ComplianceCheck):
        check.compliant = True
    db.session.commit()
    for user in many.evaluators:
        score_all(many.opportunity, user, 2, bids=many.bids[3:])
    moderate_rest = [ModeratedScore(bid_id=b.id, criterion_id=c.id, score=Decimal(3), reason="Agreed")
                     for b in many.bids[3:] for c in many.criteria]
    db.session.add_all(moderate_rest)
    db.session.commit()
    assert {path: queries(path) for path in paths} == few


def test_the_moderation_benchmark_runs_on_a_few_bids(monkeypatch):
    spec = importlib.util.spec_from_file_location("bench_moderation", ROOT / "benchmarks" / "bench_moderation.py")
    bench = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, bench)
    spec.loader.exec_module(bench)
    rows = bench.run(bids=3, evaluators=2, repeats=1)
    assert [row.page for row in rows][:2] == ["sheet, first page (25 bids)", "sheet, page 1"]
    assert all(row.queries > 0 and row.seconds > 0 for row in rows)
    assert "3 compliant bids x 4 people-scored criteria x 2 evaluators (24 scores" in bench.table(rows, 3, 2, 1,
                                                                                                   "SQLite")
