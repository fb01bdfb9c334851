"""The `score-tender` JSON (pure): read it into the engine's dataclasses, write the results out.

Input, one object:

    {"criteria": [{"id": "price", "kind": "price", "weight": 40, "method": "relative_lowest"},
                  {"id": "pf1", "kind": "pass_fail"},
                  {"id": "q1", "kind": "quality", "weight": 40, "scale_max": 5, "min_score": 2},
                  {"id": "kent", "kind": "local_economy", "weight": 20, "method": "target", "target": "0.5"}],
     "bids": [{"id": "A", "price": "120000.00", "pass_fail": {"pf1": true}, "scores": {"q1": 4},
               "local_economy_share": "0.45"}],
     "settings": {"abnormally_low_mean_pct": 40, "abnormally_low_next_pct": 30}}

A method's parameters sit beside it on the criterion: `factor` (deviation_from_lowest, 1 when left out),
`min_price` and `max_price` (linear_bounds), `target` (target, a share from 0 to 1). A criterion may carry a
`title`, which is ignored. `settings` is optional and overrides the thresholds the caller passes in. Numbers may be
JSON numbers or strings ("120000.00"); any other key is refused, so a misspelt key is not silently ignored.

Every problem is reported with the field it belongs to, as `criteria[2].weight` or `bids[0].scores.q1`, by raising
the engine's `ModelError`. Output numbers are strings with 2 decimal places, rounded half up.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from marketplace.evaluation.scoring import (
    Bid,
    BidResult,
    Criterion,
    ModelError,
    Result,
    Settings,
    WeightShift,
)

NUMBER = re.compile(r"-?\d+(\.\d+)?")
WHOLE_NUMBER = re.compile(r"\d+")
LARGEST = Decimal("1E15")
ID_LENGTH = 100
TWO_PLACES = Decimal("0.01")
PARAM_KEYS = ("factor", "min_price", "max_price", "target")
CRITERION_KEYS = ("id", "kind", "weight", "scale_max", "min_score", "method", "title", *PARAM_KEYS)
BID_KEYS = ("id", "price", "pass_fail", "scores", "local_economy_share")
SETTING_KEYS = tuple(f.name for f in fields(Settings))
TOP_KEYS = ("criteria", "bids", "settings")


@dataclass(frozen=True)
class Scenario:
    criteria: tuple[Criterion, ...]
    bids: tuple[Bid, ...]
    settings: Mapping[str, Decimal]  # thresholds given in the input, overriding the caller's

    def settings_over(self, base: Settings) -> Settings:
        return replace(base, **self.settings)


class _Reader:
    """Collects every problem while reading, so the user sees them all at once."""

    def __init__(self):
        self.problems: list[tuple[str, str]] = []

    def fail(self, at: str, message: str) -> None:
        self.problems.append((at, message))

    def object(self, value, at: str, allowed: tuple[str, ...]) -> dict:
        if not isinstance(value, dict):
            self.fail(at, "must be an object ({...})")
            return {}
        for key in value:
            if key not in allowed:
                self.fail(f"{at}.{key}" if at else key, f"unknown field; use {', '.join(allowed)}")
        return value

    def list(self, value, at: str) -> list:
        if not isinstance(value, list):
            self.fail(at, "must be a list ([...])")
            return []
        return value

    def text(self, value, at: str) -> str:
        if value is None:
            self.fail(at, "missing")
            return ""
        if not isinstance(value, str) or not value.strip():
            self.fail(at, "enter it as text, in quotes")
            return ""
        if len(value) > ID_LENGTH:
            self.fail(at, f"must be {ID_LENGTH} characters or fewer")
        return value.strip()

    def optional_text(self, value, at: str) -> str | None:
        return None if value is None else self.text(value, at)

    def number(self, value, at: str) -> Decimal | None:
        """A JSON number or a numeric string; None for null or a problem."""
        if value is None:
            return None
        number = _to_decimal(value)
        if number is None or not number.is_finite():
            self.fail(at, "enter a number, like 120000.00 or 0.45")
            return None
        if abs(number) >= LARGEST:
            self.fail(at, "enter a number under 1,000,000,000,000,000")
            return None
        return number

    def whole_number(self, value, at: str, default: int) -> int:
        if value is None:
            return default
        if isinstance(value, bool) or not (isinstance(value, int) or
                                           isinstance(value, str) and WHOLE_NUMBER.fullmatch(value.strip())):
            self.fail(at, "enter a whole number, like 5")
            return default
        return int(value)

    def flag(self, value, at: str) -> bool | None:
        if not isinstance(value, bool):
            self.fail(at, "enter true or false")
            return None
        return value


def _to_decimal(value) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str) and NUMBER.fullmatch(value.strip()):
        try:
            return Decimal(value.strip())
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid numbers
            return None
    return None


def _criterion(reader: _Reader, raw, at: str) -> Criterion:
    data = reader.object(raw, at, CRITERION_KEYS)
    params = {key: reader.number(data[key], f"{at}.{key}") for key in PARAM_KEYS if key in data}
    return Criterion(
        id=reader.text(data.get("id"), f"{at}.id"),
        kind=reader.text(data.get("kind"), f"{at}.kind"),
        weight=reader.number(data.get("weight"), f"{at}.weight"),
        scale_max=reader.whole_number(data.get("scale_max"), f"{at}.scale_max", 5),
        min_score=reader.number(data.get("min_score"), f"{at}.min_score"),
        method=reader.optional_text(data.get("method"), f"{at}.method"),
        params={key: value for key, value in params.items() if value is not None},
    )


def _answers(reader: _Reader, raw, at: str, read) -> dict:
    if raw is None:
        return {}
    data = reader.object(raw, at, tuple(raw) if isinstance(raw, dict) else ())
    answers = {key: read(value, f"{at}.{key}") for key, value in data.items()}
    return {key: value for key, value in answers.items() if value is not None}


def _bid(reader: _Reader, raw, at: str) -> Bid:
    data = reader.object(raw, at, BID_KEYS)
    return Bid(
        id=reader.text(data.get("id"), f"{at}.id"),
        price=reader.number(data.get("price"), f"{at}.price"),
        pass_fail=_answers(reader, data.get("pass_fail"), f"{at}.pass_fail", reader.flag),
        scores=_answers(reader, data.get("scores"), f"{at}.scores", reader.number),
        local_economy_share=reader.number(data.get("local_economy_share"), f"{at}.local_economy_share"),
    )


def _settings(reader: _Reader, raw) -> dict[str, Decimal]:
    if raw is None:
        return {}
    data = reader.object(raw, "settings", SETTING_KEYS)
    values = {key: reader.number(data[key], f"settings.{key}") for key in SETTING_KEYS if key in data}
    return {key: value for key, value in values.items() if value is not None}


def parse(data) -> Scenario:
    """A scenario from decoded JSON. Raises ModelError naming every malformed field."""
    reader = _Reader()
    if not isinstance(data, dict):
        raise ModelError("input", "must be a JSON object with criteria and bids")
    top = reader.object(data, "", TOP_KEYS)
    for key in ("criteria", "bids"):
        if key not in top:
            reader.fail(key, "missing; give a list")
    criteria = tuple(_criterion(reader, raw, f"criteria[{i}]")
                     for i, raw in enumerate(reader.list(top.get("criteria", []), "criteria")))
    bids = tuple(_bid(reader, raw, f"bids[{i}]") for i, raw in enumerate(reader.list(top.get("bids", []), "bids")))
    settings = _settings(reader, top.get("settings"))
    if reader.problems:
        raise ModelError.from_problems(reader.problems)
    return Scenario(criteria, bids, settings)


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def loads(text: str) -> Scenario:
    """A scenario from JSON text; decimals are read exactly (never through a float)."""
    try:
        data = json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise ModelError("input", f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})") from None
    except ValueError as error:
        raise ModelError("input", f"not valid JSON: {error}") from None
    return parse(data)


# Writing the results --------------------------------------------------------------------------------

def two_places(value: Decimal | None) -> str | None:
    """120000 -> "120000.00"; 2.345 -> "2.35" (half up); None stays None."""
    if value is None:
        return None
    rounded = value.quantize(TWO_PLACES, ROUND_HALF_UP)
    return str(rounded if rounded else abs(rounded))  # never "-0.00"


def _bid_json(bid: BidResult) -> dict:
    return {
        "id": bid.id,
        "excluded": bid.excluded,
        "reasons": list(bid.reasons),
        "points": {criterion: two_places(points) for criterion, points in bid.points.items()},
        "total": two_places(bid.total),
        "rank": bid.rank,
        "flags": list(bid.flags),
    }


def _shift_json(shift: WeightShift | None) -> dict | None:
    if shift is None:
        return None
    return {"criterion": shift.criterion, "weight": two_places(shift.weight), "shift": two_places(shift.shift),
            "new_weight": two_places(shift.new_weight), "challenger": shift.challenger}


def result_to_json(result: Result, settings: Settings | None = None) -> dict:
    """The result as JSON-ready data; `settings`, when given, is echoed so a reader knows the thresholds used."""
    sensitivity = result.sensitivity
    output = {
        "bids": [_bid_json(bid) for bid in result.bids],
        "winner": result.winner,
        "tied": list(result.tied),
        "decided_by": result.decided_by,
        "sensitivity": None if sensitivity is None else {
            "leader": sensitivity.leader,
            "smallest": _shift_json(sensitivity.smallest),
            "by_criterion": [_shift_json(shift) for shift in sensitivity.by_criterion],
        },
    }
    if settings is not None:
        output["settings"] = {name: two_places(Decimal(getattr(settings, name))) for name in SETTING_KEYS}
    return output


def dumps(result: Result, settings: Settings | None = None) -> str:
    return json.dumps(result_to_json(result, settings), indent=2, ensure_ascii=False)
