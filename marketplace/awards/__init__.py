"""Awards: recommendation, abnormally-low price answers, approval, standstill and challenges, confirmation and
the contract record, cancellation; a bidder's own results after award."""

from flask import Blueprint

bp = Blueprint("awards", __name__)

from marketplace.awards import views  # noqa: E402,F401
