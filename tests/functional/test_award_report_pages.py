"""The award report and the bidders' letters over HTTP: who may have them, at which stages, and what the PDFs say
(read back with pdftotext)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from marketplace.opportunities import lifecycle
from tests.builders import closed_with_bids, make_opportunity
from tests.factories import OrganisationFactory, StaffFactory, provider
from tests.report_builders import EXCLUSION_REASON, evaluated, flat, pdf_pages, pdf_text, set_aside, watermarked_pages
from tests.staff_fixtures import author, request_context  # noqa: F401


def report_url(opportunity, pdf: bool = False) -> str:
    return f"/commissioning/{opportunity.id}/award-report" + (".pdf" if pdf else "")


def own_letter_url(opportunity) -> str:
    return f"/opportunities/{opportunity.id}/bid/assessment-letter.pdf"


def staff_letter_url(opportunity, bid) -> str:
    return f"/commissioning/{opportunity.id}/award-report/letters/{bid.id}.pdf"


def downloaded(response) -> bytes:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    return response.data


@pytest.fixture()
def standstill(author):
    return evaluated(author, stage=lifecycle.STANDSTILL)


# The page and the PDF --------------------------------------------------------------------------------------

def test_a_procurement_officer_reads_the_award_report_with_the_engines_figures(as_user, standstill):
    page = as_user(standstill.officer).get(report_url(standstill.opportunity))
    assert page.status_code == 200
    html = flat(page.get_data(as_text=True))
    assert "Recommended: Bidder 3 Community Interest Company, 74.56 points" in html
    assert "Bidder 1 Community Interest Company with 68.50 points" in html and "6.06 points" in html
    assert standstill.evaluation.opening_record[0]["sha256"][:16] in html
    assert EXCLUSION_REASON in html
    assert html.count('role="img"') == 4  # a bar for each ranked bid, each with its figures in words
    assert "Draft: the award has not been approved" not in html


def test_the_award_report_pdf_carries_the_key_figures(as_user, standstill):
    data = downloaded(as_user(standstill.officer).get(report_url(standstill.opportunity, pdf=True)))
    text = flat(pdf_text(data))
    for figure in ("Recommended: Bidder 3 Community Interest Company, 74.56 points", "68.50", "6.06 points",
                   "64.00", "61.00", "£135,000", "Evie Evaluator: 5 of 5", "Declared a conflict: Volunteered with",
                   "49.3% under the", "Apprenticeships created: 156 weeks",
                   EXCLUSION_REASON, "award.recommended"):
        assert figure in text, figure
    for entry in standstill.evaluation.opening_record:
        assert entry["sha256"] in text
    ends = standstill.award.standstill_ends_on
    assert f"At the end of {ends.day} {ends:%B %Y}" in text
    assert "Contents" in text and f"Page 1 of {pdf_pages(data)}" in text
    assert watermarked_pages(data) == 0


@pytest.mark.parametrize("stage, draft", [(lifecycle.EVALUATING, True), (lifecycle.AWARD_RECOMMENDED, True),
                                          (lifecycle.STANDSTILL, False), (lifecycle.AWARDED, False)])
def test_the_draft_watermark_is_on_every_page_until_the_award_is_approved(as_user, author, stage, draft):
    state = evaluated(author, stage=stage)
    client = as_user(state.officer)
    data = downloaded(client.get(report_url(state.opportunity, pdf=True)))
    assert watermarked_pages(data) == (pdf_pages(data) if draft else 0)
    assert ("Draft: the award has not been approved" in client.get(report_url(state.opportunity)).get_data(
        as_text=True)) is draft


# Who, and when -----------------------------------------------------------------------------------------------

def test_administrators_and_the_commissioner_who_wrote_it_may_read_it_and_nobody_else(as_user, author, standstill):
    administrator = StaffFactory(roles=["administrator"])
    allowed = {"officer": standstill.officer, "approver": standstill.approver, "administrator": administrator,
               "author": author}
    refused = {"another commissioner": StaffFactory(roles=["commissioner"]),
               "an evaluator on the panel": standstill.evaluators[0], "the winning bidder": standstill.owners[2]}
    for name, user in allowed.items():
        assert as_user(user).get(report_url(standstill.opportunity)).status_code == 200, name
    for name, user in refused.items():
        client = as_user(user)
        assert client.get(report_url(standstill.opportunity)).status_code == 404, name
        assert client.get(report_url(standstill.opportunity, pdf=True)).status_code == 404, name
        assert client.get(staff_letter_url(standstill.opportunity, standstill.bids[0])).status_code == 404, name


def test_before_the_deadline_there_is_no_award_report_even_for_a_procurement_officer(as_user, author):
    opportunity = make_opportunity(author)
    client = as_user(StaffFactory(roles=["procurement_officer"]))
    assert client.get(report_url(opportunity)).status_code == 404
    assert client.get(report_url(opportunity, pdf=True)).status_code == 404


def test_bids_not_yet_opened_get_a_clear_refusal_not_a_report(as_user, author):
    opportunity, _ = closed_with_bids(author, prices=(Decimal("98765.43"),))
    client = as_user(StaffFactory(roles=["procurement_officer"]))
    for url in (report_url(opportunity), report_url(opportunity, pdf=True)):
        response = client.get(url)
        body = response.get_data(as_text=True)
        assert response.status_code == 409 and "The bids have not been opened yet" in body
        assert "98765" not in body and "98,765" not in body


def test_nonsense_ids_answer_not_found(as_user, standstill):
    client = as_user(standstill.officer)
    for url in ("/commissioning/999999/award-report", "/commissioning/999999/award-report.pdf",
                f"/commissioning/{standstill.opportunity.id}/award-report/letters/999999.pdf",
                "/opportunities/999999/bid/assessment-letter.pdf", "/commissioning/99999999999999999999/award-report",
                f"/commissioning/{standstill.opportunity.id}/award-report/letters/99999999999999999999.pdf",
                "/opportunities/99999999999999999999/bid/assessment-letter.pdf", "/commissioning/0/award-report.pdf"):
        assert client.get(url).status_code == 404, url


# Letters ------------------------------------------------------------------------------------------------------

def test_a_bidder_downloads_its_own_assessment_summary_once_the_award_notice_is_published(as_user, standstill):
    data = downloaded(as_user(standstill.owners[0]).get(own_letter_url(standstill.opportunity)))
    text = flat(pdf_text(data))
    ends = standstill.award.standstill_ends_on
    for words in ("Dear Bidder 1 Community Interest Company", "Your bid was not successful",
                  "ranked 2 of 4 compliant bids, with 68.50 points", "The successful bid scored 74.56 points",
                  "How you will deliver the service 40 32.00 40.00", "Price 35 17.50 15.56",
                  "The panel's reason: Consensus 4", f"ends at the end of {ends.day} {ends:%B %Y}"):
        assert words in text, words
    assert "Bidder 2 Community Interest Company" not in text  # another bidder's result is not told
    assert watermarked_pages(data) == 0


def test_the_winners_letter_gives_the_next_steps(as_user, standstill):
    text = flat(pdf_text(downloaded(as_user(standstill.owners[2]).get(own_letter_url(standstill.opportunity)))))
    assert "Your bid was successful" in text and "Next steps" in text and "74.56 points" in text


def test_an_excluded_bidder_gets_the_ground_of_its_exclusion(as_user, standstill):
    text = flat(pdf_text(downloaded(as_user(standstill.owners[4]).get(own_letter_url(standstill.opportunity)))))
    assert "Your bid was excluded" in text and EXCLUSION_REASON in text


def test_no_bidder_letter_before_the_award_notice_but_staff_may_see_a_draft(as_user, author):
    state = evaluated(author, stage=lifecycle.AWARD_RECOMMENDED)
    assert as_user(state.owners[0]).get(own_letter_url(state.opportunity)).status_code == 404
    data = downloaded(as_user(state.officer).get(staff_letter_url(state.opportunity, state.bids[0])))
    assert watermarked_pages(data) == pdf_pages(data)
    assert "Its end date will be given in the final letter" in flat(pdf_text(data))


def test_a_letter_is_only_for_the_bidding_organisation(as_user, standstill):
    outsider = provider(OrganisationFactory())
    assert as_user(outsider).get(own_letter_url(standstill.opportunity)).status_code == 404
    assert as_user(outsider).get(staff_letter_url(standstill.opportunity, standstill.bids[1])).status_code == 404
    # the bidder's own route only ever gives its own letter
    text = flat(pdf_text(downloaded(as_user(standstill.owners[1]).get(own_letter_url(standstill.opportunity)))))
    assert "Dear Bidder 2 Community Interest Company" in text and "Bidder 1 Community" not in text


def test_staff_download_each_bidders_letter_and_none_for_a_bid_of_another_opportunity(as_user, author, standstill):
    client = as_user(standstill.officer)
    names = [downloaded(client.get(staff_letter_url(standstill.opportunity, bid))) for bid in standstill.bids]
    assert "Your bid was excluded" in flat(pdf_text(names[4]))
    set_aside(standstill.opportunity.id)
    other, other_bids = closed_with_bids(author)
    assert client.get(staff_letter_url(standstill.opportunity, other_bids[0])).status_code == 404
    assert client.get(f"/commissioning/{other.id}/award-report/letters/{standstill.bids[0].id}.pdf"
                      ).status_code == 404
