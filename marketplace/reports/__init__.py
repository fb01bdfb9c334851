"""Reports as PDF (WeasyPrint) and HTML: the award report, bidders' letters, the quarterly KPI report."""

from flask import Blueprint

bp = Blueprint("reports", __name__)

from marketplace.reports import views  # noqa: E402,F401
