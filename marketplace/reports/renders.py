"""Award-report PDFs of large tenders, made by the job worker and kept in the document store.

A tender with at most AWARD_REPORT_INLINE_MAX_BIDS counting bids gets its PDF in the request, as it always has.
Above that (a 200-bid report is 117 pages, about 20 s of CPU and 330 MiB) the PDF is asked for (`ask`) and made
by the job "reports.award_report" (`render_award_report`), in-process by default or by `flask jobs-worker` when
JOB_QUEUE=rq; the status page then offers the stored file.

Each render carries the fingerprint of the report it was made from: the SHA-256 of the report's dataclasses (the
time it was produced is not part of them). A render still queued is reused, and so is a ready one whose
fingerprint matches the report as it is now; a ready one that no longer matches is out of date, and asking again
makes a new one. A render still queued long after a job could have finished was lost (its worker stopped): it is
shown as failed, so it can be asked for again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from marketplace import audit, documents
from marketplace.accounts.models import User
from marketplace.bids.submission import counting_submissions_statement
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.jobs import enqueue, job
from marketplace.opportunities.models import Opportunity
from marketplace.reports import award_report
from marketplace.reports.models import AWARD_REPORT, FAILED, QUEUED, READY, ReportRender
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
    """SHA-256 of everything the report says, in a stable JSON form: it changes whenever any of it changes."""
    body = json.dumps(asdict(report), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(body.encode()).hexdigest()


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
        ReportRender.id == newest)).order_by(ReportRender.id.desc())).scalars())


def current(opportunity: Opportunity, now: datetime) -> Shown:
    """The render to show for the report as it is now; NotReportable when no report can be made at this stage."""
    digest = fingerprint(award_report.build(opportunity, now))
    return choose(_candidates(opportunity.id, digest), digest, now)


def ask(user: User, opportunity: Opportunity, now: datetime) -> ReportRender:
    """Reuse a render still queued, or a ready one of the report as it is now; otherwise queue a new one (audited)
    and start the job after the commit. NotReportable when no report can be made at this stage."""
    digest = fingerprint(award_report.build(opportunity, now))
    shown = choose(_candidates(opportunity.id, digest), digest, now)
    if shown.reusable:
        return shown.render
    render = ReportRender(opportunity_id=opportunity.id, kind=AWARD_REPORT, requested_by_id=user.id,
                          requested_at=now, status=QUEUED, fingerprint=digest)
    db.session.add(render)
    db.session.flush()
    audit.record("report.award_report_requested", "report_render", render.id, actor=user,
                 details={"opportunity_id": opportunity.id, "reference": opportunity.reference})
    db.session.commit()
    enqueue(RENDER_JOB, render.id)
    return render


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
    _ready(render, report, stored)


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


def _ready(render: ReportRender, report: award_report.AwardReport, stored: documents.StoredFile) -> None:
    render.status, render.finished_at, render.fingerprint = READY, utcnow(), fingerprint(report)
    render.storage_key, render.filename, render.size, render.sha256 = (stored.storage_key, stored.filename,
                                                                       stored.size, stored.sha256)
    audit.record("report.award_report_rendered", "report_render", render.id, actor=_requester(render),
                 details={"opportunity_id": render.opportunity_id, "filename": stored.filename,
                          "size": stored.size, "sha256": stored.sha256})
    db.session.commit()


def _failed(render_id: int, reason: str) -> None:
    render = db.session.get(ReportRender, render_id)
    if render is None:
        return
    render.status, render.finished_at, render.error = FAILED, utcnow(), reason
    audit.record("report.award_report_failed", "report_render", render.id, actor=_requester(render),
                 details={"opportunity_id": render.opportunity_id, "error": reason})
    db.session.commit()
