"""Staff roles (pure). A person may hold several; sitting on a panel is not a role."""

from __future__ import annotations

COMMISSIONER = "commissioner"
PROCUREMENT_OFFICER = "procurement_officer"
ADMINISTRATOR = "administrator"

STAFF_ROLES: dict[str, str] = {
    COMMISSIONER: "Commissioner",
    PROCUREMENT_OFFICER: "Procurement officer",
    ADMINISTRATOR: "Administrator",
}

ROLE_HINTS: dict[str, str] = {
    COMMISSIONER: "Writes opportunities and evaluation models, answers questions, scores bids on a panel.",
    PROCUREMENT_OFFICER: "Approves opportunities, opens bids, moderates, awards and decides right-to-bid proposals.",
    ADMINISTRATOR: "Manages staff accounts, roles, settings and reads the audit log.",
}
