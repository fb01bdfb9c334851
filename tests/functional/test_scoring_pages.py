"""Independent scoring over HTTP, for each kind of user: an evaluator scores each compliant bid beside its sealed
answer, is refused bad scores with nothing lost, submits once, and only then sees the others' scores; a
procurement officer follows the progress; anyone else, and everyone before release, gets 404."""

from __future__ import annotations

import html
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask import render_template_string
from flask_login import login_user

from marketplace.accounts.models import User
from marketplace.evaluation.models import ComplianceCheck, Score
from marketplace.extensions import db
from marketplace.organisations.models import Membership
from tests.evaluation_builders import released_panel, score_all, seat, submit
from tests.factories import OrganisationFactory, StaffFactory, provider
from tests.staff_fixtures import request_context  # noqa: F401


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def words_of(page: str) -> str:
    """Text without tags, spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)).strip()


def words(response) -> str:
    return words_of(text(response))


def url(panel, suffix: str = "") -> str:
    return f"/commissioning/{panel.opportunity.id}/evaluation/scoring{suffix}"


def bid_url(panel, bid) -> str:
    return url(panel, f"/bids/{bid.id}")


def form_for(panel, value="3", text_="The answer names the staff and the hours", **overrides) -> dict:
    data = {}
    for criterion in panel.criteria:
        data[f"score_{criterion.id}"] = value
        data[f"justification_{criterion.id}"] = text_
    data.update(overrides)
    return data


def scores_of(user) -> list[Score]:
    return list(db.session.execute(sa.select(Score).where(Score.evaluator_id == user.id)).scalars())


@pytest.fixture()
def panel():
    return released_panel(evaluators=2)


# The evaluator ---------------------------------------------------------------------------------------

def test_the_evaluator_sees_the_compliant_bids_their_criteria_and_progress(client, as_user, panel):
    page = words(as_user(panel.evaluators[0]).get(url(panel)))
    assert "Score the bids" in page
    for n in (1, 2, 3):
        assert f"Bidder {n} Community Interest Company" in page
    assert "You have scored 0 of 6" in page
    assert "How you will deliver the service" in page and "Social value for Kent residents" in page
    assert "Calculated, not scored by the panel" in page
    assert "the lowest compliant price ÷ this bid's price × 35" in page
    assert "125,000" not in page and "120,000" not in page  # no prices on the evaluator's page


def test_the_bid_page_shows_the_sealed_answer_beside_the_question_and_the_scale(client, as_user, panel):
    page = text(as_user(panel.evaluators[0]).get(bid_url(panel, panel.bids[0])))
    assert "We visit every week with trained volunteers bidder-1" in page
    assert "5 – Excellent: exceeds the requirement with clear evidence" in page
    assert "Method statement bidder-1" in page  # the documents, by title
    assert "Share of contract value spent with Kent-based suppliers" not in page  # Kent is calculated here
    for criterion in panel.criteria:
        assert f'id="score_{criterion.id}"' in page and f'id="justification_{criterion.id}"' in page
    assert "Use a decimal with up to 2 places, such as 3.5" in page


def test_the_evaluator_downloads_the_bids_documents_from_its_page(client, as_user, panel):
    as_user(panel.evaluators[0])
    page = client.get(bid_url(panel, panel.bids[0])).get_data(as_text=True)
    link = re.search(r'href="([^"]+/documents/\d+)">Method statement bidder-1</a>', page)
    assert link, "no link to the sealed document"
    download = client.get(link.group(1))
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    assert "attachment" in download.headers["Content-Disposition"]


def test_an_evaluator_saves_scores_and_returns_to_the_list(client, as_user, panel):
    as_user(panel.evaluators[0])
    response = client.submit(bid_url(panel, panel.bids[0]), form_for(panel, "3.5"))
    assert response.status_code == 302 and response.location.endswith(url(panel))
    saved = scores_of(panel.evaluators[0])
    assert {(s.bid_id, Decimal(s.score)) for s in saved} == {(panel.bids[0].id, Decimal("3.5"))} and len(saved) == 2
    page = words(client.get(url(panel)))
    assert "Your scores for Bidder 1 Community Interest Company are saved." in page
    assert "You have scored 2 of 6" in page


@pytest.mark.parametrize("value, justification, message", [
    ("three", "Fine", "must be a number, like 3 or 3.5"),
    ("6", "Fine", "must be between 0 and 5"),
    ("4", "", "Enter a justification for your score for ‘How you will deliver the service’"),
])
def test_bad_scores_are_refused_by_the_field_keeping_what_was_typed(client, as_user, panel, value, justification,
                                                                   message):
    as_user(panel.evaluators[0])
    first = panel.criteria[0]
    data = form_for(panel, **{f"score_{first.id}": value, f"justification_{first.id}": justification})
    response = client.submit(bid_url(panel, panel.bids[0]), data)
    page = text(response)
    assert response.status_code == 200
    assert "There is a problem" in page and message in page
    assert f'href="#{"score" if justification else "justification"}_{first.id}"' in page
    assert f'value="{value}"' in page and "The answer names the staff and the hours" in page
    assert page.startswith("<!DOCTYPE html>") and "<title>Error:" in page
    assert scores_of(panel.evaluators[0]) == []


def test_submitting_with_scores_missing_lists_them_and_submits_nothing(client, as_user, panel):
    as_user(panel.evaluators[0])
    client.submit(bid_url(panel, panel.bids[0]), form_for(panel))
    response = client.submit(url(panel, "/submit"), page_url=url(panel))
    page = text(response)
    assert response.status_code == 400
    assert "You have not scored everything yet" in page
    assert "Bidder 2 Community Interest Company: How you will deliver the service" in page
    assert f'href="{bid_url(panel, panel.bids[2])}"' in page
    assert panel.member(panel.evaluators[0]).scores_submitted_at is None


def test_submitting_every_score_fixes_them_and_a_second_submit_changes_nothing(client, as_user, panel):
    ann = panel.evaluators[0]
    score_all(panel.opportunity, ann, 4)
    as_user(ann)
    response = client.submit(url(panel, "/submit"), page_url=url(panel), follow_redirects=True)
    assert "Your scores are submitted." in text(response)
    submitted_at = panel.member(ann).scores_submitted_at
    assert submitted_at is not None
    again = client.submit(url(panel, "/submit"), page_url=url(panel), follow_redirects=True)
    assert "Your scores were already submitted." in text(again)
    assert panel.member(ann).scores_submitted_at == submitted_at
    refused = client.submit(bid_url(panel, panel.bids[0]), form_for(panel, "1"), page_url=url(panel))
    assert "You have submitted your scores, so they can no longer change." in text(refused)
    assert {Decimal(s.score) for s in scores_of(ann)} == {Decimal(4)}


def test_an_evaluator_cannot_see_other_scores_until_they_submit_theirs(client, as_user, panel):
    ann, bob = panel.evaluators
    score_all(panel.opportunity, bob, 5)
    submit(panel.member(bob))
    score_all(panel.opportunity, ann, 2)
    as_user(ann)
    before = text(client.get(bid_url(panel, panel.bids[0])))
    assert "Scored 5" not in before and "Evaluator 2" not in before
    assert "Scoring progress" not in text(client.get(url(panel)))
    assert client.get(url(panel, "/progress")).status_code == 404
    client.submit(url(panel, "/submit"), page_url=url(panel))
    after = text(client.get(bid_url(panel, panel.bids[0])))
    assert "Evaluator 2" in after and "Scored 5: seen in the answer" in after
    assert 'name="score_' not in after  # read-only now


def test_the_submit_button_needs_the_csrf_token(client, as_user, panel):
    score_all(panel.opportunity, panel.evaluators[0], 3)
    as_user(panel.evaluators[0])
    assert client.post(url(panel, "/submit")).status_code == 400
    assert panel.member(panel.evaluators[0]).scores_submitted_at is None


def test_a_bid_excluded_at_compliance_or_unknown_answers_404(client, as_user, panel):
    check = db.session.query(ComplianceCheck).filter_by(bid_id=panel.bids[2].id).one()
    check.compliant = False
    db.session.commit()
    as_user(panel.evaluators[0])
    assert client.get(bid_url(panel, panel.bids[2])).status_code == 404
    assert client.get(url(panel, "/bids/999999")).status_code == 404
    assert "Bidder 3" not in text(client.get(url(panel)))


# Who may see what ------------------------------------------------------------------------------------

def test_a_procurement_officer_follows_the_progress_read_only(client, as_user, panel):
    score_all(panel.opportunity, panel.evaluators[0], 3)
    submit(panel.member(panel.evaluators[0]))
    officer = StaffFactory(roles=["procurement_officer"])
    as_user(officer)
    page = text(client.get(url(panel, "/progress")))
    assert "Evaluator 1" in page and "6 of 6" in page and "Submitted" in page
    assert "Evaluator 2" in page and "0 of 6" in page
    assert "Scored 3" not in page  # no scores or justifications on the progress page
    assert client.get(url(panel)).status_code == 404  # the officer does not score
    assert client.get(bid_url(panel, panel.bids[0])).status_code == 404


def outsider(panel, who: str):
    """Someone who must not reach the panel's pages."""
    if who == "commissioner off the panel":
        return StaffFactory(roles=["commissioner"])
    if who == "provider":
        return provider(OrganisationFactory())
    if who == "the bidder":
        return db.session.execute(sa.select(User).join(Membership, Membership.user_id == User.id).where(
            Membership.organisation_id == panel.bids[0].organisation_id)).scalars().first()
    conflicted = StaffFactory(roles=["commissioner"])
    seat(panel.opportunity, conflicted, conflict=True)
    return conflicted


@pytest.mark.parametrize("who", ["commissioner off the panel", "provider", "the bidder", "conflicted evaluator"])
def test_people_off_the_panel_get_404(client, as_user, panel, who):
    as_user(outsider(panel, who))
    for path in (url(panel), bid_url(panel, panel.bids[0]), url(panel, "/progress")):
        assert client.get(path).status_code == 404, path
    assert client.submit(url(panel, "/submit"), page_url="/").status_code == 404


def test_nothing_is_visible_before_the_bids_are_released(client, as_user):
    unreleased = released_panel(evaluators=1, released=False)
    as_user(unreleased.evaluators[0])
    assert client.get(url(unreleased)).status_code == 404
    as_user(StaffFactory(roles=["procurement_officer"]))
    assert client.get(url(unreleased, "/progress")).status_code == 404


def test_signed_out_people_are_sent_to_sign_in(client, panel):
    response = client.get(url(panel))
    assert response.status_code == 302 and "/sign-in" in response.location


# The overview partial --------------------------------------------------------------------------------

def hub(app, user, panel) -> str:
    with app.test_request_context("/"):
        login_user(user)
        return html.unescape(render_template_string('{% include "evaluation/_hub_scoring.html" %}',
                                                    opportunity=panel.opportunity, evaluation=panel.evaluation))


def test_the_overview_shows_an_evaluator_only_their_own_progress_until_they_submit(app, panel):
    ann, bob = panel.evaluators
    score_all(panel.opportunity, bob, 3)
    submit(panel.member(bob))
    untouched = words_of(hub(app, ann, panel))
    assert "You have scored 0 of 6. Not started" in untouched  # not "in progress" because Bob has scored
    score_all(panel.opportunity, ann, 3, bids=panel.bids[:1])
    own = hub(app, ann, panel)
    assert "You have scored 2 of 6." in own and url(panel) in own
    assert "Evaluator 2" not in own and "evaluators have submitted" not in own
    officer = hub(app, StaffFactory(roles=["procurement_officer"]), panel)
    assert "1 of 2 evaluators have submitted their scores." in officer
    assert re.search(r"Evaluator 1</th>\s*<td[^>]*>2 of 6 scored", officer)
    assert "Starts when every evaluator has submitted their scores." in officer


def test_the_overview_before_release_says_scoring_cannot_start(app):
    unreleased = released_panel(evaluators=1, released=False)
    page = hub(app, StaffFactory(roles=["procurement_officer"]), unreleased)
    assert "Starts when the bids are released to the panel." in page and "href" not in page
