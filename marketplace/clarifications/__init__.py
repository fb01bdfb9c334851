"""Clarification questions and answers."""

from flask import Blueprint

bp = Blueprint("clarifications", __name__)

from marketplace.clarifications import views  # noqa: E402,F401
