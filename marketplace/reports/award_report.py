"""The award report: everything a council committee needs to see how a contract was awarded, gathered once.

`build(opportunity, now)` checks the opportunity is at a reportable stage, then `load` reads every record of the
procurement in a fixed number of queries, whatever the number of bids, into plain dataclasses that the staff HTML
page (`templates/reports/award_report.html`) and the PDF (`templates/pdf/award_report.html`) render alike:

cover, summary (recommendation, winner, margin over the runner-up, robustness to the weights), the evaluation
model, bids received and opened with their receipt hashes, compliance and exclusions, the ranking, points per
criterion per bid (a chart and a table), the moderation record, conflict declarations, abnormally-low price
answers, the winner's social value and Kent commitments, standstill, approvals and the audit trail.

The figures are the engine's: the ranking stored with the recommendation (`Award.ranking`, the engine's output as
shown then) once there is one, otherwise `results.rank(opportunity).display()` over the moderated scores.

Reportable: award recommended, standstill, awarded; and evaluating once moderation is complete (as a draft). The
report is a DRAFT until the award is approved. Before the deadline nobody can make one (the pages answer 404).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Iterable

import sqlalchemy as sa

from marketplace.accounts.models import User
from marketplace.accounts.roles import ADMINISTRATOR, COMMISSIONER, PROCUREMENT_OFFICER
from marketplace.audit import AuditEvent
from marketplace.awards.models import (
    APPROVED,
    CONFIRMED,
    RECOMMENDED,
    RETURNED,
    Award,
    Challenge,
    Contract,
    PriceReview,
)
from marketplace.bids.measures import describe
from marketplace.bids.models import Bid, BidSubmission
from marketplace.bids.submission import receipt_time
from marketplace.errors import DomainError
from marketplace.evaluation import model_rules, moderation_rules, results
from marketplace.evaluation.models import (
    PANEL_ROLES,
    ComplianceCheck,
    ConflictDeclaration,
    ConflictsAssessment,
    Evaluation,
    ModeratedScore,
    PanelMember,
    Score,
)
from marketplace.extensions import db
from marketplace.kent import locality_name
from marketplace.opportunities import lifecycle
from marketplace.opportunities.models import PROCEDURES, Opportunity
from marketplace.opportunities.services import criterion_spec
from marketplace.organisations.choices import ORGANISATION_TYPES, SIZES
from marketplace.organisations.models import Organisation
from marketplace.reports.pdf import render_pdf
from marketplace.settings import services as settings
from marketplace.taxonomy import category_name

SEALED_STATES = frozenset({lifecycle.DRAFT, lifecycle.AWAITING_APPROVAL, lifecycle.PUBLISHED})
REPORTABLE_STATES = frozenset({lifecycle.AWARD_RECOMMENDED, lifecycle.STANDSTILL, lifecycle.AWARDED})
FINAL_STATES = frozenset({lifecycle.STANDSTILL, lifecycle.AWARDED})
LIVE_AWARDS = (RECOMMENDED, APPROVED, CONFIRMED)
# Provider users watching an opportunity are not steps of its procurement.
NOT_PROCUREMENT = ("opportunity.watched", "opportunity.unwatched", "opportunity.watch_seeded")
ROBUST_SHIFT, SENSITIVE_SHIFT = Decimal(10), Decimal(5)
CHART_COLOURS = ("#1d70b8", "#00703c", "#912b88", "#d4351c", "#0b0c0c", "#505a5f")
ASSESSMENT, EXCLUSION = "assessment", "exclusion"
LETTER_KINDS = {ASSESSMENT: "Assessment summary", EXCLUSION: "Exclusion letter"}
DECIDED_BY = {
    "total": "the highest total",
    "quality_and_public_value_points": "equal totals, so the tie-break rule stated in advance: the higher quality "
                                       "and public value points",
    "lower_price": "equal totals and quality and public value points, so the tie-break rule stated in advance: "
                   "the lower price",
    "only_compliant_bid": "the only compliant bid",
    "tie": "a tie that survived the tie-break rule, decided as recorded below",
}


UNRANKED = "Some compliant bids have no consensus score yet, so the scoring engine cannot rank them."
NONE_COMPLIANT = "No bid was compliant, so there is no ranking to report. Cancel the opportunity instead."


class NotReportable(DomainError):
    """The opportunity is past its deadline but not at a stage an award report can be made for; says why."""


# Who, and when (pure) -------------------------------------------------------------------------------------

def _roles(user: Any) -> frozenset[str]:
    return frozenset(getattr(user, "roles", ())) if getattr(user, "is_authenticated", False) else frozenset()


def can_read_award_report(user: Any, opportunity: Any) -> bool:
    """Procurement officers and administrators; and the commissioner who wrote the opportunity."""
    roles = _roles(user)
    author = COMMISSIONER in roles and opportunity.created_by_id == getattr(user, "id", None)
    return bool(roles & {PROCUREMENT_OFFICER, ADMINISTRATOR}) or author


def is_sealed(opportunity: Any, now: datetime) -> bool:
    """Before the deadline (or never published) no report exists for anyone: the pages answer 404."""
    deadline = opportunity.submission_deadline
    return opportunity.status in SEALED_STATES or deadline is None or now < deadline


def refusal(status: str, moderation_complete: bool) -> str | None:
    """Why no award report can be made at this stage (after the deadline), or None when one can."""
    if status in REPORTABLE_STATES or (status == lifecycle.EVALUATING and moderation_complete):
        return None
    if status == lifecycle.CANCELLED:
        return "This opportunity was cancelled, so there is no award to report on."
    if status == lifecycle.EVALUATING:
        return ("The bids are being evaluated. A draft award report can be made once moderation is complete, "
                "and the final report once the award is approved.")
    return ("The bids have not been opened yet. A draft award report can be made once they have been evaluated "
            "and moderation is complete.")


def is_draft(status: str) -> bool:
    """A draft until the award is approved (standstill, then awarded)."""
    return status not in FINAL_STATES


# The report ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CriterionRow:
    id: str
    title: str
    kind: str
    weight: Decimal | None
    how: str  # how it is scored, in words


@dataclass(frozen=True)
class Cover:
    title: str
    reference: str
    value: Decimal
    localities: list[str]
    category: str
    procedure: str
    stage: str
    dates: list[tuple[str, datetime | date | None]]


@dataclass(frozen=True)
class Receipt:
    """A bid as opened: the sealed version that counted, its receipt, and what happened to it."""

    bid_id: int
    organisation: str
    organisation_facts: str  # type, size, Kent-based
    number: int | None
    submitted_at: datetime | None
    sha256: str
    verified: bool
    price: Decimal | None
    compliant: bool | None  # None: not checked
    checks: list[dict]
    outcome: str  # ranked n | excluded: ground

    @property
    def submitted(self) -> str:
        """UK time to the second, as on the bidder's receipt."""
        return receipt_time(self.submitted_at) if self.submitted_at else "Not recorded"


@dataclass(frozen=True)
class RankRow:
    bid_id: int
    organisation: str
    rank: int | None
    price: Decimal | None
    points: list[str | None]  # in the order of `AwardReport.scored`
    total: str | None
    flags: list[str]
    winner: bool


@dataclass(frozen=True)
class Segment:
    title: str
    points: str
    x: Decimal
    width: Decimal
    colour: str


@dataclass(frozen=True)
class Bar:
    organisation: str
    total: str
    segments: list[Segment]
    label: str  # the bar's figures in words, for screen readers


@dataclass(frozen=True)
class EvaluatorScore:
    evaluator: str
    score: Decimal
    justification: str


@dataclass(frozen=True)
class ModerationRow:
    organisation: str
    criterion: str
    scale_max: int
    scores: list[EvaluatorScore]
    wide: bool
    consensus: Decimal | None
    reason: str
    moderator: str


@dataclass(frozen=True)
class DeclarationRow:
    person: str
    roles: str
    declared_at: datetime | None
    has_conflict: bool | None  # None: no declaration recorded
    details: str
    mitigation: str | None
    mitigated_by: str
    mitigated_at: datetime | None
    removed: str  # why they left the panel, if they did


@dataclass(frozen=True)
class Conflicts:
    assessment: str | None
    assessed_by: str
    assessed_at: datetime | None
    declarations: list[DeclarationRow]


@dataclass(frozen=True)
class PriceReviewRow:
    organisation: str
    flags: list[str]
    explanation: str | None  # None: the flag has not been answered
    accepted: bool | None
    decision: str
    decided_by: str
    decided_at: datetime | None


@dataclass(frozen=True)
class SupplyChainMember:
    name: str
    role: str
    kent_based: bool
    share: Decimal | None


@dataclass(frozen=True)
class Commitments:
    organisation: str
    source: str
    value: Decimal | None
    kent_share: Decimal | None
    kent_spend: Decimal | None
    kent_jobs: int | None
    kent_apprenticeships: int | None
    notes: str
    social_value: list[str]
    supply_chain: list[SupplyChainMember]


@dataclass(frozen=True)
class ChallengeRow:
    organisation: str
    received_at: datetime
    summary: str
    outcome: str


@dataclass(frozen=True)
class Standstill:
    notice_published_at: datetime | None
    ends_on: date | None
    contract_from: date | None
    challenges: list[ChallengeRow]


@dataclass(frozen=True)
class Approval:
    step: str
    person: str
    at: datetime | None
    note: str


@dataclass(frozen=True)
class AuditRow:
    occurred_at: datetime
    actor: str
    action: str
    subject: str
    details: str

    @property
    def when(self) -> str:
        return receipt_time(self.occurred_at)


@dataclass(frozen=True)
class LetterLink:
    bid_id: int
    organisation: str
    kind: str  # the letter's name: Assessment summary | Exclusion letter


@dataclass(frozen=True)
class Summary:
    recommendation: str
    winner: str | None
    winner_total: str | None
    runner_up: str | None
    runner_up_total: str | None
    margin: Decimal | None
    decided_by: str
    tie_decision: str | None
    tied: list[str]
    robustness: str
    robustness_detail: str


@dataclass(frozen=True)
class AwardReport:
    opportunity_id: int
    reference: str
    title: str
    status: str
    draft: bool
    ranking_source: str
    cover: Cover
    summary: Summary
    criteria: list[CriterionRow]
    scored: list[CriterionRow]
    receipts: list[Receipt]
    ranking: list[RankRow]
    excluded: list[Receipt]
    chart: list[Bar]
    legend: list[Segment]
    moderation: list[ModerationRow]
    conflicts: Conflicts
    price_reviews: list[PriceReviewRow]
    commitments: Commitments | None
    standstill: Standstill
    approvals: list[Approval]
    audit: list[AuditRow]
    letters: list[LetterLink]
    letters_final: bool  # the award notice is out: bidders can download theirs
    thresholds: dict[str, Decimal] = field(default_factory=dict)  # the abnormally-low settings the engine used

    @property
    def filename(self) -> str:
        return f"award-report-{self.reference}{'-draft' if self.draft else ''}.pdf"

    @property
    def subject(self) -> str:
        return f"Award report for {self.reference}: {self.title}"


def build(opportunity: Opportunity, now: datetime) -> AwardReport:
    """The award report, or NotReportable saying why there is none yet. (The pages answer 404 before the
    deadline, so that refusal is never shown; it is here so no other caller can make a report then.)"""
    if is_sealed(opportunity, now):
        raise NotReportable("No award report can be made before the deadline.")
    evaluation = db.session.execute(sa.select(Evaluation).where(Evaluation.opportunity_id == opportunity.id)
                                    ).scalar_one_or_none()
    message = refusal(opportunity.status, evaluation is not None and evaluation.moderation_completed_at is not None)
    if message:
        raise NotReportable(message)
    rows = _fetch(opportunity, evaluation)
    if rows.ranking is None:
        raise NotReportable(UNRANKED if any(c.compliant for c in rows.checks.values()) else NONE_COMPLIANT)
    return _assemble(opportunity, rows)


def render(report: AwardReport) -> bytes:
    return render_pdf("pdf/award_report.html", title=f"Award report: {report.title}", subject=report.subject,
                      context={"report": report}, draft=report.draft,
                      keywords=[report.reference, "award report", report.cover.category])


def pdf(opportunity: Opportunity, now: datetime) -> tuple[str, bytes]:
    """(filename, PDF) of the award report; NotReportable when it cannot be made at this stage."""
    report = build(opportunity, now)
    return report.filename, render(report)


# Reading: a fixed number of queries -----------------------------------------------------------------------

@dataclass
class _Rows:
    criteria: list[Any]
    evaluation: Evaluation | None
    awards: list[Award]
    award: Award | None  # the live recommendation, if any
    ranking: dict | None
    bids: dict[int, tuple[Bid, Organisation]]
    versions: dict[int, BidSubmission]
    checks: dict[int, ComplianceCheck]
    scores: list[Score]
    moderated: dict[tuple[int, int], ModeratedScore]
    panel: list[PanelMember]
    declarations: list[ConflictDeclaration]
    assessment: ConflictsAssessment | None
    reviews: dict[int, PriceReview]
    contract: Contract | None
    challenges: list[Challenge]
    audit: list[AuditEvent]
    names: dict[int, str] = field(default_factory=dict)


def _all(statement) -> list:
    return list(db.session.execute(statement).scalars())


def _fetch(opportunity: Opportunity, evaluation: Evaluation | None) -> _Rows:
    criteria = results.evaluation_criteria(opportunity)
    awards = _all(sa.select(Award).where(Award.opportunity_id == opportunity.id).order_by(Award.id))
    award = next((a for a in reversed(awards) if a.status in LIVE_AWARDS), None)
    ranking = award.ranking if award is not None and award.ranking else results.rank(opportunity).display()
    bids = {b.id: (b, o) for b, o in db.session.execute(
        sa.select(Bid, Organisation).join(Organisation, Organisation.id == Bid.organisation_id)
        .where(Bid.opportunity_id == opportunity.id).order_by(Bid.id))}
    ids = list(bids) or [0]
    rows = _Rows(
        criteria=criteria, evaluation=evaluation, awards=awards, award=award, ranking=ranking, bids=bids,
        versions={v.bid_id: v for v in results.counting_versions(opportunity.id)},
        checks={c.bid_id: c for c in _all(sa.select(ComplianceCheck).where(ComplianceCheck.bid_id.in_(ids)))},
        scores=_all(sa.select(Score).where(Score.bid_id.in_(ids)).order_by(Score.bid_id, Score.criterion_id,
                                                                             Score.evaluator_id)),
        moderated={(m.bid_id, m.criterion_id): m for m in _all(
            sa.select(ModeratedScore).where(ModeratedScore.bid_id.in_(ids)))},
        panel=_all(sa.select(PanelMember).where(PanelMember.opportunity_id == opportunity.id)
                   .order_by(PanelMember.id)),
        declarations=_all(sa.select(ConflictDeclaration).where(ConflictDeclaration.opportunity_id == opportunity.id)
                          .order_by(ConflictDeclaration.id)),
        assessment=db.session.execute(sa.select(ConflictsAssessment).where(
            ConflictsAssessment.opportunity_id == opportunity.id)).scalar_one_or_none(),
        reviews={r.bid_id: r for r in _all(sa.select(PriceReview).where(PriceReview.bid_id.in_(ids)))},
        contract=db.session.execute(sa.select(Contract).where(Contract.opportunity_id == opportunity.id)
                                    .order_by(Contract.id.desc()).limit(1)).scalar_one_or_none(),
        challenges=_all(sa.select(Challenge).where(Challenge.award_id.in_([a.id for a in awards] or [0]))
                        .order_by(Challenge.received_at)),
        audit=[],
    )
    rows.audit = _all(sa.select(AuditEvent).where(_audit_scope(opportunity, rows)).order_by(AuditEvent.id))
    rows.names = _names(rows)
    return rows


def _audit_scope(opportunity: Opportunity, rows: _Rows) -> sa.ColumnElement[bool]:
    """Events whose object is the opportunity, its evaluation, awards and contract, any of the evaluation's own
    records, or one of its bids after the deadline (before it, a bid is the bidder's own business)."""
    def about(object_type: str, ids: Iterable[Any]) -> sa.ColumnElement[bool]:
        return sa.and_(AuditEvent.object_type == object_type, AuditEvent.object_id.in_([str(i) for i in ids]))

    scope = {
        "opportunity": [opportunity.id], "evaluation": [rows.evaluation.id] if rows.evaluation else [],
        "award": [a.id for a in rows.awards], "contract": [rows.contract.id] if rows.contract else [],
        "challenge": [c.id for c in rows.challenges], "panel_member": [m.id for m in rows.panel],
        "conflict_declaration": [d.id for d in rows.declarations],
        "price_review": [r.id for r in rows.reviews.values()],
    }
    conditions = [about(kind, ids) for kind, ids in scope.items() if ids]
    if rows.bids:
        conditions.append(sa.and_(about("bid", rows.bids), AuditEvent.occurred_at >= opportunity.submission_deadline))
    return sa.and_(sa.or_(*conditions), AuditEvent.action.notin_(NOT_PROCUREMENT))


def _names(rows: _Rows) -> dict[int, str]:
    """Everyone the report names, in one query."""
    ids = {m.user_id for m in rows.panel} | {d.user_id for d in rows.declarations}
    ids |= {s.evaluator_id for s in rows.scores}
    ids |= {m.moderator_id for m in rows.moderated.values()} | {r.decided_by_id for r in rows.reviews.values()}
    ids |= {e.actor_id for e in rows.audit} | {d.mitigated_by_id for d in rows.declarations}
    for award in rows.awards:
        ids |= {award.recommended_by_id, award.decided_by_id, award.confirmed_by_id}
    if rows.assessment is not None:
        ids.add(rows.assessment.recorded_by_id)
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(User.id, User.full_name).where(User.id.in_(ids))).all())


# Assembling the sections (no queries) ---------------------------------------------------------------------

def _assemble(opportunity: Opportunity, rows: _Rows) -> AwardReport:
    criteria = _criterion_rows(rows.criteria)
    scored = [c for c in criteria if c.weight is not None]
    organisations = {bid_id: organisation.legal_name for bid_id, (_, organisation) in rows.bids.items()}
    ranking = _ranking(rows, scored, organisations)
    receipts = _receipts(rows, organisations)
    return AwardReport(
        opportunity_id=opportunity.id, reference=opportunity.reference, title=opportunity.title,
        status=opportunity.status, draft=is_draft(opportunity.status), ranking_source=_ranking_source(rows.award),
        cover=_cover(opportunity, rows), summary=_summary(rows, ranking, scored),
        criteria=criteria, scored=scored, receipts=receipts, ranking=ranking,
        excluded=[r for r in receipts if r.compliant is False or r.outcome.startswith("Excluded")],
        chart=_chart(ranking, scored), legend=_legend(scored),
        moderation=_moderation(rows, organisations), conflicts=_conflicts(rows),
        price_reviews=_price_reviews(rows, organisations), commitments=_commitments(rows),
        standstill=_standstill(rows, organisations), approvals=_approvals(rows), audit=_audit(rows, organisations),
        letters=_letters(rows, receipts), letters_final=rows.award is not None and
        rows.award.notice_published_at is not None,
        thresholds={key: Decimal(value) for key, value in ((rows.ranking or {}).get("settings") or {}).items()},
    )


def long_date(day: date) -> str:
    """'5 January 2027'."""
    return f"{day.day} {day:%B %Y}"


def _name(rows: _Rows, user_id: int | None) -> str:
    return rows.names.get(user_id, "Unknown") if user_id is not None else ""


def _criterion_rows(criteria: list[Any]) -> list[CriterionRow]:
    return [CriterionRow(str(c.id), c.title, model_rules.KINDS.get(c.kind, c.kind),
                         None if c.kind == model_rules.PASS_FAIL else c.weight,
                         model_rules.plain_words(criterion_spec(c))) for c in criteria]


def _ranking_source(award: Award | None) -> str:
    if award is not None and award.ranking:
        return "the engine's ranking stored with the recommendation"
    return "the engine's ranking of the moderated scores, as at the time this report was produced"


def _cover(opportunity: Opportunity, rows: _Rows) -> Cover:
    evaluation, award = rows.evaluation, rows.award
    dates = [
        ("Published", opportunity.published_at),
        ("Clarification deadline", opportunity.clarification_deadline),
        ("Submission deadline", opportunity.submission_deadline),
        ("Bids opened", evaluation.opened_at if evaluation else None),
        ("Moderation completed", evaluation.moderation_completed_at if evaluation else None),
        ("Award recommended", award.recommended_at if award else None),
        ("Award approved", award.decided_at if award and award.status in (APPROVED, CONFIRMED) else None),
        ("Award notice published", award.notice_published_at if award else None),
        ("Standstill ends", award.standstill_ends_on if award else None),
        ("Award confirmed", award.confirmed_at if award else None),
    ]
    return Cover(opportunity.title, opportunity.reference, opportunity.estimated_value,
                 [locality_name(slug) for slug in opportunity.localities or []], category_name(opportunity.category),
                 PROCEDURES.get(opportunity.procedure, opportunity.procedure),
                 lifecycle.STATE_LABELS.get(opportunity.status, opportunity.status),
                 [(label, value) for label, value in dates if value is not None])


def _sealed(rows: _Rows, bid_id: int) -> dict:
    version = rows.versions.get(bid_id)
    return json.loads(version.content) if version is not None else {}


def _price(content: dict) -> Decimal | None:
    total = (content.get("price") or {}).get("total")
    return None if total in (None, "") else Decimal(str(total))


def engine_words(text: str, titles: dict[str, str], organisations: dict[int, str]) -> str:
    """The engine's words for people: `12: scored 1, ...` -> `Quality: scored 1, ...`; `(7)` -> `(Bidder Ltd)`."""
    head, _, rest = text.partition(": ")
    if rest and head in titles:
        text = f"{titles[head]}: {rest}"
    elif head == "abnormally_low" and rest:
        text = rest[0].upper() + rest[1:]
    for bid_id, name in organisations.items():
        text = text.replace(f"({bid_id})", f"({name})")
    return text


def _ranking(rows: _Rows, scored: list[CriterionRow], organisations: dict[int, str]) -> list[RankRow]:
    ranking = rows.ranking or {}
    titles = {c.id: c.title for c in scored}
    return [RankRow(int(entry["id"]), organisations.get(int(entry["id"]), entry["id"]), entry["rank"],
                    _price(_sealed(rows, int(entry["id"]))), [entry["points"].get(c.id) for c in scored],
                    entry["total"], [engine_words(f, titles, organisations) for f in entry["flags"]],
                    entry["id"] == ranking.get("winner"))
            for entry in ranking.get("bids", []) if not entry["excluded"]]


@dataclass(frozen=True)
class _Outcomes:
    """What the engine said of each bid, and the words to say it in."""

    ranks: dict[int, int | None]
    exclusions: dict[int, list[str]]
    titles: dict[str, str]
    organisations: dict[int, str]

    @classmethod
    def of(cls, rows: _Rows, organisations: dict[int, str]) -> "_Outcomes":
        entries = (rows.ranking or {}).get("bids", [])
        return cls({int(e["id"]): e["rank"] for e in entries if not e["excluded"]},
                   {int(e["id"]): e["reasons"] for e in entries if e["excluded"]},
                   {str(c.id): c.title for c in rows.criteria}, organisations)

    def ground(self, rows: _Rows, bid_id: int) -> str | None:
        return exclusion_ground(rows.checks.get(bid_id), rows.reviews.get(bid_id), self.exclusions.get(bid_id),
                                self.titles, self.organisations)


def exclusion_ground(check: ComplianceCheck | None, review: PriceReview | None, engine_reasons: list[str] | None,
                     titles: dict[str, str], organisations: dict[int, str] | None = None) -> str | None:
    """Why a bid was excluded (at compliance, by a score under a minimum, or for an abnormally low price that was
    not accepted), in words for people; None when it was not."""
    if check is not None and not check.compliant:
        return check.reason or "It did not pass the compliance checks."
    if engine_reasons:
        return "; ".join(engine_words(r, titles, organisations or {}) for r in engine_reasons)
    if review is not None and not review.accepted:
        return f"Its abnormally low price was not accepted: {review.decision_reason}"
    return None


def _outcome(rows: _Rows, bid_id: int, outcomes: _Outcomes) -> str:
    ground = outcomes.ground(rows, bid_id)
    if ground is not None:
        return f"Excluded: {ground}"
    if bid_id in outcomes.ranks:
        return f"Ranked {outcomes.ranks[bid_id]}"
    return "Not yet checked" if bid_id not in rows.checks else "Compliant"


def _receipts(rows: _Rows, organisations: dict[int, str]) -> list[Receipt]:
    record = rows.evaluation.opening_record if rows.evaluation else []
    outcomes = _Outcomes.of(rows, organisations)
    receipts = []
    for entry in record:
        bid_id = int(entry["bid_id"])
        check = rows.checks.get(bid_id)
        receipts.append(Receipt(
            bid_id, entry.get("organisation") or organisations.get(bid_id, ""), _facts(rows.bids.get(bid_id)),
            entry.get("submission_number"), _when(entry.get("submitted_at")), entry.get("sha256", ""),
            bool(entry.get("verified")), _price(_sealed(rows, bid_id)), None if check is None else check.compliant,
            list(check.checks) if check else [], _outcome(rows, bid_id, outcomes)))
    return receipts


def _facts(pair: tuple[Bid, Organisation] | None) -> str:
    if pair is None:
        return ""
    organisation = pair[1]
    where = "Kent-based" if organisation.kent_based else "outside Kent"
    return (f"{ORGANISATION_TYPES.get(organisation.org_type, organisation.org_type)}, "
            f"{SIZES.get(organisation.size, organisation.size).lower()}, {where}")


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime) or value is None:
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def letter_kind(excluded: bool, ranked: bool) -> str | None:
    """An excluded bid gets an exclusion letter, a ranked one an assessment summary; any other none."""
    return EXCLUSION if excluded else ASSESSMENT if ranked else None


def _letters(rows: _Rows, receipts: list[Receipt]) -> list[LetterLink]:
    """Once an award is recommended, a letter for each bid opened that was excluded or ranked."""
    if rows.award is None:
        return []
    kinds = [(r, letter_kind(r.outcome.startswith("Excluded"), r.outcome.startswith("Ranked"))) for r in receipts]
    return [LetterLink(r.bid_id, r.organisation, LETTER_KINDS[kind]) for r, kind in kinds if kind]


def _legend(scored: list[CriterionRow]) -> list[Segment]:
    return [Segment(c.title, "", Decimal(0), Decimal(0), CHART_COLOURS[i % len(CHART_COLOURS)])
            for i, c in enumerate(scored)]


def _chart(ranking: list[RankRow], scored: list[CriterionRow]) -> list[Bar]:
    """One bar per ranked bid, out of 100 points: a segment per criterion, in the legend's colours."""
    legend, bars = _legend(scored), []
    for row in ranking:
        x, segments = Decimal(0), []
        for key, points in zip(legend, row.points):
            width = Decimal(points or 0)
            segments.append(Segment(key.title, points or "0.00", x, width, key.colour))
            x += width
        label = f"{row.organisation}: {row.total} points (" + ", ".join(
            f"{s.title} {s.points}" for s in segments) + ")"
        bars.append(Bar(row.organisation, row.total or "", segments, label))
    return bars


def _summary(rows: _Rows, ranking: list[RankRow], scored: list[CriterionRow]) -> Summary:
    data, award = rows.ranking or {}, rows.award
    first, second = (ranking + [None, None])[:2]
    winner = next((r for r in ranking if r.winner), None)
    margin = (Decimal(first.total) - Decimal(second.total)) if first and second and winner else None
    robustness, detail = _robustness(data.get("sensitivity"), scored, {r.bid_id: r.organisation for r in ranking})
    return Summary(
        recommendation=award.reasons if award else "No award has been recommended yet.",
        winner=winner.organisation if winner else None, winner_total=winner.total if winner else None,
        runner_up=second.organisation if second and winner else None,
        runner_up_total=second.total if second and winner else None, margin=margin,
        decided_by=DECIDED_BY.get(data.get("decided_by") or "", "not decided"),
        tie_decision=award.tie_decision if award else None,
        tied=[r.organisation for r in ranking if str(r.bid_id) in (data.get("tied") or [])],
        robustness=robustness, robustness_detail=detail)


def _robustness(sensitivity: dict | None, scored: list[CriterionRow], names: dict[int, str]) -> tuple[str, str]:
    if not sensitivity:
        return "Not tested", "There is no single leading bid to test (one compliant bid, or a tie)."
    smallest = sensitivity.get("smallest")
    if not smallest:
        return "Robust", "No change to any one criterion's weight, from 0 to 100, would change the winner."
    shift = Decimal(smallest["shift"])
    title = next((c.title for c in scored if c.id == smallest["criterion"]), smallest["criterion"])
    words = "Robust" if abs(shift) >= ROBUST_SHIFT else "Fairly robust" if abs(shift) >= SENSITIVE_SHIFT else \
        "Sensitive to the weights"
    direction = "raising" if shift > 0 else "lowering"
    challenger = names.get(int(smallest["challenger"]), smallest["challenger"])
    return words, (f"The smallest change that would alter the result: {direction} the weight of ‘{title}’ from "
                   f"{smallest['weight']} to {smallest['new_weight']} ({abs(shift)} percentage points, the other "
                   f"weights moving in proportion) would bring {challenger} level with the winner.")


def _moderation(rows: _Rows, organisations: dict[int, str]) -> list[ModerationRow]:
    by_pair: dict[tuple[int, int], list[Score]] = defaultdict(list)
    for score in rows.scores:
        by_pair[(score.bid_id, score.criterion_id)].append(score)
    scales = {c.id: c for c in results.people_scored(rows.criteria)}
    spread_pct = settings.get("moderation_spread_pct")
    pairs = sorted(set(by_pair) | set(rows.moderated), key=lambda p: (p[0], scales[p[1]].position
                                                                        if p[1] in scales else 0))
    table = []
    for bid_id, criterion_id in pairs:
        criterion, moderated = scales.get(criterion_id), rows.moderated.get((bid_id, criterion_id))
        scores = [EvaluatorScore(_name(rows, s.evaluator_id), s.score, s.justification)
                  for s in by_pair[(bid_id, criterion_id)]]
        scale_max = criterion.scale_max if criterion else 5
        table.append(ModerationRow(
            organisations.get(bid_id, str(bid_id)), criterion.title if criterion else str(criterion_id), scale_max,
            scores, moderation_rules.is_wide([s.score for s in scores], scale_max, spread_pct),
            moderated.score if moderated else None, moderated.reason if moderated else "",
            _name(rows, moderated.moderator_id) if moderated else ""))
    return table


def _conflicts(rows: _Rows) -> Conflicts:
    declared = {d.user_id: d for d in rows.declarations}
    roles: dict[int, list[str]] = defaultdict(list)
    removed: dict[int, str] = {}
    for member in rows.panel:
        roles[member.user_id].append(PANEL_ROLES.get(member.role, member.role))
        if member.removed_at is not None:
            removed[member.user_id] = f"Left the panel: {member.removed_reason or 'no reason recorded'}"
    people = list(dict.fromkeys([m.user_id for m in rows.panel] + [d.user_id for d in rows.declarations]))
    table = []
    for user_id in people:
        d = declared.get(user_id)
        table.append(DeclarationRow(
            _name(rows, user_id), " and ".join(roles.get(user_id, [])) or "Not on the panel",
            d.declared_at if d else None, d.has_conflict if d else None, d.details if d else "",
            d.mitigation if d else None, _name(rows, d.mitigated_by_id) if d else "", d.mitigated_at if d else None,
            removed.get(user_id, "")))
    assessment = rows.assessment
    return Conflicts(assessment.summary if assessment else None,
                     _name(rows, assessment.recorded_by_id) if assessment else "",
                     assessment.recorded_at if assessment else None, table)


def _price_reviews(rows: _Rows, organisations: dict[int, str]) -> list[PriceReviewRow]:
    titles = {str(c.id): c.title for c in rows.criteria}
    flagged = {int(e["id"]): e["flags"] for e in (rows.ranking or {}).get("bids", []) if e["flags"]}
    table = []
    for bid_id in sorted(set(flagged) | set(rows.reviews)):
        review = rows.reviews.get(bid_id)
        flags = review.flags if review and review.flags else flagged.get(bid_id, [])
        table.append(PriceReviewRow(
            organisations.get(bid_id, str(bid_id)), [engine_words(f, titles, organisations) for f in flags],
            review.bidder_explanation if review else None, review.accepted if review else None,
            review.decision_reason if review else "", _name(rows, review.decided_by_id) if review else "",
            review.decided_at if review else None))
    return table


def _commitments(rows: _Rows) -> Commitments | None:
    """The winner's commitments: from the contract once the award is confirmed, else from its sealed bid."""
    winner_id = (rows.ranking or {}).get("winner")
    if rows.award is not None:
        winner_id = str(rows.award.bid_id)
    if winner_id is None or int(winner_id) not in rows.bids:
        return None
    organisation = rows.bids[int(winner_id)][1].legal_name
    contract = rows.contract
    if contract is not None:
        return Commitments(organisation, f"the contract {contract.reference}", contract.value, contract.kent_share,
                           contract.kent_spend, contract.kent_jobs, contract.kent_apprenticeships, "",
                           _social_value(contract.social_value_commitments), _supply_chain(contract.consortium))
    content = _sealed(rows, int(winner_id))
    local = content.get("local_economy") or {}
    value, share = _price(content), _decimal(local.get("kent_share"))
    version = rows.versions.get(int(winner_id))
    return Commitments(organisation, f"its sealed bid (version {version.number if version else '?'})", value, share,
                       (value * share).quantize(Decimal("0.01")) if value is not None and share is not None else None,
                       local.get("kent_jobs"), local.get("kent_apprenticeships"), local.get("notes") or "",
                       _social_value(content.get("social_value_commitments") or []),
                       _supply_chain(content.get("consortium") or []))


def _decimal(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


def _social_value(commitments: list[dict]) -> list[str]:
    described = []
    for item in commitments:
        text = describe(item.get("measure", ""), Decimal(str(item.get("quantity", 0))), item.get("unit"))
        described.append(f"{text} ({item['description']})" if item.get("description") else text)
    return described


def _supply_chain(members: list[dict]) -> list[SupplyChainMember]:
    roles = {"subcontractor": "Subcontractor", "consortium_member": "Consortium member"}
    return [SupplyChainMember(m.get("name", ""), roles.get(m.get("role"), m.get("role") or ""),
                              bool(m.get("kent_based")), _decimal(m.get("share"))) for m in members]


def _standstill(rows: _Rows, organisations: dict[int, str]) -> Standstill:
    award = rows.award
    by_organisation = {o.id: o.legal_name for _, o in rows.bids.values()}
    challenges = [ChallengeRow(by_organisation.get(c.organisation_id, "Another party"), c.received_at, c.summary,
                               _challenge_outcome(c)) for c in rows.challenges]
    ends = award.standstill_ends_on if award else None
    return Standstill(award.notice_published_at if award else None, ends,
                      ends + timedelta(days=1) if ends else None, challenges)


def _challenge_outcome(challenge: Challenge) -> str:
    if challenge.resolved_at is None:
        return "Not yet resolved: the award is suspended"
    verdict = "Upheld" if challenge.upheld else "Not upheld"
    return f"{verdict}: {challenge.resolution or ''}".rstrip(": ")


def _approvals(rows: _Rows) -> list[Approval]:
    steps = []
    for award in rows.awards:
        steps.append(Approval("Award recommended", _name(rows, award.recommended_by_id), award.recommended_at,
                              award.reasons))
        if award.tie_decision:
            steps.append(Approval("Tie decided", _name(rows, award.recommended_by_id), award.recommended_at,
                                  award.tie_decision))
        if award.decided_at is not None:
            step = "Returned to the recommender" if award.status == RETURNED else "Award approved"
            steps.append(Approval(step, _name(rows, award.decided_by_id), award.decided_at, award.decision_note or ""))
        if award.notice_published_at is not None:
            steps.append(Approval("Award notice published", "", award.notice_published_at,
                                  f"Standstill ends at the end of {long_date(award.standstill_ends_on)}"
                                  if award.standstill_ends_on else ""))
        if award.confirmed_at is not None:
            steps.append(Approval("Award confirmed", _name(rows, award.confirmed_by_id), award.confirmed_at, ""))
    return steps


def _audit(rows: _Rows, organisations: dict[int, str]) -> list[AuditRow]:
    return [AuditRow(e.occurred_at, rows.names.get(e.actor_id, e.actor_label) if e.actor_id else e.actor_label,
                     e.action, _audit_subject(e, organisations),
                     "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in sorted((e.details or {}).items())))
            for e in rows.audit]


def _audit_subject(event: AuditEvent, organisations: dict[int, str]) -> str:
    subject = f"{event.object_type.replace('_', ' ')} {event.object_id}"
    if event.object_type == "bid" and event.object_id.isdigit() and int(event.object_id) in organisations:
        return f"{subject}: {organisations[int(event.object_id)]}"
    return subject
