"""Report routes: the award report (HTML and PDF) and bidders' letters.

Staff: `/commissioning/<id>/award-report` and `.pdf` for procurement officers, administrators and the commissioner
who wrote the opportunity; another user, or an opportunity before its deadline, gets 404. A bidder downloads its own
letter once the award notice is published; anyone else's, or one before the notice, is 404.

A tender with more than AWARD_REPORT_INLINE_MAX_BIDS counting bids has its PDF made by a job (`renders`): `.pdf`
sends such a tender to `/award-report/pdf`, which says how its PDF is coming along and offers it once ready
(`/award-report/pdf/<render id>/download`); a POST there asks for one, and `<render id>.json` is what the page's
script polls. The same people may use them; a render of another opportunity is 404.
"""

from __future__ import annotations

from io import BytesIO

from flask import abort, jsonify, redirect, render_template, send_file, url_for
from flask_login import current_user, login_required

from marketplace import documents
from marketplace.authz import require_hidden
from marketplace.extensions import db
from marketplace.opportunities.models import Opportunity
from marketplace.reports import award_report, bp, letters, renders
from marketplace.reports.models import AWARD_REPORT, READY, ReportRender
from marketplace.timeutil import utcnow

PREFIX = "/commissioning/<int:opportunity_id>/award-report"
MAX_ID = 2**31 - 1  # the largest id an integer column holds; a larger one in an address is simply not found


def require_ids(*ids: int) -> None:
    require_hidden(all(0 < value <= MAX_ID for value in ids))


def get_reportable_or_404(opportunity_id: int) -> Opportunity:
    """The opportunity, for someone who may read its award report, once its deadline has passed."""
    require_ids(opportunity_id)
    opportunity = db.session.get(Opportunity, opportunity_id)
    require_hidden(opportunity is not None and award_report.can_read_award_report(current_user, opportunity)
                   and not award_report.is_sealed(opportunity, utcnow()))
    return opportunity


def get_render_or_404(opportunity: Opportunity, render_id: int) -> ReportRender:
    """One of this opportunity's award-report renders."""
    require_ids(render_id)
    render = db.session.get(ReportRender, render_id)
    require_hidden(render is not None and render.opportunity_id == opportunity.id and render.kind == AWARD_REPORT)
    return render


def _private(response):
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _pdf(found: tuple[str, bytes] | None):
    require_hidden(found is not None)
    filename, data = found
    return _private(send_file(BytesIO(data), mimetype="application/pdf", as_attachment=True, download_name=filename))


def _to_status_page(opportunity: Opportunity):
    return redirect(url_for(".award_report_pdf_status", opportunity_id=opportunity.id))


def _made_in_background(opportunity_id: int) -> Opportunity:
    """The opportunity, when its award report's PDF is made by the job worker; otherwise the request ends with a
    redirect to the direct download."""
    opportunity = get_reportable_or_404(opportunity_id)
    if not renders.in_background(opportunity.id):
        abort(redirect(url_for(".award_report_pdf", opportunity_id=opportunity.id)))
    return opportunity


def _not_ready(opportunity: Opportunity, refused: award_report.NotReportable):
    return render_template("reports/not_ready.html", opportunity=opportunity, message=refused.message), 409


@bp.get(PREFIX)
@login_required
def award_report_page(opportunity_id: int):
    opportunity = get_reportable_or_404(opportunity_id)
    now = utcnow()
    try:
        report = award_report.build(opportunity, now)
    except award_report.NotReportable as refused:
        return _not_ready(opportunity, refused)
    return render_template("reports/award_report.html", report=report, opportunity=opportunity, produced=now,
                           in_background=renders.in_background(opportunity.id))


@bp.get(f"{PREFIX}.pdf")
@login_required
def award_report_pdf(opportunity_id: int):
    opportunity = get_reportable_or_404(opportunity_id)
    if renders.in_background(opportunity.id):
        return _to_status_page(opportunity)
    try:
        return _pdf(award_report.pdf(opportunity, utcnow()))
    except award_report.NotReportable as refused:
        return _not_ready(opportunity, refused)


@bp.get(f"{PREFIX}/pdf")
@login_required
def award_report_pdf_status(opportunity_id: int):
    opportunity = _made_in_background(opportunity_id)
    try:
        shown = renders.current(opportunity, utcnow())
    except award_report.NotReportable as refused:
        return _not_ready(opportunity, refused)
    return render_template("reports/pdf_status.html", opportunity=opportunity, shown=shown,
                           size_words=renders.size_words)


@bp.post(f"{PREFIX}/pdf")
@login_required
def prepare_award_report_pdf(opportunity_id: int):
    opportunity = _made_in_background(opportunity_id)
    try:
        renders.ask(current_user, opportunity, utcnow())
    except award_report.NotReportable as refused:
        db.session.rollback()
        return _not_ready(opportunity, refused)
    return _to_status_page(opportunity)


@bp.get(f"{PREFIX}/pdf/<int:render_id>.json")
@login_required
def award_report_pdf_status_json(opportunity_id: int, render_id: int):
    opportunity = get_reportable_or_404(opportunity_id)
    render = get_render_or_404(opportunity, render_id)
    body = renders.describe(render, utcnow())
    body["download_url"] = url_for(".download_award_report_pdf", opportunity_id=opportunity.id,
                                   render_id=render.id) if render.status == READY else ""
    return _private(jsonify(body))


@bp.get(f"{PREFIX}/pdf/<int:render_id>/download")
@login_required
def download_award_report_pdf(opportunity_id: int, render_id: int):
    render = get_render_or_404(get_reportable_or_404(opportunity_id), render_id)
    require_hidden(render.status == READY and render.storage_key is not None)
    try:
        path = documents.path_for(render.storage_key)
    except FileNotFoundError:
        abort(404)
    require_hidden(path.exists())
    return _private(send_file(path, mimetype="application/pdf", as_attachment=True, download_name=render.filename))


@bp.get(f"{PREFIX}/letters/<int:bid_id>.pdf")
@login_required
def staff_letter(opportunity_id: int, bid_id: int):
    require_ids(bid_id)
    return _pdf(letters.staff_letter(get_reportable_or_404(opportunity_id), bid_id))


@bp.get("/opportunities/<int:opportunity_id>/bid/assessment-letter.pdf")
@login_required
def own_letter(opportunity_id: int):
    require_ids(opportunity_id)
    return _pdf(letters.own_letter(current_user, opportunity_id))
