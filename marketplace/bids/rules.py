"""Bid rules (pure): lifecycle, eligibility under a reservation, completeness, the canonical content and its hash."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

DRAFT, SUBMITTED, WITHDRAWN = "draft", "submitted", "withdrawn"
OPENED, COMPLIANT, EXCLUDED = "opened", "compliant", "excluded"
EVALUATED, SUCCESSFUL, UNSUCCESSFUL = "evaluated", "successful", "unsuccessful"

STATUS_LABELS = {
    DRAFT: "Not submitted", SUBMITTED: "Submitted", WITHDRAWN: "Withdrawn", OPENED: "Opened",
    COMPLIANT: "Compliant", EXCLUDED: "Excluded", EVALUATED: "Evaluated", SUCCESSFUL: "Successful",
    UNSUCCESSFUL: "Unsuccessful",
}

# Before the deadline the bidder moves between these; after it, only procurement does.
BIDDER_TRANSITIONS = {("draft", "submit"): SUBMITTED, ("withdrawn", "submit"): SUBMITTED,
                      ("submitted", "withdraw"): WITHDRAWN, ("submitted", "submit"): SUBMITTED}
EDITABLE = frozenset({DRAFT, WITHDRAWN})


class BidRefused(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def bidder_transition(status: str, action: str, deadline: datetime | None, now: datetime) -> str:
    """The bid's next status when its organisation submits or withdraws; refused after the deadline."""
    if deadline is None or now >= deadline:
        raise BidRefused("The deadline for this opportunity has passed. Bids can no longer be submitted, changed "
                         "or withdrawn.")
    target = BIDDER_TRANSITIONS.get((status, action))
    if target is None:
        raise BidRefused(f"This bid is {STATUS_LABELS.get(status, status).lower()}, so you cannot {action} it.")
    return target


# Eligibility -----------------------------------------------------------------------------------------

def eligibility_problem(reservation: str, kent_based: bool, is_sme: bool, is_vcse: bool) -> str | None:
    """Why an organisation cannot bid for a reserved opportunity, or None when it can."""
    if reservation == "none":
        return None
    if not kent_based:
        return ("This opportunity is reserved to suppliers established in Kent. Your organisation's operations "
                "address is outside Kent, so it cannot bid. If that address is wrong, update your organisation's "
                "details.")
    if reservation == "kent_sme_vcse" and not (is_sme or is_vcse):
        return ("This opportunity is reserved to Kent-established small and medium-sized enterprises and "
                "voluntary, community and social enterprises. Your organisation is recorded as large and not a "
                "VCSE, so it cannot bid.")
    return None


# Completeness ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CriterionNeed:
    id: int
    kind: str
    title: str
    word_limit: int | None = None


@dataclass(frozen=True)
class BidSnapshot:
    """Plain facts about a working copy, enough to judge completeness."""

    lot_ids: tuple[int, ...]
    answers: dict[int, str]
    confirmations: dict[int, bool | None]
    price_total: Decimal | None
    kent_share: Decimal | None
    member_shares: tuple[Decimal, ...]
    declared_conflicts: str | None
    declared_no_exclusion_grounds: bool
    declared_accurate: bool
    commitments: int = 0


@dataclass(frozen=True)
class Missing:
    section: str  # the task-list section that fixes it
    message: str


def count_words(text: str) -> int:
    return len((text or "").split())


def missing_items(criteria: tuple[CriterionNeed, ...], bid: BidSnapshot, has_lots: bool,
                  price_asked: bool = True) -> list[Missing]:
    """Everything that stops this bid being submitted, in task-list order."""
    missing: list[Missing] = []
    if has_lots and not bid.lot_ids:
        missing.append(Missing("lots", "Choose at least one lot to bid for"))
    for need in criteria:
        missing.extend(_criterion_missing(need, bid))
    if price_asked and (bid.price_total is None or bid.price_total <= 0):
        missing.append(Missing("price", "Enter your total price"))
    if any(c.kind == "local_economy" for c in criteria) and bid.kent_share is None:
        missing.append(Missing("local_economy", "Enter the share of contract value you will spend in Kent"))
    if sum(bid.member_shares, Decimal(0)) > 1:
        missing.append(Missing("consortium", "Consortium and subcontractor shares add up to more than 100%"))
    missing.extend(_declaration_missing(bid))
    return missing


def _criterion_missing(need: CriterionNeed, bid: BidSnapshot) -> list[Missing]:
    if need.kind == "pass_fail":
        if bid.confirmations.get(need.id) is not True:
            return [Missing("eligibility", f"Confirm you meet “{need.title}”")]
        return []
    if need.kind not in ("quality", "social_value") and not (need.kind == "local_economy" and need.word_limit):
        return []
    text = bid.answers.get(need.id, "")
    if not text.strip():
        return [Missing(f"answer-{need.id}", f"Answer “{need.title}”")]
    if need.word_limit and count_words(text) > need.word_limit:
        return [Missing(f"answer-{need.id}", f"Your answer to “{need.title}” is {count_words(text)} words; "
                                             f"the limit is {need.word_limit}")]
    return []


def _declaration_missing(bid: BidSnapshot) -> list[Missing]:
    missing = []
    if bid.declared_conflicts not in ("none", "declared"):
        missing.append(Missing("declarations", "Declare whether you have any conflicts of interest"))
    if not bid.declared_no_exclusion_grounds:
        missing.append(Missing("declarations", "Confirm that no exclusion grounds apply to your organisation"))
    if not bid.declared_accurate:
        missing.append(Missing("declarations", "Confirm that the information in your bid is accurate"))
    return missing


# The sealed content ----------------------------------------------------------------------------------

def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def canonical_json(content: dict) -> str:
    """One exact text for the content: sorted keys, no spaces, Decimals as plain strings."""
    return json.dumps(_plain(content), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def receipt_hash(canonical: str) -> str:
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Receipt:
    number: int
    submitted_at: datetime
    sha256: str
    extra: dict = field(default_factory=dict)
