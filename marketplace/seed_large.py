"""The large data set for load and performance work: `flask seed-demo --scale large`.

At full size (`scale=1`): 10,000 opportunities in every lifecycle state, each with an evaluation model of four to
six criteria (some with lots); 5,000 provider organisations of every type and size, in and outside Kent, each with
an owner who signs in with the demo password; 50,000 bids on opportunities that have closed or gone further, each
with its sealed version, plus bids on open opportunities (mostly drafts) and on cancelled ones; awards for
opportunities with a recommendation, and contracts for those awarded. A smaller `scale` shrinks every count in
proportion (the tests load a hundredth).

It runs after the small demo (its staff write and decide the opportunities) and adds to it without touching it.
Everything is written with bulk INSERTs in batches, from plain rows built in memory: no ORM object and no query per
row. Rows that others point at are given their ids here (from each table's largest id, read once; PostgreSQL's
sequences are moved past them at the end), so load into a database nobody is writing to meanwhile. A sealed version
is made exactly as a submission makes one: `snapshot._content` (which reads any object with the right attributes)
over the same facts the working copy is written with, then `rules.canonical_json` and its SHA-256. Kent status is
derived from each organisation's postcode by `kent.resolve_kent_status`, as registration does. Its rows are marked
by their references (`KCC-L-`, `KCC-LC-`) and email domain, so a second load into the same database is refused. One
audit event records the load.
"""

from __future__ import annotations

import itertools
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time as clock_time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from types import SimpleNamespace
from typing import Any, Iterable

import sqlalchemy as sa

from marketplace import audit
from marketplace.accounts.models import User
from marketplace.accounts.passwords import hash_password
from marketplace.awards import rules as award_rules
from marketplace.awards.models import Award, Contract
from marketplace.bids import measures, rules, snapshot
from marketplace.bids.models import Bid, BidAnswer, BidSubmission, ConsortiumMember, PriceLine, SocialValueCommitment
from marketplace.errors import DomainError
from marketplace.evaluation import model_rules
from marketplace.evaluation.working_days import standstill_end
from marketplace.extensions import db, on_postgresql
from marketplace.kent import (
    COUNTY_WIDE,
    DISTRICTS,
    OUTWARD_CODES,
    ChoiceNeeded,
    choices_for,
    locality_name,
    resolve_kent_status,
)
from marketplace.opportunities import lifecycle
from marketplace.opportunities.models import RESERVATION_NONE, Criterion, EvaluationModel, Lot, Opportunity
from marketplace.organisations.choices import MEMBER_OWNER, SME_SIZES, VCSE_TYPES
from marketplace.organisations.models import Membership, Organisation
from marketplace.organisations.services import name_key
from marketplace.seed import COMMISSIONER_EMAIL, DEMO_PASSWORD, LEAD_EMAIL, OFFICER_EMAIL, SIZE_BY_TYPE, SUFFIX_BY_TYPE
from marketplace.seed_commissioning import (
    CATEGORY_TEXT,
    Clock,
    OpportunityPlan,
    _contract,
    _criterion,
    _places,
    _procedure,
    _summary,
    _timetable,
)
from marketplace.settings import services as settings
from marketplace.timeutil import LONDON, london, utcnow

SEED = 20270115
ACTOR = "seed-demo"
REFERENCE_PREFIX, CONTRACT_PREFIX, EMAIL_DOMAIN = "KCC-L-", "KCC-LC-", "large.example"
FULL_SIZE = {"opportunities": 10_000, "organisations": 5_000, "bids": 50_000}
BATCH = 2_000
D, PENNY, SHARE_PLACES = Decimal, Decimal("0.01"), Decimal("0.000001")

S = lifecycle
# Share of the opportunities in each state (per cent); bids go to those that have closed or gone further.
STATE_SHARES = {S.DRAFT: 5, S.AWAITING_APPROVAL: 3, S.PUBLISHED: 12, S.CLOSED: 5, S.EVALUATING: 7,
                S.AWARD_RECOMMENDED: 3, S.STANDSTILL: 3, S.AWARDED: 52, S.CANCELLED: 10}
LATER_STATES = (S.CLOSED, S.EVALUATING, S.AWARD_RECOMMENDED, S.STANDSTILL, S.AWARDED)
# Days from today to the submission deadline, by state.
DEADLINE_DAYS = {S.DRAFT: (40, 120), S.AWAITING_APPROVAL: (36, 90), S.PUBLISHED: (1, 60), S.CLOSED: (-14, -1),
                 S.EVALUATING: (-90, -10), S.AWARD_RECOMMENDED: (-120, -30), S.STANDSTILL: (-150, -40),
                 S.AWARDED: (-1460, -70), S.CANCELLED: (-900, 30)}
ORGANISATION_TYPE_SHARES = {"voluntary_community": 20, "charity": 20, "social_enterprise": 12,
                            "cooperative_mutual": 5, "staff_mutual": 3, "private_company": 30, "sole_trader": 5,
                            "public_body": 5}
OUTSIDE_POSTCODES = ("SE1 7PB", "EC2A 4NE", "CR0 1NX", "BR1 1AA", "RH1 1AA", "BN1 1AA", "TN22 1AA", "ME4 4AA",
                     "ME8 0AA", "B1 1AA", "M1 1AA", "CM1 1AA")

SERVICES = {
    "adult-social-care": ("Home care for older people", "Dementia day opportunities", "Reablement at home",
                          "Supported living for adults with learning disabilities", "Carers' breaks"),
    "children-and-families": ("Youth service", "Family hub activities", "Early help parenting programmes",
                              "Short breaks for disabled children", "Holiday activities and food"),
    "education-and-skills": ("Adult learning in community venues", "Apprenticeship brokerage",
                             "English for speakers of other languages", "Careers advice for young people"),
    "public-health": ("Stop smoking service", "Healthy weight programme for families", "Sexual health outreach",
                      "Drug and alcohol recovery support", "Mental health peer support"),
    "community-and-libraries": ("Library home delivery volunteers", "Community centre management",
                                "Befriending for isolated residents", "Digital inclusion support"),
    "highways-and-transport": ("Highway verge cutting", "Winter gritting route support", "Drainage gully cleansing",
                               "Community transport dial-a-ride", "Bus shelter cleaning"),
    "environment-and-waste": ("Fly-tipping clearance", "Household waste reuse shop", "Countryside path maintenance",
                              "Food waste caddy supply", "Tree planting and aftercare"),
    "property-and-facilities": ("Grounds maintenance", "Cleaning of council offices", "Building repairs and "
                                "maintenance", "Energy efficiency works in schools"),
    "ict-and-digital": ("Website accessibility testing", "Device recycling and refurbishment",
                        "Assisted digital support", "Cyber security training"),
    "professional-services": ("Independent evaluation of services", "Legal advice on commissioning",
                              "Valuation of council land", "Translation and interpreting"),
    "housing-and-homelessness": ("Rough sleeper outreach", "Supported accommodation for young people",
                                 "Tenancy sustainment support", "Domestic abuse refuge support"),
    "culture-heritage-and-sport": ("Community sport for inactive adults", "Heritage open days programme",
                                   "Arts on prescription", "Museum learning sessions"),
}
TOWNS = ("Ashford", "Canterbury", "Dartford", "Dover", "Folkestone", "Hythe", "Gravesend", "Maidstone", "Sevenoaks",
         "Sittingbourne", "Faversham", "Margate", "Ramsgate", "Broadstairs", "Tonbridge", "Tunbridge Wells", "Deal",
         "Whitstable", "Herne Bay", "Sandwich", "Swanley", "Edenbridge", "Cranbrook", "Tenterden", "Westerham",
         "Snodland", "Sheerness", "Minster", "Paddock Wood", "West Malling", "Lydd", "New Romney", "Headcorn",
         "Marden", "Swale", "Weald")
THEMES = ("Community", "Harbour", "Riverside", "Oak", "Bridge", "Hope", "Horizon", "Lighthouse", "Meadow", "Orchard",
          "Pathways", "Compass", "Cornerstone", "Kingfisher", "Hop Garden", "Downs", "Marsh", "Coast", "Valley",
          "Heritage", "Together", "Family", "Care", "Wellbeing", "Green", "Youth", "Forward", "Open Door", "Unity",
          "Friends", "Neighbours", "Skills", "Works", "Support", "Link", "Haven", "Beacon", "Willow", "Chalk",
          "Castle", "Abbey", "Windmill", "Ferry", "Seaside", "Weald", "Hillside", "Springfield", "Northgate",
          "Southgate", "Eastgate")
FIRST_NAMES = ("Amira", "Ben", "Chloe", "Dev", "Ellie", "Femi", "Grace", "Harry", "Isla", "Jack", "Kiran", "Lucy",
               "Mo", "Nadia", "Oliver", "Priya", "Rosie", "Sam", "Tom", "Una", "Vikram", "Will", "Yasmin", "Zoe")
LAST_NAMES = ("Adams", "Begum", "Clarke", "Davies", "Evans", "Fisher", "Green", "Hughes", "Iqbal", "Jones", "Khan",
              "Lewis", "Morris", "Nolan", "Okafor", "Patel", "Quinn", "Roberts", "Singh", "Taylor", "Usman", "Walker",
              "Young")
PARTNERS = ("Gravesend Community Kitchen", "Ashford Green Gym", "Whitstable Repair Café", "Sittingbourne Befrienders",
            "Tunbridge Wells Mencap Friends", "Folkestone Sea Scouts", "Margate Men's Shed", "Dover Dads' Group")

Q, SV, LE, PF, PR = (model_rules.QUALITY, model_rules.SOCIAL_VALUE, model_rules.LOCAL_ECONOMY, model_rules.PASS_FAIL,
                     model_rules.PRICE)
Spec = model_rules.CriterionSpec
# Evaluation models of four to six criteria; the scored weights add up to 100.
MODEL_SPECS: tuple[tuple[Spec, ...], ...] = (
    (Spec(PF, "Safeguarding, insurance and policies"),
     Spec(Q, "How you will deliver the outcomes", D(50), min_score=D(2), word_limit=750),
     Spec(SV, "Public value for Kent residents", D(15), word_limit=500),
     Spec(PR, "Price", D(35), method="relative_lowest")),
    (Spec(PF, "Safeguarding, insurance and policies"),
     Spec(Q, "Delivery plan and mobilisation", D(35), min_score=D(2), word_limit=1000),
     Spec(Q, "Workforce, training and continuity", D(20), min_score=D(2), word_limit=500),
     Spec(SV, "Public value: local jobs, volunteering and skills", D(15), word_limit=500),
     Spec(PR, "Price", D(30), method="relative_lowest")),
    (Spec(PF, "Health and safety accreditation"),
     Spec(Q, "Method statement and programme", D(30), min_score=D(2), word_limit=1000),
     Spec(Q, "Working with local partners", D(15), word_limit=500),
     Spec(SV, "Public value: carbon reduction and local training", D(10), word_limit=500),
     Spec(LE, "Share of contract value spent with Kent-based suppliers", D(10), method="relative_highest"),
     Spec(PR, "Price", D(35), method="deviation_from_lowest", params={"factor": "1"})),
    (Spec(PF, "Registration with the regulator in good standing"),
     Spec(PF, "Safeguarding policy and DBS checks"),
     Spec(Q, "Outcomes for the people you support", D(40), min_score=D(2), word_limit=1000),
     Spec(SV, "Public value: volunteering and community links", D(10), word_limit=500),
     Spec(LE, "Kent-resident jobs and apprenticeships", D(10), method="panel", word_limit=300),
     Spec(PR, "Price", D(40), method="relative_lowest")),
)
ANSWERS = {
    Q: ("{org} will deliver this service across {place} from local bases, with a named manager, a mobilisation "
        "plan agreed in the first month and quarterly reviews against every outcome in the specification. We "
        "already work with GP surgeries, libraries and parish councils, who will refer people from the first week.",
        "Our staff are paid at least the Real Living Wage and complete induction training within twelve weeks. "
        "{org} keeps caseloads small, so people see familiar faces, and reports outcomes to the council monthly."),
    SV: ("{org} will recruit in {place} first, offer two apprenticeships a year and buy catering, transport and "
         "printing from Kent voluntary groups wherever it can.",
         "Volunteers from {place} will be trained, supervised and paid their expenses; residents can gain "
         "accredited qualifications through the service."),
    LE: ("Every frontline post will be advertised first to residents of {place}, and {org} will take on "
         "apprentices with a Kent further education college.",),
}
EXCLUDED_SHARE, RESUBMITTED_SHARE, CONSORTIUM_SHARE = 0.1, 0.1, 0.15


class AlreadyLoaded(DomainError):
    """The database already holds the large data set."""


@dataclass
class LargeSummary:
    scale: float
    rows: Counter = field(default_factory=Counter)  # table -> rows added
    states: Counter = field(default_factory=Counter)  # opportunity state -> count
    bid_statuses: Counter = field(default_factory=Counter)
    bids_after_close: int = 0
    seconds: float = 0.0

    def describe(self) -> str:
        states = ", ".join(f"{self.states[s]:,} {lifecycle.STATE_LABELS[s].lower()}" for s in lifecycle.STATES
                           if self.states[s])
        statuses = ", ".join(f"{count:,} {rules.STATUS_LABELS[status].lower()}"
                             for status, count in sorted(self.bid_statuses.items()))
        tables = ", ".join(f"{table} {count:,}" for table, count in self.rows.items())
        return "\n".join([
            f"Large data set loaded (scale {self.scale:g}) in {self.seconds:.1f} s.",
            f"Opportunities: {sum(self.states.values()):,} ({states}).",
            f"Bids: {self.rows['bids']:,}, of which {self.bids_after_close:,} on opportunities that have closed or "
            f"gone further ({statuses}).",
            f"Rows added: {tables}.",
            f"Every provider account (provider-00001@{EMAIL_DOMAIN} ...) signs in with: {DEMO_PASSWORD}",
        ])


# Entry point ------------------------------------------------------------------------------------------------

def is_loaded() -> bool:
    return db.session.execute(sa.select(Opportunity.id).where(
        Opportunity.reference.like(f"{REFERENCE_PREFIX}%")).limit(1)).first() is not None


def seed_large(scale: float = 1.0, now: datetime | None = None) -> LargeSummary:
    """Load the large data set in one transaction, or refuse when it is already there."""
    started = time.perf_counter()
    if not 0 < scale <= 1:
        raise DomainError("The scale must be more than 0 and at most 1.")
    if is_loaded():
        raise AlreadyLoaded("This database already holds the large data set (opportunities with references "
                            f"{REFERENCE_PREFIX}…). Load it into an empty database, or one with the small demo only.")
    run = Run.start(scale, now or utcnow())
    organisations = _organisations(run)
    opportunities = _opportunities(run)
    bids = _bids(run, opportunities, organisations)
    _awards(run, opportunities, bids)
    run.advance_sequences()
    audit.record("seed.large_loaded", "database", "large", actor=ACTOR,
                 details={"scale": scale, "rows": dict(run.summary.rows)})
    db.session.commit()
    run.summary.seconds = time.perf_counter() - started
    return run.summary


@dataclass
class Run:
    rng: random.Random
    clock: Clock
    staff: dict[str, int]  # commissioner, lead, officer -> user id
    threshold: Decimal
    sizes: dict[str, int]
    summary: LargeSummary
    numbered: list[sa.Table] = field(default_factory=list)  # tables whose ids this run gave

    @classmethod
    def start(cls, scale: float, now: datetime) -> "Run":
        emails = {"commissioner": COMMISSIONER_EMAIL, "lead": LEAD_EMAIL, "officer": OFFICER_EMAIL}
        found = dict(db.session.execute(sa.select(User.email, User.id).where(User.email.in_(emails.values()))).all())
        if len(found) < len(emails):
            raise DomainError("Load the small demo first (flask seed-demo): its staff write the opportunities.")
        rng = random.Random(SEED)  # nosec B311 # the same data every time, not a secret
        return cls(rng, Clock(now), {role: found[email] for role, email in emails.items()},
                   settings.get("procurement_threshold"),
                   {key: max(1, round(size * scale)) for key, size in FULL_SIZE.items()}, LargeSummary(scale))

    @property
    def now(self) -> datetime:
        return self.clock.now

    def insert(self, model: Any, rows: list[dict], returning: bool = False) -> list[int]:
        """Bulk INSERT in batches. With `returning`, each row is given the next free id first (read once per
        table; RETURNING row by row is far slower) and the ids come back in the order of the rows."""
        ids: list[int] = []
        if returning:
            start = (db.session.execute(sa.select(sa.func.max(model.id))).scalar() or 0) + 1
            ids = list(range(start, start + len(rows)))
            for row, new_id in zip(rows, ids):
                row["id"] = new_id
            self.numbered.append(model.__table__)
        for start in range(0, len(rows), BATCH):
            db.session.execute(sa.insert(model.__table__), rows[start:start + BATCH])
        self.summary.rows[model.__tablename__] += len(rows)
        return ids

    def advance_sequences(self) -> None:
        """PostgreSQL: move each id sequence past the ids given here (SQLite takes the next id after the largest)."""
        if not on_postgresql():
            return
        for table in self.numbered:
            db.session.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                       f"(SELECT max(id) FROM {table.name}))"))  # nosec B608 # our own table names

    def between(self, start: datetime, end: datetime, low: float = 0.0, high: float = 1.0) -> datetime:
        """A moment (to the second) a random fraction of the way from start to end."""
        return (start + (end - start) * self.rng.uniform(low, high)).replace(microsecond=0)


def _quotas(total: int, shares: dict[str, int]) -> dict[str, int]:
    """`total` split by the shares, at least one each, the remainder going to the largest share."""
    quotas = {key: max(1, round(total * share / 100)) for key, share in shares.items()}
    largest = max(shares, key=shares.get)
    quotas[largest] += total - sum(quotas.values())
    return quotas


# Organisations and their owners -----------------------------------------------------------------------------

@dataclass(slots=True)
class Org:
    id: int
    name: str
    org_type: str
    size: str
    postcode: str
    kent_based: bool
    user_id: int = 0

    @property
    def is_sme(self) -> bool:
        return self.size in SME_SIZES

    @property
    def is_vcse(self) -> bool:
        return self.org_type in VCSE_TYPES


def _kent_status(run: Run, postcode: str):
    """As registration derives it; where the outward code needs a choice, the organisation picks one."""
    try:
        return resolve_kent_status(postcode)
    except ChoiceNeeded as needed:
        return resolve_kent_status(postcode, run.rng.choice(choices_for(needed.lookup))[0])


def _postcode(run: Run) -> str:
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    if run.rng.random() < 0.22:
        return run.rng.choice(OUTSIDE_POSTCODES)
    outward = run.rng.choice(sorted(OUTWARD_CODES))
    return f"{outward} {run.rng.randint(1, 9)}{run.rng.choice(letters)}{run.rng.choice(letters)}"


def _names(run: Run, org_type: str, taken: set[str]) -> Iterable[str]:
    """Unique legal names for one type of organisation, in a random order."""
    combos = list(itertools.product(TOWNS, THEMES))
    run.rng.shuffle(combos)
    for town, theme in itertools.cycle(combos):
        for suffix in ("", " 2", " 3", " 4"):
            name = f"{town} {theme} {SUFFIX_BY_TYPE[org_type]}{suffix}"
            if name_key(name) not in taken:
                taken.add(name_key(name))
                yield name
                break


def _organisations(run: Run) -> list[Org]:
    taken = set(db.session.execute(sa.select(Organisation.name_key)).scalars())
    numbers = set(db.session.execute(sa.select(Organisation.companies_house_number)
                                     .where(Organisation.companies_house_number.is_not(None))).scalars())
    counter = itertools.count(14_000_001)
    rows, orgs = [], []
    for org_type, count in _quotas(run.sizes["organisations"], ORGANISATION_TYPE_SHARES).items():
        for name in itertools.islice(_names(run, org_type, taken), count):
            rows.append(_organisation_row(run, name, org_type, counter, numbers))
            orgs.append(Org(0, name, org_type, rows[-1]["size"], rows[-1]["operations_postcode"],
                            rows[-1]["kent_based"]))
    for org, new_id in zip(orgs, run.insert(Organisation, rows, returning=True)):
        org.id = new_id
    _owners(run, orgs)
    run.rng.shuffle(orgs)
    return orgs


def _organisation_row(run: Run, name: str, org_type: str, counter, numbers: set[str]) -> dict:
    postcode = _postcode(run)
    status = _kent_status(run, postcode)
    company = None
    if org_type in ("private_company", "social_enterprise"):
        company = next(f"{n:08d}" for n in counter if f"{n:08d}" not in numbers)
    created = run.now - timedelta(days=run.rng.randint(30, 2000))
    line1 = f"{run.rng.randint(1, 200)} {run.rng.choice(('High Street', 'Station Road', 'Church Lane', 'Mill Road'))}"
    town = name.split(" ")[0]
    return {
        "legal_name": name, "name_key": name_key(name), "org_type": org_type,
        "size": run.rng.choice(SIZE_BY_TYPE[org_type]), "companies_house_number": company,
        "charity_number": f"{run.rng.randint(1000000, 1199999)}" if org_type == "charity" else None,
        "trading_line1": line1, "trading_town": town, "trading_postcode": postcode,
        "operations_line1": line1, "operations_town": town, "operations_postcode": postcode,
        "kent_based": status.kent_based, "district": status.district, "kent_derivation": status.derivation,
        "categories": sorted(run.rng.sample(sorted(SERVICES), 2)),
        "localities": sorted(run.rng.sample([d.slug for d in DISTRICTS], 2)),
        "created_at": created, "updated_at": created,
    }


def _owners(run: Run, orgs: list[Org]) -> None:
    """One owner per organisation, every one with the same (demo) password hash, computed once."""
    password_hash = hash_password(DEMO_PASSWORD)
    rows = []
    for number, org in enumerate(orgs, 1):
        joined = run.now - timedelta(days=run.rng.randint(10, 900))
        rows.append({"email": f"provider-{number:05d}@{EMAIL_DOMAIN}", "is_staff": False,
                     "full_name": f"{run.rng.choice(FIRST_NAMES)} {run.rng.choice(LAST_NAMES)}",
                     "password_hash": password_hash, "email_verified_at": joined, "created_at": joined})
    for org, user_id in zip(orgs, run.insert(User, rows, returning=True)):
        org.user_id = user_id
    run.insert(Membership, [{"user_id": org.user_id, "organisation_id": org.id, "role": MEMBER_OWNER,
                             "created_at": row["created_at"]} for org, row in zip(orgs, rows)])


# Opportunities ----------------------------------------------------------------------------------------------

@dataclass(slots=True)
class Opp:
    id: int
    reference: str
    title: str
    state: str
    category: str
    localities: tuple[str, ...]
    value: Decimal
    reservation: str
    published_at: datetime | None
    deadline: datetime
    contract_start: date
    contract_months: int
    updated_at: datetime
    model: int  # which of MODEL_SPECS
    steps: "AwardSteps | None"
    lots: list[SimpleNamespace] = field(default_factory=list)  # id, number, title, value
    criteria: list[SimpleNamespace] = field(default_factory=list)  # id, kind, title, word_limit, weight

    @property
    def place(self) -> str:
        return _places(self.localities)


def _localities(run: Run) -> tuple[str, ...]:
    if run.rng.random() < 0.15:
        return (COUNTY_WIDE,)
    return tuple(sorted(run.rng.sample([d.slug for d in DISTRICTS], run.rng.choice((1, 1, 1, 2, 3)))))


def _value(run: Run) -> int:
    """Log-uniform between £15,000 and £6 million, to the thousand."""
    return round(15_000 * (400 ** run.rng.random()), -3)


def _reservation(run: Run, value: int) -> str:
    if value >= run.threshold or run.rng.random() > 0.25:
        return RESERVATION_NONE
    return run.rng.choice(("kent", "kent_sme_vcse"))


def _plan(run: Run, state: str) -> OpportunityPlan:
    category = run.rng.choice(sorted(SERVICES))
    localities = _localities(run)
    value = _value(run)
    return OpportunityPlan(title=run.rng.choice(SERVICES[category]), category=category, localities=localities,
                           value=value, deadline_in=run.rng.randint(*DEADLINE_DAYS[state]),
                           reservation=_reservation(run, value))


@dataclass(frozen=True)
class AwardSteps:
    """When the award was recommended, its notice published (standstill), standstill ended and it was confirmed."""

    recommended: datetime
    notice: datetime | None = None
    ends: date | None = None
    confirmed: datetime | None = None

    @property
    def last(self) -> datetime:
        return self.confirmed or self.notice or self.recommended


def _award_steps(run: Run, state: str, deadline: datetime) -> AwardSteps | None:
    """Recommended a few days ago, in standstill since a notice this week, or confirmed the day after standstill."""
    if state == S.AWARD_RECOMMENDED:
        return AwardSteps(run.now - timedelta(days=run.rng.randint(1, 10), hours=run.rng.randint(1, 8)))
    if state == S.STANDSTILL:
        notice = run.now - timedelta(days=run.rng.randint(0, 6), hours=2)
    elif state == S.AWARDED:
        notice = deadline + timedelta(days=run.rng.randint(14, 30), hours=run.rng.randint(-2, 4))
    else:
        return None
    recommended = notice - timedelta(days=run.rng.randint(2, 7))
    ends = standstill_end(london(notice).date())
    if state == S.STANDSTILL:
        return AwardSteps(recommended, notice, ends)
    confirmed = datetime.combine(ends + timedelta(days=1), clock_time(10), tzinfo=LONDON).astimezone(timezone.utc)
    return AwardSteps(recommended, notice, ends, confirmed)


def _history(run: Run, state: str, times: dict, steps: AwardSteps | None) -> dict:
    """Written two weeks before publication (drafts: lately); last changed when it reached its state."""
    published, deadline = times["published_at"], times["submission_deadline"]
    if published is None:
        created = run.now - timedelta(days=run.rng.randint(2, 30))
        return {"created_at": created, "updated_at": run.between(created, run.now)}
    if steps is not None:
        changed = steps.last
    elif state == S.EVALUATING:  # opened some days after the deadline
        changed = min(run.now - timedelta(hours=1), deadline + timedelta(days=run.rng.randint(1, 20)))
    elif state == S.CANCELLED:
        changed = run.between(published, min(run.now, deadline + timedelta(days=40)))
    else:  # published when it opened; closed at its deadline
        changed = published if state == S.PUBLISHED else deadline
    return {"created_at": published - timedelta(days=14), "updated_at": changed}


def _opportunity_row(run: Run, number: int, state: str, plan: OpportunityPlan, times: dict,
                     steps: AwardSteps | None) -> dict:
    contract = _contract(plan, run.clock)
    end = award_rules.contract_end(contract["contract_start"], contract["contract_months"])
    staff = run.staff["lead"] if number % 4 == 3 else run.staff["commissioner"]
    below = plan.value < run.threshold
    return {
        "reference": f"{REFERENCE_PREFIX}{number:05d}",
        "title": f"{plan.title} – {_places(plan.localities)} ({contract['contract_start'].year} to {end.year})",
        "summary": _summary(plan), "outcomes": list(CATEGORY_TEXT[plan.category][2]), "category": plan.category,
        "localities": list(plan.localities), "estimated_value": D(plan.value), "procedure": _procedure(plan, below),
        "reservation": plan.reservation, "contact_name": "Commissioning team",
        "contact_email": "commissioning@kent.example", "status": state, "created_by_id": staff,
        "approved_by_id": run.staff["officer"] if state in lifecycle.PUBLIC_STATES else None,
        "cancel_reason": run.rng.choice(list(award_rules.CANCEL_REASONS.values())[:-1])
        if state == S.CANCELLED else None,
        "return_reason": None, "version": 1, **times, **contract, **_history(run, state, times, steps),
    }


def _opportunities(run: Run) -> list[Opp]:
    states = [state for state, count in _quotas(run.sizes["opportunities"], STATE_SHARES).items()
              for _ in range(count)]
    run.rng.shuffle(states)
    rows, opps = [], []
    for number, state in enumerate(states, 1):
        plan = _plan(run, state)
        times = _timetable(plan, state, run.clock)
        steps = _award_steps(run, state, times["submission_deadline"])
        row = _opportunity_row(run, number, state, plan, times, steps)
        rows.append(row)
        opps.append(Opp(0, row["reference"], row["title"], state, plan.category, plan.localities,
                        row["estimated_value"], plan.reservation, row["published_at"], row["submission_deadline"],
                        row["contract_start"], row["contract_months"], row["updated_at"],
                        run.rng.randrange(len(MODEL_SPECS)), steps))
        run.summary.states[state] += 1
    for opp, new_id in zip(opps, run.insert(Opportunity, rows, returning=True)):
        opp.id = new_id
    _lots(run, opps)
    _models(run, opps)
    return opps


def _lots(run: Run, opps: list[Opp]) -> None:
    """A lot per district for a fifth of the larger opportunities that cover more than one district."""
    rows, owners = [], []
    for opp in opps:
        if len(opp.localities) < 2 or opp.value < 200_000 or run.rng.random() > 0.6:
            continue
        share = (opp.value / len(opp.localities)).quantize(D(1000), ROUND_HALF_UP)
        for number, slug in enumerate(opp.localities, 1):
            title = f"{locality_name(slug)}"
            rows.append({"opportunity_id": opp.id, "number": number, "title": title, "estimated_value": share,
                         "localities": [slug], "description": f"The service in {title}."})
            owners.append(opp)
    for row, owner, new_id in zip(rows, owners, run.insert(Lot, rows, returning=True)):
        owner.lots.append(SimpleNamespace(id=new_id, number=row["number"], title=row["title"],
                                          value=row["estimated_value"]))


@cache
def _criteria_of(model: int) -> list[dict]:
    """Stored criteria columns for a model, shaped as the commissioning seed (and the model pages) save them: made
    once per model shape from transient objects that never join the session."""
    columns = [column.key for column in Criterion.__table__.columns if column.key not in ("id", "model_id")]
    made = [_criterion(position, spec) for position, spec in enumerate(MODEL_SPECS[model])]
    return [{key: getattr(built, key) if key != "guidance" else "" for key in columns} for built in made]


def _models(run: Run, opps: list[Opp]) -> None:
    model_ids = run.insert(EvaluationModel, [{"opportunity_id": opp.id, "lot_id": None} for opp in opps],
                           returning=True)
    rows, owners = [], []
    for opp, model_id in zip(opps, model_ids):
        for fields in _criteria_of(opp.model):
            rows.append({**fields, "model_id": model_id})
            owners.append(opp)
    for row, opp, new_id in zip(rows, owners, run.insert(Criterion, rows, returning=True)):
        opp.criteria.append(SimpleNamespace(id=new_id, kind=row["kind"], title=row["title"],
                                            word_limit=row["word_limit"], weight=row["weight"]))


# Bids -------------------------------------------------------------------------------------------------------

@dataclass(slots=True)
class BidPlan:
    opp: Opp
    org: Org
    status: str
    complete: bool
    lots: list[SimpleNamespace]
    price: Decimal | None
    created_at: datetime
    sealed_at: list[datetime]  # each version's receipt time; the last counts unless withdrawn
    withdrawn: bool = False
    id: int = 0
    facts: SimpleNamespace | None = None  # what the working copy says, as snapshot reads a bid


def _pick_bidders(run: Run, opp: Opp, orgs: list[Org], weights: list[float], count: int) -> list[Org]:
    """`count` different organisations that may bid (reservations respected), busier ones more often."""
    chosen: dict[int, Org] = {}
    for _ in range(6):
        for org in run.rng.choices(orgs, cum_weights=weights, k=count * 2):
            eligible = rules.eligibility_problem(opp.reservation, org.kent_based, org.is_sme, org.is_vcse) is None
            if eligible and len(chosen) < count:
                chosen.setdefault(org.id, org)
        if len(chosen) >= count:
            break
    return list(chosen.values())


def _bid_counts(run: Run, opps: list[Opp]) -> dict[int, int]:
    """The bids target shared among the opportunities past their deadline (two to fourteen each, about)."""
    later = [opp for opp in opps if opp.state in LATER_STATES]
    weights = [run.rng.uniform(0.3, 1.7) for _ in later]
    scale = run.sizes["bids"] / sum(weights)
    counts = {opp.id: max(1, int(w * scale)) for opp, w in zip(later, weights)}
    short = run.sizes["bids"] - sum(counts.values())
    for opp in itertools.islice(itertools.cycle(later), max(short, 0)):
        counts[opp.id] += 1
    return counts


def _bids(run: Run, opps: list[Opp], orgs: list[Org]) -> list[BidPlan]:
    weights = list(itertools.accumulate(1 / (rank + 20) ** 0.9 for rank in range(len(orgs))))
    counts = _bid_counts(run, opps)
    plans = []
    for opp in opps:
        if opp.state in LATER_STATES:
            count = counts[opp.id]
        elif opp.state in (S.PUBLISHED, S.CANCELLED):
            count = run.rng.randint(0, 6 if opp.state == S.PUBLISHED else 4)
        else:
            continue
        bidders = [_bid_plan(run, opp, org) for org in _pick_bidders(run, opp, orgs, weights, count)]
        _settle(run, opp, bidders)
        plans.extend(bidders)
    _write_bids(run, plans)
    return plans


def _bid_plan(run: Run, opp: Opp, org: Org) -> BidPlan:
    window_end = min(run.now, opp.deadline) if opp.state != S.CANCELLED else min(run.now, opp.updated_at,
                                                                                   opp.deadline)
    created = run.between(opp.published_at, window_end, 0.05, 0.5)
    lots = sorted(run.rng.sample(opp.lots, run.rng.randint(1, len(opp.lots))), key=lambda l: l.number) \
        if opp.lots else []
    value = sum((lot.value for lot in lots), D(0)) if lots else opp.value
    price = (value * D(run.rng.uniform(0.8, 1.15))).quantize(D(100))
    if opp.state == S.PUBLISHED:
        roll = run.rng.random()
        status = rules.DRAFT if roll < 0.7 else rules.SUBMITTED if roll < 0.9 else rules.WITHDRAWN
    else:
        status = rules.SUBMITTED
    complete = status != rules.DRAFT or run.rng.random() < 0.4
    plan = BidPlan(opp, org, status, complete, lots, price if complete or run.rng.random() < 0.5 else None,
                   created, [])
    if status != rules.DRAFT:
        versions = 2 if run.rng.random() < RESUBMITTED_SHARE else 1
        plan.sealed_at = sorted(run.between(created, window_end, 0.5, 0.99) for _ in range(versions))
        plan.withdrawn = status == rules.WITHDRAWN
    return plan


def _settle(run: Run, opp: Opp, plans: list[BidPlan]) -> None:
    """Bid statuses after the deadline, as opening, compliance, moderation and the award leave them."""
    if not plans or opp.state in (S.PUBLISHED, S.CANCELLED, S.CLOSED):
        return
    excluded = {id(p) for p in plans[1:] if run.rng.random() < EXCLUDED_SHARE}
    stage = run.rng.choice((rules.OPENED, rules.COMPLIANT, rules.EVALUATED)) if opp.state == S.EVALUATING \
        else rules.EVALUATED
    for plan in plans:
        if stage == rules.OPENED:
            plan.status = rules.OPENED
        elif id(plan) in excluded:
            plan.status = rules.EXCLUDED
        else:
            plan.status = stage
    if opp.state in (S.STANDSTILL, S.AWARDED):
        ranked = _ranked(plans)
        for plan in ranked:
            plan.status = rules.SUCCESSFUL if plan is ranked[0] else rules.UNSUCCESSFUL


def _ranked(plans: list[BidPlan]) -> list[BidPlan]:
    """Bids still in the evaluation, best first: here simply the lowest price."""
    return sorted((p for p in plans if p.status != rules.EXCLUDED), key=lambda p: (p.price, p.org.id))


# What a bid says --------------------------------------------------------------------------------------------

def _text_for(run: Run, criterion: SimpleNamespace, plan: BidPlan) -> str:
    return run.rng.choice(ANSWERS[criterion.kind]).format(org=plan.org.name, place=plan.opp.place)


def _facts(run: Run, plan: BidPlan) -> SimpleNamespace:
    """The working copy as `snapshot` reads a bid: answers, price, commitments, consortium, declarations."""
    criteria = plan.opp.criteria
    written = [c for c in criteria if snapshot.asks_for_text(c)]
    if not plan.complete:
        written = written[:run.rng.randint(0, len(written))]
    answers = [SimpleNamespace(criterion_id=c.id, text=_text_for(run, c, plan), confirmed=None) for c in written]
    answers += [SimpleNamespace(criterion_id=c.id, text="", confirmed=True) for c in criteria
                if c.kind == PF and plan.complete]
    complete = plan.complete
    price_lines = _price_lines(run, plan)  # may round the price to the schedule's total
    return SimpleNamespace(
        organisation_id=plan.org.id, lot_ids=[lot.id for lot in plan.lots], answers=answers,
        price_total=plan.price, price_lines=price_lines,
        commitments=_commitments(run, plan) if complete else [],
        kent_share=D(run.rng.uniform(0.2, 0.9)).quantize(SHARE_PLACES) if complete else None,
        kent_jobs=run.rng.randint(0, 40) if complete else None,
        kent_apprenticeships=run.rng.randint(0, 6) if complete else None,
        local_economy_notes="", members=_members(run) if complete and run.rng.random() < CONSORTIUM_SHARE else [],
        documents=[], declared_conflicts="none" if complete else None, conflict_details="",
        declared_no_exclusion_grounds=complete, declared_accurate=complete)


def _price_lines(run: Run, plan: BidPlan) -> list[SimpleNamespace]:
    """Half the bids break their price down by month; the total is then the schedule's total."""
    if plan.price is None or run.rng.random() < 0.5:
        return []
    months = plan.opp.contract_months
    unit_price = (plan.price / months).quantize(PENNY)
    plan.price = unit_price * months
    return [SimpleNamespace(description="Delivering the service, per month", quantity=D(months).quantize(PENNY),
                            unit="months", unit_price=unit_price)]


def _commitments(run: Run, plan: BidPlan) -> list[SimpleNamespace]:
    chosen = run.rng.sample(measures.MEASURES, run.rng.randint(1, 2))
    return [SimpleNamespace(measure=m.code, unit=m.unit, description="",
                            quantity=(plan.price * D("0.03")).quantize(D(1)) if m.unit == "£"
                            else D(run.rng.randint(2, 200))) for m in chosen]


def _members(run: Run) -> list[SimpleNamespace]:
    return [SimpleNamespace(name=run.rng.choice(PARTNERS), org_type="voluntary_community", size="micro",
                            kent_based=True, role="subcontractor", share=D(run.rng.randint(3, 20)) / 100,
                            linked_organisation_id=None)]


def _sealed(plan: BidPlan, price: Decimal | None) -> tuple[str, str]:
    """The canonical content of a version and its SHA-256, exactly as a submission seals them."""
    facts = plan.facts
    if price != facts.price_total:
        facts = SimpleNamespace(**{**vars(facts), "price_total": price, "price_lines": []})
    content = snapshot._content(facts, plan.opp, plan.lots, plan.opp.criteria)
    canonical = rules.canonical_json(content)
    return canonical, rules.receipt_hash(canonical)


# Writing the bids -------------------------------------------------------------------------------------------

BID_COLUMNS = ("price_total", "kent_share", "kent_jobs", "kent_apprenticeships", "local_economy_notes",
               "declared_conflicts", "conflict_details", "declared_no_exclusion_grounds", "declared_accurate")


def _write_bids(run: Run, plans: list[BidPlan]) -> None:
    rows = []
    for plan in plans:
        plan.facts = _facts(run, plan)
        last_saved = plan.sealed_at[-1] if plan.sealed_at else None
        updated = last_saved or run.between(plan.created_at, min(run.now, plan.opp.deadline))
        rows.append({"opportunity_id": plan.opp.id, "organisation_id": plan.org.id, "status": plan.status,
                     "lot_ids": plan.facts.lot_ids, "created_at": plan.created_at, "updated_at": updated,
                     "updated_by_id": plan.org.user_id, "version": 1 + len(plan.sealed_at),
                     **{column: getattr(plan.facts, column) for column in BID_COLUMNS}})
        run.summary.bid_statuses[plan.status] += 1
        run.summary.bids_after_close += plan.opp.state in LATER_STATES
    for plan, new_id in zip(plans, run.insert(Bid, rows, returning=True)):
        plan.id = new_id
    _write_parts(run, plans)
    _write_versions(run, plans)


def _write_parts(run: Run, plans: list[BidPlan]) -> None:
    answers, lines, commitments, members = [], [], [], []
    for plan in plans:
        facts, bid = plan.facts, {"bid_id": plan.id}
        answers += [{**bid, "criterion_id": a.criterion_id, "text": a.text, "confirmed": a.confirmed,
                     "updated_at": plan.created_at} for a in facts.answers]
        lines += [{**bid, "position": n, **vars(line)} for n, line in enumerate(facts.price_lines)]
        commitments += [{**bid, **vars(c)} for c in facts.commitments]
        members += [{**bid, **vars(m)} for m in facts.members]
    run.insert(BidAnswer, answers)
    run.insert(PriceLine, lines)
    run.insert(SocialValueCommitment, commitments)
    run.insert(ConsortiumMember, members)


def _write_versions(run: Run, plans: list[BidPlan]) -> None:
    """Each sealed version with its receipt; a bid resubmitted had its first version (another price) withdrawn."""
    rows = []
    for plan in plans:
        for number, sealed_at in enumerate(plan.sealed_at, 1):
            last = number == len(plan.sealed_at)
            price = plan.facts.price_total if last else (plan.facts.price_total * D("1.03")).quantize(PENNY)
            content, sha256 = _sealed(plan, price)
            withdrawn = plan.withdrawn if last else True
            rows.append({"bid_id": plan.id, "number": number, "submitted_at": sealed_at,
                         "submitted_by_id": plan.org.user_id, "sha256": sha256, "content": content,
                         "withdrawn_at": _withdrawn_at(run, plan, sealed_at, number) if withdrawn else None})
    run.insert(BidSubmission, rows)


def _withdrawn_at(run: Run, plan: BidPlan, sealed_at: datetime, number: int) -> datetime:
    following = plan.sealed_at[number] if number < len(plan.sealed_at) else min(run.now, plan.opp.deadline)
    return run.between(sealed_at, following, 0.1, 0.9)


# Awards and contracts ---------------------------------------------------------------------------------------

AWARD_STATUS = {S.AWARD_RECOMMENDED: award_rules.RECOMMENDED, S.STANDSTILL: award_rules.APPROVED,
                S.AWARDED: award_rules.CONFIRMED}


def _awards(run: Run, opps: list[Opp], plans: list[BidPlan]) -> None:
    by_opp: dict[int, list[BidPlan]] = {}
    for plan in plans:
        by_opp.setdefault(plan.opp.id, []).append(plan)
    awarded = [(opp, _ranked(by_opp[opp.id])) for opp in opps if opp.state in AWARD_STATUS and opp.id in by_opp]
    awarded = [(opp, ranked) for opp, ranked in awarded if ranked]
    award_ids = run.insert(Award, [_award_row(run, opp, ranked, by_opp[opp.id]) for opp, ranked in awarded],
                           returning=True)
    confirmed = [(opp, ranked[0], award_id) for (opp, ranked), award_id in zip(awarded, award_ids)
                 if opp.state == S.AWARDED]
    run.insert(Contract, [_contract_row(number, opp, winner, award_id)
                          for number, (opp, winner, award_id) in enumerate(confirmed, 1)])


def _ranking(opp: Opp, ranked: list[BidPlan], everyone: list[BidPlan]) -> dict:
    """The engine's output as an award stores it: price points relative to the lowest, the rest even."""
    lowest = ranked[0].price
    price_weight = next((c.weight for c in opp.criteria if c.kind == PR), D(0))
    gate = next((c for c in opp.criteria if c.kind == PF), None)
    others = D(100) - price_weight
    entries = []
    for rank, plan in enumerate(ranked, 1):
        points = {str(c.id): str((c.weight * D("0.7")).quantize(PENNY)) for c in opp.criteria
                  if c.weight and c.kind != PR}
        price_points = (price_weight * lowest / plan.price).quantize(PENNY)
        points.update({str(c.id): str(price_points) for c in opp.criteria if c.kind == PR})
        entries.append({"id": str(plan.id), "excluded": False, "rank": rank, "flags": [], "reasons": [],
                        "total": str((others * D("0.7") + price_points).quantize(PENNY)), "points": points})
    entries += [{"id": str(p.id), "excluded": True, "rank": None, "total": None, "points": {}, "flags": [],
                 "reasons": [f"{gate.id}: failed this pass or fail criterion"] if gate else []}
                for p in everyone if p.status == rules.EXCLUDED]
    return {"bids": entries, "winner": str(ranked[0].id), "tied": [],
            "decided_by": "total" if len(ranked) > 1 else "only_compliant_bid", "sensitivity": None}


def _award_row(run: Run, opp: Opp, ranked: list[BidPlan], everyone: list[BidPlan]) -> dict:
    steps = opp.steps
    return {"opportunity_id": opp.id, "bid_id": ranked[0].id, "status": AWARD_STATUS[opp.state],
            "ranking": _ranking(opp, ranked, everyone),
            "reasons": "The highest total score: the best balance of quality, public value and price.",
            "tie_decision": None, "recommended_by_id": run.staff["officer"], "recommended_at": steps.recommended,
            "decided_by_id": run.staff["lead"] if steps.notice else None, "decided_at": steps.notice,
            "decision_note": None, "notice_published_at": steps.notice, "standstill_ends_on": steps.ends,
            "confirmed_by_id": run.staff["officer"] if steps.confirmed else None, "confirmed_at": steps.confirmed,
            "version": 1}


def _decimal(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


def _contract_row(number: int, opp: Opp, winner: BidPlan, award_id: int) -> dict:
    """As `awards.contracts.contract_for` makes it: value and commitments from the winning bid's sealed content,
    the supplier's status from its organisation."""
    content = json.loads(_sealed(winner, winner.facts.price_total)[0])
    org, local = winner.org, content["local_economy"]
    value, share = _decimal(content["price"]["total"]), _decimal(local["kent_share"])
    return {
        "reference": f"{CONTRACT_PREFIX}{number:05d}", "opportunity_id": opp.id, "award_id": award_id,
        "bid_id": winner.id, "organisation_id": org.id, "title": opp.title, "category": opp.category,
        "supplier_name": org.name, "supplier_postcode": org.postcode, "supplier_org_type": org.org_type,
        "supplier_size": org.size, "supplier_is_vcse": org.is_vcse, "supplier_is_sme": org.is_sme,
        "supplier_kent_based": org.kent_based, "value": value, "start_date": opp.contract_start,
        "end_date": award_rules.contract_end(opp.contract_start, opp.contract_months),
        "kent_share": share, "kent_spend": award_rules.kent_spend(value, share), "kent_jobs": local["kent_jobs"],
        "kent_apprenticeships": local["kent_apprenticeships"],
        "social_value_commitments": content["social_value_commitments"], "consortium": content["consortium"],
        "awarded_at": opp.steps.confirmed,
    }
