"""Settings page."""

from marketplace.settings import bp  # noqa: F401
