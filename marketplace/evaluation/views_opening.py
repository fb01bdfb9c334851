"""Routes are added by the evaluation workflow."""

from marketplace.evaluation import bp  # noqa: F401
