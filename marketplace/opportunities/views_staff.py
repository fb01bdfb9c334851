"""Staff pages: write an opportunity, its lots, documents and evaluation model; approve, return, amend, cancel.

Thin views: look the object up (another's hidden object answers 404), check the same predicates the templates
use, parse the form, call one use case in services, flash and redirect, or show the form again with its errors.
"""

from __future__ import annotations

from typing import Callable

import click
from flask import Flask, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from markupsafe import Markup

from marketplace.authz import gate, require, require_hidden
from marketplace.documents import path_for
from marketplace.errors import DomainError
from marketplace.evaluation import model_rules
from marketplace.evaluation.access import conflicts_assessment_of
from marketplace.evaluation.templates import TEMPLATES
from marketplace.extensions import db
from marketplace.forms import add_error
from marketplace.opportunities import bp, lifecycle, permissions, services
from marketplace.opportunities import forms as f
from marketplace.opportunities.models import DOCUMENT_KINDS, PROCEDURES, RESERVATIONS, Opportunity
from marketplace.pagination import paginate, pagination_params
from marketplace.settings import services as settings
from marketplace.timeutil import format_london, utcnow

PREFIX = "/commissioning"
PROBLEM_PAGES = {"details": ".staff_edit_details", "timetable": ".staff_timetable", "lots": ".staff_lots",
                 "documents": ".staff_documents", "model": ".staff_model", "criterion": ".staff_edit_criterion"}


# Lookups and gates --------------------------------------------------------------------------------------

def get_opportunity_or_404(opportunity_id: int) -> Opportunity:
    """Drafts are hidden (404) from anyone who cannot see them; the staff pages are for staff only (403)."""
    opportunity = db.session.get(Opportunity, opportunity_id)
    require_hidden(opportunity is not None and permissions.can_view(current_user, opportunity, utcnow()))
    require(services.is_commissioning_staff(current_user))
    return opportunity


def _one_of(items, item_id: int):
    found = next((item for item in items if item.id == item_id), None)
    require_hidden(found is not None)
    return found


def _render(template: str, **context):
    """Render a staff page with the lifecycle's words for states."""
    return render_template(template, state_labels=lifecycle.STATE_LABELS, effective_state=lifecycle.effective_state,
                           **context)


def _overview(opportunity: Opportunity):
    return redirect(url_for(".staff_overview", opportunity_id=opportunity.id))


def _locked_redirect(opportunity: Opportunity):
    """None when the signed-in commissioner may edit this draft; 403 for anyone else; the author of an
    opportunity past draft goes back to its overview, told why."""
    if permissions.can_edit_draft(current_user, opportunity) and opportunity.model_frozen_at is None:
        return None
    require(services.is_author(current_user, opportunity))
    flash(services.locked_message(opportunity), "error")
    return _overview(opportunity)


def _saved(form, opportunity: Opportunity | None, action: Callable[[], object]):
    """Run a use case and return what it saved; on a domain error put its messages on the form (which keeps
    what was typed) and return None."""
    try:
        return action()
    except services.NotAllowed:
        db.session.rollback()
        abort(403)
    except DomainError as error:
        db.session.rollback()
        for each in getattr(error, "errors", [error]):
            add_error(form, each)
        if isinstance(error, services.StaleEdit) and opportunity is not None:
            form.version.data = opportunity.version
        return None


def _button(opportunity: Opportunity, action: Callable[[int], object], success: str, back: str | None = None):
    """A POST from a button carrying the version: run the use case, flash the outcome, go back."""
    form = f.VersionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        action(form.version_value())
    except services.NotAllowed:
        db.session.rollback()
        abort(403)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash(success, "success")
    return redirect(back or url_for(".staff_overview", opportunity_id=opportunity.id))


def _with_version(form, opportunity: Opportunity):
    """A form shown fresh carries the current version; a posted one keeps the version it was loaded with."""
    if not form.version.data:
        form.version.data = opportunity.version
    return form


# The list -----------------------------------------------------------------------------------------------

@bp.get(PREFIX)
@gate(services.is_commissioning_staff)
def staff_list():
    status = request.args.get("status", "")
    status = status if status in lifecycle.STATES else ""
    now = utcnow()
    page = paginate(services.staff_query(status or None, now))
    return _render("opportunities/staff/list.html", page=page, pagination=pagination_params(page), status=status,
                   awaiting=services.awaiting_approval_for(current_user), now=now,
                   can_create=permissions.can_create(current_user))


# Details ------------------------------------------------------------------------------------------------

def _details_page(form, opportunity: Opportunity | None):
    return render_template("opportunities/staff/details.html", form=form, opportunity=opportunity,
                           threshold=settings.get("procurement_threshold"))


@bp.route(f"{PREFIX}/new", methods=["GET", "POST"])
@gate(permissions.can_create)
def staff_create():
    form = f.DetailsForm()
    if form.validate_on_submit() and (opportunity := _saved(form, None, lambda: services.create_opportunity(
            current_user, form.details()))):
        flash(f"Opportunity {opportunity.reference} is saved as a draft. Next, set its timetable.", "success")
        return redirect(url_for(".staff_timetable", opportunity_id=opportunity.id))
    return _details_page(form, None)


@bp.route(f"{PREFIX}/<int:opportunity_id>/details", methods=["GET", "POST"])
@login_required
def staff_edit_details(opportunity_id: int):
    opportunity = get_opportunity_or_404(opportunity_id)
    if blocked := _locked_redirect(opportunity):
        return blocked
    form = f.DetailsForm() if request.method == "POST" else f.details_form_for(opportunity)
    if form.validate_on_submit() and _saved(form, opportunity, lambda: services.update_details(
            current_user, opportunity, form.details(), form.version_value())):
        flash("The opportunity's details are saved.", "success")
        return _overview(opportunity)
    return _details_page(form, opportunity)


@bp.route(f"{PREFIX}/<int:opportunity_id>/timetable", methods=["GET", "POST"])
@login_required
def staff_timetable(opportunity_id: int):
    opportunity = get_opportunity_or_404(opportunity_id)
    if blocked := _locked_redirect(opportunity):
        return blocked
    form = _with_version(f.TimetableForm(obj=opportunity if request.method == "GET" else None), opportunity)
    if form.validate_on_submit() and _saved(form, opportunity, lambda: services.update_timetable(
            current_user, opportunity, form.timetable(), form.version_value())):
        flash("The timetable is saved.", "success")
        return _overview(opportunity)
    return render_template("opportunities/staff/timetable.html", form=form, opportunity=opportunity,
                           tender_days=settings.get("minimum_tender_period_days"),
                           gap_days=settings.get("minimum_clarification_gap_days"))


# The overview -------------------------------------------------------------------------------------------

def problem_href(opportunity: Opportunity, problem: services.Problem) -> str:
    ids = {name: value for name, value in (("model_id", problem.model_id), ("criterion_id", problem.criterion_id))
           if value is not None}
    return url_for(PROBLEM_PAGES[problem.section], opportunity_id=opportunity.id, _anchor=problem.anchor, **ids)


def _tasks(opportunity: Opportunity, problems: list[services.Problem]) -> list[dict]:
    """The task list for the author of a draft: each part, and whether the checks find it complete."""
    open_sections = {problem.section for problem in problems}
    link = {"opportunity_id": opportunity.id}
    rows = [
        ("Details", url_for(".staff_edit_details", **link), {"details"}, False),
        ("Timetable", url_for(".staff_timetable", **link), {"timetable"}, False),
        ("Lots", url_for(".staff_lots", **link), None, True),
        ("Evaluation model", url_for(".staff_model", model_id=opportunity.main_model.id, **link),
         {"model", "criterion"}, False),
        ("Documents", url_for(".staff_documents", **link), {"documents"}, False),
    ]
    return [{"title": {"text": title}, "href": href, "status": _task_status(sections, optional, open_sections)}
            for title, href, sections, optional in rows]


def _task_status(sections: set | None, optional: bool, open_sections: set) -> dict:
    if optional:
        return {"text": "Optional"}
    if sections & open_sections:
        return {"tag": {"text": "Incomplete", "classes": "govuk-tag--blue"}}
    return {"text": "Completed"}


@bp.get(f"{PREFIX}/<int:opportunity_id>")
@login_required
def staff_overview(opportunity_id: int):
    get_opportunity_or_404(opportunity_id)
    opportunity = services.load_for_overview(opportunity_id)
    now = utcnow()
    checking = opportunity.status in (lifecycle.DRAFT, lifecycle.AWAITING_APPROVAL)
    problems = services.readiness(opportunity, now, approving=opportunity.status != lifecycle.DRAFT) \
        if checking else []
    can_edit = permissions.can_edit_draft(current_user, opportunity)
    questions = "clarifications.staff_list" in current_app.view_functions and opportunity.status != lifecycle.DRAFT
    return _render(
        "opportunities/staff/overview.html", opportunity=opportunity, now=now, problems=problems,
        tasks=_tasks(opportunity, problems) if can_edit else [],
        questions_link=url_for("clarifications.staff_list", opportunity_id=opportunity.id) if questions else None,
        problem_href=problem_href, actions=services.available_actions(current_user, opportunity, now),
        state=lifecycle.effective_state(opportunity.status, opportunity.submission_deadline, now),
        can_amend=permissions.can_amend(current_user, opportunity, now),
        own_approval=(permissions.can_approve(current_user, opportunity)
                      and services.separation_of_duties_applies(current_user, opportunity)),
        conflicts_assessment=conflicts_assessment_of(opportunity.id),
        procedures=PROCEDURES, reservations=RESERVATIONS, document_kinds=DOCUMENT_KINDS,
        summaries={model.id: services.model_summary(opportunity, model) for model in opportunity.models})


# Lots ---------------------------------------------------------------------------------------------------

@bp.get(f"{PREFIX}/<int:opportunity_id>/lots")
@login_required
def staff_lots(opportunity_id: int):
    opportunity = get_opportunity_or_404(opportunity_id)
    return render_template("opportunities/staff/lots.html", opportunity=opportunity,
                           can_edit=permissions.can_edit_draft(current_user, opportunity),
                           lots_total=services.lots_total(opportunity),
                           models={lot.id: services.model_for_lot(opportunity, lot) for lot in opportunity.lots})


def _lot_page(form, opportunity: Opportunity, lot=None):
    return render_template("opportunities/staff/lot.html", form=form, opportunity=opportunity, lot=lot)


@bp.route(f"{PREFIX}/<int:opportunity_id>/lots/new", methods=["GET", "POST"])
@login_required
def staff_add_lot(opportunity_id: int):
    opportunity = get_opportunity_or_404(opportunity_id)
    if blocked := _locked_redirect(opportunity):
        return blocked
    form = _with_version(f.LotForm(number=len(opportunity.lots) + 1), opportunity)
    if form.validate_on_submit() and _saved(form, opportunity, lambda: services.add_lot(
            current_user, opportunity, form.lot(), form.version_value())):
        flash(f"Lot {form.number.data} is added.", "success")
        return redirect(url_for(".staff_lots", opportunity_id=opportunity.id))
    return _lot_page(form, opportunity)


@bp.route(f"{PREFIX}/<int:opportunity_id>/lots/<int:lot_id>", methods=["GET", "POST"])
@login_required
def staff_edit_lot(opportunity_id: int, lot_id: int):
    opportunity = get_opportunity_or_404(opportunity_id)
    lot = _one_of(opportunity.lots, lot_id)
    if blocked := _locked_redirect(opportunity):
        return blocked
    form = _with_version(f.LotForm(obj=lot if request.method == "GET" else None), opportunity)
    if form.validate_on_submit() and _saved(form, opportunity, lambda: services.update_lot(
            current_user, opportunity, lot, form.lot(), form.version_value())):
        flash(f"Lot {lot.number} is saved.", "success")
        return redirect(url_for(".staff_lots", opportunity_id=opportunity.id))
    return _lot_page(form, opportunity, lot)


@bp.post(f"{PREFIX}/<int:opportunity_id>/lots/<int:lot_id>/remove")
@login_required
def staff_remove_lot(opportunity_id: int, lot_id: int):
    opportunity = get_opportunity_or_404(opportunity_id)
    lot = _one_of(opportunity.lots, lot_id)
    if blocked := _locked_redirect(opportunity):
        return blocked
    return _button(opportunity, lambda version: services.remove_lot(current_user, opportunity, lot, version),
                   f"Lot {lot.number} is removed.", url_for(".staff_lots", opportunity_id=opportunity.id))


@bp.post(f"{PREFIX}/<int:opportunity_id>/lots/<int:lot_id>/model")
@login_required
def staff_lot_model(opportunity_id: int, lot_id: int):
    """Give a lot its own evaluation model, or go back to the opportunity's."""
    opportunity = get_opportunity_or_404(opportunity_id)
    lot = _one_of(opportunity.lots, lot_id)
    if blocked := _locked_redirect(opportunity):
        return blocked
    if request.form.get("own") == "1":
        return _button(opportunity, lambda v: services.give_lot_its_own_model(current_user, opportunity, lot, v),
                       f"Lot {lot.number} now has its own evaluation model, copied from the opportunity's.",
                       url_for(".staff_lots", opportunity_id=opportunity.id))
    return _button(opportunity, lambda v: services.use_main_model_for_lot(current_user, opportunity, lot, v),
                   f"Lot {lot.number} now uses the opportunity's evaluation model.",
                   url_for(".staff_lots", opportunity_id=opportunity.id))


# Documents ----------------------------------------------------------------------------------------------

@bp.route(f"{PREFIX}/<int:opportunity_id>/documents", methods=["GET", "POST"])
@login_required
def staff_documents(opportunity_id: int):
    opportunity = get_opportunity_or_404(opportunity_id)
    can_edit = permissions.can_edit_draft(current_user, opportunity)
    form = _with_version(f.DocumentForm(), opportunity)
    if form.is_submitted() and (blocked := _locked_redirect(opportunity)):
        return blocked
    if form.validate_on_submit() and _saved(form, opportunity, lambda: services.add_document(
            current_user, opportunity, form.kind.data, form.title.data, form.file.data.filename,
            form.file.data.read(), form.version_value())):
        flash("The document is uploaded.", "success")
        return redirect(url_for(".staff_documents", opportunity_id=opportunity.id))
    return render_template("opportunities/staff/documents.html", form=form, opportunity=opportunity,
                           can_edit=can_edit, document_kinds=DOCUMENT_KINDS)


@bp.get(f"{PREFIX}/<int:opportunity_id>/documents/<int:document_id>")
@login_required
def staff_download_document(opportunity_id: int, document_id: int):
    opportunity = get_opportunity_or_404(opportunity_id)
    document = _one_of(opportunity.documents, document_id)
    try:
        path = path_for(document.storage_key)
    except FileNotFoundError:
        abort(404)
    require_hidden(path.exists())
    return send_file(path, mimetype=document.content_type, as_attachment=True, download_name=document.filename)


@bp.post(f"{PREFIX}/<int:opportunity_id>/documents/<int:document_id>/remove")
@login_required
def staff_remove_document(opportunity_id: int, document_id: int):
    opportunity = get_opportunity_or_404(opportunity_id)
    document = _one_of(opportunity.documents, document_id)
    if blocked := _locked_redirect(opportunity):
        return blocked
    return _button(opportunity, lambda v: services.remove_document(current_user, opportunity, document, v),
                   f"{document.title} is removed.", url_for(".staff_documents", opportunity_id=opportunity.id))


# The evaluation model -----------------------------------------------------------------------------------

def _model_page(opportunity: Opportunity, model, reason_form=None, template_form=None):
    lot = next((lot for lot in opportunity.lots if lot.id == model.lot_id), None)
    reason_form = reason_form or _with_version(
        f.PublicValueReasonForm(formdata=None, reason=model.low_public_value_reason), opportunity)
    template_form = template_form or _with_version(f.TemplateForm(formdata=None), opportunity)
    return render_template(
        "opportunities/staff/model.html", opportunity=opportunity, model=model, lot=lot,
        summary=services.model_summary(opportunity, model), kinds=model_rules.KINDS,
        plain_words=lambda c: model_rules.plain_words(services.criterion_spec(c)),
        can_edit=permissions.can_edit_draft(current_user, opportunity) and opportunity.model_frozen_at is None,
        reason_form=reason_form, template_form=template_form,
        form=reason_form if reason_form.errors else template_form)


@bp.get(f"{PREFIX}/<int:opportunity_id>/models/<int:model_id>")
@login_required
def staff_model(opportunity_id: int, model_id: int):
    opportunity = get_opportunity_or_404(opportunity_id)
    return _model_page(opportunity, _one_of(opportunity.models, model_id))


def _criterion_page(form, opportunity: Opportunity, model, criterion=None):
    return render_template("opportunities/staff/criterion.html", form=form, opportunity=opportunity, model=model,
                           criterion=criterion)


def _back_to_model(opportunity: Opportunity, model):
    return redirect(url_for(".staff_model", opportunity_id=opportunity.id, model_id=model.id))


@bp.route(f"{PREFIX}/<int:opportunity_id>/models/<int:model_id>/criteria/new", methods=["GET", "POST"])
@login_required
def staff_add_criterion(opportunity_id: int, model_id: int):
    opportunity = get_opportunity_or_404(opportunity_id)
    model = _one_of(opportunity.models, model_id)
    if blocked := _locked_redirect(opportunity):
        return blocked
    form = f.CriterionForm() if request.method == "POST" else f.new_criterion_form(opportunity.version)
    if form.validate_on_submit() and _saved(form, opportunity, lambda: services.add_criterion(
            current_user, opportunity, model, form.criterion(), form.version_value())):
        flash(f"‘{form.title.data}’ is added.", "success")
        return _back_to_model(opportunity, model)
    return _criterion_page(form, opportunity, model)


@bp.route(f"{PREFIX}/<int:opportunity_id>/models/<int:model_id>/criteria/<int:criterion_id>",
          methods=["GET", "POST"])
@login_required
def staff_edit_criterion(opportunity_id: int, model_id: int, criterion_id: int):
    opportunity = get_opportunity_or_404(opportunity_id)
    model = _one_of(opportunity.models, model_id)
    criterion = _one_of(model.criteria, criterion_id)
    if blocked := _locked_redirect(opportunity):
        return blocked
    form = f.CriterionForm() if request.method == "POST" else f.criterion_form_for(criterion, opportunity.version)
    if form.validate_on_submit() and _saved(form, opportunity, lambda: services.update_criterion(
            current_user, opportunity, criterion, form.criterion(), form.version_value())):
        flash(f"‘{criterion.title}’ is saved.", "success")
        return _back_to_model(opportunity, model)
    return _criterion_page(form, opportunity, model, criterion)


@bp.post(f"{PREFIX}/<int:opportunity_id>/models/<int:model_id>/criteria/<int:criterion_id>/remove")
@login_required
def staff_remove_criterion(opportunity_id: int, model_id: int, criterion_id: int):
    opportunity = get_opportunity_or_404(opportunity_id)
    model = _one_of(opportunity.models, model_id)
    criterion = _one_of(model.criteria, criterion_id)
    if blocked := _locked_redirect(opportunity):
        return blocked
    return _button(opportunity, lambda v: services.remove_criterion(current_user, opportunity, criterion, v),
                   f"‘{criterion.title}’ is removed.",
                   url_for(".staff_model", opportunity_id=opportunity.id, model_id=model.id))


@bp.post(f"{PREFIX}/<int:opportunity_id>/models/<int:model_id>/criteria/<int:criterion_id>/move")
@login_required
def staff_move_criterion(opportunity_id: int, model_id: int, criterion_id: int):
    opportunity = get_opportunity_or_404(opportunity_id)
    model = _one_of(opportunity.models, model_id)
    criterion = _one_of(model.criteria, criterion_id)
    if blocked := _locked_redirect(opportunity):
        return blocked
    direction = "up" if request.form.get("direction") == "up" else "down"
    return _button(opportunity, lambda v: services.move_criterion(current_user, opportunity, criterion, direction,
                                                                  v),
                   f"‘{criterion.title}’ is moved {direction}.",
                   url_for(".staff_model", opportunity_id=opportunity.id, model_id=model.id))


@bp.post(f"{PREFIX}/<int:opportunity_id>/models/<int:model_id>/reason")
@login_required
def staff_model_reason(opportunity_id: int, model_id: int):
    opportunity = get_opportunity_or_404(opportunity_id)
    model = _one_of(opportunity.models, model_id)
    if blocked := _locked_redirect(opportunity):
        return blocked
    form = f.PublicValueReasonForm()
    if form.validate_on_submit() and _saved(form, opportunity, lambda: services.record_low_public_value_reason(
            current_user, opportunity, model, form.reason.data, form.version_value())):
        flash("The reason for the public value weight is recorded.", "success")
        return _back_to_model(opportunity, model)
    return _model_page(opportunity, model, reason_form=form)


@bp.post(f"{PREFIX}/<int:opportunity_id>/models/<int:model_id>/template")
@login_required
def staff_model_template(opportunity_id: int, model_id: int):
    opportunity = get_opportunity_or_404(opportunity_id)
    model = _one_of(opportunity.models, model_id)
    if blocked := _locked_redirect(opportunity):
        return blocked
    form = f.TemplateForm()
    if not form.validate_on_submit():
        return _model_page(opportunity, model, template_form=form)
    if model.criteria and form.confirm.data != "yes":
        return render_template("opportunities/staff/template_confirm.html", form=form, opportunity=opportunity,
                               model=model, template_label=TEMPLATES[form.template.data][0])
    if _saved(form, opportunity, lambda: services.apply_template(current_user, opportunity, model,
                                                                 form.template.data, form.version_value())):
        flash(f"The criteria now come from the template ‘{TEMPLATES[form.template.data][0]}’. Check and adjust "
              "them for this service.", "success")
        return _back_to_model(opportunity, model)
    return _model_page(opportunity, model, template_form=form)


# The lifecycle ------------------------------------------------------------------------------------------

def _refusal(opportunity: Opportunity, action: Callable[[int], object], success: str):
    """Submit and approve: a NotReady refusal sends the user to the overview, which lists what to fix."""
    def run(version: int):
        try:
            action(version)
        except services.NotReady as not_ready:
            raise DomainError(f"{not_ready.message}: {len(not_ready.problems)} to fix, listed below.") from None
    return _button(opportunity, run, success)


@bp.post(f"{PREFIX}/<int:opportunity_id>/submit")
@login_required
def staff_submit(opportunity_id: int):
    opportunity = get_opportunity_or_404(opportunity_id)
    require(services.is_author(current_user, opportunity))
    return _refusal(opportunity, lambda v: services.submit_for_approval(current_user, opportunity, v),
                    "The opportunity is sent for approval. Procurement officers have been emailed.")


@bp.post(f"{PREFIX}/<int:opportunity_id>/approve")
@login_required
def staff_approve(opportunity_id: int):
    opportunity = get_opportunity_or_404(opportunity_id)
    require(permissions.can_approve(current_user, opportunity))

    def approve(version: int):
        try:
            services.approve(current_user, opportunity, version)
        except services.NoConflictsAssessment as missing:  # the message links to where it is recorded
            link = url_for("evaluation.staff_conflicts_assessment", opportunity_id=opportunity.id)
            raise DomainError(Markup('{} <a class="govuk-notification-banner__link" href="{}">Record the '
                                     'conflicts assessment</a>').format(missing.message, link)) from None
    return _refusal(opportunity, approve,
                    "The opportunity is approved and published. Its evaluation model is now frozen.")


def _reason_page(form_class, opportunity: Opportunity, allowed: bool, use_case, success: str, template: str,
                 extra: Callable[[object], dict] = lambda form: {}):
    require(allowed)
    form = _with_version(form_class(), opportunity)
    if form.validate_on_submit() and _saved(form, opportunity, lambda: use_case(
            current_user, opportunity, form.reason.data, form.version_value(), **extra(form))):
        flash(success, "success")
        return _overview(opportunity)
    return render_template(template, form=form, opportunity=opportunity)


@bp.route(f"{PREFIX}/<int:opportunity_id>/return", methods=["GET", "POST"])
@login_required
def staff_return(opportunity_id: int):
    opportunity = get_opportunity_or_404(opportunity_id)
    allowed = opportunity.status == lifecycle.AWAITING_APPROVAL and services.may_return(current_user, opportunity)
    return _reason_page(f.ReturnForm, opportunity, allowed, services.return_to_draft,
                        "The opportunity is back in draft.", "opportunities/staff/return.html")


@bp.route(f"{PREFIX}/<int:opportunity_id>/cancel", methods=["GET", "POST"])
@login_required
def staff_cancel(opportunity_id: int):
    opportunity = get_opportunity_or_404(opportunity_id)
    return _reason_page(f.CancelForm, opportunity, permissions.can_cancel(current_user, opportunity),
                        services.cancel, "The opportunity is cancelled.", "opportunities/staff/cancel.html",
                        extra=lambda form: {"category": form.category.data})


@bp.route(f"{PREFIX}/<int:opportunity_id>/amend", methods=["GET", "POST"])
@login_required
def staff_amend(opportunity_id: int):
    opportunity = get_opportunity_or_404(opportunity_id)
    require(permissions.can_amend(current_user, opportunity, utcnow()))
    form = _with_version(f.AmendmentForm(), opportunity)
    if form.validate_on_submit() and _saved(form, opportunity, lambda: services.publish_amendment(
            current_user, opportunity, form.amendment(), form.version_value())):
        flash("The amendment notice is published. The submission deadline is now "
              f"{format_london(opportunity.submission_deadline)}.", "success")
        return _overview(opportunity)
    return render_template("opportunities/staff/amend.html", form=form, opportunity=opportunity,
                           extension_days=settings.get("amendment_extension_days"))


# The clock ----------------------------------------------------------------------------------------------

@click.command("close-opportunities")
def close_opportunities_command() -> None:
    """Close every published opportunity whose submission deadline has passed (run it from cron)."""
    closed = services.close_due(utcnow())
    click.echo(f"Closed {closed} opportunit{'y' if closed == 1 else 'ies'}.")


def init_cli(app: Flask) -> None:
    app.cli.add_command(close_opportunities_command)


@bp.record_once
def _register_cli(state) -> None:
    init_cli(state.app)
