"""Evaluation: model rules, the scoring engine, panels and conflicts, opening, compliance, scoring, moderation.

Views: views_panel (panel and conflict declarations), views_opening (opening and compliance),
views_scoring (independent scoring and moderation); all under /commissioning/<opportunity_id>/evaluation.
"""

from flask import Blueprint

_blueprint = Blueprint("evaluation", __name__)


def __getattr__(name: str):
    """`bp` loads the views on first use (when the app registers its blueprints). The pure modules of this
    package (model_rules, scoring, ...) are imported by opportunities and bids while those packages are still
    loading; importing the views then would import them back half-loaded."""
    if name != "bp":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()["bp"] = _blueprint
    from marketplace.evaluation import views_panel, views_opening, views_scoring  # noqa: F401
    return _blueprint
