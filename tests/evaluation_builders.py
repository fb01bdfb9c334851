"""Test builders for the evaluation workflow, written straight to the tables: an opened opportunity whose
compliance is recorded and whose bids are released to a cleared panel, then scores, submissions and consensus.

    panel = released_panel(evaluators=2)          # closed_with_bids + opening + compliance + release + panel
    score_all(panel.opportunity, panel.evaluators[0], Decimal(3))
    submit(panel.member(panel.evaluators[0]))
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any, Sequence

from marketplace.bids import rules, snapshot
from marketplace.bids.models import Bid, BidSubmission
from marketplace.evaluation import results
from marketplace.evaluation.models import (
    EVALUATOR,
    MODERATOR,
    ComplianceCheck,
    ConflictDeclaration,
    Evaluation,
    ModeratedScore,
    PanelMember,
    Score,
)
from marketplace.extensions import db
from marketplace.opportunities.lifecycle import CLOSED, EVALUATING
from marketplace.opportunities.models import Criterion
from marketplace.organisations.models import Organisation
from marketplace.timeutil import utcnow
from tests.builders import PRICE, closed_with_bids, make_bid, make_opportunity
from tests.factories import OrganisationFactory, StaffFactory

# Two more people-scored criteria, taking weight from the builder's quality (40) and public value (15) criteria.
EXTRA_CRITERIA = (("quality", "Staffing, training and supervision", Decimal(20)),
                  ("social_value", "Volunteering opportunities for Kent residents", Decimal(5)))


def with_four_people_scored(opportunity) -> None:
    """Give the builder's model four people-scored criteria (weights still adding up to 100)."""
    criteria = opportunity.models[0].criteria
    for criterion in criteria:
        if criterion.kind == "quality":
            criterion.weight = Decimal(20)
        elif criterion.kind == "social_value":
            criterion.weight = Decimal(10)
    for position, (kind, title, weight) in enumerate(EXTRA_CRITERIA, start=len(criteria)):
        criteria.append(Criterion(position=position, kind=kind, title=title, weight=weight, word_limit=50,
                                  question=f"Tell us about {title.lower()}."))
    db.session.commit()


def seal(opportunity, bid: Bid) -> BidSubmission:
    """A sealed version written straight to the table (no receipt email), as `submission.submit` seals it."""
    canonical = rules.canonical_json(snapshot.take(bid, opportunity).content)
    sealed = BidSubmission(bid_id=bid.id, number=1, submitted_at=utcnow(), sha256=rules.receipt_hash(canonical),
                           content=canonical)
    bid.status = rules.SUBMITTED
    db.session.add(sealed)
    db.session.commit()
    return sealed


def closed_with_many_bids(author, count: int, people_scored_criteria: int = 2) -> tuple[Any, list[Bid]]:
    """A closed opportunity with `count` sealed bids from as many organisations (fast: no service, no email);
    prices step up from the builder's price so they differ."""
    opportunity = make_opportunity(author)
    if people_scored_criteria == 4:
        with_four_people_scored(opportunity)
    bids = []
    for n in range(count):
        bid = make_bid(opportunity, OrganisationFactory(), marker=f"bidder-{n + 1}", price=PRICE + n * 100)
        seal(opportunity, bid)
        bids.append(bid)
    opportunity.status = CLOSED
    opportunity.submission_deadline = utcnow() - timedelta(hours=1)
    db.session.commit()
    return opportunity, bids


def people_scored(opportunity) -> list:
    return results.people_scored(results.evaluation_criteria(opportunity))


def record_compliance(opportunity, bids: Sequence[Bid], compliant: bool = True, reason: str = "") -> None:
    """A compliance decision per bid (every pass/fail criterion passed when compliant), bid status to match."""
    pass_fail = [c for c in results.evaluation_criteria(opportunity) if c.kind == "pass_fail"]
    for bid in bids:
        checks = [{"key": f"criterion-{c.id}", "label": c.title, "passed": compliant, "note": ""} for c in pass_fail]
        db.session.add(ComplianceCheck(bid_id=bid.id, compliant=compliant, checks=checks, reason=reason))
        bid.status = rules.COMPLIANT if compliant else rules.EXCLUDED
    db.session.commit()


def open_evaluation(opportunity, bids: Sequence[Bid], released: bool = True) -> Evaluation:
    """The opening record (as opening writes it) and, unless told otherwise, the release to the panel."""
    now = utcnow()
    record = [{"bid_id": b.id, "organisation": db.session.get(Organisation, b.organisation_id).legal_name,
               "submission_number": 1, "submitted_at": now.isoformat(), "sha256": "", "verified": True}
              for b in bids]
    evaluation = Evaluation(opportunity_id=opportunity.id, opened_at=now, opening_record=record,
                            released_at=now if released else None)
    opportunity.status = EVALUATING
    db.session.add(evaluation)
    db.session.commit()
    return evaluation


def seat(opportunity, user, role: str = EVALUATOR, criterion_ids: Sequence[int] = (), declared: bool = True,
         conflict: bool = False) -> PanelMember:
    """A place on the panel and, unless told otherwise, the user's conflict declaration (one per person)."""
    member = PanelMember(opportunity_id=opportunity.id, user_id=user.id, role=role, criterion_ids=list(criterion_ids))
    db.session.add(member)
    exists = db.session.query(ConflictDeclaration).filter_by(opportunity_id=opportunity.id, user_id=user.id).first()
    if declared and exists is None:
        db.session.add(ConflictDeclaration(opportunity_id=opportunity.id, user_id=user.id, has_conflict=conflict,
                                           details="My sister works for a bidder" if conflict else ""))
    db.session.commit()
    return member


@dataclass
class Panel:
    opportunity: Any
    bids: list[Bid]
    evaluation: Evaluation
    evaluators: list[Any] = field(default_factory=list)
    moderator: Any = None

    def member(self, user, role: str = EVALUATOR) -> PanelMember:
        return db.session.query(PanelMember).filter_by(opportunity_id=self.opportunity.id, user_id=user.id,
                                                       role=role).one()

    @property
    def criteria(self) -> list:
        return people_scored(self.opportunity)


def released_panel(author=None, evaluators: int = 2, moderator: bool = True, prices: Sequence[Decimal] | None = None,
                   released: bool = True, bid_count: int | None = None, people_scored_criteria: int = 2) -> Panel:
    """A closed opportunity with sealed bids, opened and found compliant, released to a panel of cleared
    evaluators (commissioners) and a moderator (a procurement officer). Bids come from `closed_with_bids`
    (three, or one per price), or, given `bid_count`, from `closed_with_many_bids`."""
    author = author or StaffFactory(roles=["commissioner"], full_name="Chris Commissioner")
    if bid_count is not None:
        opportunity, bids = closed_with_many_bids(author, bid_count, people_scored_criteria)
    else:
        opportunity, bids = closed_with_bids(author, **({"prices": prices} if prices else {}))
    evaluation = open_evaluation(opportunity, bids, released=released)
    record_compliance(opportunity, bids)
    people = [StaffFactory(roles=["commissioner"], full_name=f"Evaluator {n}") for n in range(1, evaluators + 1)]
    for person in people:
        seat(opportunity, person)
    chair = StaffFactory(roles=["procurement_officer"], full_name="Morgan Moderator") if moderator else None
    if chair is not None:
        seat(opportunity, chair, MODERATOR)
    return Panel(opportunity, bids, evaluation, people, chair)


def score_all(opportunity, user, value: Decimal | int = 3, bids: Sequence[Bid] | None = None,
              criteria: Sequence[Any] | None = None) -> None:
    """Scores (with justifications) for every given bid and criterion, straight into the table."""
    for bid in bids if bids is not None else compliant_bids(opportunity):
        for criterion in criteria if criteria is not None else people_scored(opportunity):
            db.session.add(Score(bid_id=bid.id, criterion_id=criterion.id, evaluator_id=user.id,
                                 score=Decimal(value), justification=f"Scored {value}: seen in the answer"))
    db.session.commit()


def compliant_bids(opportunity) -> list[Bid]:
    return list(db.session.query(Bid).join(ComplianceCheck, ComplianceCheck.bid_id == Bid.id)
                .filter(Bid.opportunity_id == opportunity.id, ComplianceCheck.compliant.is_(True))
                .order_by(Bid.id))


def submit(member: PanelMember) -> None:
    member.scores_submitted_at = utcnow()
    db.session.commit()


def scored_and_submitted(panel: Panel, values: Sequence[Decimal | int] | None = None) -> None:
    """Every evaluator scores everything (the n-th evaluator gives values[n]) and submits."""
    for n, user in enumerate(panel.evaluators):
        score_all(panel.opportunity, user, values[n] if values else 3)
        submit(panel.member(user))


def moderate_all(opportunity, value: Decimal | int = 3, moderator=None) -> None:
    for bid in compliant_bids(opportunity):
        for criterion in people_scored(opportunity):
            db.session.add(ModeratedScore(bid_id=bid.id, criterion_id=criterion.id, score=Decimal(value),
                                          reason="Agreed by the panel", moderator_id=getattr(moderator, "id", None)))
    db.session.commit()
