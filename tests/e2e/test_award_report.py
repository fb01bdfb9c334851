"""The award report and a bidder's letter, downloaded in a real headless Chromium from the app over HTTP.

An evaluated opportunity in standstill (tests/report_builders.py): a procurement officer opens the award report
page (axe-core checks it), downloads the PDF from it and a bidder's letter from its list of letters; the bidder
then signs in, sees its result and downloads its own letter. Both PDFs are read back with pdftotext.

For a large tender the officer asks for the PDF, the page says it is being prepared (axe-core checks it), the job
makes it, and the page's script puts the download link in its place without a reload.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from marketplace.opportunities import lifecycle
from marketplace.reports import renders
from tests.report_builders import evaluated, flat, pdf_text
from tests.factories import StaffFactory


def _download(page, click) -> bytes:
    with page.expect_download() as info:
        click()
    download = info.value
    assert download.failure() is None
    return Path(download.path()).read_bytes()


def test_an_officer_downloads_the_award_report_and_a_bidder_its_letter(app, page, sign_in, axe_check):
    with app.test_request_context():
        state = evaluated(StaffFactory(roles=["commissioner"]), stage=lifecycle.STANDSTILL)
    opportunity_id, reference = state.opportunity.id, state.opportunity.reference
    hashes = [entry["sha256"] for entry in state.evaluation.opening_record]
    ends = state.award.standstill_ends_on
    ends_text = f"{ends.day} {ends:%B %Y}"

    sign_in(page, state.officer.email, next=f"/commissioning/{opportunity_id}/award-report")
    expect(page.locator("h1")).to_have_text("Award report")
    expect(page.locator("#recommended-bidder")).to_have_text(
        "Recommended: Bidder 3 Community Interest Company, 74.56 points")
    axe_check(page)

    report = _download(page, lambda: page.get_by_role("link", name="Download the award report (PDF)").click())
    text = flat(pdf_text(report))
    assert "Recommended: Bidder 3 Community Interest Company, 74.56 points" in text
    assert "Bidder 1 Community Interest Company with 68.50 points" in text and "6.06 points" in text
    assert all(value in text for value in hashes)
    assert f"At the end of {ends_text}" in text

    staff_copy = _download(page, lambda: page.get_by_role(
        "link", name="Exclusion letter for Bidder 5 Community Interest Company (PDF)").click())
    assert "Your bid was excluded" in flat(pdf_text(staff_copy))

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, state.owners[0].email, next=f"/opportunities/{opportunity_id}/bid/result")
    expect(page.locator("h1")).to_have_text("Your result")
    # The result page does not link the letter yet (see the report); follow the letter's own address from it.
    letter = _download(page, lambda: page.evaluate(
        """url => { const a = Object.assign(document.createElement('a'), {href: url, download: ''});
                    document.querySelector('main').append(a); a.click(); }""",
        f"/opportunities/{opportunity_id}/bid/assessment-letter.pdf"))
    text = flat(pdf_text(letter))
    assert "Dear Bidder 1 Community Interest Company" in text
    assert "ranked 2 of 4 compliant bids, with 68.50 points" in text and "scored 74.56 points" in text
    assert f"ends at the end of {ends_text}" in text and reference in text


@pytest.mark.parametrize("app_overrides", [{"AWARD_REPORT_INLINE_MAX_BIDS": 1}])
def test_a_large_tenders_pdf_is_prepared_in_the_background_and_offered_when_ready(app, page, sign_in, axe_check,
                                                                                 monkeypatch):
    held: list[int] = []
    monkeypatch.setattr(renders, "enqueue", lambda name, render_id: held.append(render_id))  # no worker yet
    with app.test_request_context():
        state = evaluated(StaffFactory(roles=["commissioner"]), stage=lifecycle.STANDSTILL)
    opportunity_id = state.opportunity.id

    sign_in(page, state.officer.email, next=f"/commissioning/{opportunity_id}/award-report/pdf")
    expect(page.get_by_role("button", name="Prepare the PDF")).to_be_visible()  # nothing asked for yet
    axe_check(page)
    page.get_by_role("link", name="Back to the award report").click()
    page.get_by_role("button", name="Prepare the award report (PDF)").click()
    expect(page).to_have_url(re.compile(rf"/commissioning/{opportunity_id}/award-report/pdf$"))
    status = page.locator("#report-status")
    expect(status).to_contain_text("The PDF is being prepared")
    expect(page.get_by_role("link", name="Check again")).to_be_visible()
    axe_check(page)

    with app.test_request_context():
        renders.render_award_report(held[0])  # the worker makes it
    download = status.get_by_role("link", name=re.compile(r"Download the award report \(PDF, [\d.]+ [KM]B\)"))
    expect(download).to_be_visible(timeout=20_000)
    expect(status).to_contain_text("The PDF is ready")
    axe_check(page)
    text = flat(pdf_text(_download(page, download.click)))
    assert "Recommended: Bidder 3 Community Interest Company, 74.56 points" in text

    page.reload()
    expect(page.get_by_role("heading", name="The PDF is ready")).to_be_visible()
    axe_check(page)
