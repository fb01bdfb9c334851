"""Rules for an evaluation model (pure): weights, scales, price methods, public value, lawful Kent criteria.

Frozen dataclasses in, a list of problems out; no Flask, no database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

PASS_FAIL = "pass_fail"  # nosec B105 # a criterion kind, not a password
PRICE = "price"
QUALITY = "quality"
SOCIAL_VALUE = "social_value"
LOCAL_ECONOMY = "local_economy"

KINDS = {
    PASS_FAIL: "Pass or fail",
    PRICE: "Price",
    QUALITY: "Quality",
    SOCIAL_VALUE: "Public value (social value)",
    LOCAL_ECONOMY: "Kent local economy",
}
SCORED_KINDS = frozenset({PRICE, QUALITY, SOCIAL_VALUE, LOCAL_ECONOMY})
PANEL_SCORED_KINDS = frozenset({QUALITY, SOCIAL_VALUE})

PRICE_METHODS = {
    "relative_lowest": "Relative to the lowest price (lowest ÷ price × weight)",
    "deviation_from_lowest": "Deviation from the lowest price",
    "linear_bounds": "Linear between a set minimum and maximum price",
}
LOCAL_ECONOMY_METHODS = {
    "panel": "Scored by the panel on the scale",
    "relative_highest": "Relative to the highest committed Kent share",
    "target": "Against a target Kent share",
}

DEFAULT_DESCRIPTORS = (
    "0 – No response, or the response does not answer the question",
    "1 – Poor: significant gaps or concerns",
    "2 – Limited: meets some of the requirement with gaps",
    "3 – Good: meets the requirement",
    "4 – Very good: meets the requirement with some added value",
    "5 – Excellent: exceeds the requirement with clear evidence",
)

HUNDRED = Decimal("100")
PUBLIC_VALUE_FLOOR = Decimal("10")
WORD_LIMIT_RANGE = (50, 5000)


@dataclass(frozen=True)
class CriterionSpec:
    kind: str
    title: str
    weight: Decimal | None = None
    scale_max: int = 5
    min_score: Decimal | None = None
    word_limit: int | None = None
    method: str | None = None
    params: dict = field(default_factory=dict)
    scores_location: bool = False


@dataclass(frozen=True)
class ModelSpec:
    criteria: tuple[CriterionSpec, ...]
    low_public_value_reason: str | None = None


@dataclass(frozen=True)
class Context:
    """What the model is checked against: the opportunity's reservation and whether it is below threshold."""

    reservation: str = "none"
    below_threshold: bool = True


@dataclass(frozen=True)
class Problem:
    field: str  # "model", "weights", "public_value" or "criterion-<index>"
    message: str


def total_weight(model: ModelSpec) -> Decimal:
    return sum((c.weight or Decimal(0) for c in model.criteria if c.kind in SCORED_KINDS), Decimal(0))


def public_value_weight(model: ModelSpec) -> Decimal:
    return sum((c.weight or Decimal(0) for c in model.criteria if c.kind == SOCIAL_VALUE), Decimal(0))


LOCATION_REFUSAL = (
    "A criterion that scores where a bidder is based is lawful only under a below-threshold reservation "
    "for Kent-established suppliers. Score what bidders commit to deliver in Kent instead, such as "
    "spend with Kent suppliers or Kent-resident jobs.")


def criterion_field_problems(criterion: CriterionSpec, context: Context) -> list[Problem]:
    """What is wrong with one criterion, each problem naming the part it is about: kind, weight, scale_max,
    min_score, word_limit, method, factor, min_price, max_price, target or scores_location."""
    if criterion.kind not in KINDS:
        return [Problem("kind", "Choose a kind of criterion from the list")]
    problems = _weight_problems(criterion) + _scale_problems(criterion) + _method_problems(criterion)
    if criterion.scores_location and not (context.below_threshold and context.reservation != "none"):
        problems.append(Problem("scores_location", LOCATION_REFUSAL))
    return problems


def criterion_problems(criterion: CriterionSpec, context: Context) -> list[str]:
    """What is wrong with one criterion, in words for the commissioner."""
    return [problem.message for problem in criterion_field_problems(criterion, context)]


def _weight_problems(criterion: CriterionSpec) -> list[Problem]:
    if criterion.kind == PASS_FAIL:
        return [Problem("weight", "A pass or fail question has no weight")] if criterion.weight else []
    if criterion.weight is None or criterion.weight <= 0:
        return [Problem("weight", "Give this criterion a weight above 0")]
    if criterion.weight > HUNDRED:
        return [Problem("weight", "A weight cannot be more than 100")]
    return []


def is_panel_scored(criterion: CriterionSpec) -> bool:
    """Scored by evaluators on the scale (rather than by a formula, or pass or fail)."""
    return criterion.kind in PANEL_SCORED_KINDS or (criterion.kind == LOCAL_ECONOMY and criterion.method == "panel")


def _scale_problems(criterion: CriterionSpec) -> list[Problem]:
    problems = []
    if is_panel_scored(criterion):
        if not 1 <= criterion.scale_max <= 10:
            problems.append(Problem("scale_max", "The scale must run from 0 to between 1 and 10"))
        if criterion.min_score is not None and not 0 <= criterion.min_score <= criterion.scale_max:
            problems.append(Problem("min_score", f"The minimum score must be between 0 and {criterion.scale_max}"))
    if criterion.word_limit is not None and not WORD_LIMIT_RANGE[0] <= criterion.word_limit <= WORD_LIMIT_RANGE[1]:
        problems.append(Problem("word_limit", f"The word limit must be between {WORD_LIMIT_RANGE[0]} and "
                                              f"{WORD_LIMIT_RANGE[1]}"))
    return problems


def _decimal_param(criterion: CriterionSpec, name: str) -> Decimal | None:
    value = criterion.params.get(name)
    try:
        value = None if value in (None, "") else Decimal(str(value))
    except ArithmeticError:
        return None
    return value if value is None or value.is_finite() else None


def _method_problems(criterion: CriterionSpec) -> list[Problem]:
    if criterion.kind == PRICE:
        return _price_method_problems(criterion)
    if criterion.kind == LOCAL_ECONOMY:
        return _local_method_problems(criterion)
    return []


def _price_method_problems(criterion: CriterionSpec) -> list[Problem]:
    if criterion.method not in PRICE_METHODS:
        return [Problem("method", "Choose how price is scored")]
    if criterion.method == "deviation_from_lowest":
        factor = _decimal_param(criterion, "factor")
        if factor is not None and not Decimal("0") < factor <= Decimal("10"):
            return [Problem("factor", "The deviation factor must be above 0 and no more than 10")]
    if criterion.method == "linear_bounds":
        low, high = _decimal_param(criterion, "min_price"), _decimal_param(criterion, "max_price")
        if low is None or high is None:
            return [Problem("min_price" if low is None else "max_price",
                            "Enter the minimum and maximum prices for linear scoring")]
        if low < 0 or high <= low:
            return [Problem("max_price", "The maximum price must be more than the minimum price, and neither "
                                         "below £0")]
    return []


def _local_method_problems(criterion: CriterionSpec) -> list[Problem]:
    if criterion.method not in LOCAL_ECONOMY_METHODS:
        return [Problem("method", "Choose how the Kent local economy criterion is scored")]
    if criterion.method == "target":
        target = _decimal_param(criterion, "target")
        if target is None or not Decimal("0.01") <= target <= Decimal("1"):
            return [Problem("target", "Enter a target Kent share between 1% and 100%")]
    return []


def model_problems(model: ModelSpec, context: Context) -> list[Problem]:
    """Everything that stops this model being used; empty when it is ready for approval."""
    problems = [Problem(f"criterion-{index}", message)
                for index, criterion in enumerate(model.criteria)
                for message in criterion_problems(criterion, context)]
    scored = [c for c in model.criteria if c.kind in SCORED_KINDS]
    if not scored:
        problems.append(Problem("model", "Add at least one scored criterion"))
    if sum(1 for c in model.criteria if c.kind == PRICE) > 1:
        problems.append(Problem("model", "Use one price criterion; put price lines in the price schedule"))
    total = total_weight(model)
    if scored and total != HUNDRED:
        problems.append(Problem("weights", f"The weights add up to {_fmt(total)}. They must add up to exactly 100."))
    if scored and public_value_weight(model) < PUBLIC_VALUE_FLOOR and not (model.low_public_value_reason or "").strip():
        problems.append(Problem("public_value", "Public value is weighted under 10%. Record the reason, or give it "
                                                "more weight."))
    return problems


def _fmt(value: Decimal) -> str:
    return f"{value.normalize():f}"


def plain_words(criterion: CriterionSpec) -> str:
    """How a criterion is scored, in a sentence for bidders."""
    if criterion.kind == PASS_FAIL:
        return "Pass or fail: a fail excludes the bid."
    weight = f"{_fmt(criterion.weight or Decimal(0))}% of the marks"
    if criterion.kind == PRICE:
        return f"{weight}, scored {PRICE_METHODS.get(criterion.method or '', 'on price').lower()}."
    if criterion.kind == LOCAL_ECONOMY and criterion.method in ("relative_highest", "target"):
        return (f"{weight}, from the share of contract value you commit to spend with Kent-based suppliers and "
                f"subcontractors ({LOCAL_ECONOMY_METHODS[criterion.method].lower()}).")
    minimum = f"; a score under {_fmt(criterion.min_score)} excludes the bid" if criterion.min_score else ""
    return f"{weight}, scored 0 to {criterion.scale_max} by the panel{minimum}."
