"""Who may see and act on an award (pure: plain attributes in, bool out). The pages and the services ask the
same questions; the rules behind them are in awards.rules."""

from __future__ import annotations

from typing import Any

from marketplace.awards.rules import RECOMMENDED, approval_refusal, runs_awards, sees_awards


def _roles(user: Any) -> frozenset[str]:
    return frozenset(getattr(user, "roles", ())) if getattr(user, "is_authenticated", False) else frozenset()


def can_see_awards(user: Any) -> bool:
    """Procurement officers and administrators (who may approve) read the award pages."""
    return sees_awards(_roles(user))


def can_run_awards(user: Any) -> bool:
    """Procurement officers recommend, answer price flags, record challenges and confirm."""
    return runs_awards(_roles(user))


def can_decide(user: Any, award: Any) -> bool:
    """Approve or return this recommendation: another procurement officer or an administrator, while it stands."""
    return (award is not None and award.status == RECOMMENDED
            and approval_refusal(getattr(user, "id", None), _roles(user), award.recommended_by_id) is None)

