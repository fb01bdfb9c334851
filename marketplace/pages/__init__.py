"""Public pages: home, cookies and privacy, accessibility statement."""

from flask import Blueprint

bp = Blueprint("pages", __name__)

from marketplace.pages import views  # noqa: E402,F401
