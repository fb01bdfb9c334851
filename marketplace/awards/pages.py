"""What each award page shows, read in one place so the views stay thin: the recommendation page (the live
ranking), the award page (the stored ranking, flags, approval, standstill, challenges, contract), the task list
on the evaluation overview, and a bidder's own result."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from marketplace.awards import permissions, reading, rules, wording
from marketplace.awards.models import Award
from marketplace.evaluation import results
from marketplace.evaluation.models import ModeratedScore
from marketplace.extensions import db
from marketplace.opportunities import permissions as opportunity_permissions
from marketplace.timeutil import london, utcnow


def today() -> date:
    return london(utcnow()).date()


# The recommendation page ------------------------------------------------------------------------------------

def recommendation(opportunity: Any) -> dict:
    award = reading.current_award(opportunity.id)
    refusal = reading.recommendation_refusal(opportunity, award)
    ranking = results.rank(opportunity) if refusal is None else None
    refusal = refusal or reading.ranking_refusal(ranking)
    display = ranking.display() if ranking is not None else None
    table = reading.table(opportunity, display) if display else None
    return {"refusal": refusal, "table": table, "flags": reading.flag_states(opportunity, display),
            "tied_choices": [(bid_id, table.names.get(bid_id, bid_id)) for bid_id in table.tied] if table else [],
            "returned": award if award is not None and award.status == rules.RETURNED else None}


# The award page ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Standstill:
    state: str
    ends_on: date | None
    unresolved: int
    upheld: int

    @property
    def ends(self) -> str:
        return rules.standstill_end_words(self.ends_on) if self.ends_on else ""


def standstill_of(award: Award | None) -> Standstill:
    ends_on = award.standstill_ends_on if award is not None and award.status in rules.PUBLISHED else None
    unresolved, upheld = reading.challenge_counts(award.id) if award is not None else (0, 0)
    return Standstill(rules.standstill_state(ends_on, today(), unresolved, upheld), ends_on, unresolved, upheld)


def award_page(opportunity: Any, user: Any) -> dict:
    history = reading.awards_of(opportunity.id)
    award = history[0] if history else None
    standstill = standstill_of(award)
    flags_from = reading.flag_display(opportunity, award)
    context = {
        "award": award, "earlier": history[1:], "standstill": standstill,
        "table": reading.table(opportunity, award.ranking) if award is not None else None,
        "flags": reading.flag_states(opportunity, flags_from),
        "challenges": reading.challenges_of(award.id) if award is not None else [],
        "contract": reading.contract_of(award.id) if award is not None else None,
        "names": reading.names_of(opportunity.id),
        "organisations": dict(reading.bidders_of(opportunity.id)),
        "can_run": permissions.can_run_awards(user), "can_decide": permissions.can_decide(user, award),
        "can_cancel": opportunity_permissions.can_cancel(user, opportunity),
        "recommender": award is not None and award.recommended_by_id == getattr(user, "id", None),
        "confirm_refusal": None, "blockers": [],
    }
    context["people"] = reading.people(*[person for a in history for person in
                                         (a.recommended_by_id, a.decided_by_id, a.confirmed_by_id)])
    if award is not None and award.status == rules.RECOMMENDED:
        context["blockers"] = reading.approval_blockers(opportunity, award, flags_from)
    if award is not None and award.status == rules.APPROVED:
        context["confirm_refusal"] = rules.confirmation_refusal(award.status, award.standstill_ends_on, today(),
                                                                standstill.unresolved, standstill.upheld)
    return context


def flag_of(opportunity: Any, bid_id: int) -> reading.FlagState | None:
    """The flagged bid's state, for its price review page; None when the bid is not flagged."""
    display = reading.flag_display(opportunity, reading.current_award(opportunity.id))
    return next((flag for flag in reading.flag_states(opportunity, display) if flag.bid_id == bid_id), None)


# The task list on the evaluation overview --------------------------------------------------------------------

CANNOT_START = {"text": "Cannot start yet", "classes": "govuk-task-list__status--cannot-start-yet"}
COMPLETED = {"text": "Completed"}


def _to_do(text: str) -> dict:
    return {"tag": {"text": text, "classes": "govuk-tag--blue"}}


def _item(title: str, status: dict, href: str | None, hint: str = "") -> dict:
    item = {"title": {"text": title}, "status": status}
    if href:
        item["href"] = href
    if hint:
        item["hint"] = {"text": hint}
    return item


def hub_items(opportunity: Any, links: dict[str, str | None]) -> list[dict]:
    """GOV.UK task list items for the award stage; `links` holds the pages this person may open (or None)."""
    award = reading.current_award(opportunity.id)
    status = award.status if award is not None else None
    standstill = standstill_of(award)
    display = reading.flag_display(opportunity, award)
    flags = reading.flag_states(opportunity, display)
    return [
        _recommend_item(opportunity, award, links),
        _item("Answer abnormally low prices", _price_status(display, flags), links["award"] if flags else None),
        _approve_item(status, links),
        _item("Standstill", _standstill_status(status, standstill), links["award"] if standstill.ends_on else None,
              f"Ends at {standstill.ends}" if standstill.ends_on else ""),
        _item("Challenges", _challenge_status(status, standstill), links["award"] if standstill.ends_on else None),
        _confirm_item(status, standstill, links),
    ]


def _recommend_item(opportunity: Any, award: Award | None, links: dict) -> dict:
    if award is not None and award.status in rules.IN_PROGRESS | {rules.CONFIRMED}:
        return _item("Recommend the award", COMPLETED, links["award"])
    if reading.recommendation_refusal(opportunity, award) is not None:
        return _item("Recommend the award", CANNOT_START, None)
    hint = "The last recommendation was returned." if award is not None and award.status == rules.RETURNED else ""
    return _item("Recommend the award", _to_do("Not started"), links["recommend"], hint)


def _price_status(display: dict | None, flags: list[reading.FlagState]) -> dict:
    waiting = sum(1 for flag in flags if flag.review is None)
    if waiting:
        return _to_do(f"{waiting} to answer")
    if flags:
        return COMPLETED
    return CANNOT_START if display is None else {"text": "None flagged"}


def _approve_item(status: str | None, links: dict) -> dict:
    if status == rules.RECOMMENDED:
        return _item("Approve the award", _to_do("Waiting for approval"), links["decision"])
    if status in rules.PUBLISHED:
        return _item("Approve the award", COMPLETED, links["award"])
    return _item("Approve the award", CANNOT_START, None)


def _standstill_status(status: str | None, standstill: Standstill) -> dict:
    if status == rules.CONFIRMED:
        return COMPLETED
    words = {rules.RUNNING: "Running", rules.SUSPENDED: "Suspended by a challenge", rules.UPHELD: "Challenge upheld",
             rules.ENDED: "Ended"}
    return _to_do(words[standstill.state]) if standstill.state in words else CANNOT_START


def _challenge_status(status: str | None, standstill: Standstill) -> dict:
    if standstill.ends_on is None:
        return CANNOT_START
    if standstill.unresolved:
        return _to_do(f"{standstill.unresolved} unresolved")
    return {"text": "Upheld" if standstill.upheld else "None outstanding"}


def _confirm_item(status: str | None, standstill: Standstill, links: dict) -> dict:
    if status == rules.CONFIRMED:
        return _item("Confirm the award and record the contract", COMPLETED, links["award"])
    if status == rules.APPROVED and standstill.state == rules.ENDED:
        return _item("Confirm the award and record the contract", _to_do("Ready to confirm"), links["award"])
    return _item("Confirm the award and record the contract", CANNOT_START, None)


# A bidder's own result -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CriterionResult:
    title: str
    kind: str
    weight: Decimal | None
    scale_max: int
    points: str | None
    score: Decimal | None = None  # the moderated (consensus) score, for criteria people score
    reason: str | None = None  # the moderator's reason


@dataclass(frozen=True)
class BidderResult:
    award: Award
    successful: bool
    excluded: bool
    reasons: tuple[str, ...]
    criteria: tuple[CriterionResult, ...]
    total: str | None
    rank: int | None
    ranked: int
    winner_name: str
    winner_total: str | None
    standstill: Standstill


def _entry(award: Award, bid_id: int) -> dict | None:
    return next((e for e in award.ranking.get("bids", []) if e["id"] == str(bid_id)), None)


def _moderated(bid_id: int) -> dict[int, ModeratedScore]:
    return {m.criterion_id: m for m in db.session.execute(
        sa.select(ModeratedScore).where(ModeratedScore.bid_id == bid_id)).scalars()}


def bidder_result(opportunity: Any, bid: Any) -> BidderResult | None:
    """The bid's own result under the published award; None before the award notice, or when the bid took no
    part (never submitted, or withdrawn)."""
    award = reading.current_award(opportunity.id)
    if award is None or award.status not in rules.PUBLISHED:
        return None
    entry, excluded_at_compliance = _entry(award, bid.id), reading.compliance_exclusions(opportunity.id).get(str(bid.id))
    if entry is None and excluded_at_compliance is None:
        return None
    titles, winner = reading.titles_of(opportunity), _entry(award, award.bid_id)
    reasons = tuple(wording.reason_words(r, titles) for r in entry["reasons"]) if entry else (excluded_at_compliance,)
    return BidderResult(
        award=award, successful=bid.id == award.bid_id, excluded=entry is None or entry["excluded"], reasons=reasons,
        criteria=_criteria(opportunity, bid.id, entry) if entry and not entry["excluded"] else (),
        total=entry["total"] if entry else None, rank=entry["rank"] if entry else None,
        ranked=sum(1 for e in award.ranking.get("bids", []) if not e["excluded"]),
        winner_name=reading.names_of(opportunity.id).get(str(award.bid_id), ""),
        winner_total=winner["total"] if winner else None, standstill=standstill_of(award))


def _criteria(opportunity: Any, bid_id: int, entry: dict) -> tuple[CriterionResult, ...]:
    moderated = _moderated(bid_id)
    rows = []
    for criterion in results.evaluation_criteria(opportunity):
        if not results.engine_criterion(criterion).is_scored:
            continue
        score = moderated.get(criterion.id)
        rows.append(CriterionResult(criterion.title, criterion.kind, criterion.weight, criterion.scale_max,
                                    entry["points"].get(str(criterion.id)), score.score if score else None,
                                    score.reason if score else None))
    return tuple(rows)
