"""Demo data for commissioning, added by `flask seed-demo` after the staff and organisations.

About sixty opportunities in every category, locality and state, with evaluation models from the templates,
lots, timetables and specification documents; clarification questions answered publicly, privately or not yet;
a right-to-bid catalogue with proposals in every state; and saved searches and saved opportunities for two
providers.

Rows are made directly with the models (the use cases send email and judge the clock), using the app's own
helpers where they exist: `next_reference`, the evaluation templates, `right_to_bid.rules`. Dates are relative to
the moment of the run, so open opportunities are open when the demo starts. A second run adds nothing: each
opportunity is keyed on its title, each catalogue service on its name, each saved search on its owner and name,
each saved opportunity on its owner and opportunity; questions and proposals come only with their parent.
"""

from __future__ import annotations

import textwrap
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

import sqlalchemy as sa

from marketplace import audit, documents
from marketplace.accounts.models import User
from marketplace.clarifications.models import PRIVATE, PUBLIC, Question
from marketplace.evaluation import model_rules
from marketplace.evaluation.templates import template_criteria
from marketplace.extensions import db
from marketplace.kent import locality_name
from marketplace.opportunities import lifecycle
from marketplace.opportunities.models import (
    RESERVATION_NONE,
    Criterion,
    EvaluationModel,
    Lot,
    Opportunity,
    OpportunityDocument,
    SavedSearch,
    Watch,
)
from marketplace.opportunities.references import next_reference
from marketplace.opportunities.search import SearchCriteria
from marketplace.opportunities.services import below_threshold
from marketplace.organisations.models import Organisation
from marketplace.right_to_bid import rules
from marketplace.right_to_bid.models import CatalogueService, Proposal
from marketplace.right_to_bid.services import decision_days, next_proposal_reference
from marketplace.timeutil import LONDON, london

ACTOR = "seed-demo"
KENT, KENT_SME_VCSE = "kent", "kent_sme_vcse"
TENDER_DAYS = 35  # publication to submission deadline, comfortably over the 25-day minimum
CLARIFICATION_GAP_DAYS = 7  # clarification deadline before the submission deadline (the minimum is 5)
D = Decimal


# Who does what ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cast:
    """The seeded people the demo data is about: two commissioners, a procurement officer and the owners of the
    seeded provider organisations, in seed order."""

    commissioner: User
    lead: User  # a commissioner who is also a procurement officer
    officer: User
    owners: tuple[User, ...]

    def author(self, index: int) -> User:
        """Most opportunities are written by the commissioner; every fourth by the lead."""
        return self.lead if index % 4 == 3 else self.commissioner

    def owner_of_type(self, org_types: frozenset[str] | None, skip: int = 0) -> User:
        """The first owner (after `skip` of them) whose organisation is one of org_types (None: any)."""
        fitting = [u for u in self.owners if org_types is None or u.membership.organisation.org_type in org_types]
        return fitting[skip % len(fitting)]


@dataclass(frozen=True)
class Clock:
    now: datetime

    @property
    def today(self) -> date:
        return london(self.now).date()

    def at(self, days: int, hour: int = 12) -> datetime:
        """`hour` o'clock UK time, `days` days from today, as UTC."""
        day = self.today + timedelta(days=days)
        return datetime.combine(day, time(hour), tzinfo=LONDON).astimezone(timezone.utc)

    def day(self, days: int) -> date:
        return self.today + timedelta(days=days)


@dataclass
class CommissioningSummary:
    opportunities: Counter = field(default_factory=Counter)  # by state
    questions: Counter = field(default_factory=Counter)  # public | private | unanswered
    services: int = 0
    proposals: Counter = field(default_factory=Counter)  # by status
    saved_searches: int = 0
    watches: int = 0

    def describe(self) -> list[str]:
        return [
            _counted("Opportunities", self.opportunities, [(s, lifecycle.STATE_LABELS[s].lower())
                                                          for s in lifecycle.STATES]),
            _counted("Clarification questions", self.questions,
                     [(PUBLIC, "answered publicly"), (PRIVATE, "answered privately"), ("unanswered", "unanswered")]),
            f"Right-to-bid catalogue services added: {self.services}.",
            _counted("Right-to-bid proposals", self.proposals,
                     [(s, label.lower()) for s, label in rules.STATUS_LABELS.items()]),
            f"Saved searches added: {self.saved_searches}; saved opportunities added: {self.watches}.",
        ]


def _counted(what: str, counts: Counter, labels: list[tuple[str, str]]) -> str:
    total = sum(counts.values())
    parts = [f"{counts[key]} {label}" for key, label in labels if counts[key]]
    return f"{what} added: {total}" + (f" ({', '.join(parts)})." if parts else ".")


# Opportunities: the plan ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class LotPlan:
    title: str
    value: int
    localities: tuple[str, ...]


@dataclass(frozen=True)
class OpportunityPlan:
    title: str
    category: str
    localities: tuple[str, ...]
    value: int  # pounds
    deadline_in: int  # days from today to the submission deadline; negative once it has passed
    reservation: str = RESERVATION_NONE  # applied only below the threshold
    lots: tuple[LotPlan, ...] = ()
    note: str | None = None  # why it was cancelled, or why it was returned to draft
    complete: bool = True  # False: a draft with no specification and no evaluation model yet


P, L = OpportunityPlan, LotPlan
ASC, CF, ES, PH = "adult-social-care", "children-and-families", "education-and-skills", "public-health"
CL, HT, EW, PF = "community-and-libraries", "highways-and-transport", "environment-and-waste", "property-and-facilities"
ICT, PS, HH, CHS = "ict-and-digital", "professional-services", "housing-and-homelessness", "culture-heritage-and-sport"
COUNTY = ("county-wide",)

PLANS: dict[str, tuple[OpportunityPlan, ...]] = {
    lifecycle.PUBLISHED: (
        P("Dementia day opportunities in Thanet", ASC, ("thanet",), 180_000, 12, KENT_SME_VCSE),
        P("Youth service in Swale", CF, ("swale",), 420_000, 21),
        P("Highway verge cutting – Tunbridge Wells", HT, ("tunbridge-wells",), 95_000, 3, KENT),
        P("Home care for older people – East Kent", ASC, ("canterbury", "dover", "thanet"), 2_400_000, 40, lots=(
            L("Thanet", 900_000, ("thanet",)), L("Dover", 700_000, ("dover",)),
            L("Canterbury", 800_000, ("canterbury",)))),
        P("Carers' support service – county-wide", ASC, COUNTY, 1_200_000, 33),
        P("Stop smoking service in Dartford and Gravesham", PH, ("dartford", "gravesham"), 210_000, 6, KENT),
        P("Adult learning outreach in Folkestone & Hythe", ES, ("folkestone-hythe",), 65_000, 18, KENT_SME_VCSE),
        P("Library home delivery volunteers – Sevenoaks", CL, ("sevenoaks",), 28_000, 9, KENT_SME_VCSE),
        P("Winter gritting route support – Maidstone", HT, ("maidstone",), 340_000, 27),
        P("Fly-tipping clearance – Swale", EW, ("swale",), 150_000, 2, KENT),
        P("School building cleaning – Ashford", PF, ("ashford",), 260_000, 45),
        P("Digital inclusion support for residents", ICT, COUNTY, 120_000, 15, KENT_SME_VCSE),
        P("Independent social value audit", PS, COUNTY, 45_000, 24),
        P("Supported accommodation for young people – Canterbury", HH, ("canterbury",), 880_000, 38, lots=(
            L("Shared housing", 500_000, ("canterbury",)), L("Floating support", 300_000, ("canterbury",)))),
        P("Heritage open days programme – Dover", CHS, ("dover",), 35_000, 1, KENT_SME_VCSE),
        P("Family hub activities in Gravesham", CF, ("gravesham",), 140_000, 20, KENT_SME_VCSE),
        P("Healthy weight programme for families – Thanet", PH, ("thanet",), 190_000, 30),
        P("Befriending service for isolated older people – Tonbridge & Malling", ASC, ("tonbridge-malling",),
          75_000, 4, KENT_SME_VCSE),
        P("Countryside access path repairs – Sevenoaks", EW, ("sevenoaks",), 110_000, 26, KENT),
        P("Community transport for hospital visits – Ashford", HT, ("ashford",), 160_000, 17, KENT_SME_VCSE),
        P("Sexual health outreach – county-wide", PH, COUNTY, 1_600_000, 55),
        P("Special educational needs tutoring – Maidstone", ES, ("maidstone",), 230_000, 35),
        P("Library makerspace sessions – Dartford", CL, ("dartford",), 48_000, 11, KENT),
        P("Tree safety surveys – Tonbridge & Malling", EW, ("tonbridge-malling",), 85_000, 14, KENT),
        P("Case management system support", ICT, COUNTY, 650_000, 60),
        P("Legal services for adult safeguarding reviews", PS, COUNTY, 180_000, 29),
        P("Rough sleeper outreach – Folkestone & Hythe", HH, ("folkestone-hythe",), 300_000, 23),
        P("Community sport for inactive adults – Swale and Thanet", CHS, ("swale", "thanet"), 95_000, 7,
          KENT_SME_VCSE),
        P("Shared Lives carers recruitment – county-wide", ASC, COUNTY, 260_000, 42),
        P("Boiler servicing for council buildings – Canterbury", PF, ("canterbury",), 70_000, 19, KENT),
    ),
    lifecycle.CLOSED: (
        P("Mental health peer support – Maidstone", PH, ("maidstone",), 140_000, -3, KENT_SME_VCSE),
        P("Bus shelter cleaning – Dartford", HT, ("dartford",), 40_000, -6, KENT),
        P("Early help parenting programmes – Dover", CF, ("dover",), 350_000, -10),
        P("Playing field grounds maintenance – Gravesham", EW, ("gravesham",), 90_000, -14, KENT),
        P("Reablement at home – West Kent", ASC, ("sevenoaks", "tonbridge-malling", "tunbridge-wells"), 1_900_000,
          -20, lots=(L("Sevenoaks", 600_000, ("sevenoaks",)), L("Tonbridge & Malling", 650_000, ("tonbridge-malling",)),
                     L("Tunbridge Wells", 650_000, ("tunbridge-wells",)))),
        P("Website accessibility testing", ICT, COUNTY, 30_000, -5, KENT_SME_VCSE),
        P("Museum learning sessions for schools – Canterbury", CHS, ("canterbury",), 25_000, -8, KENT_SME_VCSE),
        P("Temporary accommodation inspections – Thanet", HH, ("thanet",), 60_000, -12, KENT),
    ),
    lifecycle.EVALUATING: (
        P("Domestic abuse refuge support – county-wide", HH, COUNTY, 1_100_000, -25),
        P("Apprenticeship brokerage for small employers", ES, COUNTY, 200_000, -30, KENT),
    ),
    lifecycle.AWARD_RECOMMENDED: (
        P("Libraries courier service – Ashford and Folkestone & Hythe", CL, ("ashford", "folkestone-hythe"),
          130_000, -40, KENT),
    ),
    lifecycle.STANDSTILL: (
        P("Drainage gully cleansing – Swale", HT, ("swale",), 480_000, -45),
        P("Young carers support – Tunbridge Wells", CF, ("tunbridge-wells",), 90_000, -50, KENT_SME_VCSE),
    ),
    lifecycle.AWARDED: (
        P("Day opportunities for adults with learning disabilities – Canterbury", ASC, ("canterbury",), 750_000, -90),
        P("Public rights of way signage – Dover", EW, ("dover",), 55_000, -100, KENT),
        P("Health checks in community venues – Gravesham", PH, ("gravesham",), 120_000, -110, KENT_SME_VCSE),
        P("Facilities management for Kent History and Library Centre", PF, ("maidstone",), 520_000, -120),
        P("Payroll advisory support", PS, COUNTY, 85_000, -75),
        P("Arts on prescription – Thanet", CHS, ("thanet",), 45_000, -80, KENT_SME_VCSE),
    ),
    lifecycle.CANCELLED: (
        P("Drone surveys of highway structures", HT, COUNTY, 150_000, 10,
          note="After a budget review the council will carry out these surveys with its own staff."),
        P("Food waste caddy supply – Ashford", EW, ("ashford",), 260_000, -15,
          note="The specification underestimated the volumes needed; the work will be put to market again with a "
               "revised specification."),
        P("Community centre café – Sevenoaks", PF, ("sevenoaks",), 20_000, -30, KENT_SME_VCSE,
          note="No compliant bids were received."),
        P("Careers guidance for young people leaving care – Dartford", ES, ("dartford",), 110_000, -5, KENT,
          note="The service will be delivered through the new family hub contract instead."),
    ),
    lifecycle.DRAFT: (
        P("Library digital skills volunteers – Tonbridge & Malling", CL, ("tonbridge-malling",), 30_000, 45,
          KENT_SME_VCSE, complete=False),
        P("Extra care housing support – Dover", HH, ("dover",), 600_000, 50,
          note="Allow a three-month mobilisation period: move the contract start date later."),
    ),
    lifecycle.AWAITING_APPROVAL: (
        P("Carers' breaks – Folkestone & Hythe", ASC, ("folkestone-hythe",), 160_000, 40, KENT_SME_VCSE),
        P("Highway lighting column inspections – county-wide", HT, COUNTY, 900_000, 42),
        P("Youth mental health drop-in – Ashford", PH, ("ashford",), 110_000, 48, KENT),
    ),
}

# What each category's opportunities seek, and the evaluation template they use.
CATEGORY_TEXT: dict[str, tuple[str, str, tuple[str, ...]]] = {
    ASC: ("social_care", "Care and support that helps people live well and independently at home and in their "
                         "community.",
          ("People stay independent at home for longer", "Carers feel supported and able to continue caring",
           "Fewer avoidable admissions to hospital and residential care")),
    CF: ("social_care", "Early help for children, young people and families, close to home.",
         ("Young people take part in positive activities", "Families get help early, before problems grow",
          "Fewer children need statutory social care")),
    ES: ("community_services", "Learning and skills that help residents into work and further learning.",
         ("Residents gain qualifications and confidence", "More people move into work or further learning",
          "Learning reaches people who have not taken part before")),
    PH: ("social_care", "Public health services that reduce inequalities in health across Kent.",
         ("Healthier lifestyles in the communities that need them most", "Services are easy to reach and use",
          "Fewer people develop preventable illness")),
    CL: ("community_services", "Library and community services run with and for local people.",
         ("More residents use library and community services", "Volunteers gain skills and connections",
          "Isolated residents are reached at home")),
    HT: ("works", "Highways and transport work that keeps Kent's roads, paths and journeys safe and reliable.",
         ("Roads and verges are safe for all users", "Work is done on time with little disruption to residents",
          "Lower carbon emissions from the work")),
    EW: ("works", "Environmental work that keeps Kent clean, green and accessible.",
         ("Cleaner streets and green spaces", "Waste is reused or recycled wherever possible",
          "Residents can enjoy the countryside safely")),
    PF: ("works", "Looking after council buildings so they are safe, warm and ready for the public.",
         ("Buildings are safe, compliant and available", "Lower energy use and carbon emissions",
          "Faults are fixed quickly")),
    ICT: ("community_services", "Digital services and support that residents and staff can rely on.",
          ("Residents can get online and use council services", "Systems are available and secure",
           "Support is accessible to everyone")),
    PS: ("community_services", "Independent professional advice for the council.",
         ("Clear, independent advice delivered on time", "Recommendations the council can act on",
          "Knowledge is shared with council staff")),
    HH: ("social_care", "Housing support that prevents homelessness and helps people keep a home.",
         ("Fewer people sleep rough", "People move on into settled homes",
          "People keep their tenancies")),
    CHS: ("community_services", "Culture, heritage and sport that bring communities together.",
          ("More residents take part in culture and sport", "Better wellbeing for people who take part",
           "Local heritage is enjoyed and looked after")),
}
LIGHT_TOUCH_CATEGORIES = frozenset({ASC, CF, ES, PH, HH})
# How long ago the last change happened, for each state after publication.
DAYS_SINCE_CHANGE = {lifecycle.EVALUATING: 3, lifecycle.AWARD_RECOMMENDED: 2, lifecycle.STANDSTILL: 4,
                     lifecycle.AWARDED: 20, lifecycle.CANCELLED: 5}


# Opportunities: building them -----------------------------------------------------------------------------

def _places(localities: tuple[str, ...]) -> str:
    """'the whole county', 'Thanet' or 'Canterbury, Dover and Thanet'."""
    if localities == COUNTY:
        return "the whole county"
    names = [locality_name(slug) for slug in localities]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _timetable(plan: OpportunityPlan, state: str, clock: Clock) -> dict:
    """Deadlines at midday UK time; publication at 9am, at least TENDER_DAYS before the deadline. Public states
    were published at least a day ago; drafts and those awaiting approval publish in the future."""
    publish_in = plan.deadline_in - TENDER_DAYS
    public = state in lifecycle.PUBLIC_STATES
    if public:
        publish_in = min(publish_in, -1)
    submission = clock.at(plan.deadline_in)
    publication = clock.at(publish_in, hour=9)
    return {"publication_date": publication, "published_at": publication if public else None,
            "model_frozen_at": publication if public else None,
            "clarification_deadline": submission - timedelta(days=CLARIFICATION_GAP_DAYS),
            "submission_deadline": submission}


def _contract(plan: OpportunityPlan, clock: Clock) -> dict:
    """The contract starts on the first of a month at least two months after the deadline."""
    after = clock.day(plan.deadline_in + 60)
    start = date(after.year + after.month // 12, after.month % 12 + 1, 1)
    months = 12 if plan.value < 100_000 else 24 if plan.value < 500_000 else 36 if plan.value < 1_500_000 else 60
    return {"contract_start": start, "contract_months": months}


def _history(state: str, times: dict, clock: Clock) -> dict:
    """Written two weeks before publication; last changed when it reached its state (published when it opened,
    its deadline when it closed, a few days ago for the later states)."""
    published = times["published_at"]
    if published is None:
        return {"created_at": clock.now - timedelta(days=12), "updated_at": clock.now - timedelta(days=1)}
    if state == lifecycle.PUBLISHED:
        changed = published
    elif state == lifecycle.CLOSED:
        changed = times["submission_deadline"]
    else:
        changed = max(published, clock.now - timedelta(days=DAYS_SINCE_CHANGE[state]))
    return {"created_at": published - timedelta(days=14), "updated_at": changed}


def _procedure(plan: OpportunityPlan, below: bool) -> str:
    if below:
        return "below_threshold_open"
    return "light_touch" if plan.category in LIGHT_TOUCH_CATEGORIES else "open"


def _summary(plan: OpportunityPlan) -> str:
    return (f"{CATEGORY_TEXT[plan.category][1]} Kent County Council is looking for a provider for this service, "
            f"covering {_places(plan.localities)}. The specification describes the service in full: ask a "
            "clarification question before the clarification deadline if anything is unclear.")


def _question_for(spec: model_rules.CriterionSpec) -> str:
    if spec.kind == model_rules.PASS_FAIL:
        return f"Confirm, with evidence: {spec.title[0].lower() + spec.title[1:]}."
    if model_rules.is_panel_scored(spec):
        return f"{spec.title}: describe your approach, with evidence from similar work."
    return ""


def _criterion(position: int, spec: model_rules.CriterionSpec) -> Criterion:
    """A stored criterion from a template's spec, shaped as the evaluation model pages save them."""
    panel = model_rules.is_panel_scored(spec)
    formula = spec.kind in (model_rules.PRICE, model_rules.LOCAL_ECONOMY)
    return Criterion(
        position=position, kind=spec.kind, title=spec.title, question=_question_for(spec), weight=spec.weight,
        scale_max=spec.scale_max,
        descriptors=list(model_rules.DEFAULT_DESCRIPTORS) if panel and spec.scale_max == 5 else [],
        min_score=spec.min_score if panel else None, word_limit=spec.word_limit,
        method=spec.method if formula else None, params=dict(spec.params) if formula else {},
        scores_location=spec.scores_location)


def _model(plan: OpportunityPlan) -> EvaluationModel:
    if not plan.complete:
        return EvaluationModel()
    specs = template_criteria(CATEGORY_TEXT[plan.category][0])
    return EvaluationModel(criteria=[_criterion(position, spec) for position, spec in enumerate(specs)])


def _opportunity(plan: OpportunityPlan, state: str, author: User, officer: User, clock: Clock) -> Opportunity:
    below = below_threshold(D(plan.value))
    times = _timetable(plan, state, clock)
    approved = state in lifecycle.PUBLIC_STATES
    opportunity = Opportunity(
        reference=next_reference(), title=plan.title, summary=_summary(plan),
        outcomes=list(CATEGORY_TEXT[plan.category][2]), category=plan.category, localities=list(plan.localities),
        estimated_value=D(plan.value), procedure=_procedure(plan, below),
        reservation=plan.reservation if below else RESERVATION_NONE, contact_name=author.full_name,
        contact_email=author.email, status=state, created_by_id=author.id,
        approved_by_id=officer.id if approved else None,
        cancel_reason=plan.note if state == lifecycle.CANCELLED else None,
        return_reason=plan.note if state == lifecycle.DRAFT else None,
        **times, **_contract(plan, clock), **_history(state, times, clock))
    opportunity.lots = [Lot(number=number, title=lot.title, estimated_value=D(lot.value),
                            localities=list(lot.localities),
                            description=f"{plan.title}: the service in {_places(lot.localities)}.")
                        for number, lot in enumerate(plan.lots, 1)]
    opportunity.models = [_model(plan)]
    return opportunity


def _pdf(lines: list[str]) -> bytes:
    """A one-page PDF of the lines (Helvetica, WinAnsi), enough for a demo specification."""
    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    stream = ("BT /F1 11 Tf 72 780 Td 15 TL " + " ".join(f"({escape(line)}) '" for line in lines) + " ET")
    content = stream.encode("cp1252", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _specification(opportunity: Opportunity, author: User) -> OpportunityDocument:
    lines = [f"{opportunity.reference}: {opportunity.title}", "Specification (demonstration document)", ""]
    lines += textwrap.wrap(opportunity.summary, 90) + ["", "Outcomes sought:"]
    lines += [f"- {outcome}" for outcome in opportunity.outcomes]
    stored = documents.store(f"{opportunity.reference} specification.pdf", _pdf(lines))
    return OpportunityDocument(kind="specification", title="Specification", filename=stored.filename,
                               content_type=stored.content_type, size=stored.size, sha256=stored.sha256,
                               storage_key=stored.storage_key, uploaded_at=opportunity.created_at,
                               uploaded_by_id=author.id)


def _record_opportunity(opportunity: Opportunity, **details) -> None:
    audit.record("opportunity.seeded", "opportunity", opportunity.id, actor=ACTOR,
                 details={"reference": opportunity.reference, "title": opportunity.title,
                          "status": opportunity.status, "created_by_id": opportunity.created_by_id,
                          "approved_by_id": opportunity.approved_by_id, **details})


def _seed_opportunities(cast: Cast, clock: Clock, summary: CommissioningSummary) -> dict[str, Opportunity]:
    """The planned opportunities not already present (by title); returns the new ones by title."""
    titles = [plan.title for plans in PLANS.values() for plan in plans]
    existing = set(db.session.execute(sa.select(Opportunity.title).where(Opportunity.title.in_(titles))).scalars())
    created: dict[str, Opportunity] = {}
    for index, (state, plan) in enumerate((s, p) for s, plans in PLANS.items() for p in plans):
        if plan.title in existing:
            continue
        author = cast.author(index)
        opportunity = _opportunity(plan, state, author, cast.officer, clock)
        if plan.complete:
            opportunity.documents.append(_specification(opportunity, author))
        db.session.add(opportunity)
        db.session.flush()
        _record_opportunity(opportunity)
        summary.opportunities[state] += 1
        created[plan.title] = opportunity
    return created


# Clarification questions ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class QuestionPlan:
    opportunity: str  # title
    asker: int  # index of the organisation owner in seed order
    text: str
    answer: str | None = None  # None: not answered yet
    visibility: str | None = None
    published_text: str | None = None  # the wording published, when staff changed it to hide the asker


Q = QuestionPlan
QUESTIONS: tuple[QuestionPlan, ...] = (
    Q("Dementia day opportunities in Thanet", 0, "Is TUPE likely to apply to the staff of the current provider?",
      "Yes. The current provider employs nine staff who may transfer. Anonymised TUPE information will be shared "
      "with bidders who ask for it by email.", PUBLIC),
    Q("Dementia day opportunities in Thanet", 9, "We already run a dementia café in our own hall in Margate. Could "
      "our hall count towards the premises requirement in section 4?",
      "Yes, provided it meets the accessibility standards in section 4.2. Describe it in your answer to the "
      "outcomes question.", PRIVATE),
    Q("Dementia day opportunities in Thanet", 17, "Is transport to and from the day service included in the "
      "price?"),
    Q("Youth service in Swale", 2, "Can a group of local youth organisations bid together, with one of them "
      "leading?",
      "Yes. One organisation must be the lead provider and hold the contract; name the others as consortium "
      "members or subcontractors in your bid.", PUBLIC),
    Q("Youth service in Swale", 14, "How many young people used the service last year?"),
    Q("Stop smoking service in Dartford and Gravesham", 6, "Will the council supply nicotine replacement therapy, "
      "or must it be included in the price?",
      "The council supplies nicotine replacement therapy through pharmacies. Do not include it in your price.",
      PUBLIC),
    Q("Fly-tipping clearance – Swale", 5, "Our firm runs electric tipper lorries from our Sittingbourne depot. "
      "Would that score under public value?",
      "Yes. Lower emissions from the vehicles used for the contract are one of the public value measures; give "
      "the number of vehicles and the share of contract mileage they will cover.", PUBLIC,
      "Would using electric vehicles for the work score under public value?"),
    Q("Digital inclusion support for residents", 11, "Can we bid for part of the county only?",
      "No. The service covers the whole county and has no lots; you may subcontract parts of it to local "
      "organisations.", PUBLIC),
    Q("Digital inclusion support for residents", 20, "Our bid relies on our own laptop-lending scheme with the "
      "Maidstone libraries. Would the council pay for insurance of the lent devices under this contract?",
      "Insurance of devices you own and lend is your cost and should be in your price.", PRIVATE),
    Q("Family hub activities in Gravesham", 16, "Are the family hub buildings open on Saturdays?",
      "Yes, from 9am to 1pm. Sessions outside those hours can use other community venues.", PUBLIC),
    Q("Family hub activities in Gravesham", 22, "Is there a minimum number of sessions each week?"),
    Q("Befriending service for isolated older people – Tonbridge & Malling", 8, "Can volunteers' travel expenses "
      "be included in the price?",
      "Yes. Show volunteer expenses as a separate line in your price schedule.", PUBLIC),
    Q("Winter gritting route support – Maidstone", 27, "How many call-outs should we expect in a typical winter?",
      "Between 40 and 70 in the last five winters; the specification's appendix B gives each year.", PUBLIC),
    Q("Winter gritting route support – Maidstone", 31, "Will the council provide the salt, or must the contractor "
      "supply it?"),
    Q("Healthy weight programme for families – Thanet", 15, "We plan to run sessions in our own teaching kitchen "
      "in Ramsgate. Do we need a separate food hygiene rating for each venue?",
      "Each venue where food is prepared needs its own food hygiene registration. Your kitchen's rating "
      "applies to sessions held there.", PRIVATE),
)


def _question(plan: QuestionPlan, opportunity: Opportunity, number: int, asker: User) -> Question:
    """Asked a day or more after publication; answered (when it is) the next day by the opportunity's author."""
    asked = opportunity.published_at + timedelta(days=1 + number, hours=2)
    question = Question(opportunity_id=opportunity.id, organisation_id=asker.membership.organisation_id,
                        asked_by_id=asker.id, text=plan.text, asked_at=asked)
    if plan.answer is not None:
        question.answer, question.visibility = plan.answer, plan.visibility
        question.published_text = plan.published_text or plan.text
        question.answered_by_id = opportunity.created_by_id
        question.answered_at = asked + timedelta(days=1, hours=3)
    return question


def _seed_questions(created: dict[str, Opportunity], cast: Cast, summary: CommissioningSummary) -> None:
    asked: Counter = Counter()
    for plan in QUESTIONS:
        opportunity = created.get(plan.opportunity)
        if opportunity is None:
            continue
        question = _question(plan, opportunity, asked[plan.opportunity], cast.owners[plan.asker])
        asked[plan.opportunity] += 1
        db.session.add(question)
        db.session.flush()
        state = question.visibility or "unanswered"
        audit.record("clarification.seeded", "question", question.id, actor=ACTOR,
                     details={"opportunity_id": opportunity.id, "organisation_id": question.organisation_id,
                              "state": state})
        summary.questions[state] += 1


# Right to bid ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ServicePlan:
    name: str
    category: str
    locality: str
    annual_cost: int
    window: tuple[int, int]  # days from today
    next_window: tuple[int, int] | None
    description: str


S = ServicePlan
SERVICES: tuple[ServicePlan, ...] = (
    S("Library home delivery service – Canterbury", CL, "canterbury", 85_000, (-30, 30), None,
      "Volunteers take library books and audiobooks to residents who cannot get to a library."),
    S("Youth club sessions – Gravesham", CF, "gravesham", 120_000, (-10, 50), None,
      "Three evening youth clubs a week in Gravesend and Northfleet, with detached youth work in the summer."),
    S("Community wardens – Swale", CL, "swale", 210_000, (-45, 15), (200, 260),
      "Uniformed wardens who reassure residents, tackle anti-social behaviour and link people to services."),
    S("Countryside volunteer rangers – Sevenoaks", EW, "sevenoaks", 60_000, (-5, 85), None,
      "Volunteer rangers who look after footpaths, woodland and nature reserves around Sevenoaks."),
    S("Day centre for older people – Dover", ASC, "dover", 340_000, (-150, -60), (120, 180),
      "A day centre in Dover offering meals, activities and personal care five days a week."),
    S("Adult education outreach – Thanet", ES, "thanet", 150_000, (-160, -70), None,
      "Short courses in English, maths and digital skills held in community venues across Thanet."),
    S("Household waste reuse shop – Maidstone", EW, "maidstone", 95_000, (-140, -50), (90, 150),
      "A shop at the Maidstone household waste recycling centre selling donated furniture and goods."),
    S("Family hub café – Ashford", CF, "ashford", 40_000, (20, 80), None,
      "A community café in the Ashford family hub, open on weekdays, offering training to young parents."),
    S("Community transport dial-a-ride – Tonbridge & Malling", HT, "tonbridge-malling", 180_000, (45, 105), None,
      "Door-to-door minibus journeys for people who cannot use public transport."),
    S("Heritage site guiding – Folkestone & Hythe", CHS, "folkestone-hythe", 30_000, (30, 90), None,
      "Guided walks and open days at heritage sites along the Folkestone and Hythe coast."),
)


@dataclass(frozen=True)
class ProposalPlan:
    service: str  # name
    proposer_type: str
    submitted: int  # days from today (negative)
    status: str = rules.SUBMITTED
    decided: int | None = None  # days from today
    ground: str | None = None
    reasons: str | None = None
    modification: str | None = None


R = ProposalPlan
PROPOSALS: tuple[ProposalPlan, ...] = (
    R("Day centre for older people – Dover", rules.VOLUNTARY_COMMUNITY, -83),
    R("Household waste reuse shop – Maidstone", rules.STAFF_GROUP, -95),
    R("Community wardens – Swale", rules.PARISH_COUNCIL, -12),
    R("Adult education outreach – Thanet", rules.CHARITY, -120, rules.ACCEPTED, -40,
      reasons="The proposal shows strong local partnerships and a realistic plan to reach more learners. The "
              "council will run a procurement exercise for the service."),
    R("Day centre for older people – Dover", rules.PROVIDER, -110, rules.ACCEPTED_MODIFIED, -30,
      reasons="The business case is sound. The council accepts it with the agreed change to opening days.",
      modification="The centre will open on six days a week, including Saturdays, rather than five."),
    R("Household waste reuse shop – Maidstone", rules.PROVIDER, -125, rules.REJECTED, -45,
      ground="materially_inaccurate",
      reasons="The business case gives the shop's income as three times the figure in the council's accounts, "
              "and the staffing plan does not cover the centre's opening hours."),
    R("Library home delivery service – Canterbury", rules.VOLUNTARY_COMMUNITY, -25, rules.REJECTED, -3,
      ground="negotiating",
      reasons="The council is already negotiating in writing with Kent libraries' volunteer partner to extend "
              "the current home delivery service."),
)

STAFF_GROUP_MEMBERS = ({"name": "Jo Baker", "job_title": "Recycling centre supervisor"},
                       {"name": "Ravi Shah", "job_title": "Reuse shop assistant"},
                       {"name": "Mel Green", "job_title": "Site operative"})


def _business_case(service: ServicePlan, proposer_name: str) -> dict:
    return {
        "outcomes": f"Keep {service.name} running for local people\nInvolve users in how it is run\n"
                    "Bring in volunteers and outside funding",
        "cost_and_savings": f"We would run the service for 5% less than its current cost of "
                            f"£{service.annual_cost:,} a year, by sharing premises and back-office costs.",
        "staffing": "Current staff would transfer on their existing terms; volunteers would add capacity.",
        "social_value": f"Local jobs and volunteering in {locality_name(service.locality)}, and surplus "
                        "reinvested in the service.",
        "capacity": f"{proposer_name} already runs similar services and has a management team in place.",
        "evidence": "Three years of audited accounts and letters of support from users are available.",
        "financial_resources": "Reserves equal to four months of running costs, and a bank facility agreed.",
        "capability": "Our trustees and managers have run services of this size for more than five years.",
    }


def _service(plan: ServicePlan, clock: Clock) -> CatalogueService:
    next_opens, next_closes = (clock.day(plan.next_window[0]), clock.day(plan.next_window[1])) \
        if plan.next_window else (None, None)
    return CatalogueService(name=plan.name, description=plan.description, annual_cost=D(plan.annual_cost),
                            locality=plan.locality, category=plan.category, window_opens=clock.day(plan.window[0]),
                            window_closes=clock.day(plan.window[1]), next_window_opens=next_opens,
                            next_window_closes=next_closes, created_at=clock.at(plan.window[0] - 14, hour=10))


def _proposer(plan: ProposalPlan, cast: Cast, number: int) -> tuple[User, Organisation | None]:
    """A seeded owner whose organisation may propose as this kind of body (a staff mutual's owner for a group of
    employees, who propose as themselves)."""
    if plan.proposer_type == rules.STAFF_GROUP:
        return cast.owner_of_type(frozenset({"staff_mutual"})), None
    owner = cast.owner_of_type(rules.ORGANISATION_TYPES_FOR[plan.proposer_type], skip=number)
    return owner, owner.membership.organisation


def _proposal(plan: ProposalPlan, service: CatalogueService, cast: Cast, clock: Clock, number: int) -> Proposal:
    owner, organisation = _proposer(plan, cast, number)
    name = organisation.legal_name if organisation else rules.STAFF_GROUP_PUBLIC_NAME
    staff_group = plan.proposer_type == rules.STAFF_GROUP
    proposal = Proposal(
        reference=next_proposal_reference(), service_id=service.id, proposer_type=plan.proposer_type,
        organisation_id=organisation.id if organisation else None, submitted_by_id=owner.id, proposer_name=name,
        staff_members=list(STAFF_GROUP_MEMBERS) if staff_group else [],
        effect_on_employees="Other staff at the centre would keep their jobs and terms; we would consult them "
                            "before any change." if staff_group else None,
        submitted_at=clock.at(plan.submitted, hour=11), status=plan.status,
        decision_due=rules.decision_due(clock.day(plan.submitted), decision_days()),
        **_business_case(next(s for s in SERVICES if s.name == plan.service), name))
    if plan.status != rules.SUBMITTED:
        proposal.decision_ground, proposal.decision_reasons = plan.ground, plan.reasons
        proposal.modification = plan.modification
        proposal.modification_agreed = plan.status == rules.ACCEPTED_MODIFIED
        proposal.decided_by_id, proposal.decided_at = cast.officer.id, clock.at(plan.decided, hour=15)
    return proposal


def _procurement_from(proposal: Proposal, service: CatalogueService, lead: User) -> Opportunity:
    """The draft an acceptance starts, as the right-to-bid decision makes it: the service's details, the
    proposal's outcomes, an empty evaluation model, owned by the lead commissioner."""
    summary = (f"{service.description}\n\nThis procurement follows right-to-bid proposal {proposal.reference} "
               f"from {proposal.proposer_name}.")
    if proposal.modification:
        summary += f"\n\nAgreed modification: {proposal.modification}"
    return Opportunity(
        reference=next_reference(), title=service.name, summary=summary,
        outcomes=[line.strip() for line in proposal.outcomes.splitlines() if line.strip()],
        category=service.category, localities=[service.locality], estimated_value=service.annual_cost,
        status=lifecycle.DRAFT, created_by_id=lead.id, contact_name=lead.full_name, contact_email=lead.email,
        models=[EvaluationModel()], created_at=proposal.decided_at, updated_at=proposal.decided_at)


def _seed_proposals(services: dict[str, CatalogueService], cast: Cast, clock: Clock,
                    summary: CommissioningSummary) -> None:
    for number, plan in enumerate(PROPOSALS):
        service = services.get(plan.service)
        if service is None:
            continue
        proposal = _proposal(plan, service, cast, clock, number)
        db.session.add(proposal)
        db.session.flush()
        if rules.is_acceptance(plan.status):
            opportunity = _procurement_from(proposal, service, cast.commissioner)
            db.session.add(opportunity)
            db.session.flush()
            proposal.opportunity_id = opportunity.id
            _record_opportunity(opportunity, proposal=proposal.reference)
            summary.opportunities[lifecycle.DRAFT] += 1
        audit.record("right_to_bid.proposal_seeded", "proposal", proposal.id, actor=ACTOR,
                     details={"reference": proposal.reference, "service_id": service.id, "status": proposal.status,
                              "ground": proposal.decision_ground, "opportunity_id": proposal.opportunity_id})
        summary.proposals[proposal.status] += 1


def _seed_right_to_bid(cast: Cast, clock: Clock, summary: CommissioningSummary) -> None:
    """The catalogue services not already present (by name), and the proposals made about them."""
    names = [plan.name for plan in SERVICES]
    existing = set(db.session.execute(
        sa.select(CatalogueService.name).where(CatalogueService.name.in_(names))).scalars())
    created: dict[str, CatalogueService] = {}
    for plan in SERVICES:
        if plan.name in existing:
            continue
        service = _service(plan, clock)
        db.session.add(service)
        db.session.flush()
        audit.record("right_to_bid.service_seeded", "catalogue_service", service.id, actor=ACTOR,
                     details={"name": service.name, "window_opens": service.window_opens.isoformat(),
                              "window_closes": service.window_closes.isoformat()})
        summary.services += 1
        created[plan.name] = service
    _seed_proposals(created, cast, clock, summary)


# Saved searches and saved opportunities -------------------------------------------------------------------

SAVED_SEARCHES: tuple[tuple[int, str, SearchCriteria], ...] = (
    (0, "Care in East Kent", SearchCriteria(categories=(ASC,), localities=("canterbury", "dover", "thanet"))),
    (0, "Reserved for small Kent organisations", SearchCriteria(reserved="yes", values=("under-25k", "25k-100k"))),
    (1, "Youth work in Swale", SearchCriteria(keywords="youth", localities=("swale",))),
)
WATCHES: tuple[tuple[int, str], ...] = (
    (0, "Dementia day opportunities in Thanet"),
    (0, "Home care for older people – East Kent"),
    (0, "Carers' support service – county-wide"),
    (1, "Youth service in Swale"),
    (1, "Fly-tipping clearance – Swale"),
)


def _seed_saved_searches(cast: Cast, clock: Clock, summary: CommissioningSummary) -> None:
    for owner_index, name, criteria in SAVED_SEARCHES:
        owner = cast.owners[owner_index]
        if db.session.execute(sa.select(SavedSearch.id).filter_by(user_id=owner.id, name=name)).first():
            continue
        saved = SavedSearch(user_id=owner.id, name=name, criteria=criteria.to_args(), created_at=clock.now)
        db.session.add(saved)
        db.session.flush()
        audit.record("saved_search.seeded", "saved_search", saved.id, actor=ACTOR,
                     details={"user_id": owner.id, "name": name, "criteria": saved.criteria})
        summary.saved_searches += 1


def _seed_watches(cast: Cast, clock: Clock, summary: CommissioningSummary) -> None:
    ids = dict(db.session.execute(sa.select(Opportunity.title, Opportunity.id)
                                  .where(Opportunity.title.in_([title for _, title in WATCHES]))).all())
    for owner_index, title in WATCHES:
        owner = cast.owners[owner_index]
        if title not in ids or db.session.get(Watch, (owner.id, ids[title])) is not None:
            continue
        db.session.add(Watch(user_id=owner.id, opportunity_id=ids[title], created_at=clock.now))
        audit.record("opportunity.watch_seeded", "opportunity", ids[title], actor=ACTOR,
                     details={"user_id": owner.id})
        summary.watches += 1


# The entry point ------------------------------------------------------------------------------------------

def seed_commissioning(cast: Cast, now: datetime) -> CommissioningSummary:
    """Add whatever commissioning demo data is missing, in the caller's transaction (the caller commits)."""
    clock = Clock(now)
    summary = CommissioningSummary()
    created = _seed_opportunities(cast, clock, summary)
    _seed_questions(created, cast, summary)
    _seed_right_to_bid(cast, clock, summary)
    _seed_saved_searches(cast, clock, summary)
    _seed_watches(cast, clock, summary)
    return summary
