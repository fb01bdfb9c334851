"""Public pages: the opportunity list, search, detail, Atom feed, saved searches."""

from marketplace.opportunities import bp  # noqa: F401
