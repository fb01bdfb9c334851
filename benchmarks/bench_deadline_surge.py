"""Benchmark the deadline surge: N provider sessions submitting their bids in the final minute, over HTTP, against
the portal served by gunicorn on PostgreSQL.

    python benchmarks/bench_deadline_surge.py [--sessions 50] [--workers 4] [--threads 8] [--spread 0]
                                              [--admin-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

What it does, and undoes:
1. creates a scratch PostgreSQL database (a unique name) and migrates it;
2. seeds one published opportunity and N organisations, each with a provider user and a complete bid, written
   straight to the tables;
3. starts gunicorn (wsgi:app, gthread workers) on a free loopback port with DATABASE_URL pointing at it;
4. each session signs in through the form and opens its check-your-answers page (for the CSRF token and the bid's
   version); once all are ready the deadline is set a minute ahead and every session is released together (or
   spread over --spread seconds) to POST the submit form: the whole surge falls in the final minute;
5. prints throughput and the p50/p95/max latency of the submit requests, then checks in the database that no
   bid was lost: every submission answered with a redirect to its receipt has exactly one sealed version, every
   other has none, and the audit chain verifies;
6. stops gunicorn, drops the database and removes its temporary files, whatever happened.

The exit status is 1 when a bid was lost or sealed twice. Only the standard library and the portal's own
requirements are used (gunicorn is one of them).
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import secrets
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from benchmarks._harness import CSRF, gunicorn, make_app, migrate, percentile  # noqa: E402

PASSWORD = "surge benchmark password"
VERSION = re.compile(r'name="version" value="(\d+)"')
DEADLINE_AHEAD = timedelta(minutes=1)


# The scratch database ---------------------------------------------------------------------------------------

@contextmanager
def scratch_database(admin_url: str):
    """A new, empty PostgreSQL database for this run; dropped afterwards."""
    admin = sa.create_engine(sa.make_url(admin_url).set(drivername="postgresql+psycopg"),
                             isolation_level="AUTOCOMMIT")
    name = f"bench_surge_{os.getpid()}_{secrets.token_hex(4)}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# Seeding ----------------------------------------------------------------------------------------------------

@dataclass
class Seeded:
    opportunity_id: int
    deadline: object
    bidders: list[tuple[str, int]] = field(default_factory=list)  # (email, bid id)


def seed(app, sessions: int) -> Seeded:
    """One published opportunity due in a minute, and `sessions` organisations with complete bids."""
    from marketplace.accounts.models import StaffRole, User
    from marketplace.accounts.passwords import hash_password
    from marketplace.extensions import db
    from marketplace.timeutil import utcnow

    with app.app_context():
        password_hash = hash_password(PASSWORD)
        commissioner = User(email="commissioner@surge.example", full_name="Surge Commissioner", is_staff=True,
                            password_hash=password_hash, email_verified_at=utcnow())
        commissioner.role_rows.append(StaffRole(role="commissioner"))
        db.session.add(commissioner)
        db.session.flush()
        opportunity = _opportunity(commissioner, utcnow() + DEADLINE_AHEAD)
        seeded = Seeded(opportunity.id, opportunity.submission_deadline)
        for n in range(sessions):
            email = f"bidder{n}@surge.example"
            seeded.bidders.append((email, _bidder(opportunity, n, email, password_hash).id))
        db.session.commit()
        return seeded


def _opportunity(commissioner, deadline):
    from marketplace.extensions import db
    from marketplace.opportunities.models import Criterion, EvaluationModel, Opportunity

    criteria = [Criterion(position=0, kind="pass_fail", title="Safeguarding policy"),
                Criterion(position=1, kind="quality", title="Delivery plan", weight=Decimal(50), word_limit=500),
                Criterion(position=2, kind="social_value", title="Social value", weight=Decimal(15), word_limit=300),
                Criterion(position=3, kind="price", title="Price", weight=Decimal(35), method="relative_lowest")]
    opportunity = Opportunity(
        reference="KCC-SURGE-0001", title="Home care in Swale (deadline surge benchmark)", summary="Benchmark.",
        category="adult-social-care", localities=["swale"], estimated_value=Decimal("2000000.00"),
        status="published", published_at=deadline - timedelta(days=30), publication_date=deadline - timedelta(days=30),
        clarification_deadline=deadline - timedelta(days=7), submission_deadline=deadline,
        created_by_id=commissioner.id, models=[EvaluationModel(criteria=criteria)])
    db.session.add(opportunity)
    db.session.flush()
    return opportunity


def _bidder(opportunity, n: int, email: str, password_hash: str):
    from marketplace.accounts.models import User
    from marketplace.bids.models import Bid, BidAnswer, PriceLine
    from marketplace.extensions import db
    from marketplace.kent import resolve_kent_status
    from marketplace.organisations.models import Membership, Organisation
    from marketplace.timeutil import utcnow

    kent = resolve_kent_status("ME14 1XX")
    organisation = Organisation(
        legal_name=f"Surge Provider {n}", name_key=f"surge provider {n}", org_type="charity", size="small",
        trading_line1="1 High Street", trading_town="Maidstone", trading_postcode="ME14 1XX",
        operations_line1="1 High Street", operations_town="Maidstone", operations_postcode="ME14 1XX",
        kent_based=kent.kent_based, district=kent.district, kent_derivation=kent.derivation,
        categories=[], localities=[])
    user = User(email=email, full_name=f"Bidder {n}", password_hash=password_hash, email_verified_at=utcnow())
    db.session.add_all([organisation, user])
    db.session.flush()
    db.session.add(Membership(user_id=user.id, organisation_id=organisation.id, role="owner"))
    price = Decimal(1_500_000 + 997 * n).quantize(Decimal("0.01"))
    answers = [BidAnswer(criterion_id=c.id, confirmed=True) if c.kind == "pass_fail"
               else BidAnswer(criterion_id=c.id, text=f"Our plan, number {n}: " + "weekly visits " * 40)
               for c in opportunity.models[0].criteria if c.kind != "price"]
    bid = Bid(opportunity_id=opportunity.id, organisation_id=organisation.id, status="draft", lot_ids=[],
              price_total=price, declared_conflicts="none", declared_no_exclusion_grounds=True,
              declared_accurate=True, answers=answers,
              price_lines=[PriceLine(position=0, description="Care hours", quantity=Decimal(52), unit="weeks",
                                     unit_price=(price / 52).quantize(Decimal("0.01")))])
    db.session.add(bid)
    db.session.flush()
    return bid


# Provider sessions -----------------------------------------------------------------------------------------

class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Session:
    email: str
    bid_id: int
    status: int | None = None
    location: str = ""
    seconds: float | None = None
    error: str | None = None


class Browser:
    """A provider's browser: its own cookies, no automatic redirects (so each response is seen as sent)."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                                  _NoRedirect())

    def request(self, path: str, form: dict | None = None) -> tuple[int, str, str]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(f"{self.base}{path}", data=data, timeout=120) as response:
                return response.status, response.headers.get("Location", ""), response.read().decode()
        except urllib.error.HTTPError as answer:  # 3xx (not followed) and errors
            return answer.code, answer.headers.get("Location", ""), answer.read().decode(errors="replace")

    def token(self, path: str) -> tuple[str, str]:
        status, _, page = self.request(path)
        found = CSRF.search(page)
        if status != 200 or not found:
            raise RuntimeError(f"GET {path} answered {status} without a form")
        return found.group(1), page


def run_session(base: str, session: Session, opportunity_id: int, gates: tuple[threading.Barrier, threading.Barrier],
                delay: float) -> None:
    """Sign in, open the check page, wait at the gates (ready, then go), and submit."""
    browser = Browser(base)
    try:
        token, _ = browser.token("/sign-in")
        status, _, _ = browser.request("/sign-in", {"csrf_token": token, "email": session.email, "password": PASSWORD})
        if status != 302:
            raise RuntimeError(f"sign-in answered {status}")
        token, page = browser.token(f"/opportunities/{opportunity_id}/bid/check")
        version = VERSION.search(page)
        if not version:
            raise RuntimeError("the check page offers no Submit button")
        for gate in gates:
            gate.wait(timeout=600)
        time.sleep(delay)
        started = time.perf_counter()
        session.status, session.location, _ = browser.request(
            f"/opportunities/{opportunity_id}/bid/submit", {"csrf_token": token, "version": version.group(1)})
        session.seconds = time.perf_counter() - started
    except Exception as error:  # noqa: BLE001  reported in the results
        session.error = str(error)
        for gate in gates:
            gate.abort()


def surge(app, base: str, seeded: Seeded, spread: float) -> tuple[list[Session], float]:
    """Every session gets ready (signed in, on its check page); the deadline is then set a minute ahead and all
    are released together, so every submission falls in the final minute however long the sign-ins took."""
    sessions = [Session(email, bid_id) for email, bid_id in seeded.bidders]
    gates = (threading.Barrier(len(sessions) + 1), threading.Barrier(len(sessions) + 1))
    step = spread / max(len(sessions) - 1, 1)
    threads = [threading.Thread(target=run_session, args=(base, s, seeded.opportunity_id, gates, i * step))
               for i, s in enumerate(sessions)]
    for thread in threads:
        thread.start()
    try:
        gates[0].wait(timeout=600)
        set_deadline(app, seeded.opportunity_id)
        gates[1].wait(timeout=60)
    except threading.BrokenBarrierError:  # a session could not get ready: its error is reported
        pass
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return sessions, time.perf_counter() - started


def set_deadline(app, opportunity_id: int) -> None:
    from marketplace.extensions import db
    from marketplace.opportunities.models import Opportunity
    from marketplace.timeutil import utcnow

    with app.app_context():
        db.session.execute(sa.update(Opportunity).where(Opportunity.id == opportunity_id)
                           .values(submission_deadline=utcnow() + DEADLINE_AHEAD))
        db.session.commit()


# Checking and reporting ------------------------------------------------------------------------------------

@dataclass
class Verdict:
    landed: int
    refused: int
    lost: list[str]
    duplicated: list[str]
    chain_ok: bool

    @property
    def ok(self) -> bool:
        return not self.lost and not self.duplicated and self.chain_ok


def verify(app, sessions: list[Session]) -> Verdict:
    from marketplace.audit import verify_database
    from marketplace.bids.models import BidSubmission
    from marketplace.extensions import db

    with app.app_context():
        counts = dict(db.session.execute(sa.select(BidSubmission.bid_id, sa.func.count())
                                         .group_by(BidSubmission.bid_id)).all())
        chain_ok = verify_database().ok
    landed = {s.bid_id for s in sessions if s.status == 302 and "/bid/versions/" in s.location}
    lost = [s.email for s in sessions if counts.get(s.bid_id, 0) != (1 if s.bid_id in landed else 0)]
    duplicated = [s.email for s in sessions if counts.get(s.bid_id, 0) > 1]
    return Verdict(len(landed), len(sessions) - len(landed), lost, duplicated, chain_ok)


def report(args, sessions: list[Session], elapsed: float, verdict: Verdict) -> None:
    timed = [s.seconds for s in sessions if s.seconds is not None]
    errors = [f"{s.email}: {s.error}" for s in sessions if s.error]
    when = f"starting within {args.spread:g} s" if args.spread else "all at once"
    print(f"Deadline surge: {len(sessions)} provider sessions submitting in the final minute, {when}; gunicorn "
          f"{args.workers} workers x {args.threads} threads on PostgreSQL (Python {sys.version.split()[0]})")
    print(f"{'submissions answered':28} {len(timed):>8}")
    print(f"{'throughput':28} {len(timed) / elapsed if elapsed else 0:>8.1f} submissions/s")
    if timed:
        print(f"{'latency p50':28} {percentile(timed, 0.50) * 1000:>8.0f} ms")
        print(f"{'latency p95':28} {percentile(timed, 0.95) * 1000:>8.0f} ms")
        print(f"{'latency max':28} {max(timed) * 1000:>8.0f} ms")
        print(f"{'latency mean':28} {statistics.fmean(timed) * 1000:>8.0f} ms")
    print(f"{'sealed with a receipt':28} {verdict.landed:>8}")
    print(f"{'refused or failed':28} {verdict.refused:>8}")
    print(f"{'bids lost':28} {len(verdict.lost):>8}")
    print(f"{'bids sealed twice':28} {len(verdict.duplicated):>8}")
    print(f"{'audit chain':28} {'verifies' if verdict.chain_ok else 'BROKEN':>8}")
    for line in errors[:10]:
        print(f"  session error: {line}")
    print("No bid was lost." if verdict.ok and not errors else "PROBLEM: see above.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=50, help="provider sessions (default 50)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes (default 4)")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker (default 8)")
    parser.add_argument("--spread", type=float, default=0.0,
                        help="seconds over which the submissions start (default 0: all at once)")
    parser.add_argument("--admin-url", default=os.environ.get("BENCH_POSTGRES_URL",
                                                              "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
                        help="a PostgreSQL database to connect to while creating and dropping the scratch one")
    args = parser.parse_args(argv)
    if not 0 <= args.spread < DEADLINE_AHEAD.total_seconds() / 2:
        parser.error("--spread must leave the surge well inside the final minute")

    instance = Path(tempfile.mkdtemp(prefix="bench-surge-"))  # gunicorn's instance folder (logs, mail, files)
    try:
        with scratch_database(args.admin_url) as database_url:
            app = make_app(database_url)
            migrate(app)
            seeded = seed(app, args.sessions)
            with gunicorn(database_url, instance, args.workers, args.threads) as base:
                sessions, elapsed = surge(app, base, seeded, args.spread)
            verdict = verify(app, sessions)
            with app.app_context():
                from marketplace.extensions import db

                db.engine.dispose()
            report(args, sessions, elapsed, verdict)
            return 0 if verdict.ok and not any(s.error for s in sessions) else 1
    finally:
        shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
