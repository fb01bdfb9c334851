"""The spend dashboard's queries: each figure is summed in the database, so the page runs the same few queries
whatever the number of contracts. `figures(filters, staff, now)` runs them and hands the sums to the pure
builders in `dashboard.py`.

What each figure counts:
- contracts: awarded contracts (their opportunity is awarded) that match the filters; the quarter is the one the
  contract was awarded in; the locality is one of the opportunity's localities;
- subcontractors: each contract's value times the share of each consortium member or subcontractor (the
  `consortium` list captured at award), split by whether that member is Kent-based;
- social value: the commitments captured at award (`social_value_commitments`), summed by measure;
- right to bid: proposals received in the quarter, for services of that category and locality, by outcome;
- bids per opportunity: published opportunities (not cancelled) whose deadline has passed, by the number of bids
  that count (submitted and not withdrawn); the quarter is the one the deadline fell in. Never counted before the
  deadline;
- days to award: from the opportunity's publication to the contract's award.

The consortium and commitment lists are JSON arrays; they are unnested in SQL with each database's own function
(`json_each` in SQLite, `json_array_elements` in PostgreSQL).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Iterator

import sqlalchemy as sa

from marketplace.accounts.models import User
from marketplace.awards.models import Contract
from marketplace.bids import rules as bid_rules
from marketplace.bids.models import Bid
from marketplace.extensions import db
from marketplace.opportunities import lifecycle
from marketplace.opportunities.models import Opportunity
from marketplace.opportunities.search import public_condition
from marketplace.right_to_bid import rules as rtb_rules
from marketplace.right_to_bid.models import CatalogueService, Proposal
from marketplace.taxonomy import category_name
from marketplace.timeutil import format_london
from marketplace.transparency import dashboard
from marketplace.transparency.dashboard import Filters

NOT_RECEIVED = (bid_rules.DRAFT, bid_rules.WITHDRAWN)
PIPELINE_STATES = (lifecycle.CLOSED, lifecycle.EVALUATING, lifecycle.AWARD_RECOMMENDED, lifecycle.STANDSTILL)


def _dialect() -> str:
    return db.session.get_bind().dialect.name


# Filters ----------------------------------------------------------------------------------------------

def _in_quarter(column, filters: Filters) -> Iterator[sa.ColumnElement[bool]]:
    if filters.quarter is not None:
        start, end = filters.quarter.bounds()
        yield sa.and_(column >= start, column < end)


def _in_locality(filters: Filters) -> Iterator[sa.ColumnElement[bool]]:
    if filters.locality:
        yield sa.cast(Opportunity.localities, sa.Text).contains(f'"{filters.locality}"')


def contract_conditions(filters: Filters) -> list[sa.ColumnElement[bool]]:
    """Awarded contracts matching the filters (the statement must join Opportunity)."""
    conditions = [Opportunity.status == lifecycle.AWARDED, *_in_quarter(Contract.awarded_at, filters),
                  *_in_locality(filters)]
    if filters.category:
        conditions.append(Contract.category == filters.category)
    return conditions


def _contracts(*columns) -> sa.Select:
    return sa.select(*columns).select_from(Contract).join(Opportunity, Opportunity.id == Contract.opportunity_id)


# JSON arrays ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class JsonItems:
    """The items of a JSON array column, as a table joined to each row, with typed access to their keys."""

    table: Any
    dialect: str

    @classmethod
    def of(cls, column) -> "JsonItems":
        dialect = _dialect()
        function = sa.func.json_array_elements if dialect == "postgresql" else sa.func.json_each
        return cls(function(column).table_valued("value", joins_implicitly=True).alias("item"), dialect)

    def text(self, key: str) -> sa.ColumnElement:
        if self.dialect == "postgresql":
            return self.table.c.value.op("->>")(key)
        return sa.func.json_extract(self.table.c.value, f"$.{key}")

    def number(self, key: str) -> sa.ColumnElement:
        return sa.cast(self.text(key), sa.Numeric(20, 6))

    def is_true(self, key: str) -> sa.ColumnElement[bool]:
        if self.dialect == "postgresql":
            return self.text(key) == "true"
        return self.text(key) == 1


def _days_between(later, earlier) -> sa.ColumnElement:
    if _dialect() == "postgresql":
        return sa.extract("epoch", later - earlier) / 86400
    return sa.func.julianday(later) - sa.func.julianday(earlier)


def _by(label: str) -> sa.ColumnElement:
    """A select's labelled column, named in GROUP BY and ORDER BY: PostgreSQL binds parameters separately in
    each clause, so grouping by the repeated expression would not match."""
    return sa.literal_column(label)


def _sum(expression) -> sa.ColumnElement:
    return sa.func.coalesce(sa.func.sum(expression), 0)


def _count_where(condition) -> sa.ColumnElement:
    return _sum(sa.case((condition, 1), else_=0))


def _value_where(condition) -> sa.ColumnElement:
    return _sum(sa.case((condition, Contract.value), else_=0))


# Queries ----------------------------------------------------------------------------------------------

def supplier_totals(filters: Filters) -> dashboard.SupplierTotals:
    kent, vcse, sme = (Contract.supplier_kent_based.is_(True), Contract.supplier_is_vcse.is_(True),
                       Contract.supplier_is_sme.is_(True))
    row = db.session.execute(_contracts(
        sa.func.count(Contract.id), _sum(Contract.value), _count_where(kent), _value_where(kent),
        _count_where(vcse), _value_where(vcse), _count_where(sme), _value_where(sme), _sum(Contract.kent_spend),
        _sum(Contract.kent_jobs), _sum(Contract.kent_apprenticeships),
    ).where(*contract_conditions(filters))).one()
    return dashboard.SupplierTotals(
        int(row[0]), dashboard.money(row[1]), int(row[2]), dashboard.money(row[3]), int(row[4]),
        dashboard.money(row[5]), int(row[6]), dashboard.money(row[7]), dashboard.money(row[8]), int(row[9]),
        int(row[10]))


def supply_chain_values(filters: Filters) -> tuple[Decimal, Decimal]:
    """(value through Kent-based members, value through other members)."""
    members = JsonItems.of(Contract.consortium)
    passed_on = Contract.value * members.number("share")
    kent = members.is_true("kent_based")
    row = db.session.execute(_contracts(_sum(sa.case((kent, passed_on), else_=0)),
                                        _sum(sa.case((kent, 0), else_=passed_on)))
                             .join(members.table, sa.true()).where(*contract_conditions(filters))).one()
    return dashboard.money(row[0]), dashboard.money(row[1])


def social_value_totals(filters: Filters) -> list[dashboard.MeasureTotal]:
    items = JsonItems.of(Contract.social_value_commitments)
    measure, unit = items.text("measure").label("measure_code"), items.text("unit").label("measure_unit")
    rows = db.session.execute(_contracts(measure, unit, _sum(items.number("quantity")),
                                         sa.func.count(sa.distinct(Contract.id)))
                              .join(items.table, sa.true()).where(*contract_conditions(filters))
                              .group_by(_by("measure_code"), _by("measure_unit"))
                              .order_by(_by("measure_code"), _by("measure_unit"))).all()
    return [dashboard.MeasureTotal(str(m), str(u or ""), Decimal(str(q)), int(c)) for m, u, q, c in rows]


def right_to_bid_counts(filters: Filters) -> dict[str, int]:
    conditions = list(_in_quarter(Proposal.submitted_at, filters))
    if filters.category:
        conditions.append(CatalogueService.category == filters.category)
    if filters.locality:
        conditions.append(CatalogueService.locality == filters.locality)
    rows = db.session.execute(sa.select(Proposal.status, sa.func.count(Proposal.id))
                              .join(CatalogueService, CatalogueService.id == Proposal.service_id)
                              .where(*conditions).group_by(Proposal.status)).all()
    return {status: int(count) for status, count in rows}


def _bids_received() -> sa.Subquery:
    return (sa.select(Bid.opportunity_id, sa.func.count(Bid.id).label("bids"))
            .where(Bid.status.not_in(NOT_RECEIVED)).group_by(Bid.opportunity_id).subquery())


def _past_deadline(now: datetime) -> sa.ColumnElement[bool]:
    """Public, not cancelled, and its deadline has passed: only then may its bids be counted."""
    return sa.and_(public_condition(now), Opportunity.status != lifecycle.CANCELLED,
                   Opportunity.submission_deadline.is_not(None), Opportunity.submission_deadline <= now)


def _opportunity_conditions(filters: Filters, now: datetime) -> list[sa.ColumnElement[bool]]:
    conditions = [_past_deadline(now), *_in_locality(filters)]
    if filters.category:
        conditions.append(Opportunity.category == filters.category)
    return conditions


def bids_distribution(filters: Filters, now: datetime) -> dict[int, int]:
    received = _bids_received()
    per_opportunity = (sa.select(sa.func.coalesce(received.c.bids, 0).label("bids"))
                       .select_from(Opportunity).outerjoin(received, received.c.opportunity_id == Opportunity.id)
                       .where(*_opportunity_conditions(filters, now),
                              *_in_quarter(Opportunity.submission_deadline, filters)).subquery())
    rows = db.session.execute(sa.select(per_opportunity.c.bids, sa.func.count())
                              .group_by(per_opportunity.c.bids)).all()
    return {int(bids): int(count) for bids, count in rows}


def days_to_award_bands(filters: Filters) -> list[dashboard.BandTotal]:
    days = _days_between(Contract.awarded_at, Opportunity.published_at)
    band = sa.case(*((days <= high, index) for index, (_, _, high) in enumerate(dashboard.DAY_BANDS) if high),
                   else_=len(dashboard.DAY_BANDS) - 1)
    rows = db.session.execute(_contracts(band.label("band"), sa.func.count(Contract.id), _sum(days))
                              .where(*contract_conditions(filters), Opportunity.published_at.is_not(None))
                              .group_by(_by("band"))).all()
    return [dashboard.BandTotal(int(index), int(count), Decimal(str(total))) for index, count, total in rows]


def _group_totals(name_column, filters: Filters, *joins) -> list[tuple]:
    kent = Contract.supplier_kent_based.is_(True)
    statement = _contracts(name_column.label("group_name"), sa.func.count(Contract.id),
                           _sum(Contract.value).label("group_value"), _value_where(kent))
    for target, on in joins:
        statement = statement.outerjoin(target, on)
    return db.session.execute(statement.where(*contract_conditions(filters)).group_by(_by("group_name"))
                              .order_by(_by("group_value").desc(), _by("group_name"))).all()


def category_totals(filters: Filters) -> list[dashboard.GroupTotal]:
    return [dashboard.GroupTotal(category_name(name), int(n), dashboard.money(v), dashboard.money(k))
            for name, n, v, k in _group_totals(Contract.category, filters)]


def commissioner_totals(filters: Filters) -> list[dashboard.GroupTotal]:
    name = sa.func.coalesce(User.full_name, "Not recorded")
    rows = _group_totals(name, filters, (User, User.id == Opportunity.created_by_id))
    return [dashboard.GroupTotal(str(who), int(n), dashboard.money(v), dashboard.money(k)) for who, n, v, k in rows]


def pipeline(filters: Filters, now: datetime) -> list[dashboard.PipelineItem]:
    """Opportunities past their deadline, not yet awarded or cancelled (now: the quarter does not apply)."""
    received = _bids_received()
    rows = db.session.execute(
        sa.select(Opportunity.reference, Opportunity.title, Opportunity.status, Opportunity.submission_deadline,
                  sa.func.coalesce(received.c.bids, 0))
        .outerjoin(received, received.c.opportunity_id == Opportunity.id)
        .where(*_opportunity_conditions(filters, now),
               Opportunity.status.in_((lifecycle.PUBLISHED, *PIPELINE_STATES)))
        .order_by(Opportunity.submission_deadline, Opportunity.id)).all()
    return [dashboard.PipelineItem(reference, title, _stage(status), format_london(deadline), int(bids))
            for reference, title, status, deadline, bids in rows]


def _stage(status: str) -> str:
    """A published opportunity past its deadline is closed, whether or not the clock has recorded it yet."""
    return lifecycle.STATE_LABELS[lifecycle.CLOSED if status == lifecycle.PUBLISHED else status]


# Everything -------------------------------------------------------------------------------------------

def figures(filters: Filters, staff: bool, now: datetime) -> dashboard.Figures:
    """The dashboard's figures for these filters; the staff-only charts only when `staff`."""
    totals = supplier_totals(filters)
    themes, measures = dashboard.social_value(social_value_totals(filters))
    charts = [dashboard.supplier_shares(totals), dashboard.supply_chain(totals.value, *supply_chain_values(filters)),
              dashboard.local_commitments(totals), themes, measures,
              dashboard.right_to_bid(right_to_bid_counts(filters), rtb_rules.STATUS_LABELS),
              dashboard.bids_per_opportunity(bids_distribution(filters, now)),
              dashboard.days_to_award(days_to_award_bands(filters))]
    if staff:
        charts += [dashboard.by_category(category_totals(filters)),
                   dashboard.by_commissioner(commissioner_totals(filters)),
                   *dashboard.in_evaluation(pipeline(filters, now))]
    return dashboard.Figures(filters, dashboard.Headline.of(totals), tuple(charts), staff)
