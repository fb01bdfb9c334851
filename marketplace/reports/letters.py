"""Bidders' letters (PDF): an assessment summary for each evaluated bid, an exclusion letter for an excluded one.

An assessment summary gives the bid's own points and the winner's for every scored criterion, the moderator's
reason for each of its consensus scores, its rank, the standstill end date and, for the winner, the next steps.
An exclusion letter gives the ground. The figures are the engine's ranking stored with the recommendation.

Letters exist once an award is recommended (staff can download drafts then); a bidder can download its own, and
the award notice email can attach it (`letter_pdf`), once the award notice is published. A bid that was never
opened (withdrawn, or not submitted) has no letter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from marketplace.awards.models import Award, PriceReview
from marketplace.bids.models import Bid
from marketplace.bids.permissions import is_bidder
from marketplace.bids.submission import counting_submission, sealed_content
from marketplace.evaluation import model_rules, results
from marketplace.evaluation.models import ComplianceCheck, ModeratedScore
from marketplace.extensions import db
from marketplace.opportunities.models import Opportunity
from marketplace.organisations.models import Organisation
from marketplace.reports import award_report
from marketplace.reports.award_report import ASSESSMENT, EXCLUSION, LETTER_KINDS, LIVE_AWARDS
from marketplace.reports.pdf import render_pdf

TEMPLATES = {ASSESSMENT: "pdf/letter_assessment.html", EXCLUSION: "pdf/letter_exclusion.html"}
TITLES = {ASSESSMENT: "Assessment summary", EXCLUSION: "Your bid was excluded"}


# Who may download (pure) ----------------------------------------------------------------------------------

def is_final(award: Any) -> bool:
    """Letters go to bidders once the award notice is published (standstill starts that day)."""
    return award is not None and award.notice_published_at is not None


def can_download_own(user: Any, bid: Any, award: Any) -> bool:
    """A member of the bidding organisation, once the award notice is published."""
    return is_bidder(user, bid) and is_final(award)


# The letter -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CriterionLine:
    title: str
    weight: Decimal | None
    own_points: str | None
    winner_points: str | None
    assessment: str  # how the points were reached
    reason: str  # the moderator's reason, for panel-scored criteria


@dataclass(frozen=True)
class Letter:
    kind: str
    bid_id: int
    reference: str
    opportunity_title: str
    organisation: str
    address: list[str]
    winner: bool
    winner_name: str | None
    rank: int | None
    ranked: int
    total: str | None
    winner_total: str | None
    lines: list[CriterionLine]
    ground: str | None
    notice_published_at: datetime | None
    standstill_ends_on: date | None
    contact_name: str
    contact_email: str

    @property
    def draft(self) -> bool:
        return self.notice_published_at is None

    @property
    def contract_from(self) -> date | None:
        return None if self.standstill_ends_on is None else self.standstill_ends_on + timedelta(days=1)

    @property
    def title(self) -> str:
        return TITLES[self.kind]

    @property
    def subject(self) -> str:
        return f"{self.reference}: {self.opportunity_title}. For {self.organisation}"

    @property
    def filename(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", self.organisation.lower()).strip("-")[:60]
        name = LETTER_KINDS[self.kind].lower().replace(" ", "-")
        return f"{self.reference}-{name}-{slug}{'-draft' if self.draft else ''}.pdf"


def live_award(opportunity_id: int) -> Award | None:
    return db.session.execute(sa.select(Award).where(Award.opportunity_id == opportunity_id,
                                                     Award.status.in_(LIVE_AWARDS))
                              .order_by(Award.id.desc()).limit(1)).scalar_one_or_none()


def letter_for(bid: Bid, award: Award | None = None) -> Letter | None:
    """The bid's letter, or None when it has none (no award recommended yet, or the bid was not opened)."""
    award = award or live_award(bid.opportunity_id)
    version = counting_submission(bid)
    if award is None or not award.ranking or version is None:
        return None
    opportunity = db.session.get(Opportunity, bid.opportunity_id)
    criteria = results.evaluation_criteria(opportunity)
    titles = {str(c.id): c.title for c in criteria}
    entries = {e["id"]: e for e in award.ranking.get("bids", [])}
    own, check = entries.get(str(bid.id)), _one(ComplianceCheck, bid.id)
    if check is None:
        return None
    ground = award_report.exclusion_ground(check, _one(PriceReview, bid.id),
                                           own["reasons"] if own and own["excluded"] else None, titles)
    kind = award_report.letter_kind(ground is not None, own is not None and not own["excluded"])
    if kind is None:
        return None
    winner = entries.get(award.ranking.get("winner") or "")
    return _letter(kind, bid, award, opportunity, own, winner, ground,
                   _lines(criteria, own, winner, bid.id, sealed_content(version)) if kind == ASSESSMENT else [])


def _one(model, bid_id: int):
    return db.session.execute(sa.select(model).where(model.bid_id == bid_id)).scalar_one_or_none()


def _letter(kind: str, bid: Bid, award: Award, opportunity: Opportunity, own: dict | None, winner: dict | None,
            ground: str | None, lines: list[CriterionLine]) -> Letter:
    organisation = db.session.get(Organisation, bid.organisation_id)
    winner_org = db.session.get(Organisation, db.session.get(Bid, int(winner["id"])).organisation_id) \
        if winner else None
    ranked = sum(1 for e in award.ranking.get("bids", []) if not e["excluded"])
    is_winner = winner is not None and winner["id"] == str(bid.id)
    return Letter(
        kind=kind, bid_id=bid.id, reference=opportunity.reference, opportunity_title=opportunity.title,
        organisation=organisation.legal_name, address=_address(organisation), winner=is_winner,
        winner_name=winner_org.legal_name if winner_org else None, rank=own["rank"] if own else None,
        ranked=ranked, total=own["total"] if own else None, winner_total=winner["total"] if winner else None,
        lines=lines, ground=ground, notice_published_at=award.notice_published_at,
        standstill_ends_on=award.standstill_ends_on, contact_name=opportunity.contact_name,
        contact_email=opportunity.contact_email)


def _address(organisation: Organisation) -> list[str]:
    lines = [organisation.legal_name, organisation.trading_line1, organisation.trading_line2,
             organisation.trading_town, organisation.trading_postcode]
    return [line for line in lines if line]


def _lines(criteria: list[Any], own: dict, winner: dict | None, bid_id: int, content: dict) -> list[CriterionLine]:
    moderated = {m.criterion_id: m for m in db.session.execute(
        sa.select(ModeratedScore).where(ModeratedScore.bid_id == bid_id)).scalars()}
    lines = []
    for criterion in criteria:
        if criterion.kind == model_rules.PASS_FAIL:
            continue
        key = str(criterion.id)
        score = moderated.get(criterion.id)
        lines.append(CriterionLine(
            criterion.title, criterion.weight, own["points"].get(key), (winner or {}).get("points", {}).get(key),
            _assessment(criterion, score, content), score.reason if score is not None else ""))
    return lines


def _assessment(criterion: Any, score: ModeratedScore | None, content: dict) -> str:
    """How the points were reached: the panel's consensus score, or the figure the engine computed them from."""
    if score is not None:
        return f"Consensus score {score.score.normalize():f} out of {criterion.scale_max}"
    if criterion.kind == model_rules.PRICE:
        total = (content.get("price") or {}).get("total")
        method = model_rules.PRICE_METHODS.get(criterion.method or "", "").lower()
        return f"Your price of £{Decimal(str(total)):,.2f}, scored {method}" if total else "Scored on price"
    share = (content.get("local_economy") or {}).get("kent_share")
    method = model_rules.LOCAL_ECONOMY_METHODS.get(criterion.method or "", "").lower()
    if share not in (None, ""):
        return f"Your committed Kent share of {(Decimal(str(share)) * 100).normalize():f}%, scored {method}"
    return "Scored by the panel"


# Rendering ------------------------------------------------------------------------------------------------

def render(letter: Letter) -> bytes:
    return render_pdf(TEMPLATES[letter.kind], title=letter.title, subject=letter.subject,
                      context={"letter": letter}, draft=letter.draft,
                      keywords=[letter.reference, "award", LETTER_KINDS[letter.kind].lower()])


def letter_pdf(bid: Bid) -> tuple[str, bytes] | None:
    """(filename, PDF) of the bid's final letter, to attach to the award notice email; None when the bid has no
    letter or the award notice is not yet published."""
    letter = letter_for(bid)
    if letter is None or letter.draft:
        return None
    return letter.filename, render(letter)


def staff_letter(opportunity: Opportunity, bid_id: int) -> tuple[str, bytes] | None:
    """A bid's letter for staff: a draft before the award notice. None when that bid has no letter."""
    bid = db.session.get(Bid, bid_id)
    if bid is None or bid.opportunity_id != opportunity.id:
        return None
    letter = letter_for(bid)
    return None if letter is None else (letter.filename, render(letter))


def own_letter(user: Any, opportunity_id: int) -> tuple[str, bytes] | None:
    """The signed-in bidder's letter for this opportunity, once the award notice is published; else None."""
    organisation_id = getattr(getattr(user, "membership", None), "organisation_id", None)
    bid = db.session.execute(sa.select(Bid).where(Bid.opportunity_id == opportunity_id,
                                                  Bid.organisation_id == organisation_id)).scalar_one_or_none()
    award = live_award(opportunity_id) if bid is not None else None
    if bid is None or not can_download_own(user, bid, award):
        return None
    letter = letter_for(bid, award)
    return None if letter is None else (letter.filename, render(letter))
