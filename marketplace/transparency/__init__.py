"""Transparency: the public contract register, the spend dashboard, open contracting data (OCDS) and the
read-only JSON API."""

from flask import Blueprint

bp = Blueprint("transparency", __name__)

from marketplace.transparency import views_register, views_dashboard, views_ocds  # noqa: E402,F401
