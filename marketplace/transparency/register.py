"""The public contract register: every awarded contract at or above the register threshold (a setting), with
the fields the Local Government Transparency Code asks for; searchable, sorted, paginated, and downloadable as
CSV (the whole filtered register, streamed).

`RegisterQuery` is what the filter form gives (already checked); `register_statement` turns it into one SELECT
of the contract with the few columns of its opportunity and organisation the register shows, so a page costs a
count and one query whatever the number of rows. `RegisterEntry.of(row)` puts a row into the register's words
(pure), for the pages and the CSV alike.

A contract's review date is not recorded anywhere, so the register states its rule: three months before the
contract ends (never before it starts), when the council decides whether to extend it, commission it again or
let it end.
"""

from __future__ import annotations

import calendar
import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Iterable, Iterator

import sqlalchemy as sa
from flask_sqlalchemy.pagination import SelectPagination

from marketplace.awards.models import Contract
from marketplace.bids import measures
from marketplace.extensions import db
from marketplace.opportunities import lifecycle
from marketplace.opportunities.models import PROCEDURES, Opportunity
from marketplace.opportunities.search import MAX_TERMS
from marketplace.organisations.choices import ORGANISATION_TYPES, SIZES
from marketplace.organisations.models import Organisation
from marketplace.taxonomy import category_name
from marketplace.timeutil import london

REVIEW_MONTHS = 3
REVIEW_RULE = ("The review date is 3 months before the contract ends (or its start date, for a shorter contract): "
               "by then the council decides whether to extend the contract, commission the service again or let "
               "the contract end.")
MAX_PAGE = 10_000
MAX_ID = 2**31 - 1  # the largest id an integer column holds; a larger one in an address is simply not found
CSV_BATCH = 500

SUPPLIER_TYPES: dict[str, str] = {
    "sme": "Small or medium-sized enterprise (SME)",
    "vcse": "Voluntary, community or social enterprise (VCSE)",
    "kent": "Based in Kent",
    "large": "Large (not an SME)",
}
SORTS: dict[str, str] = {
    "newest": "Most recently awarded",
    "value-high": "Highest value",
    "value-low": "Lowest value",
    "ending": "Ending soonest",
    "supplier": "Supplier name (A to Z)",
}
DEFAULT_SORT = "newest"


@dataclass(frozen=True)
class RegisterQuery:
    text: str = ""
    category: str = ""
    supplier: str = ""
    value_from: Decimal | None = None
    value_to: Decimal | None = None
    sort: str = DEFAULT_SORT

    @property
    def terms(self) -> tuple[str, ...]:
        """Words of the search, lower case; every one must appear in the contract's words."""
        return tuple(dict.fromkeys(self.text.lower().split()))[:MAX_TERMS]

    def args(self) -> dict[str, str]:
        """The query-string arguments of this search (for the CSV link), defaults left out."""
        values = {"q": self.text, "category": self.category, "supplier": self.supplier,
                  "value_from": "" if self.value_from is None else f"{self.value_from:f}",
                  "value_to": "" if self.value_to is None else f"{self.value_to:f}",
                  "sort": "" if self.sort == DEFAULT_SORT else self.sort}
        return {name: value for name, value in values.items() if value}


# The query --------------------------------------------------------------------------------------------

def _text_condition(term: str) -> sa.ColumnElement[bool]:
    columns = (Contract.reference, Contract.title, Contract.supplier_name, Opportunity.summary)
    return sa.or_(*(sa.func.lower(column).contains(term, autoescape=True) for column in columns))


SUPPLIER_CONDITIONS = {
    "sme": Contract.supplier_is_sme.is_(True),
    "vcse": Contract.supplier_is_vcse.is_(True),
    "kent": Contract.supplier_kent_based.is_(True),
    "large": Contract.supplier_is_sme.is_(False),
}

ORDER = {
    "newest": (Contract.awarded_at.desc(), Contract.id.desc()),
    "value-high": (Contract.value.desc(), Contract.id.desc()),
    "value-low": (Contract.value.asc(), Contract.id.asc()),
    "ending": (Contract.end_date.asc(), Contract.id.asc()),
    "supplier": (sa.func.lower(Contract.supplier_name).asc(), Contract.id.asc()),
}


def on_register(threshold: Decimal) -> sa.ColumnElement[bool]:
    """A contract is on the register once its opportunity is awarded and its value reaches the threshold."""
    return sa.and_(Opportunity.status == lifecycle.AWARDED, Contract.value >= threshold)


def _conditions(query: RegisterQuery, threshold: Decimal) -> Iterator[sa.ColumnElement[bool]]:
    yield on_register(threshold)
    yield from (_text_condition(term) for term in query.terms)
    if query.category:
        yield Contract.category == query.category
    if query.supplier in SUPPLIER_CONDITIONS:
        yield SUPPLIER_CONDITIONS[query.supplier]
    if query.value_from is not None:
        yield Contract.value >= query.value_from
    if query.value_to is not None:
        yield Contract.value <= query.value_to


def _rows() -> sa.Select:
    return (sa.select(Contract, Opportunity.summary, Opportunity.procedure, Organisation.companies_house_number,
                      Organisation.charity_number)
            .join(Opportunity, Opportunity.id == Contract.opportunity_id)
            .outerjoin(Organisation, Organisation.id == Contract.organisation_id))


def register_statement(query: RegisterQuery, threshold: Decimal) -> sa.Select:
    """One SELECT of the register's rows that match, in the chosen order."""
    return _rows().where(*_conditions(query, threshold)).order_by(*ORDER.get(query.sort, ORDER[DEFAULT_SORT]))


def contract_row(contract_id: int, threshold: Decimal) -> Any | None:
    """One contract's register row, or None when it is not on the register (or the id could not be one)."""
    if not 0 < contract_id <= MAX_ID:
        return None
    return db.session.execute(_rows().where(Contract.id == contract_id, on_register(threshold))).one_or_none()


class EntryPagination(SelectPagination):
    """Flask-SQLAlchemy's pagination over whole rows (the contract and its columns, not only the first column),
    each put into the register's words."""

    def _query_items(self) -> list[Any]:
        select = self._query_args["select"].limit(self.per_page).offset(self._query_offset)
        return [RegisterEntry.of(row) for row in self._query_args["session"].execute(select).all()]


def page_number(raw: str | None) -> int:
    """The page asked for: 1 for anything that is not a whole number above 0; at most MAX_PAGE."""
    try:
        number = int(raw or 1)
    except ValueError:
        return 1
    return min(max(number, 1), MAX_PAGE)


def register_page(query: RegisterQuery, threshold: Decimal, page: int, per_page: int) -> EntryPagination:
    """One page of the register (a count and one query). A page past the end is empty, not an error."""
    return EntryPagination(select=register_statement(query, threshold), session=db.session, page=page,
                           per_page=per_page, max_per_page=100, error_out=False)


def all_entries(query: RegisterQuery, threshold: Decimal) -> Iterator[RegisterEntry]:
    """Every matching entry, fetched in batches (for the CSV, which streams)."""
    statement = register_statement(query, threshold).execution_options(yield_per=CSV_BATCH)
    for row in db.session.execute(statement):
        yield RegisterEntry.of(row)


# Presenting (pure) ------------------------------------------------------------------------------------

def months_before(day: date, months: int) -> date:
    """The same day `months` calendar months earlier (the month's last day when it is shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def review_date(start: date, end: date) -> date:
    """REVIEW_MONTHS before the end, but never before the start."""
    return max(start, months_before(end, REVIEW_MONTHS))


def registration_number(companies_house: str | None, charity: str | None) -> str:
    """'Companies House 01234567', 'Charity 1100001', both, or '' when the supplier gave neither."""
    parts = ([f"Companies House {companies_house}"] if companies_house else []) + \
            ([f"Charity {charity}"] if charity else [])
    return "; ".join(parts)


def yes_no(value: bool) -> str:
    return "Yes" if value else "No"


@dataclass(frozen=True)
class RegisterEntry:
    """A contract in the register's words."""

    id: int
    reference: str
    title: str
    description: str
    supplier: str
    registration: str
    supplier_type: str
    supplier_size: str
    category: str
    start: date
    end: date
    review: date
    value: Decimal
    sme: bool
    vcse: bool
    kent_based: bool
    route: str
    awarded_on: date
    opportunity_id: int
    contract: Any  # the Contract row, for the one-contract page's commitments

    @classmethod
    def of(cls, row: Any) -> "RegisterEntry":
        contract = row[0]
        return cls(
            id=contract.id, reference=contract.reference, title=contract.title, description=row.summary or "",
            supplier=contract.supplier_name,
            registration=registration_number(row.companies_house_number, row.charity_number),
            supplier_type=ORGANISATION_TYPES.get(contract.supplier_org_type, contract.supplier_org_type),
            supplier_size=SIZES.get(contract.supplier_size or "", contract.supplier_size or ""),
            category=category_name(contract.category), start=contract.start_date, end=contract.end_date,
            review=review_date(contract.start_date, contract.end_date), value=contract.value,
            sme=contract.supplier_is_sme, vcse=contract.supplier_is_vcse, kent_based=contract.supplier_kent_based,
            route=PROCEDURES.get(row.procedure, row.procedure), awarded_on=_day(contract.awarded_at),
            opportunity_id=contract.opportunity_id, contract=contract)


def _day(moment: datetime) -> date:
    return london(moment).date()


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (ArithmeticError, ValueError, TypeError):
        return None


def commitments_of(contract: Any) -> list[str]:
    """The social value the supplier committed to, in words ('Apprenticeships created: 156 weeks')."""
    found = []
    for item in contract.social_value_commitments or []:
        quantity = _decimal(item.get("quantity"))
        if quantity is None or not item.get("measure"):
            continue
        words = measures.describe(item["measure"], quantity, item.get("unit") or None)
        found.append(f"{words} ({item['description']})" if item.get("description") else words)
    return found


@dataclass(frozen=True)
class ChainMember:
    name: str
    role: str
    kind: str
    kent_based: bool
    share: Decimal | None  # percent of the contract


ROLES = {"subcontractor": "Subcontractor", "consortium_member": "Consortium member"}


def supply_chain_of(contract: Any) -> list[ChainMember]:
    """The subcontractors and consortium members named at award, with their share of the contract."""
    members = []
    for item in contract.consortium or []:
        share = _decimal(item.get("share"))
        members.append(ChainMember(
            name=str(item.get("name") or ""), role=ROLES.get(item.get("role"), str(item.get("role") or "")),
            kind=ORGANISATION_TYPES.get(item.get("org_type"), str(item.get("org_type") or "")),
            kent_based=bool(item.get("kent_based")),
            share=None if share is None else (share * 100).quantize(Decimal("0.1"))))
    return members


# CSV (pure) -------------------------------------------------------------------------------------------

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_HEADER = ("Reference", "Title", "Description", "Supplier", "Supplier registration number", "Category",
              "Start date", "End date", "Review date", "Value (£)", "SME", "VCSE", "Kent-based supplier",
              "Procurement route", "Awarded on")


def safe_cell(value: Any) -> str:
    """A cell a spreadsheet will not run: text starting with = + - @ (or a tab or return) gets a leading quote."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def csv_lines(header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """CSV text one line at a time (for a streamed download), every cell made safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in _with_header(header, rows):
        writer.writerow([safe_cell(cell) for cell in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def _with_header(header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> Iterator[Iterable[Any]]:
    yield header
    yield from rows


def csv_row(entry: RegisterEntry) -> tuple:
    return (entry.reference, entry.title, entry.description, entry.supplier, entry.registration, entry.category,
            entry.start.isoformat(), entry.end.isoformat(), entry.review.isoformat(), f"{entry.value:.2f}",
            yes_no(entry.sme), yes_no(entry.vcse), yes_no(entry.kent_based), entry.route,
            entry.awarded_on.isoformat())
