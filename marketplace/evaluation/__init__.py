"""Evaluation: model rules, the scoring engine, panels, moderation."""
