"""Right-to-bid pages."""

from marketplace.right_to_bid import bp  # noqa: F401
