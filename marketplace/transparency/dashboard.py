"""The spend dashboard's figures (pure): quarters of the council's financial year, shares, and the charts with the
table and the CSV each one carries.

Plain values in (the sums `kpis.py` gets from the database), frozen dataclasses out; no Flask, no database.
Every chart is a `Chart`: its columns, its rows of raw values (Decimals, ints, text), and which column its bars
show. The page and the PDF show the rows formatted (`Chart.table`); the CSV gives the raw values
(`Chart.csv_rows`), so a spreadsheet gets numbers, not "£1,250".

Quarters are quarters of the financial year, which starts on 1 April: 2026-Q1 is April to June 2026 and
2026-Q4 is January to March 2027. A contract falls in the quarter of the day (UK time) it was awarded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterable, Mapping, Sequence

from marketplace.bids.measures import BY_CODE, THEMES
from marketplace.timeutil import LONDON

HUNDRED = Decimal(100)
TENTH = Decimal("0.1")
PENNY = Decimal("0.01")


# Quarters ---------------------------------------------------------------------------------------------

QUARTER_PATTERN = re.compile(r"^(\d{4})-Q([1-4])$")
QUARTER_MONTHS = {1: (4, "April to June"), 2: (7, "July to September"), 3: (10, "October to December"),
                  4: (1, "January to March")}
QUARTER_RULE = ("Quarters are the council's financial year, which starts on 1 April: Q1 is April to June, Q2 July "
                "to September, Q3 October to December and Q4 January to March.")


@dataclass(frozen=True, order=True)
class Quarter:
    """A quarter of the financial year that starts in April of `year`."""

    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> "Quarter":
        """'2026-Q3' -> Quarter(2026, 3); ValueError for anything else."""
        match = QUARTER_PATTERN.match((text or "").strip().upper())
        if not match or not 2000 <= int(match.group(1)) <= 2100:
            raise ValueError(f"not a quarter: {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def containing(cls, day: date) -> "Quarter":
        year = day.year if day.month >= 4 else day.year - 1
        return cls(year, (day.month - 4) % 12 // 3 + 1)

    @property
    def key(self) -> str:
        return f"{self.year}-Q{self.number}"

    @property
    def first_day(self) -> date:
        month = QUARTER_MONTHS[self.number][0]
        return date(self.year + (1 if self.number == 4 else 0), month, 1)

    @property
    def next(self) -> "Quarter":
        return Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)

    @property
    def previous(self) -> "Quarter":
        return Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)

    @property
    def label(self) -> str:
        """'Q3 2026 to 2027 (October to December 2026)'."""
        months = QUARTER_MONTHS[self.number][1]
        return f"Q{self.number} {self.year} to {self.year + 1} ({months} {self.first_day.year})"

    def bounds(self) -> tuple[datetime, datetime]:
        """The first moment of the quarter and of the next one, UK time (aware; compare with UTC columns)."""
        return (datetime.combine(self.first_day, time(), LONDON),
                datetime.combine(self.next.first_day, time(), LONDON))


def recent_quarters(today: date, count: int = 12) -> list[Quarter]:
    """The quarter containing today and the ones before it, newest first."""
    quarters = [Quarter.containing(today)]
    while len(quarters) < count:
        quarters.append(quarters[-1].previous)
    return quarters


@dataclass(frozen=True)
class Filters:
    quarter: Quarter | None = None
    category: str = ""
    locality: str = ""

    def args(self) -> dict[str, str]:
        """The query-string arguments for these filters (for CSV and PDF links)."""
        values = {"quarter": self.quarter.key if self.quarter else "", "category": self.category,
                  "locality": self.locality}
        return {name: value for name, value in values.items() if value}


# Numbers ----------------------------------------------------------------------------------------------

def percent(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    """part as a percentage of whole, to one decimal place; None when the whole is nothing."""
    if not whole:
        return None
    return (Decimal(part) * HUNDRED / Decimal(whole)).quantize(TENTH, rounding=ROUND_HALF_UP)


def money(value: Decimal | int | None) -> Decimal:
    return Decimal(value or 0).quantize(PENNY, rounding=ROUND_HALF_UP)


def average(total: Decimal | int | float, count: int) -> Decimal | None:
    if not count:
        return None
    return (Decimal(str(total)) / count).quantize(TENTH, rounding=ROUND_HALF_UP)


def pounds(value: Decimal | int | None) -> str:
    """'£1,250' (whole pounds: a dashboard shows totals)."""
    return f"£{Decimal(value or 0):,.0f}"


def show_percent(value: Decimal | None) -> str:
    return "–" if value is None else f"{value}%"


def show_number(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, Decimal):
        return f"{value:,.0f}" if value == value.to_integral_value() else f"{value.normalize():,f}"
    return f"{value:,}"


FORMATS = {"text": lambda v: "" if v is None else str(v), "count": show_number, "money": pounds,
           "percent": show_percent, "number": show_number}


def plain(value: Any) -> str:
    """A value as the CSV gives it: numbers without separators or symbols, blanks for nothing."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:f}"
    return str(value)


# Charts -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    header: str
    kind: str = "text"  # text | count | money | percent | number

    @property
    def numeric(self) -> bool:
        return self.kind != "text"


@dataclass(frozen=True)
class Bar:
    label: str
    text: str
    fraction: Decimal  # 0..1 of the chart's width


@dataclass(frozen=True)
class Chart:
    """A chart, its table and its CSV. `bar` is the index of the column the bars show; `out_of_hundred` bars are
    drawn against 100% rather than against the largest value."""

    key: str
    title: str
    description: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]
    bar: int | None = 1
    out_of_hundred: bool = False
    staff_only: bool = False
    notes: tuple[str, ...] = ()

    @property
    def table(self) -> list[list[str]]:
        return [[FORMATS[column.kind](value) for column, value in zip(self.columns, row)] for row in self.rows]

    @property
    def headers(self) -> list[str]:
        return [column.header for column in self.columns]

    def csv_rows(self) -> list[list[str]]:
        return [[plain(value) for value in row] for row in self.rows]

    @property
    def bars(self) -> list[Bar]:
        if self.bar is None:
            return []
        values = [Decimal(row[self.bar] or 0) for row in self.rows]
        scale = HUNDRED if self.out_of_hundred else max(values, default=Decimal(0))
        return [Bar(str(row[0]), FORMATS[self.columns[self.bar].kind](row[self.bar]),
                    min(value / scale, Decimal(1)) if scale else Decimal(0))
                for row, value in zip(self.rows, values)]

    @property
    def is_empty(self) -> bool:
        return not self.rows or (self.bar is not None and all(not bar.fraction for bar in self.bars))



# Supplier shares: the headline --------------------------------------------------------------------------

@dataclass(frozen=True)
class SupplierTotals:
    """Sums over the awarded contracts that match the filters."""

    contracts: int = 0
    value: Decimal = Decimal(0)
    kent_contracts: int = 0
    kent_value: Decimal = Decimal(0)
    vcse_contracts: int = 0
    vcse_value: Decimal = Decimal(0)
    sme_contracts: int = 0
    sme_value: Decimal = Decimal(0)
    kent_spend: Decimal = Decimal(0)
    kent_jobs: int = 0
    kent_apprenticeships: int = 0


@dataclass(frozen=True)
class Headline:
    """The council's headline measure: the share of awarded value, and of contracts, won by Kent-based suppliers."""

    value_share: Decimal | None
    count_share: Decimal | None
    kent_value: Decimal
    value: Decimal
    kent_contracts: int
    contracts: int

    @classmethod
    def of(cls, totals: SupplierTotals) -> "Headline":
        return cls(percent(totals.kent_value, totals.value), percent(totals.kent_contracts, totals.contracts),
                   money(totals.kent_value), money(totals.value), totals.kent_contracts, totals.contracts)


SHARE_COLUMNS = (Column("Supplier"), Column("Share of value", "percent"), Column("Value", "money"),
                 Column("Share of contracts", "percent"), Column("Contracts", "count"))


def supplier_shares(totals: SupplierTotals) -> Chart:
    groups = (("Kent-based suppliers", totals.kent_value, totals.kent_contracts),
              ("Voluntary, community and social enterprises (VCSEs)", totals.vcse_value, totals.vcse_contracts),
              ("Small and medium-sized enterprises (SMEs)", totals.sme_value, totals.sme_contracts),
              ("All suppliers", totals.value, totals.contracts))
    rows = tuple((label, percent(value, totals.value), money(value), percent(count, totals.contracts), count)
                 for label, value, count in groups)
    return Chart("supplier-shares", "Who the money goes to",
                 "The share of the value of contracts awarded, and of the number of contracts, won by each kind of "
                 "supplier. A supplier can be more than one kind, so the shares add up to more than 100%.",
                 SHARE_COLUMNS, rows, bar=1, out_of_hundred=True)


def local_commitments(totals: SupplierTotals) -> Chart:
    rows = (("Spend in Kent committed by suppliers", money(totals.kent_spend)),
            ("Jobs for Kent residents", totals.kent_jobs),
            ("Apprenticeships for Kent residents", totals.kent_apprenticeships))
    return Chart("kent-commitments", "Kent local economy commitments",
                 "What suppliers committed in their bids to spend and employ in Kent, over the life of the contracts.",
                 (Column("Commitment"), Column("Total", "number")), rows, bar=None)


def supply_chain(total_value: Decimal, kent_chain: Decimal, other_chain: Decimal) -> Chart:
    """How the awarded value divides between the prime suppliers and their subcontractors and consortium members,
    from each contract's value times each member's share."""
    prime = max(money(total_value) - money(kent_chain) - money(other_chain), Decimal(0))
    parts = (("Kent-based subcontractors and consortium members", money(kent_chain)),
             ("Other subcontractors and consortium members", money(other_chain)),
             ("Prime suppliers", prime))
    rows = tuple((label, percent(value, total_value), value) for label, value in parts)
    return Chart("supply-chain", "Through subcontractors",
                 "The value of contracts passed on to subcontractors and consortium members, by their share of each "
                 "contract.",
                 (Column("Who delivers"), Column("Share of value", "percent"), Column("Value", "money")), rows,
                 bar=1, out_of_hundred=True)


# Social value by theme --------------------------------------------------------------------------------

@dataclass(frozen=True)
class MeasureTotal:
    measure: str
    unit: str
    quantity: Decimal
    contracts: int


OTHER_THEME = "Other commitments"


def theme_of(measure: str) -> str:
    known = BY_CODE.get(measure)
    return THEMES[known.theme] if known else OTHER_THEME


def unit_name(unit: str) -> str:
    """'pounds' for '£' (a table reads '5,000 pounds', not '5,000 £'); other units as the measure gives them."""
    return "pounds" if unit == "£" else unit


def measure_label(measure: str) -> str:
    known = BY_CODE.get(measure)
    return known.label if known else measure


def social_value(totals: Iterable[MeasureTotal]) -> tuple[Chart, Chart]:
    """Two charts: contracts committing to each theme, and the totals committed for each measure."""
    totals = sorted(totals, key=lambda t: (list(THEMES.values()) + [OTHER_THEME]).index(theme_of(t.measure)))
    per_theme: dict[str, int] = {name: 0 for name in THEMES.values()}
    for total in totals:
        per_theme[theme_of(total.measure)] = per_theme.get(theme_of(total.measure), 0) + total.contracts
    themes = Chart("social-value-themes", "Social value committed, by theme",
                   "How many commitments suppliers made under each theme of social value (a contract with "
                   "commitments to two measures of one theme counts twice).",
                   (Column("Theme"), Column("Commitments", "count")), tuple(per_theme.items()))
    measures = Chart("social-value-measures", "Social value committed, by measure",
                     "The total each measure adds up to across the contracts, in its own unit.",
                     (Column("Theme"), Column("Measure"), Column("Total committed", "number"), Column("Unit"),
                      Column("Contracts", "count")),
                     tuple((theme_of(t.measure), measure_label(t.measure), t.quantity.quantize(PENNY), unit_name(t.unit),
                            t.contracts) for t in totals), bar=None)
    return themes, measures


# Right to bid -----------------------------------------------------------------------------------------

def right_to_bid(counts: Mapping[str, int], labels: Mapping[str, str]) -> Chart:
    """Expressions of interest received, by where they stand now."""
    rows = tuple((labels[status], counts.get(status, 0)) for status in labels)
    rows += (("All proposals received", sum(counts.values())),)
    return Chart("right-to-bid", "Right-to-bid proposals and outcomes",
                 "Expressions of interest to run a council service received in the period, by their outcome.",
                 (Column("Outcome"), Column("Proposals", "count")), rows)


# Bids per opportunity ---------------------------------------------------------------------------------

BID_BANDS = (("No bids", 0, 0), ("1 bid", 1, 1), ("2 bids", 2, 2), ("3 or 4 bids", 3, 4),
             ("5 to 9 bids", 5, 9), ("10 or more bids", 10, None))


def bids_per_opportunity(distribution: Mapping[int, int]) -> Chart:
    """distribution: number of bids -> number of opportunities (past their deadline) that received that many."""
    rows = tuple((label, sum(n for bids, n in distribution.items() if bids >= low and (high is None or bids <= high)))
                 for label, low, high in BID_BANDS)
    opportunities = sum(distribution.values())
    bids = sum(b * n for b, n in distribution.items())
    mean = average(bids, opportunities)
    notes = (f"{opportunities} opportunit{'y' if opportunities == 1 else 'ies'} closed, with {bids} "
             f"bid{'' if bids == 1 else 's'} in all: {show_number(mean)} for each opportunity on average."
             if opportunities else "No opportunity closed in the period.",)
    return Chart("bids", "Bids per opportunity",
                 "How many bids each opportunity received, counted only once its deadline has passed.",
                 (Column("Bids received"), Column("Opportunities", "count")), rows, notes=notes)


# Days from publication to award -----------------------------------------------------------------------

DAY_BANDS = (("Up to 60 days", None, 60), ("61 to 90 days", 60, 90), ("91 to 120 days", 90, 120),
             ("121 to 180 days", 120, 180), ("More than 180 days", 180, None))


@dataclass(frozen=True)
class BandTotal:
    band: int  # index into DAY_BANDS
    contracts: int
    days: Decimal


def days_to_award(bands: Iterable[BandTotal]) -> Chart:
    found = {band.band: band for band in bands}
    rows = tuple((label, found[i].contracts if i in found else 0) for i, (label, _, _) in enumerate(DAY_BANDS))
    contracts = sum(band.contracts for band in found.values())
    mean = average(sum((band.days for band in found.values()), Decimal(0)), contracts)
    notes = (f"On average {show_number(mean)} days from publication to award." if contracts
             else "No contract was awarded in the period.",)
    return Chart("days-to-award", "Days from publication to award",
                 "How long each contract took from the opportunity's publication to the award.",
                 (Column("Time taken"), Column("Contracts", "count")), rows, notes=notes)


# For council staff ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class GroupTotal:
    name: str
    contracts: int
    value: Decimal
    kent_value: Decimal


GROUP_COLUMNS = (Column("Contracts", "count"), Column("Value", "money"),
                 Column("Share to Kent-based suppliers", "percent"))


def _groups(groups: Sequence[GroupTotal]) -> tuple[tuple, ...]:
    return tuple((g.name, g.contracts, money(g.value), percent(g.kent_value, g.value)) for g in groups)


def by_category(groups: Sequence[GroupTotal]) -> Chart:
    return Chart("by-category", "Awarded value by category",
                 "Contracts awarded in each category of spend, and the share of their value won by Kent-based "
                 "suppliers.", (Column("Category"), *GROUP_COLUMNS), _groups(groups), bar=2, staff_only=True)


def by_commissioner(groups: Sequence[GroupTotal]) -> Chart:
    return Chart("by-commissioner", "Awarded value by commissioner",
                 "Contracts awarded from the opportunities each commissioner wrote.",
                 (Column("Commissioner"), *GROUP_COLUMNS), _groups(groups), bar=2, staff_only=True)


@dataclass(frozen=True)
class PipelineItem:
    reference: str
    title: str
    state: str
    deadline: str
    bids: int


def in_evaluation(items: Sequence[PipelineItem]) -> tuple[Chart, Chart]:
    """Opportunities past their deadline and not yet awarded: how many at each stage, and the list."""
    stages: dict[str, int] = {}
    for item in items:
        stages[item.state] = stages.get(item.state, 0) + 1
    summary = Chart("pipeline", "Opportunities between the deadline and the award",
                    "Opportunities whose deadline has passed that are not yet awarded or cancelled, by stage, now "
                    "(whatever the quarter).", (Column("Stage"), Column("Opportunities", "count")),
                    tuple(stages.items()), staff_only=True)
    listing = Chart("pipeline-list", "Opportunities in evaluation", "Each opportunity, its stage and its bids.",
                    (Column("Reference"), Column("Title"), Column("Stage"), Column("Deadline"),
                     Column("Bids received", "count")),
                    tuple((i.reference, i.title, i.state, i.deadline, i.bids) for i in items), bar=None,
                    staff_only=True)
    return summary, listing


@dataclass(frozen=True)
class Figures:
    """Everything the dashboard, its CSVs and the KPI report show."""

    filters: Filters
    headline: Headline
    charts: tuple[Chart, ...]
    staff: bool = False

    def chart(self, key: str) -> Chart | None:
        return next((chart for chart in self.charts if chart.key == key), None)

    def filename(self, chart: Chart) -> str:
        """'spending-supply-chain-2026-Q3.csv': what, and for which quarter."""
        quarter = f"-{self.filters.quarter.key}" if self.filters.quarter else ""
        return f"spending-{chart.key}{quarter}.csv"

    @property
    def public_charts(self) -> tuple[Chart, ...]:
        return tuple(chart for chart in self.charts if not chart.staff_only)

    @property
    def staff_charts(self) -> tuple[Chart, ...]:
        return tuple(chart for chart in self.charts if chart.staff_only)
