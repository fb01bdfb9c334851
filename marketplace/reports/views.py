"""Report routes."""

from marketplace.reports import bp  # noqa: F401
