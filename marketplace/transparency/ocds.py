"""Open contracting data from the database: reads the rows, hands plain facts to `ocds_build`.

Only public opportunities (published, their publication time come) have releases. Bids are read only for
opportunities past their submission deadline, and a sealed version's price only once an award notice is out;
the rest of a sealed version is never read. Each page of opportunities costs the same handful of queries
whatever its size.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from marketplace.audit import AuditEvent
from marketplace.awards.models import Award, Contract
from marketplace.bids.models import Bid, BidSubmission
from marketplace.bids.submission import counting_submissions_statement
from marketplace.bids.snapshot import sealed_price
from marketplace.extensions import db
from marketplace.links import absolute_url
from marketplace.opportunities import lifecycle
from marketplace.opportunities import search as finder
from marketplace.opportunities.models import (
    PROCEDURES,
    RESERVATION_NONE,
    RESERVATIONS,
    EvaluationModel,
    Opportunity,
)
from marketplace.organisations.models import Organisation
from marketplace.settings import services as settings
from marketplace.taxonomy import category_name
from marketplace.timeutil import as_utc
from marketplace.transparency import ocds_build as build

EXPORT_BATCH = 100


def ocid_prefix() -> str:
    return settings.get("ocds_ocid_prefix")


def public_statement(now: datetime) -> sa.Select:
    """Every public opportunity, oldest publication first (the order of the bulk pages and the export)."""
    return (sa.select(Opportunity).where(finder.public_condition(now))
            .order_by(Opportunity.published_at, Opportunity.id))


# Reading the facts ----------------------------------------------------------------------------------------

def _with_details(ids: list[int]) -> list[Opportunity]:
    return list(db.session.execute(
        sa.select(Opportunity).where(Opportunity.id.in_(ids)).order_by(Opportunity.published_at, Opportunity.id)
        .options(selectinload(Opportunity.lots), selectinload(Opportunity.documents),
                 selectinload(Opportunity.amendments),
                 selectinload(Opportunity.models).selectinload(EvaluationModel.criteria))
    ).scalars())


def _events(object_type: str, ids: Iterable[int], action: sa.ColumnElement[bool]) -> dict[int, datetime]:
    """The time of the latest matching audit event of each object."""
    keys = [str(i) for i in ids]
    if not keys:
        return {}
    rows = db.session.execute(
        sa.select(AuditEvent.object_id, sa.func.max(AuditEvent.occurred_at))
        .where(AuditEvent.object_type == object_type, AuditEvent.object_id.in_(keys), action)
        .group_by(AuditEvent.object_id))
    return {int(key): as_utc(at) for key, at in rows}


def _cancellations(opportunities: list[Opportunity]) -> dict[int, datetime]:
    """When each cancelled opportunity was cancelled (the audit event; its last change when there is none)."""
    cancelled = [o for o in opportunities if o.status == lifecycle.CANCELLED]
    found = _events("opportunity", [o.id for o in cancelled], AuditEvent.action == "opportunity.cancel")
    return {o.id: found.get(o.id, as_utc(o.updated_at)) for o in cancelled}


def _counting_versions(ids: list[int]) -> list[BidSubmission]:
    """Each bid's counting sealed version on these opportunities, in one query."""
    if not ids:
        return []
    union = sa.union_all(*(counting_submissions_statement(i).order_by(None) for i in ids))
    return list(db.session.execute(sa.select(BidSubmission).from_statement(union)).scalars())


def _organisation(row: Organisation) -> build.Organisation:
    return build.Organisation(row.id, row.legal_name, row.org_type, row.size, row.companies_house_number,
                              row.charity_number)


def _bids(opportunities: list[Opportunity], noticed: set[int], now: datetime) -> dict[int, list[build.Bid]]:
    """The counting bids of the opportunities past their deadline; prices only where an award notice is out."""
    closed = [o for o in opportunities if o.submission_deadline is not None and as_utc(o.submission_deadline) <= now]
    versions = {v.bid_id: v for v in _counting_versions([o.id for o in closed])}
    rows = db.session.execute(sa.select(Bid, Organisation).join(Organisation, Organisation.id == Bid.organisation_id)
                              .where(Bid.id.in_(list(versions) or [0])).order_by(Bid.id)).all()
    lot_numbers = {lot.id: lot.number for o in closed for lot in o.lots}
    found: dict[int, list[build.Bid]] = defaultdict(list)
    for bid, organisation in rows:
        version = versions[bid.id]
        price = sealed_price(json.loads(version.content)) if bid.opportunity_id in noticed else None
        found[bid.opportunity_id].append(build.Bid(
            bid.id, _organisation(organisation), version.submitted_at, bid.status, price,
            tuple(sorted(lot_numbers[i] for i in bid.lot_ids or [] if i in lot_numbers))))
    return found


def _awards(opportunities: list[Opportunity], cancelled: dict[int, datetime],
            now: datetime) -> dict[int, list[build.Award]]:
    """Awards whose notice has been published, with when each was cancelled (if it was)."""
    rows = list(db.session.execute(
        sa.select(Award).where(Award.opportunity_id.in_([o.id for o in opportunities]),
                               Award.notice_published_at.is_not(None), Award.notice_published_at <= now)
        .order_by(Award.notice_published_at, Award.id)).scalars())
    ended = _events("award", [a.id for a in rows if a.status == build.CANCELLED],
                    AuditEvent.action.like("award.cancel%"))
    found: dict[int, list[build.Award]] = defaultdict(list)
    for award in rows:
        found[award.opportunity_id].append(build.Award(
            award.id, award.bid_id, award.status, award.notice_published_at, award.standstill_ends_on,
            award.confirmed_at, _ended(award, cancelled, ended)))
    return found


def _ended(award: Award, cancelled: dict[int, datetime], ended: dict[int, datetime]) -> datetime | None:
    """When an award stopped counting: with its opportunity's cancellation (unless it had been confirmed), or
    when it was cancelled itself."""
    if award.status == build.CONFIRMED:
        return None
    return cancelled.get(award.opportunity_id) or (ended.get(award.id) if award.status == build.CANCELLED else None)


def _contracts(opportunities: list[Opportunity]) -> dict[int, list[build.Contract]]:
    summaries = {o.id: o.summary for o in opportunities}
    found: dict[int, list[build.Contract]] = defaultdict(list)
    for contract in db.session.execute(sa.select(Contract).where(Contract.opportunity_id.in_(list(summaries)))
                                       .order_by(Contract.id)).scalars():
        found[contract.opportunity_id].append(build.Contract(
            contract.id, contract.reference, contract.award_id, contract.title, contract.value, contract.start_date,
            contract.end_date, summaries[contract.opportunity_id]))
    return found


def award_criteria(opportunity: Opportunity) -> str | None:
    """The evaluation model in the words of the public page."""
    parts = []
    for model in finder.models_in_words(opportunity):
        lines = " ".join(f"{c.title} ({c.kind}): {c.how}" for c in model.criteria)
        parts.append(f"{model.heading}: {lines}" if model.heading else lines)
    return " ".join(parts) or None


def _documents(opportunity: Opportunity) -> tuple[build.Document, ...]:
    return tuple(build.Document(d.id, d.kind, d.title,
                                absolute_url("opportunities.document", opportunity_id=opportunity.id, document_id=d.id),
                                d.content_type, d.uploaded_at)
                 for d in opportunity.documents)


def tender_facts(opportunity: Opportunity, cancelled_at: datetime | None, threshold: Decimal) -> build.Tender:
    o = opportunity
    return build.Tender(
        reference=o.reference, title=o.title, summary=o.summary, category=o.category,
        category_name=category_name(o.category), estimated_value=o.estimated_value, procedure=o.procedure,
        procedure_name=PROCEDURES.get(o.procedure, o.procedure), published_at=o.published_at,
        submission_deadline=o.submission_deadline,
        url=absolute_url("opportunities.detail", opportunity_id=o.id),
        clarification_deadline=o.clarification_deadline, contract_start=o.contract_start,
        contract_end=finder.contract_end(o.contract_start, o.contract_months), contract_months=o.contract_months,
        eligibility=None if o.reservation == RESERVATION_NONE else RESERVATIONS.get(o.reservation),
        award_criteria=award_criteria(o), above_threshold=o.estimated_value >= threshold,
        contact_name=o.contact_name, contact_email=o.contact_email,
        lots=tuple(build.Lot(lot.number, lot.title, lot.description, lot.estimated_value) for lot in o.lots),
        amendments=tuple(build.Amendment(a.id, a.published_at, a.summary, a.previous_deadline, a.new_deadline)
                         for a in o.amendments),
        documents=_documents(o), cancelled_at=cancelled_at,
        cancel_reason=o.cancel_reason if cancelled_at else None,
    )


def processes(opportunities: list[Opportunity], now: datetime) -> list[build.Process]:
    """The facts of each public opportunity given, in a fixed number of queries."""
    loaded = _with_details([o.id for o in opportunities])
    cancelled = _cancellations(loaded)
    awards = _awards(loaded, cancelled, now)
    bids = _bids(loaded, set(awards), now)
    contracts = _contracts(loaded)
    threshold = settings.get("procurement_threshold")
    return [build.Process(tender_facts(o, cancelled.get(o.id), threshold), tuple(bids.get(o.id, ())),
                          tuple(awards.get(o.id, ())), tuple(contracts.get(o.id, ())))
            for o in loaded]


def releases_of(opportunities: list[Opportunity], now: datetime) -> list[dict]:
    prefix = ocid_prefix()
    return [release for process in processes(opportunities, now)
            for release in build.releases(process, prefix, now)]


# Packages -------------------------------------------------------------------------------------------------

def opportunity_package(opportunity: Opportunity, now: datetime) -> dict:
    """Every release of one public opportunity."""
    uri = absolute_url("transparency.ocds_opportunity", opportunity_id=opportunity.id)
    return build.package(releases_of([opportunity], now), uri, now)


@dataclass(frozen=True)
class Page:
    package: dict
    number: int
    pages: int


class PageOutOfRange(ValueError):
    def __init__(self, number: int, pages: int):
        super().__init__(f"There is no page {number}: the last page is {pages}.")
        self.message = str(self)


def releases_page(number: int, per_page: int, now: datetime) -> Page:
    """The releases of one page of public opportunities, with links to the pages either side."""
    page = db.paginate(public_statement(now), page=number, per_page=per_page, error_out=False, count=True)
    if number > max(page.pages, 1):
        raise PageOutOfRange(number, page.pages)
    def link(n: int) -> str:
        return absolute_url("transparency.ocds_releases", page=n)

    links = {"next": link(number + 1) if page.has_next else None,
             "prev": link(number - 1) if page.has_prev else None}
    package = build.package(releases_of(list(page.items), now), link(number), now,
                            {key: value for key, value in links.items() if value})
    return Page(package, number, page.pages)


def export_package(now: datetime) -> dict:
    """One package of every release of every public opportunity, read a batch of opportunities at a time."""
    releases: list[dict] = []
    statement, offset = public_statement(now), 0
    while batch := list(db.session.execute(statement.limit(EXPORT_BATCH).offset(offset)).scalars()):
        releases += releases_of(batch, now)
        offset += EXPORT_BATCH
        db.session.expunge_all()
    return build.package(releases, absolute_url("transparency.ocds_releases"), now)
