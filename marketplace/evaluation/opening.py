"""Opening the bids, once, after the deadline.

Opening re-verifies every counting version: the SHA-256 of its stored content must equal the hash on its
receipt. One mismatch stops the opening whole (nothing changes; the opportunity stays closed) and is audited
as `evaluation.opening_stopped` with the bids that failed. Otherwise, in one transaction: the `Evaluation` row
with its opening record (each counting bid's organisation, version, submission time and verified hash), the
counting bids become `opened`, and the opportunity goes closed -> evaluating.

A second opening is refused; when two arrive together the opportunity's row lock (PostgreSQL) and, finally, the
unique constraint on `evaluations.opportunity_id` let only one through. Bids withdrawn before the deadline are
listed as not counting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from marketplace import audit
from marketplace.accounts.models import User
from marketplace.bids import rules
from marketplace.bids.models import Bid, BidSubmission
from marketplace.bids.submission import receipt_time
from marketplace.errors import DomainError
from marketplace.evaluation import access, permissions, results
from marketplace.evaluation.models import Evaluation
from marketplace.extensions import db
from marketplace.opportunities import lifecycle
from marketplace.opportunities.models import Opportunity
from marketplace.opportunities.services import NotAllowed
from marketplace.organisations.models import Organisation
from marketplace.timeutil import format_london, utcnow


class AlreadyOpened(DomainError):
    def __init__(self, evaluation: Evaluation | None = None):
        when = f" on {format_london(evaluation.opened_at)}" if evaluation is not None else ""
        super().__init__(f"The bids were already opened{when}. They are opened only once.")


@dataclass(frozen=True)
class Failure:
    bid_id: int
    organisation: str
    submission_number: int


class OpeningStopped(DomainError):
    """Sealed content no longer matches its receipt: nothing was opened."""

    def __init__(self, failures: list[Failure]):
        names = "; ".join(f"{f.organisation} (bid {f.bid_id}, version {f.submission_number})" for f in failures)
        super().__init__(f"Opening stopped: the stored content of {len(failures)} bid"
                         f"{'' if len(failures) == 1 else 's'} no longer matches the receipt given when it was "
                         f"submitted, so nothing was opened. {names}. Report this to the service's support team; "
                         "the bids stay sealed.")
        self.failures = failures


def verified(version: BidSubmission) -> bool:
    return rules.receipt_hash(version.content) == version.sha256


def open_bids(user: Any, opportunity: Opportunity) -> Evaluation:
    """Open every counting bid, or refuse whole."""
    if not permissions.is_officer(user):
        raise NotAllowed("Only a procurement officer can open bids.")
    opportunity = _locked(opportunity)
    now = utcnow()
    target = _target_state(user, opportunity, now)
    versions = results.counting_versions(opportunity.id)
    names = organisation_names([v.bid_id for v in versions])
    failures = [Failure(v.bid_id, names[v.bid_id], v.number) for v in versions if not verified(v)]
    if failures:
        _stop(user, opportunity.id, opportunity.reference, failures)
    evaluation = Evaluation(opportunity_id=opportunity.id, opened_at=now, opened_by_id=user.id,
                            opening_record=[_entry(v, names[v.bid_id]) for v in versions])
    opportunity.status, opportunity.updated_at = target, now
    _write(user, opportunity, evaluation, versions)
    return evaluation


def _write(user: Any, opportunity: Opportunity, evaluation: Evaluation, versions: list[BidSubmission]) -> None:
    """The counting bids become opened; the opening is recorded and audited, all in one commit."""
    withdrawn = [bid.id for bid, _, _ in withdrawn_bids(opportunity.id)]
    for bid in list(db.session.execute(sa.select(Bid).where(Bid.id.in_([v.bid_id for v in versions] or [0])))
                    .scalars()):
        bid.status = rules.OPENED
    try:
        db.session.add(evaluation)
        audit.record("evaluation.opened", "opportunity", opportunity.id, actor=user, details={
            "reference": opportunity.reference, "bid_ids": [v.bid_id for v in versions],
            "receipts": {str(v.bid_id): v.sha256 for v in versions}, "withdrawn_bid_ids": withdrawn})
        db.session.commit()
    except (IntegrityError, StaleDataError):  # another opening got there first: the unique constraint holds
        db.session.rollback()
        raise AlreadyOpened(access.evaluation_of(opportunity.id)) from None


def _locked(opportunity: Opportunity) -> Opportunity:
    """The opportunity re-read in this transaction, its row held (PostgreSQL) until the commit."""
    return db.session.execute(sa.select(Opportunity).where(Opportunity.id == opportunity.id).with_for_update()
                              .execution_options(populate_existing=True)).scalar_one()


def _target_state(user: Any, opportunity: Opportunity, now: datetime) -> str:
    """The state after opening (closed -> evaluating), or the transaction ends and the refusal says why."""
    evaluation = access.evaluation_of(opportunity.id)
    if evaluation is not None:
        db.session.rollback()
        raise AlreadyOpened(evaluation)
    state = lifecycle.effective_state(opportunity.status, opportunity.submission_deadline, now)
    if state == lifecycle.PUBLISHED:
        db.session.rollback()
        raise DomainError(f"Bids can be opened only after the deadline, "
                          f"{format_london(opportunity.submission_deadline)}.")
    try:
        return lifecycle.next_state(state, "start_evaluation", user.roles)
    except lifecycle.TransitionRefused:
        db.session.rollback()
        raise DomainError("Bids cannot be opened: the opportunity is "
                          f"{lifecycle.STATE_LABELS.get(state, state).lower()}.") from None


def _stop(user: Any, opportunity_id: int, reference: str, failures: list[Failure]) -> None:
    """Undo everything, record only that opening stopped and why, and refuse."""
    db.session.rollback()
    audit.record("evaluation.opening_stopped", "opportunity", opportunity_id, actor=user, details={
        "reference": reference, "bid_ids": [f.bid_id for f in failures]})
    db.session.commit()
    raise OpeningStopped(failures)


def _entry(version: BidSubmission, organisation: str) -> dict:
    return {"bid_id": version.bid_id, "organisation": organisation, "submission_number": version.number,
            "submitted_at": version.submitted_at.isoformat(), "sha256": version.sha256, "verified": True}


# Reading -----------------------------------------------------------------------------------------------------

def record_time(entry: dict) -> str:
    """An opening record entry's submission time, as its receipt gave it."""
    return receipt_time(datetime.fromisoformat(entry["submitted_at"]))


def opened_by(evaluation: Evaluation | None) -> User | None:
    return db.session.get(User, evaluation.opened_by_id) if evaluation and evaluation.opened_by_id else None


def organisation_names(bid_ids: list[int]) -> dict[int, str]:
    return dict(db.session.execute(
        sa.select(Bid.id, Organisation.legal_name).join(Organisation, Organisation.id == Bid.organisation_id)
        .where(Bid.id.in_(bid_ids or [0]))).all())


def withdrawn_bids(opportunity_id: int) -> list[tuple[Bid, str, BidSubmission]]:
    """Bids whose every version was withdrawn before the deadline: not counting. (bid, organisation, the
    last version), by bid id."""
    rows = db.session.execute(
        sa.select(Bid, Organisation.legal_name).join(Organisation, Organisation.id == Bid.organisation_id)
        .where(Bid.opportunity_id == opportunity_id, Bid.status == rules.WITHDRAWN).order_by(Bid.id)).all()
    last = {s.bid_id: s for s in db.session.execute(
        sa.select(BidSubmission).where(BidSubmission.bid_id.in_([bid.id for bid, _ in rows] or [0]))
        .order_by(BidSubmission.bid_id, BidSubmission.number)).scalars()}
    return [(bid, name, last[bid.id]) for bid, name in rows if bid.id in last]
