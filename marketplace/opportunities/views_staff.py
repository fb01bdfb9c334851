"""Staff pages: write an opportunity, its lots and evaluation model; approve, amend, cancel."""

from marketplace.opportunities import bp  # noqa: F401
