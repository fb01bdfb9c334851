"""Gates for views: the same can_* predicates that decide what a page shows decide what the server allows."""

from __future__ import annotations

from functools import wraps
from typing import Callable

from flask import abort
from flask_login import current_user, login_required


def require(allowed: bool, status: int = 403) -> None:
    """Abort unless allowed. Use 404 for another organisation's object so its existence stays private."""
    if not allowed:
        abort(status)


def require_hidden(allowed: bool) -> None:
    require(allowed, 404)


def gate(predicate: Callable[[object], bool]):
    """Decorator: signed in, and predicate(current_user) holds, else 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            require(predicate(current_user._get_current_object()))
            return view(*args, **kwargs)

        return wrapped

    return decorator
