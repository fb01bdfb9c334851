"""Clarification pages."""

from marketplace.clarifications import bp  # noqa: F401
