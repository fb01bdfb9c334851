"""Commissioning pages over HTTP, for each kind of user: the list, writing an opportunity (details, timetable,
lots, documents, evaluation model), sending it for approval, approving or returning it, amending and cancelling,
with bad input on every form."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from marketplace.audit import AuditEvent
from marketplace.extensions import db
from marketplace.opportunities import lifecycle, services
from marketplace.opportunities.models import Criterion, Lot, Opportunity, OpportunityDocument
from marketplace.timeutil import london, utcnow
from tests.factories import StaffFactory, provider
from tests.staff_fixtures import author, colleague, lead, officer, request_context  # noqa: F401 (fixtures)
from tests.integration.test_opportunity_services import PDF, assess, draft, published, ready_draft

LIST = "/commissioning"
NEW = "/commissioning/new"
NEXT_YEAR = str(london(utcnow()).year + 1)


def text(response) -> str:
    return response.get_data(as_text=True)


def page(opportunity: Opportunity, suffix: str = "") -> str:
    return f"/commissioning/{opportunity.id}{suffix}"


def model_page(opportunity: Opportunity, suffix: str = "") -> str:
    return page(opportunity, f"/models/{opportunity.main_model.id}{suffix}")


def reload(opportunity: Opportunity) -> Opportunity:
    db.session.expire_all()
    return db.session.get(Opportunity, opportunity.id)


def with_changes(data: dict, overrides: dict) -> dict:
    """overrides replace fields; None removes one."""
    data = dict(data)
    for key, value in overrides.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def details_form(**overrides) -> dict:
    return with_changes({
        "title": "Befriending for older people in Thanet",
        "summary": "Regular visits and calls for people who live alone.",
        "outcomes": "Fewer people feel lonely\n\nMore people take part in community activities\n",
        "category": "adult-social-care",
        "localities": ["thanet"],
        "estimated_value": "£120,000",
        "contract_start-day": "1", "contract_start-month": "10", "contract_start-year": NEXT_YEAR,
        "contract_months": "24",
        "procedure": "light_touch",
        "reservation": "kent_sme_vcse",
        "contact_name": "Chris Commissioner",
        "contact_email": "chris@kent.example",
    }, overrides)


def when(moment) -> dict:
    local = london(moment)
    return {"day": str(local.day), "month": str(local.month), "year": str(local.year), "time": f"{local:%H:%M}"}


def timetable_form(publication, clarification, submission, **overrides) -> dict:
    data = {}
    for name, moment in (("publication_date", publication), ("clarification_deadline", clarification),
                         ("submission_deadline", submission)):
        data.update({f"{name}-{part}": value for part, value in when(moment).items()})
    return with_changes(data, overrides)


def good_timetable(**overrides) -> dict:
    start = utcnow().replace(second=0, microsecond=0) + timedelta(days=2)
    return timetable_form(start, start + timedelta(days=23), start + timedelta(days=30), **overrides)


def criterion_form(**overrides) -> dict:
    return with_changes({"kind": "quality", "title": "How you will reach isolated people", "question": "",
                         "guidance": "", "weight": "40", "scale_max": "5", "descriptors": "", "min_score": "2",
                         "word_limit": "750"}, overrides)


def audit_actions() -> list[str]:
    return list(db.session.execute(sa.select(AuditEvent.action).order_by(AuditEvent.id)).scalars())


@pytest.fixture()
def signed_in_author(as_user, author):
    as_user(author)
    return author


# Who may see what --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("who", "status"), [
    ("anonymous", 302), ("provider", 403), ("administrator", 403), ("commissioner", 200),
    ("procurement_officer", 200),
])
def test_the_commissioning_list_is_for_commissioners_and_procurement_officers(client, as_user, who, status):
    if who == "provider":
        as_user(provider())
    elif who != "anonymous":
        as_user(StaffFactory(roles=[who]))
    response = client.get(LIST)
    assert response.status_code == status
    if who == "anonymous":
        assert "/sign-in" in response.headers["Location"]


@pytest.mark.parametrize(("roles", "status"), [(["commissioner"], 200), (["procurement_officer"], 403),
                                               (["administrator"], 403)])
def test_only_commissioners_can_create_opportunities(client, as_user, roles, status):
    as_user(StaffFactory(roles=roles))
    assert client.get(NEW).status_code == status
    assert ("Create an opportunity" in text(client.get(LIST))) is (status == 200 and "commissioner" in roles)


def test_a_provider_cannot_reach_the_create_page(client, as_user):
    as_user(provider())
    assert client.get(NEW).status_code == 403


DRAFT_PAGES = {
    # page: expected status for (the author, another commissioner, a procurement officer)
    "": (200, 200, 200),
    "/details": (200, 403, 403),
    "/timetable": (200, 403, 403),
    "/lots": (200, 200, 200),
    "/lots/new": (200, 403, 403),
    "/documents": (200, 200, 200),
    "/models/{model}": (200, 200, 200),
    "/models/{model}/criteria/new": (200, 403, 403),
    "/models/{model}/criteria/{criterion}": (200, 403, 403),
    "/cancel": (200, 403, 200),
    "/return": (403, 403, 403),
    "/amend": (403, 403, 403),
}


def _draft_url(opportunity: Opportunity, suffix: str) -> str:
    model = opportunity.main_model
    return page(opportunity, suffix.format(model=model.id, criterion=model.criteria[0].id))


@pytest.mark.parametrize("suffix", list(DRAFT_PAGES))
@pytest.mark.parametrize("who", ["author", "colleague", "officer"])
def test_staff_see_drafts_but_only_the_author_changes_them(client, as_user, request, author, suffix, who):
    opportunity = ready_draft(author)
    as_user(request.getfixturevalue(who))
    expected = DRAFT_PAGES[suffix][["author", "colleague", "officer"].index(who)]
    assert client.get(_draft_url(opportunity, suffix)).status_code == expected


@pytest.mark.parametrize("suffix", list(DRAFT_PAGES))
def test_a_provider_cannot_find_a_draft_through_any_staff_page(client, as_user, author, suffix):
    opportunity = ready_draft(author)
    document = opportunity.documents[0]
    as_user(provider())
    assert client.get(_draft_url(opportunity, suffix)).status_code == 404
    assert client.get(page(opportunity, f"/documents/{document.id}")).status_code == 404


@pytest.mark.parametrize("suffix", ["", "/details", "/documents"])
def test_anonymous_visitors_are_sent_to_sign_in(client, author, suffix):
    opportunity = draft(author)
    response = client.get(page(opportunity, suffix))
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def public(author, officer) -> Opportunity:
    """Published, and its publication time has come."""
    opportunity = published(author, officer)
    opportunity.published_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    return opportunity


def test_a_provider_gets_403_on_the_staff_page_of_a_published_opportunity(client, as_user, author, officer):
    opportunity = public(author, officer)
    as_user(provider())
    assert client.get(page(opportunity)).status_code == 403


def test_an_opportunity_that_does_not_exist_is_404(client, signed_in_author):
    assert client.get("/commissioning/9999").status_code == 404


def test_a_criterion_of_another_opportunity_is_404(client, signed_in_author):
    mine, other = ready_draft(signed_in_author), ready_draft(signed_in_author)
    url = model_page(mine, f"/criteria/{other.main_model.criteria[0].id}")
    assert client.get(url).status_code == 404


# The list ----------------------------------------------------------------------------------------------

def test_the_list_filters_by_status_and_shows_whose_each_is(client, as_user, author, officer, colleague):
    opportunity = published(author, officer)
    theirs = draft(colleague, title="Youth work in Dover")
    as_user(author)
    everything = text(client.get(LIST))
    assert opportunity.title in everything and "Youth work in Dover" in everything
    assert "Casey Colleague" in everything and ">You<" in everything
    only_drafts = text(client.get(LIST + "?status=draft"))
    assert "Youth work in Dover" in only_drafts and opportunity.title not in only_drafts
    assert theirs.reference in only_drafts
    assert opportunity.title in text(client.get(LIST + "?status=published"))


def test_an_unknown_status_filter_shows_everything(client, signed_in_author):
    draft(signed_in_author)
    response = client.get(LIST + "?status=<script>")
    assert response.status_code == 200
    assert "1 opportunity" in text(response) and "<script>" not in text(response)


def test_procurement_officers_see_what_awaits_their_approval_but_not_their_own(client, as_user, author, lead):
    mine = ready_draft(lead, title="Lead's own opportunity")
    services.submit_for_approval(lead, mine, mine.version)
    theirs = ready_draft(author, title="Waiting for a colleague")
    services.submit_for_approval(author, theirs, theirs.version)
    as_user(lead)
    body = text(client.get(LIST))
    awaiting = body.split("Awaiting your approval")[1].split("All opportunities")[0]
    assert "Waiting for a colleague" in awaiting and "Lead&#39;s own opportunity" not in awaiting


def test_the_list_is_paginated_and_its_query_count_does_not_grow(client, app, signed_in_author):
    def queries_for(url: str) -> int:
        count = []
        listener = lambda *args: count.append(1)  # noqa: E731
        sa.event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get(url).status_code == 200
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", listener)
        return len(count)

    for _ in range(3):
        draft(signed_in_author)
    few = queries_for(LIST)
    for _ in range(app.config["PAGE_SIZE"]):
        draft(signed_in_author, title="Another")
    assert queries_for(LIST) == few
    assert "?page=2" in text(client.get(LIST))
    assert client.get(LIST + "?page=2").status_code == 200


# Creating and changing the details ---------------------------------------------------------------------

def test_a_commissioner_creates_an_opportunity_and_goes_on_to_the_timetable(client, signed_in_author):
    response = client.submit(NEW, details_form())
    assert response.status_code == 302
    [opportunity] = db.session.execute(sa.select(Opportunity)).scalars().all()
    assert response.headers["Location"].endswith(page(opportunity, "/timetable"))
    assert (opportunity.estimated_value, opportunity.reservation, opportunity.outcomes) == (
        Decimal("120000"), "kent_sme_vcse", ["Fewer people feel lonely", "More people take part in community activities"])
    assert opportunity.contract_start.year == int(NEXT_YEAR) and opportunity.created_by_id == signed_in_author.id
    assert f"Opportunity {opportunity.reference} is saved as a draft" in text(client.get(response.headers["Location"]))
    assert "opportunity.created" in audit_actions()


LONG = "x" * 201


@pytest.mark.parametrize(("overrides", "message"), [
    ({"title": ""}, "Enter a title"),
    ({"title": "   "}, "Enter a title"),
    ({"title": LONG}, "Title must be 200 characters or fewer"),
    ({"summary": "  "}, "Enter a summary"),
    ({"summary": "y" * 4001}, "Summary must be 4,000 characters or fewer"),
    ({"outcomes": "\n \n"}, "Enter at least one outcome"),
    ({"outcomes": "\n".join(f"Outcome {n}" for n in range(21))}, "Enter 20 outcomes or fewer, one per line"),
    ({"outcomes": "z" * 301}, "Each outcome must be 300 characters or fewer"),
    ({"category": ""}, "Choose a category"),
    ({"category": "space-travel"}, "Choose a category from the list"),
    ({"localities": None}, "Select where the service is delivered"),
    ({"localities": ["medway"]}, "Select from the options shown"),
    ({"localities": ["county-wide", "thanet"]}, "Choose county-wide or one or more districts, not both"),
    ({"estimated_value": ""}, "Enter the estimated total value"),
    ({"estimated_value": "0"}, "Estimated total value must be more than £0"),
    ({"estimated_value": "lots"}, "Estimated total value must be an amount in pounds"),
    ({"estimated_value": "-5"}, "Estimated total value must be £0 or more"),
    ({"estimated_value": "9000000000"}, "Estimated total value must be £5 billion or less"),
    ({"estimated_value": "900000000000"}, "Estimated total value is too large"),
    ({"contract_start-day": "", "contract_start-month": "", "contract_start-year": ""}, "Enter the contract start date"),
    ({"contract_start-day": "31", "contract_start-month": "2"}, "Contract start date must be a real date"),
    ({"contract_start-year": "27"}, "Contract start date must have a 4-digit year"),
    ({"contract_months": ""}, "Enter the contract length in months"),
    ({"contract_months": "0"}, "Contract length in months must be between 1 and 240"),
    ({"contract_months": "241"}, "Contract length in months must be between 1 and 240"),
    ({"contract_months": "two years"}, "Contract length in months must be a whole number, like 36"),
    ({"contract_months": "1.5"}, "Contract length in months must be a whole number, like 36"),
    ({"procedure": None}, "Select the procedure"),
    ({"procedure": "restricted"}, "Select the procedure"),
    ({"reservation": "friends_only"}, "Select whether the opportunity is reserved"),
    ({"estimated_value": "500000"}, "Only opportunities below the £214,904 threshold can be reserved. "
                                    "This one is estimated at £500,000."),
    ({"contact_name": ""}, "Enter the contact&#39;s name"),
    ({"contact_email": "chris-at-kent"}, "Enter an email address in the correct format"),
])
def test_bad_details_are_refused_with_a_message_and_nothing_is_saved(client, signed_in_author, overrides, message):
    response = client.submit(NEW, details_form(**overrides))
    assert response.status_code == 200
    body = text(response)
    assert "There is a problem" in body
    assert message in body
    assert db.session.query(Opportunity).count() == 0


def test_what_was_typed_is_kept_and_html_is_shown_escaped(client, signed_in_author):
    response = client.submit(NEW, details_form(title="<script>alert('x')</script>", contract_months="lots",
                                               estimated_value="12,34x"))
    body = text(response)
    assert "<script>alert" not in body
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in body
    assert 'value="lots"' in body and 'value="12,34x"' in body


def test_the_author_changes_the_details_of_their_draft(client, signed_in_author):
    opportunity = draft(signed_in_author)
    form_page = text(client.get(page(opportunity, "/details")))
    assert "People get to appointments on time\nFewer people feel isolated" in form_page
    response = client.submit(page(opportunity, "/details"),
                             details_form(version=str(opportunity.version), reservation="none"))
    assert response.status_code == 302
    assert reload(opportunity).title == "Befriending for older people in Thanet"


def test_a_stale_form_is_refused_with_a_clear_message_not_a_silent_overwrite(client, signed_in_author):
    opportunity = draft(signed_in_author)
    stale_version = opportunity.version
    services.update_details(signed_in_author, opportunity,
                            services.Details(**{**_details_of(opportunity), "title": "Changed in another tab"}),
                            opportunity.version)
    data = details_form(version=str(stale_version), reservation="none", title="My change")
    response = client.submit(page(opportunity, "/details"), data)
    assert response.status_code == 200
    assert "Someone else changed this opportunity while you were editing it" in text(response)
    assert 'value="My change"' in text(response)
    assert reload(opportunity).title == "Changed in another tab"
    current = reload(opportunity).version
    assert f'name="version" type="hidden" value="{current}"' in text(response)  # so saving again is a choice
    again = client.submit(page(opportunity, "/details"), {**data, "version": str(current)})
    assert again.status_code == 302 and reload(opportunity).title == "My change"


def _details_of(opportunity: Opportunity) -> dict:
    return {name: getattr(opportunity, name) for name in services.Details.__dataclass_fields__}


# The timetable -----------------------------------------------------------------------------------------

def test_the_timetable_is_entered_in_uk_time_and_stored_in_utc(client, signed_in_author):
    opportunity = draft(signed_in_author)
    data = good_timetable(**{"submission_deadline-day": "15", "submission_deadline-month": "7",
                             "submission_deadline-year": NEXT_YEAR, "submission_deadline-time": "12:00",
                             "version": str(opportunity.version)})
    data.update({f"clarification_deadline-{k}": v for k, v in when(utcnow() + timedelta(days=60)).items()})
    response = client.submit(page(opportunity, "/timetable"), data)
    assert response.status_code == 302, text(response)
    stored = reload(opportunity)
    assert stored.submission_deadline.hour == 11  # midday in British Summer Time
    assert "The timetable is saved" in text(client.get(response.headers["Location"]))


@pytest.mark.parametrize(("overrides", "message"), [
    ({"publication_date-day": "", "publication_date-month": "", "publication_date-year": "",
      "publication_date-time": ""}, "Enter the publication date"),
    ({"submission_deadline-day": "32"}, "Submission deadline must be a real date and a time like 17:00"),
    ({"clarification_deadline-time": "noonish"}, "Clarification deadline must be a real date and a time like 17:00"),
    ({"submission_deadline-year": "1999"}, "Submission deadline must have a 4-digit year"),
])
def test_bad_timetable_input_is_refused(client, signed_in_author, overrides, message):
    opportunity = draft(signed_in_author)
    response = client.submit(page(opportunity, "/timetable"), good_timetable(version=str(opportunity.version),
                                                                             **overrides))
    assert response.status_code == 200
    assert message in text(response)
    assert reload(opportunity).submission_deadline is None


def test_a_tender_period_shorter_than_the_setting_is_refused_and_says_the_earliest_deadline(client, signed_in_author):
    opportunity = draft(signed_in_author)
    start = utcnow() + timedelta(days=2)
    data = timetable_form(start, start + timedelta(days=5), start + timedelta(days=10),
                          version=str(opportunity.version))
    body = text(client.submit(page(opportunity, "/timetable"), data))
    assert "The submission deadline must be at least 25 days after publication, so no earlier than" in body
    assert 'value="' + when(start + timedelta(days=10))["day"] + '"' in body


# Lots --------------------------------------------------------------------------------------------------

def lot_form(opportunity, **overrides) -> dict:
    return with_changes({"number": "1", "title": "Margate", "description": "", "estimated_value": "50000",
                         "version": str(opportunity.version)}, overrides)


def test_the_author_adds_changes_and_removes_a_lot(client, signed_in_author):
    opportunity = draft(signed_in_author)
    assert client.submit(page(opportunity, "/lots/new"), lot_form(opportunity)).status_code == 302
    [lot] = reload(opportunity).lots
    body = text(client.get(page(opportunity, "/lots")))
    assert "Lot 1 is added" in body and "The lots add up to <strong>£50,000</strong>" in body
    opportunity = reload(opportunity)
    client.submit(page(opportunity, f"/lots/{lot.id}"), lot_form(opportunity, title="Margate and Ramsgate"))
    assert db.session.get(Lot, lot.id).title == "Margate and Ramsgate"
    opportunity = reload(opportunity)
    client.submit(page(opportunity, f"/lots/{lot.id}/remove"), {"version": str(opportunity.version)},
                  page_url=page(opportunity, "/lots"))
    assert reload(opportunity).lots == []


@pytest.mark.parametrize(("overrides", "message"), [
    ({"number": ""}, "Enter the lot number"),
    ({"number": "first"}, "Lot number must be a whole number, like 2"),
    ({"number": "0"}, "Lot number must be between 1 and 99"),
    ({"title": ""}, "Enter the lot&#39;s title"),
    ({"estimated_value": ""}, "Enter the estimated value of this lot"),
    ({"estimated_value": "200000"}, "The lots add up to £200,000, more than the estimated total value of £150,000"),
])
def test_bad_lots_are_refused(client, signed_in_author, overrides, message):
    opportunity = draft(signed_in_author)
    response = client.submit(page(opportunity, "/lots/new"), lot_form(opportunity, **overrides))
    assert response.status_code == 200 and message in text(response)
    assert reload(opportunity).lots == []


def test_a_lot_gets_its_own_evaluation_model_and_can_give_it_up(client, signed_in_author):
    opportunity = ready_draft(signed_in_author)
    client.submit(page(opportunity, "/lots/new"), lot_form(opportunity))
    opportunity = reload(opportunity)
    lot = opportunity.lots[0]
    client.submit(page(opportunity, f"/lots/{lot.id}/model"), {"version": str(opportunity.version), "own": "1"},
                  page_url=page(opportunity, "/lots"))
    opportunity = reload(opportunity)
    assert len(opportunity.models) == 2
    assert "Its own model" in text(client.get(page(opportunity, "/lots")))
    client.submit(page(opportunity, f"/lots/{lot.id}/model"), {"version": str(opportunity.version), "own": "0"},
                  page_url=page(opportunity, "/lots"))
    assert len(reload(opportunity).models) == 1


# Documents ---------------------------------------------------------------------------------------------

def upload(client, opportunity, data=PDF, filename="Specification.pdf", **fields):
    import io

    form = {"kind": "specification", "title": "", "version": str(opportunity.version), **fields}
    if data is not None:
        form["file"] = (io.BytesIO(data), filename)
    return client.submit(page(opportunity, "/documents"), form, content_type="multipart/form-data")


def test_the_author_uploads_downloads_and_removes_a_document(client, signed_in_author):
    opportunity = draft(signed_in_author)
    response = upload(client, opportunity)
    assert response.status_code == 302
    [document] = reload(opportunity).documents
    assert (document.kind, document.title, document.filename) == ("specification", "Specification",
                                                                  "Specification.pdf")
    download = client.get(page(opportunity, f"/documents/{document.id}"))
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.mimetype == "application/pdf"
    opportunity = reload(opportunity)
    client.submit(page(opportunity, f"/documents/{document.id}/remove"), {"version": str(opportunity.version)},
                  page_url=page(opportunity, "/documents"))
    assert db.session.query(OpportunityDocument).count() == 0


@pytest.mark.parametrize(("data", "fields", "message"), [
    (None, {}, "Select a file"),
    (b"MZ\x90\x00 this is not a document", {}, "The selected file must be a PDF, DOCX, XLSX, ODT or ODS"),
    (b"", {}, "The selected file is empty"),
    (PDF, {"kind": "secret_plans"}, "Select the kind of document"),
    (PDF, {"title": "t" * 201}, "Title (optional) must be 200 characters or fewer"),
])
def test_bad_uploads_are_refused(client, signed_in_author, data, fields, message):
    opportunity = draft(signed_in_author)
    response = upload(client, opportunity, data, **fields)
    assert response.status_code == 200
    assert message in text(response)
    assert db.session.query(OpportunityDocument).count() == 0


def test_another_commissioner_sees_the_documents_but_cannot_upload(client, as_user, author, colleague):
    opportunity = draft(author)
    as_user(colleague)
    assert "Upload a document" not in text(client.get(page(opportunity, "/documents")))
    assert upload(client, opportunity).status_code == 403


# The evaluation model ----------------------------------------------------------------------------------

def test_the_model_page_shows_the_running_total_and_the_problems(client, signed_in_author):
    opportunity = draft(signed_in_author)
    body = text(client.get(model_page(opportunity)))
    assert "Weights add up to 0 of 100" in body and "Add at least one scored criterion" in body
    client.submit(model_page(opportunity, "/criteria/new"),
                  criterion_form(version=str(opportunity.version), weight="85"))
    body = text(client.get(model_page(opportunity)))
    assert "Weights add up to 85 of 100" in body
    assert "The weights add up to 85. They must add up to exactly 100." in body


def test_the_author_adds_a_criterion_with_the_standard_descriptors(client, signed_in_author):
    opportunity = draft(signed_in_author)
    form_page = text(client.get(model_page(opportunity, "/criteria/new")))
    assert "5 – Excellent: exceeds the requirement with clear evidence" in form_page
    response = client.submit(model_page(opportunity, "/criteria/new"),
                             criterion_form(version=str(opportunity.version)))
    assert response.status_code == 302
    [criterion] = db.session.execute(sa.select(Criterion)).scalars().all()
    assert (criterion.weight, criterion.min_score, criterion.word_limit, len(criterion.descriptors)) == (
        Decimal(40), Decimal(2), 750, 6)
    assert "evaluation.criterion_added" in audit_actions()


def test_a_price_criterion_stores_its_method_and_bounds(client, signed_in_author):
    opportunity = draft(signed_in_author)
    client.submit(model_page(opportunity, "/criteria/new"), criterion_form(
        version=str(opportunity.version), kind="price", title="Price", weight="30", price_method="linear_bounds",
        min_price="£90,000", max_price="130000", min_score="", word_limit=""))
    [criterion] = db.session.execute(sa.select(Criterion)).scalars().all()
    assert (criterion.method, criterion.params, criterion.descriptors) == (
        "linear_bounds", {"min_price": "90000.00", "max_price": "130000.00"}, [])


def test_a_target_kent_share_is_typed_as_a_percentage(client, signed_in_author):
    opportunity = draft(signed_in_author)
    client.submit(model_page(opportunity, "/criteria/new"), criterion_form(
        version=str(opportunity.version), kind="local_economy", title="Kent spend", weight="10",
        local_method="target", target="45%"))
    [criterion] = db.session.execute(sa.select(Criterion)).scalars().all()
    assert criterion.params == {"target": "0.45"}
    form_page = text(client.get(model_page(opportunity, f"/criteria/{criterion.id}")))
    assert 'value="45"' in form_page


@pytest.mark.parametrize(("overrides", "message"), [
    ({"kind": None}, "Select the kind of criterion"),
    ({"kind": "popularity"}, "Select the kind of criterion"),
    ({"title": ""}, "Enter a title for the criterion"),
    ({"title": "t" * 201}, "Title must be 200 characters or fewer"),
    ({"weight": "forty"}, "Weight must be a number, like 20"),
    ({"weight": "10.555"}, "Weight must have no more than 2 decimal places"),
    ({"weight": ""}, "Give this criterion a weight above 0"),
    ({"weight": "150"}, "A weight cannot be more than 100"),
    ({"scale_max": "11"}, "The scale must run from 0 to between 1 and 10"),
    ({"scale_max": "3", "descriptors": "None\nSome\nAll"}, "Give one descriptor for each score from 0 to 3"),
    ({"min_score": "9"}, "The minimum score must be between 0 and 5"),
    ({"word_limit": "5"}, "The word limit must be between 50 and 5000"),
    ({"kind": "price", "min_score": ""}, "Choose how price is scored"),
    ({"kind": "price", "price_method": "guesswork"}, "Choose how price is scored from the list"),
    ({"kind": "price", "price_method": "linear_bounds", "min_price": "100", "max_price": "50"},
     "The maximum price must be more than the minimum price"),
    ({"kind": "local_economy", "local_method": "target", "target": "150"}, "Enter a target Kent share between 1% and 100%"),
    ({"kind": "local_economy", "local_method": "panel", "scores_location": "y"},
     "A criterion that scores where a bidder is based is lawful only under a below-threshold reservation"),
    ({"guidance": "<b>bold</b>", "weight": "nope"}, "&lt;b&gt;bold&lt;/b&gt;"),
])
def test_bad_criteria_are_refused_with_a_message_next_to_the_field(client, signed_in_author, overrides, message):
    opportunity = draft(signed_in_author)
    response = client.submit(model_page(opportunity, "/criteria/new"),
                             criterion_form(version=str(opportunity.version), **overrides))
    assert response.status_code == 200
    assert message in text(response)
    assert db.session.query(Criterion).count() == 0


def test_a_location_criterion_is_accepted_below_the_threshold_when_reserved(client, signed_in_author):
    opportunity = draft(signed_in_author, reservation="kent")
    response = client.submit(model_page(opportunity, "/criteria/new"), criterion_form(
        version=str(opportunity.version), kind="local_economy", local_method="panel", scores_location="y",
        title="Based in Kent", weight="10"))
    assert response.status_code == 302
    assert db.session.execute(sa.select(Criterion.scores_location)).scalar_one() is True


def test_the_author_changes_moves_and_removes_criteria(client, signed_in_author):
    opportunity = ready_draft(signed_in_author)
    first, second = opportunity.main_model.criteria[:2]
    edit = model_page(opportunity, f"/criteria/{second.id}")
    assert 'value="How you will achieve the outcomes"' in text(client.get(edit))
    client.submit(edit, criterion_form(version=str(opportunity.version), title="Outcomes, rewritten", weight="30"))
    assert db.session.get(Criterion, second.id).title == "Outcomes, rewritten"

    opportunity = reload(opportunity)
    client.submit(model_page(opportunity, f"/criteria/{second.id}/move"),
                  {"version": str(opportunity.version), "direction": "up"}, page_url=model_page(opportunity))
    assert [c.id for c in reload(opportunity).main_model.criteria[:2]] == [second.id, first.id]

    opportunity = reload(opportunity)
    client.submit(model_page(opportunity, f"/criteria/{first.id}/remove"), {"version": str(opportunity.version)},
                  page_url=model_page(opportunity))
    assert db.session.get(Criterion, first.id) is None


def test_a_stale_button_is_refused_with_a_message(client, signed_in_author):
    opportunity = ready_draft(signed_in_author)
    criterion = opportunity.main_model.criteria[0]
    response = client.submit(model_page(opportunity, f"/criteria/{criterion.id}/remove"),
                             {"version": str(opportunity.version - 1)}, page_url=model_page(opportunity),
                             follow_redirects=True)
    assert "Someone else changed this opportunity" in text(response)
    assert db.session.get(Criterion, criterion.id) is not None


def test_a_template_fills_an_empty_model_straight_away(client, signed_in_author):
    opportunity = draft(signed_in_author)
    response = client.submit(model_page(opportunity, "/template"),
                             {"template": "social_care", "version": str(opportunity.version)},
                             page_url=model_page(opportunity))
    assert response.status_code == 302
    assert len(reload(opportunity).main_model.criteria) == 8


def test_a_template_asks_before_replacing_existing_criteria(client, signed_in_author):
    opportunity = ready_draft(signed_in_author)
    before = [c.id for c in opportunity.main_model.criteria]
    data = {"template": "works", "version": str(opportunity.version)}
    response = client.submit(model_page(opportunity, "/template"), data, page_url=model_page(opportunity))
    assert response.status_code == 200
    assert "The 6 criteria in this evaluation model will be removed" in text(response)
    assert [c.id for c in reload(opportunity).main_model.criteria] == before
    response = client.submit(model_page(opportunity, "/template"), {**data, "confirm": "yes"},
                             page_url=model_page(opportunity))
    assert response.status_code == 302
    assert reload(opportunity).main_model.criteria[0].title == "Health and safety accreditation"


def test_an_unknown_template_is_refused(client, signed_in_author):
    opportunity = draft(signed_in_author)
    response = client.submit(model_page(opportunity, "/template"),
                             {"template": "<i>any</i>", "version": str(opportunity.version)},
                             page_url=model_page(opportunity))
    assert response.status_code == 200 and "Choose a template" in text(response)


def test_public_value_under_10_percent_asks_for_a_reason(client, signed_in_author):
    opportunity = ready_draft(signed_in_author, template="works")
    public_value = next(c for c in opportunity.main_model.criteria if c.kind == "social_value")
    method = next(c for c in opportunity.main_model.criteria if c.title == "Method statement and programme")
    public_value.weight, method.weight = Decimal(5), Decimal(30)
    db.session.commit()
    body = text(client.get(model_page(opportunity)))
    assert "Public value is weighted under 10%. Record the reason" in body
    blank = client.submit(model_page(opportunity, "/reason"), {"reason": " ", "version": str(opportunity.version)},
                          page_url=model_page(opportunity))
    assert "Enter the reason" in text(blank)
    client.submit(model_page(opportunity, "/reason"), {"reason": "Highway works with a fixed social value clause",
                                                       "version": str(opportunity.version)},
                  page_url=model_page(opportunity))
    assert "Public value is weighted under 10%" not in text(client.get(model_page(opportunity)))


def test_another_commissioner_sees_the_model_without_controls(client, as_user, author, colleague):
    opportunity = ready_draft(author)
    as_user(colleague)
    body = text(client.get(model_page(opportunity)))
    assert "Weights add up to 100 of 100" in body and "Add a criterion" not in body and "Move up" not in body
    response = client.submit(model_page(opportunity, f"/criteria/{opportunity.main_model.criteria[0].id}/remove"),
                             {"version": str(opportunity.version)}, page_url=model_page(opportunity))
    assert response.status_code == 403


# Sending for approval, approving, returning ---------------------------------------------------------------

def test_sending_an_incomplete_draft_lists_each_problem_linked_to_the_page_that_fixes_it(client, signed_in_author):
    opportunity = draft(signed_in_author)
    response = client.submit(page(opportunity, "/submit"), {"version": str(opportunity.version)},
                             page_url=page(opportunity), follow_redirects=True)
    body = text(response)
    assert "Fix these problems before the opportunity can go ahead" in body
    assert f'href="{page(opportunity, "/timetable")}#publication_date"' in body
    assert f'href="{model_page(opportunity)}#criteria"' in body
    assert f'href="{page(opportunity, "/documents")}#file"' in body
    assert reload(opportunity).status == lifecycle.DRAFT


def test_the_task_list_shows_what_is_complete(client, signed_in_author):
    opportunity = draft(signed_in_author)
    body = text(client.get(page(opportunity)))
    assert "Prepare the opportunity" in body
    assert body.count("Incomplete") == 3  # timetable, model, documents


def test_sending_a_ready_draft_emails_the_procurement_officers(client, signed_in_author, officer, mailbox):
    opportunity = ready_draft(signed_in_author)
    response = client.submit(page(opportunity, "/submit"), {"version": str(opportunity.version)},
                             page_url=page(opportunity), follow_redirects=True)
    assert "The opportunity is sent for approval" in text(response)
    assert reload(opportunity).status == lifecycle.AWAITING_APPROVAL
    assert opportunity.reference in mailbox.last_body(officer.email)


def test_another_commissioner_cannot_send_it_for_approval(client, as_user, author, colleague):
    opportunity = ready_draft(author)
    as_user(colleague)
    response = client.submit(page(opportunity, "/submit"), {"version": str(opportunity.version)},
                             page_url=page(opportunity))
    assert response.status_code == 403


def _awaiting(author) -> Opportunity:
    opportunity = ready_draft(author)
    services.submit_for_approval(author, opportunity, opportunity.version)
    return opportunity


def test_a_procurement_officer_approves_and_the_commissioner_is_told(client, as_user, author, officer, mailbox):
    opportunity = _awaiting(author)
    assess(officer, opportunity)
    as_user(officer)
    assert "Approve and publish" in text(client.get(page(opportunity)))
    response = client.submit(page(opportunity, "/approve"), {"version": str(opportunity.version)},
                             page_url=page(opportunity), follow_redirects=True)
    assert "approved and published" in text(response)
    stored = reload(opportunity)
    assert (stored.status, stored.approved_by_id) == (lifecycle.PUBLISHED, officer.id)
    assert stored.model_frozen_at is not None
    assert "has approved your opportunity" in mailbox.last_body(author.email)


def test_a_commissioner_who_is_not_a_procurement_officer_gets_403_on_approve(client, as_user, author, colleague):
    opportunity = _awaiting(author)
    as_user(colleague)
    assert "Approve and publish" not in text(client.get(page(opportunity)))
    response = client.submit(page(opportunity, "/approve"), {"version": str(opportunity.version)},
                             page_url=page(opportunity))
    assert response.status_code == 403
    assert reload(opportunity).status == lifecycle.AWAITING_APPROVAL


def test_someone_with_both_roles_cannot_approve_their_own_and_is_told_why(client, as_user, lead):
    opportunity = _awaiting(lead)
    as_user(lead)
    body = text(client.get(page(opportunity)))
    assert "You wrote this opportunity, so you cannot approve it" in body and "Approve and publish" not in body
    response = client.submit(page(opportunity, "/approve"), {"version": str(opportunity.version)},
                             page_url=page(opportunity), follow_redirects=True)
    assert "separation of duties" in text(response)
    assert reload(opportunity).status == lifecycle.AWAITING_APPROVAL


def test_a_procurement_officer_returns_it_with_a_reason_the_commissioner_sees(client, as_user, author, officer,
                                                                               mailbox):
    opportunity = _awaiting(author)
    as_user(officer)
    blank = client.submit(page(opportunity, "/return"), {"reason": "", "version": str(opportunity.version)})
    assert "Enter the reason for returning it to draft" in text(blank)
    too_long = client.submit(page(opportunity, "/return"), {"reason": "r" * 2001, "version": str(opportunity.version)})
    assert "must be 2,000 characters or fewer" in text(too_long)
    client.submit(page(opportunity, "/return"), {"reason": "Add <measures> to the outcomes",
                                                 "version": str(opportunity.version)})
    assert reload(opportunity).status == lifecycle.DRAFT
    assert "Add <measures> to the outcomes" in mailbox.last_body(author.email)
    as_user(author)
    body = text(client.get(page(opportunity)))
    assert "Returned to draft" in body and "Add &lt;measures&gt; to the outcomes" in body


# Cancelling ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("reason", "message"), [("", "Enter the reason for cancelling"),
                                                 ("r" * 2001, "must be 2,000 characters or fewer")])
def test_cancelling_needs_a_reason(client, signed_in_author, reason, message):
    opportunity = draft(signed_in_author)
    response = client.submit(page(opportunity, "/cancel"), {"category": "other", "reason": reason,
                                                            "version": str(opportunity.version)})
    assert response.status_code == 200 and message in text(response)
    assert reload(opportunity).status == lifecycle.DRAFT


def test_a_procurement_officer_cancels_a_published_opportunity_and_the_reason_is_shown(client, as_user, author,
                                                                                       officer):
    opportunity = published(author, officer)
    as_user(officer)
    response = client.submit(page(opportunity, "/cancel"), {"category": "other",
                                                            "reason": "The service is no longer funded",
                                                            "version": str(opportunity.version)})
    assert response.status_code == 302
    body = text(client.get(page(opportunity)))
    assert "Cancelled" in body and "Reason: The service is no longer funded" in body
    assert reload(opportunity).cancel_reason == "The service is no longer funded"


def test_a_cancelled_opportunity_cannot_be_cancelled_again(client, as_user, author, officer):
    opportunity = published(author, officer)
    services.cancel(officer, opportunity, "Funding withdrawn", opportunity.version)
    as_user(officer)
    assert client.get(page(opportunity, "/cancel")).status_code == 403


# After publication ------------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", ["/details", "/timetable", "/lots/new", "/models/{model}/criteria/new",
                                    "/models/{model}/criteria/{criterion}"])
def test_after_publication_every_edit_page_says_the_model_is_frozen(client, as_user, author, officer, suffix):
    opportunity = published(author, officer)
    as_user(author)
    response = client.get(_draft_url(opportunity, suffix), follow_redirects=True)
    assert "so its details and evaluation model are frozen" in text(response)
    assert "publishing an amendment notice" in text(response)


def test_after_publication_an_edit_post_is_refused_and_nothing_changes(client, as_user, author, officer):
    opportunity = published(author, officer)
    as_user(author)
    response = client.submit(model_page(opportunity, "/criteria/new"),
                             criterion_form(version=str(opportunity.version)), page_url=page(opportunity))
    assert response.status_code == 302
    assert len(reload(opportunity).main_model.criteria) == 6


def amendment_form(opportunity, **overrides) -> dict:
    return with_changes({"summary": "Weekend journeys are now included", "changes_requirements": "yes",
                         "version": str(opportunity.version)}, overrides)


def test_an_amendment_that_changes_requirements_extends_a_close_deadline(client, as_user, author, officer):
    opportunity = published(author, officer)
    opportunity.submission_deadline = utcnow() + timedelta(days=2)
    db.session.commit()
    as_user(author)
    response = client.submit(page(opportunity, "/amend"), amendment_form(opportunity), follow_redirects=True)
    body = text(response)
    assert "The amendment notice is published" in body and "Weekend journeys are now included" in body
    assert reload(opportunity).submission_deadline >= utcnow() + timedelta(days=7) - timedelta(minutes=1)


@pytest.mark.parametrize(("overrides", "message"), [
    ({"summary": ""}, "Describe the change"),
    ({"changes_requirements": None}, "Select whether it changes what bidders must do"),
    ({"changes_requirements": "maybe"}, "Select whether it changes what bidders must do"),
    ({"new_deadline-day": "40", "new_deadline-month": "1", "new_deadline-year": NEXT_YEAR, "new_deadline-time": ""},
     "New submission deadline (optional) must be a real date"),
    ("earlier", "An amendment cannot bring the submission deadline forward"),
])
def test_bad_amendments_are_refused(client, as_user, author, officer, overrides, message):
    opportunity = published(author, officer)
    deadline = opportunity.submission_deadline
    if overrides == "earlier":
        overrides = {f"new_deadline-{k}": v for k, v in when(deadline - timedelta(days=1)).items()}
    as_user(officer)
    response = client.submit(page(opportunity, "/amend"), amendment_form(opportunity, **overrides))
    assert response.status_code == 200 and message in text(response)
    assert reload(opportunity).submission_deadline == deadline and reload(opportunity).amendments == []


@pytest.mark.parametrize("who", ["colleague", "provider"])
def test_only_the_author_or_a_procurement_officer_can_amend(client, as_user, request, author, officer, who):
    opportunity = public(author, officer)
    as_user(provider() if who == "provider" else request.getfixturevalue(who))
    assert client.get(page(opportunity, "/amend")).status_code == 403


def test_a_closed_opportunity_shows_closed_and_cannot_be_amended(client, as_user, author, officer):
    opportunity = published(author, officer)
    opportunity.submission_deadline = utcnow() - timedelta(minutes=5)
    db.session.commit()
    as_user(author)
    body = text(client.get(page(opportunity)))
    assert "Closed" in body and "Publish an amendment" not in body
    assert client.get(page(opportunity, "/amend")).status_code == 403
