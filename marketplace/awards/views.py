"""Routes are added by the award workflow."""

from marketplace.awards import bp  # noqa: F401
