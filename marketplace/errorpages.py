"""Error pages in the service's own layout."""

from __future__ import annotations

from flask import Flask, current_app, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from marketplace.extensions import db

TITLES = {
    400: "Sorry, there is a problem with your request",
    403: "You do not have permission to see this page",
    404: "Page not found",
    405: "Sorry, there is a problem with your request",
    413: "The file or form you sent is too large",
    429: "Too many requests",
    500: "Sorry, there is a problem with the service",
}


def _render(status: int, description: str | None = None):
    title = TITLES.get(status, TITLES[500] if status >= 500 else TITLES[400])
    return render_template(f"errors/{status if status in TITLES else 'generic'}.html", title=title,
                           status=status, description=description), status


def handle_http(error: HTTPException):
    return _render(error.code or 500)


def handle_csrf(error: CSRFError):
    return _render(400, "The form had expired or was not sent from this site. Go back, reload the page "
                        "and try again. Nothing you typed has been saved.")


def handle_unexpected(error: Exception):
    current_app.logger.exception("Unhandled error", exc_info=error)
    db.session.rollback()
    return _render(500)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf)
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(Exception, handle_unexpected)
