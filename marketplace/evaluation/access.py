"""Who may see an opened bid: the shared gate for the opening, compliance, scoring and moderation pages.

After opening, bids are visible to procurement officers; a panel member sees them only once the officer has
released them to the panel, while still on it (not replaced) and with a conflict declaration that clears
them (no conflict, or a conflict with a recorded mitigation).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from marketplace.evaluation.models import (
    EVALUATOR,
    MODERATOR,
    ConflictDeclaration,
    ConflictsAssessment,
    Evaluation,
    PanelMember,
)
from marketplace.extensions import db

PROCUREMENT_OFFICER = "procurement_officer"


def evaluation_of(opportunity_id: int) -> Evaluation | None:
    return db.session.execute(sa.select(Evaluation).where(Evaluation.opportunity_id == opportunity_id)
                              ).scalar_one_or_none()


def declaration_of(user: Any, opportunity_id: int) -> ConflictDeclaration | None:
    return db.session.execute(sa.select(ConflictDeclaration).where(
        ConflictDeclaration.opportunity_id == opportunity_id, ConflictDeclaration.user_id == user.id)
    ).scalar_one_or_none()


def memberships(user: Any, opportunity_id: int) -> list[PanelMember]:
    """The user's current (not replaced) places on this opportunity's panel."""
    return list(db.session.execute(sa.select(PanelMember).where(
        PanelMember.opportunity_id == opportunity_id, PanelMember.user_id == user.id,
        PanelMember.removed_at.is_(None))).scalars())


def cleared_member(user: Any, opportunity_id: int, role: str) -> PanelMember | None:
    """The user's current panel place in `role`, if bids have been released to the panel and the user's
    conflict declaration clears them; otherwise None (the page answers 404)."""
    if not getattr(user, "is_authenticated", False):
        return None
    evaluation = evaluation_of(opportunity_id)
    if evaluation is None or evaluation.released_at is None:
        return None
    member = next((m for m in memberships(user, opportunity_id) if m.role == role), None)
    declaration = declaration_of(user, opportunity_id)
    if member is None or declaration is None or not declaration.clears_access:
        return None
    return member


def is_officer(user: Any) -> bool:
    return PROCUREMENT_OFFICER in getattr(user, "roles", frozenset())


def cleared_on_panel(user: Any, opportunity_id: int) -> bool:
    """Cleared in any panel role (evaluator or moderator): may read the compliant bids."""
    return any(cleared_member(user, opportunity_id, role) is not None for role in (EVALUATOR, MODERATOR))


def conflicts_assessment_of(opportunity_id: int) -> ConflictsAssessment | None:
    return db.session.execute(sa.select(ConflictsAssessment).where(
        ConflictsAssessment.opportunity_id == opportunity_id)).scalar_one_or_none()


def current_panel(opportunity_id: int) -> list[PanelMember]:
    """Everyone now on the opportunity's panel (not replaced), with their users: moderator first, then the
    evaluators in the order they were assigned."""
    return list(db.session.execute(
        sa.select(PanelMember).options(joinedload(PanelMember.user))
        .where(PanelMember.opportunity_id == opportunity_id, PanelMember.removed_at.is_(None))
        .order_by(sa.case((PanelMember.role == MODERATOR, 0), else_=1), PanelMember.assigned_at, PanelMember.id)
    ).scalars())


def declarations_of(opportunity_id: int) -> dict[int, ConflictDeclaration]:
    """The conflict declarations made for an opportunity, by user id."""
    return {d.user_id: d for d in db.session.execute(
        sa.select(ConflictDeclaration).where(ConflictDeclaration.opportunity_id == opportunity_id)).scalars()}
