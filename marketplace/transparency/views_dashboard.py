"""The spend dashboard (public, with more detail for council staff), a CSV for each of its charts, and the
quarterly KPI report as PDF.

Thin views: parse the filters (a nonsense value gets a message by its filter; the others still apply), ask
`kpis.figures` for the figures, render. Staff-only charts are only computed, shown and downloadable for staff.
"""

from __future__ import annotations

from dataclasses import replace

from flask import Response, redirect, render_template, request, url_for
from flask_login import current_user

from marketplace.accounts import permissions as account_perms
from marketplace.authz import require_hidden
from marketplace.extensions import limiter
from marketplace.pagecache import public_page
from marketplace.reports.pdf import render_pdf
from marketplace.timeutil import london, utcnow
from marketplace.transparency import bp, dashboard, kpis
from marketplace.transparency.forms import dashboard_filter_form
from marketplace.transparency.register import csv_lines
from marketplace.transparency.views_register import csv_response

PDF_RATE_LIMIT = "20 per minute"


def _form():
    return dashboard_filter_form(request.args, today=london(utcnow()).date())


def _figures(filters: dashboard.Filters) -> dashboard.Figures:
    return kpis.figures(filters, staff=account_perms.is_staff(current_user), now=utcnow())


def _back_to_the_dashboard():
    """Bad filters on a download: the dashboard says what is wrong, by the filter."""
    return redirect(url_for(".dashboard", **request.args))


@bp.get("/spending", endpoint="dashboard")
@public_page
def dashboard_page():
    form = _form()
    return render_template("transparency/dashboard.html", form=form, figures=_figures(form.filters()),
                           quarter_rule=dashboard.QUARTER_RULE)


@bp.get("/spending/<key>.csv")
def dashboard_csv(key: str):
    form = _form()
    if form.errors:
        return _back_to_the_dashboard()
    figures = _figures(form.filters())
    chart = figures.chart(key)
    require_hidden(chart is not None)
    return csv_response(csv_lines(chart.headers, chart.csv_rows()), figures.filename(chart))


@bp.get("/spending/kpi-report.pdf")
@limiter.limit(PDF_RATE_LIMIT)
def kpi_report():
    form = _form()
    if form.errors:
        return _back_to_the_dashboard()
    current = dashboard.Quarter.containing(london(utcnow()).date())
    filters = form.filters()
    quarter = filters.quarter or current
    figures = _figures(replace(filters, quarter=quarter))
    pdf = render_pdf("pdf/kpi_report.html", title=f"Quarterly KPI report: {quarter.label}",
                     subject="Where Kent County Council's commissioning money goes: contracts awarded, Kent-based "
                             "suppliers, VCSEs and SMEs, social value, right to bid, bids and time to award",
                     context={"figures": figures, "quarter": quarter, "quarter_rule": dashboard.QUARTER_RULE},
                     draft=quarter == current, keywords=["contracts", "spending", "KPI", quarter.key])
    response = Response(pdf, mimetype="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="kpi-report-{quarter.key}.pdf"'})
    if figures.staff:  # staff-only figures: never kept by a shared cache
        response.headers["Cache-Control"] = "private, no-store"
    return response
