"""Compliance, the release of bids to the panel, reading an opened bid, and the evaluation's progress by stage.

Compliance: for each opened bid the procurement officer records every pass/fail criterion (beside the bidder's
own confirmation) and the fixed checks, each passed or failed with a note (a note is required when it fails),
then compliant or excluded with a reason (required when excluded: the bidder is told it). The checks are stored
as `ComplianceCheck.checks` with the keys `criterion-<id>` that `results` reads. Decisions can change until the
bids are released.

Release: once every opened bid has a decision, at least one is compliant and the panel is complete (every
member declared and cleared), the officer releases the compliant bids to the panel. Only then does
`access.cleared_member` let panel members in.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Sequence

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from marketplace import audit, documents
from marketplace.bids import rules
from marketplace.bids.models import Bid, BidDocument, BidSubmission
from marketplace.bids.submission import sealed_content
from marketplace.errors import DomainError
from marketplace.evaluation import access, panel, permissions, results
from marketplace.evaluation.opening import organisation_names
from marketplace.evaluation.models import ComplianceCheck, ConflictsAssessment, Evaluation
from marketplace.extensions import db
from marketplace.opportunities.models import Opportunity
from marketplace.opportunities.services import Invalid, NotAllowed, pounds
from marketplace.timeutil import utcnow

# Checks made on every bid besides its pass/fail criteria: (key, label, what to look for).
FIXED_CHECKS: tuple[tuple[str, str, str], ...] = (
    ("documents", "Documents present and readable",
     "Every document the bid lists is attached, opens, and matches its fingerprint."),
    ("declarations", "Declarations made",
     "No exclusion grounds apply, the information is confirmed accurate, and any conflict of interest is "
     "explained."),
    ("price", "Price complete", "A total price, with a price schedule that supports it."),
)
CHANGED_MEANWHILE = ("Someone else recorded a decision on this bid at the same moment, so yours was not saved. "
                     "Check the decision now recorded, then change it if you need to.")


# What to check ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Item:
    """One thing to check on a bid, with what the bid itself says about it."""

    key: str
    label: str
    guidance: str
    bidder_says: str
    criterion: bool = False

    @property
    def slug(self) -> str:
        return self.key.replace("-", "_")


@dataclass(frozen=True)
class Answer:
    key: str
    passed: bool | None
    note: str


def items_for(opportunity: Opportunity, content: dict) -> list[Item]:
    """The bid's pass/fail criteria (with the bidder's confirmation), then the fixed checks."""
    confirmations = content.get("confirmations") or {}
    items = [Item(f"criterion-{c.id}", c.title, c.question or "", _confirmation(confirmations.get(str(c.id))), True)
             for c in results.evaluation_criteria(opportunity) if c.kind == "pass_fail"]
    return items + [Item(key, label, guidance, _bidder_says(key, content)) for key, label, guidance in FIXED_CHECKS]


def _confirmation(item: dict | None) -> str:
    return "The bidder confirms it meets this" if item and item.get("confirmed") else "The bidder did not confirm this"


def _bidder_says(key: str, content: dict) -> str:
    if key == "documents":
        count = len(content.get("documents") or [])
        return f"{count} document{'' if count == 1 else 's'} listed"
    if key == "declarations":
        said = content.get("declarations") or {}
        conflicts = {"none": "no conflicts of interest", "declared": "a conflict of interest declared"}.get(
            said.get("conflicts"), "conflicts not answered")
        confirmed = said.get("no_exclusion_grounds") and said.get("accurate")
        return f"{'Both confirmations given' if confirmed else 'Confirmations missing'}; {conflicts}"
    price = content.get("price") or {}
    lines = len(price.get("lines") or [])
    return f"Total {pounds_or_none(price.get('total'))}; {lines} line{'' if lines == 1 else 's'} in the schedule"


def pounds_or_none(value: Any) -> str:
    return "not given" if value in (None, "") else pounds(Decimal(str(value)))


def decision_errors(items: Sequence[Item], answers: dict[str, Answer], compliant: bool | None,
                    reason: str) -> list[DomainError]:
    """Every item passed or failed, a note for each failure, a decision, and a reason for an exclusion. A bid
    that fails a pass/fail criterion cannot be compliant: the engine would exclude it anyway."""
    errors = []
    for item in items:
        answer = answers.get(item.key)
        if answer is None or answer.passed is None:
            errors.append(DomainError(f"Select whether ‘{item.label}’ is met", f"passed_{item.slug}"))
        elif not answer.passed and not answer.note.strip():
            errors.append(DomainError(f"Say why ‘{item.label}’ is not met", f"note_{item.slug}"))
    if compliant is None:
        errors.append(DomainError("Select whether the bid is compliant or excluded", "decision"))
    elif not compliant and not reason.strip():
        errors.append(DomainError("Give the reason for excluding the bid: the bidder is told it", "reason"))
    failed = [item.label for item in items if item.criterion and answers.get(item.key)
              and answers[item.key].passed is False]
    if compliant and failed:
        errors.append(DomainError(f"A bid that does not meet ‘{failed[0]}’ cannot be compliant: exclude it, or "
                                  "record that it meets the criterion", "decision"))
    return errors


# Opened bids ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class OpenedBid:
    bid: Bid
    organisation: str
    version: BidSubmission
    check: ComplianceCheck | None

    @property
    def content(self) -> dict:
        return sealed_content(self.version)


def opened_bids(opportunity_id: int) -> list[OpenedBid]:
    """Each counting bid with its sealed version and compliance decision, in bid id order (four queries)."""
    versions = results.counting_versions(opportunity_id)
    ids = [v.bid_id for v in versions] or [0]
    bids = {b.id: b for b in db.session.execute(sa.select(Bid).where(Bid.id.in_(ids))).scalars()}
    checks = {c.bid_id: c for c in db.session.execute(
        sa.select(ComplianceCheck).where(ComplianceCheck.bid_id.in_(ids))).scalars()}
    names = organisation_names(ids)
    return [OpenedBid(bids[v.bid_id], names[v.bid_id], v, checks.get(v.bid_id)) for v in versions
            if bids[v.bid_id].status in permissions.OPENED_STATUSES]


def opened_bid(opportunity_id: int, bid_id: int) -> OpenedBid | None:
    return next((row for row in opened_bids(opportunity_id) if row.bid.id == bid_id), None)


def readable_bid(user: Any, opportunity: Opportunity, bid_id: int) -> OpenedBid | None:
    """The opened bid if this user may read it (officers: any opened bid; cleared panel members: compliant
    ones after release); otherwise None, and the page answers 404."""
    evaluation = access.evaluation_of(opportunity.id)
    found = opened_bid(opportunity.id, bid_id) if evaluation is not None else None
    if found is None or not permissions.can_read_bid(user, found.bid.status, True,
                                                     access.cleared_on_panel(user, opportunity.id)):
        return None
    return found


@dataclass(frozen=True)
class SealedDocument:
    """A document named in the sealed version, and the stored file if it is there and still matches."""

    title: str
    filename: str
    sha256: str
    stored: BidDocument | None
    state: str  # verified | missing | changed

    @property
    def downloadable(self) -> bool:
        return self.state == "verified"


def sealed_documents(opened: OpenedBid) -> list[SealedDocument]:
    """The documents as sealed, each checked against the stored file's SHA-256."""
    stored = {d.sha256: d for d in opened.bid.documents}
    found = []
    for item in opened.content.get("documents") or []:
        document = stored.get(item["sha256"])
        found.append(SealedDocument(item["title"], item["filename"], item["sha256"], document,
                                    _file_state(document)))
    return found


def _file_state(document: BidDocument | None) -> str:
    path = _path(document)
    if path is None:
        return "missing"
    return "verified" if hashlib.sha256(path.read_bytes()).hexdigest() == document.sha256 else "changed"


def _path(document: BidDocument | None) -> Path | None:
    if document is None:
        return None
    try:
        path = documents.path_for(document.storage_key)
    except FileNotFoundError:
        return None
    return path if path.exists() else None


def document_to_download(user: Any, opportunity: Opportunity, bid_id: int,
                         document_id: int) -> tuple[BidDocument, Path] | None:
    """A sealed document of a bid the user may read, whose file still matches its fingerprint; else None."""
    opened = readable_bid(user, opportunity, bid_id)
    sealed = sealed_documents(opened) if opened else []
    match = next((s for s in sealed if s.stored is not None and s.stored.id == document_id and s.downloadable), None)
    return (match.stored, _path(match.stored)) if match else None


# Recording a decision ------------------------------------------------------------------------------------

def record(user: Any, opportunity: Opportunity, opened: OpenedBid, answers: dict[str, Answer],
           compliant: bool | None, reason: str) -> ComplianceCheck:
    """Record (or change, until release) the compliance decision on one opened bid."""
    _require_checker(user, opportunity)
    items = items_for(opportunity, opened.content)
    errors = decision_errors(items, answers, compliant, reason)
    if errors:
        raise Invalid(errors)
    check = opened.check or ComplianceCheck(bid_id=opened.bid.id)
    check.compliant, check.reason = bool(compliant), "" if compliant else reason.strip()
    check.checks = [{"key": i.key, "label": i.label, "passed": bool(answers[i.key].passed),
                     "note": answers[i.key].note.strip()} for i in items]
    check.recorded_by_id, check.recorded_at = user.id, utcnow()
    db.session.add(check)
    opened.bid.status = rules.COMPLIANT if compliant else rules.EXCLUDED
    audit.record("evaluation.compliance_" + ("changed" if opened.check else "recorded"), "bid", opened.bid.id,
                 actor=user, details={"reference": opportunity.reference, "compliant": bool(compliant),
                                      "reason": check.reason,
                                      "failed": [c["key"] for c in check.checks if not c["passed"]]})
    try:
        db.session.commit()
    except (IntegrityError, StaleDataError):
        db.session.rollback()
        raise DomainError(CHANGED_MEANWHILE) from None
    return check


def _require_checker(user: Any, opportunity: Opportunity) -> None:
    evaluation = access.evaluation_of(opportunity.id)
    released = evaluation is not None and evaluation.released_at is not None
    if permissions.can_check_compliance(user, evaluation is not None, released):
        return
    if released and permissions.is_officer(user):
        raise DomainError("The bids have been released to the panel, so compliance decisions can no longer change.")
    raise NotAllowed("Only a procurement officer can check compliance, between opening and release.")


# Release to the panel ----------------------------------------------------------------------------------------

def release_problems(opportunity: Opportunity, bids: Sequence[OpenedBid], state: panel.PanelState) -> list[str]:
    """What stops the bids going to the panel: compliance decisions, at least one compliant bid, the panel."""
    unchecked = [row.organisation for row in bids if row.check is None]
    problems = []
    if unchecked:
        problems.append(f"Record the compliance decision on {len(unchecked)} bid{'' if len(unchecked) == 1 else 's'}: "
                        + ", ".join(unchecked))
    elif not any(row.check.compliant for row in bids):
        problems.append("No bid is compliant, so there is nothing for the panel to score")
    return problems + state.problems


class ReleaseRefused(DomainError):
    def __init__(self, problems: list[str]):
        super().__init__("The bids cannot be released to the panel yet: " + "; ".join(problems) + ".")
        self.problems = problems


def release(user: Any, opportunity: Opportunity) -> Evaluation:
    """Release the compliant bids to the panel, once."""
    evaluation = access.evaluation_of(opportunity.id)
    opened = evaluation is not None
    if not permissions.can_release(user, opened, opened and evaluation.released_at is not None):
        if opened and evaluation.released_at is not None and permissions.is_officer(user):
            raise DomainError("The bids were already released to the panel.")
        raise NotAllowed("Only a procurement officer can release the bids, once they are opened.")
    state = panel.panel_state(opportunity)
    bids = opened_bids(opportunity.id)
    problems = release_problems(opportunity, bids, state)
    if problems:
        raise ReleaseRefused(problems)
    evaluation.released_at, evaluation.released_by_id = utcnow(), user.id
    audit.record("evaluation.released", "opportunity", opportunity.id, actor=user, details={
        "reference": opportunity.reference, "compliant_bid_ids": [r.bid.id for r in bids if r.check.compliant],
        "panel": [{"user_id": m.user_id, "role": m.role} for m in state.members]})
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise DomainError("The bids were already released to the panel.") from None
    panel.tell_released(opportunity, state.members, user)
    return evaluation


# The evaluation's progress, stage by stage ------------------------------------------------------------------

@dataclass(frozen=True)
class Progress:
    """Everything the evaluation overview shows."""

    assessment: ConflictsAssessment | None
    panel: panel.PanelState
    evaluation: Evaluation | None
    bids: list[OpenedBid]
    state: str
    bids_closed: bool
    release_problems: list[str]

    @property
    def checked(self) -> int:
        return sum(1 for row in self.bids if row.check is not None)

    @property
    def compliant(self) -> int:
        return sum(1 for row in self.bids if row.check is not None and row.check.compliant)

    @property
    def opened(self) -> bool:
        return self.evaluation is not None

    @property
    def released(self) -> bool:
        return self.evaluation is not None and self.evaluation.released_at is not None


def progress(opportunity: Opportunity, now: datetime | None = None) -> Progress:
    now = now or utcnow()
    evaluation = access.evaluation_of(opportunity.id)
    state = panel.panel_state(opportunity)
    bids = opened_bids(opportunity.id) if evaluation is not None else []
    problems = release_problems(opportunity, bids, state) if evaluation is not None else []
    return Progress(access.conflicts_assessment_of(opportunity.id), state, evaluation, bids,
                    panel.state_of(opportunity, now),
                    permissions.bids_closed(opportunity.submission_deadline, now), problems)
