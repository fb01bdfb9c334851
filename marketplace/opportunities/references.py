"""Opportunity references: KCC-<year>-<number>, numbered in order within the year."""

from __future__ import annotations

import sqlalchemy as sa

from marketplace.extensions import db
from marketplace.opportunities.models import Opportunity
from marketplace.timeutil import london, utcnow


def next_reference() -> str:
    year = london(utcnow()).year
    prefix = f"KCC-{year}-"
    last = db.session.execute(
        sa.select(sa.func.max(Opportunity.reference)).where(Opportunity.reference.like(f"{prefix}%"))
    ).scalar_one_or_none()
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{number:04d}"
