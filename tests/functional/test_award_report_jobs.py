"""Award-report PDFs of large tenders over HTTP: made by the job "reports.award_report" (in-process here), stored,
then offered on the "ready to download" page; reused while they match the report, out of date once the records
or the PDF's layout change, failed with a way to try again; a newer PDF removes the older ones' files from the
store; for the same people as the report, and 404 for anyone else. (Requests at the same moment:
tests/integration/test_report_renders.py.)

A tender is large when it has more than AWARD_REPORT_INLINE_MAX_BIDS counting bids; these tests set it to 1, so
the report builders' five-bid tender is large.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import sqlalchemy as sa
from jinja2 import ChoiceLoader, DictLoader

from marketplace import documents
from marketplace.audit import AuditEvent
from marketplace.errors import DomainError
from marketplace.evaluation.models import ModeratedScore
from marketplace.extensions import db
from marketplace.opportunities import lifecycle
from marketplace.reports import award_report, layout, renders
from marketplace.reports.models import FAILED, QUEUED, READY, SUPERSEDED, ReportRender
from marketplace.timeutil import utcnow
from tests.builders import make_opportunity
from tests.factories import StaffFactory
from tests.report_builders import evaluated, flat, pdf_text, set_aside
from tests.render_fixtures import jobs_held, quick_pdfs, standstill  # noqa: F401
from tests.staff_fixtures import author, request_context  # noqa: F401

LARGE = pytest.mark.parametrize("app_overrides", [{"AWARD_REPORT_INLINE_MAX_BIDS": 1}])
WINNER = "Recommended: Bidder 3 Community Interest Company, 74.56 points"


def report_url(opportunity) -> str:
    return f"/commissioning/{opportunity.id}/award-report"


def status_url(opportunity) -> str:
    return f"/commissioning/{opportunity.id}/award-report/pdf"


def json_url(opportunity, render_id: int) -> str:
    return f"/commissioning/{opportunity.id}/award-report/pdf/{render_id}.json"


def download_url(opportunity, render_id: int) -> str:
    return f"/commissioning/{opportunity.id}/award-report/pdf/{render_id}/download"


def renders_of(opportunity) -> list[ReportRender]:
    """The opportunity's renders as the database holds them now, oldest first."""
    db.session.expire_all()
    return list(db.session.execute(sa.select(ReportRender).where(ReportRender.opportunity_id == opportunity.id)
                                   .order_by(ReportRender.id)).scalars())


def actions_about(render: ReportRender) -> list[str]:
    return list(db.session.execute(sa.select(AuditEvent.action).where(
        AuditEvent.object_type == "report_render", AuditEvent.object_id == str(render.id)).order_by(AuditEvent.id)
    ).scalars())


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return flat(response.get_data(as_text=True))


def prepare(client, opportunity):
    response = client.submit(status_url(opportunity), page_url=report_url(opportunity))
    assert response.status_code == 302 and response.headers["Location"].endswith(status_url(opportunity))
    return response


# Small tenders: as before -----------------------------------------------------------------------------------

def test_a_tender_with_few_bids_still_downloads_its_award_report_pdf_directly(as_user, standstill):
    client = as_user(standstill.officer)
    response = client.get(report_url(standstill.opportunity) + ".pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert WINNER in flat(pdf_text(response.data))
    assert 'download>Download the award report (PDF)</a>' in page(client, report_url(standstill.opportunity))
    assert client.get(status_url(standstill.opportunity)).headers["Location"].endswith(".pdf")
    assert renders_of(standstill.opportunity) == []


# Large tenders: made by the job, then offered -----------------------------------------------------------------

@LARGE
def test_a_large_tenders_pdf_is_made_by_the_job_and_offered_once_ready(as_user, standstill):
    client = as_user(standstill.officer)
    opportunity = standstill.opportunity
    assert client.get(report_url(opportunity) + ".pdf").headers["Location"].endswith(status_url(opportunity))
    assert "Prepare the award report (PDF)" in page(client, report_url(opportunity))
    assert "Prepare the PDF" in page(client, status_url(opportunity))

    prepare(client, opportunity)

    [render] = renders_of(opportunity)
    assert render.status == READY and render.requested_by_id == standstill.officer.id and render.error is None
    assert render.filename == f"award-report-{opportunity.reference}.pdf" and render.finished_at is not None
    stored = documents.path_for(render.storage_key).read_bytes()
    assert len(stored) == render.size and hashlib.sha256(stored).hexdigest() == render.sha256
    assert actions_about(render) == ["report.award_report_requested", "report.award_report_rendered"]

    html = page(client, status_url(opportunity))
    assert "The PDF is ready" in html and f"Download the award report (PDF, {renders.size_words(render.size)})" in html
    assert "report-status.js" not in html
    download = client.get(download_url(opportunity, render.id))
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert download.headers["Cache-Control"] == "private, no-store"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.data == stored and WINNER in flat(pdf_text(download.data))
    status = client.get(json_url(opportunity, render.id)).get_json()
    assert status["status"] == READY and status["download_url"].endswith(f"/pdf/{render.id}/download")


@LARGE
def test_a_render_still_queued_or_of_the_report_as_it_is_now_is_reused_not_made_again(as_user, standstill,
                                                                                     jobs_held):
    client = as_user(standstill.officer)
    opportunity = standstill.opportunity
    prepare(client, opportunity)
    prepare(client, opportunity)

    [render] = renders_of(opportunity)
    assert render.status == QUEUED and jobs_held == [render.id]
    html = page(client, status_url(opportunity))
    assert "The PDF is being prepared" in html and 'aria-live="polite"' in html and "Check again" in html
    assert "js/report-status.js" in html and f"/pdf/{render.id}.json" in html
    assert client.get(json_url(opportunity, render.id)).get_json()["status"] == QUEUED
    assert client.get(download_url(opportunity, render.id)).status_code == 404

    renders.render_award_report(render.id)  # the worker picks it up
    client = as_user(standstill.approver)
    prepare(client, opportunity)

    assert [r.status for r in renders_of(opportunity)] == [READY] and jobs_held == [render.id]
    assert "The PDF is ready" in page(client, status_url(opportunity))


def change_the_evaluation(state, reason: str = "Consensus 4, after the moderator re-read the staffing plan.") -> None:
    moderated = db.session.execute(sa.select(ModeratedScore).where(
        ModeratedScore.bid_id == state.bids[0].id)).scalars().first()
    moderated.reason = reason
    db.session.commit()


def stored(render: ReportRender) -> bool:
    return documents.path_for(render.storage_key).exists()


@LARGE
def test_a_change_to_the_evaluation_makes_the_stored_pdf_out_of_date(as_user, standstill):
    client = as_user(standstill.officer)
    opportunity = standstill.opportunity
    prepare(client, opportunity)
    change_the_evaluation(standstill)

    html = page(client, status_url(opportunity))
    assert "This PDF is out of date" in html and "Make a new PDF" in html and "The PDF is ready" not in html

    prepare(client, opportunity)
    old, new = renders_of(opportunity)
    assert (old.status, new.status) == (SUPERSEDED, READY) and old.fingerprint != new.fingerprint
    assert "The PDF is ready" in page(client, status_url(opportunity))
    assert "after the moderator re-read the staffing plan" in flat(pdf_text(
        client.get(download_url(opportunity, new.id)).data))


# A newer PDF replaces the older ones in the store -----------------------------------------------------------------

@LARGE
def test_a_newer_pdf_removes_the_older_ones_file_from_the_store_and_keeps_its_row_as_superseded(as_user, standstill,
                                                                                                 quick_pdfs):
    client = as_user(standstill.officer)
    opportunity = standstill.opportunity
    prepare(client, opportunity)
    [old] = renders_of(opportunity)
    old_file = documents.path_for(old.storage_key)
    change_the_evaluation(standstill)
    prepare(as_user(standstill.approver), opportunity)

    old, new = renders_of(opportunity)
    assert not old_file.exists() and stored(new)
    assert old.status == SUPERSEDED and old.storage_key is None
    assert old.requested_by_id == standstill.officer.id and old.sha256 and old.filename and old.finished_at
    assert new.requested_by_id == standstill.approver.id
    assert actions_about(old) == ["report.award_report_requested", "report.award_report_rendered",
                                  "report.award_report_superseded"]
    [superseded] = db.session.execute(sa.select(AuditEvent).where(
        AuditEvent.action == "report.award_report_superseded")).scalars()
    assert superseded.details["superseded_by"] == new.id and superseded.details["sha256"] == old.sha256
    assert client.get(download_url(opportunity, old.id)).status_code == 404
    assert client.get(json_url(opportunity, old.id)).get_json()["status"] == SUPERSEDED
    assert "The PDF is ready" in page(client, status_url(opportunity))
    assert client.get(download_url(opportunity, new.id)).status_code == 200


@LARGE
def test_a_stored_file_another_render_still_points_to_is_not_removed(as_user, author, standstill, quick_pdfs):
    client = as_user(standstill.officer)
    opportunity = standstill.opportunity
    prepare(client, opportunity)
    [old] = renders_of(opportunity)
    sharing = ReportRender(opportunity_id=make_opportunity(author).id, requested_by_id=standstill.officer.id,
                           status=READY, finished_at=utcnow(), fingerprint=old.fingerprint,
                           storage_key=old.storage_key, filename=old.filename, size=old.size, sha256=old.sha256)
    db.session.add(sharing)
    db.session.commit()
    change_the_evaluation(standstill)
    prepare(client, opportunity)

    assert renders_of(opportunity)[0].status == SUPERSEDED
    assert documents.path_for(sharing.storage_key).exists()


@LARGE
def test_a_new_pdf_that_could_not_be_made_leaves_the_older_one_stored_and_offered(as_user, standstill, quick_pdfs,
                                                                                   monkeypatch):
    client = as_user(standstill.officer)
    opportunity = standstill.opportunity
    prepare(client, opportunity)
    change_the_evaluation(standstill)

    def fail(report):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(award_report, "render", fail)
    prepare(client, opportunity)

    old, new = renders_of(opportunity)
    assert (old.status, new.status) == (READY, FAILED) and stored(old)
    assert client.get(download_url(opportunity, old.id)).status_code == 200


# A release that changes the PDF's layout -------------------------------------------------------------------------

@pytest.fixture()
def layout_worked_out_again():
    """The layout is worked out once per process: forget it before and after the test."""
    layout.current.cache_clear()
    yield
    layout.current.cache_clear()


@LARGE
def test_a_new_report_layout_version_makes_the_stored_pdf_out_of_date(as_user, standstill, quick_pdfs, monkeypatch,
                                                                      layout_worked_out_again):
    client = as_user(standstill.officer)
    opportunity = standstill.opportunity
    prepare(client, opportunity)
    assert "The PDF is ready" in page(client, status_url(opportunity))

    monkeypatch.setattr(layout, "REPORT_LAYOUT_VERSION", layout.REPORT_LAYOUT_VERSION + 1)
    layout.current.cache_clear()  # as in a new release's processes

    html = page(client, status_url(opportunity))
    assert "This PDF is out of date: the award report has changed" in html and "Make a new PDF" in html
    prepare(client, opportunity)
    old, new = renders_of(opportunity)
    assert (old.status, new.status) == (SUPERSEDED, READY) and old.fingerprint != new.fingerprint
    assert "The PDF is ready" in page(client, status_url(opportunity))


@LARGE
def test_a_change_to_a_template_the_pdf_includes_makes_the_stored_pdf_out_of_date(app, as_user, standstill, quick_pdfs,
                                                                                 monkeypatch, layout_worked_out_again):
    client = as_user(standstill.officer)
    opportunity = standstill.opportunity
    prepare(client, opportunity)
    included = "reports/_pdf_styles.html"  # included by pdf/award_report.html, not named by the code
    source, _, _ = app.jinja_env.loader.get_source(app.jinja_env, included)
    monkeypatch.setattr(app.jinja_env, "loader", ChoiceLoader(
        [DictLoader({included: source + "<style>h2 { color: #1d70b8; }</style>"}), app.jinja_env.loader]))
    layout.current.cache_clear()

    assert "This PDF is out of date" in page(client, status_url(opportunity))


@LARGE
@pytest.mark.parametrize("failure, message", [
    (RuntimeError("out of memory"), renders.UNEXPECTED),
    (DomainError("The selected file must be smaller than 1MB", "file"), "The selected file must be smaller than 1MB"),
])
def test_a_failed_render_says_so_and_offers_to_try_again(as_user, standstill, monkeypatch, failure, message):
    client = as_user(standstill.officer)
    opportunity = standstill.opportunity

    def fail(report):
        raise failure

    monkeypatch.setattr(award_report, "render", fail)
    prepare(client, opportunity)

    [render] = renders_of(opportunity)
    assert render.status == FAILED and render.error == message and render.storage_key is None
    assert actions_about(render) == ["report.award_report_requested", "report.award_report_failed"]
    html = page(client, status_url(opportunity))
    assert "The PDF could not be made" in html and message in html and "Try again" in html
    assert "out of memory" not in html
    status = client.get(json_url(opportunity, render.id)).get_json()
    assert status["status"] == FAILED and status["error"] == message and status["download_url"] == ""
    assert client.get(download_url(opportunity, render.id)).status_code == 404

    monkeypatch.undo()
    prepare(client, opportunity)
    assert [r.status for r in renders_of(opportunity)] == [FAILED, READY]


@LARGE
def test_a_render_its_worker_never_finished_shows_as_failed_and_can_be_asked_for_again(as_user, standstill,
                                                                                     jobs_held):
    client = as_user(standstill.officer)
    opportunity = standstill.opportunity
    prepare(client, opportunity)
    [lost] = renders_of(opportunity)
    lost.requested_at = utcnow() - renders.LOST_AFTER - timedelta(minutes=1)
    db.session.commit()

    assert renders.LOST in page(client, status_url(opportunity))
    assert client.get(json_url(opportunity, lost.id)).get_json()["status"] == FAILED
    prepare(client, opportunity)
    lost, again = renders_of(opportunity)
    assert jobs_held == [lost.id, again.id] and (lost.status, again.status) == (FAILED, QUEUED)
    assert lost.error == renders.LOST and actions_about(lost)[-1] == "report.award_report_failed"
    renders.render_award_report(lost.id)  # its worker turns up after all
    assert [r.status for r in renders_of(opportunity)] == [FAILED, QUEUED]


# Who, and which render -----------------------------------------------------------------------------------------

@LARGE
def test_only_those_who_may_read_the_report_may_ask_for_or_download_its_pdf(as_user, author, standstill, quick_pdfs):
    opportunity = standstill.opportunity
    prepare(as_user(author), opportunity)  # the commissioner who wrote it may
    [render] = renders_of(opportunity)
    for name, user in {"another commissioner": StaffFactory(roles=["commissioner"]),
                       "an evaluator on the panel": standstill.evaluators[0],
                       "the winning bidder": standstill.owners[2]}.items():
        client = as_user(user)
        token = client.csrf_token("/accessibility")
        for url in (status_url(opportunity), json_url(opportunity, render.id), download_url(opportunity, render.id)):
            assert client.get(url).status_code == 404, (name, url)
        assert client.post(status_url(opportunity), data={"csrf_token": token}).status_code == 404, name
    assert len(renders_of(opportunity)) == 1


@LARGE
def test_a_render_of_another_opportunity_or_no_render_at_all_answers_not_found(as_user, author, standstill, quick_pdfs):
    client = as_user(standstill.officer)
    prepare(client, standstill.opportunity)
    [render] = renders_of(standstill.opportunity)
    set_aside(standstill.opportunity.id)
    other = evaluated(author, stage=lifecycle.STANDSTILL).opportunity
    for url in (json_url(other, render.id), download_url(other, render.id), json_url(standstill.opportunity, 999999),
                download_url(standstill.opportunity, 999999), json_url(standstill.opportunity, 0),
                f"/commissioning/{standstill.opportunity.id}/award-report/pdf/99999999999999999999.json"):
        assert client.get(url).status_code == 404, url


@LARGE
def test_before_the_deadline_there_is_no_pdf_page_even_for_a_procurement_officer(as_user, author):
    opportunity = make_opportunity(author)
    client = as_user(StaffFactory(roles=["procurement_officer"]))
    assert client.get(status_url(opportunity)).status_code == 404
    assert client.post(status_url(opportunity), data={"csrf_token": client.csrf_token("/accessibility")}
                       ).status_code == 404


@LARGE
def test_asking_for_a_pdf_needs_the_forms_csrf_token(as_user, standstill):
    client = as_user(standstill.officer)
    response = client.post(status_url(standstill.opportunity), data={})
    assert response.status_code == 400
    assert renders_of(standstill.opportunity) == []
