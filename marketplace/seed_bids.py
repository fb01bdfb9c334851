"""Demo bids, added by `flask seed-demo` after the commissioning data (see seed_commissioning.py).

On open opportunities: drafts (some half done, some ready to submit), submitted bids, withdrawn bids, and bids
withdrawn and then submitted again (two versions, each with its receipt). On closed opportunities and those further
on (evaluating, award recommended, standstill, awarded): bids submitted before the deadline, three to five on each,
so opening and evaluation have bids to work on, plus a draft and a withdrawn bid that missed the deadline. Statuses
after `submitted` (opened, compliant...) are left to the evaluation's own demo data. Cancelled opportunities keep
the bids they had. Some bids come from consortia, with members and subcontractors (Kent-based micro voluntary
groups among them, and organisations registered here, linked); some come from staff mutuals. Each of the demo
provider accounts that seed-demo prints has bids on its dashboard.

Rows are made directly with the models, as the commissioning data is (the use cases judge the clock and send
email). A sealed version holds `rules.canonical_json` of `snapshot.take(bid, opportunity).content` as the bid stood
when it was sealed, with its SHA-256, exactly as `bids.submission` seals a bid, so receipts verify at opening.
Documents are small PDFs kept by `documents.store`, so they download. Times are fractions of each opportunity's
bidding window (publication to the deadline, or to now while it is open, or to its cancellation), so every version
is sealed before the deadline whatever the day of the run. A second run adds nothing: each bid is keyed on its
opportunity and organisation.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import islice
from typing import Iterator

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from marketplace import audit, documents
from marketplace.accounts.models import User
from marketplace.bids import measures, rules, snapshot
from marketplace.bids.models import (
    Bid,
    BidAnswer,
    BidDocument,
    BidSubmission,
    ConsortiumMember,
    PriceLine,
    SocialValueCommitment,
)
from marketplace.extensions import db
from marketplace.opportunities import lifecycle
from marketplace.opportunities.models import EvaluationModel, Opportunity
from marketplace.organisations.models import Organisation
from marketplace.seed_commissioning import CATEGORY_TEXT, PLANS, Cast, _pdf, _places

ACTOR = "seed-demo"
D = Decimal
PENNY, HUNDRED = D("0.01"), D("100")

# What happened to a bid: drafts half done or ready to submit, or sealed versions.
HALF_DONE, READY, SUBMITTED, WITHDRAWN, RESUBMITTED = "half_done", "ready", "submitted", "withdrawn", "resubmitted"
STATUS_OF = {HALF_DONE: rules.DRAFT, READY: rules.DRAFT, SUBMITTED: rules.SUBMITTED, WITHDRAWN: rules.WITHDRAWN,
             RESUBMITTED: rules.SUBMITTED}
# Opportunities past their deadline whose bids are topped up to three to five sealed, counting bids each.
LATER_STATES = (lifecycle.CLOSED, lifecycle.EVALUATING, lifecycle.AWARD_RECOMMENDED, lifecycle.STANDSTILL,
                lifecycle.AWARDED)
PRICE_FACTORS = tuple(D(f) for f in ("0.94", "0.88", "0.97", "1.02", "0.91", "0.85", "0.99"))
KENT_SHARES = tuple(D(s) for s in ("0.45", "0.62", "0.30", "0.74", "0.55", "0.38", "0.81"))


# The plan ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MemberPlan:
    """A consortium member or subcontractor; `linked` is the index of a seeded owner whose organisation it is
    (its name, type, size and Kent status then come from the registered organisation)."""

    name: str
    org_type: str = "voluntary_community"
    size: str = "micro"
    kent_based: bool = True
    role: str = "subcontractor"
    share: str = "0.05"
    linked: int | None = None


@dataclass(frozen=True)
class BidPlan:
    opportunity: str  # title
    bidder: int  # index of the organisation's owner in seed order
    story: str = SUBMITTED
    members: tuple[MemberPlan, ...] = ()
    lots: tuple[int, ...] = (1,)  # lot numbers, where the opportunity has lots
    schedule: bool = True  # a price schedule as well as the total
    conflict: str = ""  # a declared conflict of interest


M, B = MemberPlan, BidPlan
CONSORTIUM, SUB = "consortium_member", "subcontractor"
YOUTH_CONSORTIUM = (
    M("Sheppey Youth Matters", role=CONSORTIUM, share="0.15"),
    M("", role=CONSORTIUM, share="0.12", linked=8),
    M("Faversham Skate Collective", share="0.05"),
    M("Swale Sports Coaching Ltd", "private_company", "small", share="0.08"),
)
HOME_CARE_CONSORTIUM = (
    M("Thanet Carers' Co-operative", "cooperative_mutual", "small", role=CONSORTIUM, share="0.20"),
    M("Dover Community Meals", share="0.04"),
    M("Canterbury Night Sitting Service", "social_enterprise", share="0.06"),
    M("Margate Men's Shed", share="0.02"),
    M("Ramsgate Dementia Friends", "charity", share="0.03"),
    M("CareRoster Systems Ltd", "private_company", "medium", kent_based=False, share="0.03"),
)
PLANS_BY_HAND: tuple[BidPlan, ...] = (
    # Open: the five demo provider accounts first (provider01 to provider05)
    B("Dementia day opportunities in Thanet", 0, HALF_DONE),
    B("Befriending service for isolated older people – Tonbridge & Malling", 0, schedule=False),
    B("Heritage open days programme – Dover", 0, WITHDRAWN),
    B("Youth service in Swale", 1, RESUBMITTED, YOUTH_CONSORTIUM),
    B("Digital inclusion support for residents", 1, READY),
    B("Fly-tipping clearance – Swale", 2),
    B("Community sport for inactive adults – Swale and Thanet", 2, HALF_DONE),
    B("Home care for older people – East Kent", 3, members=HOME_CARE_CONSORTIUM, lots=(1, 2)),
    B("Family hub activities in Gravesham", 3, WITHDRAWN, schedule=False),
    B("Carers' support service – county-wide", 4, RESUBMITTED, (M("Kent Carers' Voice", "charity", "small"),)),
    B("Library home delivery volunteers – Sevenoaks", 4, HALF_DONE),
    # Open: competitors, staff mutuals and a bidder from outside Kent
    B("Youth service in Swale", 12),
    B("Home care for older people – East Kent", 13, READY, lots=(3,)),
    B("Supported accommodation for young people – Canterbury", 17, lots=(1, 2),
      conflict="Our chair is a governor of a Canterbury school whose pupils may use the service. She has taken no "
               "part in preparing this bid."),
    B("Stop smoking service in Dartford and Gravesham", 10),
    B("Carers' support service – county-wide", 9, schedule=False),
    B("Winter gritting route support – Maidstone", 21, READY),
    B("Highway verge cutting – Tunbridge Wells", 5, RESUBMITTED),
    B("Rough sleeper outreach – Folkestone & Hythe", 20, HALF_DONE),
    # Closed and later: consortia and staff mutuals, and two bids that missed the deadline
    B("Early help parenting programmes – Dover", 1, members=(
        M("Deal Family Learning CIC", "social_enterprise", role=CONSORTIUM, share="0.20"),
        M("Dover Dads' Group", share="0.06"))),
    B("Reablement at home – West Kent", 3, lots=(1, 2, 3), members=(
        M("Tonbridge Therapy Partners", "private_company", "small", share="0.10"),
        M("", role=CONSORTIUM, share="0.15", linked=16))),
    B("Mental health peer support – Maidstone", 0),
    B("Website accessibility testing", 2, schedule=False),
    B("Domestic abuse refuge support – county-wide", 4, members=(
        M("Swale Women's Refuge Network", "charity", "small", role=CONSORTIUM, share="0.25"),
        M("Thanet Freedom Project", share="0.05"))),
    B("Apprenticeship brokerage for small employers", 20),
    B("Drainage gully cleansing – Swale", 28),
    B("Bus shelter cleaning – Dartford", 3, HALF_DONE),
    B("Playing field grounds maintenance – Gravesham", 2, WITHDRAWN),
    # Cancelled: the bids they had when they were cancelled
    B("Drone surveys of highway structures", 5),
    B("Drone surveys of highway structures", 13, HALF_DONE),
    B("Community centre café – Sevenoaks", 16),
    B("Food waste caddy supply – Ashford", 21),
    B("Food waste caddy supply – Ashford", 26, schedule=False),
)
# Local partners a topped-up bid may name as its one subcontractor.
LOCAL_PARTNERS = ("Gravesend Community Kitchen", "Ashford Green Gym", "Whitstable Repair Café",
                  "Sittingbourne Befrienders", "Tunbridge Wells Mencap Friends", "Folkestone Sea Scouts")


def _eligible(opportunity: Opportunity, organisation: Organisation) -> bool:
    return rules.eligibility_problem(opportunity.reservation, organisation.kent_based, organisation.is_sme,
                                     organisation.is_vcse) is None


def _in_turn(cast: Cast, opportunity: Opportunity, start: int, taken: set[int]) -> Iterator[tuple[int, int]]:
    """(turn, owner index) for each organisation that may bid and is not bidding yet, round the list from
    `start`."""
    for turn in range(len(cast.owners)):
        index = (start + turn) % len(cast.owners)
        if index not in taken and _eligible(opportunity, cast.owners[index].membership.organisation):
            yield turn, index


def _top_up(opportunity: Opportunity, bidder: int, turn: int) -> BidPlan:
    """A plain submitted bid; every third names a local partner as its subcontractor."""
    partner = LOCAL_PARTNERS[turn % len(LOCAL_PARTNERS)]
    return B(opportunity.title, bidder, schedule=turn % 2 == 0,
             members=(M(partner, share="0.07"),) if turn % 3 == 0 else (),
             lots=(1 + turn % max(len(opportunity.lots), 1),))


def _top_ups(cast: Cast, opportunities: dict[str, Opportunity]) -> Iterator[BidPlan]:
    """Submitted bids from organisations in turn, until each opportunity past its deadline has three to five."""
    titles = [plan.title for state in LATER_STATES for plan in PLANS[state]]
    for position, title in enumerate(titles):
        opportunity = opportunities.get(title)
        if opportunity is None:
            continue
        planned = [p for p in PLANS_BY_HAND if p.opportunity == title]
        wanted = 3 + position % 3 - sum(STATUS_OF[p.story] == rules.SUBMITTED for p in planned)
        bidders = _in_turn(cast, opportunity, position * 7 + 5, {p.bidder for p in planned})
        for turn, index in islice(bidders, max(wanted, 0)):
            yield _top_up(opportunity, index, position + turn)


# Times ------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Window:
    """The time bidders had: from publication to the deadline, or to now while it is open, or to the
    cancellation when the opportunity was cancelled first."""

    start: datetime
    end: datetime
    jitter: float  # so that bids on one opportunity were not all sealed at the same moment

    @classmethod
    def of(cls, opportunity: Opportunity, now: datetime, bidder: int) -> "Window":
        end = min(now, opportunity.submission_deadline)
        if opportunity.status == lifecycle.CANCELLED:
            end = min(end, opportunity.updated_at)
        return cls(opportunity.published_at, end, (bidder % 5) * 0.02)

    def at(self, fraction: float) -> datetime:
        """A moment `fraction` (plus the jitter, below 0.08) of the way through the window, to the second."""
        return (self.start + (self.end - self.start) * (fraction + self.jitter)).replace(microsecond=0)


# What the bid says ------------------------------------------------------------------------------------------

ANSWERS = {
    "Outcomes for the people you support": (
        "We agree personal goals with each person within two weeks of referral and review them with them and "
        "their family every quarter, using a short outcomes star. In {place} our current services help eight in "
        "ten people stay independent at home for a year or more. {org} reports outcomes to the council every "
        "month, and people who use our services sit on our management group and tell us what to change."),
    "Workforce, training and continuity of care": (
        "Our staff are on permanent contracts at or above the Real Living Wage, with paid travel time. New starters "
        "complete the Care Certificate within twelve weeks and shadow an experienced colleague for two weeks. Each "
        "person is supported by a small team of no more than four workers, so they see familiar faces. Staff "
        "turnover at {org} was 14% last year."),
    "Safeguarding and quality assurance": (
        "A director is our safeguarding lead, with trained deputies in {place}. Concerns are logged the same day "
        "and referred under the Kent and Medway multi-agency procedures. We audit care records monthly, make "
        "unannounced spot checks and survey everyone we support each year; the results go to our board."),
    "Public value: local jobs, volunteering and community links": (
        "We recruit in {place} first, through Jobcentre Plus and local community groups, and offer two "
        "apprenticeships a year. Our volunteers add companionship and activities, and we buy catering and "
        "transport from Kent voluntary groups wherever we can."),
    "How you will achieve the outcomes": (
        "We will run the service from community venues across {place}: three months of mobilisation, then delivery "
        "planned with residents, reviewed every six months against the outcomes in the specification. {org} "
        "already works with libraries, GP surgeries and parish councils in the area, which will refer people "
        "to us from the first week."),
    "Reaching and involving local people": (
        "We will design sessions with residents, not for them: a residents' panel meets every quarter and has a "
        "budget of its own. We reach people through food banks, GP surgeries, libraries and door-to-door "
        "leaflets in {place}, and offer sessions in the evenings and at weekends."),
    "Public value: volunteering, skills and wellbeing": (
        "Every volunteer gets training, expenses and a named supervisor; we expect to involve forty volunteers "
        "in {place} in the first year. Residents can gain accredited first aid and food hygiene qualifications "
        "through the service."),
    "Kent-resident jobs and apprenticeships": (
        "All frontline posts will be advertised first to residents of {place}, and we will take on two apprentices "
        "with a Kent further education college in the first year."),
    "Method statement and programme": (
        "Two weeks of mobilisation: site surveys, risk assessments and a traffic management plan agreed with Kent "
        "Highways. Work is then scheduled zone by zone across {place}, with a supervisor signing off each zone "
        "with photographs uploaded the same day. {org} keeps a reserve crew for urgent call-outs within four "
        "hours."),
    "Managing disruption to residents": (
        "We write to residents seven days before work starts near their homes, work between 9:30am and 3:30pm on "
        "main roads, and keep footways open with signed diversions. Complaints are answered within two working "
        "days."),
    "Public value: carbon reduction and local training": (
        "Our vans run on electricity or HVO fuel, cutting the contract's emissions by about 60%. We train two "
        "residents of {place} a year to a recognised qualification in grounds and highway work."),
}
PASS_FAIL_NOTES = {
    "CQC or Ofsted registration in good standing": "Registered with the regulator; our latest inspection rated "
                                                   "the service Good.",
    "Safeguarding policy and DBS checks": "Policy reviewed this year; every worker has an enhanced DBS check, "
                                          "renewed every three years.",
    "Insurance and safeguarding": "Public liability £10 million and employer's liability £5 million; safeguarding "
                                  "policy attached.",
    "Health and safety accreditation": "SafeContractor accredited; ISO 45001 certificate attached.",
}
MEASURES_BY_TEMPLATE = {
    "social_care": ("local_jobs", "apprenticeships", "volunteering_hours", "spend_kent_vcse"),
    "community_services": ("volunteering_hours", "training_hours", "spend_kent_vcse", "work_placements"),
    "works": ("carbon_reduction", "low_emission_miles", "apprenticeships", "spend_kent_sme"),
}
PER_100K = {"local_jobs": 1, "apprenticeships": 26, "work_placements": 12, "training_hours": 120,
            "volunteering_hours": 80, "carbon_reduction": 4, "low_emission_miles": 6000}  # for each £100,000
SPEND_RATE = {"spend_kent_vcse": D("0.04"), "spend_kent_sme": D("0.08"), "community_fund": D("0.01")}
HOW = {
    "local_jobs": "New posts advertised first to residents of {place}.",
    "apprenticeships": "Apprentices recruited locally and trained with a Kent further education college.",
    "work_placements": "Placements for young people leaving care, arranged with Kent's virtual school.",
    "training_hours": "Free training sessions for residents and volunteers.",
    "spend_kent_vcse": "Activities, catering and transport bought from Kent voluntary groups.",
    "spend_kent_sme": "Materials and services bought from small businesses in Kent.",
    "volunteering_hours": "Staff volunteering days with community groups in {place}.",
    "community_fund": "A small grants fund for community groups, run with residents.",
    "carbon_reduction": "Electric vans and HVO fuel in place of diesel on the contract.",
    "low_emission_miles": "Journeys on the contract made in electric vehicles.",
}


@dataclass(frozen=True)
class Context:
    """Who is bidding for what, and the words their answers use."""

    plan: BidPlan
    opportunity: Opportunity
    organisation: Organisation
    owner: User
    window: Window

    @property
    def words(self) -> dict[str, str]:
        return {"org": self.organisation.legal_name, "place": _places(tuple(self.opportunity.localities))}

    @property
    def turn(self) -> int:
        return self.plan.bidder + self.opportunity.id

    @property
    def value(self) -> Decimal:
        """The estimated value of what is bid for: the chosen lots, or the whole contract."""
        lots = [lot for lot in self.opportunity.lots if lot.number in self.plan.lots]
        return sum((D(lot.estimated_value) for lot in lots), D(0)) if lots else D(self.opportunity.estimated_value)


def _answers(bid: Bid, context: Context, complete: bool) -> None:
    """Every pass/fail question confirmed and every written answer given; only some of them when not complete."""
    criteria = snapshot.applicable_criteria(context.opportunity, bid.lot_ids)
    pass_fail = [c for c in criteria if c.kind == "pass_fail"]
    written = [c for c in criteria if snapshot.asks_for_text(c)]
    for criterion in pass_fail[:len(pass_fail) if complete else -1]:
        note = PASS_FAIL_NOTES.get(criterion.title, "We meet this requirement; the evidence is attached.")
        bid.answers.append(BidAnswer(criterion_id=criterion.id, confirmed=True, text=note))
    for criterion in written[:len(written) if complete else 1]:
        text = ANSWERS.get(criterion.title, "{org} will meet this through the approach described in our method "
                                            "statement, delivered by staff based in {place}.")
        bid.answers.append(BidAnswer(criterion_id=criterion.id, text=text.format(**context.words)))


def _price(bid: Bid, context: Context) -> None:
    """A total near the estimated value; with a schedule, monthly delivery plus set-up adding up to it."""
    factor = PRICE_FACTORS[context.turn % len(PRICE_FACTORS)]
    total = (context.value * factor / HUNDRED).quantize(D(1)) * HUNDRED
    bid.price_total = total
    if not context.plan.schedule:
        return
    months = context.opportunity.contract_months or 12
    monthly = (total * D("0.9") / months).quantize(PENNY)
    bid.price_lines = [
        PriceLine(position=1, description="Delivering the service", quantity=D(months), unit="months",
                  unit_price=monthly),
        PriceLine(position=2, description="Mobilisation, recruitment and training", quantity=D(1), unit="fixed price",
                  unit_price=total - monthly * months),
    ]


def _quantity(code: str, value: Decimal) -> Decimal:
    if code in SPEND_RATE:
        return (value * SPEND_RATE[code] / HUNDRED).quantize(D(1)) * HUNDRED
    return max(D(PER_100K[code]) * value / D(100_000), D(PER_100K[code])).quantize(D(1))


def _commitment(code: str, context: Context) -> SocialValueCommitment:
    return SocialValueCommitment(measure=code, quantity=_quantity(code, context.value),
                                 unit=measures.BY_CODE[code].unit, description=HOW[code].format(**context.words))


def _commitments(bid: Bid, context: Context) -> None:
    """Two or three measures that suit the kind of service."""
    choices = MEASURES_BY_TEMPLATE[CATEGORY_TEXT[context.opportunity.category][0]]
    count = 2 + context.turn % 2
    bid.commitments = [_commitment(choices[(context.turn + k) % len(choices)], context) for k in range(count)]


def _local_economy(bid: Bid, context: Context) -> None:
    bid.kent_share = KENT_SHARES[context.turn % len(KENT_SHARES)]
    bid.kent_jobs = max(1, int(context.value / 60_000))
    bid.kent_apprenticeships = context.turn % 3
    bid.local_economy_notes = (f"Staff will be recruited in {context.words['place']} first, and we buy supplies "
                               "from Kent-based firms and groups wherever we can.")


def _member(member: MemberPlan, cast: Cast) -> ConsortiumMember:
    row = ConsortiumMember(name=member.name, org_type=member.org_type, size=member.size,
                           kent_based=member.kent_based, role=member.role, share=D(member.share))
    if member.linked is not None:
        linked = cast.owners[member.linked].membership.organisation
        row.name, row.org_type, row.size, row.kent_based = (linked.legal_name, linked.org_type, linked.size,
                                                            linked.kent_based)
        row.linked_organisation_id = linked.id
    return row


def _document(title: str, context: Context, when: datetime) -> BidDocument:
    opportunity, organisation = context.opportunity, context.organisation
    lines = [f"{opportunity.reference}: {opportunity.title}", f"{title}: {organisation.legal_name}",
             "(demonstration document)"]
    stored = documents.store(f"{title}.pdf", _pdf(lines))
    return BidDocument(title=title, filename=stored.filename, content_type=stored.content_type, size=stored.size,
                       sha256=stored.sha256, storage_key=stored.storage_key, uploaded_at=when,
                       uploaded_by_id=context.owner.id)


def _declarations(bid: Bid, plan: BidPlan) -> None:
    bid.declared_conflicts = "declared" if plan.conflict else "none"
    bid.conflict_details = plan.conflict
    bid.declared_no_exclusion_grounds = bid.declared_accurate = True


def _fill(bid: Bid, context: Context, cast: Cast) -> None:
    """The working copy: everything for a bid ready to submit; lots, some answers and a price when half done."""
    complete = context.plan.story != HALF_DONE
    _answers(bid, context, complete)
    _price(bid, context)
    if not complete:
        return
    _commitments(bid, context)
    _local_economy(bid, context)
    bid.members = [_member(member, cast) for member in context.plan.members]
    titles = ["Method statement"] + (["Consortium agreement"] if context.plan.members else [])
    bid.documents = [_document(title, context, context.window.at(0.3)) for title in titles]
    _declarations(bid, context.plan)


# Sealing ----------------------------------------------------------------------------------------------------

def _seal(bid: Bid, context: Context, at: datetime, withdrawn_at: datetime | None = None) -> None:
    """A numbered version of the bid as it stands, sealed as `bids.submission` seals one."""
    taken = snapshot.take(bid, context.opportunity)
    if taken.missing():
        raise ValueError(f"Demo bid by {context.organisation.legal_name} for {context.opportunity.title} is not "
                         f"complete: {[m.message for m in taken.missing()]}")
    canonical = rules.canonical_json(taken.content)
    bid.submissions.append(BidSubmission(number=len(bid.submissions) + 1, submitted_at=at,
                                         submitted_by_id=context.owner.id, sha256=rules.receipt_hash(canonical),
                                         content=canonical, withdrawn_at=withdrawn_at))


def _tell_story(bid: Bid, context: Context) -> datetime:
    """Seal and withdraw as the plan says; returns when the bid last changed."""
    window, story = context.window, context.plan.story
    if story == SUBMITTED:
        _seal(bid, context, window.at(0.8))
    elif story == WITHDRAWN:
        _seal(bid, context, window.at(0.55), withdrawn_at=window.at(0.75))
    elif story == RESUBMITTED:
        _seal(bid, context, window.at(0.45), withdrawn_at=window.at(0.6))
        bid.kent_share = min(bid.kent_share + D("0.10"), D(1))  # changed between the versions
        bid.commitments.append(_commitment("community_fund", context))
        _seal(bid, context, window.at(0.85))
    else:
        return window.at(0.6 if story == HALF_DONE else 0.7)
    last = bid.submissions[-1]
    return last.withdrawn_at or last.submitted_at


def _bid(context: Context, cast: Cast) -> Bid:
    opportunity, owner = context.opportunity, context.owner
    created = context.window.at(0.15)
    bid = Bid(opportunity_id=opportunity.id, organisation_id=context.organisation.id, status=rules.DRAFT,
              lot_ids=[lot.id for lot in opportunity.lots if lot.number in context.plan.lots],
              created_at=created, updated_by_id=owner.id)
    _fill(bid, context, cast)
    bid.updated_at = _tell_story(bid, context)
    bid.status = STATUS_OF[context.plan.story]
    for answer in bid.answers:
        answer.updated_at = bid.updated_at
    return bid


def _record(bid: Bid) -> None:
    audit.record("bid.seeded", "bid", bid.id, actor=ACTOR, details={
        "opportunity_id": bid.opportunity_id, "organisation_id": bid.organisation_id, "status": bid.status,
        "versions": [{"number": s.number, "sha256": s.sha256, "withdrawn": s.withdrawn_at is not None}
                     for s in bid.submissions]})


# The entry point --------------------------------------------------------------------------------------------

def _opportunities() -> dict[str, Opportunity]:
    titles = {plan.title for plans in PLANS.values() for plan in plans}
    found = db.session.execute(
        sa.select(Opportunity).where(Opportunity.title.in_(titles), Opportunity.published_at.is_not(None))
        .options(selectinload(Opportunity.lots),
                 selectinload(Opportunity.models).selectinload(EvaluationModel.criteria))).scalars()
    return {opportunity.title: opportunity for opportunity in found}


def _existing(opportunities: dict[str, Opportunity]) -> set[tuple[int, int]]:
    ids = [opportunity.id for opportunity in opportunities.values()]
    return {(opportunity_id, organisation_id) for opportunity_id, organisation_id in db.session.execute(
        sa.select(Bid.opportunity_id, Bid.organisation_id).where(Bid.opportunity_id.in_(ids)))}


def seed_bids(cast: Cast, now: datetime) -> Counter:
    """Add whatever demo bids are missing, in the caller's transaction (the caller commits). Returns the bids
    added, by status."""
    opportunities = _opportunities()
    existing = _existing(opportunities)
    bids = []
    for plan in (*PLANS_BY_HAND, *_top_ups(cast, opportunities)):
        opportunity, owner = opportunities.get(plan.opportunity), cast.owners[plan.bidder]
        organisation = owner.membership.organisation
        if opportunity is None or (opportunity.id, organisation.id) in existing \
                or not _eligible(opportunity, organisation):
            continue
        bids.append(_bid(Context(plan, opportunity, organisation, owner, Window.of(opportunity, now, plan.bidder)),
                         cast))
    db.session.add_all(bids)
    db.session.flush()  # one flush: each table's rows go in together
    for bid in bids:
        _record(bid)
    return Counter(bid.status for bid in bids)
