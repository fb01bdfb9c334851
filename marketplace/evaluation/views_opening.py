"""Opening, compliance and release pages, and reading an opened bid with its documents.

Procurement officers open the bids after the deadline (the opening record is printable), check each opened
bid's compliance and release the compliant bids to the panel. An opened bid and its documents are readable by
procurement officers, and by cleared panel members once released and only if compliant; anyone else gets 404.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, send_file, url_for
from flask_login import current_user, login_required

from marketplace.authz import require_hidden
from marketplace.bids.submission import receipt_time
from marketplace.bids.views_submit import PRESENTERS
from marketplace.evaluation import access, bp, compliance, opening, permissions
from marketplace.evaluation import forms_panel as f
from marketplace.evaluation.views_panel import PREFIX, attempt, button, managed_or_404, opportunity_or_404
from marketplace.opportunities import lifecycle
from marketplace.timeutil import utcnow


def _to(endpoint: str, opportunity, **args) -> str:
    return url_for(endpoint, opportunity_id=opportunity.id, **args)


# Opening --------------------------------------------------------------------------------------------------------

@bp.get(f"{PREFIX}/opening")
@login_required
def staff_opening(opportunity_id: int):
    opportunity = managed_or_404(opportunity_id)
    evaluation = access.evaluation_of(opportunity.id)
    state = lifecycle.effective_state(opportunity.status, opportunity.submission_deadline, utcnow())
    return render_template(
        "evaluation/opening.html", opportunity=opportunity, evaluation=evaluation, state=state,
        can_open=permissions.can_open_bids(current_user, state, evaluation is not None),
        withdrawn=opening.withdrawn_bids(opportunity.id) if evaluation else [],
        opened_by=opening.opened_by(evaluation), receipt_time=receipt_time, record_time=opening.record_time)


@bp.post(f"{PREFIX}/opening")
@login_required
def staff_open(opportunity_id: int):
    opportunity = managed_or_404(opportunity_id)
    return button(lambda: opening.open_bids(current_user, opportunity),
                  "The bids are opened and every receipt is verified. Next, check each bid's compliance.",
                  _to(".staff_opening", opportunity))


# Compliance --------------------------------------------------------------------------------------------------

@bp.get(f"{PREFIX}/compliance")
@login_required
def staff_compliance(opportunity_id: int):
    opportunity = managed_or_404(opportunity_id)
    evaluation = access.evaluation_of(opportunity.id)
    require_hidden(evaluation is not None)
    return render_template("evaluation/compliance.html", opportunity=opportunity, evaluation=evaluation,
                           bids=compliance.opened_bids(opportunity.id), **PRESENTERS)


def _readable_or_404(opportunity_id: int, bid_id: int):
    opportunity = opportunity_or_404(opportunity_id)
    opened = compliance.readable_bid(current_user, opportunity, bid_id)
    require_hidden(opened is not None)
    return opportunity, opened


def _bid_page(opportunity, opened, form=None):
    evaluation = access.evaluation_of(opportunity.id)
    checking = permissions.can_check_compliance(current_user, True, evaluation.released_at is not None)
    items = compliance.items_for(opportunity, opened.content)
    form = form or (f.compliance_form(items)(formdata=None, data=f.compliance_data(opened.check))
                    if checking else None)
    return render_template("evaluation/bid.html", opportunity=opportunity, opened=opened, content=opened.content,
                           documents=compliance.sealed_documents(opened), items=items, form=form,
                           checking=checking, officer=permissions.is_officer(current_user),
                           **PRESENTERS)


@bp.route(f"{PREFIX}/bids/<int:bid_id>", methods=["GET", "POST"])
@login_required
def bid(opportunity_id: int, bid_id: int):
    opportunity, opened = _readable_or_404(opportunity_id, bid_id)
    form = None
    if permissions.is_officer(current_user):
        form = f.compliance_form(compliance.items_for(opportunity, opened.content))()
        if form.validate_on_submit() and attempt(form, lambda: compliance.record(
                current_user, opportunity, opened, form.answers(), form.compliant(), form.reason.data or "")):
            flash(f"The compliance decision on {opened.organisation}'s bid is saved.", "success")
            return redirect(_to(".staff_compliance", opportunity))
        form = form if form.is_submitted() else None
    return _bid_page(opportunity, opened, form)


@bp.get(f"{PREFIX}/bids/<int:bid_id>/documents/<int:document_id>")
@login_required
def bid_document(opportunity_id: int, bid_id: int, document_id: int):
    found = compliance.document_to_download(current_user, opportunity_or_404(opportunity_id), bid_id, document_id)
    require_hidden(found is not None)
    document, path = found
    response = send_file(path, mimetype=document.content_type, as_attachment=True, download_name=document.filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response


# Release -------------------------------------------------------------------------------------------------------

@bp.post(f"{PREFIX}/release")
@login_required
def staff_release(opportunity_id: int):
    opportunity = managed_or_404(opportunity_id)
    return button(lambda: compliance.release(current_user, opportunity),
                  "The compliant bids are released to the panel. Its members have been emailed.",
                  _to(".staff_overview", opportunity))
