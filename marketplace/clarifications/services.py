"""Clarification use cases: ask, answer (publicly with the asker hidden, or privately), list what a viewer may see."""

from __future__ import annotations


def visible_questions(opportunity, user) -> list:
    """Questions with answers this viewer may read: public answers for everyone, private ones for the asker's
    organisation, and every question for council staff."""
    return []
