"""The read-only JSON API: published opportunities and awarded contracts, described by /api/v1/openapi.json.

Each record carries the fields the public pages show, and nothing about bids. Lists are paginated with the
public search's filters; a parameter, value or page the API does not know answers 400 with a message naming it,
an unknown or unpublished record 404, both as JSON.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Mapping

import sqlalchemy as sa
from flask import current_app, request

from marketplace.awards.models import Contract
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.kent import LOCALITY_CHOICES, locality_name
from marketplace.links import absolute_url
from marketplace.opportunities import lifecycle
from marketplace.opportunities import search as finder
from marketplace.opportunities.models import DOCUMENT_KINDS, PROCEDURES, RESERVATIONS, Opportunity
from marketplace.opportunities.services import load_for_overview
from marketplace.organisations.choices import ORGANISATION_TYPES
from marketplace.organisations.models import Organisation
from marketplace.settings import services as settings
from marketplace.taxonomy import CATEGORY_CHOICES, category_name
from marketplace.timeutil import utcnow
from marketplace.transparency import bp
from marketplace.transparency.ocds_build import CURRENCY, stamp

PREFIX = "/api/v1"
MAX_PAGE = 1_000_000


class BadQuery(DomainError):
    """A query parameter the API does not understand; the message says which and what it accepts."""


# Responses ------------------------------------------------------------------------------------------------

def json_response(data: Any, status: int = 200):
    """JSON in the order the record is built (the app's default provider would sort the keys)."""
    return current_app.response_class(json.dumps(data, ensure_ascii=False), status=status,
                                      mimetype="application/json")


def problem(status: int, message: str):
    return json_response({"error": {"status": status, "message": message}}, status)


# Query parameters -----------------------------------------------------------------------------------------

def _choices(pairs) -> list[str]:
    return [value for value, _ in pairs]


def check_query(args: Mapping, accepted: dict[str, list[str] | None], repeatable: frozenset[str]) -> None:
    """Refuse unknown parameters, unknown values and repeats of single-valued parameters."""
    for name in args:
        if name not in accepted:
            raise BadQuery(f"Unknown parameter ‘{name}’. This list accepts: {', '.join(accepted)}.")
        values = args.getlist(name)
        if len(values) > 1 and name not in repeatable:
            raise BadQuery(f"Give ‘{name}’ once.")
        known = accepted[name]
        wrong = [v for v in values if known is not None and v not in known]
        if wrong:
            raise BadQuery(f"Unknown {name} ‘{wrong[0]}’. Use one of: {', '.join(known)}.")


def page_number(args: Mapping) -> int:
    raw = args.get("page", "1")
    if not (raw.isascii() and raw.isdigit() and len(raw) <= len(str(MAX_PAGE)) and 1 <= int(raw) <= MAX_PAGE):
        raise BadQuery(f"The page must be a whole number from 1 to {MAX_PAGE:,}; ‘{raw[:20]}’ is not.")
    return int(raw)


def _paginate(statement: sa.Select, number: int):
    page = db.paginate(statement, page=number, per_page=current_app.config["PAGE_SIZE"], error_out=False)
    if number > max(page.pages, 1):
        raise BadQuery(f"There is no page {number}: the last page is {max(page.pages, 1)}.")
    return page


def _listing(page, items: list[dict]) -> dict:
    def link(number: int) -> str:
        return absolute_url(request.endpoint, **{**request.args.to_dict(flat=False), "page": number})

    return {"data": items,
            "meta": {"page": page.page, "per_page": page.per_page, "total": page.total, "pages": page.pages},
            "links": {"self": link(page.page), "next": link(page.next_num) if page.has_next else None,
                      "prev": link(page.prev_num) if page.has_prev else None}}


OPPORTUNITY_PARAMETERS: dict[str, list[str] | None] = {
    "q": None, "category": _choices(CATEGORY_CHOICES), "locality": _choices(LOCALITY_CHOICES),
    "value": list(finder.BAND_KEYS), "closing": _choices(finder.CLOSING_CHOICES),
    "reserved": _choices(finder.RESERVED_CHOICES), "status": _choices(finder.STATUS_CHOICES),
    "sort": _choices(finder.SORT_CHOICES), "page": None,
}
CONTRACT_PARAMETERS: dict[str, list[str] | None] = {"q": None, "category": _choices(CATEGORY_CHOICES),
                                                    "page": None}
REPEATABLE = frozenset({"category", "locality", "value"})


# Presenting ---------------------------------------------------------------------------------------------

def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _when(value: datetime | None) -> str | None:
    return None if value is None else stamp(value)


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _code(code: str, labels: Mapping[str, str]) -> dict:
    return {"code": code, "label": labels.get(code, code)}


def _localities(slugs: list[str]) -> list[dict]:
    return [{"code": slug, "label": locality_name(slug)} for slug in slugs or []]


def _opportunity_links(opportunity: Opportunity) -> dict:
    return {"self": absolute_url("transparency.api_opportunity", reference=opportunity.reference),
            "html": absolute_url("opportunities.detail", opportunity_id=opportunity.id),
            "ocds": absolute_url("transparency.ocds_opportunity", opportunity_id=opportunity.id)}


def opportunity_summary(opportunity: Opportunity, now: datetime) -> dict:
    """What a search result shows."""
    state = finder.state_of(opportunity, now)
    return {
        "reference": opportunity.reference, "title": opportunity.title, "summary": opportunity.summary,
        "status": _code(state, lifecycle.STATE_LABELS),
        "category": {"code": opportunity.category, "label": category_name(opportunity.category)},
        "localities": _localities(opportunity.localities), "estimated_value": _money(opportunity.estimated_value),
        "currency": CURRENCY, "reservation": _code(opportunity.reservation, RESERVATIONS),
        "published_at": _when(opportunity.published_at),
        "submission_deadline": _when(opportunity.submission_deadline), "links": _opportunity_links(opportunity),
    }


def _document(opportunity: Opportunity, document) -> dict:
    return {"title": document.title, "kind": _code(document.kind, DOCUMENT_KINDS),
            "content_type": document.content_type, "size": document.size,
            "url": absolute_url("opportunities.document", opportunity_id=opportunity.id, document_id=document.id)}


def opportunity_detail(opportunity: Opportunity, contracts: list[Contract], now: datetime) -> dict:
    """What the opportunity page shows, and the contracts awarded from it."""
    return {
        **opportunity_summary(opportunity, now), "outcomes": list(opportunity.outcomes or []),
        "procedure": _code(opportunity.procedure, PROCEDURES),
        "contract": {"start": _day(opportunity.contract_start), "months": opportunity.contract_months,
                     "end": _day(finder.contract_end(opportunity.contract_start, opportunity.contract_months)),
                     "description": finder.contract_period(opportunity.contract_start, opportunity.contract_months)},
        "clarification_deadline": _when(opportunity.clarification_deadline),
        "contact": {"name": opportunity.contact_name, "email": opportunity.contact_email},
        "lots": [{"number": lot.number, "title": lot.title, "description": lot.description,
                  "estimated_value": _money(lot.estimated_value), "localities": _localities(lot.localities)}
                 for lot in opportunity.lots],
        "evaluation": [{"heading": model.heading,
                        "criteria": [{"title": c.title, "kind": c.kind, "how": c.how} for c in model.criteria]}
                       for model in finder.models_in_words(opportunity)],
        "documents": [_document(opportunity, d) for d in opportunity.documents],
        "amendments": [{"published_at": _when(a.published_at), "summary": a.summary,
                        "previous_deadline": _when(a.previous_deadline), "new_deadline": _when(a.new_deadline),
                        "changes_requirements": a.changes_requirements} for a in opportunity.amendments],
        "cancel_reason": opportunity.cancel_reason if opportunity.status == lifecycle.CANCELLED else None,
        "contracts": [{"reference": c.reference, "links": {"self": _contract_link(c)}} for c in contracts],
    }


def _contract_link(contract: Contract) -> str:
    return absolute_url("transparency.api_contract", reference=contract.reference)


def contract_record(contract: Contract, opportunity: Opportunity, organisation: Organisation | None) -> dict:
    """A contract register entry: the fields the Local Government Transparency Code asks for."""
    return {
        "reference": contract.reference, "title": contract.title, "description": opportunity.summary,
        "supplier": {
            "name": contract.supplier_name,
            "companies_house_number": organisation.companies_house_number if organisation else None,
            "charity_number": organisation.charity_number if organisation else None,
            "organisation_type": _code(contract.supplier_org_type, ORGANISATION_TYPES),
            "is_sme": contract.supplier_is_sme, "is_vcse": contract.supplier_is_vcse,
            "kent_based": contract.supplier_kent_based},
        "category": {"code": contract.category, "label": category_name(contract.category)},
        "value": _money(contract.value), "currency": CURRENCY, "start_date": _day(contract.start_date),
        "end_date": _day(contract.end_date), "awarded_at": _when(contract.awarded_at),
        "procurement_route": _code(opportunity.procedure, PROCEDURES),
        "opportunity": {"reference": opportunity.reference, "links": _opportunity_links(opportunity)},
        "links": {"self": _contract_link(contract),
                  "ocds": absolute_url("transparency.ocds_opportunity", opportunity_id=opportunity.id)},
    }


# Queries --------------------------------------------------------------------------------------------------

def opportunity_list(args: Mapping, now: datetime) -> dict:
    check_query(args, OPPORTUNITY_PARAMETERS, REPEATABLE)
    number = page_number(args)
    criteria = finder.SearchCriteria.from_args(args)
    page = _paginate(finder.search_statement(criteria, now, settings.get("procurement_threshold")), number)
    return _listing(page, [opportunity_summary(o, now) for o in page.items])


def find_opportunity(reference: str, now: datetime) -> dict | None:
    found = db.session.execute(sa.select(Opportunity.id).where(Opportunity.reference == reference,
                                                               finder.public_condition(now))).scalar()
    if found is None:
        return None
    contracts = list(db.session.execute(sa.select(Contract).where(Contract.opportunity_id == found)
                                        .order_by(Contract.id)).scalars())
    return opportunity_detail(load_for_overview(found), contracts, now)


def _contracts_statement(args: Mapping) -> sa.Select:
    statement = sa.select(Contract).order_by(Contract.awarded_at.desc(), Contract.id.desc())
    for term in finder.SearchCriteria.from_args(args).terms:
        statement = statement.where(sa.or_(*(sa.func.lower(column).contains(term, autoescape=True) for column in
                                             (Contract.reference, Contract.title, Contract.supplier_name))))
    categories = args.getlist("category")
    return statement.where(Contract.category.in_(categories)) if categories else statement


def _by_id(model, ids: set[int]) -> dict[int, Any]:
    return {row.id: row for row in db.session.execute(sa.select(model).where(model.id.in_(ids or {0}))).scalars()}


def contract_records(contracts: list[Contract]) -> list[dict]:
    """The contracts with their opportunities and suppliers: two queries, whatever the number of contracts."""
    opportunities = _by_id(Opportunity, {c.opportunity_id for c in contracts})
    organisations = _by_id(Organisation, {c.organisation_id for c in contracts if c.organisation_id})
    return [contract_record(c, opportunities[c.opportunity_id], organisations.get(c.organisation_id))
            for c in contracts]


def contract_list(args: Mapping) -> dict:
    check_query(args, CONTRACT_PARAMETERS, REPEATABLE)
    page = _paginate(_contracts_statement(args), page_number(args))
    return _listing(page, contract_records(list(page.items)))


def find_contract(reference: str) -> dict | None:
    found = db.session.execute(sa.select(Contract).where(Contract.reference == reference)).scalar()
    return None if found is None else contract_records([found])[0]


# Routes ---------------------------------------------------------------------------------------------------

def _answer(found: dict | None, what: str, reference: str):
    if found is None:
        return problem(404, f"No published {what} has the reference ‘{reference[:40]}’.")
    return json_response(found)


@bp.get(f"{PREFIX}/opportunities")
def api_opportunities():
    try:
        return json_response(opportunity_list(request.args, utcnow()))
    except BadQuery as error:
        return problem(400, error.message)


@bp.get(f"{PREFIX}/opportunities/<reference>")
def api_opportunity(reference: str):
    return _answer(find_opportunity(reference, utcnow()), "opportunity", reference)


@bp.get(f"{PREFIX}/contracts")
def api_contracts():
    try:
        return json_response(contract_list(request.args))
    except BadQuery as error:
        return problem(400, error.message)


@bp.get(f"{PREFIX}/contracts/<reference>")
def api_contract(reference: str):
    return _answer(find_contract(reference), "contract", reference)


@bp.get(f"{PREFIX}/openapi.json")
def api_openapi():
    from marketplace.transparency.openapi import document

    return json_response(document())
