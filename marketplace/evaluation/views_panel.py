"""Evaluation pages: the overview (a task list by stage), the conflicts assessment, the panel, conflict
declarations and their mitigation, and a staff member's own panels.

Gates: procurement officers manage; a page for panel members is for current members only; anyone else, and
anything that belongs to another opportunity, gets 404. Thin views: gate, parse, call one use case, flash and
redirect, or show the form again with its errors.
"""

from __future__ import annotations

from typing import Any, Callable

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from marketplace.accounts import permissions as account_perms
from marketplace.accounts.models import User
from marketplace.authz import require_hidden
from marketplace.errors import DomainError
from marketplace.evaluation import access, bp, compliance, panel, panel_rules, permissions
from marketplace.evaluation import forms_panel as f
from marketplace.evaluation.models import EVALUATOR, MODERATOR, PANEL_ROLES, ConflictDeclaration, PanelMember
from marketplace.extensions import db
from marketplace.forms import add_error
from marketplace.opportunities import lifecycle
from marketplace.opportunities.models import Opportunity
from marketplace.pagination import paginate, pagination_params
from marketplace.timeutil import utcnow

PREFIX = "/commissioning/<int:opportunity_id>/evaluation"


# Gates ------------------------------------------------------------------------------------------------------

def opportunity_or_404(opportunity_id: int) -> Opportunity:
    opportunity = db.session.get(Opportunity, opportunity_id)
    require_hidden(opportunity is not None)
    return opportunity


def managed_or_404(opportunity_id: int) -> Opportunity:
    """For procurement officers only."""
    require_hidden(permissions.is_officer(current_user))
    return opportunity_or_404(opportunity_id)


def visible_or_404(opportunity_id: int) -> Opportunity:
    """For procurement officers and the opportunity's current panel members."""
    require_hidden(permissions.can_see_evaluation(current_user, bool(access.memberships(current_user, opportunity_id))))
    return opportunity_or_404(opportunity_id)


def attempt(form, action: Callable[[], Any]) -> Any:
    """Run a use case; on a refusal put its messages on the form (which keeps what was typed) and return None."""
    try:
        return action()
    except DomainError as error:
        db.session.rollback()
        for each in getattr(error, "errors", [error]):
            add_error(form, each)
        return None


def button(action: Callable[[], Any], success: str, back: str):
    """A POST button: run the use case, flash the outcome, go back."""
    require_hidden(f.ButtonForm().validate_on_submit())
    try:
        action()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash(success, "success")
    return redirect(back)


def _to(endpoint: str, opportunity: Opportunity, **args) -> str:
    return url_for(endpoint, opportunity_id=opportunity.id, **args)


# The overview -----------------------------------------------------------------------------------------------

@bp.get(PREFIX)
@login_required
def staff_overview(opportunity_id: int):
    opportunity = visible_or_404(opportunity_id)
    progress = compliance.progress(opportunity)
    return render_template("evaluation/overview.html", opportunity=opportunity, progress=progress,
                           evaluation=progress.evaluation, officer=permissions.is_officer(current_user),
                           own=access.memberships(current_user, opportunity.id),
                           own_declaration=access.declaration_of(current_user, opportunity.id),
                           state_labels=lifecycle.STATE_LABELS, roles=PANEL_ROLES)


# The conflicts assessment -------------------------------------------------------------------------------------

@bp.route(f"{PREFIX}/conflicts-assessment", methods=["GET", "POST"])
@login_required
def staff_conflicts_assessment(opportunity_id: int):
    opportunity = managed_or_404(opportunity_id)
    existing = access.conflicts_assessment_of(opportunity.id)
    editable = permissions.can_record_conflicts_assessment(current_user, opportunity.status, existing is not None)
    form = f.ConflictsAssessmentForm(data=_assessment_start(opportunity, existing))
    if editable and form.validate_on_submit() and attempt(form, lambda: panel.record_conflicts_assessment(
            current_user, opportunity, form.parts())):
        flash("The conflicts assessment is recorded." + (" You can now approve and publish the opportunity."
                                                          if opportunity.status == lifecycle.AWAITING_APPROVAL
                                                          else ""), "success")
        before = opportunity.status in permissions.BEFORE_PUBLICATION
        return redirect(_to("opportunities.staff_overview" if before else ".staff_overview", opportunity))
    return render_template("evaluation/conflicts_assessment.html", form=form, opportunity=opportunity,
                           assessment=existing, editable=editable)


def _assessment_start(opportunity: Opportunity, existing) -> dict:
    if existing is not None:
        return panel_rules.split_assessment(existing.summary)
    author = opportunity.created_by
    return {"prepared_by": f"{author.full_name}, commissioner" if author else ""}


# The panel ------------------------------------------------------------------------------------------------------

def _panel_page(opportunity: Opportunity, evaluator_form=None, moderator_form=None):
    state = panel.panel_state(opportunity)
    people = panel.candidates()
    evaluation = access.evaluation_of(opportunity.id)
    complete = evaluation is not None and evaluation.moderation_completed_at is not None
    return render_template(
        "evaluation/panel.html", opportunity=opportunity, panel=state,
        can_manage=permissions.can_manage_panel(current_user, panel.state_of(opportunity), complete),
        moderation_complete=complete, roles=PANEL_ROLES, former=panel.former_members(opportunity.id),
        evaluator_form=evaluator_form or f.EvaluatorForm(formdata=None, people=people, criteria=state.criteria),
        moderator_form=moderator_form or f.ModeratorForm(formdata=None, people=people),
        form=evaluator_form or moderator_form)


@bp.get(f"{PREFIX}/panel")
@login_required
def staff_panel(opportunity_id: int):
    return _panel_page(managed_or_404(opportunity_id))


@bp.post(f"{PREFIX}/panel/evaluators")
@login_required
def staff_add_evaluator(opportunity_id: int):
    opportunity = managed_or_404(opportunity_id)
    form = f.EvaluatorForm(people=panel.candidates(), criteria=panel.scored_criteria(opportunity))
    if form.validate_on_submit() and (member := attempt(form, lambda: panel.assign(current_user, opportunity, (
            panel.Assignment(f.chosen_id(form.evaluator), EVALUATOR, form.chosen_criteria()))))):
        flash(f"{member.user.full_name} is added to the panel as an evaluator and has been emailed.", "success")
        return redirect(_to(".staff_panel", opportunity))
    return _panel_page(opportunity, evaluator_form=form)


@bp.post(f"{PREFIX}/panel/moderator")
@login_required
def staff_set_moderator(opportunity_id: int):
    opportunity = managed_or_404(opportunity_id)
    form = f.ModeratorForm(people=panel.candidates())
    if form.validate_on_submit() and (member := attempt(form, lambda: panel.assign(
            current_user, opportunity, panel.Assignment(f.chosen_id(form.moderator), MODERATOR)))):
        flash(f"{member.user.full_name} is the moderator and has been emailed.", "success")
        return redirect(_to(".staff_panel", opportunity))
    return _panel_page(opportunity, moderator_form=form)


def _member_or_404(opportunity: Opportunity, member_id: int) -> PanelMember:
    member = db.session.get(PanelMember, member_id)
    require_hidden(member is not None and member.opportunity_id == opportunity.id and member.removed_at is None)
    return member


@bp.route(f"{PREFIX}/panel/<int:member_id>/replace", methods=["GET", "POST"])
@login_required
def staff_replace_member(opportunity_id: int, member_id: int):
    opportunity = managed_or_404(opportunity_id)
    member = _member_or_404(opportunity, member_id)
    form = f.ReplaceForm(people=[p for p in panel.candidates() if p.id != member.user_id])
    if form.validate_on_submit() and attempt(form, lambda: panel.replace(
            current_user, opportunity, member, form.reason.data, f.chosen_id(form.replacement))):
        flash(f"{member.user.full_name} is off the panel." + (" Their replacement has been emailed."
                                                              if form.replacement.data else ""), "success")
        return redirect(_to(".staff_panel", opportunity))
    return render_template("evaluation/replace.html", form=form, opportunity=opportunity, member=member,
                           roles=PANEL_ROLES)


@bp.route(f"{PREFIX}/declarations/<int:declaration_id>/mitigate", methods=["GET", "POST"])
@login_required
def staff_mitigate(opportunity_id: int, declaration_id: int):
    opportunity = managed_or_404(opportunity_id)
    declaration = db.session.get(ConflictDeclaration, declaration_id)
    require_hidden(declaration is not None and declaration.opportunity_id == opportunity.id)
    form = f.MitigationForm()
    if form.validate_on_submit() and attempt(form, lambda: panel.mitigate(
            current_user, opportunity, declaration, form.mitigation.data)):
        flash("The mitigation is recorded. The panel member has been emailed.", "success")
        return redirect(_to(".staff_panel", opportunity))
    return render_template("evaluation/mitigate.html", form=form, opportunity=opportunity, declaration=declaration,
                           member=db.session.get(User, declaration.user_id),
                           allowed=permissions.can_mitigate(current_user, declaration.user_id,
                                                            panel.state_of(opportunity)))


# Conflict declarations ---------------------------------------------------------------------------------------

def _member_page_or_404(opportunity_id: int) -> Opportunity:
    """For the opportunity's current panel members only."""
    require_hidden(bool(access.memberships(current_user, opportunity_id)))
    return opportunity_or_404(opportunity_id)


def _declaration_page(opportunity: Opportunity, form=None, later_form=None):
    now = utcnow()
    open_now = permissions.can_declare(True, opportunity.submission_deadline, now)
    return render_template(
        "evaluation/declaration.html", opportunity=opportunity, open_now=open_now,
        bidders=panel.bidder_names(opportunity.id) if open_now else [],
        declaration=access.declaration_of(current_user, opportunity.id),
        places=access.memberships(current_user, opportunity.id), roles=PANEL_ROLES,
        declaration_form=form or f.DeclarationForm(formdata=None),
        later_form=later_form or f.LaterConflictForm(formdata=None), form=form or later_form)


@bp.route(f"{PREFIX}/declaration", methods=["GET", "POST"])
@login_required
def declaration(opportunity_id: int):
    opportunity = _member_page_or_404(opportunity_id)
    if request.method == "GET":
        return _declaration_page(opportunity)
    form = f.DeclarationForm()
    if form.validate_on_submit() and attempt(form, lambda: panel.declare(
            current_user, opportunity, form.has_conflict, form.details.data)):
        flash("Your declaration is recorded." + (
            " A procurement officer must record how your conflict is managed before you see any bid."
            if form.has_conflict else ""), "success")
        return redirect(_to(".declaration", opportunity))
    return _declaration_page(opportunity, form=form)


@bp.post(f"{PREFIX}/declaration/later")
@login_required
def declare_later(opportunity_id: int):
    opportunity = _member_page_or_404(opportunity_id)
    form = f.LaterConflictForm()
    if form.validate_on_submit() and attempt(form, lambda: panel.declare_later_conflict(
            current_user, opportunity, form.details.data)):
        flash("Your conflict is recorded. You will not see the bids until a procurement officer records how it is "
              "managed.", "success")
        return redirect(_to(".declaration", opportunity))
    return _declaration_page(opportunity, later_form=form)


# A staff member's own panels ------------------------------------------------------------------------------

@bp.get("/commissioning/evaluations")
@login_required
def panels():
    require_hidden(account_perms.is_staff(current_user))
    page = paginate(panel.my_panels_statement(current_user))
    rows = panel.panel_rows(current_user, list(page.items), utcnow())
    return render_template("evaluation/panels.html", rows=rows, page=page, pagination=pagination_params(page),
                           roles=PANEL_ROLES, step_href=_step_href)


STEP_PAGES = {panel_rules.DECLARE.key: "evaluation.declaration", panel_rules.SCORE.key: "evaluation.scoring",
              panel_rules.MODERATE.key: "evaluation.moderation_sheet"}


def _step_href(row: panel.PanelRow) -> str:
    """The page for the member's next step; the evaluation overview when this build has no page for it."""
    endpoint = STEP_PAGES.get(row.step.key, ".staff_overview")
    return _to(endpoint if endpoint in current_app.view_functions else ".staff_overview", row.opportunity)
