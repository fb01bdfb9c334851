"""What a bid says, in plain facts: the one reading of a working copy that both the completeness check and the
seal use, so a bid is judged complete on exactly the content that is then hashed.

`take(bid, opportunity)` reads the bid's rows (answers, price lines, commitments, consortium, documents,
declarations) and the opportunity's criteria that apply to the lots bid for, and returns a `Snapshot`:
`needs` and `facts` for `rules.missing_items`, and `content`, the dict that `rules.canonical_json` seals.
Documents enter the content by title and SHA-256, never by their bytes. Amounts are fixed to their stored scale
so the same bid always gives the same text, whether its numbers came from a form or from the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterable

from marketplace.bids import rules

CONTENT_FORMAT = 1
PENCE = Decimal("0.01")
SHARE_PLACES = Decimal("0.000001")
TEXT_KINDS = frozenset({"quality", "social_value"})


@dataclass(frozen=True)
class Snapshot:
    needs: tuple[rules.CriterionNeed, ...]
    facts: rules.BidSnapshot
    has_lots: bool
    price_asked: bool
    content: dict

    def missing(self) -> list[rules.Missing]:
        return rules.missing_items(self.needs, self.facts, self.has_lots, self.price_asked)

    @property
    def complete(self) -> bool:
        return not self.missing()


def take(bid: Any, opportunity: Any) -> Snapshot:
    lots = chosen_lots(opportunity, bid.lot_ids)
    criteria = applicable_criteria(opportunity, [lot.id for lot in lots])
    needs = tuple(rules.CriterionNeed(c.id, c.kind, c.title, c.word_limit) for c in criteria)
    return Snapshot(needs=needs, facts=_facts(bid, lots), has_lots=bool(opportunity.lots),
                    price_asked=any(c.kind == "price" for c in criteria),
                    content=_content(bid, opportunity, lots, criteria))


# Which lots and criteria -------------------------------------------------------------------------------

def chosen_lots(opportunity: Any, lot_ids: Iterable[int] | None) -> list[Any]:
    """The opportunity's lots the bid names, in lot order; ids of other opportunities' lots are ignored."""
    wanted = {int(i) for i in (lot_ids or []) if str(i).isdigit()}
    return [lot for lot in opportunity.lots if lot.id in wanted]


def applicable_criteria(opportunity: Any, lot_ids: list[int]) -> list[Any]:
    """The main model's criteria, plus those of each chosen lot with its own model (which replaces the main
    model for that lot)."""
    by_lot = {model.lot_id: model for model in opportunity.models}
    main = by_lot.get(None)
    uses_main = main is not None and (not lot_ids or any(lot_id not in by_lot for lot_id in lot_ids))
    models = ([main] if uses_main else []) + [by_lot[lot_id] for lot_id in lot_ids if lot_id in by_lot]
    return [criterion for model in models for criterion in model.criteria]


def asks_for_text(criterion: Any) -> bool:
    """Quality and public value criteria want a written answer; a Kent criterion does when it has a word limit."""
    return criterion.kind in TEXT_KINDS or (criterion.kind == "local_economy" and bool(criterion.word_limit))


# Facts for the completeness rules ----------------------------------------------------------------------

def _facts(bid: Any, lots: list[Any]) -> rules.BidSnapshot:
    return rules.BidSnapshot(
        lot_ids=tuple(lot.id for lot in lots),
        answers={a.criterion_id: a.text or "" for a in bid.answers},
        confirmations={a.criterion_id: a.confirmed for a in bid.answers},
        price_total=bid.price_total,
        kent_share=bid.kent_share,
        member_shares=tuple(Decimal(m.share) for m in bid.members),
        declared_conflicts=bid.declared_conflicts,
        declared_no_exclusion_grounds=bool(bid.declared_no_exclusion_grounds),
        declared_accurate=bool(bid.declared_accurate),
        commitments=len(bid.commitments),
    )


# The sealed content ------------------------------------------------------------------------------------

def _fixed(value: Any, places: Decimal = PENCE) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(places)


def _content(bid: Any, opportunity: Any, lots: list[Any], criteria: list[Any]) -> dict:
    answers = {a.criterion_id: a for a in bid.answers}
    return {
        "format": CONTENT_FORMAT,
        "opportunity": {"id": opportunity.id, "reference": opportunity.reference, "title": opportunity.title},
        "organisation_id": bid.organisation_id,
        "lots": [{"id": lot.id, "number": lot.number, "title": lot.title} for lot in lots],
        "answers": {str(c.id): {"criterion": c.title, "kind": c.kind,
                                "text": answers[c.id].text if c.id in answers else ""}
                    for c in criteria if asks_for_text(c)},
        "confirmations": {str(c.id): {"criterion": c.title,
                                      "confirmed": answers[c.id].confirmed is True if c.id in answers else False}
                          for c in criteria if c.kind == "pass_fail"},
        "price": {"total": _fixed(bid.price_total), "lines": [_price_line(line) for line in bid.price_lines]},
        "social_value_commitments": [_commitment(c) for c in bid.commitments],
        "local_economy": {"kent_share": _fixed(bid.kent_share, SHARE_PLACES), "kent_jobs": bid.kent_jobs,
                          "kent_apprenticeships": bid.kent_apprenticeships,
                          "notes": bid.local_economy_notes or ""},
        "consortium": [_member(m) for m in bid.members],
        "documents": [{"title": d.title, "filename": d.filename, "content_type": d.content_type, "size": d.size,
                       "sha256": d.sha256} for d in bid.documents],
        "declarations": {"conflicts": bid.declared_conflicts, "conflict_details": bid.conflict_details or "",
                         "no_exclusion_grounds": bool(bid.declared_no_exclusion_grounds),
                         "accurate": bool(bid.declared_accurate)},
    }


def _price_line(line: Any) -> dict:
    quantity, unit_price = _fixed(line.quantity), _fixed(line.unit_price)
    return {"description": line.description, "quantity": quantity, "unit": line.unit or "",
            "unit_price": unit_price, "total": (quantity * unit_price).quantize(PENCE)}


def _commitment(commitment: Any) -> dict:
    return {"measure": commitment.measure, "quantity": _fixed(commitment.quantity), "unit": commitment.unit,
            "description": commitment.description or ""}


def _member(member: Any) -> dict:
    return {"name": member.name, "org_type": member.org_type, "size": member.size,
            "kent_based": bool(member.kent_based), "role": member.role, "share": _fixed(member.share, SHARE_PLACES),
            "linked_organisation_id": member.linked_organisation_id}


# Reading sealed content back ---------------------------------------------------------------------------

def _amount(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


def sealed_price(content: dict) -> Decimal | None:
    """The total price in a sealed version's content (what evaluation, awards and reports use)."""
    return _amount((content.get("price") or {}).get("total"))


def sealed_kent_share(content: dict) -> Decimal | None:
    """The committed share of contract value to be spent with Kent-based suppliers, 0..1."""
    return _amount((content.get("local_economy") or {}).get("kent_share"))
