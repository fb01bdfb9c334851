"""Benchmark the award report: an awarded opportunity with 10, 50 and 200 bids, loaded and rendered to PDF.

    python benchmarks/bench_award_report.py [--bids 10 50 200] [--repeats 3]

For each size it builds a fully evaluated, awarded opportunity in a scratch SQLite database (migrated, thrown away
afterwards) with the test builders (tests/report_builders.py: sealed bids through the submission service, a panel,
scores from two evaluators, moderation, compliance with one bid in five excluded, the award and its contract), then
times the two stages of a download: loading the report (`award_report.build`: every query) and rendering it
(`award_report.render`: WeasyPrint). Wall time is the best of --repeats runs with tracemalloc off; the queries are
counted; peak memory is measured in a separate run under tracemalloc (the most allocated during the stage above
what was allocated when it began); pages are counted with pdfinfo (poppler-utils).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

SIZES = (10, 50, 200)
EVERY_FIFTH_EXCLUDED = ((4, 4), (3, 3), (5, 4), (2, 3), None)


@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float  # this process's CPU time: steadier than wall time on a busy machine


@dataclass(frozen=True)
class Row:
    bids: int
    load: Timing
    render: Timing
    queries: int
    pages: int
    load_peak: int
    render_peak: int


def _best_time(action: Callable[[], object], repeats: int) -> Timing:
    wall = cpu = float("inf")
    for _ in range(repeats):
        started, started_cpu = time.perf_counter(), time.process_time()
        action()
        wall, cpu = min(wall, time.perf_counter() - started), min(cpu, time.process_time() - started_cpu)
    return Timing(wall, cpu)


def _peak(action: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        begun = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        action()
        return tracemalloc.get_traced_memory()[1] - begun
    finally:
        tracemalloc.stop()


def _queries(action: Callable[[], object]) -> int:
    from marketplace.extensions import db

    statements = []
    listener = lambda *_args: statements.append(1)  # noqa: E731
    sa.event.listen(db.engine, "before_cursor_execute", listener)
    try:
        action()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listener)
    return len(statements)


def _prices(count: int) -> list[Decimal]:
    """Prices spread between £90,000 and £150,000, none abnormally low, in a fixed order."""
    return [Decimal(90_000 + (n * 7_919) % 60_000) for n in range(count)]


def measure(sizes=SIZES, repeats: int = 3) -> list[Row]:
    """Within an app and request context on a migrated database: one row per size."""
    from marketplace.extensions import db
    from marketplace.opportunities import lifecycle
    from marketplace.opportunities.models import Opportunity
    from marketplace.reports import award_report
    from marketplace.timeutil import utcnow
    from tests.factories import StaffFactory
    from tests.report_builders import evaluated, pdf_pages, set_aside

    rows = []
    author = StaffFactory(roles=["commissioner"])
    for count in sizes:
        with contextlib.redirect_stdout(io.StringIO()):  # the receipts the submissions email
            state = evaluated(author, stage=lifecycle.AWARDED, prices=_prices(count), scores=EVERY_FIFTH_EXCLUDED)
        opportunity_id = state.opportunity.id

        def fresh() -> Opportunity:  # nothing cached from the last run
            db.session.expunge_all()
            return db.session.get(Opportunity, opportunity_id)

        def load():
            return award_report.build(fresh(), utcnow())

        report = load()
        opportunity = fresh()
        queries = _queries(lambda: award_report.build(opportunity, utcnow()))
        render = lambda: award_report.render(report)  # noqa: E731
        rows.append(Row(count, _best_time(load, repeats), _best_time(render, repeats), queries,
                        pdf_pages(render()), _peak(load), _peak(render)))
        set_aside(opportunity_id)
        author = db.session.merge(author)
    return rows


def table(rows: list[Row], repeats: int) -> str:
    lines = [f"Award report, awarded opportunity on SQLite (best of {repeats}; Python {platform.python_version()}; "
             f"wall time, then CPU time in brackets)",
             f"{'bids':>5}{'load':>20}{'queries':>9}{'render':>20}{'pages':>7}{'peak (load)':>13}{'peak (render)':>15}"]
    lines += [f"{r.bids:>5}{_seconds(r.load):>20}{r.queries:>9}{_seconds(r.render):>20}{r.pages:>7}"
              f"{r.load_peak / 2**20:>9.1f} MiB{r.render_peak / 2**20:>11.1f} MiB" for r in rows]
    return "\n".join(lines)


def _seconds(timing: Timing) -> str:
    return f"{timing.wall:.3f} s ({timing.cpu:.3f} s)"


def _scratch_sqlite(dbapi_connection, _record) -> None:
    """A scratch database need not wait for the disk on every commit (setting up 200 bids commits often)."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        dbapi_connection.execute("PRAGMA synchronous=OFF")


@contextlib.contextmanager
def scratch_app():
    """The portal on a migrated SQLite database in a temporary folder, with an app and a request context."""
    with tempfile.TemporaryDirectory(prefix="bench-award-report-") as folder:
        os.environ.setdefault("MARKETPLACE_INSTANCE_PATH", folder)
        from flask_migrate import upgrade

        from marketplace import create_app
        from marketplace.extensions import db

        sa.event.listen(sa.engine.Engine, "connect", _scratch_sqlite)
        app = create_app("test", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite",
                                  "MAIL_BACKEND": "console"})
        with app.app_context(), app.test_request_context():
            with contextlib.redirect_stderr(io.StringIO()):
                upgrade(directory=str(ROOT / "migrations"))
            yield app
            db.session.remove()
            db.engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bids", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    with scratch_app():
        rows = measure(args.bids, args.repeats)
    print(table(rows, args.repeats))


if __name__ == "__main__":
    main()
