"""The engine's output in plain words (pure): flags, exclusion reasons, how the winner was decided, and how
robust the result is.

The engine names criteria and bids by id (`"12: failed this pass or fail criterion"`, `"... (7)"`); these
functions put in the criterion titles and bidder names they are given.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal

ABNORMALLY_LOW = "abnormally_low: "
BID_IN_BRACKETS = re.compile(r"\((\w+)\)$")

DECIDED_BY = {
    "total": "The highest total.",
    "quality_and_public_value_points": ("Equal totals, decided by the rule stated in advance: higher quality and "
                                        "public value points."),
    "lower_price": ("Equal totals and equal quality and public value points, decided by the rule stated in "
                    "advance: the lower price."),
    "only_compliant_bid": "The only bid still in the evaluation.",
    "tie": "A tie that the rule stated in advance does not break: the recommendation must record how it was decided.",
}


def flag_words(flag: str, names: Mapping[str, str]) -> str:
    """'abnormally_low: 50.0% under the next lowest compliant price (7)' -> 'Abnormally low: 50.0% under the
    next lowest compliant price (Bidder 1 CIC)'."""
    text = flag.removeprefix(ABNORMALLY_LOW)
    text = BID_IN_BRACKETS.sub(lambda match: f"({names.get(match.group(1), 'another bid')})", text)
    return f"Abnormally low: {text}" if flag.startswith(ABNORMALLY_LOW) else text


def reason_words(reason: str, titles: Mapping[str, str]) -> str:
    """'12: scored 1, under the minimum score of 2' -> 'How you will deliver the service: scored 1, ...'."""
    head, separator, rest = reason.partition(": ")
    return f"{titles[head]}: {rest}" if separator and head in titles else reason


def decided_by_words(decided_by: str | None) -> str:
    return DECIDED_BY.get(decided_by or "", "No bid could be ranked.")


def _points(value: str | None) -> str:
    return f"{Decimal(value):.2f}" if value is not None else ""


def sensitivity_words(sensitivity: Mapping | None, titles: Mapping[str, str], names: Mapping[str, str]) -> str:
    """How far one criterion's weight would have to move for another bid to draw level with the leader, from
    the engine's `sensitivity` output (strings with 2 decimal places)."""
    if sensitivity is None:
        return "Not tested: there is no single leading bid to test (one bid only, or a tie)."
    smallest = sensitivity.get("smallest")
    if smallest is None:
        return "No change to the weight of any one criterion would change the result."
    shift = Decimal(smallest["shift"])
    direction = "up" if shift > 0 else "down"
    title = titles.get(smallest["criterion"], smallest["criterion"])
    challenger = names.get(smallest["challenger"], "another bid")
    return (f"The result would change if the weight of {title} moved by {abs(shift):.2f} points ({direction} from "
            f"{_points(smallest['weight'])} to {_points(smallest['new_weight'])}): {challenger} would then draw "
            "level. Other weights move in proportion.")
