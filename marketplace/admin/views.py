"""Administration pages."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from marketplace.accounts import permissions as perms
from marketplace.accounts import services as accounts
from marketplace.accounts.forms import ConfirmForm, InviteStaffForm, StaffRolesForm
from marketplace.accounts.models import User
from marketplace.accounts.roles import ROLE_HINTS
from marketplace.admin import bp
from marketplace.audit import AuditEvent
from marketplace.bids.access import sealed_bid_ids
from marketplace.timeutil import utcnow
from marketplace.authz import gate, require_hidden
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.forms import add_error
from marketplace.organisations.services import organisations_query
from marketplace.pagination import paginate, pagination_params


def get_staff_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    require_hidden(user is not None and user.is_staff)
    return user


@bp.get("/staff")
@gate(perms.can_administer)
def staff():
    page = paginate(accounts.staff_query())
    return render_template("admin/staff.html", page=page, pagination=pagination_params(page))


@bp.route("/staff/invite", methods=["GET", "POST"])
@gate(perms.can_administer)
def invite_staff():
    form = InviteStaffForm()
    if form.validate_on_submit():
        try:
            user = accounts.invite_staff(current_user, form.email.data, form.full_name.data, form.roles.data)
        except DomainError as error:
            add_error(form, error)
        else:
            flash(f"We have sent an invitation to {user.email}.", "success")
            return redirect(url_for("admin.staff"))
    return render_template("admin/invite_staff.html", form=form, role_hints=ROLE_HINTS)


@bp.route("/staff/<int:user_id>", methods=["GET", "POST"])
@gate(perms.can_administer)
def staff_member(user_id: int):
    user = get_staff_or_404(user_id)
    form = StaffRolesForm(roles=sorted(user.roles)) if request.method == "GET" else StaffRolesForm()
    if form.validate_on_submit():
        try:
            accounts.set_roles(current_user, user, form.roles.data)
        except DomainError as error:
            add_error(form, error)
        else:
            flash(f"{user.full_name}'s roles are saved.", "success")
            return redirect(url_for("admin.staff"))
    return render_template("admin/staff_member.html", member=user, form=form, role_hints=ROLE_HINTS,
                           confirm=ConfirmForm())


@bp.post("/staff/<int:user_id>/active")
@gate(perms.can_administer)
def set_active(user_id: int):
    user = get_staff_or_404(user_id)
    if ConfirmForm().validate_on_submit():
        try:
            accounts.set_active(current_user, user, request.form.get("active") == "1")
            flash(f"{user.full_name}'s account is {'active' if user.is_active else 'deactivated'}.", "success")
        except DomainError as error:
            flash(error.message, "error")
    return redirect(url_for("admin.staff_member", user_id=user.id))


@bp.post("/staff/<int:user_id>/resend")
@gate(perms.can_administer)
def resend_invitation(user_id: int):
    user = get_staff_or_404(user_id)
    if ConfirmForm().validate_on_submit() and not user.has_password:
        accounts.send_staff_invitation(user, current_user)
        flash(f"We have sent the invitation to {user.email} again.", "success")
    return redirect(url_for("admin.staff_member", user_id=user.id))


@bp.get("/providers")
@gate(perms.is_staff)
def providers():
    page = paginate(organisations_query())
    return render_template("admin/providers.html", page=page, pagination=pagination_params(page))


@bp.get("/audit")
@gate(perms.can_read_audit_log)
def audit_log():
    # Sealed: a bid's events stay out of the log until its deadline, or they would count the bids.
    sealed = sa.and_(AuditEvent.object_type == "bid", AuditEvent.object_id.in_(sealed_bid_ids(utcnow())))
    statement = sa.select(AuditEvent).where(~sealed).order_by(AuditEvent.id.desc())
    action = request.args.get("action", "").replace("\x00", "").strip()[:80]  # no action holds a NUL
    if action:
        statement = statement.where(AuditEvent.action.startswith(action))
    page = paginate(statement, per_page=50)
    return render_template("admin/audit.html", page=page, pagination=pagination_params(page), action=action)
