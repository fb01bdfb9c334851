"""A fully evaluated opportunity for the award report and letters, written straight to the tables.

`evaluated(author, stage=...)` starts from `builders.closed_with_bids` (sealed, counting submissions made through
the submission service), then records, as the evaluation and award workflows would: the conflicts assessment, a
panel of two evaluators and a moderator with their conflict declarations (one declared and mitigated), the opening
record with each receipt hash, compliance (one bid excluded), every evaluator's scores with justifications, the
moderated scores with reasons, an answer to each abnormally-low price flag, the recommendation with the engine's
ranking, the approval, the award notice and standstill, and the contract; with audit events for each step.

The default tender (prices and moderated quality / social value scores; Kent share 0.35 for every bid):

    bid 1  120,000.00  4 / 4    bid 2  100,000.00  3 / 3    bid 3  135,000.00  5 / 4
    bid 4   60,000.00  2 / 2 (abnormally low: explained and accepted)    bid 5  110,000.00 excluded at compliance

so bid 3 wins on quality (74.56 points against bid 1's 68.50).
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from marketplace import audit
from marketplace.accounts.models import User
from marketplace.awards.models import APPROVED, CONFIRMED, Award, Contract, PriceReview
from marketplace.bids import rules
from marketplace.bids.models import Bid, BidSubmission
from marketplace.evaluation import results, working_days
from marketplace.evaluation.models import (
    EVALUATOR,
    MODERATOR,
    ComplianceCheck,
    ConflictDeclaration,
    ConflictsAssessment,
    Evaluation,
    ModeratedScore,
    PanelMember,
    Score,
)
from marketplace.extensions import db
from marketplace.opportunities import lifecycle
from marketplace.opportunities.models import Opportunity
from marketplace.organisations.models import Membership, Organisation
from marketplace.timeutil import london, utcnow
from tests.builders import closed_with_bids
from tests.factories import StaffFactory

PRICES = (Decimal("120000.00"), Decimal("100000.00"), Decimal("135000.00"), Decimal("60000.00"),
          Decimal("110000.00"))
# Moderated (quality, social value) per bid, in order; None: excluded at compliance.
SCORES = ((4, 4), (3, 3), (5, 4), (2, 2), None)
EXCLUSION_REASON = "No safeguarding policy was provided: the bid fails the pass or fail criterion."
VERDICTS = {0: "does not meet", 1: "barely meets", 2: "partly meets", 3: "meets", 4: "exceeds"}
STAGES = (lifecycle.EVALUATING, lifecycle.AWARD_RECOMMENDED, lifecycle.STANDSTILL, lifecycle.AWARDED)


@dataclass
class Evaluated:
    opportunity: Opportunity
    bids: list[Bid]
    owners: list[User]  # each bid's organisation owner, in bid order
    officer: User  # opens, checks compliance, moderates, recommends
    approver: User
    evaluators: list[User]
    evaluation: Evaluation
    award: Award | None = None
    contract: Contract | None = None
    ranking: dict | None = None  # the engine's display output
    excluded: list[Bid] = field(default_factory=list)

    @property
    def winner(self) -> Bid | None:
        winner_id = (self.ranking or {}).get("winner")
        return next((b for b in self.bids if str(b.id) == winner_id), None)


def evaluated(author: User, stage: str = lifecycle.AWARDED, prices=PRICES, scores=SCORES) -> Evaluated:
    """An opportunity at `stage` (evaluating with moderation complete, award_recommended, standstill or awarded).
    `scores` gives each bid's moderated (quality, social value) scores, or None to exclude it at compliance; it
    is cycled when there are more prices than scores."""
    assert stage in STAGES, stage
    opportunity, bids = closed_with_bids(author, prices=prices)
    _deadline_after_the_last_submission(opportunity)
    officer = StaffFactory(roles=["procurement_officer"], full_name="Pat Procurement")
    approver = StaffFactory(roles=["procurement_officer"], full_name="Alex Approver")
    evaluators = [StaffFactory(roles=["commissioner"], full_name=name)
                  for name in ("Evie Evaluator", "Ellis Evaluator")]
    _panel(opportunity, officer, evaluators)
    state = Evaluated(opportunity, bids, _owners(bids), officer, approver, evaluators,
                      _open(opportunity, bids, officer))
    plan = [scores[i % len(scores)] for i in range(len(bids))]
    _compliance(state, plan)
    _score(state, plan)
    _moderate(state, plan)
    if stage != lifecycle.EVALUATING:
        _recommend(state)
    if stage in (lifecycle.STANDSTILL, lifecycle.AWARDED):
        _approve(state, notice_days_ago=20 if stage == lifecycle.AWARDED else 0)
    if stage == lifecycle.AWARDED:
        _confirm(state)
    db.session.commit()
    return state


def set_aside(opportunity_id: int) -> None:
    """Rename the opportunity's bidders, so another `evaluated` can be built in the same test
    (builders.closed_with_bids names its organisations Bidder 1, 2, ... and names are unique)."""
    for organisation in db.session.execute(sa.select(Organisation).join(Bid, Bid.organisation_id == Organisation.id)
                                           .where(Bid.opportunity_id == opportunity_id)).scalars():
        organisation.legal_name = f"{organisation.legal_name} (opportunity {opportunity_id})"
        organisation.name_key = organisation.legal_name.casefold()
    db.session.commit()


# The steps ---------------------------------------------------------------------------------------------

def _deadline_after_the_last_submission(opportunity: Opportunity) -> None:
    """closed_with_bids moves the deadline an hour back; put it just after the last submission instead, so every
    bidder's own activity falls before it and every evaluation step after it, as in life."""
    last = db.session.execute(sa.select(sa.func.max(BidSubmission.submitted_at)).join(Bid)
                              .where(Bid.opportunity_id == opportunity.id)).scalar_one()
    opportunity.submission_deadline = last + timedelta(milliseconds=1)
    db.session.commit()
    time.sleep(0.002)  # evaluation events fall after the deadline even on a coarse clock


def _owners(bids: list[Bid]) -> list[User]:
    rows = db.session.execute(sa.select(Membership.organisation_id, User).join(User, User.id == Membership.user_id)
                              .where(Membership.organisation_id.in_([b.organisation_id for b in bids]))
                              .order_by(Membership.id)).all()
    first = {}
    for organisation_id, user in rows:
        first.setdefault(organisation_id, user)
    return [first[b.organisation_id] for b in bids]


def _panel(opportunity: Opportunity, officer: User, evaluators: list[User]) -> None:
    db.session.add(ConflictsAssessment(
        opportunity_id=opportunity.id, recorded_by_id=officer.id,
        summary="Prepared by the adult social care commissioning team. No interests known in the befriending "
                "market; evaluators declare again once the bidders are known."))
    members = [(user, EVALUATOR) for user in evaluators] + [(officer, MODERATOR)]
    for user, role in members:
        db.session.add(PanelMember(opportunity_id=opportunity.id, user_id=user.id, role=role,
                                   assigned_by_id=officer.id, scores_submitted_at=utcnow() if role == EVALUATOR
                                   else None))
    conflicted = evaluators[1]
    for user in [*evaluators, officer]:
        declared = user is conflicted
        db.session.add(ConflictDeclaration(
            opportunity_id=opportunity.id, user_id=user.id, has_conflict=declared,
            details="Volunteered with Bidder 2 Community Interest Company until 2023." if declared else "",
            mitigation="No current interest; the volunteering ended over a year ago. Cleared to evaluate, with "
                       "the moderator checking each of this evaluator's scores." if declared else None,
            mitigated_by_id=officer.id if declared else None, mitigated_at=utcnow() if declared else None))
    db.session.flush()
    audit.record("evaluation.panel_assigned", "opportunity", opportunity.id, actor=officer,
                 details={"members": len(members)})


def _open(opportunity: Opportunity, bids: list[Bid], officer: User) -> Evaluation:
    versions = results.counting_versions(opportunity.id)
    names = dict(db.session.execute(sa.select(Bid.id, Organisation.legal_name).join(Organisation)
                                    .where(Bid.opportunity_id == opportunity.id)).all())
    record = [{"bid_id": v.bid_id, "organisation": names[v.bid_id], "submission_number": v.number,
               "submitted_at": v.submitted_at.isoformat(), "sha256": v.sha256, "verified": True} for v in versions]
    evaluation = Evaluation(opportunity_id=opportunity.id, opened_by_id=officer.id, opening_record=record)
    db.session.add(evaluation)
    opportunity.status = lifecycle.EVALUATING
    for bid in bids:
        bid.status = rules.OPENED
    db.session.flush()
    audit.record("evaluation.bids_opened", "evaluation", evaluation.id, actor=officer, details={"bids": len(record)})
    return evaluation


def _compliance(state: Evaluated, plan: list) -> None:
    pass_fail = [c for c in results.evaluation_criteria(state.opportunity) if c.kind == "pass_fail"]
    for bid, scores in zip(state.bids, plan):
        compliant = scores is not None
        checks = [{"key": f"criterion-{c.id}", "label": c.title, "passed": compliant,
                   "note": "Policy seen and in date." if compliant else "No policy was attached."} for c in pass_fail]
        checks.append({"key": "documents", "label": "Documents readable", "passed": True, "note": ""})
        db.session.add(ComplianceCheck(bid_id=bid.id, compliant=compliant, checks=checks,
                                       reason="" if compliant else EXCLUSION_REASON, recorded_by_id=state.officer.id))
        bid.status = rules.COMPLIANT if compliant else rules.EXCLUDED
        if not compliant:
            state.excluded.append(bid)
        db.session.flush()
        audit.record("evaluation.compliance_recorded", "bid", bid.id, actor=state.officer,
                     details={"compliant": compliant})
    state.evaluation.released_at, state.evaluation.released_by_id = utcnow(), state.officer.id


def _people_scored(state: Evaluated):
    return results.people_scored(results.evaluation_criteria(state.opportunity))


def _marks(agreed: int, wide: bool) -> tuple[int, int]:
    """Evie's and Ellis's marks around the consensus: one apart, or two apart when `wide`."""
    return (min(agreed + 1, 5), max(agreed - 1, 0)) if wide else (agreed, max(agreed - 1, 0))


def _score(state: Evaluated, plan: list) -> None:
    """Evie gives the consensus score and Ellis one lower, except two apart on the first bid's quality."""
    for position, (bid, scores) in enumerate(zip(state.bids, plan)):
        if scores is None:
            continue
        for criterion, agreed in zip(_people_scored(state), scores):
            marks = _marks(agreed, wide=position == 0 and criterion.kind == "quality")
            for evaluator, mark in zip(state.evaluators, marks):
                db.session.add(Score(bid_id=bid.id, criterion_id=criterion.id, evaluator_id=evaluator.id,
                                     score=Decimal(mark), justification=f"Marked {mark}: evidence in the answer "
                                                                        f"on {criterion.title.lower()}."))
    db.session.flush()
    for evaluator in state.evaluators:
        audit.record("evaluation.scores_submitted", "opportunity", state.opportunity.id, actor=evaluator)


def _moderate(state: Evaluated, plan: list) -> None:
    for bid, scores in zip(state.bids, plan):
        if scores is None:
            continue
        for criterion, agreed in zip(_people_scored(state), scores):
            db.session.add(ModeratedScore(bid_id=bid.id, criterion_id=criterion.id, score=Decimal(agreed),
                                          moderator_id=state.officer.id,
                                          reason=f"Consensus {agreed}: the answer on {criterion.title.lower()} "
                                                 f"{VERDICTS[min(agreed, 4)]} the requirement."))
        bid.status = rules.EVALUATED
    state.evaluation.moderation_completed_at = utcnow()
    state.evaluation.moderation_completed_by_id = state.officer.id
    db.session.flush()
    audit.record("evaluation.moderation_completed", "evaluation", state.evaluation.id, actor=state.officer)
    state.ranking = results.rank(state.opportunity).display()


def _recommend(state: Evaluated) -> None:
    for entry in state.ranking["bids"]:
        flags = [f for f in entry["flags"] if f.startswith("abnormally_low")]
        if flags:
            db.session.add(PriceReview(
                bid_id=int(entry["id"]), flags=flags, accepted=True, decided_by_id=state.officer.id,
                bidder_explanation="Our volunteers are recruited and trained by our own charity at no cost to "
                                   "the contract; paid staff cover coordination only.",
                decision_reason="The explanation and the staffing plan show the price is sustainable."))
            db.session.flush()
            audit.record("award.price_review_recorded", "bid", int(entry["id"]), actor=state.officer,
                         details={"accepted": True})
    state.award = Award(opportunity_id=state.opportunity.id, bid_id=int(state.ranking["winner"]),
                        ranking=state.ranking, recommended_by_id=state.officer.id,
                        reasons="The highest scoring compliant bid: the strongest answer on delivery and a "
                                "sustainable price.")
    db.session.add(state.award)
    state.opportunity.status = lifecycle.AWARD_RECOMMENDED
    db.session.flush()
    audit.record("award.recommended", "award", state.award.id, actor=state.officer,
                 details={"bid_id": state.award.bid_id})


def _approve(state: Evaluated, notice_days_ago: int) -> None:
    award, now = state.award, utcnow()
    notice = now - timedelta(days=notice_days_ago)
    award.status, award.decided_by_id, award.decided_at = APPROVED, state.approver.id, notice
    award.decision_note = "Approved: the evaluation followed the published model."
    award.notice_published_at = notice
    award.standstill_ends_on = working_days.standstill_end(london(notice).date())
    state.opportunity.status = lifecycle.STANDSTILL
    for bid in state.bids:
        if bid.status == rules.EVALUATED:
            bid.status = rules.SUCCESSFUL if bid.id == award.bid_id else rules.UNSUCCESSFUL
    db.session.flush()
    audit.record("award.approved", "award", award.id, actor=state.approver)
    audit.record("award.notice_published", "award", award.id, actor=state.officer,
                 details={"standstill_ends_on": award.standstill_ends_on.isoformat()})


def _confirm(state: Evaluated) -> None:
    award, winner = state.award, state.winner
    award.status, award.confirmed_by_id, award.confirmed_at = CONFIRMED, state.officer.id, utcnow()
    state.opportunity.status = lifecycle.AWARDED
    content = json.loads(db.session.execute(sa.select(BidSubmission.content).where(
        BidSubmission.bid_id == winner.id).order_by(BidSubmission.number.desc()).limit(1)).scalar_one())
    organisation = db.session.get(Organisation, winner.organisation_id)
    value = Decimal(content["price"]["total"])
    share = Decimal(content["local_economy"]["kent_share"])
    start = date.today() + timedelta(days=30)
    state.contract = Contract(
        reference=f"{state.opportunity.reference}-C1", opportunity_id=state.opportunity.id, award_id=award.id,
        bid_id=winner.id, organisation_id=organisation.id, title=state.opportunity.title,
        category=state.opportunity.category, supplier_name=organisation.legal_name,
        supplier_postcode=organisation.operations_postcode, supplier_org_type=organisation.org_type,
        supplier_size=organisation.size, supplier_is_vcse=organisation.is_vcse, supplier_is_sme=organisation.is_sme,
        supplier_kent_based=organisation.kent_based, value=value, start_date=start,
        end_date=start + timedelta(days=3 * 365), kent_share=share,
        kent_spend=(value * share).quantize(Decimal("0.01")),
        kent_jobs=content["local_economy"]["kent_jobs"],
        kent_apprenticeships=content["local_economy"]["kent_apprenticeships"],
        social_value_commitments=content["social_value_commitments"], consortium=content["consortium"])
    db.session.add(state.contract)
    db.session.flush()
    audit.record("award.confirmed", "award", award.id, actor=state.officer,
                 details={"contract": state.contract.reference})


# Reading the PDFs -----------------------------------------------------------------------------------------

WATERMARK = re.compile(r"D\s*R\s*A\s*F\s*T")  # the rotated watermark comes out a letter a line


def pdf_text(data: bytes, raw: bool = False) -> str:
    """The PDF's text as pdftotext (poppler-utils) reads it: in reading order, or in content order (`raw`),
    pages separated by form feeds."""
    options = ["-raw"] if raw else []
    return subprocess.run(["pdftotext", *options, "-", "-"], input=data, capture_output=True,
                          check=True).stdout.decode()


def watermarked_pages(data: bytes) -> int:
    """How many pages carry the DRAFT watermark."""
    pages = [page for page in pdf_text(data, raw=True).split("\f") if page.strip()]
    return sum(1 for page in pages if WATERMARK.search(page))


def pdf_pages(data: bytes) -> int:
    info = subprocess.run(["pdfinfo", "-"], input=data, capture_output=True, check=True).stdout.decode()
    return int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))


def flat(text: str) -> str:
    """Text with its white space collapsed, so a phrase wrapped over two lines still matches."""
    return " ".join(text.split())
