"""Provider organisations: registration, details, colleagues."""

from flask import Blueprint

bp = Blueprint("organisations", __name__, url_prefix="/organisation")

from marketplace.organisations import views  # noqa: E402,F401
