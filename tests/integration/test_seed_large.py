"""The large data set (`flask seed-demo --scale large`), loaded here at a hundredth of its size on top of the small
demo: the planned counts in every lifecycle state, sealed versions whose SHA-256 is that of their canonical content
and whose content is what the working copy says, Kent status derived from postcodes, bid statuses that follow their
opportunity's state, contracts for awarded opportunities, the demo accounts still working, and a second load
refused."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import shutil
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from marketplace import seed_large as large
from marketplace.accounts.models import User
from marketplace.audit import verify_database
from marketplace.awards.models import Award, Contract
from marketplace.bids import rules, snapshot
from marketplace.bids.models import Bid
from marketplace.bids.submission import counting_submission
from marketplace.extensions import db
from marketplace.kent import choices_for, lookup_postcode, resolve_kent_status
from marketplace.opportunities import lifecycle
from marketplace.opportunities.models import EvaluationModel, Lot, Opportunity
from marketplace.organisations.models import Organisation
from marketplace.seed import DEMO_PASSWORD, STAFF
from marketplace.timeutil import utcnow
from tests.factories import StaffFactory

SCALE = 0.01
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def loaded(app):
    """The large data set over the demo's staff (who write and decide the opportunities)."""
    for email, _, roles in STAFF:
        StaffFactory(email=email, roles=roles)
    return large.seed_large(scale=SCALE)


@pytest.fixture()
def loaded_over_the_demo(app, seeded):
    return large.seed_large(scale=SCALE)


def large_opportunities() -> list[Opportunity]:
    return list(db.session.execute(
        sa.select(Opportunity).where(Opportunity.reference.like(f"{large.REFERENCE_PREFIX}%"))
        .options(selectinload(Opportunity.models).selectinload(EvaluationModel.criteria),
                 selectinload(Opportunity.lots))).scalars())


def large_bids() -> list[Bid]:
    return list(db.session.execute(
        sa.select(Bid).join(Opportunity, Opportunity.id == Bid.opportunity_id)
        .where(Opportunity.reference.like(f"{large.REFERENCE_PREFIX}%"))
        .options(*(selectinload(getattr(Bid, name)) for name in
                   ("answers", "price_lines", "commitments", "members", "documents", "submissions")))).scalars())


def large_organisations() -> list[Organisation]:
    return list(db.session.execute(
        sa.select(Organisation).join(Organisation.memberships).join(User)
        .where(User.email.like(f"%@{large.EMAIL_DOMAIN}"))).scalars())


def test_the_large_data_set_has_its_planned_size_in_every_lifecycle_state(loaded):
    opportunities = large_opportunities()
    states = Counter(o.status for o in opportunities)
    bids = large_bids()
    by_id = {o.id: o for o in opportunities}

    assert len(opportunities) == 100 and set(states) == set(lifecycle.STATES)
    assert len(large_organisations()) == 50
    assert sum(by_id[b.opportunity_id].status in large.LATER_STATES for b in bids) == 500
    assert loaded.states == states and loaded.rows["bids"] == len(bids)
    assert all(len(o.models) == 1 and 4 <= len(o.models[0].criteria) <= 6 for o in opportunities)
    assert all(sum(c.weight or 0 for c in o.models[0].criteria) == 100 for o in opportunities)
    assert any(o.lots for o in opportunities)
    assert "Large data set loaded (scale 0.01)" in loaded.describe()


def test_every_sealed_version_is_the_sha256_of_its_canonical_content_and_counts_what_the_bid_says(loaded):
    opportunities = {o.id: o for o in large_opportunities()}
    bids = large_bids()
    versions = [(v, opportunities[b.opportunity_id]) for b in bids for v in b.submissions]

    assert len(versions) >= 500
    for version, opportunity in versions:
        assert version.sha256 == hashlib.sha256(version.content.encode("utf-8")).hexdigest()
        assert rules.canonical_json(json.loads(version.content)) == version.content
        assert version.submitted_at < opportunity.submission_deadline
    for bid in bids:
        counting = counting_submission(bid)
        if counting is not None:
            taken = snapshot.take(bid, opportunities[bid.opportunity_id])
            assert taken.complete and rules.canonical_json(taken.content) == counting.content


def test_organisations_are_of_every_type_in_and_out_of_kent_with_kent_status_derived_from_the_postcode(loaded):
    organisations = large_organisations()

    assert {o.org_type for o in organisations} >= {"charity", "private_company", "voluntary_community"}
    assert {o.kent_based for o in organisations} == {True, False}
    for organisation in organisations:
        lookup = lookup_postcode(organisation.operations_postcode)
        choice = (organisation.district or "outside-kent") if lookup.needs_choice else None
        assert choice is None or choice in dict(choices_for(lookup))
        status = resolve_kent_status(organisation.operations_postcode, choice)
        assert (status.kent_based, status.district, status.derivation) == (
            organisation.kent_based, organisation.district, organisation.kent_derivation)


def test_bids_follow_their_opportunitys_state_and_awarded_ones_have_a_contract_at_the_winning_price(loaded):
    opportunities = {o.id: o for o in large_opportunities()}
    by_opportunity: dict[int, list[Bid]] = {}
    for bid in large_bids():
        by_opportunity.setdefault(bid.opportunity_id, []).append(bid)
    awards = {a.opportunity_id: a for a in db.session.execute(sa.select(Award)).scalars()}
    contracts = {c.opportunity_id: c for c in db.session.execute(sa.select(Contract)).scalars()}

    for opportunity_id, bids in by_opportunity.items():
        state = opportunities[opportunity_id].status
        statuses = Counter(b.status for b in bids)
        assert state not in (lifecycle.DRAFT, lifecycle.AWAITING_APPROVAL)
        if state in large.LATER_STATES:
            assert all(counting_submission(b) is not None for b in bids)
        if state in (lifecycle.STANDSTILL, lifecycle.AWARDED):
            assert statuses[rules.SUCCESSFUL] == 1
            winner = next(b for b in bids if b.status == rules.SUCCESSFUL)
            assert awards[opportunity_id].bid_id == winner.id
        if state == lifecycle.AWARDED:
            price = json.loads(counting_submission(winner).content)["price"]["total"]
            assert contracts[opportunity_id].value == Decimal(price)
            assert contracts[opportunity_id].awarded_at <= utcnow()
    assert {a.status for a in awards.values()} == {"recommended", "approved", "confirmed"}
    assert len(contracts) == Counter(o.status for o in opportunities.values())[lifecycle.AWARDED]


def test_the_small_demo_accounts_and_a_large_providers_account_still_sign_in_and_work(loaded_over_the_demo,
                                                                                      client):
    biggest = db.session.execute(
        sa.select(User.email).join(Organisation.memberships).join(User)
        .join(Bid, Bid.organisation_id == Organisation.id).where(User.email.like(f"%@{large.EMAIL_DOMAIN}")).group_by(User.email)
        .order_by(sa.func.count().desc()).limit(1)).scalar_one()

    for email in ("provider01@example.org", biggest):
        response = client.submit("/sign-in", {"email": email, "password": DEMO_PASSWORD})
        assert response.status_code == 302, email
        page = client.get("/bids")
        assert page.status_code == 200 and "Your bids" in page.get_data(as_text=True)
        client.post("/sign-out", data={"csrf_token": client.csrf_token("/bids")})
    assert client.get("/opportunities").status_code == 200


def test_loading_it_again_is_refused_with_a_clear_message_and_leaves_the_audit_chain_intact(runner, monkeypatch):
    monkeypatch.setattr(large, "FULL_SIZE", {"opportunities": 60, "organisations": 30, "bids": 200})

    first = runner.invoke(args=["seed-demo", "--scale", "large"])
    second = runner.invoke(args=["seed-demo", "--scale", "large"])

    assert first.exit_code == 0, first.output
    assert "Large data set loaded (scale 1)" in first.output and "Opportunities: 60 (" in first.output
    assert second.exit_code == 1 and "already holds the large data set" in second.output
    assert db.session.execute(sa.select(sa.func.count()).select_from(Opportunity)
                              .where(Opportunity.reference.like("KCC-L-%"))).scalar_one() == 60
    assert verify_database().ok


def test_new_rows_after_the_load_get_fresh_ids(loaded):
    opportunity = db.session.execute(sa.select(Opportunity).where(Opportunity.status == lifecycle.PUBLISHED)
                                     .limit(1)).scalar_one()
    lot = Lot(opportunity_id=opportunity.id, number=99, title="A late lot", estimated_value=Decimal(1000))
    db.session.add(lot)
    db.session.commit()

    assert lot.id > db.session.execute(sa.select(sa.func.max(Lot.id)).where(Lot.id != lot.id)).scalar_one()


# The page benchmark runs on it ---------------------------------------------------------------------------------

def test_the_page_benchmark_runs_on_a_small_large_data_set_without_a_failed_request(capsys, monkeypatch):
    """benchmarks/bench_pages.py end to end (PostgreSQL, gunicorn, every page) on a hundredth of the data set, in
    a database of its own that is dropped afterwards."""
    configured = os.environ.get("TEST_DATABASE_URL", "")
    if not configured.startswith("postgres"):
        pytest.skip("the page benchmark runs against PostgreSQL (set TEST_DATABASE_URL)")
    admin_url = sa.make_url(configured).set(drivername="postgresql+psycopg", database="postgres")
    name = f"bench_pages_test_{os.getpid()}"
    spec = importlib.util.spec_from_file_location("bench_pages", ROOT / "benchmarks" / "bench_pages.py")
    bench = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, bench)
    monkeypatch.setenv("MARKETPLACE_INSTANCE_PATH", os.environ.get("MARKETPLACE_INSTANCE_PATH", ""))
    spec.loader.exec_module(bench)
    try:
        status = bench.main(["--scale", "0.01", "--clients", "1,2", "--seconds", "0.3", "--workers", "1",
                             "--threads", "2", "--fresh", "--database", name,
                             "--admin-url", admin_url.render_as_string(hide_password=False)])
    finally:
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        shutil.rmtree(ROOT / "instance" / f"bench-{name}", ignore_errors=True)

    printed = capsys.readouterr().out
    assert status == 0, printed
    for label in ("ceiling: a constant page", "opportunity list", "search: keywords and filters", "opportunity page",
                  "provider dashboard (/bids)", "bid autosave (background save)",
                  "answer saved with its button (reference)"):
        assert re.search(rf"^{re.escape(label)} +2 +\d+\.\d +\d+\.\d +\d+\.\d +\d+\.\d +\d+% +0$", printed,
                         re.MULTILINE), label
