"""Evaluation: model rules, the scoring engine, panels and conflicts, opening, compliance, scoring, moderation.

Views: views_panel (panel and conflict declarations), views_opening (opening and compliance),
views_scoring (independent scoring and moderation); all under /commissioning/<opportunity_id>/evaluation.
"""

from flask import Blueprint

bp = Blueprint("evaluation", __name__)

from marketplace.evaluation import views_panel, views_opening, views_scoring  # noqa: E402,F401
