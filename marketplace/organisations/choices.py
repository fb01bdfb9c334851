"""Organisation types and sizes (pure reference data)."""

from __future__ import annotations

ORGANISATION_TYPES: dict[str, str] = {
    "voluntary_community": "Voluntary or community group",
    "charity": "Registered charity",
    "social_enterprise": "Social enterprise (CIC or community benefit society)",
    "cooperative_mutual": "Co-operative or mutual",
    "staff_mutual": "Staff mutual or public service spin-out",
    "private_company": "Private company",
    "sole_trader": "Sole trader",
    "public_body": "Public body",
}

# The voluntary, community and social enterprise sector.
VCSE_TYPES = frozenset({"voluntary_community", "charity", "social_enterprise", "cooperative_mutual", "staff_mutual"})

# OCDS partyScale codes with the UK definitions (Companies Act 2006 and the
# Small Business, Enterprise and Employment Act 2015 micro-entity thresholds).
SIZES: dict[str, str] = {
    "micro": "Micro",
    "small": "Small",
    "medium": "Medium",
    "large": "Large",
}

SIZE_HINTS: dict[str, str] = {
    "micro": "Fewer than 10 staff and a turnover or balance sheet of £2 million or less",
    "small": "Fewer than 50 staff and a turnover or balance sheet of £10 million or less",
    "medium": "Fewer than 250 staff and a turnover of £50 million or less or a balance sheet of £43 million or less",
    "large": "250 staff or more, or above the medium limits",
}

SME_SIZES = frozenset({"micro", "small", "medium"})

MEMBER_OWNER = "owner"
MEMBER_COLLEAGUE = "member"
