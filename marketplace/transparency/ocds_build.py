"""Open Contracting Data Standard (OCDS 1.1) releases from plain facts (pure: no Flask, no database).

`releases(process, prefix, now)` turns one published opportunity's facts into one release per state change, each
a snapshot of what was public at that moment:

    tender               on publication
    tenderAmendment      on each amendment notice
    tenderUpdate         at the submission deadline (bid statistics become public)
    award                on the award notice, when standstill starts (the award is `pending`)
    awardUpdate+contract on confirmation (the award is `active`, the contract is published)
    awardCancellation    when an award is cancelled
    tenderCancellation   on cancellation

What is sealed stays sealed: nothing about any bid before the submission deadline (not even a count); after it,
only statistics; bid details (tenderers, status, value) only from the award notice; never a bid's content.
Extensions used: Bids (`bids.statistics`, `bids.details`, `award.relatedBid`), Lots (`tender.lots`) and the UK
extension (`details.vcse`, `details.publicServiceMissionOrganization`, `standstillPeriod`, `aboveThreshold`,
`finalStatusDate`, `durationInMonths`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Iterable

from marketplace.organisations.choices import SME_SIZES, VCSE_TYPES
from marketplace.timeutil import LONDON, as_utc

VERSION = "1.1"
CURRENCY = "GBP"
EXTENSIONS = (
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_bid_extension/v1.1.5/extension.json",
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_lots_extension/v1.1.5/extension.json",
    "https://raw.githubusercontent.com/cabinetoffice/ocds_uk_extension/main/extension.json",
)
LICENSE = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"

BUYER_SCHEME, BUYER_ID, BUYER_NAME = "GB-LAE", "KEN", "Kent County Council"  # Local Authorities (England) register
BUYER = {"id": f"{BUYER_SCHEME}-{BUYER_ID}", "name": BUYER_NAME}
BUYER_ADDRESS = {"streetAddress": "Sessions House, County Hall", "locality": "Maidstone", "postalCode": "ME14 1XQ",
                 "countryName": "United Kingdom"}
PUBLIC_SERVICE_MUTUAL = "staff_mutual"

# Our procedures in the OCDS `method` codelist.
PROCUREMENT_METHODS = {"open": "open", "competitive_flexible": "selective", "below_threshold_open": "open",
                       "light_touch": "open"}
SPECIAL_REGIMES = {"light_touch": ["lightTouch"]}

# The category-management taxonomy, classified with the Common Procurement Vocabulary (CPV).
CPV = {
    "adult-social-care": ("85300000", "Social work and related services"),
    "children-and-families": ("85311300", "Welfare services for children and young people"),
    "education-and-skills": ("80000000", "Education and training services"),
    "public-health": ("85100000", "Health services"),
    "community-and-libraries": ("92500000", "Library, archives, museums and other cultural services"),
    "highways-and-transport": ("60000000", "Transport services (excl. Waste transport)"),
    "environment-and-waste": ("90000000", "Sewage, refuse, cleaning and environmental services"),
    "property-and-facilities": ("79993000", "Building and facilities management services"),
    "ict-and-digital": ("72000000", "IT services: consulting, software development, Internet and support"),
    "professional-services": ("79000000", "Business services: law, marketing, consulting, recruitment, printing "
                                          "and security"),
    "housing-and-homelessness": ("85311000", "Social work services with accommodation"),
    "culture-heritage-and-sport": ("92000000", "Recreational, cultural and sporting services"),
}
CATEGORY_SCHEME = "x_KCC-category"

# Our opportunity documents in the OCDS `documentType` codelist.
DOCUMENT_TYPES = {"specification": "technicalSpecifications", "draft_contract": "contractDraft",
                  "other": "biddingDocuments"}

# Bid statuses in the Bids extension's `bidStatus` codelist (withdrawn versions never count, so never appear).
BID_STATUSES = {"submitted": "pending", "opened": "pending", "compliant": "valid", "evaluated": "valid",
                "successful": "valid", "unsuccessful": "valid", "excluded": "disqualified"}
FINAL_STAGE = frozenset({"compliant", "evaluated", "successful", "unsuccessful"})

APPROVED, CONFIRMED, CANCELLED = "approved", "confirmed", "cancelled"


# Facts in --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Organisation:
    id: int
    name: str
    org_type: str
    size: str | None = None
    companies_house_number: str | None = None
    charity_number: str | None = None

    @property
    def is_vcse(self) -> bool:
        return self.org_type in VCSE_TYPES

    @property
    def is_sme(self) -> bool:
        return self.size in SME_SIZES


@dataclass(frozen=True)
class Lot:
    number: int
    title: str
    description: str
    value: Decimal


@dataclass(frozen=True)
class Amendment:
    id: int
    published_at: datetime
    summary: str
    previous_deadline: datetime | None
    new_deadline: datetime | None


@dataclass(frozen=True)
class Document:
    id: int
    kind: str
    title: str
    url: str
    content_type: str
    uploaded_at: datetime


@dataclass(frozen=True)
class Tender:
    """The opportunity as the public sees it."""

    reference: str
    title: str
    summary: str
    category: str
    category_name: str
    estimated_value: Decimal
    procedure: str
    procedure_name: str
    published_at: datetime
    submission_deadline: datetime | None
    url: str
    clarification_deadline: datetime | None = None
    contract_start: date | None = None
    contract_end: date | None = None
    contract_months: int | None = None
    eligibility: str | None = None  # the reservation in words, when reserved
    award_criteria: str | None = None  # the evaluation model in words
    above_threshold: bool | None = None
    contact_name: str = ""
    contact_email: str = ""
    lots: tuple[Lot, ...] = ()
    amendments: tuple[Amendment, ...] = ()
    documents: tuple[Document, ...] = ()
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None


@dataclass(frozen=True)
class Bid:
    """A counting sealed version: who bid, when, for which lots, and (shown only from the award notice) its
    status and total price."""

    id: int
    organisation: Organisation
    received_at: datetime
    status: str
    value: Decimal | None = None
    lot_numbers: tuple[int, ...] = ()


@dataclass(frozen=True)
class Award:
    """An award whose notice has been published."""

    id: int
    bid_id: int
    status: str  # approved (standstill) | confirmed | cancelled
    notice_at: datetime
    standstill_ends_on: date | None = None
    confirmed_at: datetime | None = None
    cancelled_at: datetime | None = None


@dataclass(frozen=True)
class Contract:
    id: int
    reference: str
    award_id: int
    title: str
    value: Decimal
    start_date: date
    end_date: date
    description: str = ""


@dataclass(frozen=True)
class Process:
    """Everything public about one contracting process. `bids` may be left empty before the deadline: they are
    ignored then anyway."""

    tender: Tender
    bids: tuple[Bid, ...] = ()
    awards: tuple[Award, ...] = ()
    contracts: tuple[Contract, ...] = ()


# Small conversions ----------------------------------------------------------------------------------------

def stamp(moment: datetime) -> str:
    """An RFC 3339 UTC timestamp to the second."""
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def day_start(day: date) -> str:
    return datetime.combine(day, time(0, 0), tzinfo=LONDON).isoformat()


def day_end(day: date) -> str:
    return datetime.combine(day, time(23, 59, 59), tzinfo=LONDON).isoformat()


def amount(value: Decimal) -> int | float:
    """A JSON number for money (pence survive: the shortest float repr of a 2-place value is that value)."""
    return int(value) if value == value.to_integral_value() else float(value)


def money(value: Decimal) -> dict:
    return {"amount": amount(value), "currency": CURRENCY}


def ocid(prefix: str, reference: str) -> str:
    return f"{prefix}-{reference}"


def _compact(values: dict) -> dict:
    """Leave out what is not known, so that no field is published empty."""
    return {key: value for key, value in values.items() if value not in (None, "", [], {})}


# Parties ------------------------------------------------------------------------------------------------

def _identifiers(organisation: Organisation) -> list[dict]:
    found = []
    if organisation.companies_house_number:
        found.append({"scheme": "GB-COH", "id": organisation.companies_house_number})
    if organisation.charity_number:
        found.append({"scheme": "GB-CHC", "id": organisation.charity_number})
    return [{**identifier, "legalName": organisation.name} for identifier in found]


def party_id(organisation: Organisation) -> str:
    """`{scheme}-{id}` of the organisation's first registration, or the marketplace's own number."""
    identifiers = _identifiers(organisation)
    return f"{identifiers[0]['scheme']}-{identifiers[0]['id']}" if identifiers else f"KCC-ORG-{organisation.id}"


def reference_to(organisation: Organisation) -> dict:
    return {"id": party_id(organisation), "name": organisation.name}


def supplier_party(organisation: Organisation, roles: list[str]) -> dict:
    identifiers = _identifiers(organisation)
    return _compact({
        "id": party_id(organisation), "name": organisation.name,
        "identifier": identifiers[0] if identifiers else None, "additionalIdentifiers": identifiers[1:],
        "roles": roles,
        "details": {"vcse": organisation.is_vcse,
                    "publicServiceMissionOrganization": organisation.org_type == PUBLIC_SERVICE_MUTUAL},
    })


def buyer_party(tender: Tender) -> dict:
    return _compact({
        **BUYER, "identifier": {"scheme": BUYER_SCHEME, "id": BUYER_ID, "legalName": BUYER_NAME},
        "address": BUYER_ADDRESS, "roles": ["buyer", "procuringEntity"],
        "contactPoint": _compact({"name": tender.contact_name, "email": tender.contact_email}),
    })


def publisher() -> dict:
    return {"name": BUYER_NAME, "scheme": BUYER_SCHEME, "uid": BUYER_ID}


# A snapshot at a moment -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Moment:
    """What had happened by `at`."""

    process: Process
    at: datetime

    @property
    def tender(self) -> Tender:
        return self.process.tender

    def happened(self, when: datetime | None) -> bool:
        return when is not None and as_utc(when) <= as_utc(self.at)

    @property
    def cancelled(self) -> bool:
        return self.happened(self.tender.cancelled_at)

    @property
    def deadline(self) -> datetime | None:
        """The submission deadline as it stood at this moment (amendments may have moved it since)."""
        later = [a for a in self.tender.amendments if not self.happened(a.published_at) and a.previous_deadline]
        if later:
            return min(later, key=lambda a: as_utc(a.published_at)).previous_deadline
        return self.tender.submission_deadline

    @property
    def closed(self) -> bool:
        """Past the deadline, and not cancelled before it: the bids received are now public as statistics."""
        deadline, cancelled = self.tender.submission_deadline, self.tender.cancelled_at
        if not self.happened(deadline):
            return False
        return cancelled is None or as_utc(cancelled) >= as_utc(deadline)

    @property
    def noticed_awards(self) -> list[Award]:
        return [a for a in self.process.awards if self.happened(a.notice_at)]

    @property
    def awarded(self) -> bool:
        """An award notice has been published: bid details are public from here."""
        return bool(self.noticed_awards)

    def award_status(self, award: Award) -> str:
        if self.happened(award.cancelled_at):
            return "cancelled"
        if award.status == CONFIRMED and self.happened(award.confirmed_at):
            return "active"
        return "pending"

    @property
    def confirmed_award(self) -> Award | None:
        return next((a for a in self.noticed_awards if self.award_status(a) == "active"), None)

    @property
    def bids(self) -> tuple[Bid, ...]:
        return self.process.bids if self.closed else ()


def _tender_status(moment: Moment) -> str:
    if moment.cancelled:
        return "cancelled"
    return "complete" if moment.confirmed_award else "active"


def _final_status_date(moment: Moment) -> str | None:
    if moment.cancelled:
        return stamp(moment.tender.cancelled_at)
    award = moment.confirmed_award
    return stamp(award.confirmed_at) if award else None


def _classification(tender: Tender) -> dict:
    code, label = CPV.get(tender.category, ("", ""))
    return _compact({"scheme": "CPV", "id": code, "description": label}) if code else {
        "scheme": CATEGORY_SCHEME, "id": tender.category, "description": tender.category_name}


def _items(tender: Tender) -> list[dict]:
    category = {"scheme": CATEGORY_SCHEME, "id": tender.category, "description": tender.category_name}
    base = {"classification": _classification(tender), "additionalClassifications": [category]}
    if not tender.lots:
        return [{"id": "1", "description": tender.title, **base}]
    return [{"id": str(lot.number), "description": lot.title, "relatedLot": str(lot.number), **base}
            for lot in tender.lots]


def _lot(lot: Lot, status: str) -> dict:
    return _compact({"id": str(lot.number), "title": lot.title, "description": lot.description,
                     "value": money(lot.value), "status": status})


def _contract_period(tender: Tender) -> dict:
    return _compact({"startDate": day_start(tender.contract_start) if tender.contract_start else None,
                     "endDate": day_end(tender.contract_end) if tender.contract_end else None,
                     "durationInMonths": tender.contract_months})


def _documents(moment: Moment) -> list[dict]:
    tender = moment.tender
    notice = {"id": "notice", "documentType": "tenderNotice", "title": f"Opportunity notice: {tender.title}",
              "url": tender.url, "format": "text/html", "datePublished": stamp(tender.published_at)}
    published = [_document(d, tender) for d in tender.documents
                 if moment.happened(max(as_utc(d.uploaded_at), as_utc(tender.published_at)))]
    amendments = [{"id": f"amendment-{a.id}", "documentType": "tenderNotice", "title": "Amendment notice",
                   "description": a.summary, "url": f"{tender.url}#amendments", "format": "text/html",
                   "datePublished": stamp(a.published_at)}
                  for a in tender.amendments if moment.happened(a.published_at)]
    cancellation = [{"id": "cancellation", "documentType": "tenderCancellationNotice", "title": "Cancellation notice",
                     "description": tender.cancel_reason or "", "url": tender.url, "format": "text/html",
                     "datePublished": stamp(tender.cancelled_at)}] if moment.cancelled else []
    return [_compact(d) for d in [notice, *published, *amendments, *cancellation]]


def _document(document: Document, tender: Tender) -> dict:
    return {"id": str(document.id), "documentType": DOCUMENT_TYPES.get(document.kind, "biddingDocuments"),
            "title": document.title, "url": document.url, "format": document.content_type,
            "datePublished": stamp(max(as_utc(document.uploaded_at), as_utc(tender.published_at)))}


def _amendments(moment: Moment, ocid_: str) -> list[dict]:
    made = sorted((a for a in moment.tender.amendments if moment.happened(a.published_at)),
                  key=lambda a: as_utc(a.published_at))
    entries, previous = [], release_id(ocid_, "tender")
    for amendment in made:
        this = release_id(ocid_, "amendment", amendment.id)
        entries.append(_compact({
            "id": str(amendment.id), "date": stamp(amendment.published_at), "description": amendment.summary,
            "rationale": _deadline_change(amendment), "amendsReleaseID": previous, "releaseID": this}))
        previous = this
    return entries


def _deadline_change(amendment: Amendment) -> str | None:
    before, after = amendment.previous_deadline, amendment.new_deadline
    if before is None or after is None or as_utc(before) == as_utc(after):
        return None
    return f"The submission deadline moved from {stamp(before)} to {stamp(after)}."


def _tender(moment: Moment, ocid_: str) -> dict:
    tender, status = moment.tender, _tender_status(moment)
    bidders = sorted({b.organisation.id: b.organisation for b in moment.bids}.values(), key=lambda o: o.id)
    return _compact({
        "id": tender.reference, "title": tender.title, "description": tender.summary, "status": status,
        "procuringEntity": dict(BUYER),
        "items": _items(tender), "value": money(tender.estimated_value),
        "procurementMethod": PROCUREMENT_METHODS.get(tender.procedure, "open"),
        "procurementMethodDetails": tender.procedure_name, "specialRegime": SPECIAL_REGIMES.get(tender.procedure),
        "mainProcurementCategory": "services", "aboveThreshold": tender.above_threshold,
        "awardCriteria": "ratedCriteria" if tender.award_criteria else None,
        "awardCriteriaDetails": tender.award_criteria,
        "submissionMethod": ["electronicSubmission"],
        "submissionMethodDetails": "Online through the Kent Commissioning Marketplace",
        "tenderPeriod": _compact({"startDate": stamp(tender.published_at),
                                  "endDate": stamp(moment.deadline) if moment.deadline else None}),
        "enquiryPeriod": _compact({"startDate": stamp(tender.published_at),
                                   "endDate": stamp(tender.clarification_deadline)
                                   if tender.clarification_deadline else None}),
        "eligibilityCriteria": tender.eligibility, "contractPeriod": _contract_period(tender),
        "numberOfTenderers": len(bidders) if moment.closed else None,
        "tenderers": [reference_to(o) for o in bidders] if moment.awarded else None,
        "lots": [_lot(lot, status) for lot in tender.lots], "documents": _documents(moment),
        "amendments": _amendments(moment, ocid_), "finalStatusDate": _final_status_date(moment),
    })


# Bids -----------------------------------------------------------------------------------------------------

def _statistic(number: int, measure: str, value: int, at: datetime, lot: str | None = None,
               notes: str | None = None) -> dict:
    return _compact({"id": str(number), "measure": measure, "value": value, "date": stamp(at), "relatedLot": lot,
                     "notes": notes})


def statistics(moment: Moment) -> list[dict]:
    """Counts of the bids received, once the deadline has passed; final-stage counts from the award notice."""
    bids, at = moment.bids, moment.tender.submission_deadline
    if not moment.closed:
        return []
    counts: list[tuple[str, int, str | None, str | None]] = [
        ("bids", len(bids), None, None),
        ("smeBids", sum(b.organisation.is_sme for b in bids), None, None),
        ("vcseBids", sum(b.organisation.is_vcse for b in bids), None,
         "Bids from voluntary, community and social enterprises (VCSEs)"),
    ]
    counts += [("bids", sum(lot.number in b.lot_numbers for b in bids), str(lot.number), None)
               for lot in moment.tender.lots]
    if moment.awarded:
        final = [b for b in bids if b.status in FINAL_STAGE]
        counts += [("validBids", len(final), None, None), ("finalStageBids", len(final), None, None),
                   ("smeFinalStageBids", sum(b.organisation.is_sme for b in final), None, None),
                   ("vcseFinalStageBids", sum(b.organisation.is_vcse for b in final), None, None)]
    return [_statistic(n, measure, value, at, lot, notes)
            for n, (measure, value, lot, notes) in enumerate(counts, start=1)]


def _bid_detail(bid: Bid) -> dict:
    return _compact({
        "id": str(bid.id), "date": stamp(bid.received_at), "status": BID_STATUSES.get(bid.status, "pending"),
        "tenderers": [reference_to(bid.organisation)],
        "value": money(bid.value) if bid.value is not None else None,
        "relatedLots": [str(n) for n in bid.lot_numbers],
    })


def _bids(moment: Moment) -> dict | None:
    if not moment.closed:
        return None
    return _compact({"statistics": statistics(moment),
                     "details": [_bid_detail(b) for b in moment.bids] if moment.awarded else None})


# Awards and contracts -------------------------------------------------------------------------------------

def _award(moment: Moment, award: Award) -> dict:
    tender = moment.tender
    winner = next((b for b in moment.bids if b.id == award.bid_id), None)
    status = moment.award_status(award)
    final = {"active": award.confirmed_at, "cancelled": award.cancelled_at}.get(status)
    return _compact({
        "id": str(award.id), "title": tender.title, "status": status, "date": stamp(award.notice_at),
        "value": money(winner.value) if winner and winner.value is not None else None,
        "suppliers": [reference_to(winner.organisation)] if winner else None,
        "relatedBid": str(award.bid_id), "relatedLots": [str(n) for n in winner.lot_numbers] if winner else None,
        "contractPeriod": _contract_period(tender), "mainProcurementCategory": "services",
        "aboveThreshold": tender.above_threshold,
        "standstillPeriod": _compact({"startDate": stamp(award.notice_at),
                                      "endDate": day_end(award.standstill_ends_on)
                                      if award.standstill_ends_on else None}),
        "finalStatusDate": stamp(final) if final else None,
    })


def _contract(contract: Contract, tender: Tender) -> dict:
    return _compact({
        "id": contract.reference, "awardID": str(contract.award_id), "title": contract.title,
        "description": contract.description, "status": "active", "value": money(contract.value),
        "period": {"startDate": day_start(contract.start_date), "endDate": day_end(contract.end_date)},
        "aboveThreshold": tender.above_threshold,
    })


def _suppliers(moment: Moment) -> set[str]:
    winners = {a.bid_id for a in moment.noticed_awards if moment.award_status(a) != "cancelled"}
    return {party_id(b.organisation) for b in moment.bids if b.id in winners}


def _parties(moment: Moment) -> list[dict]:
    parties = [buyer_party(moment.tender)]
    if not moment.awarded:
        return parties
    suppliers, seen = _suppliers(moment), set()
    for bid in moment.bids:
        key = party_id(bid.organisation)
        if key not in seen:
            seen.add(key)
            roles = ["tenderer", "supplier"] if key in suppliers else ["tenderer"]
            parties.append(supplier_party(bid.organisation, roles))
    return parties


# Releases -------------------------------------------------------------------------------------------------

def release_id(ocid_: str, kind: str, number: int | None = None) -> str:
    return f"{ocid_}-{kind}" if number is None else f"{ocid_}-{kind}-{number}"


def snapshot(process: Process, prefix: str, at: datetime, tags: list[str], id_: str) -> dict:
    """One release: everything public about the process at `at`."""
    moment = Moment(process, at)
    ocid_ = ocid(prefix, process.tender.reference)
    awards = moment.noticed_awards
    active = {a.id for a in awards if moment.award_status(a) == "active"}
    return _compact({
        "ocid": ocid_, "id": id_, "date": stamp(at), "tag": tags, "initiationType": "tender", "language": "en",
        "parties": _parties(moment), "buyer": dict(BUYER),
        "tender": _tender(moment, ocid_), "bids": _bids(moment),
        "awards": [_award(moment, a) for a in awards],
        "contracts": [_contract(c, process.tender) for c in process.contracts if c.award_id in active],
    })


@dataclass(frozen=True, order=True)
class Change:
    """A state change that makes a release."""

    at: datetime
    order: int
    tags: tuple[str, ...] = field(compare=False)
    kind: str = field(compare=False)
    number: int | None = field(default=None, compare=False)


def changes(process: Process) -> list[Change]:
    """Every state change of the process, oldest first (not yet filtered by the clock)."""
    tender = process.tender
    found = [Change(as_utc(tender.published_at), 0, ("tender",), "tender")]
    found += [Change(as_utc(a.published_at), 1, ("tenderAmendment",), "amendment", a.id) for a in tender.amendments]
    closing = Moment(process, tender.submission_deadline) if tender.submission_deadline else None
    if closing is not None and closing.closed:
        found.append(Change(as_utc(tender.submission_deadline), 2, ("tenderUpdate",), "close"))
    found += _award_changes(process)
    if tender.cancelled_at is not None:
        with_award = any(_same_time(a.cancelled_at, tender.cancelled_at) for a in process.awards)
        tags = ("tenderCancellation", "awardCancellation") if with_award else ("tenderCancellation",)
        found.append(Change(as_utc(tender.cancelled_at), 6, tags, "cancellation"))
    return sorted(found)


def _award_changes(process: Process) -> Iterable[Change]:
    contracts = {c.award_id: c for c in process.contracts}
    for award in process.awards:
        yield Change(as_utc(award.notice_at), 3, ("award",), "award", award.id)
        if award.status == CONFIRMED and award.confirmed_at is not None:
            contract = contracts.get(award.id)
            yield (Change(as_utc(award.confirmed_at), 4, ("awardUpdate", "contract"), "contract", contract.id)
                   if contract else Change(as_utc(award.confirmed_at), 4, ("awardUpdate",), "confirmed", award.id))
        if award.cancelled_at is not None and not _same_time(award.cancelled_at, process.tender.cancelled_at):
            yield Change(as_utc(award.cancelled_at), 5, ("awardCancellation",), "award-cancelled", award.id)


def _same_time(one: datetime | None, other: datetime | None) -> bool:
    return one is not None and other is not None and as_utc(one) == as_utc(other)


def releases(process: Process, prefix: str, now: datetime) -> list[dict]:
    """A release for each state change that has happened by `now`, oldest first."""
    ocid_ = ocid(prefix, process.tender.reference)
    return [snapshot(process, prefix, change.at, list(change.tags), release_id(ocid_, change.kind, change.number))
            for change in changes(process) if change.at <= as_utc(now)]


def package(releases_: list[dict], uri: str, now: datetime, links: dict | None = None) -> dict:
    """A release package. Its date is that of the newest release (the package is made on demand)."""
    newest = max((r["date"] for r in releases_), default=stamp(now))
    found = {"uri": uri, "version": VERSION, "extensions": list(EXTENSIONS), "publishedDate": newest,
             "publisher": publisher(), "license": LICENSE}
    return {**found, **({"links": links} if links else {}), "releases": releases_}
