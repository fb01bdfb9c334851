"""Benchmark the scoring engine: 1,000 bids x 30 scored criteria, each panel score the average of 5 evaluators.

    python benchmarks/bench_scoring.py [--bids 1000] [--criteria 30] [--evaluators 5] [--repeats 3]

Prints the wall time of each stage (best of --repeats, tracemalloc off) and its peak memory (a separate run under
tracemalloc: the most memory allocated during the stage above what was allocated when it began). The tender is
generated from a fixed seed, so runs are comparable.
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from marketplace.evaluation import engine_io  # noqa: E402
from marketplace.evaluation.scoring import Bid, Criterion, evaluate  # noqa: E402

SEED = 20260522
PRICE_WEIGHT, KENT_WEIGHT = Decimal(30), Decimal(10)


@dataclass(frozen=True)
class Row:
    stage: str
    seconds: float
    peak_bytes: int


@dataclass(frozen=True)
class Tender:
    criteria: tuple[Criterion, ...]
    prices: dict[str, Decimal]
    shares: dict[str, Decimal]
    passes: dict[str, bool]
    evaluator_scores: dict[str, dict[str, list[int]]]  # bid id -> criterion id -> one score per evaluator


def make_criteria(count: int) -> tuple[Criterion, ...]:
    """One pass/fail gate, price 30, Kent share 10, and count - 2 panel-scored criteria sharing 60."""
    if count < 3:
        raise ValueError("use at least 3 scored criteria")
    panel = count - 2
    share = (Decimal(60) / panel).quantize(Decimal("0.01"), ROUND_DOWN)
    weights = [share] * (panel - 1) + [Decimal(60) - share * (panel - 1)]
    panel_criteria = tuple(
        Criterion(f"q{i}", "social_value" if i % 5 == 4 else "quality", weight, min_score=Decimal(1) if i < 3 else None)
        for i, weight in enumerate(weights))
    return (Criterion("pf", "pass_fail"), Criterion("price", "price", PRICE_WEIGHT, method="relative_lowest"),
            Criterion("kent", "local_economy", KENT_WEIGHT, method="relative_highest"), *panel_criteria)


def make_tender(bids: int, criteria: int, evaluators: int) -> Tender:
    rng = random.Random(SEED)
    chosen = make_criteria(criteria)
    panel_ids = [c.id for c in chosen if c.is_panel_scored]
    ids = [f"bid-{n:04d}" for n in range(bids)]
    scores = {}
    for bid_id in ids:
        strength = rng.randint(1, 4)
        scores[bid_id] = {cid: [min(5, max(0, strength + rng.randint(-1, 1))) for _ in range(evaluators)]
                          for cid in panel_ids}
    return Tender(
        criteria=chosen,
        prices={i: Decimal(rng.randint(80_000_00, 160_000_00)) / 100 for i in ids},
        shares={i: Decimal(rng.randint(0, 100)) / 100 for i in ids},
        passes={i: rng.random() > 0.02 for i in ids},
        evaluator_scores=scores,
    )


def average_scores(tender: Tender) -> list[Bid]:
    """One Bid per bidder, each panel score the mean of the evaluators' scores."""
    return [Bid(bid_id, tender.prices[bid_id], {"pf": tender.passes[bid_id]},
                {cid: Decimal(sum(marks)) / len(marks) for cid, marks in by_criterion.items()},
                tender.shares[bid_id])
            for bid_id, by_criterion in tender.evaluator_scores.items()]


def _best_time(action: Callable[[], object], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best


def _peak(action: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        begun = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        action()
        return tracemalloc.get_traced_memory()[1] - begun
    finally:
        tracemalloc.stop()


def run(bids: int = 1000, criteria: int = 30, evaluators: int = 5, repeats: int = 3) -> list[Row]:
    tender = make_tender(bids, criteria, evaluators)
    scored = average_scores(tender)
    result = evaluate(tender.criteria, scored)
    stages = [
        ("average the panel's scores", lambda: average_scores(tender)),
        ("evaluate", lambda: evaluate(tender.criteria, scored)),
        ("serialise to JSON", lambda: engine_io.dumps(result)),
    ]
    return [Row(name, _best_time(action, repeats), _peak(action)) for name, action in stages]


def table(rows: list[Row], bids: int, criteria: int, evaluators: int, repeats: int) -> str:
    lines = [f"Scoring engine: {bids:,} bids x {criteria} scored criteria x {evaluators} evaluators "
             f"(best of {repeats}; Python {platform.python_version()})",
             f"{'stage':<28}{'wall time':>12}{'peak memory':>14}"]
    lines += [f"{row.stage:<28}{row.seconds:>10.3f} s{row.peak_bytes / 2**20:>10.1f} MiB" for row in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bids", type=int, default=1000)
    parser.add_argument("--criteria", type=int, default=30, help="scored criteria (at least 3)")
    parser.add_argument("--evaluators", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    rows = run(args.bids, args.criteria, args.evaluators, args.repeats)
    print(table(rows, args.bids, args.criteria, args.evaluators, args.repeats))


if __name__ == "__main__":
    main()
