"""Award-report PDFs of large tenders, made by the job worker and kept in the document store.

A tender with at most AWARD_REPORT_INLINE_MAX_BIDS counting bids gets its PDF in the request, as it always has.
Above that (a 200-bid report is 117 pages, about 20 s of CPU and 330 MiB) the PDF is asked for (`ask`) and made
by the job "reports.award_report" (`render_award_report`), in-process by default or by `flask jobs-worker` when
JOB_QUEUE=rq; the status page then offers the stored file.

Each render carries the fingerprint of the report it was made from: the SHA-256 of the report's layout (see
`layout.py`: a release that changes how the PDF looks changes it) and of its dataclasses (the time it was produced
is not part of them). A render still queued is reused, and so is a ready one whose fingerprint matches the report
as it is now; a ready one that no longer matches is out of date, and asking again makes a new one. A render still
queued long after a job could have finished was lost (its worker stopped): it is shown as failed, so it can be
asked for again, and is marked failed when it is.

Asking is idempotent however many ask at once: an opportunity has at most one render queued (a unique index), and
on PostgreSQL asking for, finishing and superseding its renders hold the opportunity's row, so they happen one
after another; a request that still loses a race reuses the render the other queued.

When a render is ready, the opportunity's older ready renders are superseded: their rows stay, for the audit trail,
and their stored files are removed once no render points to them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from marketplace import audit, documents
from marketplace.accounts.models import User
from marketplace.bids.submission import counting_submissions_statement
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.jobs import enqueue, job
from marketplace.opportunities.models import Opportunity
from marketplace.reports import award_report, layout
from marketplace.reports.models import AWARD_REPORT, FAILED, QUEUED, READY, SUPERSEDED, ReportRender
from marketplace.timeutil import format_london, utcnow

RENDER_JOB = "reports.award_report"
NONE, OUT_OF_DATE = "none", "out_of_date"
# Longer than a job may run (marketplace.jobs gives each 600 s) plus a wait in the queue.
LOST_AFTER = timedelta(minutes=30)
LOST = "It was not finished within 30 minutes, so the work on it has probably stopped."
UNEXPECTED = "Something went wrong while it was being made."
MAX_PDF_BYTES = 1024 * 1024 * 1024


# Which reports are made in the background ----------------------------------------------------------------

def counting_bids(opportunity_id: int) -> int:
    """How many bids count (their latest sealed version, not withdrawn), in one query."""
    counted = counting_submissions_statement(opportunity_id).order_by(None).subquery()
    return db.session.execute(sa.select(sa.func.count()).select_from(counted)).scalar_one()


def in_background(opportunity_id: int) -> bool:
    return counting_bids(opportunity_id) > current_app.config["AWARD_REPORT_INLINE_MAX_BIDS"]


def fingerprint(report: award_report.AwardReport) -> str:
    """SHA-256 of the PDF's layout and everything the report says, in a stable JSON form: it changes whenever the
    layout or any of what the report says changes."""
    body = json.dumps(asdict(report), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(f"{layout.current()}\n{body}".encode()).hexdigest()


# What a render is, to people (pure) ---------------------------------------------------------------------

def status_of(render: Any, now: datetime) -> str:
    """queued, ready or failed; a render queued longer than LOST_AFTER ago counts as failed."""
    if render.status == QUEUED and now - render.requested_at > LOST_AFTER:
        return FAILED
    return render.status


def error_of(render: Any, now: datetime) -> str:
    return (render.error or LOST) if status_of(render, now) == FAILED else ""


def size_words(size: int | None) -> str:
    """'840 KB', '2.4 MB'."""
    size = size or 0
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    return f"{size / (1024 * 1024):.1f} MB"


@dataclass(frozen=True)
class Shown:
    """The render the status page shows (and a new request reuses), and its state: none, queued, ready,
    out_of_date or failed."""

    render: Any
    state: str
    now: datetime

    @property
    def reusable(self) -> bool:
        return self.state in (QUEUED, READY)

    @property
    def error(self) -> str:
        return error_of(self.render, self.now) if self.render is not None else ""


def choose(renders: list[Any], current: str, now: datetime) -> Shown:
    """From renders newest first: one still queued; else a ready one of the report as it is now (`current`
    fingerprint); else the newest, out of date or failed; else none."""
    for render in renders:
        if status_of(render, now) == QUEUED:
            return Shown(render, QUEUED, now)
    for render in renders:
        if render.status == READY and render.fingerprint == current:
            return Shown(render, READY, now)
    if not renders:
        return Shown(None, NONE, now)
    latest = renders[0]
    return Shown(latest, OUT_OF_DATE if latest.status == READY else status_of(latest, now), now)


def describe(render: Any, now: datetime) -> dict[str, str]:
    """What the status page's script needs to know of a render."""
    ready = render.status == READY
    return {"status": status_of(render, now), "error": error_of(render, now),
            "filename": (render.filename or "") if ready else "", "size": size_words(render.size) if ready else "",
            "made": format_london(render.finished_at) if ready else ""}


# Use cases -------------------------------------------------------------------------------------------------

def _candidates(opportunity_id: int, current: str) -> list[ReportRender]:
    """The newest render, and every one that might be reused: queued, or ready and of the report as it is now."""
    scope = sa.and_(ReportRender.opportunity_id == opportunity_id, ReportRender.kind == AWARD_REPORT)
    newest = sa.select(sa.func.max(ReportRender.id)).where(scope).scalar_subquery()
    return list(db.session.execute(sa.select(ReportRender).where(scope, sa.or_(
        ReportRender.status == QUEUED, sa.and_(ReportRender.status == READY, ReportRender.fingerprint == current),
        ReportRender.id == newest)).order_by(ReportRender.id.desc())
        .execution_options(populate_existing=True)).scalars())


def _hold(opportunity_id: int) -> bool:
    """Hold the opportunity's row (PostgreSQL) until the commit, so that asking for, finishing and superseding its
    renders happen one after another; False when the opportunity is gone. (FOR NO KEY UPDATE, so rows that refer
    to the opportunity, bids for one, can still be added meanwhile.)"""
    return db.session.execute(sa.select(Opportunity.id).where(Opportunity.id == opportunity_id)
                              .with_for_update(key_share=True)).scalar() is not None


def current(opportunity: Opportunity, now: datetime) -> Shown:
    """The render to show for the report as it is now; NotReportable when no report can be made at this stage."""
    digest = fingerprint(award_report.build(opportunity, now))
    return choose(_candidates(opportunity.id, digest), digest, now)


def ask(user: User, opportunity: Opportunity, now: datetime) -> ReportRender:
    """Reuse a render still queued, or a ready one of the report as it is now; otherwise queue a new one (audited)
    and start the job after the commit. Two requests at the same moment queue one render, which both get.
    NotReportable when no report can be made at this stage."""
    digest = fingerprint(award_report.build(opportunity, now))
    try:
        render, queued = _reuse_or_queue(user, opportunity, digest, now)
    except IntegrityError:  # another request queued one at the same moment (the unique index): reuse it
        db.session.rollback()
        shown = choose(_candidates(opportunity.id, digest), digest, now)
        if not shown.reusable:
            raise
        return shown.render
    if queued:
        enqueue(RENDER_JOB, render.id)
    return render


def _reuse_or_queue(user: User, opportunity: Opportunity, digest: str, now: datetime) -> tuple[ReportRender, bool]:
    """(the render to reuse, False), or (a render newly queued, True); either way the transaction is committed."""
    _hold(opportunity.id)
    shown = choose(_candidates(opportunity.id, digest), digest, now)
    if shown.reusable:
        db.session.commit()  # lets the opportunity's row go
        return shown.render, False
    _give_up_lost(opportunity.id, now)
    render = ReportRender(opportunity_id=opportunity.id, kind=AWARD_REPORT, requested_by_id=user.id,
                          requested_at=now, status=QUEUED, fingerprint=digest)
    db.session.add(render)
    db.session.flush()
    audit.record("report.award_report_requested", "report_render", render.id, actor=user,
                 details={"opportunity_id": opportunity.id, "reference": opportunity.reference})
    db.session.commit()
    return render, True


def _give_up_lost(opportunity_id: int, now: datetime) -> None:
    """Renders lost (`status_of`) are marked failed, which makes way for a new one; their jobs, should they ever
    finish, keep nothing. (One queued by another request meanwhile is not lost: the new one then collides with
    it, and it is reused.)"""
    for lost in db.session.execute(sa.select(ReportRender).where(
            ReportRender.opportunity_id == opportunity_id, ReportRender.kind == AWARD_REPORT,
            ReportRender.status == QUEUED, ReportRender.requested_at < now - LOST_AFTER)).scalars():
        _mark_failed(lost, LOST, now)


# The job -------------------------------------------------------------------------------------------------

@job(RENDER_JOB)
def render_award_report(render_id: int) -> None:
    """Build the report as it is now, render and store its PDF, and mark the render ready; any failure marks it
    failed with a message for people instead, and the worker carries on."""
    render = db.session.get(ReportRender, render_id)
    if render is None or render.status != QUEUED:
        return  # made already (a job run twice), or gone with its opportunity
    try:
        report, stored = _make(render)
    except Exception as error:  # any failure is the render's, recorded on it; it must not stop the worker
        db.session.rollback()
        _failed(render_id, _reason(error))
        return
    _ready(render_id, report, stored)


def _make(render: ReportRender) -> tuple[award_report.AwardReport, documents.StoredFile]:
    report = award_report.build(db.session.get(Opportunity, render.opportunity_id), utcnow())
    return report, documents.store(report.filename, award_report.render(report), max_bytes=MAX_PDF_BYTES)


def _reason(error: Exception) -> str:
    if isinstance(error, DomainError):
        return error.message
    current_app.logger.exception("Could not make award report render", exc_info=error)
    return UNEXPECTED


def _requester(render: ReportRender) -> User | str:
    user = db.session.get(User, render.requested_by_id) if render.requested_by_id else None
    return user or RENDER_JOB


def _held_if_queued(render_id: int) -> ReportRender | None:
    """The render, read again with its opportunity's row held, if it is still queued: not given up on as lost while
    it was being made, nor gone with its opportunity."""
    opportunity_id = db.session.execute(sa.select(ReportRender.opportunity_id)
                                        .where(ReportRender.id == render_id)).scalar()
    if opportunity_id is None or not _hold(opportunity_id):
        return None
    render = db.session.execute(sa.select(ReportRender).where(ReportRender.id == render_id)
                                .execution_options(populate_existing=True)).scalar_one_or_none()
    return render if render is not None and render.status == QUEUED else None


def _ready(render_id: int, report: award_report.AwardReport, stored: documents.StoredFile) -> None:
    """Mark the render ready and supersede the opportunity's older PDFs in one commit; their files go after it. A
    render no longer queued keeps nothing."""
    render = _held_if_queued(render_id)
    if render is None:
        db.session.rollback()
        _remove_files({stored.storage_key})
        return
    render.status, render.finished_at, render.fingerprint = READY, utcnow(), fingerprint(report)
    render.storage_key, render.filename, render.size, render.sha256 = (stored.storage_key, stored.filename,
                                                                       stored.size, stored.sha256)
    audit.record("report.award_report_rendered", "report_render", render.id, actor=_requester(render),
                 details={"opportunity_id": render.opportunity_id, "filename": stored.filename,
                          "size": stored.size, "sha256": stored.sha256})
    unused = _supersede(render)
    db.session.commit()
    _remove_files(unused)


def _supersede(render: ReportRender) -> set[str]:
    """The opportunity's other ready renders are superseded by this newer one: each row stays (who asked, when, the
    file's name, size and SHA-256) and is audited. Returns the stored files no render points to any more."""
    older = list(db.session.execute(sa.select(ReportRender).where(
        ReportRender.opportunity_id == render.opportunity_id, ReportRender.kind == render.kind,
        ReportRender.status == READY, ReportRender.id != render.id)).scalars())
    keys = {old.storage_key for old in older if old.storage_key}
    for old in older:
        old.status, old.storage_key = SUPERSEDED, None
        audit.record("report.award_report_superseded", "report_render", old.id, actor=_requester(render),
                     details={"opportunity_id": old.opportunity_id, "superseded_by": render.id,
                              "filename": old.filename, "sha256": old.sha256})
    return keys - _pointed_to(keys)


def _pointed_to(keys: set[str]) -> set[str]:
    """Which of these stored files a render still points to."""
    if not keys:
        return set()
    db.session.flush()
    return set(db.session.execute(sa.select(ReportRender.storage_key)
                                  .where(ReportRender.storage_key.in_(sorted(keys)))).scalars())


def _remove_files(keys: set[str]) -> None:
    """Remove stored files; one that cannot be removed is logged and left (the records are right either way)."""
    for key in sorted(keys):
        try:
            documents.path_for(key).unlink(missing_ok=True)
        except OSError as error:
            current_app.logger.warning("Could not remove the award report file %s: %s", key, error)


def _failed(render_id: int, reason: str) -> None:
    render = _held_if_queued(render_id)
    if render is None:
        db.session.rollback()
        return
    _mark_failed(render, reason, utcnow())
    db.session.commit()


def _mark_failed(render: ReportRender, reason: str, now: datetime) -> None:
    render.status, render.finished_at, render.error = FAILED, now, reason
    audit.record("report.award_report_failed", "report_render", render.id, actor=_requester(render),
                 details={"opportunity_id": render.opportunity_id, "error": reason})
