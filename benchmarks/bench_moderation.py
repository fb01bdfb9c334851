"""Benchmark the moderation pages: 200 compliant bids x 4 people-scored criteria x 3 evaluators' scores.

    python benchmarks/bench_moderation.py [--bids 200] [--evaluators 3] [--repeats 7] [--database-url URL]

Builds an opportunity whose bids are sealed, opened, found compliant and released to a panel; every evaluator has
scored every bid (scores from a fixed seed, so some spreads are wide) and submitted, and the moderator has set
every consensus score. Then the moderator GETs each page through the test client: the first page of the sheet
(25 bids, flagged first), its last page, only the flagged bids, one bid, and the ranking of every bid. For each
it prints the SQL statements one request runs (SQLAlchemy `before_cursor_execute`) and the median wall time of
--repeats requests after a warm-up, each request in its own app context and database session, as in production.

The data goes to a scratch SQLite database (migrated, then deleted) unless --database-url names an empty
database, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/bench_moderation (the migrations are applied to it).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

SEED = 20260522
MARKS = (1, 2, 3, 3, 4, 4, 5)


@dataclass(frozen=True)
class Row:
    page: str
    queries: int
    seconds: float


def _app(database_url: str):
    from flask_migrate import upgrade

    from marketplace import create_app

    app = create_app("test", {"SQLALCHEMY_DATABASE_URI": database_url, "MAIL_BACKEND": "console"})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
    return app


def build(bids: int, evaluators: int):
    """The opportunity, its panel and every score and consensus score (inside an app and request context)."""
    from marketplace.evaluation.models import ModeratedScore, Score
    from marketplace.extensions import db
    from tests.evaluation_builders import released_panel, submit

    panel = released_panel(evaluators=evaluators, bid_count=bids, people_scored_criteria=4)
    rng = random.Random(SEED)
    criteria = panel.criteria
    scores = [Score(bid_id=bid.id, criterion_id=c.id, evaluator_id=user.id, score=Decimal(rng.choice(MARKS)),
                    justification="The answer gives named staff, hours and a clear plan for the first month.")
              for bid in panel.bids for c in criteria for user in panel.evaluators]
    consensus = [ModeratedScore(bid_id=bid.id, criterion_id=c.id, score=Decimal(3), moderator_id=panel.moderator.id,
                                reason="The panel agreed the answer meets the requirement.")
                 for bid in panel.bids for c in criteria]
    db.session.add_all(scores + consensus)
    db.session.commit()
    for user in panel.evaluators:
        submit(panel.member(user))
    return panel.opportunity.id, panel.bids[0].id, panel.moderator.id, len(scores)


def measure(app, path: str, user_id: int, repeats: int) -> tuple[int, float]:
    from marketplace.accounts.models import User
    from marketplace.extensions import db
    from tests.conftest import sign_in_as

    client = app.test_client()
    with app.app_context():
        sign_in_as(client, db.session.get(User, user_id))
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    assert client.get(path).status_code == 200, path  # warm-up: templates compiled, connections open
    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get(path).status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        client.get(path)
        times.append(time.perf_counter() - start)
    return len(statements), statistics.median(times)


def run(bids: int = 200, evaluators: int = 3, repeats: int = 7, database_url: str | None = None) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="bench-moderation-") as scratch:
        os.environ.setdefault("MARKETPLACE_INSTANCE_PATH", str(Path(scratch) / "instance"))
        app = _app(database_url or f"sqlite:///{Path(scratch) / 'bench.sqlite'}")
        with app.app_context(), app.test_request_context("/"):
            opportunity_id, bid_id, moderator_id, _ = build(bids, evaluators)
        base = f"/commissioning/{opportunity_id}/evaluation/moderation"
        last = max(1, -(-bids // 25))
        pages = [("sheet, first page (25 bids)", base), (f"sheet, page {last}", f"{base}?page={last}"),
                 ("sheet, only flagged bids", f"{base}?show=flagged"), ("one bid", f"{base}/bids/{bid_id}"),
                 (f"ranking, first page of {bids}", f"{base}/ranking")]
        rows = [Row(name, *measure(app, path, moderator_id, repeats)) for name, path in pages]
        with app.app_context():
            from marketplace.extensions import db

            db.engine.dispose()
        return rows


def table(rows: list[Row], bids: int, evaluators: int, repeats: int, backend: str) -> str:
    lines = [f"Moderation pages: {bids:,} compliant bids x 4 people-scored criteria x {evaluators} evaluators "
             f"({bids * 4 * evaluators:,} scores; median of {repeats}; {backend}; Python {platform.python_version()})",
             f"{'page':<32}{'queries':>9}{'wall time':>12}"]
    lines += [f"{row.page:<32}{row.queries:>9}{row.seconds:>10.3f} s" for row in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bids", type=int, default=200)
    parser.add_argument("--evaluators", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--database-url", help="an empty database to use instead of a scratch SQLite file")
    args = parser.parse_args(argv)
    rows = run(args.bids, args.evaluators, args.repeats, args.database_url)
    backend = sa.make_url(args.database_url).get_backend_name() if args.database_url else "SQLite"
    print(table(rows, args.bids, args.evaluators, args.repeats, backend))


if __name__ == "__main__":
    main()
