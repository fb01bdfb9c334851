"""Bids: preparation as a task list (views_prepare), submission, withdrawal and receipts (views_submit)."""

from flask import Blueprint

bp = Blueprint("bids", __name__)

from marketplace.bids import views_prepare, views_submit  # noqa: E402,F401
