"""Submitting, withdrawing and resubmitting bids: sealed numbered versions, each with its receipt.

A submission seals the bid's canonical content (`snapshot.take` -> `rules.canonical_json`) with its SHA-256 and
the server time. It is judged by the server clock at the moment of commit, inside the transaction: the
opportunity row is read with a shared lock (an amendment cannot move the deadline meanwhile), the bid row with
an update lock (PostgreSQL `SELECT ... FOR UPDATE`; on SQLite the write lock and the bid's version column
serialise), and the clock is read again just before the commit. A late request is refused whole.

Double submission (a double-click, two colleagues at once) makes one version: the second request finds the bid
already submitted and gets the same receipt back. A page that carried an older version of the bid is refused
with a clear message rather than sealing something the user did not check.

Only the latest version counts, and only while it is not withdrawn (`counting_submission`). Every version keeps
its receipt. The audit event carries the version number and receipt hash, never the content.
"""

from __future__ import annotations

import json
import smtplib
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from marketplace import audit
from marketplace.accounts.models import User
from marketplace.bids import rules, snapshot
from marketplace.bids.models import Bid, BidSubmission
from marketplace.bids.permissions import is_bidder
from marketplace.email import send_email
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.links import absolute_url
from marketplace.opportunities import lifecycle
from marketplace.opportunities.models import Opportunity
from marketplace.organisations.choices import MEMBER_OWNER
from marketplace.organisations.models import Membership, Organisation
from marketplace.timeutil import format_london, london, utcnow

STALE_MESSAGE = ("Your bid changed after you opened this page, perhaps because a colleague edited it. Nothing "
                 "was submitted. Check your answers again, then submit.")
STALE_WITHDRAW_MESSAGE = ("Your bid changed after you opened this page, perhaps because a colleague withdrew or "
                          "resubmitted it. Nothing was withdrawn. Check its status, then try again.")
INCOMPLETE_MESSAGE = "Your bid is not complete. Finish the items listed under ‘What is missing’, then submit."


class SubmissionRefused(DomainError):
    """The bid cannot be submitted or withdrawn now; the message says why."""


class Incomplete(SubmissionRefused):
    def __init__(self, missing: list[rules.Missing]):
        super().__init__(INCOMPLETE_MESSAGE)
        self.missing = missing


class NotBidder(SubmissionRefused):
    """Only members of the bidding organisation may act on its bid."""


@dataclass(frozen=True)
class Outcome:
    """The version a request produced, or found already made (`duplicate`) when the request was repeated."""

    submission: BidSubmission
    duplicate: bool = False


# Reading -------------------------------------------------------------------------------------------------

def receipt_time(moment: datetime | None) -> str:
    """'3 March 2027 at 2:05:09pm', UK time to the second: a receipt must say exactly when."""
    local = london(moment)
    if local is None:
        return ""
    return f"{local.day} {local:%B %Y} at {local.hour % 12 or 12}:{local:%M:%S}{'am' if local.hour < 12 else 'pm'}"


def latest_submission(bid: Bid) -> BidSubmission | None:
    return max(bid.submissions, key=lambda s: s.number, default=None)


def counting_submission(bid: Bid) -> BidSubmission | None:
    """The version that counts: the latest, unless the organisation withdrew it (then none does)."""
    latest = latest_submission(bid)
    return latest if latest is not None and latest.withdrawn_at is None else None


def counting_submissions_statement(opportunity_id: int) -> sa.Select:
    """For opening (the evaluation issue): each bid's counting version on an opportunity, in one query."""
    latest = (sa.select(BidSubmission.bid_id, sa.func.max(BidSubmission.number).label("number"))
              .group_by(BidSubmission.bid_id).subquery())
    return (sa.select(BidSubmission)
            .join(latest, sa.and_(latest.c.bid_id == BidSubmission.bid_id, latest.c.number == BidSubmission.number))
            .join(Bid, Bid.id == BidSubmission.bid_id)
            .where(Bid.opportunity_id == opportunity_id, BidSubmission.withdrawn_at.is_(None))
            .order_by(BidSubmission.bid_id))


def get_version(bid: Bid, number: int) -> BidSubmission | None:
    return next((s for s in bid.submissions if s.number == number), None)


def sealed_content(sealed: BidSubmission) -> dict:
    """A version's content exactly as it was sealed (the text its SHA-256 covers), for showing read-only."""
    return json.loads(sealed.content)


def opportunity_of(bid: Bid) -> Opportunity:
    return db.session.get(Opportunity, bid.opportunity_id)


def open_refusal(opportunity: Opportunity, now: datetime) -> str | None:
    """Why no bid can be submitted or withdrawn on this opportunity now, or None while it is open."""
    if opportunity.status == lifecycle.CANCELLED:
        return "This opportunity was cancelled, so bids can no longer be submitted or withdrawn."
    deadline = opportunity.submission_deadline
    if deadline is None or now >= deadline or opportunity.status != lifecycle.PUBLISHED:
        return ("The deadline for this opportunity has passed. Bids can no longer be submitted, changed or "
                "withdrawn.")
    return None


def eligibility_refusal(opportunity: Opportunity, organisation: Organisation | None) -> str | None:
    if organisation is None:
        return "Your organisation could not be found."
    return rules.eligibility_problem(opportunity.reservation, organisation.kent_based, organisation.is_sme,
                                     organisation.is_vcse)


@dataclass(frozen=True)
class Review:
    """Everything the check-your-answers page shows."""

    opportunity: Opportunity
    snapshot: snapshot.Snapshot
    missing: list[rules.Missing]
    refusal: str | None  # why it cannot be submitted now, whatever its content
    editable: bool
    latest: BidSubmission | None
    counting: BidSubmission | None

    @property
    def content(self) -> dict:
        """The content as it would be sealed now, in the same plain form a version page reads back."""
        return json.loads(rules.canonical_json(self.snapshot.content))

    @property
    def can_submit(self) -> bool:
        return self.editable and self.refusal is None and not self.missing


def review(bid: Bid, now: datetime) -> Review:
    opportunity = opportunity_of(bid)
    taken = snapshot.take(bid, opportunity)
    refusal = open_refusal(opportunity, now) or eligibility_refusal(
        opportunity, db.session.get(Organisation, bid.organisation_id))
    return Review(opportunity, taken, taken.missing(), refusal, bid.status in rules.EDITABLE,
                  latest_submission(bid), counting_submission(bid))


# Use cases -----------------------------------------------------------------------------------------------

def submit(user: Any, bid: Bid, version: int | None) -> Outcome:
    """Seal the bid as a new numbered version with its receipt, or refuse whole. `version` is the bid's version
    the user checked; a repeated request for a bid already submitted returns that submission."""
    if not is_bidder(user, bid):
        raise NotBidder("Only members of the organisation that owns this bid can submit it.")
    bid_id = bid.id
    try:
        return _seal(user, bid, version)
    except (StaleDataError, IntegrityError):  # another request for this bid committed first
        db.session.rollback()
    return _repeat_of_submit(bid_id)


def withdraw(user: Any, bid: Bid, number: int | None) -> Outcome:
    """Withdraw the latest version (the one numbered `number`, as shown to the user) before the deadline; the bid
    becomes editable again. Repeating the request changes nothing."""
    if not is_bidder(user, bid):
        raise NotBidder("Only members of the organisation that owns this bid can withdraw it.")
    bid_id = bid.id
    try:
        return _withdraw(user, bid, number)
    except StaleDataError:
        db.session.rollback()
    return _repeat_of_withdraw(bid_id, number)


def _seal(user: Any, bid: Bid, version: int | None) -> Outcome:
    opportunity, bid = _lock(bid)
    latest = latest_submission(bid)
    if bid.status == rules.SUBMITTED and latest is not None and latest.withdrawn_at is None:
        db.session.rollback()  # a repeat of a submission that has already landed
        return Outcome(latest, duplicate=True)
    canonical = rules.canonical_json(_sealable_content(opportunity, bid, version))
    sealed = BidSubmission(bid_id=bid.id, number=(latest.number if latest else 0) + 1, submitted_at=utcnow(),
                           submitted_by_id=user.id, sha256=rules.receipt_hash(canonical), content=canonical)
    db.session.add(sealed)
    bid.status = rules.SUBMITTED
    audit.record("bid.submitted", "bid", bid.id, actor=user,
                 details={"version": sealed.number, "sha256": sealed.sha256})
    sealed.submitted_at = _judged_at_commit(opportunity)
    notice = Notice.of(user, opportunity, bid, sealed, sealed.submitted_at)
    db.session.commit()
    _send_receipt(notice)
    return Outcome(sealed)


def _sealable_content(opportunity: Opportunity, bid: Bid, version: int | None) -> dict:
    """The content to seal, once every rule allows it; otherwise the transaction ends and the refusal says why."""
    _check_open(opportunity, bid, "submit")
    _refuse_if(STALE_MESSAGE if version != bid.version else None)
    _refuse_if(eligibility_refusal(opportunity, db.session.get(Organisation, bid.organisation_id)))
    taken = snapshot.take(bid, opportunity)
    missing = taken.missing()
    if missing:
        db.session.rollback()
        raise Incomplete(missing)
    return taken.content


def _withdraw(user: Any, bid: Bid, number: int | None) -> Outcome:
    opportunity, bid = _lock(bid)
    latest = latest_submission(bid)
    if bid.status == rules.WITHDRAWN and latest is not None and latest.number == number:
        db.session.rollback()
        return Outcome(latest, duplicate=True)
    _check_open(opportunity, bid, "withdraw")
    _refuse_if(STALE_WITHDRAW_MESSAGE if latest is None or latest.number != number else None)
    bid.status = rules.WITHDRAWN
    latest.withdrawn_at = utcnow()
    audit.record("bid.withdrawn", "bid", bid.id, actor=user, details={"version": latest.number})
    latest.withdrawn_at = _judged_at_commit(opportunity)
    notice = Notice.of(user, opportunity, bid, latest, latest.withdrawn_at)
    db.session.commit()
    _send_withdrawal(notice)
    return Outcome(latest)


def _lock(bid: Bid) -> tuple[Opportunity, Bid]:
    """Re-read the opportunity (shared lock: its deadline cannot move) and the bid (update lock) in this
    transaction, with everything the seal reads."""
    opportunity = db.session.execute(
        sa.select(Opportunity).where(Opportunity.id == bid.opportunity_id)
        .with_for_update(read=True).execution_options(populate_existing=True)
    ).scalar_one()
    locked = db.session.execute(
        sa.select(Bid).where(Bid.id == bid.id)
        .options(*(selectinload(getattr(Bid, name)) for name in
                   ("answers", "price_lines", "commitments", "members", "documents", "submissions")))
        .with_for_update().execution_options(populate_existing=True)
    ).scalar_one()
    return opportunity, locked


def _refuse_if(message: str | None) -> None:
    """End the transaction (releasing the locks) and refuse with the message."""
    if message:
        db.session.rollback()
        raise SubmissionRefused(message)


def _check_open(opportunity: Opportunity, bid: Bid, action: str) -> None:
    now = utcnow()
    _refuse_if(open_refusal(opportunity, now))
    try:
        rules.bidder_transition(bid.status, action, opportunity.submission_deadline, now)
    except rules.BidRefused as refused:
        _refuse_if(refused.message)


def _judged_at_commit(opportunity: Opportunity) -> datetime:
    """The server time the change is recorded at, read after everything else is written and just before the
    commit: at or after the deadline, the whole change is rolled back and refused."""
    now = utcnow()
    _refuse_if(open_refusal(opportunity, now))
    return now


def _repeat_of_submit(bid_id: int) -> Outcome:
    bid = _reload(bid_id)
    latest = latest_submission(bid)
    if bid.status == rules.SUBMITTED and latest is not None and latest.withdrawn_at is None:
        return Outcome(latest, duplicate=True)
    raise SubmissionRefused(STALE_MESSAGE)


def _repeat_of_withdraw(bid_id: int, number: int | None) -> Outcome:
    bid = _reload(bid_id)
    latest = latest_submission(bid)
    if bid.status == rules.WITHDRAWN and latest is not None and latest.number == number:
        return Outcome(latest, duplicate=True)
    raise SubmissionRefused(STALE_WITHDRAW_MESSAGE)


def _reload(bid_id: int) -> Bid:
    return db.session.execute(sa.select(Bid).where(Bid.id == bid_id).options(selectinload(Bid.submissions))
                              .execution_options(populate_existing=True)).scalar_one()


# Email ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Notice:
    """What a receipt or withdrawal email says, read before the commit (which expires every loaded row)."""

    organisation_id: int
    actor_email: str
    actor_name: str
    opportunity_id: int
    reference: str
    title: str
    deadline: str
    number: int
    sha256: str
    at: str  # UK time to the second

    @classmethod
    def of(cls, user: Any, opportunity: Opportunity, bid: Bid, version: BidSubmission, at: datetime) -> "Notice":
        return cls(bid.organisation_id, user.email, user.full_name, opportunity.id, opportunity.reference,
                   opportunity.title, format_london(opportunity.submission_deadline), version.number,
                   version.sha256, receipt_time(at))


def receipt_recipients(actor_email: str, organisation_id: int) -> list[str]:
    """The person who acted, and the organisation's owners (each once)."""
    owners = db.session.execute(
        sa.select(User.email).join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id == organisation_id, Membership.role == MEMBER_OWNER,
               User.deactivated_at.is_(None)).order_by(User.email)
    ).scalars()
    return list(dict.fromkeys([actor_email, *owners]))


def _send_each(notice: Notice, subject: str, template: str, link: str) -> None:
    """One email per person; a failed delivery is logged and does not undo the change."""
    for address in receipt_recipients(notice.actor_email, notice.organisation_id):
        try:
            send_email(address, subject, template, notice=notice, link=link)
        except (smtplib.SMTPException, OSError):
            current_app.logger.exception("Could not send %s email to %s", template, address)


def _send_receipt(notice: Notice) -> None:
    _send_each(notice, f"Bid submitted: {notice.reference} (version {notice.number})", "bid_submitted",
               absolute_url("bids.version", opportunity_id=notice.opportunity_id, number=notice.number))


def _send_withdrawal(notice: Notice) -> None:
    _send_each(notice, f"Bid withdrawn: {notice.reference} (version {notice.number})", "bid_withdrawn",
               absolute_url("bids.check", opportunity_id=notice.opportunity_id))


# The provider dashboard ----------------------------------------------------------------------------------

OPEN, CLOSED, CANCELLED = "open", "closed", "cancelled"


@dataclass(frozen=True)
class DashboardGroup:
    key: str
    heading: str
    statuses: frozenset[str]
    phase: str  # open | closed | cancelled: where the opportunity is


DASHBOARD_GROUPS: tuple[DashboardGroup, ...] = (
    DashboardGroup("to_submit", "Not submitted yet", frozenset({rules.DRAFT, rules.WITHDRAWN}), OPEN),
    DashboardGroup("submitted", "Submitted", frozenset({rules.SUBMITTED}), OPEN),
    DashboardGroup("awaiting", "Closed: waiting for the outcome",
                   frozenset({rules.SUBMITTED, rules.OPENED, rules.COMPLIANT, rules.EVALUATED}), CLOSED),
    DashboardGroup("outcome", "Outcome known",
                   frozenset({rules.SUCCESSFUL, rules.UNSUCCESSFUL, rules.EXCLUDED}), CLOSED),
    DashboardGroup("missed", "Not submitted by the deadline", frozenset({rules.DRAFT, rules.WITHDRAWN}), CLOSED),
    DashboardGroup("cancelled", "Opportunity cancelled", frozenset(rules.STATUS_LABELS), CANCELLED),
)
FALLBACK_GROUP = DASHBOARD_GROUPS[2]


def _phase_condition(phase: str, now: datetime) -> sa.ColumnElement[bool]:
    is_open = sa.and_(Opportunity.status == lifecycle.PUBLISHED, Opportunity.submission_deadline > now)
    return {OPEN: is_open, CANCELLED: Opportunity.status == lifecycle.CANCELLED,
            CLOSED: sa.and_(sa.not_(is_open), Opportunity.status != lifecycle.CANCELLED)}[phase]


# The indexes the dashboard reads (migrations 0010 and 0011), declared here so the models match the migrated schema:
# each bid's opportunity state, and an organisation's bids with what the order needs, both read from an index alone.
OPPORTUNITY_STATE_INDEX = sa.Index("ix_opportunities_id_state", Opportunity.id,
                                   postgresql_include=["status", "submission_deadline"])
ORGANISATION_BIDS_INDEX = sa.Index("ix_bids_organisation_listing", Bid.organisation_id, Bid.opportunity_id,
                                   Bid.status, Bid.id)


def dashboard_count(organisation_id: int) -> sa.Select:
    """How many bids the dashboard lists: counted from the bids' own index, without the join the order needs."""
    return sa.select(sa.func.count()).select_from(Bid).where(Bid.organisation_id == organisation_id)


@cache
def _dashboard_page() -> sa.Select:
    """One page of the dashboard in one statement, built once (building its CASE costs more than running it), with
    the organisation, the time, the page's size and offset as parameters.

    The inner query orders the organisation's bids by group (`DASHBOARD_GROUPS`, in order), then deadline,
    reading only the two indexes, and counts them all (the window runs before the limit). The outer query adds
    the page's rows' titles and latest versions: twenty lookups by key, not the texts of every bid's opportunity.
    """
    now = sa.bindparam("now", type_=Opportunity.submission_deadline.type)
    rank = sa.case(*((sa.and_(Bid.status.in_(sorted(g.statuses)), _phase_condition(g.phase, now)), position)
                     for position, g in enumerate(DASHBOARD_GROUPS)),
                   else_=DASHBOARD_GROUPS.index(FALLBACK_GROUP))
    page = (sa.select(Bid.id.label("bid_id"), Bid.status, Bid.opportunity_id, rank.label("position"),
                      Opportunity.submission_deadline, sa.func.count().over().label("total"))
            .join(Opportunity, Opportunity.id == Bid.opportunity_id)
            .where(Bid.organisation_id == sa.bindparam("organisation_id"))
            .order_by(rank, Opportunity.submission_deadline, Bid.id)
            .limit(sa.bindparam("limit", type_=sa.Integer)).offset(sa.bindparam("offset", type_=sa.Integer))
            ).subquery("page")
    versions = BidSubmission.__table__.alias("versions")
    latest = sa.select(sa.func.max(versions.c.number)).where(versions.c.bid_id == page.c.bid_id).scalar_subquery()
    return (sa.select(page.c.bid_id, page.c.status, page.c.position, page.c.total, Opportunity.id,
                      Opportunity.title, Opportunity.reference, Opportunity.status, Opportunity.submission_deadline,
                      BidSubmission.number, BidSubmission.submitted_at, BidSubmission.sha256,
                      BidSubmission.withdrawn_at)
            .join(Opportunity, Opportunity.id == page.c.opportunity_id)
            .outerjoin(BidSubmission, sa.and_(BidSubmission.bid_id == page.c.bid_id, BidSubmission.number == latest))
            .order_by(page.c.position, page.c.submission_deadline, page.c.bid_id))


class DashboardBid(NamedTuple):
    id: int
    status: str


class DashboardOpportunity(NamedTuple):
    id: int
    title: str
    reference: str
    status: str
    submission_deadline: datetime | None


class DashboardVersion(NamedTuple):
    """A version's receipt: never its sealed content."""
    number: int
    submitted_at: datetime
    sha256: str
    withdrawn_at: datetime | None


class DashboardRow(NamedTuple):
    bid: DashboardBid
    opportunity: DashboardOpportunity
    group: DashboardGroup
    latest: DashboardVersion | None

    @property
    def counting(self) -> DashboardVersion | None:
        """The version that counts: the latest, unless it was withdrawn."""
        return self.latest if self.latest is not None and self.latest.withdrawn_at is None else None


def dashboard_page(organisation_id: int, now: datetime, limit: int, offset: int) -> tuple[list[DashboardRow], int]:
    """A page of the organisation's bids in dashboard order, and how many there are in all: one query, plain rows
    (only what the dashboard shows), whatever the page size. Past the last page there are no rows to carry the
    total, so it is counted on its own."""
    rows = db.session.execute(_dashboard_page(), {"organisation_id": organisation_id, "now": now,
                                                  "limit": limit, "offset": offset}).all()
    if not rows:
        return [], db.session.execute(dashboard_count(organisation_id)).scalar_one() if offset else 0
    return [_dashboard_row(row) for row in rows], rows[0].total


def _dashboard_row(row: sa.Row) -> DashboardRow:
    (bid_id, status, position, _total, opportunity_id, title, reference, opportunity_status, deadline,
     number, submitted_at, sha256, withdrawn_at) = row
    return DashboardRow(DashboardBid(bid_id, status),
                        DashboardOpportunity(opportunity_id, title, reference, opportunity_status, deadline),
                        DASHBOARD_GROUPS[position],
                        None if number is None else DashboardVersion(number, submitted_at, sha256, withdrawn_at))
