"""Organisation use cases: register, edit, invite colleagues, join, remove members."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

import sqlalchemy as sa

from marketplace import audit
from marketplace.accounts import tokens
from marketplace.accounts.models import User
from marketplace.accounts.passwords import hash_password
from marketplace.accounts.services import EmailTaken, LinkProblem, find_user_by_email, normalise_email
from marketplace.email import send_email
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.kent import (
    ChoiceNeeded,
    InvalidChoice,
    InvalidPostcode,
    KentStatus,
    choices_for,
    lookup_postcode,
    resolve_kent_status,
)
from marketplace.links import absolute_url
from marketplace.organisations.choices import MEMBER_COLLEAGUE, MEMBER_OWNER
from marketplace.organisations.models import Membership, Organisation, OrganisationInvitation
from marketplace.organisations.permissions import can_create_organisation, can_manage_members
from marketplace.timeutil import utcnow


@dataclass(frozen=True)
class Address:
    line1: str
    line2: str | None
    town: str
    postcode: str


@dataclass(frozen=True)
class OrganisationDetails:
    legal_name: str
    org_type: str
    size: str
    companies_house_number: str | None
    charity_number: str | None
    trading: Address
    operations: Address
    district_choice: str | None = None
    categories: list[str] = field(default_factory=list)
    localities: list[str] = field(default_factory=list)


class DistrictChoiceNeeded(DomainError):
    """The operations postcode straddles the boundary: the user must pick. `choices` are (value, label)."""

    def __init__(self, choices: list[tuple[str, str]], message: str):
        super().__init__(message, "district_choice")
        self.choices = choices


def name_key(legal_name: str) -> str:
    return re.sub(r"\s+", " ", legal_name).strip().casefold()


def derive_kent_status(postcode: str, choice: str | None) -> KentStatus:
    try:
        return resolve_kent_status(postcode, choice)
    except ChoiceNeeded as needed:
        raise DistrictChoiceNeeded(
            choices_for(needed.lookup),
            f"Postcode area {needed.lookup.outward} covers more than one council area. "
            "Select where your operations are",
        ) from None
    except InvalidChoice as invalid:
        raise DistrictChoiceNeeded(choices_for(invalid.lookup), "Select one of the areas shown") from None


def district_choices(postcode: str | None) -> list[tuple[str, str]] | None:
    """The answers to "which council area?" when the postcode alone cannot decide; None otherwise."""
    try:
        lookup = lookup_postcode(postcode or "")
    except InvalidPostcode:
        return None
    return choices_for(lookup) if lookup.needs_choice else None


def _check_unique(details: OrganisationDetails, organisation_id: int | None) -> None:
    taken = db.session.execute(
        sa.select(Organisation.id).where(Organisation.name_key == name_key(details.legal_name))
    ).scalar_one_or_none()
    if taken is not None and taken != organisation_id:
        raise DomainError("An organisation with this legal name is already registered. Ask its owner to "
                          "invite you instead.", "legal_name")
    if details.companies_house_number:
        taken = db.session.execute(sa.select(Organisation.id).where(
            Organisation.companies_house_number == details.companies_house_number)).scalar_one_or_none()
        if taken is not None and taken != organisation_id:
            raise DomainError("An organisation with this Companies House number is already registered.",
                              "companies_house_number")


def _apply(organisation: Organisation, details: OrganisationDetails, status: KentStatus) -> None:
    organisation.legal_name = details.legal_name
    organisation.name_key = name_key(details.legal_name)
    organisation.org_type = details.org_type
    organisation.size = details.size
    organisation.companies_house_number = details.companies_house_number or None
    organisation.charity_number = details.charity_number or None
    for prefix, address in (("trading", details.trading), ("operations", details.operations)):
        for part, value in asdict(address).items():
            setattr(organisation, f"{prefix}_{part}", value or None if part == "line2" else value)
    organisation.kent_based = status.kent_based
    organisation.district = status.district
    organisation.kent_derivation = status.derivation
    organisation.categories = sorted(set(details.categories))
    organisation.localities = sorted(set(details.localities))


def _summary(organisation: Organisation) -> dict:
    return {"legal_name": organisation.legal_name, "kent_based": organisation.kent_based,
            "district": organisation.district, "derivation": organisation.kent_derivation}


def create_organisation(user: User, details: OrganisationDetails) -> Organisation:
    if not can_create_organisation(user):
        raise DomainError("You already belong to an organisation, or your email address is not confirmed yet.")
    _check_unique(details, None)
    status = derive_kent_status(details.operations.postcode, details.district_choice)
    organisation = Organisation()
    _apply(organisation, details, status)
    organisation.memberships.append(Membership(user_id=user.id, role=MEMBER_OWNER))
    db.session.add(organisation)
    db.session.flush()
    audit.record("organisation.registered", "organisation", organisation.id, actor=user,
                 details=_summary(organisation))
    db.session.commit()
    return organisation


def update_organisation(user: User, organisation: Organisation, details: OrganisationDetails) -> Organisation:
    _check_unique(details, organisation.id)
    status = derive_kent_status(details.operations.postcode, details.district_choice)
    before = _summary(organisation)
    _apply(organisation, details, status)
    audit.record("organisation.updated", "organisation", organisation.id, actor=user,
                 details={"before": before, "after": _summary(organisation)})
    db.session.commit()
    return organisation


# Colleagues ------------------------------------------------------------------------------------

def _invitation_fingerprint(invitation: OrganisationInvitation) -> str:
    return tokens.state_fingerprint(invitation.accepted_at or "", invitation.cancelled_at or "")


def invite_colleague(owner: User, organisation: Organisation, email: str) -> OrganisationInvitation:
    if not can_manage_members(owner, organisation):
        raise DomainError("Only the organisation's owner can invite colleagues.")
    email = normalise_email(email)
    existing = find_user_by_email(email)
    if existing is not None and (existing.membership is not None or existing.is_staff):
        raise DomainError("This person already belongs to an organisation or has a council staff account.",
                          "email")
    invitation = OrganisationInvitation(organisation_id=organisation.id, email=email, invited_by_id=owner.id)
    db.session.add(invitation)
    db.session.flush()
    audit.record("organisation.colleague_invited", "organisation", organisation.id, actor=owner,
                 details={"email": email})
    db.session.commit()
    token = tokens.make_token(tokens.ORG_INVITE, invitation.id, _invitation_fingerprint(invitation))
    send_email(email, f"Join {organisation.legal_name} on the Kent Commissioning Marketplace",
               "organisation_invitation", organisation=organisation, owner=owner,
               link=absolute_url("organisations.join", token=token))
    return invitation


def open_invitation(token: str) -> OrganisationInvitation:
    try:
        invitation_id, fingerprint = tokens.read_token(tokens.ORG_INVITE, token)
    except tokens.TokenExpired:
        raise LinkProblem("This invitation has expired. Ask the organisation's owner to send a new one.",
                          expired=True) from None
    except tokens.TokenInvalid:
        raise LinkProblem("This invitation link is not valid. Check you copied the whole link.") from None
    invitation = db.session.get(OrganisationInvitation, invitation_id)
    if invitation is None or not invitation.is_open or _invitation_fingerprint(invitation) != fingerprint:
        raise LinkProblem("This invitation has already been used or was cancelled.")
    return invitation


def _join(user: User, invitation: OrganisationInvitation) -> Membership:
    if user.membership is not None or user.is_staff:
        raise DomainError("Your account already belongs to an organisation, so it cannot join another.")
    membership = Membership(user_id=user.id, organisation_id=invitation.organisation_id, role=MEMBER_COLLEAGUE)
    invitation.accepted_at = utcnow()
    db.session.add(membership)
    db.session.flush()
    audit.record("organisation.member_joined", "organisation", invitation.organisation_id, actor=user,
                 details={"user_id": user.id})
    db.session.commit()
    return membership


def accept_invitation(user: User, token: str) -> Membership:
    invitation = open_invitation(token)
    if normalise_email(user.email) != invitation.email:
        raise DomainError(f"This invitation was sent to {invitation.email}. Sign in with that address to accept it.")
    return _join(user, invitation)


def join_with_new_account(token: str, full_name: str, password: str) -> User:
    invitation = open_invitation(token)
    if find_user_by_email(invitation.email) is not None:
        raise EmailTaken("An account already uses this email address. Sign in to accept the invitation.")
    user = User(email=invitation.email, full_name=full_name, password_hash=hash_password(password),
                email_verified_at=utcnow())
    db.session.add(user)
    db.session.flush()
    audit.record("user.registered", "user", user.id, actor=user, details={"via": "organisation invitation"})
    _join(user, invitation)
    return user


def cancel_invitation(owner: User, organisation: Organisation, invitation_id: int) -> None:
    invitation = db.session.get(OrganisationInvitation, invitation_id)
    if invitation is None or invitation.organisation_id != organisation.id or not invitation.is_open:
        raise DomainError("That invitation is not open.")
    invitation.cancelled_at = utcnow()
    audit.record("organisation.invitation_cancelled", "organisation", organisation.id, actor=owner,
                 details={"email": invitation.email})
    db.session.commit()


def remove_member(owner: User, organisation: Organisation, membership_id: int) -> None:
    if not can_manage_members(owner, organisation):
        raise DomainError("Only the organisation's owner can remove colleagues.")
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.organisation_id != organisation.id:
        raise DomainError("That person is not a member of your organisation.")
    if membership.user_id == owner.id:
        raise DomainError("You cannot remove yourself: you are the owner.")
    removed_email = membership.user.email
    db.session.delete(membership)
    audit.record("organisation.member_removed", "organisation", organisation.id, actor=owner,
                 details={"user_id": membership.user_id, "email": removed_email})
    db.session.commit()


def open_invitations(organisation: Organisation) -> list[OrganisationInvitation]:
    return list(db.session.execute(
        sa.select(OrganisationInvitation)
        .where(OrganisationInvitation.organisation_id == organisation.id,
               OrganisationInvitation.accepted_at.is_(None), OrganisationInvitation.cancelled_at.is_(None))
        .order_by(OrganisationInvitation.created_at)
    ).scalars())


def organisations_query() -> sa.Select:
    return sa.select(Organisation).order_by(Organisation.legal_name, Organisation.id)
