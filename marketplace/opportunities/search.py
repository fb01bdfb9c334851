"""Finding published opportunities.

`SearchCriteria` is a frozen dataclass parsed from a query string (or a saved search's stored dict): anything
unknown or hostile is dropped, never an error. `search_statement` turns criteria into one SELECT, with the
public rule (`permissions.is_public`: published or later, and its publication time has come) applied in SQL,
so drafts and opportunities awaiting approval never appear, whoever is signed in.

The presenting helpers at the end (countdown, contract period, the evaluation model in plain words) are pure;
the model is put into words with the commissioning side's converter, `services.criterion_spec`.
"""

from __future__ import annotations

import calendar
import json
import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any, Iterable, Iterator, Mapping

import sqlalchemy as sa
from flask_sqlalchemy.pagination import SelectPagination
from sqlalchemy.orm import joinedload, load_only, selectinload

from marketplace.documents import TYPES
from marketplace.evaluation import model_rules
from marketplace.kent import COUNTY_WIDE, LOCALITY_CHOICES, is_district_slug
from marketplace.opportunities import lifecycle
from marketplace.opportunities.models import RESERVATION_NONE, EvaluationModel, Opportunity, OpportunityDocument
from marketplace.opportunities.services import criterion_spec, pounds
from marketplace.taxonomy import CATEGORY_CHOICES
from marketplace.timeutil import as_utc, format_london

KEYWORDS_MAX = 100
MAX_TERMS = 8
FEED_SIZE = 50

OPEN, CLOSED, AWARDED, CANCELLED, ANY = "open", "closed", "awarded", "cancelled", "any"
STATUS_CHOICES = [(OPEN, "Open for bids"), (CLOSED, "Closed"), (AWARDED, "Awarded"), (CANCELLED, "Cancelled"),
                  (ANY, "Any status")]
CLOSING_CHOICES = [("7", "Closing within 7 days"), ("30", "Closing within 30 days")]
RESERVED_CHOICES = [("yes", "Reserved for Kent suppliers"), ("no", "Not reserved")]
SORT_CHOICES = [("closing", "Closing soonest"), ("newest", "Newest"), ("value-high", "Highest value"),
                ("value-low", "Lowest value")]
DEFAULT_STATUS, DEFAULT_SORT = OPEN, "closing"
# Closed: no longer taking bids, not yet awarded or cancelled (a published one past its deadline is closed too).
AFTER_CLOSE = frozenset({lifecycle.CLOSED, lifecycle.EVALUATING, lifecycle.AWARD_RECOMMENDED, lifecycle.STANDSTILL})

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


# Value bands --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ValueBand:
    key: str
    label: str
    low: Decimal | None  # inclusive
    high: Decimal | None  # exclusive


BAND_KEYS = ("under-25k", "25k-100k", "100k-threshold", "over-threshold")


def value_bands(threshold: Decimal) -> tuple[ValueBand, ...]:
    """The value filter's bands; the upper two meet at the procurement threshold (a setting)."""
    small, medium = Decimal(25000), Decimal(100000)
    return (
        ValueBand(BAND_KEYS[0], f"Under {pounds(small)}", None, small),
        ValueBand(BAND_KEYS[1], f"{pounds(small)} to {pounds(medium)}", small, medium),
        ValueBand(BAND_KEYS[2], f"{pounds(medium)} to {pounds(threshold)} (the threshold)", medium, threshold),
        ValueBand(BAND_KEYS[3], f"{pounds(threshold)} or more (over the threshold)", threshold, None),
    )


# Criteria -----------------------------------------------------------------------------------------------

def _values(args: Mapping[str, Any], name: str) -> list[str]:
    """Every value of a parameter, from a MultiDict (request.args) or a plain dict (a stored search)."""
    if hasattr(args, "getlist"):
        raw = args.getlist(name)
    else:
        raw = args.get(name)
        raw = raw if isinstance(raw, (list, tuple)) else [raw]
    return [value for value in raw if isinstance(value, str)]


def _chosen(args: Mapping[str, Any], name: str, choices: Iterable[tuple[str, str]]) -> tuple[str, ...]:
    """The known values given, once each, in the order of the choices (so equal searches have equal URLs)."""
    given = set(_values(args, name))
    return tuple(value for value, _ in choices if value in given)


def _one(args: Mapping[str, Any], name: str, choices: Iterable[tuple[str, str]], default: str = "") -> str:
    known = {value for value, _ in choices}
    return next((value for value in _values(args, name) if value in known), default)


def clean_keywords(raw: str) -> str:
    """Spaces collapsed, control characters dropped, at most KEYWORDS_MAX characters."""
    return " ".join(_CONTROL.sub(" ", raw).split())[:KEYWORDS_MAX].strip()


@dataclass(frozen=True)
class AppliedFilter:
    """One applied filter, and the query-string arguments of the same search without it."""

    label: str
    without: dict


@dataclass(frozen=True)
class SearchCriteria:
    keywords: str = ""
    categories: tuple[str, ...] = ()
    localities: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    closing: str = ""
    reserved: str = ""
    status: str = DEFAULT_STATUS
    sort: str = DEFAULT_SORT

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> "SearchCriteria":
        keywords = next(iter(_values(args, "q")), "")
        return cls(
            keywords=clean_keywords(keywords),
            categories=_chosen(args, "category", CATEGORY_CHOICES),
            localities=_chosen(args, "locality", LOCALITY_CHOICES),
            values=_chosen(args, "value", [(key, key) for key in BAND_KEYS]),
            closing=_one(args, "closing", CLOSING_CHOICES),
            reserved=_one(args, "reserved", RESERVED_CHOICES),
            status=_one(args, "status", STATUS_CHOICES, DEFAULT_STATUS),
            sort=_one(args, "sort", SORT_CHOICES, DEFAULT_SORT),
        )

    def to_args(self) -> dict:
        """Query-string arguments (also what a saved search stores); defaults are left out."""
        args = {"q": self.keywords, "category": list(self.categories), "locality": list(self.localities),
                "value": list(self.values), "closing": self.closing, "reserved": self.reserved,
                "status": "" if self.status == DEFAULT_STATUS else self.status,
                "sort": "" if self.sort == DEFAULT_SORT else self.sort}
        return {name: value for name, value in args.items() if value}

    @property
    def terms(self) -> tuple[str, ...]:
        """Keywords as lower-case words; every one must appear somewhere in the opportunity."""
        return tuple(dict.fromkeys(self.keywords.lower().split()))[:MAX_TERMS]

    @property
    def is_filtered(self) -> bool:
        return replace(self, sort=DEFAULT_SORT) != SearchCriteria()

    def applied(self, threshold: Decimal) -> list[AppliedFilter]:
        """Every filter in use, each with the arguments that remove it (the sort order is kept)."""
        return list(self._applied(threshold))

    def _applied(self, threshold: Decimal) -> Iterator[AppliedFilter]:
        def without(**changes) -> dict:
            return replace(self, **changes).to_args()

        if self.keywords:
            yield AppliedFilter(f"Keywords: {self.keywords}", without(keywords=""))
        for name, label, chosen, choices in self._groups(threshold):
            names = dict(choices)
            for value in chosen:
                yield AppliedFilter(f"{label}: {names[value]}",
                                    without(**{name: tuple(v for v in chosen if v != value)}))
        for name, choices in (("closing", CLOSING_CHOICES), ("reserved", RESERVED_CHOICES)):
            if getattr(self, name):
                yield AppliedFilter(dict(choices)[getattr(self, name)], without(**{name: ""}))
        if self.status != DEFAULT_STATUS:
            label = "Any status" if self.status == ANY else f"Status: {dict(STATUS_CHOICES)[self.status]}"
            yield AppliedFilter(label, without(status=DEFAULT_STATUS))

    def _groups(self, threshold: Decimal):
        bands = [(band.key, band.label) for band in value_bands(threshold)]
        return (("categories", "Category", self.categories, CATEGORY_CHOICES),
                ("localities", "Location", self.localities, LOCALITY_CHOICES),
                ("values", "Value", self.values, bands))

    def describe(self, threshold: Decimal) -> str:
        """The search in words, for saved searches and their emails."""
        labels = [item.label for item in self.applied(threshold)]
        if self.status == DEFAULT_STATUS:
            labels.insert(0, "Open opportunities")
        return "; ".join(labels)


# Queries ------------------------------------------------------------------------------------------------

def public_condition(now: datetime) -> sa.ColumnElement[bool]:
    """`permissions.is_public` in SQL: published (or later) and its publication time has come."""
    return sa.and_(Opportunity.status.in_(sorted(lifecycle.PUBLIC_STATES)), Opportunity.published_at.is_not(None),
                   Opportunity.published_at <= now)


def _keyword_condition(term: str) -> sa.ColumnElement[bool]:
    """The term in the title, summary, reference or outcomes, ignoring case. Outcomes are stored as JSON text,
    where non-ASCII letters and quotes are escaped, so the term is looked for escaped the same way."""
    columns = (Opportunity.title, Opportunity.summary, Opportunity.reference)
    text = [sa.func.lower(column).contains(term, autoescape=True) for column in columns]
    outcomes = sa.func.lower(sa.cast(Opportunity.outcomes, sa.Text))
    text.append(outcomes.contains(json.dumps(term)[1:-1], autoescape=True))
    return sa.or_(*text)


def _locality_condition(localities: tuple[str, ...]) -> sa.ColumnElement[bool]:
    """Work in any chosen locality; county-wide work covers every district."""
    wanted = set(localities) | ({COUNTY_WIDE} if any(is_district_slug(s) for s in localities) else set())
    stored = sa.cast(Opportunity.localities, sa.Text)
    return sa.or_(*(stored.contains(f'"{slug}"') for slug in sorted(wanted)))


def _value_condition(keys: tuple[str, ...], threshold: Decimal) -> sa.ColumnElement[bool]:
    value = Opportunity.estimated_value
    return sa.or_(*(sa.and_(sa.true() if band.low is None else value >= band.low,
                            sa.true() if band.high is None else value < band.high)
                    for band in value_bands(threshold) if band.key in keys))


def _status_condition(status: str, now: datetime) -> sa.ColumnElement[bool] | None:
    published = Opportunity.status == lifecycle.PUBLISHED
    past = sa.and_(Opportunity.submission_deadline.is_not(None), Opportunity.submission_deadline <= now)
    if status == OPEN:
        return sa.and_(published, sa.not_(past))
    if status == CLOSED:
        return sa.or_(Opportunity.status.in_(sorted(AFTER_CLOSE)), sa.and_(published, past))
    if status in (AWARDED, CANCELLED):
        return Opportunity.status == status
    return None


def _conditions(criteria: SearchCriteria, now: datetime, threshold: Decimal) -> Iterator[sa.ColumnElement]:
    yield public_condition(now)
    yield from (_keyword_condition(term) for term in criteria.terms)
    if criteria.categories:
        yield Opportunity.category.in_(criteria.categories)
    if criteria.localities:
        yield _locality_condition(criteria.localities)
    if criteria.values:
        yield _value_condition(criteria.values, threshold)
    if criteria.closing:
        deadline = Opportunity.submission_deadline
        yield sa.and_(deadline > now, deadline <= now + timedelta(days=int(criteria.closing)))
    if criteria.reserved:
        reserved = Opportunity.reservation != RESERVATION_NONE
        yield reserved if criteria.reserved == "yes" else sa.not_(reserved)
    status = _status_condition(criteria.status, now)
    if status is not None:
        yield status


# Each order ends with the id, so pages never overlap; "closing" matches the (status, submission_deadline, id)
# index (migration 0007), so the first page of open opportunities is read in order, without sorting them all.
ORDER = {
    "closing": (Opportunity.submission_deadline.asc().nulls_last(), Opportunity.id.asc()),
    "newest": (Opportunity.published_at.desc(), Opportunity.id.desc()),
    "value-high": (Opportunity.estimated_value.desc(), Opportunity.id.desc()),
    "value-low": (Opportunity.estimated_value.asc(), Opportunity.id.asc()),
}


# The indexes these queries rely on (migration 0007 creates them), declared beside them so that the models'
# metadata matches the migrated schema: the default order's, and on PostgreSQL a trigram index on each text a
# keyword is looked for in, on the very expression `_keyword_condition` writes.
STATUS_DEADLINE_INDEX = sa.Index("ix_opportunities_status_deadline", Opportunity.status,
                                 Opportunity.submission_deadline, Opportunity.id,
                                 postgresql_include=["published_at"])
KEYWORD_INDEXES = tuple(
    sa.Index(f"ix_opportunities_{name}_trgm", sa.func.lower(column).label(f"lower_{name}"), postgresql_using="gin",
             postgresql_ops={f"lower_{name}": "gin_trgm_ops"}).ddl_if(dialect="postgresql")
    for name, column in (("title", Opportunity.title), ("summary", Opportunity.summary),
                         ("reference", Opportunity.reference),
                         ("outcomes", sa.cast(Opportunity.outcomes, sa.Text))))


def search_statement(criteria: SearchCriteria, now: datetime, threshold: Decimal) -> sa.Select:
    """One SELECT of the public opportunities that match, in the chosen order. The list shows only the
    opportunity's own columns, so nothing else needs loading."""
    return sa.select(Opportunity).where(*_conditions(criteria, now, threshold)).order_by(*ORDER[criteria.sort])


# What a result in the list shows (and `state_of` reads): the rest of an opportunity is not loaded for it.
LISTED_COLUMNS = load_only(Opportunity.id, Opportunity.reference, Opportunity.title, Opportunity.summary,
                           Opportunity.status, Opportunity.reservation, Opportunity.estimated_value,
                           Opportunity.submission_deadline, Opportunity.category, Opportunity.localities)


class CountedPage(SelectPagination):
    """A page of a SELECT with the total number of rows, from one query (`count(*) OVER ()` beside each row), so
    the matching rows are found once rather than twice. Past the last page no row carries the total, and it is
    counted on its own."""

    _total: int | None = None

    def _query_items(self) -> list:
        select = self._query_args["select"].add_columns(sa.func.count().over().label("total_rows"))
        rows = self._query_args["session"].execute(select.limit(self.per_page).offset(self._query_offset)).all()
        self._total = rows[0].total_rows if rows else (0 if self.page == 1 else None)
        return [row[0] for row in rows]

    def _query_count(self) -> int:
        return self._total if self._total is not None else super()._query_count()


def results_page(session, criteria: SearchCriteria, now: datetime, threshold: Decimal, page: int | None,
                 per_page: int) -> CountedPage:
    """One page of the search's results and their number, in one query."""
    statement = search_statement(criteria, now, threshold).options(LISTED_COLUMNS)
    return CountedPage(select=statement, session=session, page=page, per_page=per_page, max_per_page=100,
                       error_out=False)


@cache
def detail_statement() -> sa.Select:
    """An opportunity (the parameter `opportunity_id`) with everything its page shows, in four queries: with its
    evaluation models and their criteria joined in, then its lots, documents and amendments (its author is not
    needed). Built once: SQLAlchemy keeps a statement's cache key rather than working it out for every page."""
    return (sa.select(Opportunity).where(Opportunity.id == sa.bindparam("opportunity_id"))
            .options(joinedload(Opportunity.models).joinedload(EvaluationModel.criteria),
                     selectinload(Opportunity.lots), selectinload(Opportunity.documents),
                     selectinload(Opportunity.amendments)))


def feed_statement(now: datetime, limit: int = FEED_SIZE) -> sa.Select:
    """The newest public opportunities, for the Atom feed."""
    return (sa.select(Opportunity).where(public_condition(now))
            .order_by(Opportunity.published_at.desc(), Opportunity.id.desc()).limit(limit))


def public_document_statement(opportunity_id: int, document_id: int, now: datetime) -> sa.Select:
    """A document of a public opportunity (drafts' documents are never served here)."""
    return (sa.select(OpportunityDocument).join(Opportunity)
            .where(OpportunityDocument.id == document_id, Opportunity.id == opportunity_id, public_condition(now)))


# Presenting (pure) --------------------------------------------------------------------------------------

def state_of(opportunity: Any, now: datetime) -> str:
    return lifecycle.effective_state(opportunity.status, opportunity.submission_deadline, now)


def _plural(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"


def time_left(delta: timedelta) -> str:
    """'3 days, 4 hours', '2 hours, 5 minutes', '12 minutes' or 'less than a minute'."""
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return ", ".join([_plural(days, "day")] + ([_plural(hours, "hour")] if hours else []))
    if hours:
        return ", ".join([_plural(hours, "hour")] + ([_plural(minutes, "minute")] if minutes else []))
    return _plural(minutes, "minute") if minutes else "less than a minute"


def countdown(deadline: datetime, now: datetime) -> str:
    """'Closes in 3 days, 4 hours – 27 March 2027 at 5:00pm', or 'Closed on …' once it has passed."""
    when = format_london(deadline)
    if now >= deadline:
        return f"Closed on {when}"
    return f"Closes in {time_left(deadline - now)} – {when}"


def contract_end(start: date | None, months: int | None) -> date | None:
    """The last day of a contract of `months` months starting on `start`."""
    if start is None or not months:
        return None
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day) - timedelta(days=1)


def long_date(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def contract_period(start: date | None, months: int | None) -> str:
    """'Starts 1 April 2027 and runs for 24 months, to 31 March 2029', or what is known of it."""
    length = f"{_plural(months, 'month')}" if months else ""
    if start is None:
        return f"Runs for {length}" if length else "Not given"
    if not length:
        return f"Starts {long_date(start)}"
    return f"Starts {long_date(start)} and runs for {length}, to {long_date(contract_end(start, months))}"


def describe_file(content_type: str, size: int) -> str:
    """'PDF, 120KB' or 'Word document, 2.4MB'."""
    kind = next((label for stored, label in TYPES.values() if stored == content_type), "File")
    if size >= 1024 * 1024:
        return f"{kind}, {size / (1024 * 1024):.1f}MB"
    return f"{kind}, {max(1, round(size / 1024))}KB"


def rfc3339(value: datetime) -> str:
    """A timestamp for Atom: UTC with a Z."""
    return as_utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class CriterionWords:
    title: str
    kind: str
    how: str


@dataclass(frozen=True)
class ModelWords:
    heading: str | None  # None for the opportunity's own model; "Lot 2: …" for a lot with its own
    criteria: tuple[CriterionWords, ...]


def model_in_words(criteria: Iterable[Any]) -> tuple[CriterionWords, ...]:
    """Each criterion's title, kind and how it is scored, in words for bidders."""
    return tuple(CriterionWords(c.title, model_rules.KINDS.get(c.kind, c.kind),
                                model_rules.plain_words(criterion_spec(c)))
                 for c in criteria)


def models_in_words(opportunity: Any) -> list[ModelWords]:
    """The opportunity's evaluation model, then the own model of each lot that has one, in lot order."""
    lots = {lot.id: lot for lot in opportunity.lots}
    main = [m for m in opportunity.models if m.lot_id is None]
    own = sorted((m for m in opportunity.models if m.lot_id in lots), key=lambda m: lots[m.lot_id].number)
    return [ModelWords(None if m.lot_id is None else f"Lot {lots[m.lot_id].number}: {lots[m.lot_id].title}",
                       model_in_words(m.criteria))
            for m in main + own if m.criteria]
