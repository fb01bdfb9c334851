"""Right to bid: the service catalogue, expressions of interest, decisions and the public register."""

from flask import Blueprint

bp = Blueprint("right_to_bid", __name__, url_prefix="/right-to-bid")

from marketplace.right_to_bid import views  # noqa: E402,F401
