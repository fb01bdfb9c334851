"""Panel use cases: the conflicts assessment recorded before publication, assigning and replacing evaluators
and the moderator, each member's conflict declaration and its mitigation, and a member's own list of panels.

Each use case checks who may act (`evaluation.permissions`) and the panel rules (`evaluation.panel_rules`),
runs in one transaction with its audit event, and emails the people it concerns after the commit. A person
replaced on a panel keeps their row, marked removed with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from marketplace import audit
from marketplace.accounts.models import StaffRole, User
from marketplace.bids.models import Bid
from marketplace.bids.submission import counting_submissions_statement
from marketplace.errors import DomainError
from marketplace.evaluation import access, panel_rules, permissions, results
from marketplace.evaluation.models import (
    EVALUATOR,
    MODERATOR,
    PANEL_ROLES,
    ConflictDeclaration,
    ConflictsAssessment,
    Evaluation,
    PanelMember,
)
from marketplace.extensions import db
from marketplace.links import absolute_url
from marketplace.opportunities import lifecycle
from marketplace.opportunities.models import Opportunity
from marketplace.opportunities.services import NotAllowed
from marketplace.opportunities.services import _send_each as send_each
from marketplace.organisations.models import Organisation
from marketplace.timeutil import format_london, utcnow

CHANGED_MEANWHILE = ("Someone else changed the panel at the same moment, so your change was not saved. Check the "
                     "panel as it is now and try again.")


# Reading ---------------------------------------------------------------------------------------------------

def state_of(opportunity: Opportunity, now: datetime | None = None) -> str:
    return lifecycle.effective_state(opportunity.status, opportunity.submission_deadline, now or utcnow())


def scored_criteria(opportunity: Opportunity) -> list[panel_rules.Scored]:
    """The criteria evaluators score, as the rules see them."""
    return [panel_rules.Scored(c.id, c.title) for c in results.people_scored(results.evaluation_criteria(opportunity))]


def seat_of(member: PanelMember) -> panel_rules.Seat:
    return panel_rules.Seat(member.user_id, member.user.full_name, member.role, tuple(member.criterion_ids or ()))


def declared_of(declaration: ConflictDeclaration) -> panel_rules.Declared:
    return panel_rules.Declared(declaration.has_conflict, declaration.mitigation is not None)


@dataclass(frozen=True)
class PanelState:
    """The panel as it is now: who sits on it, their declarations, and what stops it seeing bids."""

    members: list[PanelMember]
    declarations: dict[int, ConflictDeclaration]
    criteria: list[panel_rules.Scored]

    @property
    def seats(self) -> list[panel_rules.Seat]:
        return [seat_of(member) for member in self.members]

    @property
    def declared(self) -> dict[int, panel_rules.Declared]:
        return {user_id: declared_of(d) for user_id, d in self.declarations.items()}

    @property
    def moderator(self) -> PanelMember | None:
        return next((m for m in self.members if m.role == MODERATOR), None)

    @property
    def evaluators(self) -> list[PanelMember]:
        return [m for m in self.members if m.role == EVALUATOR]

    @property
    def people(self) -> dict[int, str]:
        return panel_rules.people(self.seats)

    @property
    def undeclared(self) -> list[str]:
        return [name for user_id, name in self.people.items() if user_id not in self.declarations]

    @property
    def awaiting_mitigation(self) -> list[ConflictDeclaration]:
        return [self.declarations[user_id] for user_id in panel_rules.awaiting_mitigation(self.seats, self.declared)]

    @property
    def structure_problems(self) -> list[str]:
        return panel_rules.panel_problems(self.seats, self.criteria)

    @property
    def problems(self) -> list[str]:
        return self.structure_problems + panel_rules.declaration_problems(self.seats, self.declared)

    def criteria_of(self, member: PanelMember) -> list[panel_rules.Scored]:
        return [c for c in self.criteria if seat_of(member).scores(c.id)]


def panel_state(opportunity: Opportunity) -> PanelState:
    return PanelState(access.current_panel(opportunity.id), access.declarations_of(opportunity.id),
                      scored_criteria(opportunity))


def former_members(opportunity_id: int) -> list[PanelMember]:
    """People replaced on the panel, kept for the record, most recent first."""
    return list(db.session.execute(
        sa.select(PanelMember).options(joinedload(PanelMember.user))
        .where(PanelMember.opportunity_id == opportunity_id, PanelMember.removed_at.is_not(None))
        .order_by(PanelMember.removed_at.desc(), PanelMember.id.desc())).scalars())


def candidates() -> list[User]:
    """Active council staff who may sit on a panel, by name."""
    return list(db.session.execute(
        sa.select(User).where(User.deactivated_at.is_(None), User.id.in_(
            sa.select(StaffRole.user_id).where(StaffRole.role.in_(sorted(permissions.PANEL_ROLES)))))
        .order_by(User.full_name, User.id)).scalars())


def bidder_names(opportunity_id: int) -> list[str]:
    """The names of the organisations whose bids count, for the conflict declaration: nothing of any bid."""
    counting = counting_submissions_statement(opportunity_id).subquery()
    return list(db.session.execute(
        sa.select(Organisation.legal_name).join(Bid, Bid.organisation_id == Organisation.id)
        .where(Bid.id.in_(sa.select(counting.c.bid_id))).order_by(Organisation.legal_name)).scalars())


# The conflicts assessment --------------------------------------------------------------------------------

def record_conflicts_assessment(user: Any, opportunity: Opportunity, parts: dict[str, str]) -> ConflictsAssessment:
    """Record (or, before publication, change) who prepared the opportunity, the interests known and how they
    are managed. Approval is refused without it."""
    existing = access.conflicts_assessment_of(opportunity.id)
    if not permissions.can_record_conflicts_assessment(user, opportunity.status, existing is not None):
        raise NotAllowed("Only a procurement officer can record the conflicts assessment, before publication.")
    missing = [DomainError(f"Enter {label.lower()}", key) for key, label in panel_rules.ASSESSMENT_PARTS
               if not (parts.get(key) or "").strip()]
    if missing:
        raise missing[0]
    assessment = existing or ConflictsAssessment(opportunity_id=opportunity.id)
    assessment.summary = panel_rules.compose_assessment(parts)
    assessment.recorded_by_id, assessment.recorded_at = user.id, utcnow()
    db.session.add(assessment)
    _record("evaluation.conflicts_assessment_" + ("changed" if existing else "recorded"), opportunity, user,
            summary=assessment.summary)
    _commit("Someone else recorded the conflicts assessment at the same moment. Check it and change it if needed.")
    return assessment


# Assigning and replacing ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Assignment:
    person_id: int | None
    role: str
    criterion_ids: tuple[int, ...] = ()  # evaluators: the people-scored criteria they score; empty: every one


def _require_manager(user: Any, opportunity: Opportunity) -> None:
    """Refuse unless the user may change this panel now. The opportunity's row is then held (PostgreSQL) until
    the commit, so two changes to one panel are checked one after the other, never both against the same
    panel."""
    db.session.execute(sa.select(Opportunity.id).where(Opportunity.id == opportunity.id).with_for_update())
    evaluation = access.evaluation_of(opportunity.id)
    complete = evaluation is not None and evaluation.moderation_completed_at is not None
    if complete and permissions.is_officer(user):
        raise DomainError("Moderation is complete, so the panel can no longer change.")
    if not permissions.can_manage_panel(user, state_of(opportunity), complete):
        raise NotAllowed("Only a procurement officer can change the panel, from publication until moderation "
                         "is complete.")


def _person(person_id: int | None, field: str) -> User:
    person = db.session.get(User, person_id) if person_id else None
    if person is None or not permissions.is_panel_candidate(person):
        raise DomainError("Choose a member of council staff from the list", field)
    return person


def _criteria_for(opportunity: Opportunity, role: str, chosen: Iterable[int]) -> tuple[int, ...]:
    """The evaluator's criteria as stored: empty when they score every one (none chosen means every one)."""
    chosen = set(chosen)
    if role != EVALUATOR or not chosen:
        return ()
    scored = [c.id for c in scored_criteria(opportunity)]
    picked = tuple(c for c in scored if c in chosen)
    if scored and not picked:
        raise DomainError("Select at least one criterion for the evaluator to score", "criteria")
    return () if set(picked) == set(scored) else picked


def _refuse_return(opportunity: Opportunity, person: User, role: str, field: str) -> None:
    """A person replaced on this panel does not come back in the same role: their row stays as the record."""
    removed = db.session.execute(sa.select(PanelMember).where(
        PanelMember.opportunity_id == opportunity.id, PanelMember.user_id == person.id, PanelMember.role == role,
        PanelMember.removed_at.is_not(None))).scalar_one_or_none()
    if removed is not None:
        raise DomainError(f"{person.full_name} was replaced as {panel_rules.ROLE_WORDS[role]} on this panel on "
                          f"{format_london(removed.removed_at)}, so cannot return in that role. Choose someone "
                          "else.", field)


def _new_member(user: Any, opportunity: Opportunity, person: User, role: str,
                criterion_ids: tuple[int, ...]) -> PanelMember:
    member = PanelMember(opportunity_id=opportunity.id, user_id=person.id, role=role,
                         criterion_ids=list(criterion_ids), assigned_by_id=user.id, assigned_at=utcnow())
    member.user = person
    db.session.add(member)
    db.session.flush()
    _record("evaluation.panel_member_assigned", opportunity, user, member_id=member.id, user_id=person.id,
            name=person.full_name, role=role, criterion_ids=list(criterion_ids))
    return member


def assign(user: Any, opportunity: Opportunity, assignment: Assignment) -> PanelMember:
    """Put a person on the panel as an evaluator (scoring the chosen criteria) or as the moderator. Refusals
    name the field after the role."""
    _require_manager(user, opportunity)
    person = _person(assignment.person_id, assignment.role)
    criteria = _criteria_for(opportunity, assignment.role, assignment.criterion_ids)
    seats = [seat_of(m) for m in access.current_panel(opportunity.id)]
    refusal = panel_rules.assignment_refusal(seats, panel_rules.Seat(person.id, person.full_name, assignment.role,
                                                                      criteria))
    if refusal:
        raise DomainError(refusal, assignment.role)
    _refuse_return(opportunity, person, assignment.role, assignment.role)
    member = _new_member(user, opportunity, person, assignment.role, criteria)
    _commit(CHANGED_MEANWHILE)
    _tell_assigned(opportunity, member, user)
    return member


def replace(user: Any, opportunity: Opportunity, member: PanelMember, reason: str,
            replacement_id: int | None = None) -> PanelMember:
    """Take a member off the panel, giving the reason, and optionally put another person in their place (same
    role, same criteria). The old row stays, marked removed, and is returned."""
    _require_manager(user, opportunity)
    if member.removed_at is not None or member.opportunity_id != opportunity.id:
        raise DomainError(f"{member.user.full_name} is no longer on this panel.")
    if not (reason or "").strip():
        raise DomainError("Give the reason for taking them off the panel", "reason")
    person = _person(replacement_id, "replacement") if replacement_id else None
    criteria = tuple(member.criterion_ids or ())
    seats = [seat_of(m) for m in access.current_panel(opportunity.id)]
    incoming = panel_rules.Seat(person.id, person.full_name, member.role, criteria) if person else None
    refusal = panel_rules.removal_refusal(seats, seat_of(member), incoming)
    if refusal:
        raise DomainError(refusal, "replacement" if person else "reason")
    if person:
        _refuse_return(opportunity, person, member.role, "replacement")
    member.removed_at, member.removed_reason = utcnow(), reason.strip()
    _record("evaluation.panel_member_removed", opportunity, user, member_id=member.id, user_id=member.user_id,
            name=member.user.full_name, role=member.role, reason=member.removed_reason,
            replaced_by=person.id if person else None)
    db.session.flush()
    successor = _new_member(user, opportunity, person, member.role, criteria) if person else None
    _commit(CHANGED_MEANWHILE)
    _tell_removed(opportunity, member, user)
    if successor is not None:
        _tell_assigned(opportunity, successor, user)
    return member


# Conflict declarations -----------------------------------------------------------------------------------

def declare(user: Any, opportunity: Opportunity, has_conflict: bool, details: str,
            now: datetime | None = None) -> ConflictDeclaration:
    """A panel member's declaration, made once, having seen only the bidders' names. A conflict keeps them
    away from the bids until a procurement officer records a mitigation or replaces them. Someone who declared
    no conflict may later declare one discovered since (`declare_later_conflict`)."""
    now = now or utcnow()
    _require_declarer(user, opportunity, now)
    details = (details or "").strip()
    if has_conflict and not details:
        raise DomainError("Give details of the conflict of interest", "details")
    if access.declaration_of(user, opportunity.id) is not None:
        raise AlreadyDeclared()
    declaration = ConflictDeclaration(opportunity_id=opportunity.id, user_id=user.id, has_conflict=has_conflict,
                                      details=details if has_conflict else "", declared_at=now)
    db.session.add(declaration)
    _record("evaluation.conflict_declared", opportunity, user, has_conflict=has_conflict, details=declaration.details)
    try:
        db.session.commit()
    except IntegrityError:  # the same declaration sent twice at once
        db.session.rollback()
        raise AlreadyDeclared() from None
    if has_conflict:
        _tell_officers_of_conflict(opportunity, user)
    return declaration


def declare_later_conflict(user: Any, opportunity: Opportunity, details: str,
                           now: datetime | None = None) -> ConflictDeclaration:
    """A conflict found after declaring: it is added to the declaration (the earlier words stay) and takes away
    access until a procurement officer records a (new) mitigation."""
    now = now or utcnow()
    _require_declarer(user, opportunity, now)
    declaration = access.declaration_of(user, opportunity.id)
    if declaration is None:
        raise DomainError("Make your declaration first.")
    details = (details or "").strip()
    if not details:
        raise DomainError("Give details of the conflict of interest", "details")
    previous_mitigation = declaration.mitigation
    addition = f"Added {format_london(now)}: {details}"
    declaration.details = f"{declaration.details}\n\n{addition}" if declaration.details else addition
    declaration.has_conflict = True
    declaration.mitigation = declaration.mitigated_by_id = declaration.mitigated_at = None
    _record("evaluation.conflict_added", opportunity, user, details=details,
            previous_mitigation=previous_mitigation)
    _commit(CHANGED_MEANWHILE)
    _tell_officers_of_conflict(opportunity, user)
    return declaration


class AlreadyDeclared(DomainError):
    def __init__(self):
        super().__init__("You have already declared for this opportunity. If you have found a conflict since, "
                         "declare it below.")


def _require_declarer(user: Any, opportunity: Opportunity, now: datetime) -> None:
    if not access.memberships(user, opportunity.id):
        raise NotAllowed("Only members of this opportunity's panel make a declaration for it.")
    if not permissions.can_declare(True, opportunity.submission_deadline, now):
        raise DomainError("Declarations open when bids close, at "
                          f"{format_london(opportunity.submission_deadline)}.")


def mitigate(user: Any, opportunity: Opportunity, declaration: ConflictDeclaration,
             mitigation: str) -> ConflictDeclaration:
    """Record how a declared conflict is managed; the member then sees the bids (once released)."""
    if declaration.opportunity_id != opportunity.id:
        raise NotAllowed("That declaration is for another opportunity.")
    if not permissions.can_mitigate(user, declaration.user_id, state_of(opportunity)):
        raise NotAllowed("Another procurement officer must record how this conflict is managed.")
    if not declaration.has_conflict or declaration.mitigation is not None:
        raise DomainError("This declaration has no conflict waiting for a mitigation.")
    if not (mitigation or "").strip():
        raise DomainError("Say how the conflict is managed", "mitigation")
    declaration.mitigation = mitigation.strip()
    declaration.mitigated_by_id, declaration.mitigated_at = user.id, utcnow()
    _record("evaluation.conflict_mitigated", opportunity, user, user_id=declaration.user_id,
            mitigation=declaration.mitigation)
    _commit(CHANGED_MEANWHILE)
    member = db.session.get(User, declaration.user_id)
    if member is not None and member.deactivated_at is None:
        send_each([member.email], f"{opportunity.reference}: your conflict of interest is resolved", "panel_mitigated",
                  opportunity=opportunity, member=member, actor=user, declaration=declaration,
                  link=_link("evaluation.staff_overview", opportunity))
    return declaration


# A member's own panels -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PanelRow:
    member: PanelMember
    opportunity: Opportunity
    step: panel_rules.Step


def my_panels_statement(user: Any) -> sa.Select:
    """The user's current panel places, soonest deadline first."""
    return (sa.select(PanelMember).join(Opportunity, Opportunity.id == PanelMember.opportunity_id)
            .options(joinedload(PanelMember.user))
            .where(PanelMember.user_id == user.id, PanelMember.removed_at.is_(None),
                   Opportunity.status != lifecycle.CANCELLED)
            .order_by(Opportunity.submission_deadline.desc(), Opportunity.id, PanelMember.role))


def panel_rows(user: Any, members: Sequence[PanelMember], now: datetime) -> list[PanelRow]:
    """Each place with its opportunity and next step: three queries, whatever the page size."""
    ids = sorted({m.opportunity_id for m in members}) or [0]
    opportunities = {o.id: o for o in db.session.execute(
        sa.select(Opportunity).where(Opportunity.id.in_(ids))).scalars()}
    evaluations = {e.opportunity_id: e for e in db.session.execute(
        sa.select(Evaluation).where(Evaluation.opportunity_id.in_(ids))).scalars()}
    declarations = {d.opportunity_id: d for d in db.session.execute(
        sa.select(ConflictDeclaration).where(ConflictDeclaration.opportunity_id.in_(ids),
                                             ConflictDeclaration.user_id == user.id)).scalars()}
    return [PanelRow(m, opportunities[m.opportunity_id],
                     step_for(m, opportunities[m.opportunity_id], evaluations.get(m.opportunity_id),
                              declarations.get(m.opportunity_id), now)) for m in members]


def step_for(member: PanelMember, opportunity: Opportunity, evaluation: Evaluation | None,
             declaration: ConflictDeclaration | None, now: datetime) -> panel_rules.Step:
    return panel_rules.next_step(
        member.role, permissions.bids_closed(opportunity.submission_deadline, now),
        declared_of(declaration) if declaration else None,
        evaluation is not None and evaluation.released_at is not None, member.scores_submitted_at is not None,
        evaluation is not None and evaluation.moderation_completed_at is not None)


# Writing and telling -------------------------------------------------------------------------------------

def _record(action: str, opportunity: Opportunity, user: Any, **details) -> None:
    audit.record(action, "opportunity", opportunity.id, actor=user,
                 details={"reference": opportunity.reference, **details})


def _commit(conflict_message: str) -> None:
    """Commit; a unique constraint that another request satisfied first refuses the change whole."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise DomainError(conflict_message) from None


def _link(endpoint: str, opportunity: Opportunity) -> str:
    return absolute_url(endpoint, opportunity_id=opportunity.id)


def _tell_assigned(opportunity: Opportunity, member: PanelMember, actor: Any) -> None:
    criteria = [c.title for c in scored_criteria(opportunity) if seat_of(member).scores(c.id)]
    send_each([member.user.email], f"Evaluation panel: {opportunity.reference}", "panel_assigned",
              opportunity=opportunity, member=member, role=PANEL_ROLES[member.role].lower(), criteria=criteria,
              actor=actor, link=_link("evaluation.declaration", opportunity))


def _tell_removed(opportunity: Opportunity, member: PanelMember, actor: Any) -> None:
    send_each([member.user.email], f"Evaluation panel: {opportunity.reference}", "panel_removed",
              opportunity=opportunity, member=member, role=PANEL_ROLES[member.role].lower(), actor=actor)


def _tell_officers_of_conflict(opportunity: Opportunity, member: Any) -> None:
    """The officers who put the member on the panel learn of a declared conflict."""
    addresses = list(db.session.execute(
        sa.select(User.email).join(PanelMember, PanelMember.assigned_by_id == User.id)
        .where(PanelMember.opportunity_id == opportunity.id, PanelMember.user_id == member.id,
               User.deactivated_at.is_(None), User.id != member.id).distinct().order_by(User.email)).scalars())
    send_each(addresses, f"{opportunity.reference}: a panel member declared a conflict of interest",
              "panel_conflict_declared", opportunity=opportunity, member=member,
              link=_link("evaluation.staff_panel", opportunity))


def tell_released(opportunity: Opportunity, members: Sequence[PanelMember], actor: Any) -> None:
    """After release: every current member hears the bids are ready for them."""
    addresses = sorted({m.user.email for m in members if m.user.deactivated_at is None})
    send_each(addresses, f"{opportunity.reference}: bids released to the panel", "panel_released",
              opportunity=opportunity, actor=actor, link=_link("evaluation.staff_overview", opportunity))
