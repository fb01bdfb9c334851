"""Demo data for evaluation and awards, added by `flask seed-demo` after the bids (see seed_bids.py).

Every opportunity published (or further on) gets the conflicts assessment its approval needed. Each opportunity
past its deadline is then taken as far as its lifecycle state says, with what a procurement officer would see:

- closed: three with a panel assigned and declaring conflicts (one conflict waiting for a mitigation), not opened;
- evaluating: opened (the opening record holds every receipt hash, verified), compliance decided (on those with
  four or more bids, one excluded with its reason), released to a cleared panel; one being scored (one evaluator
  has submitted, the other is part way), one in moderation (wide spreads flagged, some consensus set), one with
  moderation complete, ready to recommend;
- award recommended: the recommendation with its reasons, waiting for another officer's approval; on one, an
  abnormally low price was answered first;
- standstill: approved, the award notice published, the end of standstill from the working-day calendar; one
  suspended by a bidder's challenge;
- awarded: confirmed after standstill, with the contract the register, the spend dashboard and OCDS read;
- cancelled: one cancelled after opening, its only bid excluded.

The panels are the seeded staff: the commissioner and the lead commissioner evaluate, the procurement officer
moderates (and runs the evaluation), and the administrator approves the awards. A few more past opportunities
are added first, made as seed_commissioning and seed_bids make theirs, so that every
evaluation state has its opportunity and the contracts spread over the past year.

The use cases do the work wherever the clock allows (opening, compliance, scoring, moderation, answering a price
flag, the recommendation, recording a challenge): they check the rules, keep the records consistent and write
their own audit events, committing as they go. The rest is written directly in the shape its use case writes,
with a `*_seeded` audit event by "seed-demo": panels and declarations, the release to the panel and the approval
(their use cases email people), the confirmation (its use case needs standstill over by the server's clock) and
the cancellation (it writes to the bidders). The use cases stamp their rows with the time of the run; those
times are then moved back onto a timeline from the deadline to the opportunity's last step, so the pages read as
a history. A second run adds nothing: an opportunity with a panel or an evaluation, or with a conflicts
assessment, is left alone; the added opportunities are keyed on their title.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Callable

import sqlalchemy as sa

from marketplace import audit, seed_bids
from marketplace.accounts.models import User
from marketplace.awards import contracts, reading
from marketplace.awards import rules as award_rules
from marketplace.awards import services as awards
from marketplace.awards import standstill
from marketplace.awards.models import Award, PriceReview
from marketplace.bids import rules as bid_rules
from marketplace.bids.models import Bid
from marketplace.bids.submission import counting_submission, sealed_content
from marketplace.evaluation import access, compliance, marking, moderation, opening, panel, panel_rules, results
from marketplace.evaluation import moderation_rules as entry_rules
from marketplace.evaluation.models import (
    EVALUATOR,
    MODERATOR,
    ComplianceCheck,
    ConflictDeclaration,
    ConflictsAssessment,
    Evaluation,
    ModeratedScore,
    PanelMember,
    Score,
)
from marketplace.evaluation.working_days import is_working_day, next_working_day, standstill_end
from marketplace.extensions import db
from marketplace.opportunities import lifecycle
from marketplace.opportunities.models import Opportunity
from marketplace.organisations.models import Organisation
from marketplace.seed_commissioning import (
    CF, ES, HT, KENT_SME_VCSE, PH, PLANS, Cast, Clock, OpportunityPlan, _counted, _opportunity,
    _record_opportunity, _specification,
)
from marketplace.timeutil import LONDON, as_utc, london

ACTOR = "seed-demo"
D = Decimal


# The plan: how far each past opportunity has gone ----------------------------------------------------------

AWAITING_DECLARATIONS, DECLARING, CONFLICT_WAITING = "awaiting_declarations", "declaring", "conflict_waiting"
SCORING, MODERATING, MODERATED = "scoring", "moderating", "moderated"
RECOMMENDED, PRICE_ANSWERED = "recommended", "price_answered"
IN_STANDSTILL, CHALLENGED, AWARDED, CANCELLED_AFTER_OPENING = "standstill", "challenged", "awarded", "cancelled"
# The state an opportunity is seeded in for each story, and left in at the end of it.
STATE_OF = {AWAITING_DECLARATIONS: lifecycle.CLOSED, DECLARING: lifecycle.CLOSED, CONFLICT_WAITING: lifecycle.CLOSED,
            SCORING: lifecycle.EVALUATING, MODERATING: lifecycle.EVALUATING, MODERATED: lifecycle.EVALUATING,
            RECOMMENDED: lifecycle.AWARD_RECOMMENDED, PRICE_ANSWERED: lifecycle.AWARD_RECOMMENDED,
            IN_STANDSTILL: lifecycle.STANDSTILL, CHALLENGED: lifecycle.STANDSTILL, AWARDED: lifecycle.AWARDED,
            CANCELLED_AFTER_OPENING: lifecycle.CANCELLED}
STORY_LABELS = {
    AWAITING_DECLARATIONS: "closed with the panel yet to declare", DECLARING: "closed with declarations under way",
    CONFLICT_WAITING: "closed with a conflict awaiting mitigation", SCORING: "being scored",
    MODERATING: "in moderation", MODERATED: "moderated and ready to recommend",
    RECOMMENDED: "award recommended", PRICE_ANSWERED: "award recommended after a low price was answered",
    IN_STANDSTILL: "in standstill", CHALLENGED: "in standstill and challenged", AWARDED: "awarded",
    CANCELLED_AFTER_OPENING: "cancelled after opening",
}

P = OpportunityPlan
EXTRA_PLANS: dict[str, tuple[OpportunityPlan, ...]] = {
    lifecycle.EVALUATING: (P("Social prescribing link workers – Swale", PH, ("swale",), 240_000, -35),),
    lifecycle.AWARD_RECOMMENDED: (P("Holiday activities and food programme – Thanet", CF, ("thanet",), 180_000, -45),),
    lifecycle.AWARDED: (
        P("Youth employment mentoring – Ashford", ES, ("ashford",), 95_000, -180, KENT_SME_VCSE),
        P("Street lighting maintenance – Sevenoaks", HT, ("sevenoaks",), 380_000, -300),
    ),
}
# Who bids for them (indexes of the seeded organisations' owners, as in seed_bids): a large supplier and some
# from outside Kent among them, so the contracts go to a mix of suppliers.
EXTRA_BIDDERS: dict[str, tuple[int, ...]] = {
    "Social prescribing link workers – Swale": (9, 17, 21, 26),
    "Holiday activities and food programme – Thanet": (24, 13, 33, 31),
    "Youth employment mentoring – Ashford": (25, 18, 35, 2),
    "Street lighting maintenance – Sevenoaks": (7, 29, 37, 14),
}
LOW_PRICED = ("Holiday activities and food programme – Thanet", 33)  # (title, bidder): priced abnormally low
LOW_FACTOR = D("0.55")  # of the estimated value: over 30% under the next lowest bid

STORIES: dict[str, str] = {
    "Early help parenting programmes – Dover": AWAITING_DECLARATIONS,
    "Reablement at home – West Kent": DECLARING,
    "Playing field grounds maintenance – Gravesham": CONFLICT_WAITING,
    "Domestic abuse refuge support – county-wide": SCORING,
    "Apprenticeship brokerage for small employers": MODERATING,
    "Social prescribing link workers – Swale": MODERATED,
    "Libraries courier service – Ashford and Folkestone & Hythe": RECOMMENDED,
    "Holiday activities and food programme – Thanet": PRICE_ANSWERED,
    "Drainage gully cleansing – Swale": CHALLENGED,
    "Young carers support – Tunbridge Wells": IN_STANDSTILL,
    "Community centre café – Sevenoaks": CANCELLED_AFTER_OPENING,
    **{plan.title: AWARDED for plan in (*PLANS[lifecycle.AWARDED], *EXTRA_PLANS[lifecycle.AWARDED])},
}


@dataclass
class EvaluationSummary:
    opportunities: Counter = field(default_factory=Counter)  # added, by state
    assessments: int = 0
    stories: Counter = field(default_factory=Counter)
    contracts: int = 0
    people: str = ""  # who does what on the panels

    def describe(self) -> list[str]:
        return [
            _counted("Past opportunities for evaluation and award", self.opportunities,
                     [(s, lifecycle.STATE_LABELS[s].lower()) for s in lifecycle.STATES]),
            f"Conflicts assessments added: {self.assessments}.",
            _counted("Evaluations", self.stories, list(STORY_LABELS.items())),
            f"Contracts added: {self.contracts}.",
            self.people,
        ]


# Who does what ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Staff:
    """The seeded staff on every panel: the two commissioners evaluate and the procurement officer, who runs the
    evaluation, moderates; an administrator approves the awards (never the officer who recommends them)."""

    officer: User  # opens, checks compliance, releases, moderates, recommends, confirms
    approver: User
    evaluators: tuple[User, ...]

    @classmethod
    def of(cls, cast: Cast, approver: User) -> "Staff":
        return cls(cast.officer, approver, (cast.commissioner, cast.lead))

    @property
    def moderator(self) -> User:
        return self.officer

    def describe(self) -> str:
        first, second = (user.email for user in self.evaluators)
        return (f"Panels: {first} and {second} evaluate; {self.officer.email} runs the evaluations, moderates and "
                f"recommends; {self.approver.email} approves the awards.")


# Times -------------------------------------------------------------------------------------------------------

# Where each step falls between the deadline (0) and the opportunity's last step before confirmation (1).
DECLARED, OPENED, CHECKED, RELEASED = 0.03, 0.05, 0.08, 0.12
SUBMITTED = (0.4, 0.5)  # by evaluator
CONSENSUS, COMPLETED, REVIEWED, RECOMMENDING, DECIDED = 0.7, 0.75, 0.8, 0.88, 1.0
STANDSTILL_DAYS_AGO = 4  # the award notice of an award in standstill
DAYS_TO_APPROVAL = 30  # from the deadline, for an award long since confirmed
WORKING_DAY = timedelta(hours=8)  # 9am to 5pm: a later step is later in its day, so steps stay in order


def _london_at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=LONDON).astimezone(timezone.utc)


def _working_day_on_or_before(day: date) -> date:
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


@dataclass(frozen=True)
class Timeline:
    published: datetime
    deadline: datetime
    end: datetime

    @classmethod
    def of(cls, opportunity: Opportunity, story: str, clock: Clock) -> "Timeline":
        deadline = as_utc(opportunity.submission_deadline)
        notice_day = {IN_STANDSTILL: _working_day_on_or_before(clock.day(-STANDSTILL_DAYS_AGO)),
                      CHALLENGED: _working_day_on_or_before(clock.day(-STANDSTILL_DAYS_AGO)),
                      AWARDED: next_working_day(london(deadline).date() + timedelta(days=DAYS_TO_APPROVAL))}
        end = _london_at(notice_day[story], 10) if story in notice_day else clock.now
        if story == CANCELLED_AFTER_OPENING:
            end = as_utc(opportunity.updated_at)
        return cls(as_utc(opportunity.published_at), deadline, end)

    def at(self, fraction: float, later: timedelta = timedelta(0)) -> datetime:
        """`fraction` of the way from the deadline to the end (and `later`): in working hours on a working day
        after the deadline's, unless that would pass the end."""
        if fraction >= 1:
            return self.end
        day = max(london(self.deadline + (self.end - self.deadline) * fraction).date(),
                  london(self.deadline).date() + timedelta(days=1))
        moment = _london_at(next_working_day(day), 9) + WORKING_DAY * fraction + later
        return min(moment, self.end).replace(second=0, microsecond=0)

    @property
    def assigned(self) -> datetime:
        """The panel is set up while the opportunity is open, before midday on a working day."""
        day = london(self.published + (self.deadline - self.published) * 0.8).date()
        return _london_at(_working_day_on_or_before(day), 11)


@dataclass
class Run:
    """One opportunity being taken through its story."""

    opportunity: Opportunity
    story: str
    staff: Staff
    timeline: Timeline
    summary: EvaluationSummary
    winners: Counter  # the kinds of supplier and the organisations the panels have rated highest so far
    favourite: int | None = None  # the bid the panel rates highest
    changed: datetime | None = None  # when the opportunity last changed
    confirmed: datetime | None = None

    @property
    def id(self) -> int:
        return self.opportunity.id

    def changes(self, moment: datetime) -> datetime:
        self.changed = moment
        return moment


def _audit(action: str, obj_type: str, obj_id: int, **details) -> None:
    audit.record(action, obj_type, obj_id, actor=ACTOR, details=details)


# Conflicts assessments ------------------------------------------------------------------------------------

INTERESTS = (
    ("None known.", "Panel members declare their own conflicts once bids close, having seen only the bidders' "
                    "names."),
    ("A member of the commissioning team is a trustee of a local charity that may bid.",
     "The trustee took no part in writing the specification and will not sit on the panel."),
    ("The current provider's manager sits on a local partnership board with the commissioner.",
     "The board does not discuss this service; the commissioner declared the link and it is recorded here."),
)


def _assessment(opportunity: Opportunity, officer: User) -> ConflictsAssessment:
    author = db.session.get(User, opportunity.created_by_id)
    interests, management = INTERESTS[opportunity.id % len(INTERESTS)]
    summary = panel_rules.compose_assessment({
        "prepared_by": f"{author.full_name} (commissioner) wrote the specification and the evaluation model; "
                       f"{officer.full_name} (procurement officer) reviewed them.",
        "interests": interests, "management": management})
    return ConflictsAssessment(opportunity_id=opportunity.id, summary=summary, recorded_by_id=officer.id,
                               recorded_at=as_utc(opportunity.published_at) - timedelta(days=1))


def _seed_assessments(officer: User, summary: EvaluationSummary) -> None:
    """Recorded the day before publication, as approval requires."""
    missing = db.session.execute(sa.select(Opportunity).where(
        Opportunity.published_at.is_not(None),
        Opportunity.id.not_in(sa.select(ConflictsAssessment.opportunity_id))).order_by(Opportunity.id)).scalars()
    for opportunity in list(missing):
        db.session.add(_assessment(opportunity, officer))
        _audit("evaluation.conflicts_assessment_seeded", "opportunity", opportunity.id,
               reference=opportunity.reference, recorded_by_id=officer.id)
        summary.assessments += 1
    db.session.commit()


# More past opportunities ------------------------------------------------------------------------------------

def _extra_bids(cast: Cast, opportunity: Opportunity, position: int, now: datetime) -> list[Bid]:
    """Submitted bids, as seed_bids tops up an opportunity past its deadline."""
    bids = []
    for turn, index in enumerate(EXTRA_BIDDERS[opportunity.title]):
        owner = cast.owners[index]
        if not seed_bids._eligible(opportunity, owner.membership.organisation):
            continue
        context = seed_bids.Context(seed_bids._top_up(opportunity, index, position + turn), opportunity,
                                    owner.membership.organisation, owner, seed_bids.Window.of(opportunity, now, index))
        bid = seed_bids._bid(context, cast)
        if (opportunity.title, index) == LOW_PRICED:
            _price_low(bid, context)
        bids.append(bid)
    return bids


def _price_low(bid: Bid, context: seed_bids.Context) -> None:
    """A total far under the others (no schedule), sealed again as it now stands."""
    sealed_at = bid.submissions[0].submitted_at
    bid.price_total = (context.value * LOW_FACTOR / 100).quantize(D(1)) * 100
    bid.price_lines = []
    bid.submissions = []
    seed_bids._seal(bid, context, sealed_at)


def _seed_extra_opportunities(cast: Cast, clock: Clock, summary: EvaluationSummary) -> None:
    plans = [(state, plan) for state, plans in EXTRA_PLANS.items() for plan in plans]
    existing = set(db.session.execute(sa.select(Opportunity.title).where(
        Opportunity.title.in_([plan.title for _, plan in plans]))).scalars())
    for position, (state, plan) in enumerate(plans):
        if plan.title in existing:
            continue
        author = cast.author(position)
        opportunity = _opportunity(plan, state, author, cast.officer, clock)
        opportunity.documents.append(_specification(opportunity, author))
        db.session.add(opportunity)
        db.session.flush()
        _record_opportunity(opportunity)
        bids = _extra_bids(cast, opportunity, position, clock.now)
        db.session.add_all(bids)
        db.session.flush()
        for bid in bids:
            seed_bids._record(bid)
        summary.opportunities[state] += 1
    db.session.commit()


# The panel ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Declaring:
    declared: int | None = None  # how many of the panel have declared, in seat order (None: everyone)
    conflict: str = ""  # the second evaluator's conflict: "" none, "waiting" or "mitigated"


DECLARING_BY_STORY = {AWAITING_DECLARATIONS: Declaring(0), DECLARING: Declaring(2),
                      CONFLICT_WAITING: Declaring(conflict="waiting"), SCORING: Declaring(conflict="mitigated")}
CONFLICT = ("I volunteered at {bidder}'s sessions until last year and still know some of its staff socially. I "
            "have no financial or family interest.")
MITIGATION = ("The volunteering ended more than a year ago and there is no continuing interest. {name} may score "
              "every bid; the moderator will review the scores of that bid with particular care.")


def _declaration(run: Run, user: User, seat: int, conflict: str) -> ConflictDeclaration:
    declared_at = run.timeline.at(DECLARED, timedelta(minutes=20 * seat))
    declaration = ConflictDeclaration(opportunity_id=run.id, user_id=user.id, has_conflict=bool(conflict),
                                      details="", declared_at=declared_at)
    if conflict:
        declaration.details = CONFLICT.format(bidder=panel.bidder_names(run.id)[0])
    if conflict == "mitigated":
        declaration.mitigation = MITIGATION.format(name=user.full_name)
        declaration.mitigated_by_id = run.staff.officer.id
        declaration.mitigated_at = run.timeline.at(DECLARED, timedelta(minutes=20 * seat, hours=3))
    return declaration


def _panel(run: Run) -> None:
    """Two evaluators scoring every criterion and a moderator, assigned by the officer while the opportunity
    was open; their declarations, made once bids closed, as far as the story says."""
    staff, plan = run.staff, DECLARING_BY_STORY.get(run.story, Declaring())
    seats = [(user, EVALUATOR) for user in staff.evaluators] + [(staff.moderator, MODERATOR)]
    declarations = []
    for number, (user, role) in enumerate(seats):
        db.session.add(PanelMember(opportunity_id=run.id, user_id=user.id, role=role, criterion_ids=[],
                                   assigned_by_id=staff.officer.id, assigned_at=run.timeline.assigned))
        if plan.declared is None or number < plan.declared:
            declarations.append(_declaration(run, user, number, plan.conflict if number == 1 else ""))
    db.session.add_all(declarations)
    _audit("evaluation.panel_seeded", "opportunity", run.id, reference=run.opportunity.reference,
           members=[{"user_id": user.id, "role": role} for user, role in seats],
           declarations=[{"user_id": d.user_id, "has_conflict": d.has_conflict, "mitigated": d.mitigation is not None}
                         for d in declarations])
    db.session.commit()


# Opening and compliance -----------------------------------------------------------------------------------

EXCLUSION_NOTES = {
    "CQC or Ofsted registration in good standing": "The registration certificate supplied is for a different "
                                                   "legal entity from the bidder.",
    "Safeguarding policy and DBS checks": "The safeguarding policy supplied was last reviewed in 2019 and does "
                                          "not say how DBS checks are renewed.",
    "Insurance and safeguarding": "Public liability cover is £2 million; the specification asks for £10 million.",
    "Health and safety accreditation": "The accreditation certificate expired in March and no renewal was "
                                       "supplied.",
}


def _open(run: Run) -> None:
    """Back to closed (its state before evaluation), then opened by the officer: the opening re-verifies every
    receipt and moves the opportunity to evaluating."""
    run.opportunity.status = lifecycle.CLOSED
    db.session.flush()
    opening.open_bids(run.staff.officer, run.opportunity)
    run.changes(run.timeline.at(OPENED))


def _answers(items: list[compliance.Item], failing: compliance.Item | None) -> dict[str, compliance.Answer]:
    note = EXCLUSION_NOTES.get(failing.label, "The evidence does not show the requirement is met.") if failing else ""
    return {item.key: compliance.Answer(item.key, item is not failing, note if item is failing else "")
            for item in items}


def _compliance(run: Run) -> None:
    """Every bid compliant, except the last when there are four or more (or the only one, on the opportunity
    cancelled for want of a compliant bid): it fails the first pass/fail criterion, with the reason."""
    opened = compliance.opened_bids(run.id)
    excluded = opened[-1].bid.id if len(opened) >= 4 or run.story == CANCELLED_AFTER_OPENING else None
    for row in opened:
        items = compliance.items_for(run.opportunity, row.content)
        failing = next(item for item in items if item.criterion) if row.bid.id == excluded else None
        answers = _answers(items, failing)
        reason = f"The bid does not meet ‘{failing.label}’: {answers[failing.key].note}" if failing else ""
        compliance.record(run.staff.officer, run.opportunity, row, answers, failing is None, reason)


def _release(run: Run) -> None:
    """As `compliance.release` does it (which also emails the panel), once nothing stops it."""
    state, bids = panel.panel_state(run.opportunity), compliance.opened_bids(run.id)
    if problems := compliance.release_problems(run.opportunity, bids, state):
        raise RuntimeError(f"{run.opportunity.title}: {problems}")
    evaluation = access.evaluation_of(run.id)
    evaluation.released_at, evaluation.released_by_id = run.timeline.at(RELEASED), run.staff.officer.id
    _audit("evaluation.release_seeded", "opportunity", run.id, reference=run.opportunity.reference,
           compliant_bid_ids=[r.bid.id for r in bids if r.check.compliant],
           panel=[{"user_id": m.user_id, "role": m.role} for m in state.members])
    db.session.commit()


# Scores and moderation ------------------------------------------------------------------------------------

JUSTIFICATIONS = {
    5: ("Excellent: {topic} is covered in full, with specific examples from similar contracts and clear measures "
        "of success.",
        "An outstanding answer on {topic}: detailed, realistic and backed by evidence from current services."),
    4: ("Good: a clear and credible approach to {topic}, well evidenced; some gaps in how progress will be "
        "reported.",
        "A strong answer on {topic}. Most of the requirement is met with evidence; mobilisation needs more detail."),
    3: ("Satisfactory: the approach to {topic} meets the requirement, but the evidence is general rather than "
        "specific to this service.",
        "Meets the requirement on {topic}. Sound, but it relies on policies more than on examples of delivery."),
    2: ("Weak: the answer on {topic} describes intentions rather than a plan, with little evidence it has been "
        "done before.",
        "Partly meets the requirement on {topic}: important parts of the specification are not addressed."),
    1: ("Poor: the answer says little about {topic} and does not address the outcomes sought.",) * 2,
    0: ("No relevant answer on {topic}.",) * 2,
}
BETWEEN = " Parts of the answer are stronger than that, so the score sits between two descriptors."
# The panel rates one bid highest and the others around the middle of the scale.
FAVOURITE, OTHERS = D(4), (D(3), D("3.5"), D("2.5"), D(3))
# Each evaluator's reading of an answer, by (bid + criterion) % 3; every fifth cell they read two points apart.
OFFSETS = ((D(0), D("0.5"), D("-0.5")), (D("0.5"), D(0), D(0)))
WIDE_APART = D(1)
HALF = D("0.5")


def _topic(criterion) -> str:
    return criterion.title[0].lower() + criterion.title[1:]


def _words(score: Decimal, criterion, voice: int) -> str:
    words = JUSTIFICATIONS[int(score)][voice].format(topic=_topic(criterion))
    return words + (BETWEEN if score != int(score) else "")


def _given(level: Decimal, evaluator: int, cell: int, scale_max: int) -> Decimal:
    if cell % 5 == 2:
        score = level - WIDE_APART if evaluator == 0 else level + WIDE_APART
    else:
        score = level + OFFSETS[evaluator][cell % 3]
    return min(max(score, D(0)), D(scale_max))


def _consensus(scores: list[Decimal]) -> Decimal:
    """The mean, to the nearest half point."""
    return (sum(scores) / len(scores) / HALF).quantize(D(1), ROUND_HALF_UP) * HALF


KINDS = ("outside Kent", "large", "VCSE", "SME")  # of supplier, rarest first
SUBCONTRACTED, ALONE = "with Kent subcontractors", "without Kent subcontractors"


def _features(organisation: Organisation, sealed: dict) -> tuple[str, str]:
    """The kind of supplier, and whether the bid names Kent-based subcontractors or consortium members."""
    if organisation.size == "large":
        kind = "large"
    elif not organisation.kent_based:
        kind = "outside Kent"
    else:
        kind = "VCSE" if organisation.is_vcse else "SME"
    local = any(member.get("kent_based") for member in sealed.get("consortium") or [])
    return kind, SUBCONTRACTED if local else ALONE


def _favourite(rows: list[marking.Bidder], winners: Counter) -> int:
    """The compliant bid the panel rates highest: the one whose kind of supplier and subcontracting, then
    organisation, were rated highest least often so far (the rarer kind, then the first bid, on a tie)."""
    organisations = dict(db.session.execute(sa.select(Bid.id, Organisation).join(
        Organisation, Organisation.id == Bid.organisation_id).where(Bid.id.in_([r.bid_id for r in rows]))).all())
    features = {r.bid_id: _features(organisations[r.bid_id], sealed_content(r.version)) for r in rows}

    def rated(row: marking.Bidder) -> tuple[int, int, int]:
        kind, subcontracting = features[row.bid_id]
        return (winners[kind] + winners[subcontracting], winners[organisations[row.bid_id].id],
                KINDS.index(kind))

    chosen = min(rows, key=rated)
    winners.update([*features[chosen.bid_id], organisations[chosen.bid_id].id])
    return chosen.bid_id


@dataclass(frozen=True)
class Bidders:
    rows: list[marking.Bidder]
    levels: dict[int, Decimal]  # how good the panel finds each bid

    @classmethod
    def of(cls, run: Run) -> "Bidders":
        rows = marking.compliant_bidders(run.id)
        if run.favourite is None:
            run.favourite = _favourite(rows, run.winners)
        others = iter(OTHERS * len(rows))
        return cls(rows, {r.bid_id: FAVOURITE if r.bid_id == run.favourite else next(others) for r in rows})

    def given(self, position: int, bid_id: int, evaluator: int, criteria: list) -> dict[int, Decimal]:
        return {c.id: _given(self.levels[bid_id], evaluator, position + k, c.scale_max) for k, c in enumerate(criteria)}


def _score(run: Run) -> None:
    """Each evaluator scores every compliant bid and submits; while being scored, the second evaluator has
    scored only the first half and not submitted."""
    bidders, criteria = Bidders.of(run), marking.people_scored_criteria(run.opportunity)
    for evaluator, user in enumerate(run.staff.evaluators):
        partial = run.story == SCORING and evaluator == 1
        for position, row in enumerate(bidders.rows[:len(bidders.rows) // 2] if partial else bidders.rows):
            given = bidders.given(position, row.bid_id, evaluator, criteria)
            marking.save_scores(user, run.opportunity, row.bid_id, {
                c.id: entry_rules.Entry(given[c.id], _words(given[c.id], c, evaluator)) for c in criteria})
        if not partial:
            marking.submit_scores(user, run.opportunity)


def _reason(given: list[Decimal], agreed: Decimal, criterion) -> str:
    scores = " and ".join(f"{s.normalize():f}" for s in given)
    if max(given) - min(given) >= 2 * WIDE_APART:
        return (f"The evaluators' scores ({scores}) were far apart. The panel read the answer again together and "
                f"agreed {agreed.normalize():f}. {_words(agreed, criterion, 0)}")
    return f"The evaluators' scores ({scores}) were close; the panel agreed {agreed.normalize():f}."


def _moderate(run: Run) -> None:
    """The moderator sets the consensus (the mean of the evaluators' scores, to the nearest half point) for every
    bid and completes moderation; in moderation, only the first two bids are done."""
    bidders, criteria = Bidders.of(run), marking.people_scored_criteria(run.opportunity)
    rows = bidders.rows[:2] if run.story == MODERATING else bidders.rows
    for position, row in enumerate(rows):
        given = [bidders.given(position, row.bid_id, e, criteria) for e in range(len(run.staff.evaluators))]
        entries = {}
        for c in criteria:
            scores = [g[c.id] for g in given]
            agreed = _consensus(scores)
            entries[c.id] = entry_rules.Entry(agreed, _reason(scores, agreed, c))
        moderation.set_consensus(run.staff.moderator, run.opportunity, row.bid_id, entries)
    if run.story != MODERATING:
        moderation.complete(run.staff.moderator, run.opportunity)


# The award ------------------------------------------------------------------------------------------------

LOW_PRICE_EXPLANATION = ("Volunteers deliver most of the sessions, the bidder's own community venues are free to "
                         "use, and a charitable grant covers the food for the first year. The bidder sent its "
                         "budget and the grant offer letter.")
LOW_PRICE_DECISION = ("The explanation is credible and the budget and grant letter support it: staff, venues and "
                      "food are all costed, and the price is sustainable for the contract period. Price accepted.")


def _answer_price_flags(run: Run) -> None:
    """Any abnormally low price the engine flags is explained by the bidder and accepted by the officer."""
    for bid_id in reading.flagged_in(results.rank(run.opportunity).display()):
        awards.record_price_review(run.staff.officer, run.opportunity, int(bid_id), awards.PriceDecision(
            LOW_PRICE_EXPLANATION, True, LOW_PRICE_DECISION))


def _reasons(run: Run) -> str:
    display, names = results.rank(run.opportunity).display(), reading.names_of(run.id)
    ranked = sorted((b for b in display["bids"] if not b["excluded"]), key=lambda b: b["rank"])
    first = ranked[0]
    reasons = f"{names[first['id']]} has the highest total score, {first['total']} out of 100"
    if len(ranked) > 1:
        ahead = D(first["total"]) - D(ranked[1]["total"])
        reasons += f", {ahead} points ahead of {names[ranked[1]['id']]}"
    return reasons + (". Its answers were the strongest on quality and public value, and it gives the best balance "
                      "of quality, public value and price under the published evaluation model.")


def _recommend(run: Run) -> None:
    awards.recommend(run.staff.officer, run.opportunity, awards.RecommendationDetails(_reasons(run)))
    run.changes(run.timeline.at(RECOMMENDING))


def _approve(run: Run) -> None:
    """As `awards.services.decide` approves (which also sends the award letters): by the approver, never the
    recommender, the award notice published, the end of standstill from the working-day calendar."""
    opportunity, approver = run.opportunity, run.staff.approver
    award = reading.current_award(run.id)
    refusal = award_rules.approval_refusal(approver.id, approver.roles, award.recommended_by_id)
    if blockers := [refusal] if refusal else reading.approval_blockers(opportunity, award,
                                                                        reading.live_display(opportunity)):
        raise RuntimeError(f"{opportunity.title}: {blockers}")
    notice = run.changes(run.timeline.at(DECIDED))
    opportunity.status = lifecycle.next_state(opportunity.status, "approve_award", approver.roles)
    award.status, award.decided_by_id, award.decided_at = award_rules.APPROVED, approver.id, notice
    award.notice_published_at, award.standstill_ends_on = notice, standstill_end(london(notice).date())
    _audit("award.approval_seeded", "award", award.id, opportunity_id=run.id, bid_id=award.bid_id,
           decided_by_id=approver.id, notice_published_at=notice.isoformat(),
           standstill_ends_on=award.standstill_ends_on.isoformat())
    db.session.commit()


CHALLENGE = ("{name} says its answer on ‘{criterion}’ was marked down for leaving out evidence that its appendix "
             "gives, and asks for the scores to be reviewed before the contract is awarded.")


def _challenge(run: Run) -> None:
    """The runner-up challenges the day after the award notice: the award is suspended."""
    award = reading.current_award(run.id)
    second = next(b for b in award.ranking["bids"] if b["rank"] == 2)
    bid = db.session.get(Bid, int(second["id"]))
    received = as_utc(award.notice_published_at) + timedelta(days=1, hours=4)
    criterion = marking.people_scored_criteria(run.opportunity)[0]
    summary = CHALLENGE.format(name=reading.names_of(run.id)[second["id"]], criterion=criterion.title)
    challenge = standstill.record_challenge(run.staff.officer, run.opportunity, standstill.ChallengeDetails(
        bid.organisation_id, received, summary))
    challenge.recorded_at = received + timedelta(hours=2)
    db.session.commit()


def _confirm(run: Run) -> None:
    """As `awards.standstill.confirm` does it, on the first working day after standstill: the contract made from
    the winning bid's sealed version, the bids settled."""
    opportunity, officer = run.opportunity, run.staff.officer
    award = reading.current_award(run.id)
    confirmed = _london_at(next_working_day(award.standstill_ends_on + timedelta(days=1)), 10)
    if refusal := award_rules.confirmation_refusal(award.status, award.standstill_ends_on, london(confirmed).date(),
                                                   *reading.challenge_counts(award.id)):
        raise RuntimeError(f"{opportunity.title}: {refusal}")
    opportunity.status = lifecycle.next_state(opportunity.status, "confirm_award", officer.roles)
    bid = db.session.get(Bid, award.bid_id)
    contract = contracts.contract_for(award, opportunity, db.session.get(Organisation, bid.organisation_id),
                                      counting_submission(bid), confirmed)
    standstill._settle_bids(run.id, award.bid_id)
    award.status, award.confirmed_by_id, award.confirmed_at = award_rules.CONFIRMED, officer.id, confirmed
    db.session.add(contract)
    db.session.flush()
    _audit("award.confirmation_seeded", "award", award.id, opportunity_id=run.id, bid_id=award.bid_id,
           contract=contract.reference, value=str(contract.value), confirmed_at=confirmed.isoformat())
    db.session.commit()
    run.confirmed = run.changes(confirmed)
    run.summary.contracts += 1


CANCELLATION = ("no_compliant_bids", "The only bid was excluded at the compliance check. The service will be "
                                     "offered again with a longer bidding period.")


def _cancel(run: Run) -> None:
    """As `opportunities.services.cancel` does it (which also writes to the bidders), with a reason from the
    list, after the only bid was excluded."""
    opportunity, text = run.opportunity, award_rules.cancel_reason_text(*CANCELLATION)
    opportunity.status = lifecycle.next_state(opportunity.status, "cancel", run.staff.officer.roles, text)
    opportunity.cancel_reason = text
    _audit("opportunity.cancellation_seeded", "opportunity", run.id, reference=opportunity.reference, reason=text,
           category=CANCELLATION[0], cancelled_by_id=run.staff.officer.id)
    db.session.commit()
    run.changes(run.timeline.end)


# Moving the use cases' timestamps back onto the timeline ----------------------------------------------------

def _evaluation_times(run: Run, bid_ids: sa.ScalarSelect) -> list[sa.Update]:
    t = run.timeline
    statements = [
        sa.update(Evaluation).where(Evaluation.opportunity_id == run.id).values(opened_at=t.at(OPENED)),
        sa.update(Evaluation).where(Evaluation.opportunity_id == run.id,
                                    Evaluation.moderation_completed_at.is_not(None))
        .values(moderation_completed_at=t.at(COMPLETED)),
        sa.update(ComplianceCheck).where(ComplianceCheck.bid_id.in_(bid_ids)).values(recorded_at=t.at(CHECKED)),
        sa.update(ModeratedScore).where(ModeratedScore.bid_id.in_(bid_ids)).values(moderated_at=t.at(CONSENSUS)),
    ]
    for evaluator, user in enumerate(run.staff.evaluators):
        submitted = t.at(SUBMITTED[evaluator])
        statements += [
            sa.update(Score).where(Score.bid_id.in_(bid_ids), Score.evaluator_id == user.id)
            .values(updated_at=submitted - timedelta(minutes=30)),
            sa.update(PanelMember).where(PanelMember.opportunity_id == run.id, PanelMember.user_id == user.id,
                                         PanelMember.scores_submitted_at.is_not(None))
            .values(scores_submitted_at=submitted)]
    return statements


def _award_and_bid_times(run: Run, bid_ids: sa.ScalarSelect) -> list[sa.Update]:
    t = run.timeline
    statements = [
        sa.update(PriceReview).where(PriceReview.bid_id.in_(bid_ids)).values(decided_at=t.at(REVIEWED)),
        sa.update(Award).where(Award.opportunity_id == run.id).values(recommended_at=t.at(RECOMMENDING)),
    ]
    changed = {bid_rules.COMPLIANT: t.at(CHECKED), bid_rules.EXCLUDED: t.at(CHECKED),
               bid_rules.EVALUATED: t.at(COMPLETED), bid_rules.SUCCESSFUL: run.confirmed,
               bid_rules.UNSUCCESSFUL: run.confirmed}
    statements += [sa.update(Bid).where(Bid.opportunity_id == run.id, Bid.status == status).values(updated_at=moment)
                   for status, moment in changed.items() if moment is not None]
    if run.changed is not None:
        statements.append(sa.update(Opportunity).where(Opportunity.id == run.id).values(updated_at=run.changed))
    return statements


def _retime(run: Run) -> None:
    """Every time a use case stamped on this opportunity's records, moved to its step on the timeline."""
    bid_ids = sa.select(Bid.id).where(Bid.opportunity_id == run.id).scalar_subquery()
    for statement in (*_evaluation_times(run, bid_ids), *_award_and_bid_times(run, bid_ids)):
        db.session.execute(statement.execution_options(synchronize_session=False))
    db.session.commit()


# The stories ----------------------------------------------------------------------------------------------

OPENED_AND_CHECKED = (_panel, _open, _compliance)
MODERATION = (*OPENED_AND_CHECKED, _release, _score, _moderate)
RECOMMENDATION = (*MODERATION, _answer_price_flags, _recommend)
STEPS: dict[str, tuple[Callable[[Run], None], ...]] = {
    AWAITING_DECLARATIONS: (_panel,), DECLARING: (_panel,), CONFLICT_WAITING: (_panel,),
    SCORING: (*OPENED_AND_CHECKED, _release, _score), MODERATING: MODERATION, MODERATED: MODERATION,
    RECOMMENDED: RECOMMENDATION, PRICE_ANSWERED: RECOMMENDATION,
    IN_STANDSTILL: (*RECOMMENDATION, _approve), CHALLENGED: (*RECOMMENDATION, _approve, _challenge),
    AWARDED: (*RECOMMENDATION, _approve, _confirm),
    CANCELLED_AFTER_OPENING: (*OPENED_AND_CHECKED, _cancel),
}


def _kept_between_commits(step: Callable[[Run], None], run: Run) -> None:
    """Run one step with what the session has loaded kept across the use cases' commits (they re-read, holding
    the row, whatever they are about to change), then forget it all: this saves reloading the opportunity, its
    criteria and the panel in every use case."""
    session = db.session()
    session.expire_on_commit = False
    try:
        step(run)
    finally:
        session.expire_on_commit = True
        session.expire_all()


def _untouched() -> list[Opportunity]:
    """The opportunities with a story, still in the state they were seeded in, with neither a panel nor an
    evaluation yet; oldest deadline first (so the contracts are numbered in the order they were awarded)."""
    found = db.session.execute(sa.select(Opportunity).where(
        Opportunity.title.in_(list(STORIES)), Opportunity.published_at.is_not(None),
        Opportunity.id.not_in(sa.select(PanelMember.opportunity_id)),
        Opportunity.id.not_in(sa.select(Evaluation.opportunity_id))).order_by(Opportunity.submission_deadline))
    return [o for o in found.scalars() if o.status == STATE_OF[STORIES[o.title]]]


def seed_evaluation(cast: Cast, approver: User, now: datetime) -> EvaluationSummary:
    """Add whatever evaluation and award demo data is missing, committing as it goes (as the use cases do).
    `approver` approves the awards: an administrator, or a procurement officer other than `cast.officer`."""
    clock, summary = Clock(now), EvaluationSummary()
    _seed_extra_opportunities(cast, clock, summary)
    _seed_assessments(cast.officer, summary)
    staff = Staff.of(cast, approver)
    summary.people = staff.describe()
    winners: Counter = Counter()
    for opportunity in _untouched():
        story = STORIES[opportunity.title]
        run = Run(opportunity, story, staff, Timeline.of(opportunity, story, clock), summary, winners)
        for step in STEPS[story]:
            _kept_between_commits(step, run)
        _retime(run)
        summary.stories[story] += 1
    return summary
