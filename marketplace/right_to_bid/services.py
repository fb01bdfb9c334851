"""Right-to-bid use cases: keep the catalogue, take expressions of interest, decide them, list them.

Each use case takes explicit arguments, runs one transaction and writes its audit event in it. The rules live in
rules.py (pure) and the permissions in permissions.py (pure); both are shared with the forms and pages.
"""

from __future__ import annotations

import smtplib
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from marketplace import audit
from marketplace.accounts.models import StaffRole, User
from marketplace.accounts.roles import COMMISSIONER
from marketplace.email import send_email
from marketplace.errors import DomainError
from marketplace.extensions import db, hold_until_commit
from marketplace.kent import LOCALITY_CHOICES
from marketplace.links import absolute_url
from marketplace.opportunities.lifecycle import DRAFT
from marketplace.opportunities.models import EvaluationModel, Opportunity
from marketplace.opportunities.references import next_reference
from marketplace.right_to_bid import permissions, rules
from marketplace.right_to_bid.models import CatalogueService, Proposal
from marketplace.settings import services as settings
from marketplace.taxonomy import CATEGORIES
from marketplace.timeutil import london, utcnow

LOCALITIES = frozenset(slug for slug, _ in LOCALITY_CHOICES)
# A key for PostgreSQL's transaction-scoped advisory lock that numbers proposals one at a time.
_REFERENCE_LOCK_KEY = 0x4B525442  # "KRTB"
CASE_FIELDS = ("outcomes", "cost_and_savings", "staffing", "social_value", "capacity", "financial_resources",
               "capability")


@dataclass(frozen=True)
class ServiceDetails:
    name: str
    description: str
    annual_cost: Decimal
    locality: str
    category: str
    window_opens: date
    window_closes: date
    next_window_opens: date | None = None
    next_window_closes: date | None = None


@dataclass(frozen=True)
class ProposalDetails:
    proposer_type: str
    outcomes: str
    cost_and_savings: str
    staffing: str
    social_value: str
    capacity: str
    financial_resources: str
    capability: str
    evidence: str = ""
    effect_on_employees: str | None = None
    staff_members: tuple[tuple[str, str], ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Decision:
    decision: str
    reasons: str
    ground: str | None = None
    modification: str | None = None
    proposer_agreed: bool = False
    lead_commissioner_id: int | None = None


def today() -> date:
    """Today's date in the UK, by the server's clock."""
    return london(utcnow()).date()


def _refuse(problems: list[rules.Problem]) -> None:
    if problems:
        field_name, message = problems[0]
        raise DomainError(message, field_name)


# The catalogue ----------------------------------------------------------------------------------------

def _check_service(details: ServiceDetails) -> None:
    if not details.name.strip():
        raise DomainError("Enter the name of the service", "name")
    if details.category not in CATEGORIES:
        raise DomainError("Select the category of the service", "category")
    if details.locality not in LOCALITIES:
        raise DomainError("Select where the service is provided", "locality")
    _refuse(rules.catalogue_problems(details.annual_cost, details.window_opens, details.window_closes,
                                     details.next_window_opens, details.next_window_closes))


def _require_catalogue_manager(user: User) -> None:
    if not permissions.can_manage_catalogue(user):
        raise DomainError("Only procurement officers can change the catalogue of services.")


def add_service(officer: User, details: ServiceDetails) -> CatalogueService:
    _require_catalogue_manager(officer)
    _check_service(details)
    service = CatalogueService(**asdict(details))
    db.session.add(service)
    db.session.flush()
    audit.record("right_to_bid.service_added", "catalogue_service", service.id, actor=officer,
                 details=_service_audit(service))
    db.session.commit()
    return service


def change_service(officer: User, service: CatalogueService, details: ServiceDetails) -> CatalogueService:
    _require_catalogue_manager(officer)
    _check_service(details)
    before = _service_audit(service)
    for name, value in asdict(details).items():
        setattr(service, name, value)
    after = _service_audit(service)
    changed = {key: {"from": before[key], "to": after[key]} for key in after if before[key] != after[key]}
    if changed:
        audit.record("right_to_bid.service_changed", "catalogue_service", service.id, actor=officer,
                     details=changed)
    db.session.commit()
    return service


def _audit_value(value):
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return None if value is None else str(value)


def _service_audit(service: CatalogueService) -> dict:
    return {name: _audit_value(getattr(service, name)) for name in ServiceDetails.__dataclass_fields__}


def catalogue_query() -> sa.Select:
    return sa.select(CatalogueService).order_by(CatalogueService.name, CatalogueService.id)


def get_service(service_id: int) -> CatalogueService | None:
    return db.session.get(CatalogueService, service_id)


# Expressions of interest ------------------------------------------------------------------------------

def proposer_types_for(user: User) -> list[str]:
    return rules.eligible_proposer_types(permissions.organisation_type_of(user))


def _check_proposal(user: User, details: ProposalDetails) -> None:
    if not permissions.can_propose(user):
        raise DomainError("Sign in to make an expression of interest.")
    refusal = rules.eligibility_refusal(details.proposer_type, permissions.organisation_type_of(user))
    if refusal:
        raise DomainError(refusal, "proposer_type")
    if details.proposer_type == rules.STAFF_GROUP:
        _refuse(rules.staff_group_problems(details.staff_members, details.effect_on_employees))
    for name in CASE_FIELDS:
        if not getattr(details, name).strip():
            raise DomainError("Answer this question: every part of the business case is needed", name)


def _lock_service(service: CatalogueService) -> CatalogueService:
    """Re-read the windows inside this transaction; on PostgreSQL a shared lock keeps them from moving until the
    proposal commits."""
    return db.session.execute(
        sa.select(CatalogueService).where(CatalogueService.id == service.id)
        .with_for_update(read=True).execution_options(populate_existing=True)
    ).scalar_one()


def next_proposal_reference() -> str:
    """RTB-<year>-<number>, numbered in order within the year; on PostgreSQL two proposals committing at the
    same moment wait for each other rather than take the same number."""
    hold_until_commit(_REFERENCE_LOCK_KEY)
    prefix = f"RTB-{today().year}-"
    last = db.session.execute(
        sa.select(sa.func.max(Proposal.reference)).where(Proposal.reference.like(f"{prefix}%"))
    ).scalar_one_or_none()
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{number:04d}"


def decision_days() -> int:
    return settings.get("right_to_bid_decision_days")


def _proposer(user: User, details: ProposalDetails) -> tuple[int | None, str, list[dict]]:
    """(organisation id, name shown publicly, employees listed) for the kind of proposer."""
    if details.proposer_type == rules.STAFF_GROUP:
        members = [{"name": name.strip(), "job_title": job.strip()} for name, job in details.staff_members
                   if name.strip() and job.strip()]
        return None, rules.STAFF_GROUP_PUBLIC_NAME, members
    organisation = user.membership.organisation
    return organisation.id, organisation.legal_name, []


def propose(user: User, service: CatalogueService, details: ProposalDetails) -> Proposal:
    """Submit an expression of interest while the service's window is open (judged at commit, UK date)."""
    _check_proposal(user, details)
    service = _lock_service(service)
    submitted_on = today()
    refusal = rules.window_refusal(service.window_on(submitted_on))
    if refusal:
        db.session.rollback()
        raise DomainError(refusal)
    organisation_id, proposer_name, members = _proposer(user, details)
    staff_group = details.proposer_type == rules.STAFF_GROUP
    proposal = Proposal(
        reference=next_proposal_reference(), service_id=service.id, proposer_type=details.proposer_type,
        organisation_id=organisation_id, submitted_by_id=user.id, proposer_name=proposer_name,
        staff_members=members, outcomes=details.outcomes, cost_and_savings=details.cost_and_savings,
        staffing=details.staffing, social_value=details.social_value, capacity=details.capacity,
        evidence=details.evidence or "", financial_resources=details.financial_resources,
        capability=details.capability,
        effect_on_employees=details.effect_on_employees if staff_group else None,
        submitted_at=utcnow(), status=rules.SUBMITTED,
        decision_due=rules.decision_due(submitted_on, decision_days()),
    )
    db.session.add(proposal)
    db.session.flush()
    audit.record("right_to_bid.proposed", "proposal", proposal.id, actor=user,
                 details={"reference": proposal.reference, "service_id": service.id,
                          "proposer_type": proposal.proposer_type, "organisation_id": organisation_id,
                          "decision_due": proposal.decision_due.isoformat()})
    db.session.commit()
    _email_proposer(proposal, f"We have received your expression of interest {proposal.reference}",
                    "right_to_bid_received")
    return proposal


# Decisions --------------------------------------------------------------------------------------------

def commissioners() -> list[tuple[int, str]]:
    """Active commissioners who can lead a procurement, by name: (user id, label)."""
    rows = db.session.execute(
        sa.select(User.id, User.full_name, User.email).join(StaffRole, StaffRole.user_id == User.id)
        .where(StaffRole.role == COMMISSIONER, User.deactivated_at.is_(None))
        .order_by(User.full_name, User.id)
    ).all()
    return [(row.id, f"{row.full_name} ({row.email})") for row in rows]


def _lead_commissioner(user_id: int | None) -> User:
    lead = db.session.get(User, user_id) if user_id else None
    if lead is None or lead.deactivated_at is not None or COMMISSIONER not in lead.roles:
        raise DomainError("Select a commissioner from the list", "lead_commissioner")
    return lead


def _check_decision(officer: User, proposal: Proposal, decision: Decision) -> User | None:
    if proposal.status != rules.SUBMITTED:
        raise DomainError("This proposal has already been decided.")
    if not permissions.can_decide(officer, proposal):
        raise DomainError("Only a procurement officer who did not make the proposal can decide it.")
    _refuse(rules.decision_problems(decision.decision, decision.ground, decision.reasons, decision.modification,
                                    decision.proposer_agreed, decision.lead_commissioner_id is not None))
    if rules.is_acceptance(decision.decision):
        return _lead_commissioner(decision.lead_commissioner_id)
    return None


def _record_decision(officer: User, proposal: Proposal, decision: Decision) -> None:
    """Move the proposal out of `submitted` once: a second officer deciding at the same moment is refused."""
    modified = decision.decision == rules.ACCEPTED_MODIFIED
    updated = db.session.execute(
        sa.update(Proposal).where(Proposal.id == proposal.id, Proposal.status == rules.SUBMITTED)
        .values(status=decision.decision, decision_reasons=decision.reasons.strip(),
                decision_ground=decision.ground if decision.decision == rules.REJECTED else None,
                modification=decision.modification.strip() if modified else None,
                modification_agreed=modified, decided_by_id=officer.id, decided_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if not updated:
        db.session.rollback()
        raise DomainError("This proposal has already been decided.")
    db.session.refresh(proposal)


def _opportunity_summary(proposal: Proposal) -> str:
    summary = (f"{proposal.service.description}\n\nThis procurement follows right-to-bid proposal "
               f"{proposal.reference} from {proposal.proposer_name}.")
    if proposal.modification:
        summary += f"\n\nAgreed modification: {proposal.modification}"
    return summary


def _start_procurement(officer: User, proposal: Proposal, lead: User) -> Opportunity:
    """A draft opportunity for the service, owned by the lead commissioner, with an empty evaluation model."""
    service = proposal.service
    opportunity = Opportunity(
        reference=next_reference(), title=service.name, summary=_opportunity_summary(proposal),
        outcomes=[line.strip() for line in proposal.outcomes.splitlines() if line.strip()],
        category=service.category, localities=[service.locality], estimated_value=service.annual_cost,
        status=DRAFT, created_by_id=lead.id, contact_name=lead.full_name, contact_email=lead.email,
    )
    opportunity.models.append(EvaluationModel())
    db.session.add(opportunity)
    db.session.flush()
    proposal.opportunity_id = opportunity.id
    audit.record("opportunity.created_from_right_to_bid", "opportunity", opportunity.id, actor=officer,
                 details={"reference": opportunity.reference, "proposal": proposal.reference,
                          "created_by_id": lead.id})
    return opportunity


def decide(officer: User, proposal: Proposal, decision: Decision) -> Proposal:
    """Accept (starting a procurement), accept with an agreed modification, or reject on a ground; always with
    reasons, which are emailed to the proposer and published."""
    lead = _check_decision(officer, proposal, decision)
    _record_decision(officer, proposal, decision)
    if lead is not None:
        _start_procurement(officer, proposal, lead)
    audit.record(rules.AUDIT_ACTIONS[proposal.status], "proposal", proposal.id, actor=officer,
                 details={"reference": proposal.reference, "ground": proposal.decision_ground,
                          "opportunity_id": proposal.opportunity_id,
                          "late": today() > proposal.decision_due})
    db.session.commit()
    _email_proposer(proposal, f"Decision on your expression of interest {proposal.reference}",
                    "right_to_bid_decision")
    return proposal


# Reading ----------------------------------------------------------------------------------------------

def get_proposal(proposal_id: int) -> Proposal | None:
    return db.session.execute(
        sa.select(Proposal).options(joinedload(Proposal.service)).where(Proposal.id == proposal_id)
    ).scalar_one_or_none()


def decision_queue_query(decided: bool = False) -> sa.Select:
    """For procurement officers: undecided proposals, soonest due first; or decided ones, latest first."""
    statement = sa.select(Proposal).options(joinedload(Proposal.service))
    if decided:
        return statement.where(Proposal.status != rules.SUBMITTED).order_by(Proposal.decided_at.desc(),
                                                                            Proposal.id.desc())
    return statement.where(Proposal.status == rules.SUBMITTED).order_by(Proposal.decision_due,
                                                                        Proposal.submitted_at, Proposal.id)


def mine_query(user: User) -> sa.Select:
    """Proposals the user made, and those made for their organisation, newest first."""
    mine = Proposal.submitted_by_id == user.id
    organisation_id = permissions.organisation_id_of(user)
    if organisation_id is not None:
        mine = sa.or_(mine, Proposal.organisation_id == organisation_id)
    return (sa.select(Proposal).options(joinedload(Proposal.service)).where(mine)
            .order_by(Proposal.submitted_at.desc(), Proposal.id.desc()))


def register_query() -> sa.Select:
    """The public register: decided proposals, latest decision first."""
    return (sa.select(Proposal).options(joinedload(Proposal.service))
            .where(Proposal.status != rules.SUBMITTED)
            .order_by(Proposal.decided_at.desc(), Proposal.id.desc()))


# Email ------------------------------------------------------------------------------------------------

def _email_proposer(proposal: Proposal, subject: str, template: str) -> None:
    """Tell the person who submitted the proposal; a failed delivery is logged and does not undo the change."""
    proposer = proposal.submitted_by
    if proposer is None or proposer.deactivated_at is not None:
        return
    link = absolute_url("right_to_bid.proposal", proposal_id=proposal.id)
    try:
        send_email(proposer.email, subject, template, proposal=proposal, proposer=proposer, rules=rules,
                   link=link, register_link=absolute_url("right_to_bid.register"))
    except (smtplib.SMTPException, OSError):
        current_app.logger.exception("Could not send %s email for proposal %s", template, proposal.id)
