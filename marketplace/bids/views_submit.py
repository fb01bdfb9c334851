"""Submission pages: check answers, submit, receipts, withdraw; the provider dashboard."""

from marketplace.bids import bp  # noqa: F401
