"""Bid preparation: start a bid, and save each section of the organisation's shared working copy.

Every save is one transaction. It re-reads the opportunity under a shared lock (so an amendment cannot move the
deadline meanwhile), checks that the bid may still be changed (the bidder's organisation, before the deadline by
the server clock, and a status in rules.EDITABLE), refuses a form loaded before a colleague's save (the bid's
version: an optimistic lock), writes, records an audit event that names only the section (never bid content:
bids are sealed), checks the clock again and commits.

Saves that replace what is on a page (an answer, the price, the declarations...) carry the version the page was
loaded with. Adding or removing one row (a price line, a commitment, a member, a document) overwrites nothing a
colleague wrote, so it is not refused for an out-of-date page; it still moves the version on, and two concurrent
writes to the same bid cannot both commit (the version column makes the second fail).

A written answer, which the answer page saves every few seconds while its user types, is saved by bids.answering:
the same rules (the functions here), read and written in plain statements rather than through the loaded bid.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Callable, Iterable

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from marketplace import audit, documents
from marketplace.accounts.models import User
from marketplace.bids import measures, permissions, rules, snapshot
from marketplace.bids.models import (
    Bid,
    BidAnswer,
    BidDocument,
    BidSubmission,
    ConsortiumMember,
    PriceLine,
    SocialValueCommitment,
)
from marketplace.errors import DomainError
from marketplace.evaluation import model_rules
from marketplace.extensions import db, on_postgresql
from marketplace.forms import MONEY_MAX
from marketplace.opportunities import lifecycle
from marketplace.opportunities import permissions as opportunity_perms
from marketplace.opportunities.models import Criterion, EvaluationModel, Opportunity
from marketplace.opportunities.services import pounds
from marketplace.organisations.choices import ORGANISATION_TYPES, SIZES
from marketplace.organisations.models import LEGAL_NAME_MAX, Organisation
from marketplace.timeutil import format_london, utcnow

PENNY = Decimal("0.01")
SHARE_PLACES = Decimal("0.000001")
ANSWER_MAX_CHARS = 60_000  # well above the longest word limit (5,000 words); stops absurd posts
NOTE_MAX = 2000
NOTES_MAX = 4000
COUNT_MAX = 10_000  # Kent-resident jobs or apprenticeships on one contract
QUANTITY_MAX = Decimal("1000000000")
ROWS_MAX = {"price_lines": 200, "commitments": 100, "members": 50, "documents": 50}
SEARCH_MIN = 3
SEARCH_LIMIT = 10

CONSORTIUM_MEMBER, SUBCONTRACTOR = "consortium_member", "subcontractor"
MEMBER_ROLES = {CONSORTIUM_MEMBER: "Consortium member", SUBCONTRACTOR: "Subcontractor"}
CONFLICT_CHOICES = {"none": "No, we have no conflicts of interest",
                    "declared": "Yes, we have a conflict of interest to declare"}

NOT_STARTED, IN_PROGRESS, COMPLETED, CANNOT_START = "Not started", "In progress", "Completed", "Cannot start yet"

STALE_MESSAGE = "A colleague changed this section at {when}. Your text is below: copy it, then reload"
NO_ORGANISATION = ("Bids are made on behalf of an organisation. Register your organisation, or ask a colleague who "
                   "has registered it to invite you, before you start a bid.")
SUBMITTED_MESSAGE = ("Your bid has been submitted, so it cannot be changed. To change it, withdraw it first; you "
                     "can then change it and submit it again before the deadline.")


# Errors -------------------------------------------------------------------------------------------------

class NotABidder(DomainError):
    """The user is not a member of the bid's organisation (the view answers 404)."""

    def __init__(self):
        super().__init__("This bid does not exist.")


class StaleBid(DomainError):
    """A colleague saved the bid after this page was loaded."""

    def __init__(self, changed_at: datetime | None, field: str | None = None):
        super().__init__(STALE_MESSAGE.format(when=f"{format_london(changed_at or utcnow())} (UK time)"), field)


# Input --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PriceLineDetails:
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal


@dataclass(frozen=True)
class CommitmentDetails:
    measure: str
    quantity: Decimal
    description: str


@dataclass(frozen=True)
class LocalEconomyDetails:
    kent_share: Decimal  # 0..1
    kent_jobs: int
    kent_apprenticeships: int
    notes: str = ""


@dataclass(frozen=True)
class MemberDetails:
    name: str
    org_type: str
    size: str | None
    kent_based: bool
    role: str
    share: Decimal  # 0..1
    linked_organisation_id: int | None = None


@dataclass(frozen=True)
class DeclarationDetails:
    conflicts: str | None
    conflict_details: str
    no_exclusion_grounds: bool
    accurate: bool


# Rules that decide what a page says (plain objects in, words out) --------------------------------------------

def _uk(moment: datetime | None) -> str:
    return f"{format_london(moment)} (UK time)" if moment else "an earlier date"


def start_refusal(opportunity: Any, organisation: Any, now: datetime) -> str | None:
    """Why this organisation cannot start a bid for this opportunity now, or None."""
    if organisation is None:
        return NO_ORGANISATION
    if not opportunity_perms.is_public(opportunity, now):
        return "This opportunity is not open for bids."
    state = lifecycle.effective_state(opportunity.status, opportunity.submission_deadline, now)
    if state == lifecycle.CANCELLED:
        return "This opportunity was cancelled, so it is not taking bids."
    if state != lifecycle.PUBLISHED or opportunity.submission_deadline is None:
        return f"Bids closed on {_uk(opportunity.submission_deadline)}. This opportunity is no longer taking bids."
    return rules.eligibility_problem(opportunity.reservation, organisation.kent_based, organisation.is_sme,
                                     organisation.is_vcse)


def edit_refusal(bid: Any, opportunity: Any, now: datetime) -> str | None:
    """Why the bid cannot be changed now, or None while its organisation may still prepare it."""
    if opportunity.status == lifecycle.CANCELLED:
        return "This opportunity was cancelled, so bids can no longer be changed."
    deadline = opportunity.submission_deadline
    if deadline is None or now >= deadline or opportunity.status != lifecycle.PUBLISHED:
        return f"The deadline for bids passed on {_uk(deadline)}. Your bid can no longer be changed."
    if bid.status == rules.SUBMITTED:
        return SUBMITTED_MESSAGE
    if bid.status not in rules.EDITABLE:
        return f"This bid is {rules.STATUS_LABELS.get(bid.status, bid.status).lower()}, so it cannot be changed."
    return None


def late_message(opportunity: Any) -> str:
    return f"The deadline for bids passed on {_uk(opportunity.submission_deadline)}. Your changes were not saved."


# Which questions a bid answers -------------------------------------------------------------------------

@dataclass(frozen=True)
class Question:
    """A criterion as this bid meets it; `label` names the lot when a lot has its own model."""

    criterion: Criterion
    label: str

    @property
    def id(self) -> int:
        return self.criterion.id

    @property
    def section(self) -> str:
        return f"answer-{self.criterion.id}"


def waiting_for_lots(opportunity: Any, bid: Any) -> bool:
    """An opportunity with lots asks its questions once the bidder has chosen lots."""
    return bool(opportunity.lots) and not snapshot.chosen_lots(opportunity, bid.lot_ids)


def questions(opportunity: Any, bid: Any) -> list[Question]:
    """Every criterion this bid meets (snapshot.applicable_criteria: the same ones the submission checks and
    seals), labelled with its lot when a lot has its own model."""
    if waiting_for_lots(opportunity, bid):
        return []
    lot_numbers = {lot.id: lot.number for lot in opportunity.lots}
    chosen = [lot.id for lot in snapshot.chosen_lots(opportunity, bid.lot_ids)]
    found = []
    for criterion in snapshot.applicable_criteria(opportunity, chosen):
        lot_id = criterion.model.lot_id
        label = f"Lot {lot_numbers[lot_id]}: {criterion.title}" if lot_id in lot_numbers else criterion.title
        found.append(Question(criterion, label))
    return found


def pass_fail_questions(opportunity: Any, bid: Any) -> list[Question]:
    return [q for q in questions(opportunity, bid) if q.criterion.kind == model_rules.PASS_FAIL]


def answer_questions(opportunity: Any, bid: Any) -> list[Question]:
    return [q for q in questions(opportunity, bid) if snapshot.asks_for_text(q.criterion)]


def answer_question(opportunity: Any, bid: Any, criterion_id: int) -> Question | None:
    return next((q for q in answer_questions(opportunity, bid) if q.id == criterion_id), None)


# Money and shares ----------------------------------------------------------------------------------------

def line_total(line: Any) -> Decimal:
    return (Decimal(line.quantity) * Decimal(line.unit_price)).quantize(PENNY, ROUND_HALF_UP)


def schedule_total(bid: Any) -> Decimal:
    return sum((line_total(line) for line in bid.price_lines), Decimal(0))


def price_difference(bid: Any) -> Decimal | None:
    """The total minus the schedule's sum, when there is a schedule and a total that differ."""
    if not bid.price_lines or bid.price_total is None:
        return None
    difference = Decimal(bid.price_total) - schedule_total(bid)
    return difference if difference else None


def percent(share: Decimal | None) -> str:
    """0.125 -> '12.5%'."""
    if share is None:
        return ""
    value = (Decimal(share) * 100).normalize()
    return f"{value:f}%"


def shares_total(bid: Any, leave_out: Any = None) -> Decimal:
    return sum((Decimal(m.share) for m in bid.members if m is not leave_out), Decimal(0))


# The task list -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Task:
    section: str
    title: str
    status: str
    hint: str | None = None


def _answer_status(bid: Any, question: Question) -> str:
    text = saved_answer(bid, question.id)
    if not text.strip():
        return NOT_STARTED
    limit = question.criterion.word_limit
    return IN_PROGRESS if limit and rules.count_words(text) > limit else COMPLETED


def _confirmations_status(bid: Any, asked: list[Question]) -> str:
    confirmed = {a.criterion_id: a.confirmed for a in bid.answers}
    answered = [confirmed.get(q.id) for q in asked]
    if all(value is True for value in answered):
        return COMPLETED
    return NOT_STARTED if all(value is None for value in answered) else IN_PROGRESS


def _price_status(bid: Any) -> str:
    if bid.price_total is None:
        return IN_PROGRESS if bid.price_lines else NOT_STARTED
    return IN_PROGRESS if price_difference(bid) is not None else COMPLETED


def _local_economy_status(bid: Any) -> str:
    values = (bid.kent_share, bid.kent_jobs, bid.kent_apprenticeships)
    if all(value is None for value in values):
        return NOT_STARTED
    return COMPLETED if all(value is not None for value in values) else IN_PROGRESS


def _declarations_status(bid: Any) -> str:
    if bid.declared_conflicts in CONFLICT_CHOICES and bid.declared_no_exclusion_grounds and bid.declared_accurate:
        return COMPLETED
    started = bid.declared_conflicts or bid.declared_no_exclusion_grounds or bid.declared_accurate
    return IN_PROGRESS if started else NOT_STARTED


def _rows_status(rows: list, over: bool = False) -> str:
    if not rows:
        return NOT_STARTED
    return IN_PROGRESS if over else COMPLETED


def _question_tasks(opportunity: Any, bid: Any) -> list[Task]:
    if waiting_for_lots(opportunity, bid):
        return [Task("questions", "Eligibility and quality questions", CANNOT_START,
                     "Choose the lots you are bidding for first: the questions depend on them")]
    tasks = []
    asked = pass_fail_questions(opportunity, bid)
    if asked:
        tasks.append(Task("eligibility", "Eligibility and pass or fail questions",
                          _confirmations_status(bid, asked), f"{len(asked)} to confirm"))
    for question in answer_questions(opportunity, bid):
        limit = question.criterion.word_limit
        tasks.append(Task(question.section, question.label, _answer_status(bid, question),
                          f"Up to {limit:,} words" if limit else None))
    return tasks


# The sections after the questions: (section, title, status, hint). Each can always be started.
LATER_SECTIONS: tuple[tuple[str, str, Callable[[Any], str], str | None], ...] = (
    ("price", "Price", _price_status, "Your total price, and a price schedule if you have one"),
    ("social_value", "Social value commitments", lambda bid: _rows_status(bid.commitments),
     "What you will deliver for Kent communities, measured"),
    ("local_economy", "Local economy commitments", _local_economy_status,
     "Spend with Kent-based suppliers, Kent-resident jobs and apprenticeships"),
    ("consortium", "Consortium and subcontractors", lambda bid: _rows_status(bid.members, shares_total(bid) > 1),
     "Only if you will work with partners or subcontractors"),
    ("documents", "Supporting documents", lambda bid: _rows_status(bid.documents), "Optional"),
    ("declarations", "Declarations", _declarations_status, None),
)


def _lots_tasks(opportunity: Any, bid: Any) -> list[Task]:
    if not opportunity.lots:
        return []
    return [Task("lots", "Lots you are bidding for", COMPLETED if bid.lot_ids else NOT_STARTED)]


def tasks(opportunity: Any, bid: Any) -> list[Task]:
    """The bid's sections in order, each with its status (the GOV.UK task list)."""
    return (_lots_tasks(opportunity, bid) + _question_tasks(opportunity, bid)
            + [Task(section, title, status(bid), hint) for section, title, status, hint in LATER_SECTIONS])


def next_section(opportunity: Any, bid: Any, section: str) -> str | None:
    """The section after this one that can be started, or None at the end of the list. Only the questions can
    wait (for lots), so the later sections' statuses, and the rows they read, are not needed."""
    listed = [(task.section, task.status != CANNOT_START)
              for task in _lots_tasks(opportunity, bid) + _question_tasks(opportunity, bid)]
    listed += [(later[0], True) for later in LATER_SECTIONS]
    sections = [name for name, _ in listed]
    following = listed[sections.index(section) + 1:] if section in sections else []
    return next((name for name, startable in following if startable), None)


# Reading -------------------------------------------------------------------------------------------------

def organisation_of(user: Any) -> Organisation | None:
    membership = getattr(user, "membership", None) if getattr(user, "is_authenticated", False) else None
    return membership.organisation if membership is not None else None


def opportunity_with_questions(opportunity_id: int, lock: bool = False) -> Opportunity | None:
    """The opportunity with what a bid's pages ask of it (its lots, evaluation models and criteria), in one query:
    a handful of each, so joining them costs less than a second round trip.

    With `lock` (a request that is about to save) it is read under a shared lock, on PostgreSQL, held until the
    transaction ends: an amendment cannot change it meanwhile, so the save need not read it again."""
    statement = (sa.select(Opportunity).where(Opportunity.id == opportunity_id)
                 .options(joinedload(Opportunity.lots),
                          joinedload(Opportunity.models).joinedload(EvaluationModel.criteria)))
    lock = lock and on_postgresql()
    if lock:
        statement = statement.with_for_update(read=True, of=Opportunity)
    opportunity = db.session.execute(statement).unique().scalar_one_or_none()
    if lock and opportunity is not None:
        db.session.info[_SHARE_LOCKED] = (db.session().get_transaction(), opportunity.id)
    return opportunity


def find_bid(opportunity_id: int, organisation_id: int) -> Bid | None:
    return db.session.execute(sa.select(Bid).where(Bid.opportunity_id == opportunity_id,
                                                   Bid.organisation_id == organisation_id)).scalar_one_or_none()


def saved_answer(bid: Any, criterion_id: int) -> str:
    return next((a.text for a in bid.answers if a.criterion_id == criterion_id), "")


def last_saved_by(bid: Bid) -> str | None:
    """The name of the member who last saved the bid (a colleague in the same organisation)."""
    if bid.updated_by_id is None:
        return None
    user = db.session.get(User, bid.updated_by_id)
    return user.full_name if user is not None else None


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def find_organisations(term: str, exclude_id: int | None) -> list[tuple[int, str]]:
    """Registered organisations whose legal name contains the term: their id and legal name, nothing else."""
    term = " ".join((term or "").replace("\x00", " ").split())  # no name holds a NUL (PostgreSQL refuses one)
    if not SEARCH_MIN <= len(term) <= LEGAL_NAME_MAX:  # a longer term is in no name (and too long for LIKE)
        return []
    statement = (sa.select(Organisation.id, Organisation.legal_name)
                 .where(Organisation.legal_name.ilike(_like_pattern(term), escape="\\"))
                 .order_by(Organisation.legal_name).limit(SEARCH_LIMIT))
    if exclude_id is not None:
        statement = statement.where(Organisation.id != exclude_id)
    return [(row.id, row.legal_name) for row in db.session.execute(statement)]


def organisation_names(ids: Iterable[int | None]) -> dict[int, str]:
    """Legal names of linked organisations, and nothing more about them."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = db.session.execute(sa.select(Organisation.id, Organisation.legal_name).where(Organisation.id.in_(wanted)))
    return {row.id: row.legal_name for row in rows}


# The transaction ----------------------------------------------------------------------------------------

# Which opportunity this transaction read under a shared lock: (the transaction, the opportunity's id).
_SHARE_LOCKED = "bids.share_locked_opportunity"


def _lock_opportunity(opportunity_id: int) -> Opportunity:
    """Re-read the opportunity's own columns (an amendment may have moved the deadline) in this transaction; on
    PostgreSQL hold a shared lock until commit. Not needed when the page read it under that lock in this same
    transaction. Its lots and evaluation models, fixed once it is published, stay as the page loaded them rather
    than being read again."""
    opportunity = db.session.get(Opportunity, opportunity_id)
    if db.session.info.get(_SHARE_LOCKED) != (db.session().get_transaction(), opportunity_id):
        db.session.refresh(opportunity,
                           attribute_names=[column.key for column in sa.inspect(Opportunity).column_attrs],
                           with_for_update={"read": True})
    return opportunity


def commit_keeping_loaded() -> None:
    """Commit without expiring what the request has loaded: it was just written, under the locks, so the page
    that follows (the next section's address) can read it as committed instead of loading it all again."""
    session = db.session()
    keep, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = keep


def _refuse(error: DomainError) -> None:
    db.session.rollback()
    raise error


def _open_for_editing(user: Any, bid: Bid, version: int | None, field: str | None) -> Opportunity:
    if not permissions.is_bidder(user, bid):
        _refuse(NotABidder())
    opportunity = _lock_opportunity(bid.opportunity_id)
    refusal = edit_refusal(bid, opportunity, utcnow())
    if refusal:
        _refuse(DomainError(refusal))
    if version is not None and version != bid.version:
        _refuse(StaleBid(bid.updated_at, field))
    return opportunity


def _stale(bid: Bid, field: str | None) -> StaleBid:
    db.session.rollback()
    return StaleBid(bid.updated_at, field)


def _save(user: Any, bid: Bid, section: str, version: int | None, change: Callable[[Opportunity], Any],
          field: str | None = None) -> Any:
    """Check, change, touch the bid (its version moves on), audit, check the clock again, commit."""
    opportunity = _open_for_editing(user, bid, version, field)
    try:
        result = change(opportunity)
        bid.updated_at = utcnow()
        bid.updated_by_id = user.id
        db.session.flush()
        audit.record("bid.section_saved", "bid", bid.id, actor=user, details={"section": section})
        if not permissions.can_prepare(user, bid, opportunity.submission_deadline, utcnow()):
            _refuse(DomainError(late_message(opportunity)))
        commit_keeping_loaded()
    except StaleDataError:
        raise _stale(bid, field) from None
    except DomainError:
        db.session.rollback()
        raise
    return result


def _answer_row(bid: Bid, criterion_id: int) -> BidAnswer:
    answer = next((a for a in bid.answers if a.criterion_id == criterion_id), None)
    if answer is None:
        answer = BidAnswer(criterion_id=criterion_id, text="")
        bid.answers.append(answer)
    return answer


def _text(value: str, limit: int, required: str, label: str, field: str) -> str:
    """Trimmed text within its column's length; DomainError naming the field otherwise."""
    value = (value or "").strip()
    if not value:
        raise DomainError(required, field)
    if len(value) > limit:
        raise DomainError(f"{label} must be {limit:,} characters or fewer", field)
    return value


def _check_room(rows: list, kind: str, what: str, field: str | None = None) -> None:
    if len(rows) >= ROWS_MAX[kind]:
        raise DomainError(f"A bid can have up to {ROWS_MAX[kind]} {what}. Remove one before adding another.", field)


# Starting -----------------------------------------------------------------------------------------------

def start_bid(user: Any, opportunity: Opportunity) -> tuple[Bid, bool]:
    """The organisation's bid for the opportunity, started now unless a colleague already started it.
    Returns (bid, started)."""
    organisation = organisation_of(user)
    if organisation is None:
        raise DomainError(NO_ORGANISATION)
    existing = find_bid(opportunity.id, organisation.id)
    if existing is not None:
        return existing, False
    opportunity = _lock_opportunity(opportunity.id)
    refusal = start_refusal(opportunity, organisation, utcnow())
    if refusal:
        _refuse(DomainError(refusal))
    bid = Bid(opportunity_id=opportunity.id, organisation_id=organisation.id, status=rules.DRAFT, lot_ids=[],
              updated_by_id=user.id)
    db.session.add(bid)
    try:
        db.session.flush()
    except IntegrityError:  # a colleague started it a moment ago
        db.session.rollback()
        return find_bid(opportunity.id, organisation.id), False
    audit.record("bid.started", "bid", bid.id, actor=user, details={})
    db.session.commit()
    return bid, True


# Sections that replace what is on the page (they carry the version) ---------------------------------------

def save_lots(user: Any, bid: Bid, lot_ids: Iterable[int], version: int) -> None:
    chosen = set(lot_ids)

    def change(opportunity: Opportunity) -> None:
        if not chosen:
            raise DomainError("Select at least one lot", "lots")
        if chosen - {lot.id for lot in opportunity.lots}:
            raise DomainError("Select from the lots shown", "lots")
        bid.lot_ids = [lot.id for lot in opportunity.lots if lot.id in chosen]

    _save(user, bid, "lots", version, change, "lots")


def save_confirmations(user: Any, bid: Bid, confirmations: dict[int, tuple[bool | None, str]],
                       version: int) -> None:
    """Pass or fail questions: yes, no or not yet answered, each with an optional note."""

    def change(opportunity: Opportunity) -> None:
        asked = {q.id for q in pass_fail_questions(opportunity, bid)}
        if set(confirmations) - asked:
            raise DomainError("Answer only the questions shown")
        for criterion_id, (confirmed, note) in confirmations.items():
            if len(note or "") > NOTE_MAX:
                raise DomainError(f"Each note must be {NOTE_MAX:,} characters or fewer", f"note_{criterion_id}")
            answer = _answer_row(bid, criterion_id)
            answer.confirmed, answer.text = confirmed, note or ""

    _save(user, bid, "eligibility", version, change)


def word_limit_error(text: str, limit: int | None) -> DomainError | None:
    words = rules.count_words(text)
    if not limit or words <= limit:
        return None
    extra = words - limit
    return DomainError(f"Your answer is {words:,} words. The limit is {limit:,} words: remove {extra:,} "
                       f"word{'' if extra == 1 else 's'}, then save again", "text")


def _money_error(value: Decimal | None, label: str, field: str) -> DomainError | None:
    if value is None:
        return DomainError(f"Enter {label}", field)
    if value <= 0:
        return DomainError(f"{label[0].upper()}{label[1:]} must be more than £0", field)
    if value > MONEY_MAX:
        return DomainError(f"{label[0].upper()}{label[1:]} is too large: check the number of zeros", field)
    return None


def save_price(user: Any, bid: Bid, total: Decimal | None, version: int) -> None:
    def change(opportunity: Opportunity) -> None:
        if error := _money_error(total, "your total price", "total"):
            raise error
        if bid.price_lines and schedule_total(bid) != total:
            scheduled = schedule_total(bid)
            raise DomainError(f"Your total price of {pounds(total)} does not match your price schedule, which adds up "
                              f"to {pounds(scheduled)}: a difference of {pounds(abs(total - scheduled))}. Make the "
                              "total match the schedule, or change the schedule.", "total")
        bid.price_total = total.quantize(PENNY)

    _save(user, bid, "price", version, change, "total")


def save_local_economy(user: Any, bid: Bid, details: LocalEconomyDetails, version: int) -> None:
    def change(opportunity: Opportunity) -> None:
        if not Decimal(0) <= details.kent_share <= Decimal(1):
            raise DomainError("Share of contract value spent in Kent must be between 0 and 100", "kent_share")
        for field, value in (("kent_jobs", details.kent_jobs), ("kent_apprenticeships", details.kent_apprenticeships)):
            if not isinstance(value, int) or not 0 <= value <= COUNT_MAX:
                raise DomainError(f"Enter a whole number between 0 and {COUNT_MAX:,}", field)
        if len(details.notes) > NOTES_MAX:
            raise DomainError(f"Notes must be {NOTES_MAX:,} characters or fewer", "notes")
        bid.kent_share = details.kent_share.quantize(SHARE_PLACES)
        bid.kent_jobs, bid.kent_apprenticeships = details.kent_jobs, details.kent_apprenticeships
        bid.local_economy_notes = details.notes

    _save(user, bid, "local_economy", version, change)


def save_declarations(user: Any, bid: Bid, details: DeclarationDetails, version: int) -> None:
    def change(opportunity: Opportunity) -> None:
        if details.conflicts not in CONFLICT_CHOICES:
            raise DomainError("Select whether you have any conflicts of interest", "conflicts")
        if details.conflicts == "declared" and not details.conflict_details.strip():
            raise DomainError("Give details of the conflict of interest", "conflict_details")
        if len(details.conflict_details) > NOTES_MAX:
            raise DomainError(f"Details of the conflict must be {NOTES_MAX:,} characters or fewer",
                              "conflict_details")
        bid.declared_conflicts = details.conflicts
        bid.conflict_details = details.conflict_details.strip() if details.conflicts == "declared" else ""
        bid.declared_no_exclusion_grounds = details.no_exclusion_grounds
        bid.declared_accurate = details.accurate

    _save(user, bid, "declarations", version, change)


# Rows: price lines and social value commitments -------------------------------------------------------------

def _positive(value: Decimal | None, label: str, field: str, maximum: Decimal) -> None:
    if value is None:
        raise DomainError(f"Enter the {label}", field)
    if value <= 0:
        raise DomainError(f"{label[0].upper()}{label[1:]} must be more than 0", field)
    if value > maximum:
        raise DomainError(f"{label[0].upper()}{label[1:]} is too large: check the number of zeros", field)


def add_price_line(user: Any, bid: Bid, line: PriceLineDetails) -> PriceLine:
    def change(opportunity: Opportunity) -> PriceLine:
        _check_room(bid.price_lines, "price_lines", "price schedule lines")
        description = _text(line.description, 300, "Enter a description of the line", "Description", "description")
        _positive(line.quantity, "quantity", "quantity", QUANTITY_MAX)
        if error := _money_error(line.unit_price, "the unit price", "unit_price"):
            raise error
        if len(line.unit or "") > 40:
            raise DomainError("Unit must be 40 characters or fewer", "unit")
        row = PriceLine(description=description, quantity=line.quantity.quantize(PENNY),
                        unit=(line.unit or "").strip(), unit_price=line.unit_price.quantize(PENNY),
                        position=max((p.position for p in bid.price_lines), default=0) + 1)
        if line_total(row) > MONEY_MAX:
            raise DomainError("The line's total is too large: check the quantity and unit price", "quantity")
        bid.price_lines.append(row)
        return row

    return _save(user, bid, "price", None, change)


def remove_price_line(user: Any, bid: Bid, line: PriceLine) -> None:
    _save(user, bid, "price", None, lambda opportunity: bid.price_lines.remove(line))


def add_commitment(user: Any, bid: Bid, details: CommitmentDetails) -> SocialValueCommitment:
    def change(opportunity: Opportunity) -> SocialValueCommitment:
        _check_room(bid.commitments, "commitments", "social value commitments")
        measure = measures.BY_CODE.get(details.measure)
        if measure is None:
            raise DomainError("Choose a measure from the list", "measure")
        _positive(details.quantity, "quantity", "quantity", QUANTITY_MAX)
        description = _text(details.description, 500, "Describe how you will deliver the commitment",
                            "How you will deliver it", "description")
        row = SocialValueCommitment(measure=measure.code, quantity=details.quantity.quantize(PENNY), unit=measure.unit,
                                    description=description)
        bid.commitments.append(row)
        return row

    return _save(user, bid, "social_value", None, change)


def remove_commitment(user: Any, bid: Bid, commitment: SocialValueCommitment) -> None:
    _save(user, bid, "social_value", None, lambda opportunity: bid.commitments.remove(commitment))


# Consortium members and subcontractors ---------------------------------------------------------------------

def _check_member(user: Any, bid: Bid, details: MemberDetails, leave_out: ConsortiumMember | None) -> None:
    _text(details.name, 160, "Enter the organisation's name", "Organisation name", "name")
    for field, value, choices, message in (
            ("org_type", details.org_type, ORGANISATION_TYPES, "Select the type of organisation"),
            ("size", details.size, SIZES, "Select the organisation's size"),
            ("role", details.role, MEMBER_ROLES, "Select whether it is a consortium member or a subcontractor")):
        if value not in choices:
            raise DomainError(message, field)
    if not Decimal(0) < details.share <= Decimal(1):
        raise DomainError("Share of contract value must be more than 0 and no more than 100", "share")
    others = shares_total(bid, leave_out)
    if others + details.share > 1:
        raise DomainError(f"Shares would add up to {percent(others + details.share)}, more than 100%. The other "
                          f"members and subcontractors already have {percent(others)}.", "share")
    _check_link(user, details.linked_organisation_id)


def _check_link(user: Any, organisation_id: int | None) -> None:
    if organisation_id is None:
        return
    own = organisation_of(user)
    if own is not None and organisation_id == own.id:
        raise DomainError("Your own organisation is the lead bidder: link a different organisation",
                          "linked_organisation")
    if db.session.get(Organisation, organisation_id) is None:
        raise DomainError("Select an organisation from the search results", "linked_organisation")


def _apply_member(member: ConsortiumMember, details: MemberDetails) -> None:
    member.name, member.org_type, member.size = details.name.strip(), details.org_type, details.size
    member.kent_based, member.role = details.kent_based, details.role
    member.share = details.share.quantize(SHARE_PLACES)
    member.linked_organisation_id = details.linked_organisation_id


def add_member(user: Any, bid: Bid, details: MemberDetails) -> ConsortiumMember:
    def change(opportunity: Opportunity) -> ConsortiumMember:
        _check_room(bid.members, "members", "consortium members and subcontractors")
        _check_member(user, bid, details, None)
        member = ConsortiumMember()
        _apply_member(member, details)
        bid.members.append(member)
        return member

    return _save(user, bid, "consortium", None, change)


def update_member(user: Any, bid: Bid, member: ConsortiumMember, details: MemberDetails, version: int) -> None:
    def change(opportunity: Opportunity) -> None:
        _check_member(user, bid, details, member)
        _apply_member(member, details)

    _save(user, bid, "consortium", version, change)


def remove_member(user: Any, bid: Bid, member: ConsortiumMember) -> None:
    _save(user, bid, "consortium", None, lambda opportunity: bid.members.remove(member))


# Documents ----------------------------------------------------------------------------------------------

def add_document(user: Any, bid: Bid, title: str, filename: str, data: bytes) -> BidDocument:
    """Check the file by its content and keep it outside static/, with its SHA-256."""
    stored_keys: list[str] = []

    def change(opportunity: Opportunity) -> BidDocument:
        _check_room(bid.documents, "documents", "documents", "file")
        clean_title = _text(title, 200, "Enter a title for the document", "Title", "title")
        stored = documents.store(filename, data)
        stored_keys.append(stored.storage_key)
        document = BidDocument(title=clean_title, filename=stored.filename, content_type=stored.content_type,
                               size=stored.size, sha256=stored.sha256, storage_key=stored.storage_key,
                               uploaded_by_id=user.id)
        bid.documents.append(document)
        return document

    try:
        return _save(user, bid, "documents", None, change)
    except Exception:
        for key in stored_keys:
            documents.path_for(key).unlink(missing_ok=True)
        raise


def _ever_submitted(bid: Bid) -> bool:
    return bool(db.session.execute(
        sa.select(sa.func.count(BidSubmission.id)).where(BidSubmission.bid_id == bid.id)).scalar_one())


def remove_document(user: Any, bid: Bid, document: BidDocument) -> None:
    """Remove it from the working copy. The file itself is kept when an earlier sealed version lists it."""
    key = document.storage_key
    _save(user, bid, "documents", None, lambda opportunity: bid.documents.remove(document))
    if not _ever_submitted(bid):
        documents.path_for(key).unlink(missing_ok=True)
