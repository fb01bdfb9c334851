"""Report routes: the award report (HTML and PDF) and bidders' letters.

Staff: `/commissioning/<id>/award-report` and `.pdf` for procurement officers, administrators and the commissioner
who wrote the opportunity; another user, or an opportunity before its deadline, gets 404. A bidder downloads its own
letter once the award notice is published; anyone else's, or one before the notice, is 404.
"""

from __future__ import annotations

from io import BytesIO

from flask import render_template, send_file
from flask_login import current_user, login_required

from marketplace.authz import require_hidden
from marketplace.extensions import db
from marketplace.opportunities.models import Opportunity
from marketplace.reports import award_report, bp, letters
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


def _pdf(found: tuple[str, bytes] | None):
    require_hidden(found is not None)
    filename, data = found
    response = send_file(BytesIO(data), mimetype="application/pdf", as_attachment=True, download_name=filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response


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
    return render_template("reports/award_report.html", report=report, opportunity=opportunity, produced=now)


@bp.get(f"{PREFIX}.pdf")
@login_required
def award_report_pdf(opportunity_id: int):
    opportunity = get_reportable_or_404(opportunity_id)
    try:
        return _pdf(award_report.pdf(opportunity, utcnow()))
    except award_report.NotReportable as refused:
        return _not_ready(opportunity, refused)


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
