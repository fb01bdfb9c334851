"""Award use cases before standstill: recommend, answer abnormally-low price flags, approve or return.

Each takes explicit arguments, re-reads the opportunity holding its row (PostgreSQL `FOR UPDATE`; elsewhere the
opportunity's and the award's version columns refuse the second of two racing writes), checks the rules in
awards.rules, writes its audit event in the same transaction and commits once. A refusal rolls back and raises
`Refused` with the sentence to show (and the form field it is about); a write that lost a race raises `Stale`.
Standstill, challenges and confirmation are in awards.standstill.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NoReturn

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from marketplace import audit
from marketplace.awards import notify, reading, rules
from marketplace.awards.models import Award, PriceReview
from marketplace.bids import rules as bid_rules
from marketplace.bids.models import Bid
from marketplace.errors import DomainError
from marketplace.evaluation import results, working_days
from marketplace.extensions import db
from marketplace.opportunities import lifecycle
from marketplace.opportunities.models import Opportunity
from marketplace.timeutil import london, utcnow

STALE_MESSAGE = ("Someone else changed this award while you were looking at it, so nothing was saved. Check its "
                 "current state below, then try again if you still need to.")
APPROVE, RETURN = "approve", "return"


class Refused(DomainError):
    """A rule stops this step now; the message says why."""


class NotAllowed(DomainError):
    """This person may not take this step at all (the page answers 403)."""


class Blocked(Refused):
    """Several things stop the step; `errors` holds one refusal per problem."""

    def __init__(self, messages: list[str]):
        super().__init__(messages[0])
        self.errors = [Refused(message) for message in messages]


class Stale(Refused):
    def __init__(self):
        super().__init__(STALE_MESSAGE)


# Shared steps ---------------------------------------------------------------------------------------------

def roles_of(user: Any) -> frozenset[str]:
    return frozenset(getattr(user, "roles", ()))


def require_officer(user: Any) -> None:
    if not rules.runs_awards(roles_of(user)):
        raise NotAllowed("Only a procurement officer can do this.")


def refuse(message: str, field: str | None = None) -> NoReturn:
    """End the transaction (releasing the row lock) and refuse."""
    db.session.rollback()
    raise Refused(message, field)


def locked(opportunity: Opportunity) -> Opportunity:
    """The opportunity re-read in this transaction, its row held until the commit."""
    return db.session.execute(sa.select(Opportunity).where(Opportunity.id == opportunity.id)
                              .with_for_update().execution_options(populate_existing=True)).scalar_one()


def move(opportunity: Opportunity, action: str, user: Any) -> None:
    try:
        opportunity.status = lifecycle.next_state(opportunity.status, action, roles_of(user))
    except lifecycle.TransitionRefused as refused:
        refuse(refused.message)


def current(opportunity: Opportunity, statuses: frozenset[str], message: str) -> Award:
    award = reading.current_award(opportunity.id)
    if award is None or award.status not in statuses:
        refuse(message)
    return award


def check_version(award: Award, version: int | None) -> None:
    if version != award.version:
        db.session.rollback()
        raise Stale()


def touch(award: Award) -> None:
    """Count a change to the award's challenges as a change to the award: its version goes up, so a page
    showing the older state (the confirm button) is refused."""
    flag_modified(award, "status")


def commit() -> None:
    try:
        db.session.commit()
    except (StaleDataError, IntegrityError):
        db.session.rollback()
        raise Stale() from None


def record(action: str, award: Award, user: Any, **details) -> None:
    audit.record(action, "award", award.id, actor=user,
                 details={"opportunity_id": award.opportunity_id, "bid_id": award.bid_id, **details})


def required(text: str, message: str, field: str) -> str:
    if not (text or "").strip():
        refuse(message, field)
    return text.strip()


# Recommending ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RecommendationDetails:
    reasons: str
    bid_id: str | None = None  # when the engine reports a tie: the tied bid the officer recommends
    tie_decision: str = ""


def complete_ranking(opportunity: Opportunity) -> results.Ranking:
    ranking = results.rank(opportunity)
    if refusal := reading.ranking_refusal(ranking):
        refuse(refusal)
    return ranking


def recommend(user: Any, opportunity: Opportunity, details: RecommendationDetails) -> Award:
    """Record the recommendation: the engine's winner (or the tied bid chosen, with the decision), the ranking
    as shown and the officer's reasons. The opportunity moves to award recommended."""
    require_officer(user)
    opportunity = locked(opportunity)
    if refusal := reading.recommendation_refusal(opportunity, reading.current_award(opportunity.id)):
        refuse(refusal)
    ranking = complete_ranking(opportunity)
    result = ranking.result
    if problem := rules.tie_problem(result.tied, details.bid_id, details.tie_decision):
        refuse(problem[1], problem[0])
    reasons = required(details.reasons, "Enter the reasons for the recommendation", "reasons")
    chosen = rules.recommended_bid(result.winner, result.tied, details.bid_id)
    if chosen is None:
        refuse("No bid can be recommended: every bid has been excluded. Cancel the opportunity instead.")
    move(opportunity, "recommend_award", user)
    award = Award(opportunity_id=opportunity.id, bid_id=int(chosen), status=rules.RECOMMENDED,
                  ranking=ranking.display(), reasons=reasons,
                  tie_decision=details.tie_decision.strip() if result.tied else None,
                  recommended_by_id=user.id, recommended_at=utcnow())
    db.session.add(award)
    db.session.flush()
    record("award.recommended", award, user, tied=list(result.tied), decided_by=result.decided_by)
    commit()
    return award


# Abnormally low prices ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PriceDecision:
    explanation: str
    accepted: bool | None
    reason: str


def price_review_refusal(opportunity: Opportunity) -> str | None:
    """Flags are answered once moderation is complete and until the award is approved."""
    if opportunity.status == lifecycle.EVALUATING and reading.moderation_complete(opportunity.id):
        return None
    if opportunity.status == lifecycle.AWARD_RECOMMENDED:
        return None
    return "Abnormally low prices are answered after moderation is complete and before the award is approved."


def record_price_review(user: Any, opportunity: Opportunity, bid_id: int, decision: PriceDecision) -> PriceReview:
    """The bidder's explanation (as the officer received it) and the officer's decision. A rejected price
    excludes the bid from the ranking."""
    require_officer(user)
    opportunity = locked(opportunity)
    if refusal := price_review_refusal(opportunity):
        refuse(refusal)
    if bid_id in reading.reviews_of(opportunity.id):
        refuse("The answer to this bid's abnormally low price has already been recorded.")
    flags = reading.flagged_in(complete_ranking(opportunity).display()).get(str(bid_id))
    if not flags:
        refuse("This bid's price is not flagged as abnormally low.")
    explanation = required(decision.explanation, "Enter the bidder's explanation", "explanation")
    if decision.accepted is None:
        refuse("Select whether you accept the price", "decision")
    reason = required(decision.reason, "Enter the reason for your decision", "reason")
    review = PriceReview(bid_id=bid_id, flags=flags, bidder_explanation=explanation, accepted=decision.accepted,
                         decision_reason=reason, decided_by_id=user.id, decided_at=utcnow())
    db.session.add(review)
    if not decision.accepted:
        db.session.get(Bid, bid_id).status = bid_rules.EXCLUDED
    audit.record("award.price_review", "bid", bid_id, actor=user,
                 details={"opportunity_id": opportunity.id, "accepted": decision.accepted, "flags": flags})
    commit()
    return review


# Approving or returning ----------------------------------------------------------------------------------

def decide(user: Any, opportunity: Opportunity, decision: str, note: str, version: int | None) -> Award:
    """Approve the recommendation (the award notice is published now) or return it with a note. Never by the
    person who recommended it."""
    opportunity = locked(opportunity)
    award = current(opportunity, frozenset({rules.RECOMMENDED}),
                    "There is no recommendation waiting for a decision: it may already have been decided.")
    if refusal := rules.approval_refusal(user.id, roles_of(user), award.recommended_by_id):
        refuse(refusal)
    check_version(award, version)
    if decision == APPROVE:
        return _approve(user, opportunity, award)
    if decision == RETURN:
        return _return(user, opportunity, award, note)
    refuse("Select whether you approve the recommendation or return it", "decision")


def _approve(user: Any, opportunity: Opportunity, award: Award) -> Award:
    if blockers := reading.approval_blockers(opportunity, award, reading.live_display(opportunity)):
        db.session.rollback()
        raise Blocked(blockers)
    move(opportunity, "approve_award", user)
    now = utcnow()
    award.status, award.decided_by_id, award.decided_at = rules.APPROVED, user.id, now
    award.notice_published_at = now
    award.standstill_ends_on = working_days.standstill_end(london(now).date())
    record("award.approved", award, user, notice_published_at=now.isoformat(),
           standstill_ends_on=award.standstill_ends_on.isoformat())
    letters = notify.award_letters(opportunity, award)
    commit()
    notify.send(letters)
    return award


def _return(user: Any, opportunity: Opportunity, award: Award, note: str) -> Award:
    note = required(note, "Enter a note saying why you are returning the recommendation", "note")
    move(opportunity, "return_award", user)
    award.status, award.decided_by_id, award.decided_at, award.decision_note = rules.RETURNED, user.id, utcnow(), note
    record("award.returned", award, user, note=note)
    commit()
    return award
