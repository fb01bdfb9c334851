"""Bid preparation pages: start a bid, the task list, and one page per section.

Thin views: find the signed-in user's organisation's bid (anyone else, council staff included, gets 404: bids are
sealed), parse the form, call one use case in bids.preparation, flash, redirect; or show the page again with the
errors and everything the user typed.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, Callable

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from marketplace.accounts import permissions as account_perms
from marketplace.authz import require_hidden
from marketplace.bids import answering, bp, rules
from marketplace.bids import forms as f
from marketplace.bids import measures
from marketplace.bids import preparation as prep
from marketplace.bids.access import opportunity_or_404, organisation_bid_or_404
from marketplace.bids.models import Bid
from marketplace.documents import ALLOWED_DESCRIPTION, path_for
from marketplace.errors import DomainError
from marketplace.evaluation.model_rules import DEFAULT_DESCRIPTORS
from marketplace.forms import add_error, options
from marketplace.opportunities import permissions as opportunity_perms
from marketplace.opportunities.models import RESERVATIONS
from marketplace.opportunities.services import pounds
from marketplace.opportunities.search import countdown, describe_file
from marketplace.organisations.choices import ORGANISATION_TYPES, SIZES
from marketplace.timeutil import format_london_time, utcnow

PREFIX = "/opportunities/<int:opportunity_id>/bid"
SECTION_ENDPOINTS = {
    "lots": "bids.prepare_lots", "eligibility": "bids.prepare_eligibility", "price": "bids.prepare_price",
    "social_value": "bids.prepare_social_value", "local_economy": "bids.prepare_local_economy",
    "consortium": "bids.prepare_consortium", "documents": "bids.prepare_documents",
    "declarations": "bids.prepare_declarations",
}
NOT_SAVED = "Draft not saved."
AUTOSAVE_STALE = (f"{NOT_SAVED} A colleague changed this bid after you opened this page. Choose a Save button to "
                  "see their changes: your text stays in the box.")
# Pages of the submission half, linked when they exist in this build.
CHECK_ENDPOINT, WITHDRAW_ENDPOINT = "bids.check", "bids.withdraw"
STATUS_DISPLAY = {
    prep.NOT_STARTED: {"tag": {"text": prep.NOT_STARTED, "classes": "govuk-tag--blue"}},
    prep.IN_PROGRESS: {"tag": {"text": prep.IN_PROGRESS, "classes": "govuk-tag--light-blue"}},
    prep.COMPLETED: {"text": prep.COMPLETED},
    prep.CANNOT_START: {"text": prep.CANNOT_START, "classes": "govuk-task-list__status--cannot-start-yet"},
}


# Links --------------------------------------------------------------------------------------------------

def section_url(opportunity_id: int, section: str) -> str | None:
    """The page for a task-list section ('price', 'answer-12', ...): also used for rules.Missing.section."""
    if section.startswith("answer-") and section[7:].isdigit():
        return url_for("bids.prepare_answer", opportunity_id=opportunity_id, criterion_id=int(section[7:]))
    endpoint = SECTION_ENDPOINTS.get(section)
    return url_for(endpoint, opportunity_id=opportunity_id) if endpoint else None


def _task_list_url(opportunity_id: int) -> str:
    return url_for("bids.task_list", opportunity_id=opportunity_id)


def _optional_url(endpoint: str, opportunity_id: int) -> str | None:
    return url_for(endpoint, opportunity_id=opportunity_id) if endpoint in current_app.view_functions else None


def _next_url(opportunity, bid, section: str) -> str:
    following = prep.next_section(opportunity, bid, section)
    return section_url(opportunity.id, following) if following else _task_list_url(opportunity.id)


# Lookups ------------------------------------------------------------------------------------------------

def _bid_or_404(opportunity_id: int, *load):
    bid = organisation_bid_or_404(current_user, opportunity_id, *load)
    opportunity = prep.opportunity_with_questions(opportunity_id, lock=request.method == "POST")
    require_hidden(opportunity is not None)
    return opportunity, bid


def _one_of(rows, row_id: int):
    found = next((row for row in rows if row.id == row_id), None)
    require_hidden(found is not None)
    return found


def _posted(form_class, **data):
    """The posted form, or on GET a form filled with what is saved."""
    return form_class() if request.method == "POST" else form_class(**data)


# Rendering and saving -----------------------------------------------------------------------------------

def _page(template: str, opportunity, bid, section: str | None = None, **context):
    now = utcnow()
    return render_template(
        template, opportunity=opportunity, bid=bid, section=section, refusal=prep.edit_refusal(bid, opportunity, now),
        countdown=countdown(opportunity.submission_deadline, now) if opportunity.submission_deadline else "",
        task_list_url=_task_list_url(opportunity.id), withdraw_url=_optional_url(WITHDRAW_ENDPOINT, opportunity.id),
        next_url=_next_url(opportunity, bid, section) if section else None, percent=prep.percent,
        pounds=pounds, count_words=rules.count_words, **context)


def _saved(form, action: Callable[[], Any]) -> bool:
    """Run a use case; a refusal goes next to its field (or in the summary) and the form keeps what was typed."""
    try:
        action()
    except prep.NotABidder:
        abort(404)
    except DomainError as error:
        add_error(form, error)
        form.stale = isinstance(error, prep.StaleBid)
        return False
    return True


def _section(section: str, template: str, form, opportunity, bid, save: Callable[[], Any], success: str,
             **context):
    """A page that saves the whole section: save, then go on to the next section or back to the task list."""
    if form.validate_on_submit() and _saved(form, save):
        flash(success, "success")
        return redirect(_task_list_url(opportunity.id) if form.returning else _next_url(opportunity, bid, section))
    return _page(template, opportunity, bid, section, form=form, **context)


def _rows(section: str, template: str, form, opportunity, bid, add: Callable[[], Any], success: str, **context):
    """A page that lists rows and adds one at a time; each row is saved as it is added."""
    if form.validate_on_submit() and _saved(form, add):
        flash(success, "success")
        return redirect(section_url(opportunity.id, section))
    return _page(template, opportunity, bid, section, form=form, **context)


def _remove(opportunity, section: str, remove: Callable[[], Any], success: str):
    try:
        remove()
    except prep.NotABidder:
        abort(404)
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(success, "success")
    return redirect(section_url(opportunity.id, section))


# Starting and the task list -----------------------------------------------------------------------------

def _start_page(form, opportunity, organisation):
    now = utcnow()
    return render_template("bids/prepare/start.html", form=form, opportunity=opportunity, organisation=organisation,
                           refusal=prep.start_refusal(opportunity, organisation, now), reservations=RESERVATIONS,
                           countdown=countdown(opportunity.submission_deadline, now)
                           if opportunity.submission_deadline else "")


@bp.route(f"{PREFIX}/start", methods=["GET", "POST"])
@login_required
def start_bid(opportunity_id: int):
    require_hidden(account_perms.is_provider(current_user))
    opportunity = opportunity_or_404(opportunity_id)
    require_hidden(opportunity_perms.is_public(opportunity, utcnow()))
    organisation = prep.organisation_of(current_user)
    if organisation is not None and prep.find_bid(opportunity.id, organisation.id) is not None:
        return redirect(_task_list_url(opportunity.id))
    form = f.StartForm()
    if form.validate_on_submit() and _saved(form, lambda: prep.start_bid(current_user, opportunity)):
        flash("Your bid is started. Your colleagues can see it and work on it with you: each section is saved as "
              "you go.", "success")
        return redirect(_task_list_url(opportunity.id))
    return _start_page(form, opportunity, organisation)


@bp.get(PREFIX)
@login_required
def task_list(opportunity_id: int):
    """The organisation's bid; someone whose organisation has none yet goes to the start page."""
    require_hidden(account_perms.is_provider(current_user))
    organisation = prep.organisation_of(current_user)
    bid = prep.find_bid(opportunity_id, organisation.id) if organisation is not None else None
    if bid is None:
        return redirect(url_for("bids.start_bid", opportunity_id=opportunity_id))
    opportunity = prep.opportunity_with_questions(opportunity_id)
    tasks = prep.tasks(opportunity, bid)
    items = [{"title": {"text": task.title}, "hint": {"text": task.hint} if task.hint else None,
              "href": None if task.status == prep.CANNOT_START else section_url(opportunity.id, task.section),
              "status": STATUS_DISPLAY[task.status]} for task in tasks]
    return _page("bids/prepare/task_list.html", opportunity, bid, items=items,
                 completed=sum(task.status == prep.COMPLETED for task in tasks), total=len(tasks),
                 last_saved_by=prep.last_saved_by(bid), status_label=rules.STATUS_LABELS.get(bid.status, bid.status),
                 check_url=_optional_url(CHECK_ENDPOINT, opportunity.id))


@bp.get(f"{PREFIX}/sections/<section>")
@login_required
def section(opportunity_id: int, section: str):
    """The page that fixes a section named by rules.Missing.section (the check page links here)."""
    opportunity, bid = _bid_or_404(opportunity_id)
    return redirect(section_url(opportunity.id, section) or _task_list_url(opportunity.id))


# Sections that save the whole page ----------------------------------------------------------------------

@bp.route(f"{PREFIX}/lots", methods=["GET", "POST"])
@login_required
def prepare_lots(opportunity_id: int):
    opportunity, bid = _bid_or_404(opportunity_id)
    require_hidden(bool(opportunity.lots))
    form = _posted(f.LotsForm, lots=[str(i) for i in bid.lot_ids or []], version=bid.version)
    form.lots.choices = options((str(lot.id), f"Lot {lot.number}: {lot.title}") for lot in opportunity.lots)
    return _section("lots", "bids/prepare/lots.html", form, opportunity, bid,
                    lambda: prep.save_lots(current_user, bid, form.lot_ids(), form.version_value()),
                    "The lots you are bidding for are saved.")


@bp.route(f"{PREFIX}/eligibility", methods=["GET", "POST"])
@login_required
def prepare_eligibility(opportunity_id: int):
    opportunity, bid = _bid_or_404(opportunity_id)
    asked = prep.pass_fail_questions(opportunity, bid)
    require_hidden(bool(asked))
    form = f.confirmations_form(asked, None if request.method == "POST" else f.confirmations_data(bid, asked))
    return _section("eligibility", "bids/prepare/eligibility.html", form, opportunity, bid,
                    lambda: prep.save_confirmations(current_user, bid, f.confirmations_of(form),
                                                    form.version_value()),
                    "Your answers to the eligibility questions are saved.", asked=asked, reservations=RESERVATIONS)


@bp.route(f"{PREFIX}/answers/<int:criterion_id>", methods=["GET", "POST"])
@login_required
def prepare_answer(opportunity_id: int, criterion_id: int):
    opportunity, bid = _bid_or_404(opportunity_id, joinedload(Bid.answers))
    question = prep.answer_question(opportunity, bid, criterion_id)
    require_hidden(question is not None)
    form = _posted(f.AnswerForm, text=prep.saved_answer(bid, criterion_id), version=bid.version)
    return _section(question.section, "bids/prepare/answer.html", form, opportunity, bid,
                    lambda: answering.save_answer(current_user, opportunity.id, criterion_id, form.text.data,
                                                  form.version_value()),
                    f"Your answer to ‘{question.label}’ is saved.", question=question,
                    descriptors=question.criterion.descriptors or DEFAULT_DESCRIPTORS,
                    saved_answer=lambda: prep.saved_answer(bid, criterion_id))


@bp.post(f"{PREFIX}/answers/<int:criterion_id>/draft")
@login_required
def autosave_answer(opportunity_id: int, criterion_id: int):
    """The answer page's background save while the user types (static/js/autosave.js): the same use case as its
    Save buttons, answered in JSON for the page's script, with the bid's new version for the next save. It leaves
    the session alone: no message waits for the next page. (CSRFProtect has checked the token.)"""
    version = f.AnswerForm.parse_version(request.form.get("version"))
    try:
        saved = answering.save_answer(current_user, opportunity_id, criterion_id, request.form.get("text", ""),
                                      version)
    except (prep.NotABidder, answering.NotAsked):
        abort(404)
    except prep.StaleBid:
        return _not_saved(AUTOSAVE_STALE, HTTPStatus.CONFLICT)
    except DomainError as error:
        return _not_saved(f"{NOT_SAVED} {error.message}", HTTPStatus.UNPROCESSABLE_ENTITY)
    return jsonify(saved=True, version=saved.version, message=f"Draft saved at {format_london_time(saved.saved_at)}")


def _not_saved(message: str, status: HTTPStatus):
    return jsonify(saved=False, message=message), status


def _price_form(bid):
    """The saved total, or to start with the price schedule's total."""
    total = bid.price_total if bid.price_total is not None else (prep.schedule_total(bid) or None)
    return f.PriceForm(formdata=None, total=total, version=bid.version)


def _price_context(bid, total_form, line_form) -> dict:
    return {"total_form": total_form, "line_form": line_form, "line_total": prep.line_total,
            "schedule_total": prep.schedule_total(bid), "difference": prep.price_difference(bid)}


@bp.route(f"{PREFIX}/price", methods=["GET", "POST"])
@login_required
def prepare_price(opportunity_id: int):
    opportunity, bid = _bid_or_404(opportunity_id)
    form = f.PriceForm() if request.method == "POST" else _price_form(bid)
    return _section("price", "bids/prepare/price.html", form, opportunity, bid,
                    lambda: prep.save_price(current_user, bid, form.total.data, form.version_value()),
                    "Your price is saved.", **_price_context(bid, form, f.PriceLineForm(formdata=None)))


@bp.post(f"{PREFIX}/price/lines")
@login_required
def prepare_add_price_line(opportunity_id: int):
    opportunity, bid = _bid_or_404(opportunity_id)
    line_form = f.PriceLineForm()
    if line_form.validate_on_submit() and _saved(line_form, lambda: prep.add_price_line(current_user, bid,
                                                                                          line_form.details())):
        flash(f"‘{line_form.description.data}’ is added to your price schedule.", "success")
        return redirect(url_for("bids.prepare_price", opportunity_id=opportunity.id))
    return _page("bids/prepare/price.html", opportunity, bid, "price", form=line_form,
                 **_price_context(bid, _price_form(bid), line_form))


@bp.post(f"{PREFIX}/price/lines/<int:line_id>/remove")
@login_required
def prepare_remove_price_line(opportunity_id: int, line_id: int):
    opportunity, bid = _bid_or_404(opportunity_id)
    line = _one_of(bid.price_lines, line_id)
    return _remove(opportunity, "price", lambda: prep.remove_price_line(current_user, bid, line),
                   f"‘{line.description}’ is removed from your price schedule.")


@bp.route(f"{PREFIX}/local-economy", methods=["GET", "POST"])
@login_required
def prepare_local_economy(opportunity_id: int):
    opportunity, bid = _bid_or_404(opportunity_id)
    form = _posted(f.LocalEconomyForm, kent_share=f.percent_number(bid.kent_share), kent_jobs=bid.kent_jobs,
                   kent_apprenticeships=bid.kent_apprenticeships, notes=bid.local_economy_notes, version=bid.version)
    return _section("local_economy", "bids/prepare/local_economy.html", form, opportunity, bid,
                    lambda: prep.save_local_economy(current_user, bid, form.details(), form.version_value()),
                    "Your local economy commitments are saved.")


@bp.route(f"{PREFIX}/declarations", methods=["GET", "POST"])
@login_required
def prepare_declarations(opportunity_id: int):
    opportunity, bid = _bid_or_404(opportunity_id)
    form = _posted(f.DeclarationsForm, conflicts=bid.declared_conflicts, conflict_details=bid.conflict_details,
                   no_exclusion_grounds=bid.declared_no_exclusion_grounds, accurate=bid.declared_accurate,
                   version=bid.version)
    return _section("declarations", "bids/prepare/declarations.html", form, opportunity, bid,
                    lambda: prep.save_declarations(current_user, bid, form.details(), form.version_value()),
                    "Your declarations are saved.")


# Social value commitments ------------------------------------------------------------------------------

@bp.route(f"{PREFIX}/social-value", methods=["GET", "POST"])
@login_required
def prepare_social_value(opportunity_id: int):
    opportunity, bid = _bid_or_404(opportunity_id)
    form = f.CommitmentForm()
    return _rows("social_value", "bids/prepare/social_value.html", form, opportunity, bid,
                 lambda: prep.add_commitment(current_user, bid, form.details()), "The commitment is added.",
                 describe=measures.describe, themes=measures.THEMES,
                 measures_list=measures.MEASURES)


@bp.post(f"{PREFIX}/social-value/<int:commitment_id>/remove")
@login_required
def prepare_remove_commitment(opportunity_id: int, commitment_id: int):
    opportunity, bid = _bid_or_404(opportunity_id)
    commitment = _one_of(bid.commitments, commitment_id)
    return _remove(opportunity, "social_value", lambda: prep.remove_commitment(current_user, bid, commitment),
                   "The commitment is removed.")


# Consortium members and subcontractors ------------------------------------------------------------------

@bp.get(f"{PREFIX}/consortium")
@login_required
def prepare_consortium(opportunity_id: int):
    opportunity, bid = _bid_or_404(opportunity_id)
    return _page("bids/prepare/consortium.html", opportunity, bid, "consortium",
                 linked=prep.organisation_names(m.linked_organisation_id for m in bid.members),
                 shares=prep.shares_total(bid), org_types=ORGANISATION_TYPES, sizes=SIZES, roles=prep.MEMBER_ROLES)


def _member_page(form, opportunity, bid, member, save: Callable[[], Any]):
    results = None
    if form.is_submitted() and form.search.data:
        results = _search(form)
    elif form.validate_on_submit() and _saved(form, save):
        flash(f"{form.name.data} is saved.", "success")
        return redirect(section_url(opportunity.id, "consortium"))
    return _page("bids/prepare/member.html", opportunity, bid, "consortium", form=form, member=member,
                 link_choices=f.link_choices(results, form.linked_id(), prep.organisation_names([form.linked_id()])))


def _search(form) -> list[tuple[int, str]]:
    own = prep.organisation_of(current_user)
    if len(" ".join((form.find.data or "").split())) < prep.SEARCH_MIN:
        form.find.errors = [f"Enter at least {prep.SEARCH_MIN} characters of the organisation's legal name"]
        return []
    return prep.find_organisations(form.find.data, own.id if own else None)


@bp.route(f"{PREFIX}/consortium/new", methods=["GET", "POST"])
@login_required
def prepare_add_member(opportunity_id: int):
    opportunity, bid = _bid_or_404(opportunity_id)
    form = f.MemberForm()
    return _member_page(form, opportunity, bid, None, lambda: prep.add_member(current_user, bid, form.details()))


@bp.route(f"{PREFIX}/consortium/<int:member_id>", methods=["GET", "POST"])
@login_required
def prepare_edit_member(opportunity_id: int, member_id: int):
    opportunity, bid = _bid_or_404(opportunity_id)
    member = _one_of(bid.members, member_id)
    form = _posted(f.MemberForm, **f.member_data(member), version=bid.version)
    return _member_page(form, opportunity, bid, member,
                        lambda: prep.update_member(current_user, bid, member, form.details(), form.version_value()))


@bp.post(f"{PREFIX}/consortium/<int:member_id>/remove")
@login_required
def prepare_remove_member(opportunity_id: int, member_id: int):
    opportunity, bid = _bid_or_404(opportunity_id)
    member = _one_of(bid.members, member_id)
    return _remove(opportunity, "consortium", lambda: prep.remove_member(current_user, bid, member),
                   f"{member.name} is removed.")


# Documents ----------------------------------------------------------------------------------------------

@bp.route(f"{PREFIX}/documents", methods=["GET", "POST"])
@login_required
def prepare_documents(opportunity_id: int):
    opportunity, bid = _bid_or_404(opportunity_id)
    form = f.DocumentForm()
    return _rows("documents", "bids/prepare/documents.html", form, opportunity, bid,
                 lambda: prep.add_document(current_user, bid, form.title.data, form.file.data.filename,
                                           form.file.data.read()),
                 f"‘{form.title.data}’ is uploaded.", allowed=ALLOWED_DESCRIPTION,
                 size_limit=_size_limit(current_app.config["MAX_DOCUMENT_BYTES"]), describe_file=describe_file)


def _size_limit(limit: int) -> str:
    return f"{limit // (1024 * 1024)}MB" if limit >= 1024 * 1024 else f"{max(1, limit // 1024)}KB"


@bp.get(f"{PREFIX}/documents/<int:document_id>")
@login_required
def prepare_download_document(opportunity_id: int, document_id: int):
    """Only the bidder's organisation downloads its documents, always as attachments."""
    opportunity, bid = _bid_or_404(opportunity_id)
    document = _one_of(bid.documents, document_id)
    try:
        path = path_for(document.storage_key)
    except FileNotFoundError:
        abort(404)
    require_hidden(path.exists())
    response = send_file(path, mimetype=document.content_type, as_attachment=True, download_name=document.filename)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.post(f"{PREFIX}/documents/<int:document_id>/remove")
@login_required
def prepare_remove_document(opportunity_id: int, document_id: int):
    opportunity, bid = _bid_or_404(opportunity_id)
    document = _one_of(bid.documents, document_id)
    return _remove(opportunity, "documents", lambda: prep.remove_document(current_user, bid, document),
                   f"‘{document.title}’ is removed.")
