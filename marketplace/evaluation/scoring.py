"""The scoring engine (pure): frozen dataclasses in, results out.

`evaluate(criteria, bids, settings)` checks the input, then works out, over the compliant bids only:

- exclusions: a failed pass/fail criterion, or a panel score under a criterion's minimum, excludes the bid with
  the reason; an excluded bid takes no part in the price comparison, the highest Kent share, the ranking or the
  abnormally-low check, and gets no points;
- points per scored criterion, kept unrounded (`Decimal`, 28 significant digits, whatever the caller's context):
  panel-scored `score / scale_max x weight`; price `relative_lowest` (`lowest / price x weight`),
  `deviation_from_lowest` (`weight x max(0, 1 - factor x (price - lowest) / lowest)`, factor 1 by default) or
  `linear_bounds` (`weight x (max_price - price) / (max_price - min_price)`, clipped to 0..weight); Kent local
  economy scored by the panel, `relative_highest` (`share / highest share x weight`) or `target`
  (`min(share / target, 1) x weight`);
- totals (the sum of the unrounded points) and ranks: higher total first; equal totals are broken by the rule stated
  in advance (higher quality plus public value points, then the lower price); a tie that survives shares the rank
  and, at the top, leaves `winner` empty and lists the `tied` bids for a recorded decision;
- abnormally low prices: a compliant bid priced `abnormally_low_mean_pct`% or more under the mean of the other
  compliant bids, or `abnormally_low_next_pct`% or more under the next lowest compliant price (the lowest other
  price at or above its own), is flagged;
- sensitivity: for the winner, per scored criterion, the smallest shift of that criterion's weight (taken from or
  given to the other scored criteria in proportion to their weights) at which another bid draws level, and the
  smallest of those.

Points are `weight x unit` where the unit score (0..1) does not depend on the weights, so totals are linear in the
weights and the sensitivity is solved exactly rather than searched.

Totals are compared to 12 decimal places: closer than that, two totals differ only by the arithmetic's last digit
(1/3 x 60 + 2/3 x 60 against 60), not by anything a panel did. Rounding for display (2 places, half up) is the
caller's job: see `engine_io`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, localcontext
from types import MappingProxyType

from marketplace.evaluation.model_rules import (
    KINDS,
    LOCAL_ECONOMY,
    LOCAL_ECONOMY_METHODS,
    PANEL_SCORED_KINDS,
    PASS_FAIL,
    PRICE,
    PRICE_METHODS,
    SCORED_KINDS,
)

ZERO, ONE, HUNDRED = Decimal(0), Decimal(1), Decimal(100)
PRECISION = 28
TIE_QUANTUM = Decimal("1E-12")
PERCENT_SHOWN = Decimal("0.1")
ABNORMALLY_LOW = "abnormally_low"
COMPUTED_LOCAL_METHODS = frozenset({"relative_highest", "target"})
# The parameters each method takes, and which of them must be given.
METHOD_PARAMS = {
    "relative_lowest": (), "deviation_from_lowest": ("factor",), "linear_bounds": ("min_price", "max_price"),
    "panel": (), "relative_highest": (), "target": ("target",),
}
REQUIRED_PARAMS = {"linear_bounds": ("min_price", "max_price"), "target": ("target",)}
TIE_BREAK_KINDS = frozenset({"quality", "social_value"})


# The input ----------------------------------------------------------------------------------------

def _frozen(mapping: Mapping | None) -> Mapping:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class Criterion:
    id: str
    kind: str
    weight: Decimal | None = None
    scale_max: int = 5
    min_score: Decimal | None = None
    method: str | None = None
    params: Mapping[str, Decimal] = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "params", _frozen(self.params))

    @property
    def is_scored(self) -> bool:
        return self.kind in SCORED_KINDS

    @property
    def is_panel_scored(self) -> bool:
        return self.kind in PANEL_SCORED_KINDS or (self.kind == LOCAL_ECONOMY and self.method == "panel")

    @property
    def uses_share(self) -> bool:
        return self.kind == LOCAL_ECONOMY and self.method in COMPUTED_LOCAL_METHODS


@dataclass(frozen=True)
class Bid:
    id: str
    price: Decimal | None = None
    pass_fail: Mapping[str, bool] = field(default_factory=dict)
    scores: Mapping[str, Decimal] = field(default_factory=dict)
    local_economy_share: Decimal | None = None

    def __post_init__(self):
        object.__setattr__(self, "pass_fail", _frozen(self.pass_fail))
        object.__setattr__(self, "scores", _frozen(self.scores))


@dataclass(frozen=True)
class Settings:
    """Abnormally-low thresholds, in per cent (the portal's settings `abnormally_low_*_pct`)."""

    abnormally_low_mean_pct: Decimal = Decimal(40)
    abnormally_low_next_pct: Decimal = Decimal(30)


# The output ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BidResult:
    id: str
    excluded: bool
    reasons: tuple[str, ...] = ()
    points: Mapping[str, Decimal] = field(default_factory=dict)  # unrounded, per scored criterion id
    total: Decimal | None = None  # unrounded; None when excluded
    rank: int | None = None  # shared by a tie that survives the tie-break rule; None when excluded
    flags: tuple[str, ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "points", _frozen(self.points))

    @property
    def abnormally_low(self) -> bool:
        return any(flag.startswith(ABNORMALLY_LOW + ":") for flag in self.flags)


@dataclass(frozen=True)
class WeightShift:
    """Moving `criterion`'s weight by `shift` percentage points (negative: lower) lets `challenger` draw level.
    `shift` is None when no shift of this criterion's weight, from 0 to 100, changes the winner."""

    criterion: str
    weight: Decimal
    shift: Decimal | None = None
    challenger: str | None = None

    @property
    def new_weight(self) -> Decimal | None:
        return None if self.shift is None else self.weight + self.shift


@dataclass(frozen=True)
class Sensitivity:
    leader: str
    smallest: WeightShift | None  # None: no single weight shift changes the winner
    by_criterion: tuple[WeightShift, ...]


@dataclass(frozen=True)
class Result:
    bids: tuple[BidResult, ...]  # ranked bids in rank order, then excluded bids in input order
    winner: str | None
    tied: tuple[str, ...]  # the bids still tied for first place after the tie-break rule
    decided_by: str | None  # total | quality_and_public_value_points | lower_price | only_compliant_bid | tie
    sensitivity: Sensitivity | None


class ModelError(ValueError):
    """The input cannot be scored. `field` names the first problem (`criteria[2].weight`); `problems` holds every
    (field, message) pair found."""

    def __init__(self, field: str, message: str, more: Iterable[tuple[str, str]] = ()):
        self.field, self.message = field, message
        self.problems = ((field, message), *more)
        super().__init__(f"{field}: {message}")

    @classmethod
    def from_problems(cls, problems: Sequence[tuple[str, str]]) -> ModelError:
        return cls(*problems[0], more=problems[1:])


# Checking the input -------------------------------------------------------------------------------

def fmt(value: Decimal) -> str:
    """A number as written by a person: 95, 2.5 (no exponent, no trailing zeros)."""
    return f"{value.normalize():f}"


def _duplicates(ids: Sequence[str], prefix: str, what: str) -> list[tuple[str, str]]:
    seen, problems = set(), []
    for index, value in enumerate(ids):
        if not value or not str(value).strip():
            problems.append((f"{prefix}[{index}].id", f"give the {what} an id"))
        elif value in seen:
            problems.append((f"{prefix}[{index}].id", f"another {what} has the id {value!r}; ids must be unique"))
        seen.add(value)
    return problems


def _weight_problems(criterion: Criterion) -> list[str]:
    if not criterion.is_scored:
        return ["a pass or fail criterion has no weight"] if criterion.weight else []
    if criterion.weight is None:
        return ["give this criterion a weight"]
    if not ZERO < criterion.weight <= HUNDRED:
        return ["a weight must be more than 0 and no more than 100"]
    return []


def _method_problems(criterion: Criterion) -> list[str]:
    choices = {PRICE: PRICE_METHODS, LOCAL_ECONOMY: LOCAL_ECONOMY_METHODS}.get(criterion.kind)
    if choices is None:
        return [] if criterion.method is None else [f"a {criterion.kind} criterion takes no method"]
    if criterion.method not in choices:
        given = "no method" if criterion.method is None else f"unknown method {criterion.method!r}"
        return [f"{given} for a {criterion.kind} criterion; use one of {', '.join(choices)}"]
    return []


def _param_problems(criterion: Criterion) -> list[tuple[str, str]]:
    method, params = criterion.method or "", criterion.params
    problems = [(name, f"{method or 'this criterion'} takes no {name}")
                for name in params if name not in METHOD_PARAMS.get(method, ())]
    problems += [(name, f"{method} needs a {name}") for name in REQUIRED_PARAMS.get(method, ()) if name not in params]
    return problems or _param_value_problems(method, params)


def _param_value_problems(method: str, params: Mapping[str, Decimal]) -> list[tuple[str, str]]:
    problems = []
    if "factor" in params and params["factor"] <= ZERO:
        problems.append(("factor", "the deviation factor must be more than 0"))
    if method == "linear_bounds" and params["min_price"] < ZERO:
        problems.append(("min_price", "the minimum price cannot be negative"))
    if method == "linear_bounds" and params["max_price"] <= params["min_price"]:
        problems.append(("max_price", "the maximum price must be more than the minimum price"))
    if "target" in params and not ZERO < params["target"] <= ONE:
        problems.append(("target", "the target Kent share must be more than 0 and no more than 1"))
    return problems


def _scale_problems(criterion: Criterion) -> list[tuple[str, str]]:
    if not criterion.is_panel_scored:
        return [] if criterion.min_score is None else [("min_score", "only panel-scored criteria have a minimum")]
    if isinstance(criterion.scale_max, bool) or not isinstance(criterion.scale_max, int) or criterion.scale_max < 1:
        return [("scale_max", "the scale must run from 0 to a whole number of at least 1")]
    if criterion.min_score is not None and not ZERO <= criterion.min_score <= criterion.scale_max:
        return [("min_score", f"the minimum score must be between 0 and {criterion.scale_max}")]
    return []


def _criterion_problems(index: int, criterion: Criterion) -> list[tuple[str, str]]:
    at = f"criteria[{index}]"
    if criterion.kind not in KINDS:
        return [(f"{at}.kind", f"unknown kind {criterion.kind!r}; use one of {', '.join(KINDS)}")]
    problems = [(f"{at}.weight", m) for m in _weight_problems(criterion)]
    problems += [(f"{at}.method", m) for m in _method_problems(criterion)]
    if not problems:
        problems += [(f"{at}.{name}", m) for name, m in _param_problems(criterion) + _scale_problems(criterion)]
    return problems


def _model_problems(criteria: Sequence[Criterion]) -> list[tuple[str, str]]:
    scored = [(i, c) for i, c in enumerate(criteria) if c.is_scored]
    if not scored:
        return [("criteria", "add at least one scored criterion (price, quality, social_value or local_economy)")]
    price_indexes = [i for i, c in scored if c.kind == PRICE]
    problems = [(f"criteria[{i}].kind", "use one price criterion: a bid has one price") for i in price_indexes[1:]]
    weights = [c.weight for _, c in scored]
    if all(w is not None and ZERO < w <= HUNDRED for w in weights) and (total := sum(weights, ZERO)) != HUNDRED:
        problems.append((f"criteria[{scored[-1][0]}].weight",
                         f"weights add up to {fmt(total)}, they must add up to 100"))
    return problems


def _settings_problems(settings: Settings) -> list[tuple[str, str]]:
    return [(f"settings.{name}", "a threshold must be more than 0 and less than 100")
            for name in ("abnormally_low_mean_pct", "abnormally_low_next_pct")
            if not ZERO < getattr(settings, name) < HUNDRED]


def criteria_problems(criteria: Sequence[Criterion], settings: Settings) -> list[tuple[str, str]]:
    problems = _duplicates([c.id for c in criteria], "criteria", "criterion")
    for index, criterion in enumerate(criteria):
        problems += _criterion_problems(index, criterion)
    return problems + _model_problems(criteria) + _settings_problems(settings)


def _price_problems(bid: Bid, has_price: bool) -> list[str]:
    if bid.price is None:
        return ["enter the price: the model scores price"] if has_price else []
    if bid.price < ZERO:
        return ["a price cannot be negative"]
    if bid.price == ZERO:
        return ["a price of 0 cannot be scored (relative to the lowest price it would divide by zero); "
                "enter the price bid"]
    return []


def _answer_problems(bid: Bid, by_id: Mapping[str, Criterion]) -> list[tuple[str, str]]:
    problems = [(f"pass_fail.{cid}", "no pass or fail criterion has this id")
                for cid in bid.pass_fail if by_id.get(cid) is None or by_id[cid].kind != PASS_FAIL]
    for cid, score in bid.scores.items():
        criterion = by_id.get(cid)
        if criterion is None or not criterion.is_panel_scored:
            problems.append((f"scores.{cid}", "no panel-scored criterion has this id"))
        elif not ZERO <= score <= criterion.scale_max:
            problems.append((f"scores.{cid}", f"a score must be between 0 and {criterion.scale_max}"))
    share = bid.local_economy_share
    if share is not None and not ZERO <= share <= ONE:
        problems.append(("local_economy_share", "a Kent share must be between 0 and 1 (0.45 means 45%)"))
    return problems


def _completeness_problems(bid: Bid, criteria: Sequence[Criterion]) -> list[tuple[str, str]]:
    """What a bid that is not excluded must have: every pass/fail answer, every panel score, a Kent share."""
    problems = [(f"pass_fail.{c.id}", "record whether the bid passes") for c in criteria
                if c.kind == PASS_FAIL and c.id not in bid.pass_fail]
    problems += [(f"scores.{c.id}", "enter the panel's score") for c in criteria
                 if c.is_panel_scored and c.id not in bid.scores]
    if bid.local_economy_share is None and any(c.uses_share for c in criteria):
        problems.append(("local_economy_share", "enter the Kent share the bid commits to (0 to 1)"))
    return problems


def bid_problems(criteria: Sequence[Criterion], bids: Sequence[Bid]) -> list[tuple[str, str]]:
    """Bid problems, assuming the criteria are sound."""
    by_id = {c.id: c for c in criteria}
    has_price = any(c.kind == PRICE for c in criteria)
    problems = _duplicates([b.id for b in bids], "bids", "bid")
    if not bids:
        problems.append(("bids", "add at least one bid"))
    for index, bid in enumerate(bids):
        found = [("price", m) for m in _price_problems(bid, has_price)] + _answer_problems(bid, by_id)
        if not found and not exclusion_reasons(bid, criteria):
            found = _completeness_problems(bid, criteria)
        problems += [(f"bids[{index}].{name}", message) for name, message in found]
    return problems


def validate(criteria: Sequence[Criterion], bids: Sequence[Bid], settings: Settings) -> None:
    """Raise ModelError listing every problem; the bids are checked once the criteria are sound."""
    problems = criteria_problems(criteria, settings) or bid_problems(criteria, bids)
    if problems:
        raise ModelError.from_problems(problems)


# Exclusions and points ----------------------------------------------------------------------------

def exclusion_reasons(bid: Bid, criteria: Sequence[Criterion]) -> tuple[str, ...]:
    reasons = []
    for c in criteria:
        if c.kind == PASS_FAIL and bid.pass_fail.get(c.id) is False:
            reasons.append(f"{c.id}: failed this pass or fail criterion")
        score = bid.scores.get(c.id)
        if c.is_panel_scored and c.min_score is not None and score is not None and score < c.min_score:
            reasons.append(f"{c.id}: scored {fmt(score)}, under the minimum score of {fmt(c.min_score)}")
    return tuple(reasons)


@dataclass(frozen=True)
class _Field:
    """What a computed criterion compares against, over the compliant bids."""

    lowest_price: Decimal | None
    highest_share: Decimal | None


def _field_of(compliant: Sequence[Bid]) -> _Field:
    prices = [b.price for b in compliant if b.price is not None]
    shares = [b.local_economy_share for b in compliant if b.local_economy_share is not None]
    return _Field(min(prices, default=None), max(shares, default=None))


def _price_unit(criterion: Criterion, price: Decimal, lowest: Decimal) -> Decimal:
    if criterion.method == "relative_lowest":
        return lowest / price
    if criterion.method == "deviation_from_lowest":
        factor = criterion.params.get("factor", ONE)
        return max(ZERO, ONE - factor * (price - lowest) / lowest)
    low, high = criterion.params["min_price"], criterion.params["max_price"]
    return min(ONE, max(ZERO, (high - price) / (high - low)))


def _local_unit(criterion: Criterion, share: Decimal, highest: Decimal) -> Decimal:
    if criterion.method == "relative_highest":
        return ZERO if highest == ZERO else share / highest
    return min(share / criterion.params["target"], ONE)


def unit_score(criterion: Criterion, bid: Bid, field_: _Field) -> Decimal:
    """The share (0..1) of the criterion's weight this compliant bid earns; it does not depend on the weights."""
    if criterion.is_panel_scored:
        return bid.scores[criterion.id] / criterion.scale_max
    if criterion.kind == PRICE:
        return _price_unit(criterion, bid.price, field_.lowest_price)
    return _local_unit(criterion, bid.local_economy_share, field_.highest_share)


# Ranking ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Scored:
    bid: Bid
    units: Mapping[str, Decimal]
    points: Mapping[str, Decimal]
    total: Decimal
    tie_break_points: Decimal

    @property
    def key(self) -> tuple:
        """Sort key: higher total, then higher quality and public value points, then lower price."""
        price = self.bid.price if self.bid.price is not None else ZERO
        return (-self.total.quantize(TIE_QUANTUM, ROUND_HALF_EVEN),
                -self.tie_break_points.quantize(TIE_QUANTUM, ROUND_HALF_EVEN), price)


def _score(bid: Bid, scored_criteria: Sequence[Criterion], field_: _Field) -> _Scored:
    units = {c.id: unit_score(c, bid, field_) for c in scored_criteria}
    points = {c.id: c.weight * units[c.id] for c in scored_criteria}
    tie_break = sum((points[c.id] for c in scored_criteria if c.kind in TIE_BREAK_KINDS), ZERO)
    return _Scored(bid, units, points, sum(points.values(), ZERO), tie_break)


def _ranks(ranked: Sequence[_Scored]) -> list[int]:
    """Standard competition ranks (1, 2, 2, 4): a surviving tie shares the rank."""
    ranks = []
    for position, entry in enumerate(ranked):
        same = position and entry.key == ranked[position - 1].key
        ranks.append(ranks[-1] if same else position + 1)
    return ranks


def _decided_by(ranked: Sequence[_Scored], ranks: Sequence[int]) -> str | None:
    if not ranked:
        return None
    if len(ranked) == 1:
        return "only_compliant_bid"
    if ranks[1] == 1:
        return "tie"
    first, second = ranked[0].key, ranked[1].key
    if first[0] != second[0]:
        return "total"
    return "quality_and_public_value_points" if first[1] != second[1] else "lower_price"


# Abnormally low prices ----------------------------------------------------------------------------

def _percent_under(price: Decimal, reference: Decimal) -> Decimal:
    return (reference - price) / reference * HUNDRED


def _shown(percent: Decimal) -> str:
    return f"{percent.quantize(PERCENT_SHOWN, ROUND_HALF_UP)}%"


def abnormally_low_flags(compliant: Sequence[Bid], settings: Settings) -> dict[str, tuple[str, ...]]:
    """Flags per bid id. The next lowest price of a bid is the lowest other compliant price at or above its own
    (an equal price counts, so two bids at the same low price do not flag each other)."""
    priced = sorted((b for b in compliant if b.price is not None), key=lambda b: b.price)
    if len(priced) < 2:
        return {}
    total, count = sum((b.price for b in priced), ZERO), len(priced)
    flags: dict[str, tuple[str, ...]] = {}
    for position, bid in enumerate(priced):
        found = []
        under_mean = _percent_under(bid.price, (total - bid.price) / (count - 1))
        if under_mean >= settings.abnormally_low_mean_pct:
            found.append(f"{ABNORMALLY_LOW}: {_shown(under_mean)} under the mean of the other compliant bids")
        next_bid = _next_lowest(priced, position)
        under_next = None if next_bid is None else _percent_under(bid.price, next_bid.price)
        if under_next is not None and under_next >= settings.abnormally_low_next_pct:
            found.append(f"{ABNORMALLY_LOW}: {_shown(under_next)} under the next lowest compliant price "
                         f"({next_bid.id})")
        if found:
            flags[bid.id] = tuple(found)
    return flags


def _next_lowest(priced: Sequence[Bid], position: int) -> Bid | None:
    """In bids sorted by price, the other bid with the lowest price at or above this one's: a neighbour."""
    bid = priced[position]
    neighbours = [b for b in priced[max(position - 1, 0):position + 2] if b is not bid and b.price >= bid.price]
    return min(neighbours, key=lambda b: b.price, default=None)


# Sensitivity ---------------------------------------------------------------------------------------

def _slope(entry: _Scored, criterion: Criterion, rest: Decimal) -> Decimal:
    """How the bid's total moves per percentage point added to `criterion` (and taken from the others in
    proportion): T(d) = T + d x (u_c - (T - w_c x u_c) / (100 - w_c))."""
    unit = entry.units[criterion.id]
    return unit - (entry.total - criterion.weight * unit) / rest


def _shift_for(criterion: Criterion, ranked: Sequence[_Scored]) -> WeightShift:
    rest = HUNDRED - criterion.weight
    best = WeightShift(criterion.id, criterion.weight)
    if rest == ZERO:
        return best
    leader = ranked[0]
    leader_slope = _slope(leader, criterion, rest)
    for challenger in ranked[1:]:
        closing = _slope(challenger, criterion, rest) - leader_slope
        if closing == ZERO:
            continue
        shift = (leader.total - challenger.total) / closing
        if -criterion.weight <= shift <= rest and (best.shift is None or abs(shift) < abs(best.shift)):
            best = WeightShift(criterion.id, criterion.weight, shift, challenger.bid.id)
    return best


def sensitivity(ranked: Sequence[_Scored], scored_criteria: Sequence[Criterion]) -> Sensitivity | None:
    """None when there is no single winner to test (fewer than two compliant bids, or a tie at the top)."""
    if len(ranked) < 2 or ranked[0].key == ranked[1].key:
        return None
    shifts = tuple(_shift_for(c, ranked) for c in scored_criteria)
    found = [s for s in shifts if s.shift is not None]
    smallest = min(found, key=lambda s: abs(s.shift)) if found else None
    return Sensitivity(ranked[0].bid.id, smallest, shifts)


# The engine ----------------------------------------------------------------------------------------

def evaluate(criteria: Sequence[Criterion], bids: Sequence[Bid], settings: Settings = Settings()) -> Result:
    """Score the bids against the criteria. Raises ModelError when the input cannot be scored."""
    with localcontext() as context:
        context.prec, context.rounding = PRECISION, ROUND_HALF_EVEN
        validate(criteria, bids, settings)
        return _evaluate(tuple(criteria), tuple(bids), settings)


def _evaluate(criteria: tuple[Criterion, ...], bids: tuple[Bid, ...], settings: Settings) -> Result:
    reasons = {b.id: exclusion_reasons(b, criteria) for b in bids}
    compliant = [b for b in bids if not reasons[b.id]]
    scored_criteria = [c for c in criteria if c.is_scored]
    field_ = _field_of(compliant)
    ranked = sorted((_score(b, scored_criteria, field_) for b in compliant), key=lambda s: s.key)
    ranks = _ranks(ranked)
    flags = abnormally_low_flags(compliant, settings)
    results = [BidResult(s.bid.id, False, (), s.points, s.total, rank, flags.get(s.bid.id, ()))
               for s, rank in zip(ranked, ranks)]
    results += [BidResult(b.id, True, reasons[b.id]) for b in bids if reasons[b.id]]
    top = tuple(s.bid.id for s, rank in zip(ranked, ranks) if rank == 1)
    return Result(
        bids=tuple(results),
        winner=top[0] if len(top) == 1 else None,
        tied=top if len(top) > 1 else (),
        decided_by=_decided_by(ranked, ranks),
        sensitivity=sensitivity(ranked, scored_criteria),
    )
