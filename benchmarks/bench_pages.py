"""Benchmark the pages people use most, over HTTP, against the portal served by gunicorn on PostgreSQL with the
large data set, each beside a constant page of the same application (the ceiling).

    python benchmarks/bench_pages.py [--clients 1,10,50] [--seconds 5] [--workers 4] [--threads 4]
                                     [--database bench_pages] [--scale 1] [--fresh] [--pages list,search,...]
                                     [--no-page-cache] [--redis-url redis://127.0.0.1:6379/13 | none]
                                     [--admin-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

What it does:
1. creates the PostgreSQL database `--database` if it is missing and migrates it; the first time, it loads the
   small demo and the large data set (`flask seed-demo --scale large`: 10,000 opportunities, 5,000
   organisations, 50,000 bids), which takes a few minutes; later runs reuse it (`--fresh` drops it first);
2. starts gunicorn (gthread workers, no worker recycling) with BENCHMARK_CEILING set, so the application also
   serves /benchmark/ceiling, a constant page in the service's layout with no query;
3. signs in, through the form, the providers with the most bids (for the dashboard) and providers with a draft
   bid on an open opportunity (for autosave), one per client;
4. for each number of clients, runs every page for --seconds after a short warm-up: each client a thread with
   its own keep-alive connection, sending its next request as soon as the last is answered; the ceiling is
   measured before the first page and after each one, so every page has the ceiling just before and just after
   it (a machine whose speed drifts during the run is compared with itself);
5. prints requests per second, p50 and p95 latency, the ceiling beside each page, and each page's throughput as a
   share of that ceiling, then whether every page reaches a third of its ceiling at 10 clients.

The pages: the public opportunity list (/opportunities), a search (keywords, category, location and any status),
an opportunity page (a different published opportunity each time), a provider's dashboard (/bids, signed in) and
bid autosave (the answer page's background save of a draft bid's answer, with its CSRF token and version).
Beside them, for reference: the constant page again for a signed-in provider, the least any signed-in page costs
(the session, the user and their membership read from the database); and the same answer saved with the page's
"Save and continue" button (a form POST and a redirect). Only the standard library and the portal's own requirements
are used. The exit status is 1 when any request failed.

The clients of the public pages are not signed in, so by default they are served from the public page cache
(marketplace/pagecache.py) once rendered. gunicorn runs with Redis, as in production, so the workers share that
cache (and the rate limits); `--redis-url none` gives each worker its own. `--no-page-cache` measures every page
rendered afresh.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import os
import re
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from functools import partial
from datetime import timedelta
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from benchmarks._harness import CSRF, gunicorn, make_app, migrate, percentile  # noqa: E402

CEILING = "ceiling"
SIGNED_IN = "signed-in"  # the constant page for a signed-in provider: what any signed-in page costs at least
APP_WITH_CEILING = "marketplace:create_app(overrides={'BENCHMARK_CEILING': True})"
SEARCHES = (
    "q=care&category=adult-social-care&locality=thanet&status=any",
    "q=youth+service&category=children-and-families&status=any&sort=newest",
    "q=support&locality=swale&locality=maidstone&status=any&value=100k-threshold",
    "q=maintenance&category=property-and-facilities&category=highways-and-transport&status=closed",
    "q=community&reserved=yes&status=any&sort=value-high",
)
ANSWER = ("We will run the service from community venues, with a named manager, a mobilisation plan agreed in the "
          "first month and quarterly reviews against every outcome in the specification. Draft {n}.")
WARM_UP = 0.5  # seconds before the timed run
VERSION = re.compile(r'name="version"[^>]*value="(\d+)"')


# The database -----------------------------------------------------------------------------------------------

def ensure_database(admin_url: str, name: str, fresh: bool) -> str:
    admin = sa.create_engine(sa.make_url(admin_url).set(drivername="postgresql+psycopg"),
                             isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if fresh:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        exists = connection.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                    {"name": name}).first()
        if not exists:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    admin.dispose()
    return url


def prepare(app, scale: float) -> str:
    """Migrate, load the data sets unless they are there, refresh the planner's statistics; say what is loaded."""
    from marketplace.bids.models import Bid
    from marketplace.extensions import db
    from marketplace.opportunities.models import Opportunity
    from marketplace.organisations.models import Organisation
    from marketplace.seed import seed_demo
    from marketplace.seed_large import is_loaded, seed_large

    migrate(app)
    with app.app_context():
        if not is_loaded():
            print("Loading the demo and the large data set (once; later runs reuse it)...", flush=True)
            seed_demo()
            print(seed_large(scale).describe(), flush=True)
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
        counts = [db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()
                  for model in (Opportunity, Organisation, Bid)]
        db.engine.dispose()
    return "{:,} opportunities, {:,} organisations, {:,} bids".format(*counts)


@dataclass
class Cast:
    """Who and what the clients use: opportunity ids to view, providers for the dashboard and for autosave."""

    opportunity_ids: list[int]
    busiest: list[str]  # emails of the providers with the most bids
    drafting: list[tuple[str, int, int]]  # (email, opportunity id, criterion id) of a draft bid's answer page


def cast(app, clients: int) -> Cast:
    from marketplace.accounts.models import User
    from marketplace.bids.models import Bid
    from marketplace.extensions import db
    from marketplace.opportunities.models import Criterion, EvaluationModel, Opportunity
    from marketplace.opportunities.search import public_condition
    from marketplace.organisations.models import Membership
    from marketplace.timeutil import utcnow

    now = utcnow()
    with app.app_context():
        opportunity_ids = list(db.session.execute(
            sa.select(Opportunity.id).where(public_condition(now)).order_by(Opportunity.id).limit(500)).scalars())
        owner = sa.select(User.email).join(Membership, Membership.user_id == User.id)
        busiest = list(db.session.execute(
            owner.join(Bid, Bid.organisation_id == Membership.organisation_id).group_by(User.email)
            .order_by(sa.func.count().desc(), User.email).limit(clients)).scalars())
        drafts = db.session.execute(
            sa.select(User.email, Bid.opportunity_id, sa.func.min(Criterion.id))
            .join(Membership, Membership.user_id == User.id)
            .join(Bid, Bid.organisation_id == Membership.organisation_id)
            .join(Opportunity, Opportunity.id == Bid.opportunity_id)
            .join(EvaluationModel, EvaluationModel.opportunity_id == Opportunity.id)
            .join(Criterion, Criterion.model_id == EvaluationModel.id)
            .where(Bid.status == "draft", Opportunity.status == "published", Criterion.kind == "quality",
                   Opportunity.submission_deadline > now + timedelta(days=1))
            .group_by(User.email, Bid.opportunity_id).order_by(User.email)).all()
        db.engine.dispose()
    drafting = list({email: (email, opportunity, criterion) for email, opportunity, criterion in drafts}.values())
    return Cast(opportunity_ids, busiest, drafting[:clients])


# A keep-alive HTTP client -----------------------------------------------------------------------------------

class Client:
    """One browser: a keep-alive connection, its cookies, no redirects followed."""

    def __init__(self, base: str):
        parts = urllib.parse.urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):  # the server may have closed an idle connection: reconnect once
            try:
                self.connection.request(method, path, body, headers)
                response = self.connection.getresponse()
                page = response.read().decode("utf-8", errors="replace")
                break
            except (http.client.HTTPException, ConnectionError) as error:
                self.connection.close()
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
                if attempt == 2:
                    raise RuntimeError(f"{method} {path}: {error}") from error
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, page

    def token(self, path: str) -> tuple[str, str]:
        status, page = self.request("GET", path)
        found = CSRF.search(page)
        if status != 200 or not found:
            raise RuntimeError(f"GET {path} answered {status} without a form")
        return found.group(1), page

    def sign_in(self, email: str, password: str) -> "Client":
        token, _ = self.token("/sign-in")
        status, _ = self.request("POST", "/sign-in", {"csrf_token": token, "email": email, "password": password})
        if status != 302:
            raise RuntimeError(f"{email} could not sign in (status {status})")
        return self

    def close(self) -> None:
        self.connection.close()


# The pages --------------------------------------------------------------------------------------------------

Step = Callable[[], bool]  # one request; True when it was answered as expected


@dataclass(frozen=True)
class Page:
    key: str
    label: str
    steps: Callable[[int], Step]  # the client's step, by client number
    reference: bool = False  # shown for comparison, not one of the pages that must reach a third of the ceiling


def _get(client: Client, paths: Callable[[], str], expected: int = 200) -> Step:
    return lambda: client.request("GET", paths())[0] == expected


class Answerer:
    """A provider saving one answer of its draft bid again and again with the CSRF token and the bid's version,
    which each save moves on by one: in the background as the answer page's script does (`draft`, JSON back), or
    with the page's "Save and continue" button (a form POST answered with a redirect). One per client, for both."""

    def __init__(self, client: Client, opportunity_id: int, criterion_id: int):
        self.client, self.page = client, f"/opportunities/{opportunity_id}/bid/answers/{criterion_id}"
        self.token, self.version, self.saves = "", "", itertools.count()
        self.load()

    def load(self) -> None:
        self.token, page = self.client.token(self.page)
        found = VERSION.search(page)
        if not found:
            raise RuntimeError(f"{self.page} shows no version: is the bid still a draft?")
        self.version = found.group(1)

    def save(self, draft: bool) -> bool:
        form = {"csrf_token": self.token, "version": self.version, "text": ANSWER.format(n=next(self.saves))}
        if not draft:
            form["save_continue"] = "Save and continue"
        session = dict(self.client.cookies)
        status, _ = self.client.request("POST", f"{self.page}/draft" if draft else self.page, form)
        if status == (200 if draft else 302):
            self.version = str(int(self.version) + 1)
            # After the button, a browser would open the next page, which shows the "saved" message and so takes
            # it out of the session again. Only the save is timed, so the client goes back to the session it had;
            # otherwise every save would add a message to a cookie that grows without end.
            self.client.cookies = session
            return True
        self.load()  # refused (a stale version, say): read the page again and carry on
        return False


def pages(base: str, who: Cast, signed_in: dict[str, list[Client]]) -> list[Page]:
    ids = itertools.cycle(who.opportunity_ids)
    searches = itertools.cycle(SEARCHES)
    lock = threading.Lock()

    def next_of(iterator) -> Callable[[], str]:
        def take() -> str:
            with lock:
                return next(iterator)
        return take

    opportunity, search = next_of(ids), next_of(searches)
    anonymous = lambda: Client(base)  # noqa: E731
    return [
        Page(CEILING, "ceiling: a constant page", lambda n: _get(anonymous(), lambda: "/benchmark/ceiling")),
        Page("list", "opportunity list", lambda n: _get(anonymous(), lambda: "/opportunities")),
        Page("search", "search: keywords and filters",
             lambda n: _get(anonymous(), lambda: f"/opportunities?{search()}")),
        Page("opportunity", "opportunity page", lambda n: _get(anonymous(), lambda: f"/opportunities/{opportunity()}")),
        Page(SIGNED_IN, "ceiling, signed in (reference)",
             lambda n: _get(signed_in["dashboard"][n], lambda: "/benchmark/ceiling"), reference=True),
        Page("dashboard", "provider dashboard (/bids)", lambda n: _get(signed_in["dashboard"][n], lambda: "/bids")),
        Page("autosave", "bid autosave (background save)", lambda n: partial(signed_in["autosave"][n].save, True)),
        Page("save", "answer saved with its button (reference)", lambda n: partial(signed_in["autosave"][n].save, False),
             reference=True),
        Page("spending", "spend dashboard (/spending)", lambda n: _get(anonymous(), lambda: "/spending")),
    ]


# Measuring --------------------------------------------------------------------------------------------------

@dataclass
class Result:
    requests: int = 0
    failures: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def add(self, other: "Result") -> "Result":
        """Two runs of the same page taken together (the ceiling before and after)."""
        return Result(self.requests + other.requests, self.failures + other.failures,
                      self.seconds + other.seconds, self.latencies + other.latencies)


def measure(page: Page, clients: int, seconds: float) -> Result:
    """`clients` threads, each sending requests back to back: a warm-up, then `seconds` timed together."""
    steps = [page.steps(n) for n in range(clients)]
    results = [Result() for _ in steps]
    window: dict[str, float] = {}
    together = threading.Barrier(clients, action=lambda: window.update(start=time.perf_counter(),
                                                                      end=time.perf_counter() + seconds))

    def run(step: Step, result: Result) -> None:
        warm_until = time.perf_counter() + WARM_UP
        while time.perf_counter() < warm_until:
            step()
        together.wait()
        while time.perf_counter() < window["end"]:
            began = time.perf_counter()
            ok = step()
            result.latencies.append(time.perf_counter() - began)
            result.requests += 1
            result.failures += not ok

    threads = [threading.Thread(target=run, args=(step, result)) for step, result in zip(steps, results)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = Result(seconds=time.perf_counter() - window["start"])
    for result in results:
        total = total.add(result)
    return total


def benchmark(all_pages: list[Page], levels: list[int], seconds: float
              ) -> tuple[dict[tuple[str, int], Result], dict[tuple[str, int], Result]]:
    """Each page's result, and beside it the ceiling measured just before and just after it (so a machine whose
    speed drifts during the run is compared with itself); the ceiling's own row takes all its runs together."""
    results: dict[tuple[str, int], Result] = {}
    ceilings: dict[tuple[str, int], Result] = {}
    ceiling = next(p for p in all_pages if p.key == CEILING)
    for clients in levels:
        before = measure(ceiling, clients, seconds)
        results[CEILING, clients] = before
        for page in (p for p in all_pages if p.key != CEILING):
            results[page.key, clients] = measure(page, clients, seconds)
            after = measure(ceiling, clients, seconds)
            ceilings[page.key, clients] = before.add(after)
            results[CEILING, clients] = results[CEILING, clients].add(after)
            print(f"  {page.label} at {clients} clients: {results[page.key, clients].throughput:.0f}/s "
                  f"(ceiling {ceilings[page.key, clients].throughput:.0f}/s)", file=sys.stderr, flush=True)
            before = after
        ceilings[CEILING, clients] = results[CEILING, clients]
    return results, ceilings


def share(results: dict, ceilings: dict, key: str, clients: int) -> float:
    ceiling = ceilings[key, clients].throughput
    return results[key, clients].throughput / ceiling if ceiling else 0.0


# Reporting --------------------------------------------------------------------------------------------------

def report(args, loaded: str, all_pages: list[Page], results: dict[tuple[str, int], Result],
           ceilings: dict[tuple[str, int], Result]) -> bool:
    print(f"Pages against gunicorn ({args.workers} workers x {args.threads} threads) on PostgreSQL with {loaded}; "
          f"{args.seconds:g} s per measurement (Python {sys.version.split()[0]}, {os.cpu_count()} CPUs); "
          f"public page cache {'off' if args.no_page_cache else 'on'}; "
          f"{'no Redis' if args.redis_url == 'none' else 'Redis at ' + args.redis_url}; "
          "each page against the ceiling measured just before and after it")
    print(f"{'page':34} {'clients':>7} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'ceiling/s':>10} {'of ceiling':>11} "
          f"{'failed':>7}")
    for page in all_pages:
        for clients in args.levels:
            result = results[page.key, clients]
            p50, p95 = (percentile(result.latencies, q) * 1000 for q in (0.5, 0.95)) if result.latencies else (0, 0)
            ceiling, ratio = ceilings[page.key, clients].throughput, share(results, ceilings, page.key, clients)
            print(f"{page.label:34} {clients:>7} {result.throughput:>8.1f} {p50:>8.1f} {p95:>8.1f} {ceiling:>10.1f} "
                  f"{ratio:>10.0%} {result.failures:>7}")
    if 10 in args.levels:
        slow = [p.label for p in all_pages if not p.reference and share(results, ceilings, p.key, 10) < 1 / 3]
        print("At 10 clients every page reaches a third of the ceiling." if not slow else
              f"Under a third of the ceiling at 10 clients: {', '.join(slow)}.")
    return not any(result.failures for result in results.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="1,10,50", help="numbers of concurrent clients (default 1,10,50)")
    parser.add_argument("--seconds", type=float, default=5.0, help="timed seconds per page and level (default 5)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes (default 4)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (default 4)")
    parser.add_argument("--database", default="bench_pages",
                        help="the PostgreSQL database to use (default bench_pages)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="size of the large data set when loading it (default 1)")
    parser.add_argument("--fresh", action="store_true", help="drop the database first and load it again")
    parser.add_argument("--pages", default="",
                        help="only these pages, by key: list,search,opportunity,signed-in,dashboard,autosave,save,spending "
                             "(default all)")
    parser.add_argument("--admin-url", default=os.environ.get("BENCH_POSTGRES_URL",
                                                              "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
                        help="a PostgreSQL database to connect to while creating the benchmark's")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"),
                        help="Redis for gunicorn, as in production (rate limits, the shared page cache); emptied "
                             "first; 'none' to run without (default redis://127.0.0.1:6379/13)")
    parser.add_argument("--no-page-cache", action="store_true",
                        help="render every public page afresh (PAGE_CACHE_SECONDS=0), to measure the rendering itself")
    args = parser.parse_args(argv)
    args.levels = sorted({int(n) for n in args.clients.split(",") if n.strip()})
    if not args.levels or min(args.levels) < 1:
        parser.error("--clients takes positive numbers, such as 1,10,50")

    from marketplace.seed import DEMO_PASSWORD

    # The documents the demo stores live beside the database, for the app loading it and for gunicorn.
    instance = ROOT / "instance" / f"bench-{args.database}"
    instance.mkdir(parents=True, exist_ok=True)
    os.environ["MARKETPLACE_INSTANCE_PATH"] = str(instance)
    if args.no_page_cache:
        os.environ["PAGE_CACHE_SECONDS"] = "0"
    if args.redis_url != "none":
        from redis import Redis

        Redis.from_url(args.redis_url).flushdb()
        os.environ["REDIS_URL"] = args.redis_url
    database_url = ensure_database(args.admin_url, args.database, args.fresh)
    app = make_app(database_url)
    loaded = prepare(app, args.scale)
    who = cast(app, max(args.levels))
    if len(who.busiest) < max(args.levels) or len(who.drafting) < max(args.levels):
        print("Not enough providers with bids or drafts for that many clients.", file=sys.stderr)
        return 1
    with gunicorn(database_url, instance, args.workers, args.threads, app=APP_WITH_CEILING,
                  extra=("--max-requests", "0", "--keep-alive", "30")) as base:
        signed_in = {"dashboard": [Client(base).sign_in(email, DEMO_PASSWORD) for email in who.busiest],
                     "autosave": [Answerer(Client(base).sign_in(email, DEMO_PASSWORD), opportunity, criterion)
                                  for email, opportunity, criterion in who.drafting]}
        wanted = {CEILING, *filter(None, args.pages.split(","))}
        all_pages = [p for p in pages(base, who, signed_in) if not args.pages or p.key in wanted]
        results, ceilings = benchmark(all_pages, args.levels, args.seconds)
    return 0 if report(args, loaded, all_pages, results, ceilings) else 1


if __name__ == "__main__":
    sys.exit(main())
