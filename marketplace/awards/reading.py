"""What the award pages and services read: the current award and its history, the price reviews and challenges,
bidders' names, and the ranking laid out as a table with its words.

A ranking is shown from the engine's JSON output (`results.Ranking.display()`), either live (the recommendation
page) or as stored on the award (`Award.ranking`), so both read the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from marketplace.accounts.models import User
from marketplace.awards import rules, wording
from marketplace.awards.models import Award, Challenge, Contract, PriceReview
from marketplace.bids.models import Bid
from marketplace.evaluation import results
from marketplace.evaluation.access import evaluation_of
from marketplace.evaluation.models import ComplianceCheck
from marketplace.evaluation.permissions import bids_closed
from marketplace.extensions import db
from marketplace.opportunities.models import Opportunity
from marketplace.organisations.models import Organisation
from marketplace.timeutil import utcnow


# Records ------------------------------------------------------------------------------------------------

def awards_of(opportunity_id: int) -> list[Award]:
    """Every recommendation made for the opportunity, newest first."""
    return list(db.session.execute(sa.select(Award).where(Award.opportunity_id == opportunity_id)
                                   .order_by(Award.id.desc())).scalars())


def current_award(opportunity_id: int) -> Award | None:
    """The latest recommendation, whatever became of it."""
    return db.session.execute(sa.select(Award).where(Award.opportunity_id == opportunity_id)
                              .order_by(Award.id.desc()).limit(1)).scalar_one_or_none()


def challenges_of(award_id: int) -> list[Challenge]:
    return list(db.session.execute(sa.select(Challenge).where(Challenge.award_id == award_id)
                                   .order_by(Challenge.received_at, Challenge.id)).scalars())


def challenge_counts(award_id: int) -> tuple[int, int]:
    """(unresolved, upheld) challenges to the award."""
    unresolved, upheld = db.session.execute(sa.select(
        sa.func.count().filter(Challenge.resolved_at.is_(None)),
        sa.func.count().filter(Challenge.upheld.is_(True))).where(Challenge.award_id == award_id)).one()
    return unresolved, upheld


def reviews_of(opportunity_id: int) -> dict[int, PriceReview]:
    """Price reviews of the opportunity's bids, by bid id."""
    return {r.bid_id: r for r in db.session.execute(
        sa.select(PriceReview).join(Bid, Bid.id == PriceReview.bid_id)
        .where(Bid.opportunity_id == opportunity_id)).scalars()}


def contract_of(award_id: int) -> Contract | None:
    return db.session.execute(sa.select(Contract).where(Contract.award_id == award_id)).scalar_one_or_none()


def names_of(opportunity_id: int) -> dict[str, str]:
    """Each bid's organisation name, by bid id as the engine writes it (a string)."""
    rows = db.session.execute(sa.select(Bid.id, Organisation.legal_name)
                              .join(Organisation, Organisation.id == Bid.organisation_id)
                              .where(Bid.opportunity_id == opportunity_id))
    return {str(bid_id): name for bid_id, name in rows}


def bidders_of(opportunity_id: int) -> list[tuple[int, str]]:
    """(organisation id, name) of each organisation whose bid counts, by name: who may challenge. None before the
    deadline: until then even who has bid is sealed."""
    opportunity = db.session.get(Opportunity, opportunity_id)
    if opportunity is None or not bids_closed(opportunity.submission_deadline, utcnow()):
        return []
    versions = results.counting_versions(opportunity_id)
    rows = db.session.execute(sa.select(Organisation.id, Organisation.legal_name).join(
        Bid, Bid.organisation_id == Organisation.id).where(Bid.id.in_([v.bid_id for v in versions] or [0]))
        .order_by(Organisation.legal_name))
    return [(org_id, name) for org_id, name in rows]


def people(*user_ids: int | None) -> dict[int, str]:
    """Staff names by id, for 'recommended by' lines."""
    wanted = {i for i in user_ids if i is not None}
    if not wanted:
        return {}
    return dict(db.session.execute(sa.select(User.id, User.full_name).where(User.id.in_(wanted))).all())


def compliance_exclusions(opportunity_id: int) -> dict[str, str]:
    """Bids excluded at compliance (they never reach the engine), with the reason they were given."""
    rows = db.session.execute(sa.select(ComplianceCheck.bid_id, ComplianceCheck.reason)
                              .join(Bid, Bid.id == ComplianceCheck.bid_id)
                              .where(Bid.opportunity_id == opportunity_id, ComplianceCheck.compliant.is_(False))
                              .order_by(ComplianceCheck.bid_id))
    return {str(bid_id): reason or "Excluded at the compliance check" for bid_id, reason in rows}


def moderation_complete(opportunity_id: int) -> bool:
    evaluation = evaluation_of(opportunity_id)
    return evaluation is not None and evaluation.moderation_completed_at is not None


def recommendation_refusal(opportunity: Any, award: Award | None) -> str | None:
    return rules.recommendation_refusal(opportunity.status, moderation_complete(opportunity.id),
                                        award.status if award else None)


def ranking_refusal(ranking: results.Ranking) -> str | None:
    """Why the engine has no ranking to recommend from."""
    if not ranking.versions:
        return ("No bid passed the compliance check, so there is nothing to recommend. Cancel the opportunity "
                "instead.")
    if not ranking.complete:
        return "Some consensus scores are missing, so the bids cannot be ranked yet."
    return None


# The ranking as a table -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    id: str
    title: str
    weight: Any


@dataclass(frozen=True)
class Row:
    bid_id: str
    name: str
    rank: int | None = None
    total: str | None = None
    points: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class Table:
    columns: tuple[Column, ...]
    ranked: tuple[Row, ...]
    excluded: tuple[Row, ...]
    winner: str | None
    tied: tuple[str, ...]
    decided_by: str
    sensitivity: str
    names: dict[str, str] = field(default_factory=dict)


def columns_of(opportunity: Any) -> tuple[Column, ...]:
    """The criteria that give points, in the model's order."""
    return tuple(Column(str(c.id), c.title, c.weight) for c in results.evaluation_criteria(opportunity)
                 if results.engine_criterion(c).is_scored)


def titles_of(opportunity: Any) -> dict[str, str]:
    return {str(c.id): c.title for c in results.evaluation_criteria(opportunity)}


def table(opportunity: Any, display: dict) -> Table:
    """The engine's output (live or stored) with names, titles and words; bids excluded at compliance added."""
    names, titles = names_of(opportunity.id), titles_of(opportunity)
    columns = columns_of(opportunity)
    ranked, excluded = [], []
    for entry in display["bids"]:
        name = names.get(entry["id"], "Unknown bidder")
        if entry["excluded"]:
            excluded.append(Row(entry["id"], name, reasons=tuple(wording.reason_words(r, titles)
                                                                 for r in entry["reasons"])))
            continue
        ranked.append(Row(entry["id"], name, entry["rank"], entry["total"],
                          tuple(entry["points"].get(c.id, "") for c in columns),
                          tuple(wording.flag_words(f, names) for f in entry["flags"])))
    excluded += [Row(bid_id, names.get(bid_id, "Unknown bidder"), reasons=(reason,))
                 for bid_id, reason in compliance_exclusions(opportunity.id).items()]
    return Table(columns, tuple(ranked), tuple(excluded), display.get("winner"), tuple(display.get("tied") or ()),
                 wording.decided_by_words(display.get("decided_by")),
                 wording.sensitivity_words(display.get("sensitivity"), titles, names), names)


# Abnormally low prices -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FlagState:
    bid_id: int
    name: str
    flags: tuple[str, ...]
    review: PriceReview | None

    @property
    def state(self) -> str:
        if self.review is None:
            return "Not answered"
        return "Price accepted" if self.review.accepted else "Price rejected: bid excluded"


def flagged_in(display: dict | None) -> dict[str, list[str]]:
    """The engine's abnormally-low flags on bids still in the ranking, by bid id."""
    return {entry["id"]: entry["flags"] for entry in (display or {}).get("bids", [])
            if not entry["excluded"] and entry["flags"]}


def flag_states(opportunity: Any, display: dict | None) -> list[FlagState]:
    """Every flagged bid with the answer recorded, if any; a bid whose price was rejected is no longer in the
    ranking, so its flags come from its review."""
    names, reviews = names_of(opportunity.id), reviews_of(opportunity.id)
    flags = {int(bid_id): found for bid_id, found in flagged_in(display).items()}
    flags.update({bid_id: review.flags for bid_id, review in reviews.items() if bid_id not in flags})
    return [FlagState(bid_id, names.get(str(bid_id), "Unknown bidder"),
                      tuple(wording.flag_words(f, names) for f in found), reviews.get(bid_id))
            for bid_id, found in sorted(flags.items())]


def unanswered_names(opportunity: Any, display: dict | None) -> list[str]:
    """Names of flagged bids still in the ranking whose flag has no answer."""
    names = names_of(opportunity.id)
    waiting = rules.unanswered(flagged_in(display), (str(b) for b in reviews_of(opportunity.id)))
    return [names.get(bid_id, "Unknown bidder") for bid_id in waiting]


def live_display(opportunity: Any) -> dict | None:
    """The engine's output on the evaluation as it stands, or None while scores are missing."""
    return results.rank(opportunity).display()


def flag_display(opportunity: Any, award: Award | None) -> dict | None:
    """Where the flags are read: the live ranking until an award is approved, then the ranking approved."""
    if award is not None and award.status not in (rules.RECOMMENDED, rules.RETURNED):
        return award.ranking
    return live_display(opportunity)


def approval_blockers(opportunity: Any, award: Award, live: dict | None) -> list[str]:
    """What stops this recommendation being approved, judged on the live ranking."""
    return rules.approval_blockers(unanswered_names(opportunity, live), live != award.ranking)
