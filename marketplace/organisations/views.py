"""Organisation pages: thin views over organisations.services."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user

from marketplace.accounts.forms import ConfirmForm
from marketplace.accounts.services import LinkProblem
from marketplace.authz import require, require_hidden
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.forms import add_error, options
from marketplace.organisations import bp, permissions, services
from marketplace.organisations.forms import (
    InviteColleagueForm,
    JoinForm,
    OrganisationForm,
    details_from_form,
    form_from_organisation,
)
from marketplace.organisations.choices import SIZE_HINTS
from marketplace.organisations.models import Organisation


def get_organisation_or_404(organisation_id: int) -> Organisation:
    """Scoped lookup: another organisation's page answers 404, as if it did not exist."""
    organisation = db.session.get(Organisation, organisation_id)
    require_hidden(organisation is not None and permissions.can_view_organisation(current_user, organisation))
    return organisation


def _render_form(form: OrganisationForm, organisation: Organisation | None, choices=None):
    if choices:
        form.district_choice.choices = options(choices)
    return render_template("organisations/form.html", form=form, organisation=organisation,
                           size_hints=SIZE_HINTS, show_choice=bool(choices))


def _save(form: OrganisationForm, organisation: Organisation | None):
    """Validate and save; returns (organisation, choices) where choices are set when a district must be picked."""
    details = details_from_form(form)
    try:
        if organisation is None:
            return services.create_organisation(current_user, details), None
        return services.update_organisation(current_user, organisation, details), None
    except services.DistrictChoiceNeeded as needed:
        add_error(form, needed)
        return None, needed.choices
    except DomainError as error:
        add_error(form, error)
        return None, None


@bp.get("")
@login_required
def mine():
    if current_user.membership is not None:
        return redirect(url_for("organisations.show", organisation_id=current_user.membership.organisation_id))
    require(not current_user.is_staff)
    return render_template("organisations/start.html", can_create=permissions.can_create_organisation(current_user))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    require(permissions.can_create_organisation(current_user))
    form = OrganisationForm()
    if form.validate_on_submit():
        organisation, choices = _save(form, None)
        if organisation is not None:
            flash("Your organisation is registered. You can now bid for opportunities.", "success")
            return redirect(url_for("organisations.show", organisation_id=organisation.id))
        return _render_form(form, None, choices)
    return _render_form(form, None, _choices_from_post(form))


def _choices_from_post(form: OrganisationForm):
    """Keep the district question (and the answer given) on screen when other fields have errors."""
    if not form.is_submitted():
        return None
    return services.district_choices(form.operations_address()["postcode"])


@bp.get("/<int:organisation_id>")
@login_required
def show(organisation_id: int):
    organisation = get_organisation_or_404(organisation_id)
    return render_template("organisations/show.html", organisation=organisation,
                           can_edit=permissions.can_edit_organisation(current_user, organisation),
                           can_manage=permissions.can_manage_members(current_user, organisation))


@bp.route("/<int:organisation_id>/edit", methods=["GET", "POST"])
@login_required
def edit(organisation_id: int):
    organisation = get_organisation_or_404(organisation_id)
    require(permissions.can_edit_organisation(current_user, organisation))
    form = OrganisationForm() if request.method == "POST" else form_from_organisation(organisation)
    if form.validate_on_submit():
        saved, choices = _save(form, organisation)
        if saved is not None:
            flash("Your organisation's details are saved.", "success")
            return redirect(url_for("organisations.show", organisation_id=organisation.id))
        db.session.rollback()
        return _render_form(form, organisation, choices)
    choices = _choices_from_post(form) or (
        _stored_choices(organisation) if not form.is_submitted() else None)
    return _render_form(form, organisation, choices)


def _stored_choices(organisation: Organisation):
    return services.district_choices(organisation.operations_postcode)


@bp.route("/<int:organisation_id>/members", methods=["GET", "POST"])
@login_required
def members(organisation_id: int):
    organisation = get_organisation_or_404(organisation_id)
    require_hidden(permissions.is_member(current_user, organisation))
    can_manage = permissions.can_manage_members(current_user, organisation)
    form = InviteColleagueForm()
    if request.method == "POST":
        require(can_manage)
    if form.validate_on_submit():
        try:
            services.invite_colleague(current_user, organisation, form.email.data)
        except DomainError as error:
            add_error(form, error)
        else:
            flash(f"We have sent an invitation to {form.email.data}.", "success")
            return redirect(url_for("organisations.members", organisation_id=organisation.id))
    return render_template("organisations/members.html", organisation=organisation, form=form,
                           can_manage=can_manage, invitations=services.open_invitations(organisation),
                           confirm=ConfirmForm())


@bp.post("/<int:organisation_id>/members/<int:membership_id>/remove")
@login_required
def remove_member(organisation_id: int, membership_id: int):
    organisation = get_organisation_or_404(organisation_id)
    require(permissions.can_manage_members(current_user, organisation))
    if ConfirmForm().validate_on_submit():
        try:
            services.remove_member(current_user, organisation, membership_id)
            flash("That person has been removed from your organisation.", "success")
        except DomainError as error:
            flash(error.message, "error")
    return redirect(url_for("organisations.members", organisation_id=organisation.id))


@bp.post("/<int:organisation_id>/invitations/<int:invitation_id>/cancel")
@login_required
def cancel_invitation(organisation_id: int, invitation_id: int):
    organisation = get_organisation_or_404(organisation_id)
    require(permissions.can_manage_members(current_user, organisation))
    if ConfirmForm().validate_on_submit():
        try:
            services.cancel_invitation(current_user, organisation, invitation_id)
            flash("The invitation is cancelled.", "success")
        except DomainError as error:
            flash(error.message, "error")
    return redirect(url_for("organisations.members", organisation_id=organisation.id))


@bp.route("/join/<token>", methods=["GET", "POST"])
def join(token: str):
    try:
        invitation = services.open_invitation(token)
    except LinkProblem as problem:
        return render_template("accounts/link_problem.html", problem=problem, retry_endpoint=None), 400
    has_account = services.find_user_by_email(invitation.email) is not None
    form = ConfirmForm() if current_user.is_authenticated else JoinForm()
    if form.validate_on_submit():
        try:
            if current_user.is_authenticated:
                services.accept_invitation(current_user, token)
            else:
                if has_account:
                    abort(400)
                login_user(services.join_with_new_account(token, form.full_name.data, form.password.data))
        except DomainError as error:
            add_error(form, error)
        else:
            flash(f"You have joined {invitation.organisation.legal_name}.", "success")
            return redirect(url_for("organisations.show", organisation_id=invitation.organisation_id))
    return render_template("organisations/join.html", invitation=invitation, form=form, has_account=has_account)
