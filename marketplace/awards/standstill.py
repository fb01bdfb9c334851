"""Award use cases from the award notice on: record a bidder's challenge (it suspends the award), resolve it,
return the award to evaluation after an upheld challenge, and confirm the award once standstill has ended,
making the contract record.

Confirmation is judged by the server clock at the moment of commit: the London date must be after the last day
of standstill, read again after every other write and just before the commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from marketplace.awards import contracts, reading, rules
from marketplace.awards.models import Award, Challenge, Contract
from marketplace.awards.services import (
    check_version,
    commit,
    current,
    locked,
    move,
    record,
    refuse,
    require_officer,
    required,
    touch,
)
from marketplace.bids import rules as bid_rules
from marketplace.bids.models import Bid
from marketplace.bids.submission import counting_submission
from marketplace.extensions import db
from marketplace.opportunities.models import Opportunity
from marketplace.organisations.models import Organisation
from marketplace.timeutil import london, utcnow

IN_STANDSTILL = frozenset({rules.APPROVED})
NOT_IN_STANDSTILL = "A challenge is recorded against an award in standstill, after the award notice is published."
DISMISSED, UPHELD = "dismissed", "upheld"


@dataclass(frozen=True)
class ChallengeDetails:
    organisation_id: int | None
    received_at: datetime | None
    summary: str


def record_challenge(user: Any, opportunity: Opportunity, details: ChallengeDetails) -> Challenge:
    """A bidder's challenge received during standstill: the award is suspended until it is resolved."""
    require_officer(user)
    opportunity = locked(opportunity)
    award = current(opportunity, IN_STANDSTILL, NOT_IN_STANDSTILL)
    if details.organisation_id not in {org_id for org_id, _ in reading.bidders_of(opportunity.id)}:
        refuse("Select the bidder who made the challenge", "organisation_id")
    if details.received_at is None:
        refuse("Enter when the challenge was received", "received_at")
    if refusal := rules.challenge_time_refusal(details.received_at, london(details.received_at).date(),
                                               award.notice_published_at, award.standstill_ends_on, utcnow()):
        refuse(refusal, "received_at")
    summary = required(details.summary, "Enter a summary of the challenge", "summary")
    if any(c.organisation_id == details.organisation_id and c.summary == summary
           for c in reading.challenges_of(award.id)):
        refuse("This challenge is already recorded.")
    challenge = Challenge(award_id=award.id, organisation_id=details.organisation_id,
                          received_at=details.received_at, summary=summary, recorded_by_id=user.id)
    db.session.add(challenge)
    touch(award)
    db.session.flush()
    record("award.challenge_recorded", award, user, challenge_id=challenge.id,
           organisation_id=details.organisation_id, received_at=details.received_at.isoformat())
    commit()
    return challenge


def resolve_challenge(user: Any, opportunity: Opportunity, challenge_id: int, outcome: str | None,
                      resolution: str) -> Challenge:
    """Dismissed: the award resumes. Upheld: the award cannot be confirmed; cancel or return to evaluation."""
    require_officer(user)
    opportunity = locked(opportunity)
    award = current(opportunity, IN_STANDSTILL, "Challenges are resolved while the award is in standstill.")
    challenge = next((c for c in reading.challenges_of(award.id) if c.id == challenge_id), None)
    if challenge is None:
        refuse("This challenge is not one recorded against the award.")
    if refusal := rules.resolution_refusal(challenge.resolved_at is not None):
        refuse(refusal)
    if outcome not in (DISMISSED, UPHELD):
        refuse("Select whether the challenge is dismissed or upheld", "outcome")
    challenge.resolution = required(resolution, "Enter the reasons for the outcome", "resolution")
    challenge.upheld, challenge.resolved_at, challenge.resolved_by_id = outcome == UPHELD, utcnow(), user.id
    touch(award)
    record("award.challenge_resolved", award, user, challenge_id=challenge.id, upheld=challenge.upheld)
    commit()
    return challenge


def return_to_evaluation(user: Any, opportunity: Opportunity, version: int | None) -> Award:
    """After an upheld challenge: the award is set aside and the opportunity is evaluated again."""
    require_officer(user)
    opportunity = locked(opportunity)
    award = current(opportunity, IN_STANDSTILL, "Only an award in standstill can be returned to evaluation.")
    check_version(award, version)
    if refusal := rules.return_refusal(award.status, reading.challenge_counts(award.id)[1]):
        refuse(refusal)
    move(opportunity, "return_award", user)
    award.status = rules.RETURNED
    record("award.returned_after_challenge", award, user)
    commit()
    return award


def confirm(user: Any, opportunity: Opportunity, version: int | None) -> Contract:
    """Confirm the award after standstill: the opportunity is awarded, the winning bid successful, the other
    evaluated bids unsuccessful, and the contract record made."""
    require_officer(user)
    opportunity = locked(opportunity)
    award = current(opportunity, frozenset({rules.APPROVED, rules.CONFIRMED}),
                    "Only an approved award can be confirmed, after its standstill period.")
    _refuse_unless_confirmable(award, award.status, utcnow())
    check_version(award, version)
    move(opportunity, "confirm_award", user)
    contract = _contract(award, opportunity)
    _settle_bids(opportunity.id, award.bid_id)
    award.status, award.confirmed_by_id = rules.CONFIRMED, user.id
    db.session.add(contract)
    db.session.flush()
    record("award.confirmed", award, user, contract=contract.reference, value=str(contract.value))
    award.confirmed_at = contract.awarded_at = _judged_at_commit(award)
    commit()
    return contract


def _refuse_unless_confirmable(award: Award, status: str, now: datetime) -> None:
    unresolved, upheld = reading.challenge_counts(award.id)
    if refusal := rules.confirmation_refusal(status, award.standstill_ends_on, london(now).date(), unresolved, upheld):
        refuse(refusal)


def _judged_at_commit(award: Award) -> datetime:
    """The server time the confirmation is recorded at, read after every other write: if standstill has not
    ended by then, the whole change is refused."""
    now = utcnow()
    _refuse_unless_confirmable(award, rules.APPROVED, now)
    return now


def _contract(award: Award, opportunity: Opportunity) -> Contract:
    if opportunity.contract_start is None or not opportunity.contract_months:
        refuse("The opportunity has no contract start date or length, so the contract cannot be recorded.")
    bid = db.session.get(Bid, award.bid_id)
    sealed = counting_submission(bid)
    if sealed is None:
        refuse("The recommended bid has no sealed version that counts, so the contract cannot be recorded.")
    return contracts.contract_for(award, opportunity, db.session.get(Organisation, bid.organisation_id), sealed,
                                  utcnow())


def _settle_bids(opportunity_id: int, winning_bid_id: int) -> None:
    bids = db.session.execute(sa.select(Bid).where(
        Bid.opportunity_id == opportunity_id, Bid.status.in_([bid_rules.COMPLIANT, bid_rules.EVALUATED]))).scalars()
    for bid in bids:
        bid.status = bid_rules.SUCCESSFUL if bid.id == winning_bid_id else bid_rules.UNSUCCESSFUL
