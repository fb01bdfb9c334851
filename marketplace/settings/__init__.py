"""Settings held in the database and changed by administrators: thresholds, periods, calendars."""

from flask import Blueprint

bp = Blueprint("settings", __name__, url_prefix="/admin/settings")

from marketplace.settings import views  # noqa: E402,F401
