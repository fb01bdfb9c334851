"""Opportunities: commissioners write them (views_staff), everyone finds them (views_public)."""

from flask import Blueprint

bp = Blueprint("opportunities", __name__)

from marketplace.opportunities import views_public, views_staff  # noqa: E402,F401
