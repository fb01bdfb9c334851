"""Transparency routes."""

from marketplace.transparency import bp  # noqa: F401
