"""Domain errors raised by services; views turn them into messages next to the field."""

from __future__ import annotations


class DomainError(Exception):
    """A business rule refused the request. `field` names the form field the message belongs to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    pass
