"""An evaluation from a closed opportunity to standstill and a bidder's result, in a real headless Chromium against
the app over HTTP, with axe-core on every page (and on each form after a submit that fails).

Three sealed bids (120k, 70k, 135k). A procurement officer sets up a panel of two evaluators and a third person as
moderator; the evaluators declare no conflict, the moderator declares one and the officer records its mitigation.
The officer opens the bids (the opening record shows each receipt's SHA-256), finds two compliant and excludes the
third, and releases them. Each evaluator scores both bids with justifications (the first forgets one once) and
submits; their scores for one answer are 2 points apart, so moderation flags it. The moderator sets consensus
scores and completes moderation. The officer answers the abnormally low price (70k against 120k), recommends the
leading bid; another officer approves, which starts standstill; the losing bidder then reads its result.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable

import sqlalchemy as sa
from playwright.sync_api import expect

from marketplace.awards import rules as award_rules
from marketplace.awards.models import Award, PriceReview
from marketplace.bids import rules as bid_rules
from marketplace.bids.models import Bid
from marketplace.bids.submission import counting_submission
from marketplace.evaluation import working_days
from marketplace.evaluation.models import ConflictDeclaration, ModeratedScore, Score
from marketplace.extensions import db
from marketplace.organisations.models import Organisation
from marketplace.timeutil import london, utcnow
from tests.builders import closed_with_bids
from tests.e2e.test_evaluation_pages import _errors, _sign_out, _submit
from tests.factories import StaffFactory, colleague

QUALITY, SOCIAL = "How you will deliver the service", "Social value for Kent residents"
PRICES = (Decimal("120000.00"), Decimal("70000.00"), Decimal("135000.00"))  # 70k is over 40% under 120k
NAMES = [f"Bidder {n} Community Interest Company" for n in (1, 2, 3)]
EVALUATOR_FIELDS = ("Your score for ‘{}’", "Your justification for ‘{}’")
MODERATOR_FIELDS = ("Consensus score for ‘{}’", "Reason for the consensus score for ‘{}’")

# What each person types, per bidder (index into NAMES): {criterion: (score, text)}
EVE = {0: {QUALITY: ("4", "A clear weekly visiting plan with named volunteers."),
           SOCIAL: ("3", "Apprenticeships are committed but not targeted at Kent residents.")},
       1: {QUALITY: ("3", "A sound plan, but cover for absent volunteers is thin."),
           SOCIAL: ("2", "Few commitments beyond the apprenticeships.")}}
SOL = {0: {QUALITY: ("2", "The plan does not say how isolated people are found."),
           SOCIAL: ("3", "Reasonable commitments for the contract size.")},
       1: {QUALITY: ("3", "Adequate; the training offer is the strongest part."),
           SOCIAL: ("3", "The apprenticeships are a real benefit in Thanet.")}}
CONSENSUS = {0: {QUALITY: ("3", "Agreed: a good plan with a gap in how people are found."),
                 SOCIAL: ("3", "Both evaluators agreed.")},
             1: {QUALITY: ("3", "Both evaluators agreed."),
                 SOCIAL: ("2", "Agreed: the commitments are few for the contract size.")}}
# Points: quality score/5 x 40, social value score/5 x 15, Kent share 0.35 of a 0.5 target x 10 = 7, price
# lowest/price x 35.  Bidder 1: 24 + 9 + 7 + 70/120 x 35 (20.4166...) = 60.42.  Bidder 2: 24 + 6 + 7 + 35 = 72.00.
LOSER_TOTAL, WINNER_TOTAL = "60.42", "72.00"


@dataclass
class Journey:
    """The page and the e2e helpers, with the evaluation's address."""

    page: Any
    sign_in: Callable
    axe_check: Callable
    base: str

    def at(self, heading: str) -> None:
        """The page has this h1 and passes axe."""
        expect(self.page.locator("h1")).to_have_text(heading)
        self.axe_check(self.page)

    def success(self, text: str) -> None:
        expect(self.page.locator(".govuk-notification-banner--success")).to_contain_text(text)

    def link(self, name: str) -> None:
        self.page.get_by_role("link", name=name, exact=True).click()
        self.page.wait_for_load_state()

    def fill(self, fields: tuple[str, str], marks: dict[str, tuple[str, str]]) -> None:
        for title, (score, text) in marks.items():
            self.page.get_by_label(fields[0].format(title), exact=True).fill(score)
            self.page.get_by_label(fields[1].format(title), exact=True).fill(text)


def _data(app):
    staff = {key: StaffFactory(roles=[role], full_name=name) for key, role, name in (
        ("author", "commissioner", "Chris Commissioner"), ("officer", "procurement_officer", "Pat Procurement"),
        ("approver", "procurement_officer", "Alex Approver"), ("eve", "commissioner", "Eve Evaluator"),
        ("sol", "commissioner", "Sol Scorer"), ("mo", "commissioner", "Mo Moderator"))}
    with app.test_request_context():
        opportunity, bids = closed_with_bids(staff["author"], prices=PRICES)
    loser = colleague(db.session.get(Organisation, bids[0].organisation_id), full_name="Bea Bidder")
    return staff, opportunity, bids, loser


def _set_up_panel(j: Journey, officer, eve, sol, mo) -> None:
    j.sign_in(j.page, officer.email, next=j.base)
    j.at("Evaluation")
    j.link("Panel")
    j.at("Evaluation panel")
    for person in (eve, sol):
        j.page.get_by_label("Evaluator", exact=True).select_option(str(person.id))
        _submit(j.page, "Add evaluator")
        j.success(f"{person.full_name} is added to the panel")
    j.page.get_by_label("Moderator", exact=True).select_option(str(mo.id))
    _submit(j.page, "Set moderator")
    j.success("Mo Moderator is the moderator")
    j.axe_check(j.page)
    _sign_out(j.page)


def _declare(j: Journey, person, reference: str, conflict: str = "") -> None:
    """The member sees the bidders' names and nothing of any bid, then declares."""
    j.sign_in(j.page, person.email, next="/commissioning/evaluations")
    j.at("Your panels")
    j.link(f"Declare conflicts of interest for {reference}")
    j.at("Declare conflicts of interest")
    expect(j.page.locator("#bidders li")).to_have_text(NAMES)
    expect(j.page.locator("main")).not_to_contain_text("£")
    if conflict:
        j.page.get_by_label("Yes, I have a conflict of interest").check()
        j.page.get_by_label("Details of the conflict").fill(conflict)
    else:
        j.page.get_by_label("No, I have no conflict of interest").check()
    _submit(j.page, "Make my declaration")
    j.success("Your declaration is recorded")
    expect(j.page.locator("main")).to_contain_text("Conflict: awaiting mitigation" if conflict else "No conflict")
    j.axe_check(j.page)
    _sign_out(j.page)


def _compliance(j: Journey, name: str, exclusion: str = "") -> None:
    j.link(name)
    j.at(f"{name}’s bid")
    for fieldset in j.page.locator("main form fieldset").all()[:-1]:
        fieldset.get_by_label("Met", exact=True).check()
    if exclusion:
        j.page.locator("fieldset", has_text="Safeguarding policy in place").get_by_label("Not met").check()
        j.page.get_by_label("Note on ‘Safeguarding policy in place’").fill(exclusion)
        j.page.get_by_label("Excluded").check()
        j.page.get_by_label("Reason for excluding the bid").fill(exclusion)
    else:
        j.page.get_by_label("Compliant: it goes to the panel").check()
    _submit(j.page, "Save the compliance decision")
    j.success(f"The compliance decision on {name}'s bid is saved")


def _open_check_and_release(j: Journey, officer, hashes: list[str]) -> None:
    j.sign_in(j.page, officer.email, next=f"{j.base}/panel")
    j.link("Record how this conflict is managed for Mo Moderator")
    j.at("Record how Mo Moderator’s conflict is managed")
    j.page.get_by_label("How is the conflict managed?").fill("Mo moderates but does not score Bidder 3 alone")
    _submit(j.page, "Record the mitigation")
    j.success("The mitigation is recorded")
    j.page.goto(f"{j.base}/opening")
    j.at("Open the bids")
    _submit(j.page, "Open the bids")
    j.at("Opening record")
    rows = j.page.locator("main table").first.locator("tbody tr")
    expect(rows).to_have_count(3)
    for row, name, sha256 in zip(rows.all(), NAMES, hashes):
        expect(row).to_contain_text(name)
        expect(row.locator("code")).to_have_text(sha256)
        expect(row).to_contain_text("Matches")
    j.link("Check each bid’s compliance")
    j.at("Compliance")
    _compliance(j, NAMES[0])
    _compliance(j, NAMES[1])
    _compliance(j, NAMES[2], exclusion="No safeguarding policy was provided.")
    j.axe_check(j.page)
    j.page.goto(j.base)
    _submit(j.page, "Release the bids to the panel")
    j.success("released to the panel")
    j.axe_check(j.page)
    _sign_out(j.page)


def _score(j: Journey, person, reference: str, marks: dict, slip: bool = False) -> None:
    """Score both compliant bids and submit; with `slip`, the first bid is saved once without one justification."""
    j.sign_in(j.page, person.email, next="/commissioning/evaluations")
    j.link(f"Score the bids for {reference}")
    j.at("Score the bids")
    expect(j.page.locator("main table tbody tr")).to_have_count(2)  # the excluded bid is not scored
    for count, (index, bid_marks) in enumerate(marks.items()):
        name = NAMES[index]
        j.link(f"Score for {name}")
        j.at(f"Score {name}")
        if slip and count == 0:
            _forget_a_justification(j, bid_marks)
        j.fill(EVALUATOR_FIELDS, bid_marks)
        _submit(j.page, "Save scores")
        j.success(f"Your scores for {name} are saved")
    j.axe_check(j.page)
    _submit(j.page, "Submit my scores")
    j.success("Your scores are submitted")
    expect(j.page.locator("main .govuk-inset-text")).to_contain_text("They can no longer change")
    j.axe_check(j.page)
    _sign_out(j.page)


def _forget_a_justification(j: Journey, marks: dict) -> None:
    forgotten = {**marks, SOCIAL: (marks[SOCIAL][0], "")}
    j.fill(EVALUATOR_FIELDS, forgotten)
    _submit(j.page, "Save scores")
    _errors(j.page, j.axe_check, f"Enter a justification for your score for ‘{SOCIAL}’")
    for title, (score, text) in forgotten.items():  # nothing typed is lost
        expect(j.page.get_by_label(EVALUATOR_FIELDS[0].format(title), exact=True)).to_have_value(score)
        expect(j.page.get_by_label(EVALUATOR_FIELDS[1].format(title), exact=True)).to_have_value(text)


def _moderate(j: Journey, mo, reference: str) -> None:
    j.sign_in(j.page, mo.email, next="/commissioning/evaluations")
    j.link(f"Moderate the scores for {reference}")
    j.at("Moderation")
    expect(j.page.locator("main")).to_contain_text("2 compliant bids: 0 with every consensus score set; 1 flagged")
    first = j.page.locator("main h2").filter(has_text=NAMES[0])
    expect(first).to_contain_text("Wide spread")
    expect(j.page.locator("main h2").filter(has_text=NAMES[1])).not_to_contain_text("Wide spread")
    sheet = j.page.locator("main table").first
    for header in ("Eve Evaluator", "Sol Scorer", "Spread", "Consensus"):
        expect(sheet.locator("thead")).to_contain_text(header)
    expect(sheet.locator("tbody tr").filter(has_text=QUALITY)).to_contain_text("Wide")
    for index, marks in CONSENSUS.items():
        name = NAMES[index]
        j.link(f"Set consensus scores for {name}")
        j.at(f"Consensus scores for {name}")
        evaluators = j.page.locator("main table").filter(has_text=QUALITY).first
        expect(evaluators).to_contain_text(EVE[index][QUALITY][1])
        expect(evaluators).to_contain_text(SOL[index][QUALITY][1])
        j.fill(MODERATOR_FIELDS, marks)
        _submit(j.page, "Save consensus scores")
        j.success(f"The consensus scores for {name} are saved")
    j.axe_check(j.page)
    _submit(j.page, "Complete moderation")
    j.success("Moderation is complete")
    j.at("Ranking from the consensus scores")
    expect(j.page.locator("main")).to_contain_text(f"Leading bid: {NAMES[1]}")
    ranked = j.page.locator("main table tbody tr")
    expect(ranked.nth(0)).to_contain_text(WINNER_TOTAL)
    expect(ranked.nth(1)).to_contain_text(LOSER_TOTAL)
    _sign_out(j.page)


def _recommend(j: Journey, officer, opportunity_id: int) -> None:
    j.sign_in(j.page, officer.email, next=j.base)
    j.link("Recommend the award")
    j.at("Recommend the award")
    j.page.get_by_role("link", name=f"Record the answer for {NAMES[1]}").click()
    j.at(f"Abnormally low price: {NAMES[1]}")
    j.page.get_by_label("The bidder's explanation").fill("Volunteers give most of the visiting hours.")
    j.page.get_by_label("Accept: the bid stays in the evaluation").check()
    j.page.get_by_label("Reason for your decision").fill("The volunteer hours are evidenced in the method statement.")
    _submit(j.page, "Record the answer")
    j.success(f"The answer to {NAMES[1]}'s abnormally low price is recorded")
    j.page.goto(f"/commissioning/{opportunity_id}/award/recommend")
    j.at("Recommend the award")
    expect(j.page.locator("main")).to_contain_text(f"You are recommending {NAMES[1]}")
    _submit(j.page, "Recommend the award")
    _errors(j.page, j.axe_check, "Enter the reasons for the recommendation")
    j.page.get_by_label("Reasons for the recommendation").fill("Highest total after moderation; price accepted.")
    _submit(j.page, "Recommend the award")
    j.success("The award is recommended")
    j.at("Award")
    expect(j.page.locator("main")).to_contain_text("You recommended this award, so you cannot approve")
    _sign_out(j.page)


def _approve(j: Journey, approver, opportunity_id: int) -> str:
    """Approve; returns the standstill end as the award page words it."""
    j.sign_in(j.page, approver.email, next=f"/commissioning/{opportunity_id}/award")
    j.at("Award")
    j.link("Approve or return the recommendation")
    j.at("Approve or return the recommendation")
    j.page.get_by_label("Approve: publish the award notice and start standstill").check()
    _submit(j.page, "Record the decision")
    j.success("The award is approved")
    j.at("Award")
    ends = working_days.standstill_end(london(utcnow()).date())
    words = award_rules.standstill_end_words(ends)
    expect(j.page.locator("main .govuk-summary-list").first).to_contain_text(f"Standstill ends at {words}.")
    _sign_out(j.page)
    return words


def _bidder_result(j: Journey, loser, opportunity_id: int, standstill_words: str) -> None:
    j.sign_in(j.page, loser.email, next=f"/opportunities/{opportunity_id}/bid/result")
    j.at("Your result")
    outcome = j.page.locator("#outcome")
    expect(outcome).to_contain_text(f"Your bid was not successful. The council intends to award the contract to "
                                    f"{NAMES[1]}.")
    expect(outcome).to_contain_text(f"Standstill ends at {standstill_words}.")
    for key, value in (("Your total", f"{LOSER_TOTAL} points out of 100"), ("Your rank", "2 of 2 bids scored"),
                       ("The winning bid's total", f"{WINNER_TOTAL} points")):
        row = j.page.locator(".govuk-summary-list__row").filter(has=j.page.locator("dt", has_text=key))
        expect(row.locator("dd")).to_have_text(value)
    points = j.page.locator("#points tbody tr")
    expect(points.filter(has_text=QUALITY)).to_contain_text("3 out of 5")
    expect(points.filter(has_text=QUALITY)).to_contain_text(CONSENSUS[0][QUALITY][1])
    expect(points.filter(has_text="Price")).to_contain_text("20.42")
    expect(j.page.locator("main")).not_to_contain_text(EVE[0][QUALITY][1])  # no evaluator's own words


def _stored(model, *where) -> list:
    db.session.expire_all()
    return list(db.session.execute(sa.select(model).where(*where)).scalars())


def test_two_evaluators_score_a_moderator_settles_and_an_approved_award_starts_standstill(
        app, page, sign_in, axe_check):
    staff, opportunity, bids, loser = _data(app)
    opportunity_id, reference = opportunity.id, opportunity.reference
    bid_ids = [bid.id for bid in bids]
    hashes = [counting_submission(bid).sha256 for bid in bids]
    j = Journey(page, sign_in, axe_check, f"/commissioning/{opportunity_id}/evaluation")

    _set_up_panel(j, staff["officer"], staff["eve"], staff["sol"], staff["mo"])
    _declare(j, staff["eve"], reference)
    _declare(j, staff["sol"], reference)
    _declare(j, staff["mo"], reference, conflict="I chaired a committee with Bidder 3's director until 2022.")
    assert {(d.user_id, d.has_conflict) for d in _stored(ConflictDeclaration)} == {
        (staff["eve"].id, False), (staff["sol"].id, False), (staff["mo"].id, True)}

    _open_check_and_release(j, staff["officer"], hashes)
    assert [bid.status for bid in _stored(Bid, Bid.id.in_(bid_ids))] == [
        bid_rules.COMPLIANT, bid_rules.COMPLIANT, bid_rules.EXCLUDED]

    _score(j, staff["eve"], reference, EVE, slip=True)
    _score(j, staff["sol"], reference, SOL)
    scores = _stored(Score)
    assert len(scores) == 8 and all(s.justification for s in scores)
    assert {s.bid_id for s in scores} == set(bid_ids[:2])

    _moderate(j, staff["mo"], reference)
    titles = {criterion.id: criterion.title for criterion in opportunity.models[0].criteria}
    consensus = {(m.bid_id, titles[m.criterion_id]): (f"{m.score.normalize():f}", m.reason)
                 for m in _stored(ModeratedScore)}
    assert consensus == {(bid_ids[i], title): mark for i, marks in CONSENSUS.items() for title, mark in marks.items()}

    _recommend(j, staff["officer"], opportunity_id)
    assert [(r.bid_id, r.accepted) for r in _stored(PriceReview)] == [(bid_ids[1], True)]
    standstill_words = _approve(j, staff["approver"], opportunity_id)
    award = _stored(Award)[0]
    assert (award.bid_id, award.status, award.recommended_by_id, award.decided_by_id) == (
        bid_ids[1], award_rules.APPROVED, staff["officer"].id, staff["approver"].id)
    assert award.standstill_ends_on == working_days.standstill_end(london(award.notice_published_at).date())

    _bidder_result(j, loser, opportunity_id, standstill_words)
