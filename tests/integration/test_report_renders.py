"""Asking for a large tender's award-report PDF on a real database: however many ask at the same moment, one render
is queued and every request gets it; the database holds to one queued render per report (and migration 0012 makes
way for that rule); a render given up on as lost while it was being made keeps nothing in the store.

The race that really runs requests at once needs PostgreSQL (SQLite serialises writers); the others run on both.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from marketplace import documents
from marketplace.accounts.models import User
from marketplace.audit import AuditEvent, verify_database
from marketplace.extensions import db
from marketplace.opportunities.models import Opportunity
from marketplace.reports import renders
from marketplace.reports.models import AWARD_REPORT, FAILED, QUEUED, ReportRender
from marketplace.timeutil import utcnow
from tests.factories import StaffFactory
from tests.render_fixtures import jobs_held, standstill  # noqa: F401
from tests.staff_fixtures import author, request_context  # noqa: F401

OFFICERS_AT_ONCE = 6
MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


@pytest.fixture()
def app_overrides():
    """Large tenders (the builders' five bids are more than one), and a connection for each request at once."""
    return {"AWARD_REPORT_INLINE_MAX_BIDS": 1,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": OFFICERS_AT_ONCE + 2, "max_overflow": 4, "pool_timeout": 30}}


def renders_of(opportunity_id: int) -> list[ReportRender]:
    db.session.expire_all()
    return list(db.session.execute(sa.select(ReportRender).where(ReportRender.opportunity_id == opportunity_id)
                                   .order_by(ReportRender.id)).scalars())


def requests_logged() -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "report.award_report_requested")).scalar_one()


def queue_behind_the_sessions_back(opportunity_id: int, user_id: int) -> int:
    """Another request's render, committed on a connection of its own."""
    with db.engine.begin() as other:
        return other.execute(sa.insert(ReportRender).values(
            opportunity_id=opportunity_id, kind=AWARD_REPORT, requested_by_id=user_id, requested_at=utcnow(),
            status=QUEUED, fingerprint="f" * 64).returning(ReportRender.id)).scalar_one()


def test_a_request_that_loses_the_race_to_queue_the_pdf_reuses_the_render_the_winner_queued(standstill, jobs_held,
                                                                                          monkeypatch):
    """The other request queues its render just after this one looked and found none (as if they ran at once)."""
    opportunity, officer = standstill.opportunity, standstill.officer
    looked_before_the_other_committed = renders._candidates
    winner: list[int] = []

    def candidates(opportunity_id, current):
        found = looked_before_the_other_committed(opportunity_id, current)
        if not winner:
            winner.append(queue_behind_the_sessions_back(opportunity_id, standstill.approver.id))
        return found

    monkeypatch.setattr(renders, "_candidates", candidates)
    render = renders.ask(officer, opportunity, utcnow())

    assert render.id == winner[0] and [r.id for r in renders_of(opportunity.id)] == winner
    assert jobs_held == [] and requests_logged() == 0  # the winner's job and audit are its own


def test_the_database_refuses_a_second_queued_render_of_the_same_report(standstill):
    opportunity_id, user_id = standstill.opportunity.id, standstill.officer.id
    queue_behind_the_sessions_back(opportunity_id, user_id)
    with pytest.raises(sa.exc.IntegrityError):
        queue_behind_the_sessions_back(opportunity_id, user_id)
    db.session.add(ReportRender(opportunity_id=opportunity_id, kind=AWARD_REPORT, requested_by_id=user_id,
                                requested_at=utcnow(), status=FAILED, fingerprint="f" * 64))
    db.session.commit()  # renders that are not queued are not limited
    assert len(renders_of(opportunity_id)) == 2


def test_many_officers_asking_for_the_same_pdf_at_once_on_postgresql_queue_exactly_one_render(app, standstill,
                                                                                            jobs_held):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    people = [standstill.officer, standstill.approver] + [StaffFactory(roles=["procurement_officer"])
                                                          for _ in range(OFFICERS_AT_ONCE - 2)]
    user_ids, opportunity_id = [person.id for person in people], standstill.opportunity.id
    db.session.commit()
    db.session.remove()
    got, errors, barrier = [], [], threading.Barrier(len(user_ids), timeout=30)

    def ask(user_id: int) -> None:
        with app.test_request_context("/"):
            try:
                user, opportunity = db.session.get(User, user_id), db.session.get(Opportunity, opportunity_id)
                db.session.commit()  # give the connection back while waiting
                barrier.wait()
                got.append(renders.ask(user, opportunity, utcnow()).id)
            except BaseException as error:  # reported below, with the test's own failure
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=ask, args=(user_id,)) for user_id in user_ids]
    [thread.start() for thread in threads]
    [thread.join() for thread in threads]

    assert errors == []
    [render] = renders_of(opportunity_id)
    assert got == [render.id] * len(user_ids) and render.status == QUEUED and jobs_held == [render.id]
    assert requests_logged() == 1 and verify_database().ok


def test_a_render_given_up_as_lost_while_it_was_being_made_keeps_nothing(app, standstill, jobs_held, monkeypatch):
    opportunity, officer = standstill.opportunity, standstill.officer
    lost = renders.ask(officer, opportunity, utcnow())
    kept: list[documents.StoredFile] = []
    make = renders._make

    def made_while_the_render_was_given_up(render):
        report, stored = make(render)
        kept.append(stored)
        later = utcnow() + renders.LOST_AFTER + timedelta(minutes=1)
        with app.app_context():  # another request, with a database session of its own
            renders.ask(officer, db.session.get(Opportunity, opportunity.id), later)  # someone asks again
        return report, stored

    monkeypatch.setattr(renders, "_make", made_while_the_render_was_given_up)
    renders.render_award_report(lost.id)

    given_up, again = renders_of(opportunity.id)
    assert (given_up.id, given_up.status, given_up.error) == (lost.id, FAILED, renders.LOST)
    assert given_up.storage_key is None and not documents.path_for(kept[0].storage_key).exists()
    assert again.status == QUEUED and jobs_held == [lost.id, again.id]



def test_upgrading_keeps_the_newest_of_renders_queued_twice_for_one_report_and_fails_the_others(standstill):
    """Migration 0012 over renders queued twice before it (as two requests at once could)."""
    from flask_migrate import downgrade, upgrade

    opportunity_id, user_id = standstill.opportunity.id, standstill.officer.id
    db.session.commit()
    db.session.close()
    downgrade(directory=str(MIGRATIONS), revision="0011_organisation_bids_index")
    try:
        twice = [queue_behind_the_sessions_back(opportunity_id, user_id) for _ in range(2)]
    finally:
        upgrade(directory=str(MIGRATIONS))

    older, newer = renders_of(opportunity_id)
    assert [older.id, newer.id] == twice and newer.status == QUEUED
    assert older.status == FAILED and "asked for more than once at the same moment" in older.error
    with pytest.raises(sa.exc.IntegrityError):
        queue_behind_the_sessions_back(opportunity_id, user_id)
