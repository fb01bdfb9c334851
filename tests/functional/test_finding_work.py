"""Finding work over HTTP: the opportunity list and its filters, the opportunity page (and the staff preview of
an unpublished one), documents, saving opportunities and searches, and the Atom feed."""

from __future__ import annotations

import hashlib
import html
import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from marketplace.audit import AuditEvent
from marketplace.clarifications.models import Question
from marketplace.extensions import db
from marketplace.opportunities.models import Amendment, OpportunityDocument, SavedSearch, Watch
from marketplace.timeutil import format_london, utcnow
from tests.factories import OrganisationFactory, StaffFactory, provider
from tests.integration.test_search import add_lot, add_model, make_opportunity
from tests.sql import statements_sent as count_queries

ATOM = "{http://www.w3.org/2005/Atom}"
SEARCH = "/opportunities"
SAVED_SEARCHES = "/opportunities/saved-searches"
SAVED = "/opportunities/saved"


def text(response) -> str:
    return response.get_data(as_text=True)


def detail_url(opportunity) -> str:
    return f"/opportunities/{opportunity.id}"


def save_url(opportunity) -> str:
    return f"/opportunities/{opportunity.id}/save"


def unsave_url(opportunity) -> str:
    return f"/opportunities/{opportunity.id}/unsave"


def titles_on(page: str) -> list[str]:
    """The titles of the opportunities listed on a results page, in order."""
    return [html.unescape(t) for t in re.findall(r'<a class="govuk-link" href="/opportunities/\d+">([^<]+)</a>',
                                                  page)]


def watches() -> set[tuple[int, int]]:
    return {(w.user_id, w.opportunity_id) for w in db.session.execute(sa.select(Watch)).scalars()}


def saved_searches() -> list[SavedSearch]:
    db.session.expire_all()
    return list(db.session.execute(sa.select(SavedSearch).order_by(SavedSearch.id)).scalars())


def actions() -> list[str]:
    return list(db.session.execute(sa.select(AuditEvent.action).order_by(AuditEvent.id)).scalars())


@pytest.fixture()
def member(as_user):
    """A signed-in provider user."""
    user = provider(OrganisationFactory(legal_name="Thanet Community Meals"), email="sam@thanet-meals.example")
    as_user(user)
    return user


# Who sees what ---------------------------------------------------------------------------------------------

def anonymous():
    return None


def a_provider():
    return provider()


def a_commissioner():
    return StaffFactory(roles=["commissioner"])


def a_procurement_officer():
    return StaffFactory(roles=["procurement_officer"])


def an_administrator():
    return StaffFactory(roles=["administrator"])


EVERYONE = [anonymous, a_provider, a_commissioner, a_procurement_officer, an_administrator]


@pytest.mark.parametrize("who", EVERYONE, ids=lambda f: f.__name__)
def test_the_list_never_shows_drafts_or_opportunities_awaiting_approval_whoever_is_signed_in(client, as_user, who):
    make_opportunity(title="Published service")
    make_opportunity(title="Draft service", status="draft", published_at=None)
    make_opportunity(title="Waiting service", status="awaiting_approval", published_at=None)
    user = who()
    if user:
        as_user(user)
    for url in (SEARCH, SEARCH + "?status=any"):
        page = text(client.get(url))
        assert titles_on(page) == ["Published service"]
        assert "1 opportunity found" in page


@pytest.mark.parametrize("status", ["draft", "awaiting_approval"])
@pytest.mark.parametrize("who", [anonymous, a_provider, an_administrator], ids=lambda f: f.__name__)
def test_an_unpublished_opportunity_is_not_found_by_the_public_or_providers(client, as_user, who, status):
    opportunity = make_opportunity(status=status, published_at=None)
    user = who()
    if user:
        as_user(user)
    assert client.get(detail_url(opportunity)).status_code == 404


def test_a_missing_opportunity_is_not_found(client):
    assert client.get("/opportunities/999999").status_code == 404


@pytest.mark.parametrize("who", [a_commissioner, a_procurement_officer], ids=lambda f: f.__name__)
def test_council_staff_preview_an_unpublished_opportunity_under_a_not_published_banner(client, as_user, who):
    opportunity = make_opportunity(title="Youth clubs in Swale", status="awaiting_approval", published_at=None)
    as_user(who())
    response = client.get(detail_url(opportunity))
    page = text(response)
    assert response.status_code == 200
    assert "Not published: this is a preview for council staff." in page
    assert "Youth clubs in Swale" in page
    assert "Awaiting approval" in page


def test_a_published_opportunity_has_no_preview_banner(client, as_user):
    opportunity = make_opportunity()
    as_user(a_commissioner())
    assert "Not published" not in text(client.get(detail_url(opportunity)))


# The list --------------------------------------------------------------------------------------------------

def test_the_list_shows_each_opportunitys_key_facts(client):
    make_opportunity(title="Meals on wheels", reference="KCC-2027-0042", estimated_value=Decimal("180000"),
                     category="adult-social-care", localities=["thanet", "dover"], reservation="kent",
                     summary="Hot meals for older people at home.")
    page = text(client.get(SEARCH))
    for expected in ("Meals on wheels", "KCC-2027-0042", "£180,000", "Adult social care", "Thanet, Dover",
                     "Hot meals for older people at home.", "Open", "Reserved for Kent suppliers"):
        assert expected in page


def test_filters_from_the_query_string_narrow_the_list_and_are_shown_with_remove_links(client):
    make_opportunity(title="Dover care", localities=["dover"])
    make_opportunity(title="Thanet care", localities=["thanet"])
    make_opportunity(title="Kent care", localities=["county-wide"])
    page = text(client.get(SEARCH + "?locality=dover&locality=thanet&sort=newest"))
    assert titles_on(page) == ["Kent care", "Thanet care", "Dover care"]
    assert "3 opportunities found" in page
    assert "Location: Dover" in page and "Location: Thanet" in page
    [remove_dover] = re.findall(r'href="([^"]+)">Remove<span class="govuk-visually-hidden"> filter Location: Dover',
                                page)
    assert parse_qs(urlsplit(html.unescape(remove_dover)).query) == {"locality": ["thanet"], "sort": ["newest"]}
    assert titles_on(text(client.get(html.unescape(remove_dover)))) == ["Kent care", "Thanet care"]


def test_the_filter_form_shows_the_current_choices(client):
    page = text(client.get(SEARCH + "?q=meals&category=public-health&closing=7&status=closed&sort=value-low"))
    assert re.search(r'name="q"[^>]*value="meals"', page)
    assert re.search(r'value="public-health" checked', page)
    assert re.search(r'name="closing" type="radio" value="7" checked', page)
    assert re.search(r'name="status" type="radio" value="closed" checked', page)
    assert re.search(r'value="value-low" selected', page)
    assert '<form method="get" action="/opportunities"' in page


@pytest.mark.parametrize("query", [
    "category=<script>alert(1)</script>",
    "locality=medway&value=huge&closing=forever&reserved=perhaps&status=draft&sort=drop",
    "page=abc",
    "page=-3",
    "page=99999",
    "q=" + "x" * 5000,
    "q=%00%01%02",
    "q=%25%5F",
    "category=adult-social-care&category=adult-social-care",
])
def test_unknown_or_hostile_filter_values_are_ignored_not_an_error(client, query):
    make_opportunity(title="Still listed")
    response = client.get(f"{SEARCH}?{query}")
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in text(response)


def test_keywords_are_shown_back_escaped(client):
    page = text(client.get(SEARCH + "?q=<b>bold</b>"))
    assert "<b>bold</b>" not in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page


def test_an_opportunity_title_is_shown_escaped(client):
    make_opportunity(title="<img src=x onerror=alert(1)> transport")
    page = text(client.get(SEARCH))
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt; transport" in page


def test_the_list_is_paginated_twenty_a_page_keeping_the_filters(client):
    for n in range(23):
        make_opportunity(title=f"Service {n + 1:02d}", category="public-health",
                         submission_deadline=utcnow() + timedelta(days=n + 1))
    first = text(client.get(SEARCH + "?category=public-health"))
    assert len(titles_on(first)) == 20
    assert "23 opportunities found" in first
    [next_link] = re.findall(r'<a class="govuk-link govuk-pagination__link" href="([^"]+)" rel="next"', first)
    assert parse_qs(urlsplit(html.unescape(next_link)).query) == {"category": ["public-health"], "page": ["2"]}
    assert titles_on(text(client.get(html.unescape(next_link)))) == ["Service 21", "Service 22", "Service 23"]


def test_an_empty_search_says_so(client):
    page = text(client.get(SEARCH + "?q=nothing-matches-this"))
    assert "0 opportunities found" in page
    assert "No opportunities match your search." in page


def test_the_list_links_to_the_atom_feed(client):
    page = text(client.get(SEARCH))
    assert 'rel="alternate" type="application/atom+xml"' in page
    assert 'href="/opportunities.atom"' in page


# The opportunity page --------------------------------------------------------------------------------------

@pytest.fixture()
def full_opportunity(app):
    now = utcnow()
    opportunity = make_opportunity(
        title="Meals on wheels in Thanet", reference="KCC-2027-0101", summary="Hot meals.\n\nSeven days a week.",
        outcomes=["Fewer hospital admissions", "Less loneliness"], category="adult-social-care",
        localities=["thanet", "county-wide"], estimated_value=Decimal("180000"), contract_start=date(2027, 4, 1),
        contract_months=24, procedure="light_touch", reservation="kent",
        submission_deadline=now + timedelta(days=3, hours=4, minutes=30))
    lot = add_lot(opportunity, 1, "Evening meals", "60000")
    add_model(opportunity)
    db.session.add(Amendment(opportunity_id=opportunity.id, summary="The specification now covers Sundays.",
                             changes_requirements=True, previous_deadline=now + timedelta(days=1),
                             new_deadline=opportunity.submission_deadline, published_at=now))
    db.session.commit()
    return opportunity, lot


def test_the_opportunity_page_shows_everything_a_bidder_needs(client, full_opportunity):
    opportunity, _ = full_opportunity
    page = text(client.get(detail_url(opportunity)))
    for expected in (
        "KCC-2027-0101", "Meals on wheels in Thanet", "Open", "<p class=\"govuk-body\">Seven days a week.</p>",
        "Fewer hospital admissions", "Less loneliness", "Adult social care", "Thanet, County-wide",
        "£180,000 in total", "Starts 1 April 2027 and runs for 24 months, to 31 March 2029",
        "Light-touch regime (social, health and education services)", "Reserved to suppliers established in Kent",
        "Lot 1: Evening meals", "£60,000",
        "Safeguarding policy", "Pass or fail: a fail excludes the bid.",
        "40% of the marks, scored 0 to 5 by the panel; a score under 2 excludes the bid.",
        "15% of the marks, from the share of contract value you commit to spend with Kent-based suppliers",
        "30% of the marks, scored relative to the lowest price",
        "Amendment notices", "The specification now covers Sundays.", "This notice changes what bidders must do.",
        "Questions and answers",
    ):
        assert expected in page, expected


def test_the_page_counts_down_to_the_submission_deadline(client, full_opportunity):
    opportunity, _ = full_opportunity
    page = text(client.get(detail_url(opportunity)))
    deadline = format_london(opportunity.submission_deadline)
    assert re.search(rf"Closes in 3 days, 4 hours – {re.escape(deadline)}", page)
    assert f'data-deadline-text="{deadline}"' in page
    assert '<script type="module" src="/static/js/countdown.js"></script>' in page


def test_a_published_opportunity_past_its_deadline_shows_as_closed(client):
    opportunity = make_opportunity(submission_deadline=utcnow() - timedelta(minutes=1))
    page = text(client.get(detail_url(opportunity)))
    assert "Closed on " in page
    assert "Closes in" not in page and "data-countdown" not in page
    assert re.search(r'govuk-tag[^"]*">\s*Closed', page)


def test_a_cancelled_opportunity_shows_the_reason(client):
    opportunity = make_opportunity(status="cancelled", cancel_reason="The service is now provided by the NHS.")
    page = text(client.get(detail_url(opportunity)))
    assert "Cancelled" in page
    assert "The service is now provided by the NHS." in page
    assert "Closes in" not in page


def test_published_answers_appear_on_the_page_without_the_asker(client):
    opportunity = make_opportunity()
    asker = provider(OrganisationFactory(legal_name="Secret Asker Ltd"))
    db.session.add(Question(opportunity_id=opportunity.id, organisation_id=asker.membership.organisation_id,
                            asked_by_id=asker.id, text="Can we subcontract?", published_text="Can we subcontract?",
                            answer="Yes, with our approval.", visibility="public", answered_at=utcnow()))
    db.session.commit()
    page = text(client.get(detail_url(opportunity)))
    assert "Can we subcontract?" in page and "Yes, with our approval." in page
    assert "Secret Asker Ltd" not in page


def test_a_provider_sees_save_and_ask_a_question(client, member):
    opportunity = make_opportunity()
    page = text(client.get(detail_url(opportunity)))
    assert "Save this opportunity" in page
    assert f'href="/opportunities/{opportunity.id}/questions/new">Ask a question</a>' in page


def test_no_ask_a_question_link_once_bids_are_closed(client, member):
    opportunity = make_opportunity(submission_deadline=utcnow() - timedelta(hours=1))
    assert "Ask a question" not in text(client.get(detail_url(opportunity)))


def test_no_ask_a_question_link_in_a_build_without_the_clarification_pages(app, client, member):
    opportunity = make_opportunity()
    app.view_functions.pop("clarifications.ask")
    page = text(client.get(detail_url(opportunity)))
    assert "Ask a question" not in page
    assert "Save this opportunity" in page


@pytest.mark.parametrize("who", [anonymous, a_commissioner], ids=lambda f: f.__name__)
def test_only_provider_users_see_the_save_button(client, as_user, who):
    opportunity = make_opportunity()
    user = who()
    if user:
        as_user(user)
    page = text(client.get(detail_url(opportunity)))
    assert "Save this opportunity" not in page
    assert "Ask a question" not in page
    assert ("Sign in</a> to save this opportunity" in page) == (user is None)


# Documents -------------------------------------------------------------------------------------------------

@pytest.fixture()
def stored_pdf(app, tmp_path):
    app.config["DOCUMENT_STORE"] = str(tmp_path / "store")
    (tmp_path / "store").mkdir()
    data = b"%PDF-1.4 specification"
    key = "a" * 32 + ".pdf"
    (tmp_path / "store" / key).write_bytes(data)
    return key, data


def add_document(opportunity, key: str, data: bytes = b"%PDF-1.4") -> OpportunityDocument:
    document = OpportunityDocument(opportunity_id=opportunity.id, kind="specification", title="Service specification",
                                   filename="specification.pdf", content_type="application/pdf", size=len(data),
                                   sha256=hashlib.sha256(data).hexdigest(), storage_key=key)
    db.session.add(document)
    db.session.commit()
    return document


def document_url(opportunity, document) -> str:
    return f"/opportunities/{opportunity.id}/documents/{document.id}"


def test_a_published_opportunitys_document_downloads_as_an_attachment_of_its_stored_type(client, stored_pdf):
    key, data = stored_pdf
    opportunity = make_opportunity()
    document = add_document(opportunity, key, data)
    page = text(client.get(detail_url(opportunity)))
    assert f'href="{document_url(opportunity, document)}">Service specification</a>' in page
    assert "Specification: PDF, 1KB" in page

    response = client.get(document_url(opportunity, document))
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == "attachment; filename=specification.pdf"
    assert response.data == data


@pytest.mark.parametrize("who", [anonymous, a_commissioner], ids=lambda f: f.__name__)
def test_an_unpublished_opportunitys_documents_are_not_served_here(client, as_user, stored_pdf, who):
    key, _ = stored_pdf
    opportunity = make_opportunity(status="draft", published_at=None)
    document = add_document(opportunity, key)
    user = who()
    if user:
        as_user(user)
    assert client.get(document_url(opportunity, document)).status_code == 404


def test_the_staff_preview_lists_documents_without_public_links(client, as_user, stored_pdf):
    key, _ = stored_pdf
    opportunity = make_opportunity(status="awaiting_approval", published_at=None)
    document = add_document(opportunity, key)
    as_user(a_procurement_officer())
    page = text(client.get(detail_url(opportunity)))
    assert "Service specification" in page
    assert document_url(opportunity, document) not in page
    assert "Documents can be downloaded here once the opportunity is published." in page


def test_a_document_is_found_only_under_its_own_opportunity(client, stored_pdf):
    key, _ = stored_pdf
    document = add_document(make_opportunity(), key)
    other = make_opportunity()
    assert client.get(document_url(other, document)).status_code == 404


@pytest.mark.parametrize("key", ["b" * 32 + ".pdf", "../../etc/passwd"])
def test_a_document_whose_file_is_missing_is_not_found(client, stored_pdf, key):
    opportunity = make_opportunity()
    document = add_document(opportunity, key)
    assert client.get(document_url(opportunity, document)).status_code == 404


# Saving opportunities --------------------------------------------------------------------------------------

def test_a_provider_saves_an_opportunity_and_sees_it_in_their_saved_list(client, member):
    opportunity = make_opportunity(title="Lunch clubs in Dover")
    response = client.submit(save_url(opportunity), page_url=detail_url(opportunity))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(detail_url(opportunity))
    assert watches() == {(member.id, opportunity.id)}
    assert "opportunity.watched" in actions()

    page = text(client.get(detail_url(opportunity)))
    assert "Opportunity saved." in page
    assert "Remove from saved" in page and "Save this opportunity" not in page
    assert titles_on(text(client.get(SAVED))) == ["Lunch clubs in Dover"]


def test_saving_twice_keeps_one_saved_opportunity(client, member):
    opportunity = make_opportunity()
    for _ in range(2):
        client.submit(save_url(opportunity), page_url=detail_url(opportunity))
    assert watches() == {(member.id, opportunity.id)}
    assert actions().count("opportunity.watched") == 1


def test_removing_from_the_saved_list_returns_to_the_list(client, member):
    opportunity = make_opportunity(title="Lunch clubs in Dover")
    client.submit(save_url(opportunity), page_url=detail_url(opportunity))
    response = client.submit(unsave_url(opportunity), {"from": "saved"}, page_url=SAVED)
    assert response.headers["Location"].endswith(SAVED)
    assert watches() == set()
    page = text(client.get(SAVED))
    assert f"{opportunity.reference} is removed from your saved opportunities." in page
    assert "You have not saved any opportunities." in page


def test_removing_from_the_opportunity_page_returns_to_it(client, member):
    opportunity = make_opportunity()
    client.submit(save_url(opportunity), page_url=detail_url(opportunity))
    response = client.submit(unsave_url(opportunity), page_url=detail_url(opportunity))
    assert response.headers["Location"].endswith(detail_url(opportunity))
    assert watches() == set()


def test_saving_needs_the_csrf_token(client, member):
    opportunity = make_opportunity()
    assert client.post(save_url(opportunity)).status_code == 400
    assert watches() == set()


@pytest.mark.parametrize("status", ["draft", "awaiting_approval"])
def test_an_unpublished_opportunity_cannot_be_saved(client, member, status):
    opportunity = make_opportunity(status=status, published_at=None)
    response = client.submit(save_url(opportunity), page_url=SAVED)
    assert response.status_code == 404
    assert watches() == set()


def test_signing_in_is_needed_to_save(client):
    opportunity = make_opportunity()
    response = client.submit(save_url(opportunity), page_url="/sign-in")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    assert client.get(SAVED).status_code == 302
    assert watches() == set()


@pytest.mark.parametrize("url", [SAVED, SAVED_SEARCHES, SAVED_SEARCHES + "/new"])
def test_council_staff_have_no_saved_lists(client, as_user, url):
    as_user(a_commissioner())
    assert client.get(url).status_code == 403


def test_council_staff_cannot_save_an_opportunity(client, as_user):
    opportunity = make_opportunity()
    as_user(a_commissioner())
    assert client.submit(save_url(opportunity), page_url=detail_url(opportunity)).status_code == 403
    assert watches() == set()


def test_the_saved_list_runs_the_same_number_of_queries_for_3_or_30(client, member):
    def queries() -> int:
        with count_queries() as statements:
            assert client.get(SAVED).status_code == 200
        return len(statements)

    def save(count: int) -> None:
        for _ in range(count):
            db.session.add(Watch(user_id=member.id, opportunity_id=make_opportunity().id))
        db.session.commit()

    save(3)
    few = queries()
    save(27)
    assert queries() == few


def test_the_saved_list_shows_only_the_users_own(client, member):
    mine, theirs = make_opportunity(title="Mine"), make_opportunity(title="Theirs")
    db.session.add_all([Watch(user_id=member.id, opportunity_id=mine.id),
                        Watch(user_id=provider().id, opportunity_id=theirs.id)])
    db.session.commit()
    assert titles_on(text(client.get(SAVED))) == ["Mine"]


# Saved searches --------------------------------------------------------------------------------------------

NEW_SEARCH = SAVED_SEARCHES + "/new?category=public-health&locality=dover&sort=newest"


def test_the_list_offers_a_provider_to_save_the_current_search(client, member):
    page = text(client.get(SEARCH + "?locality=dover&category=public-health&sort=newest"))
    assert f'href="{html.escape(NEW_SEARCH)}"' in page


def test_the_list_offers_anyone_else_to_sign_in_to_save_it(client):
    page = text(client.get(SEARCH + "?locality=dover"))
    assert "Sign in to save this search" in page


def test_saved_search_lifecycle_save_list_run_and_delete(client, member):
    page = text(client.get(NEW_SEARCH))
    assert "Open opportunities; Category: Public health; Location: Dover" in page

    response = client.submit(NEW_SEARCH, {"name": "  Health in   Dover "})
    assert response.status_code == 302 and response.headers["Location"].endswith(SAVED_SEARCHES)
    [saved] = saved_searches()
    assert (saved.user_id, saved.name) == (member.id, "Health in Dover")
    assert saved.criteria == {"category": ["public-health"], "locality": ["dover"], "sort": "newest"}
    assert "saved_search.created" in actions()

    listing = text(client.get(SAVED_SEARCHES))
    assert "Your search ‘Health in Dover’ is saved." in listing
    [run_link] = re.findall(r'href="([^"]+)">Run this search', listing)
    assert parse_qs(urlsplit(html.unescape(run_link)).query) == {
        "category": ["public-health"], "locality": ["dover"], "sort": ["newest"]}

    response = client.submit(f"{SAVED_SEARCHES}/{saved.id}/delete", page_url=SAVED_SEARCHES)
    assert response.headers["Location"].endswith(SAVED_SEARCHES)
    assert saved_searches() == []
    assert "saved_search.deleted" in actions()
    assert "You have no saved searches." in text(client.get(SAVED_SEARCHES))


@pytest.mark.parametrize(("name", "message"), [
    ("", "Enter a name for this search"),
    ("   ", "Enter a name for this search"),
    ("x" * 121, "Name this search must be 120 characters or fewer"),
    ("bad\x07name", "Name this search must not contain control characters"),
])
def test_a_saved_search_needs_a_sensible_name(client, member, name, message):
    response = client.submit(NEW_SEARCH, {"name": name})
    page = text(response)
    assert response.status_code == 200
    assert "There is a problem" in page
    assert page.count(message) == 2  # in the error summary and next to the field
    assert saved_searches() == []


def test_a_refused_name_is_kept_and_shown_escaped(client, member):
    client.submit(NEW_SEARCH, {"name": "<b>Health</b>"})
    listing = text(client.get(SAVED_SEARCHES))
    assert "<b>Health</b>" not in listing
    assert "‘&lt;b&gt;Health&lt;/b&gt;’ is saved" in listing
    page = text(client.submit(NEW_SEARCH, {"name": "<B>health</B>"}))
    assert "You already have a saved search called ‘&lt;B&gt;health&lt;/B&gt;’" in page
    assert 'value="&lt;B&gt;health&lt;/B&gt;"' in page
    assert "<B>health</B>" not in page
    assert len(saved_searches()) == 1


def test_another_users_saved_search_cannot_be_deleted(client, member):
    other = SavedSearch(user_id=provider().id, name="Theirs", criteria={}, created_at=utcnow())
    db.session.add(other)
    db.session.commit()
    assert client.submit(f"{SAVED_SEARCHES}/{other.id}/delete", page_url=SAVED_SEARCHES).status_code == 404
    assert [s.name for s in saved_searches()] == ["Theirs"]
    assert "Theirs" not in text(client.get(SAVED_SEARCHES))


def test_signing_in_is_needed_for_saved_searches(client):
    for url in (SAVED_SEARCHES, NEW_SEARCH):
        response = client.get(url)
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


# The Atom feed ---------------------------------------------------------------------------------------------

def test_the_atom_feed_lists_published_opportunities_newest_first(client):
    now = utcnow()
    older = make_opportunity(title="Older & wiser", published_at=now - timedelta(days=5))
    newer = make_opportunity(title="Newer <service>", published_at=now - timedelta(days=1),
                             status="awarded", submission_deadline=now - timedelta(hours=2))
    make_opportunity(title="Draft", status="draft", published_at=None)

    response = client.get("/opportunities.atom")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    feed = ET.fromstring(response.data)

    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}id") == "http://localhost/opportunities"
    assert feed.findtext(f"{ATOM}title")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", feed.findtext(f"{ATOM}updated"))
    assert feed.find(f"{ATOM}link[@rel='self']").get("href") == "http://localhost/opportunities.atom"
    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == [f"{newer.reference}: Newer <service>",
                                                             f"{older.reference}: Older & wiser"]
    entry = entries[1]
    assert entry.findtext(f"{ATOM}id") == f"http://localhost/opportunities/{older.id}"
    assert entry.find(f"{ATOM}link").get("href") == f"http://localhost/opportunities/{older.id}"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", entry.findtext(f"{ATOM}updated"))
    assert "Estimated value £50,000." in entry.findtext(f"{ATOM}summary")


@pytest.mark.parametrize("app_overrides", [{"BASE_URL": "https://marketplace.kent.example"}])
def test_with_base_url_set_the_atom_feed_ids_and_links_use_it(client):
    opportunity = make_opportunity(published_at=utcnow() - timedelta(days=1))

    feed = ET.fromstring(client.get("/opportunities.atom", base_url="http://10.0.0.5:8000").data)

    assert feed.findtext(f"{ATOM}id") == "https://marketplace.kent.example/opportunities"
    assert feed.find(f"{ATOM}link[@rel='self']").get("href") == "https://marketplace.kent.example/opportunities.atom"
    [entry] = feed.findall(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}id") == f"https://marketplace.kent.example/opportunities/{opportunity.id}"


def test_the_atom_feed_holds_the_fifty_newest(client):
    now = utcnow()
    for n in range(52):
        make_opportunity(title=f"Service {n:02d}", published_at=now - timedelta(hours=n + 1))
    entries = ET.fromstring(client.get("/opportunities.atom").data).findall(f"{ATOM}entry")
    assert len(entries) == 50
    assert entries[0].findtext(f"{ATOM}title").endswith("Service 00")
    assert entries[-1].findtext(f"{ATOM}title").endswith("Service 49")


def test_an_empty_atom_feed_is_still_valid(client):
    feed = ET.fromstring(client.get("/opportunities.atom").data)
    assert feed.findall(f"{ATOM}entry") == []
    assert feed.findtext(f"{ATOM}updated")
