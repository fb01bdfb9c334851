"""Bid preparation pages: the task list and each section."""

from marketplace.bids import bp  # noqa: F401
