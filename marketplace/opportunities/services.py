"""Opportunity use cases for council staff: write a draft (details, timetable, lots, documents, evaluation
model), send it for approval, approve or return it, amend a published one, cancel, and close at the deadline.

Each use case takes explicit arguments, checks who may act, runs in one transaction and writes its audit event
in that transaction. Rules are refused with a DomainError naming the form field it is about.
"""

from __future__ import annotations

import smtplib
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Callable

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from marketplace import audit, documents
from marketplace.accounts.models import StaffRole, User
from marketplace.email import send_email
from marketplace.errors import DomainError
from marketplace.evaluation import model_rules
from marketplace.evaluation.access import conflicts_assessment_of
from marketplace.evaluation.templates import TEMPLATES, template_criteria
from marketplace.extensions import db
from marketplace.kent import COUNTY_WIDE
from marketplace.links import absolute_url
from marketplace.opportunities import lifecycle, permissions
from marketplace.opportunities.models import (
    RESERVATION_NONE,
    Amendment,
    Criterion,
    EvaluationModel,
    Lot,
    Opportunity,
    OpportunityDocument,
    Watch,
)
from marketplace.opportunities.references import next_reference
from marketplace.settings import services as settings
from marketplace.timeutil import format_london, london, utcnow

STALE_MESSAGE = ("Someone else changed this opportunity while you were editing it, so your changes were not saved. "
                 "Check the opportunity's current details; if you still want your changes, save them again.")
STAFF_ROLES = frozenset({lifecycle.COMMISSIONER, lifecycle.PROCUREMENT_OFFICER})
LOT_VALUE_MESSAGE = ("The lots add up to {lots}, more than the estimated total value of {total}. "
                     "Lower a lot's value or raise the total.")


# Errors -------------------------------------------------------------------------------------------------

class NotAllowed(DomainError):
    """This person may not do this at all (the view answers 403)."""


class Locked(DomainError):
    """The opportunity is no longer a draft, so it cannot be edited."""


class StaleEdit(DomainError):
    """The opportunity changed since the form was loaded."""

    def __init__(self):
        super().__init__(STALE_MESSAGE)


class Invalid(DomainError):
    """Several fields are wrong at once; `errors` holds one DomainError per problem."""

    def __init__(self, errors: list[DomainError]):
        super().__init__(errors[0].message, errors[0].field)
        self.errors = errors


@dataclass(frozen=True)
class Problem:
    """Something that stops an opportunity going for approval, and the page that fixes it."""

    section: str  # details | timetable | lots | documents | model | criterion
    message: str
    anchor: str | None = None
    model_id: int | None = None
    criterion_id: int | None = None


class NotReady(DomainError):
    def __init__(self, problems: list[Problem]):
        super().__init__("Fix these problems before the opportunity can go ahead")
        self.problems = problems


def _raise_if(errors: list[DomainError]) -> None:
    if errors:
        raise Invalid(errors)


# Input -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Details:
    title: str
    summary: str
    outcomes: tuple[str, ...]
    category: str
    localities: tuple[str, ...]
    estimated_value: Decimal
    contract_start: date | None
    contract_months: int | None
    procedure: str
    reservation: str
    contact_name: str
    contact_email: str


@dataclass(frozen=True)
class Timetable:
    publication_date: datetime | None
    clarification_deadline: datetime | None
    submission_deadline: datetime | None


@dataclass(frozen=True)
class LotDetails:
    number: int
    title: str
    description: str
    estimated_value: Decimal


@dataclass(frozen=True)
class CriterionDetails:
    kind: str
    title: str
    question: str = ""
    guidance: str = ""
    weight: Decimal | None = None
    scale_max: int = 5
    descriptors: tuple[str, ...] = ()
    min_score: Decimal | None = None
    word_limit: int | None = None
    method: str | None = None
    params: dict = field(default_factory=dict)
    scores_location: bool = False


@dataclass(frozen=True)
class AmendmentDetails:
    summary: str
    changes_requirements: bool
    new_deadline: datetime | None = None


# Small helpers ------------------------------------------------------------------------------------------

def pounds(value: Decimal) -> str:
    """£214,904 or £1,234.50."""
    return f"£{value:,.0f}" if value == value.to_integral_value() else f"£{value:,.2f}"


def _roles(user: Any) -> frozenset[str]:
    return frozenset(getattr(user, "roles", ())) & STAFF_ROLES


def is_commissioning_staff(user: Any) -> bool:
    """Commissioners and procurement officers: the people who use the commissioning pages."""
    return bool(getattr(user, "is_authenticated", False)) and bool(_roles(user))


def is_author(user: Any, opportunity: Opportunity) -> bool:
    return (lifecycle.COMMISSIONER in _roles(user) and opportunity.created_by_id is not None
            and opportunity.created_by_id == getattr(user, "id", None))


def locked_message(opportunity: Opportunity) -> str:
    if opportunity.model_frozen_at is not None:
        return (f"This opportunity was published on {format_london(opportunity.published_at)}, so its details and "
                "evaluation model are frozen: bidders rely on them. Change it by publishing an amendment notice.")
    if opportunity.status == lifecycle.AWAITING_APPROVAL:
        return "This opportunity is waiting for approval, so it cannot change. Return it to draft to change it."
    return (f"This opportunity is {lifecycle.STATE_LABELS.get(opportunity.status, opportunity.status).lower()}, "
            "so it cannot change.")


def _require_editable(user: Any, opportunity: Opportunity, version: int | None) -> None:
    if not is_author(user, opportunity):
        raise NotAllowed("Only the commissioner who wrote this opportunity can change it.")
    if not permissions.can_edit_draft(user, opportunity) or opportunity.model_frozen_at is not None:
        raise Locked(locked_message(opportunity))
    _check_version(opportunity, version)


def _check_version(opportunity: Opportunity, version: int | None) -> None:
    if version is not None and version != opportunity.version:
        raise StaleEdit()


def _touch(opportunity: Opportunity) -> None:
    """Mark the opportunity changed and write it now: its version goes up, so other open forms become stale,
    and a change someone else committed meanwhile is refused rather than overwritten."""
    opportunity.updated_at = utcnow()
    _stale_safe(db.session.flush)


def _commit() -> None:
    _stale_safe(db.session.commit)


def _stale_safe(write: Callable[[], None]) -> None:
    try:
        write()
    except StaleDataError:
        db.session.rollback()
        raise StaleEdit() from None


def _record(action: str, opportunity: Opportunity, user: Any, **details) -> None:
    audit.record(action, "opportunity", opportunity.id, actor=user,
                 details={"reference": opportunity.reference, **details})


def _next_state(opportunity: Opportunity, action: str, user: Any, reason: str | None = None) -> str:
    try:
        return lifecycle.next_state(opportunity.status, action, _roles(user), reason)
    except lifecycle.TransitionRefused as refused:
        about_reason = reason is not None and not reason.strip()
        raise DomainError(refused.message, "reason" if about_reason else None) from None


# Details ------------------------------------------------------------------------------------------------

def below_threshold(opportunity_value: Decimal) -> bool:
    return opportunity_value < settings.get("procurement_threshold")


def reservation_error(reservation: str, value: Decimal | None) -> DomainError | None:
    if reservation == RESERVATION_NONE or value is None or below_threshold(value):
        return None
    threshold = settings.get("procurement_threshold")
    return DomainError(f"Only opportunities below the {pounds(threshold)} threshold can be reserved. "
                       f"This one is estimated at {pounds(value)}.", "reservation")


def lots_total(opportunity: Opportunity, leave_out: Lot | None = None) -> Decimal:
    return sum((lot.estimated_value for lot in opportunity.lots if lot is not leave_out), Decimal(0))


def _lot_value_error(lots: Decimal, total: Decimal, field_name: str) -> DomainError | None:
    if lots <= total:
        return None
    return DomainError(LOT_VALUE_MESSAGE.format(lots=pounds(lots), total=pounds(total)), field_name)


def details_errors(details: Details, lots_value: Decimal) -> list[DomainError]:
    errors = []
    if COUNTY_WIDE in details.localities and len(details.localities) > 1:
        errors.append(DomainError("Choose county-wide or one or more districts, not both", "localities"))
    errors += [e for e in (reservation_error(details.reservation, details.estimated_value),
                           _lot_value_error(lots_value, details.estimated_value, "estimated_value")) if e]
    return errors


def _apply(row: Any, values: dict) -> list[str]:
    """Set attributes; returns the names that changed."""
    changed = []
    for name, value in values.items():
        value = list(value) if isinstance(value, tuple) else value
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed.append(name)
    return changed


def create_opportunity(user: Any, details: Details) -> Opportunity:
    if not permissions.can_create(user):
        raise NotAllowed("Only commissioners can create opportunities.")
    _raise_if(details_errors(details, Decimal(0)))
    opportunity = Opportunity(reference=next_reference(), created_by_id=user.id, status=lifecycle.DRAFT)
    _apply(opportunity, asdict(details))
    opportunity.models.append(EvaluationModel())
    db.session.add(opportunity)
    db.session.flush()
    _record("opportunity.created", opportunity, user, title=opportunity.title)
    db.session.commit()
    return opportunity


def update_details(user: Any, opportunity: Opportunity, details: Details, version: int | None) -> Opportunity:
    _require_editable(user, opportunity, version)
    _raise_if(details_errors(details, lots_total(opportunity)))
    changed = _apply(opportunity, asdict(details))
    if changed:
        _touch(opportunity)
        _record("opportunity.details_changed", opportunity, user, fields=changed)
    _commit()
    return opportunity


# Timetable ----------------------------------------------------------------------------------------------

def timetable_of(opportunity: Opportunity) -> Timetable:
    return Timetable(opportunity.publication_date, opportunity.clarification_deadline,
                     opportunity.submission_deadline)


def timetable_errors(timetable: Timetable, now: datetime, editing: bool = True) -> list[DomainError]:
    """The timetable rules. `editing` also refuses a publication date before today (at approval a past date
    simply means publish now)."""
    publication, clarification, submission = (timetable.publication_date, timetable.clarification_deadline,
                                              timetable.submission_deadline)
    missing = [DomainError(f"Enter the {label}", name) for name, label in (
        ("publication_date", "publication date"), ("clarification_deadline", "clarification deadline"),
        ("submission_deadline", "submission deadline")) if getattr(timetable, name) is None]
    if missing:
        return missing
    errors = []
    if editing and london(publication).date() < london(now).date():
        errors.append(DomainError("The publication date must be today or in the future", "publication_date"))
    errors += _deadline_errors(max(publication, now), clarification, submission, now)
    return errors


def _deadline_errors(start: datetime, clarification: datetime, submission: datetime,
                     now: datetime) -> list[DomainError]:
    tender_days = settings.get("minimum_tender_period_days")
    gap_days = settings.get("minimum_clarification_gap_days")
    earliest_submission = start + timedelta(days=tender_days)
    latest_clarification = submission - timedelta(days=gap_days)
    errors = []
    if submission <= now:
        errors.append(DomainError("The submission deadline must be in the future", "submission_deadline"))
    elif submission < earliest_submission:
        errors.append(DomainError(
            f"The submission deadline must be at least {tender_days} days after publication, so no earlier than "
            f"{format_london(earliest_submission)}", "submission_deadline"))
    if clarification <= now:
        errors.append(DomainError("The clarification deadline must be in the future", "clarification_deadline"))
    elif clarification <= start:
        errors.append(DomainError("The clarification deadline must be after publication", "clarification_deadline"))
    elif clarification > latest_clarification:
        errors.append(DomainError(
            f"The clarification deadline must be at least {gap_days} days before the submission deadline, so no "
            f"later than {format_london(latest_clarification)}", "clarification_deadline"))
    return errors


def update_timetable(user: Any, opportunity: Opportunity, timetable: Timetable, version: int | None,
                     now: datetime | None = None) -> Opportunity:
    _require_editable(user, opportunity, version)
    _raise_if(timetable_errors(timetable, now or utcnow()))
    changed = _apply(opportunity, asdict(timetable))
    if changed:
        _touch(opportunity)
        _record("opportunity.timetable_changed", opportunity, user,
                **{name: getattr(timetable, name).isoformat() for name in changed})
    _commit()
    return opportunity


# Lots ---------------------------------------------------------------------------------------------------

def _lot_errors(opportunity: Opportunity, details: LotDetails, lot: Lot | None) -> list[DomainError]:
    errors = []
    if any(other.number == details.number for other in opportunity.lots if other is not lot):
        errors.append(DomainError(f"There is already a lot {details.number}. Choose another number.", "number"))
    total = lots_total(opportunity, leave_out=lot) + details.estimated_value
    error = _lot_value_error(total, opportunity.estimated_value, "estimated_value")
    return errors + ([error] if error else [])


def add_lot(user: Any, opportunity: Opportunity, details: LotDetails, version: int | None) -> Lot:
    _require_editable(user, opportunity, version)
    _raise_if(_lot_errors(opportunity, details, None))
    lot = Lot(**asdict(details))
    opportunity.lots.append(lot)
    _touch(opportunity)
    db.session.flush()
    _record("opportunity.lot_added", opportunity, user, lot=lot.number, title=lot.title)
    _commit()
    return lot


def update_lot(user: Any, opportunity: Opportunity, lot: Lot, details: LotDetails, version: int | None) -> Lot:
    _require_editable(user, opportunity, version)
    _raise_if(_lot_errors(opportunity, details, lot))
    changed = _apply(lot, asdict(details))
    _touch(opportunity)
    _record("opportunity.lot_changed", opportunity, user, lot=lot.number, fields=changed)
    _commit()
    return lot


def model_for_lot(opportunity: Opportunity, lot: Lot) -> EvaluationModel | None:
    return next((model for model in opportunity.models if model.lot_id == lot.id), None)


def remove_lot(user: Any, opportunity: Opportunity, lot: Lot, version: int | None) -> None:
    _require_editable(user, opportunity, version)
    own_model = model_for_lot(opportunity, lot)
    if own_model is not None:
        opportunity.models.remove(own_model)
    opportunity.lots.remove(lot)
    _touch(opportunity)
    _record("opportunity.lot_removed", opportunity, user, lot=lot.number, title=lot.title)
    _commit()


def give_lot_its_own_model(user: Any, opportunity: Opportunity, lot: Lot, version: int | None) -> EvaluationModel:
    """The lot gets its own evaluation model, starting as a copy of the opportunity's."""
    _require_editable(user, opportunity, version)
    if model_for_lot(opportunity, lot) is not None:
        raise DomainError(f"Lot {lot.number} already has its own evaluation model.")
    main = opportunity.main_model
    model = EvaluationModel(lot_id=lot.id, low_public_value_reason=main.low_public_value_reason if main else None)
    model.criteria = [_copy_criterion(c) for c in (main.criteria if main else [])]
    opportunity.models.append(model)
    _touch(opportunity)
    db.session.flush()
    _record("evaluation.lot_model_added", opportunity, user, lot=lot.number, model_id=model.id)
    _commit()
    return model


def _copy_criterion(criterion: Criterion) -> Criterion:
    names = ("position", "kind", "title", "question", "guidance", "weight", "scale_max", "descriptors",
             "min_score", "word_limit", "method", "params", "scores_location")
    return Criterion(**{name: getattr(criterion, name) for name in names})


def use_main_model_for_lot(user: Any, opportunity: Opportunity, lot: Lot, version: int | None) -> None:
    _require_editable(user, opportunity, version)
    model = model_for_lot(opportunity, lot)
    if model is None:
        raise DomainError(f"Lot {lot.number} already uses the opportunity's evaluation model.")
    opportunity.models.remove(model)
    _touch(opportunity)
    _record("evaluation.lot_model_removed", opportunity, user, lot=lot.number)
    _commit()


# Documents ----------------------------------------------------------------------------------------------

def add_document(user: Any, opportunity: Opportunity, kind: str, title: str, filename: str, data: bytes,
                 version: int | None) -> OpportunityDocument:
    _require_editable(user, opportunity, version)
    stored = documents.store(filename, data)
    try:
        return _keep_document(user, opportunity, kind, title, stored)
    except Exception:  # refused or failed after the file was stored: the file goes too
        documents.path_for(stored.storage_key).unlink(missing_ok=True)
        raise


def _keep_document(user: Any, opportunity: Opportunity, kind: str, title: str,
                   stored: documents.StoredFile) -> OpportunityDocument:
    document = OpportunityDocument(kind=kind, title=title or stored.filename.rsplit(".", 1)[0],
                                   filename=stored.filename, content_type=stored.content_type, size=stored.size,
                                   sha256=stored.sha256, storage_key=stored.storage_key, uploaded_by_id=user.id)
    opportunity.documents.append(document)
    _touch(opportunity)
    db.session.flush()
    _record("opportunity.document_added", opportunity, user, document_id=document.id, kind=kind,
            filename=document.filename, sha256=document.sha256)
    _commit()
    return document


def remove_document(user: Any, opportunity: Opportunity, document: OpportunityDocument,
                    version: int | None) -> None:
    _require_editable(user, opportunity, version)
    key = document.storage_key
    opportunity.documents.remove(document)
    _touch(opportunity)
    _record("opportunity.document_removed", opportunity, user, document_id=document.id, filename=document.filename,
            sha256=document.sha256)
    _commit()
    documents.path_for(key).unlink(missing_ok=True)


# The evaluation model -----------------------------------------------------------------------------------

def criterion_spec(criterion: Criterion | CriterionDetails) -> model_rules.CriterionSpec:
    """The one converter from a stored (or typed) criterion to the rules' CriterionSpec."""
    return model_rules.CriterionSpec(
        kind=criterion.kind, title=criterion.title, weight=criterion.weight, scale_max=criterion.scale_max,
        min_score=criterion.min_score, word_limit=criterion.word_limit, method=criterion.method,
        params=dict(criterion.params or {}), scores_location=bool(criterion.scores_location))


def model_spec(model: EvaluationModel) -> model_rules.ModelSpec:
    return model_rules.ModelSpec(tuple(criterion_spec(c) for c in model.criteria), model.low_public_value_reason)


def rules_context(opportunity: Opportunity) -> model_rules.Context:
    return model_rules.Context(reservation=opportunity.reservation,
                               below_threshold=below_threshold(opportunity.estimated_value))


def model_summary(opportunity: Opportunity, model: EvaluationModel) -> dict:
    """What the model page shows: the running total and every problem the rules find."""
    spec = model_spec(model)
    return {"total": model_rules.total_weight(spec), "public_value": model_rules.public_value_weight(spec),
            "problems": model_rules.model_problems(spec, rules_context(opportunity))}


def _criterion_errors(opportunity: Opportunity, details: CriterionDetails) -> list[DomainError]:
    fields = {"method": "price_method" if details.kind == model_rules.PRICE else "local_method"}
    errors = [DomainError(p.message, fields.get(p.field, p.field))
              for p in model_rules.criterion_field_problems(criterion_spec(details), rules_context(opportunity))]
    descriptors = _descriptor_error(details)
    return errors + ([descriptors] if descriptors else [])


def _descriptor_error(details: CriterionDetails) -> DomainError | None:
    if not model_rules.is_panel_scored(criterion_spec(details)) or not details.descriptors:
        return None
    wanted = details.scale_max + 1
    if len(details.descriptors) != wanted:
        return DomainError(f"Give one descriptor for each score from 0 to {details.scale_max}: {wanted} lines, "
                           f"not {len(details.descriptors)}", "descriptors")
    return None


def _criterion_values(details: CriterionDetails) -> dict:
    values = asdict(details)
    panel = model_rules.is_panel_scored(criterion_spec(details))
    values["descriptors"] = list(details.descriptors) if panel else []
    if panel and not values["descriptors"] and details.scale_max == 5:
        values["descriptors"] = list(model_rules.DEFAULT_DESCRIPTORS)
    if not panel:
        values["min_score"] = None
    if details.kind not in (model_rules.PRICE, model_rules.LOCAL_ECONOMY):
        values.update(method=None, params={})
    return values


def _renumber(model: EvaluationModel) -> None:
    for position, criterion in enumerate(model.criteria):
        criterion.position = position


def add_criterion(user: Any, opportunity: Opportunity, model: EvaluationModel, details: CriterionDetails,
                  version: int | None) -> Criterion:
    _require_editable(user, opportunity, version)
    _raise_if(_criterion_errors(opportunity, details))
    criterion = Criterion(**_criterion_values(details))
    model.criteria.append(criterion)
    _renumber(model)
    _touch(opportunity)
    db.session.flush()
    _record("evaluation.criterion_added", opportunity, user, model_id=model.id, criterion_id=criterion.id,
            kind=criterion.kind, title=criterion.title, weight=criterion.weight)
    _commit()
    return criterion


def update_criterion(user: Any, opportunity: Opportunity, criterion: Criterion, details: CriterionDetails,
                     version: int | None) -> Criterion:
    _require_editable(user, opportunity, version)
    _raise_if(_criterion_errors(opportunity, details))
    changed = _apply(criterion, _criterion_values(details))
    _touch(opportunity)
    _record("evaluation.criterion_changed", opportunity, user, model_id=criterion.model_id,
            criterion_id=criterion.id, fields=changed)
    _commit()
    return criterion


def remove_criterion(user: Any, opportunity: Opportunity, criterion: Criterion, version: int | None) -> None:
    _require_editable(user, opportunity, version)
    model = criterion.model
    model.criteria.remove(criterion)
    _renumber(model)
    _touch(opportunity)
    _record("evaluation.criterion_removed", opportunity, user, model_id=model.id, criterion_id=criterion.id,
            title=criterion.title)
    _commit()


def move_criterion(user: Any, opportunity: Opportunity, criterion: Criterion, direction: str,
                   version: int | None) -> None:
    """Swap a criterion with the one above ("up") or below ("down"); at either end nothing moves."""
    _require_editable(user, opportunity, version)
    criteria = list(criterion.model.criteria)
    index = criteria.index(criterion)
    other = index + {"up": -1, "down": 1}.get(direction, 0)
    if other == index or not 0 <= other < len(criteria):
        return
    criteria[index].position, criteria[other].position = criteria[other].position, criteria[index].position
    _touch(opportunity)
    _record("evaluation.criterion_moved", opportunity, user, model_id=criterion.model_id,
            criterion_id=criterion.id, direction=direction)
    _commit()


def record_low_public_value_reason(user: Any, opportunity: Opportunity, model: EvaluationModel, reason: str,
                                   version: int | None) -> EvaluationModel:
    _require_editable(user, opportunity, version)
    model.low_public_value_reason = reason.strip() or None
    _touch(opportunity)
    _record("evaluation.low_public_value_reason", opportunity, user, model_id=model.id, reason=reason)
    _commit()
    return model


def apply_template(user: Any, opportunity: Opportunity, model: EvaluationModel, key: str,
                   version: int | None) -> EvaluationModel:
    """Replace the model's criteria with a template's."""
    _require_editable(user, opportunity, version)
    if key not in TEMPLATES:
        raise DomainError("Choose a template from the list", "template")
    replaced = len(model.criteria)
    model.criteria = [Criterion(**_criterion_values(_details_of(spec))) for spec in template_criteria(key)]
    _renumber(model)
    _touch(opportunity)
    _record("evaluation.template_applied", opportunity, user, model_id=model.id, template=key,
            criteria_replaced=replaced)
    _commit()
    return model


def _details_of(spec: model_rules.CriterionSpec) -> CriterionDetails:
    return CriterionDetails(kind=spec.kind, title=spec.title, weight=spec.weight, scale_max=spec.scale_max,
                            min_score=spec.min_score, word_limit=spec.word_limit, method=spec.method,
                            params=dict(spec.params), scores_location=spec.scores_location)


# Readiness ----------------------------------------------------------------------------------------------

def readiness(opportunity: Opportunity, now: datetime, approving: bool = False) -> list[Problem]:
    """Everything that stops the opportunity going for approval (or being published), with where to fix it."""
    problems = [Problem("details", e.message, e.field) for e in _stored_detail_errors(opportunity)]
    problems += [Problem("timetable", e.message, e.field)
                 for e in timetable_errors(timetable_of(opportunity), now, editing=not approving)]
    problems += _contract_start_problems(opportunity)
    for model in opportunity.models:
        problems += _model_problems(opportunity, model)
    if not any(document.kind == "specification" for document in opportunity.documents):
        problems.append(Problem("documents", "Upload the specification", "file"))
    return problems


REQUIRED_DETAILS = (
    ("summary", "Enter a summary"), ("outcomes", "Enter at least one outcome"),
    ("localities", "Select where the service is delivered"), ("contract_start", "Enter the contract start date"),
    ("contract_months", "Enter the contract length in months"), ("contact_name", "Enter the contact's name"),
    ("contact_email", "Enter the contact email address"),
)


def _stored_detail_errors(opportunity: Opportunity) -> list[DomainError]:
    """Details the form requires but a draft made elsewhere (from a right-to-bid proposal) may lack, and rules
    whose inputs may have changed since the details were saved (the threshold, the lots)."""
    errors = [DomainError(message, name) for name, message in REQUIRED_DETAILS if not getattr(opportunity, name)]
    errors += [e for e in (reservation_error(opportunity.reservation, opportunity.estimated_value),) if e]
    lots_error = _lot_value_error(lots_total(opportunity), opportunity.estimated_value, "estimated_value")
    return errors + ([lots_error] if lots_error else [])


def _contract_start_problems(opportunity: Opportunity) -> list[Problem]:
    start, deadline = opportunity.contract_start, opportunity.submission_deadline
    if start is None or deadline is None or start > london(deadline).date():
        return []
    return [Problem("details", "The contract must start after the submission deadline", "contract_start")]


def _model_problems(opportunity: Opportunity, model: EvaluationModel) -> list[Problem]:
    lot = next((lot for lot in opportunity.lots if lot.id == model.lot_id), None)
    prefix = f"Lot {lot.number} evaluation model: " if lot else "Evaluation model: "
    problems = []
    for problem in model_rules.model_problems(model_spec(model), rules_context(opportunity)):
        if problem.field.startswith("criterion-"):
            criterion = model.criteria[int(problem.field.split("-", 1)[1])]
            problems.append(Problem("criterion", f"{prefix}{criterion.title}: {problem.message}", None, model.id,
                                    criterion.id))
        else:
            anchor = "public-value" if problem.field == "public_value" else "criteria"
            problems.append(Problem("model", prefix + problem.message, anchor, model.id))
    return problems


# The lifecycle ------------------------------------------------------------------------------------------

IMPLEMENTED_ACTIONS = ("submit_for_approval", "approve", "return_to_draft", "cancel")


def may_return(user: Any, opportunity: Opportunity) -> bool:
    return lifecycle.PROCUREMENT_OFFICER in _roles(user) or is_author(user, opportunity)


def separation_of_duties_applies(user: Any, opportunity: Opportunity) -> bool:
    """The person who wrote an opportunity may not also approve it, whatever roles they hold."""
    return opportunity.created_by_id is not None and opportunity.created_by_id == getattr(user, "id", None)


_ACTION_CHECKS: dict[str, Callable[[Any, Opportunity], bool]] = {
    "submit_for_approval": permissions.can_edit_draft,
    "approve": lambda u, o: permissions.can_approve(u, o) and not separation_of_duties_applies(u, o),
    "return_to_draft": may_return,
    "cancel": permissions.can_cancel,
}


def available_actions(user: Any, opportunity: Opportunity, now: datetime) -> list[lifecycle.Transition]:
    """The lifecycle actions this person can take on this opportunity now."""
    state = lifecycle.effective_state(opportunity.status, opportunity.submission_deadline, now)
    return [t for t in lifecycle.available_actions(state, _roles(user))
            if t.action in _ACTION_CHECKS and _ACTION_CHECKS[t.action](user, opportunity)]


def submit_for_approval(user: Any, opportunity: Opportunity, version: int | None,
                        now: datetime | None = None) -> Opportunity:
    if not is_author(user, opportunity):
        raise NotAllowed("Only the commissioner who wrote this opportunity can send it for approval.")
    _check_version(opportunity, version)
    target = _next_state(opportunity, "submit_for_approval", user)
    problems = readiness(opportunity, now or utcnow())
    if problems:
        raise NotReady(problems)
    opportunity.status, opportunity.return_reason = target, None
    _touch(opportunity)
    _record("opportunity.submit_for_approval", opportunity, user)
    _commit()
    _notify_procurement_officers(opportunity, user)
    return opportunity


class NoConflictsAssessment(DomainError):
    def __init__(self):
        super().__init__("Record the conflicts assessment before you approve this opportunity: who prepared it, the "
                         "interests known and how they are managed.")


def approve(user: Any, opportunity: Opportunity, version: int | None, now: datetime | None = None) -> Opportunity:
    """Publish: from max(now, publication date); the evaluation model freezes now. A procurement officer must
    have recorded the conflicts assessment first."""
    if lifecycle.PROCUREMENT_OFFICER not in _roles(user):
        raise NotAllowed("Only a procurement officer can approve an opportunity.")
    _check_version(opportunity, version)
    target = _next_state(opportunity, "approve", user)
    if separation_of_duties_applies(user, opportunity):
        raise DomainError("You wrote this opportunity, so you cannot approve it too: another procurement officer "
                          "must check it (separation of duties).")
    now = now or utcnow()
    problems = readiness(opportunity, now, approving=True)
    if problems:
        raise NotReady(problems)
    if conflicts_assessment_of(opportunity.id) is None:
        raise NoConflictsAssessment()
    opportunity.status, opportunity.approved_by_id = target, user.id
    opportunity.published_at = max(now, opportunity.publication_date)
    opportunity.model_frozen_at = now
    _touch(opportunity)
    _record("opportunity.approve", opportunity, user, published_at=opportunity.published_at.isoformat(),
            submission_deadline=opportunity.submission_deadline.isoformat())
    _commit()
    _notify_author(opportunity, "opportunity_approved", f"{opportunity.reference} is approved", user)
    return opportunity


def return_to_draft(user: Any, opportunity: Opportunity, reason: str, version: int | None) -> Opportunity:
    if not may_return(user, opportunity):
        raise NotAllowed("Only a procurement officer, or the commissioner who wrote it, can return it to draft.")
    _check_version(opportunity, version)
    target = _next_state(opportunity, "return_to_draft", user)
    if not reason.strip():
        raise DomainError("Give the reason for returning it to draft", "reason")
    opportunity.status, opportunity.return_reason = target, reason.strip()
    _touch(opportunity)
    _record("opportunity.return_to_draft", opportunity, user, reason=opportunity.return_reason)
    _commit()
    if not is_author(user, opportunity):
        _notify_author(opportunity, "opportunity_returned", f"{opportunity.reference} has been returned to draft",
                       user)
    return opportunity


def cancel(user: Any, opportunity: Opportunity, reason: str, version: int | None,
           now: datetime | None = None, category: str = "other") -> Opportunity:
    """Cancel with a reason from the list (`awards.rules.CANCEL_REASONS`) and its details (`reason`, needed for
    "other"). An award in progress is cancelled too, and every organisation that submitted a bid is told."""
    from marketplace.awards import cancellation  # here: the awards package imports this one

    if not permissions.can_cancel(user, opportunity):
        raise NotAllowed("Only a procurement officer, or the commissioner who wrote it, can cancel it.")
    _check_version(opportunity, version)
    if error := cancellation.reason_error(category, reason):
        raise error
    was_public = permissions.is_public(opportunity, now or utcnow())
    text = cancellation.reason_text(category, reason)
    opportunity.status = _next_state(opportunity, "cancel", user, text)
    opportunity.cancel_reason = text
    _touch(opportunity)
    _record("opportunity.cancel", opportunity, user, reason=opportunity.cancel_reason, category=category)
    cancellation.withdraw_award(opportunity, user)
    letters = cancellation.letters(opportunity)
    _commit()
    if was_public:
        _notify_watchers(opportunity, f"{opportunity.reference} has been cancelled", "opportunity_cancelled")
    cancellation.send(letters)
    return opportunity


def _locked_row(opportunity: Opportunity) -> Opportunity:
    """Re-read the opportunity inside this transaction, holding its row (PostgreSQL) so the deadline cannot move
    between the check and the commit."""
    return db.session.execute(
        sa.select(Opportunity).where(Opportunity.id == opportunity.id)
        .with_for_update().execution_options(populate_existing=True)
    ).scalar_one()


def amended_deadline(current: datetime, details: AmendmentDetails, now: datetime) -> datetime:
    """Never shortened; when the change affects what bidders must do, at least now + the extension."""
    deadline = max(current, details.new_deadline or current)
    if details.changes_requirements:
        deadline = max(deadline, now + timedelta(days=settings.get("amendment_extension_days")))
    return deadline


def publish_amendment(user: Any, opportunity: Opportunity, details: AmendmentDetails, version: int | None,
                      now: datetime | None = None) -> Amendment:
    if not (is_author(user, opportunity) or lifecycle.PROCUREMENT_OFFICER in _roles(user)):
        raise NotAllowed("Only a procurement officer, or the commissioner who wrote it, can amend it.")
    if not details.summary.strip():
        raise DomainError("Describe the change", "summary")
    opportunity = _locked_row(opportunity)
    now = now or utcnow()
    try:
        _amendment_checks(user, opportunity, details, version, now)
    except DomainError:
        db.session.rollback()
        raise
    return _save_amendment(user, opportunity, details, now)


def _amendment_checks(user: Any, opportunity: Opportunity, details: AmendmentDetails, version: int | None,
                      now: datetime) -> None:
    if not permissions.can_amend(user, opportunity, now):
        raise DomainError("Only an open opportunity can be amended: this one has closed or is not published.")
    _check_version(opportunity, version)
    if details.new_deadline is not None and details.new_deadline < opportunity.submission_deadline:
        raise DomainError("An amendment cannot bring the submission deadline forward: bidders are working to "
                          f"{format_london(opportunity.submission_deadline)}", "new_deadline")


def _save_amendment(user: Any, opportunity: Opportunity, details: AmendmentDetails, now: datetime) -> Amendment:
    previous = opportunity.submission_deadline
    amendment = Amendment(summary=details.summary.strip(), changes_requirements=details.changes_requirements,
                          previous_deadline=previous, new_deadline=amended_deadline(previous, details, now),
                          published_at=now, published_by_id=user.id)
    opportunity.amendments.append(amendment)
    opportunity.submission_deadline = amendment.new_deadline
    _touch(opportunity)
    db.session.flush()
    _record("opportunity.amend", opportunity, user, amendment_id=amendment.id,
            changes_requirements=details.changes_requirements, previous_deadline=previous.isoformat(),
            new_deadline=amendment.new_deadline.isoformat())
    _commit()
    _notify_watchers(opportunity, f"{opportunity.reference} has been amended", "opportunity_amended",
                     amendment=amendment)
    return amendment


def close_due(now: datetime | None = None) -> int:
    """Close every published opportunity whose submission deadline has passed; returns how many."""
    now = now or utcnow()
    due = db.session.execute(
        sa.select(Opportunity).where(Opportunity.status == lifecycle.PUBLISHED,
                                     Opportunity.submission_deadline <= now)
        .with_for_update(skip_locked=True)
    ).scalars().all()
    for opportunity in due:
        opportunity.status = lifecycle.next_state(opportunity.status, "close", {lifecycle.CLOCK})
        _touch(opportunity)
        _record("opportunity.close", opportunity, "clock",
                submission_deadline=opportunity.submission_deadline.isoformat())
    _commit()
    return len(due)


# Queries ------------------------------------------------------------------------------------------------

def staff_query(status: str | None, now: datetime) -> sa.Select:
    """Every opportunity, newest change first, optionally in one (effective) state."""
    statement = (sa.select(Opportunity).options(joinedload(Opportunity.created_by))
                 .order_by(Opportunity.updated_at.desc(), Opportunity.id.desc()))
    published, past = Opportunity.status == lifecycle.PUBLISHED, Opportunity.submission_deadline <= now
    if status == lifecycle.PUBLISHED:
        return statement.where(published, sa.or_(Opportunity.submission_deadline.is_(None), ~past))
    if status == lifecycle.CLOSED:
        return statement.where(sa.or_(Opportunity.status == lifecycle.CLOSED, sa.and_(published, past)))
    if status in lifecycle.STATES:
        return statement.where(Opportunity.status == status)
    return statement


def awaiting_approval_for(user: Any, limit: int = 50) -> list[Opportunity]:
    """Opportunities a procurement officer can approve: waiting, and not written by them."""
    if lifecycle.PROCUREMENT_OFFICER not in _roles(user):
        return []
    return list(db.session.execute(
        sa.select(Opportunity).options(joinedload(Opportunity.created_by))
        .where(Opportunity.status == lifecycle.AWAITING_APPROVAL,
               sa.or_(Opportunity.created_by_id.is_(None), Opportunity.created_by_id != user.id))
        .order_by(Opportunity.updated_at).limit(limit)
    ).scalars())


def load_for_overview(opportunity_id: int) -> Opportunity | None:
    return db.session.execute(
        sa.select(Opportunity).where(Opportunity.id == opportunity_id)
        .options(selectinload(Opportunity.lots), selectinload(Opportunity.documents),
                 selectinload(Opportunity.amendments),
                 selectinload(Opportunity.models).selectinload(EvaluationModel.criteria),
                 joinedload(Opportunity.created_by))
    ).scalar_one_or_none()


# Email --------------------------------------------------------------------------------------------------

def _overview_link(opportunity: Opportunity) -> str:
    return absolute_url("opportunities.staff_overview", opportunity_id=opportunity.id)


def public_link(opportunity: Opportunity) -> str:
    """The public page once it exists in this build; the home page before that."""
    if "opportunities.detail" in current_app.view_functions:
        return absolute_url("opportunities.detail", opportunity_id=opportunity.id)
    return absolute_url("pages.home")


def _send_each(addresses: list[str], subject: str, template: str, **context) -> None:
    """One email per person; a failed delivery is logged and does not undo the committed change."""
    for address in addresses:
        try:
            send_email(address, subject, template, **context)
        except (smtplib.SMTPException, OSError):
            current_app.logger.exception("Could not send %s email to %s", template, address)


def _active_emails(statement: sa.Select) -> list[str]:
    return list(db.session.execute(
        statement.where(User.deactivated_at.is_(None)).order_by(User.email)).scalars())


def _notify_procurement_officers(opportunity: Opportunity, sender: Any) -> None:
    addresses = _active_emails(sa.select(User.email).join(StaffRole, StaffRole.user_id == User.id)
                               .where(StaffRole.role == lifecycle.PROCUREMENT_OFFICER, User.id != sender.id))
    _send_each(addresses, f"Approve {opportunity.reference}: {opportunity.title}", "opportunity_submitted",
               opportunity=opportunity, sender=sender, link=_overview_link(opportunity))


def _notify_author(opportunity: Opportunity, template: str, subject: str, actor: Any) -> None:
    author = opportunity.created_by
    if author is None or author.deactivated_at is not None:
        return
    _send_each([author.email], subject, template, opportunity=opportunity, author=author, actor=actor,
               link=_overview_link(opportunity))


def _notify_watchers(opportunity: Opportunity, subject: str, template: str, **context) -> None:
    addresses = _active_emails(sa.select(User.email).join(Watch, Watch.user_id == User.id)
                               .where(Watch.opportunity_id == opportunity.id))
    _send_each(addresses, subject, template, opportunity=opportunity, link=public_link(opportunity), **context)
