"""Clarification pages over HTTP: providers ask until the deadline, staff answer publicly or privately,
the public Q&A never says who asked, bad input is refused next to the field, and each role sees what it may."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
import sqlalchemy as sa

from marketplace.clarifications.models import PRIVATE, PUBLIC, Question
from marketplace.extensions import db
from marketplace.timeutil import format_london, utcnow
from tests.factories import OrganisationFactory, StaffFactory, UserFactory, colleague, provider
from tests.integration.test_clarification_services import (
    all_questions,
    count_queries,
    make_opportunity,
    make_question,
    watch,
)

ASKING_ORG = "Margate Minibus Co-operative"


def text(response) -> str:
    return response.get_data(as_text=True)


def ask_url(opportunity) -> str:
    return f"/opportunities/{opportunity.id}/questions/new"


def mine_url(opportunity) -> str:
    return f"/opportunities/{opportunity.id}/questions/yours"


def public_url(opportunity) -> str:
    return f"/opportunities/{opportunity.id}/questions"


def staff_url(opportunity) -> str:
    return f"/commissioning/opportunities/{opportunity.id}/questions"


def answer_url(opportunity, question) -> str:
    return f"/commissioning/opportunities/{opportunity.id}/questions/{question.id}"


def answer_data(**overrides) -> dict:
    data = {"published_text": "May bidders use their own vehicles?", "answer": "Yes, if they are accessible.",
            "visibility": PUBLIC}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture()
def commissioner(app):
    return StaffFactory(email="commissioner@kent.example", roles=["commissioner"])


@pytest.fixture()
def opportunity(commissioner):
    return make_opportunity(commissioner)


@pytest.fixture()
def asking_org(app):
    return OrganisationFactory(legal_name=ASKING_ORG)


@pytest.fixture()
def asker(asking_org):
    return provider(asking_org, email="asker@minibus.example")


@pytest.fixture()
def question(opportunity, asker):
    return make_question(opportunity, asker, f"We at {ASKING_ORG} own 6 buses: may we use them?")


# Asking -----------------------------------------------------------------------------------------------------

def test_a_provider_asks_a_question_and_sees_it_waiting_on_its_organisations_page(client, as_user, asker,
                                                                                   opportunity):
    as_user(asker)
    page = text(client.get(ask_url(opportunity)))
    assert "Ask a question" in page and format_london(opportunity.clarification_deadline) in page

    response = client.submit(ask_url(opportunity), {"text": "Can we use volunteer drivers?"})

    assert response.status_code == 302
    assert response.headers["Location"].endswith(mine_url(opportunity))
    [stored] = all_questions()
    assert (stored.text, stored.organisation_id) == ("Can we use volunteer drivers?", asker.membership.organisation_id)
    page = text(client.get(mine_url(opportunity)))
    assert "Your question has been sent" in page
    assert "Can we use volunteer drivers?" in page and "Awaiting answer" in page


def test_colleagues_see_their_organisations_questions_but_not_other_organisations(client, as_user, asker,
                                                                                   asking_org, opportunity):
    make_question(opportunity, asker, "Ours?")
    make_question(opportunity, provider(), "Someone else's?")

    page = text(as_user(colleague(asking_org)).get(mine_url(opportunity)))

    assert "Ours?" in page and "Someone else&#39;s?" not in page and "Someone else's?" not in page


def test_the_organisation_sees_each_status_and_the_published_wording(client, as_user, asker, opportunity):
    make_question(opportunity, asker, "Public one?", answer="Public answer", published_text="Edited public one?")
    make_question(opportunity, asker, "Private one?", answer="Private answer", visibility=PRIVATE)

    page = text(as_user(asker).get(mine_url(opportunity)))

    assert "Answered and published" in page and "Answered privately" in page
    assert "Published as" in page and "Edited public one?" in page
    assert "would reveal your own solution" in page


@pytest.mark.parametrize("typed, message", [
    ("", "Enter your question"),
    ("   \r\n  ", "Enter your question"),
    ("x" * 2001, "Your question must be 2,000 characters or fewer"),
    ("bad \x07 bell", "Your question must not contain control characters"),
])
def test_a_bad_question_is_refused_next_to_the_field_keeping_what_was_typed(client, as_user, asker, opportunity,
                                                                            typed, message):
    as_user(asker)
    response = client.submit(ask_url(opportunity), {"text": typed})

    page = text(response)
    assert response.status_code == 200
    assert "There is a problem" in page and page.count(message) == 2  # summary and next to the field
    assert 'href="#text"' in page
    if typed.strip():
        assert html.escape(typed.strip(), quote=False)[:50] in page
    assert all_questions() == []


def test_new_lines_count_as_one_character_like_the_character_count(client, as_user, asker, opportunity):
    typed = "x" * 999 + "\r\n" + "x" * 1000  # 2,001 characters as sent; 2,000 with the new line as one
    as_user(asker)
    response = client.submit(ask_url(opportunity), {"text": typed})
    assert response.status_code == 302
    assert all_questions()[0].text == "x" * 999 + "\n" + "x" * 1000


def test_html_in_a_question_is_shown_as_text(client, as_user, asker, opportunity, commissioner):
    as_user(asker)
    client.submit(ask_url(opportunity), {"text": "<script>alert('x')</script> & <b>bold</b>"})

    for page in (text(client.get(mine_url(opportunity))), text(as_user(commissioner).get(staff_url(opportunity)))):
        assert "<script>alert" not in page and "<b>bold</b>" not in page
        assert "&lt;script&gt;" in page


def test_after_the_clarification_deadline_the_page_says_questions_are_closed(client, as_user, asker,
                                                                             commissioner):
    deadline = utcnow() - timedelta(hours=1)
    opportunity = make_opportunity(commissioner, clarification_deadline=deadline)

    page = text(as_user(asker).get(ask_url(opportunity)))

    assert "Questions are closed" in page
    assert f"Questions closed on {format_london(deadline)} (UK time)" in page
    assert 'name="text"' not in page


def test_a_question_sent_after_the_deadline_is_refused_with_the_deadline_and_what_was_typed(
        client, as_user, asker, opportunity):
    """The page was opened in time; the deadline passes before the user presses send."""
    as_user(asker)
    token = client.csrf_token(ask_url(opportunity))
    deadline = utcnow() - timedelta(seconds=1)
    opportunity.clarification_deadline = deadline
    db.session.commit()

    response = client.post(ask_url(opportunity), data={"csrf_token": token, "text": "Just in time?"})

    page = text(response)
    assert response.status_code == 200
    assert "There is a problem" in page and "Questions are closed" in page
    assert f"Questions closed on {format_london(deadline)} (UK time)" in page
    assert "Just in time?" in page
    assert all_questions() == []


@pytest.mark.parametrize("overrides", [
    {"status": "draft", "published_at": None},
    {"status": "awaiting_approval", "published_at": None},
    {"published_at": utcnow() + timedelta(days=1)},
], ids=["draft", "awaiting approval", "publication not yet due"])
@pytest.mark.parametrize("url", [ask_url, mine_url, public_url], ids=["ask", "mine", "public"])
def test_unpublished_opportunities_answer_404_to_providers(client, as_user, asker, commissioner, overrides, url):
    opportunity = make_opportunity(commissioner, **overrides)
    as_user(asker)
    assert client.get(url(opportunity)).status_code == 404
    if url is ask_url:
        assert client.submit(ask_url(opportunity), {"text": "Hidden?"}, page_url="/").status_code == 404
    assert all_questions() == []


def test_an_unknown_opportunity_answers_404(client, as_user, asker):
    assert as_user(asker).get("/opportunities/999999/questions/new").status_code == 404


def test_anonymous_people_are_asked_to_sign_in_before_asking(client, opportunity):
    response = client.get(ask_url(opportunity))
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


@pytest.mark.parametrize("role", ["commissioner", "procurement_officer", "administrator"])
def test_council_staff_cannot_ask(client, as_user, opportunity, role):
    as_user(StaffFactory(roles=[role]))
    assert client.get(ask_url(opportunity)).status_code == 403
    assert client.submit(ask_url(opportunity), {"text": "Staff question?"}, page_url="/").status_code == 403
    assert client.get(mine_url(opportunity)).status_code == 403
    assert all_questions() == []


def test_a_provider_without_an_organisation_is_told_to_register_and_cannot_ask(client, as_user, opportunity):
    as_user(UserFactory())
    page = text(client.get(ask_url(opportunity)))
    assert "Register your organisation" in page and 'name="text"' not in page
    assert client.submit(ask_url(opportunity), {"text": "Me?"}).status_code == 403
    assert client.get(mine_url(opportunity)).status_code == 403
    assert all_questions() == []


# The public questions and answers ---------------------------------------------------------------------------

def test_the_public_sees_published_answers_in_the_published_wording_without_the_asker(
        client, as_user, asker, opportunity, commissioner):
    question = make_question(opportunity, asker, f"{ASKING_ORG} asks: evening routes?")
    as_user(commissioner)
    client.submit(answer_url(opportunity, question),
                  answer_data(published_text="Are evening routes needed?", answer="They are optional."))
    client.post("/sign-out", data={"csrf_token": client.csrf_token(public_url(opportunity))})

    for viewer in (None, provider()):
        if viewer is not None:
            as_user(viewer)
        page = text(client.get(public_url(opportunity)))
        assert "Are evening routes needed?" in page and "They are optional." in page
        assert ASKING_ORG not in page and "Margate" not in page


def test_a_private_answer_is_shown_only_to_the_asking_organisation(client, as_user, asker, asking_org,
                                                                   opportunity):
    make_question(opportunity, asker, "Our own solution?", answer="Private answer", visibility=PRIVATE)

    anonymous = text(client.get(public_url(opportunity)))
    other = text(as_user(provider()).get(public_url(opportunity)))
    own = text(as_user(colleague(asking_org)).get(public_url(opportunity)))

    for page in (anonymous, other):
        assert "Private answer" not in page and "Our own solution?" not in page
        assert "No questions have been answered yet" in page
    assert "Private answer" in own and "Answered privately to your organisation" in own


@pytest.mark.parametrize("page_of", [public_url, lambda o: f"/opportunities/{o.id}"],
                         ids=["questions page", "opportunity page"])
def test_every_public_page_with_the_answers_hides_who_asked(app, client, as_user, asker, asking_org, opportunity,
                                                            page_of):
    make_question(opportunity, asker, "Published question?", answer="Published answer")
    make_question(opportunity, asker, "Private question?", answer="Private answer", visibility=PRIVATE)

    for viewer in (None, provider()):
        if viewer is not None:
            as_user(viewer)
        page = text(client.get(page_of(opportunity)))
        assert "Published question?" in page and "Published answer" in page
        assert "Private answer" not in page and ASKING_ORG not in page
    own = text(as_user(colleague(asking_org)).get(page_of(opportunity)))
    assert "Private answer" in own and "Answered privately to your organisation" in own


def test_staff_see_every_question_on_the_public_page_without_the_asker_named(client, as_user, asker,
                                                                             opportunity, commissioner):
    make_question(opportunity, asker, "Waiting question?")
    make_question(opportunity, asker, "Private question?", answer="Private answer", visibility=PRIVATE)

    page = text(as_user(commissioner).get(public_url(opportunity)))

    assert "Waiting question?" in page and "Awaiting answer" in page
    assert "Answered privately to the asking organisation" in page
    assert ASKING_ORG not in page


def test_the_public_page_shows_the_answer_date_in_uk_time(client, asker, opportunity):
    question = make_question(opportunity, asker, "When?", answer="Now.")
    page = text(client.get(public_url(opportunity)))
    assert f"Answered on {format_london(question.answered_at)}" in page


# Staff: the list of questions -------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["commissioner", "procurement_officer"])
def test_staff_see_all_questions_with_the_asker_unanswered_first(client, as_user, asker, opportunity, role):
    make_question(opportunity, asker, "Answered one?", answer="Done")
    make_question(opportunity, provider(OrganisationFactory(legal_name="Second Org")), "Waiting one?")

    page = text(as_user(StaffFactory(roles=[role])).get(staff_url(opportunity)))

    assert page.index("Waiting one?") < page.index("Answered one?")
    assert ASKING_ORG in page and "Second Org" in page
    assert "2 questions, 1 waiting for an answer" in page


def test_another_commissioner_can_also_answer(client, as_user, question, opportunity):
    as_user(StaffFactory(roles=["commissioner"]))
    response = client.submit(answer_url(opportunity, question), answer_data())
    assert response.status_code == 302
    assert all_questions()[0].answer == "Yes, if they are accessible."


@pytest.mark.parametrize("who, status", [
    ("anonymous", 302), ("provider", 403), ("no organisation", 403), ("administrator", 403),
])
def test_only_council_staff_reach_the_staff_pages(client, as_user, question, opportunity, who, status):
    user = {"anonymous": None, "provider": provider(), "no organisation": UserFactory(),
            "administrator": StaffFactory(roles=["administrator"])}[who]
    if user is not None:
        as_user(user)
    for url in (staff_url(opportunity), answer_url(opportunity, question)):
        assert client.get(url).status_code == status
    if user is not None:
        assert client.submit(answer_url(opportunity, question), answer_data(), page_url="/").status_code == 403
    assert all_questions()[0].answered_at is None


def test_a_question_from_another_opportunity_answers_404(client, as_user, question, commissioner):
    elsewhere = make_opportunity(commissioner)
    as_user(commissioner)
    assert client.get(answer_url(elsewhere, question)).status_code == 404
    assert client.get("/commissioning/opportunities/999999/questions").status_code == 404


def test_the_staff_list_is_paginated(client, as_user, asker, opportunity, commissioner):
    for n in range(21):
        make_question(opportunity, asker, f"Numbered question {n:02d}?")
    as_user(commissioner)
    first, second = text(client.get(staff_url(opportunity))), text(client.get(staff_url(opportunity) + "?page=2"))
    assert first.count("Numbered question") == 20 and second.count("Numbered question") == 1
    assert "govuk-pagination" in first


def test_the_staff_list_query_count_does_not_grow_with_the_questions(client, as_user, opportunity, commissioner):
    as_user(commissioner)

    def queries() -> int:
        with count_queries() as statements:
            assert client.get(staff_url(opportunity)).status_code == 200
        return len(statements)

    make_question(opportunity, provider(), "First?")
    few = queries()
    for n in range(5):
        make_question(opportunity, provider(), f"More {n}?")
    assert queries() == few


# Staff: answering -------------------------------------------------------------------------------------------

def test_staff_publish_an_answer_with_edited_wording_and_everyone_watching_is_emailed(
        client, as_user, question, asker, opportunity, commissioner, mailbox):
    watcher = provider(email="watcher@example.org")
    watch(watcher, opportunity)
    as_user(commissioner)
    page = text(client.get(answer_url(opportunity, question)))
    assert ASKING_ORG in page and "Answer a question" in page

    response = client.submit(answer_url(opportunity, question), answer_data())

    assert response.status_code == 302 and response.headers["Location"].endswith(staff_url(opportunity))
    [stored] = all_questions()
    assert stored.text.startswith(f"We at {ASKING_ORG}")
    assert (stored.published_text, stored.visibility) == ("May bidders use their own vehicles?", PUBLIC)
    assert "Your answer is published" in text(client.get(staff_url(opportunity)))
    watcher_email = mailbox.last_body(watcher.email)
    assert "May bidders use their own vehicles?" in watcher_email and "Yes, if they are accessible." in watcher_email
    assert ASKING_ORG not in watcher_email and "Margate" not in watcher_email
    assert "Yes, if they are accessible." in mailbox.last_body(asker.email)


def test_the_wording_starts_as_the_providers_own(client, as_user, question, opportunity, commissioner):
    page = text(as_user(commissioner).get(answer_url(opportunity, question)))
    assert f"We at {ASKING_ORG} own 6 buses: may we use them?</textarea>" in page


def test_staff_answer_privately_only_after_confirming_it_would_reveal_the_askers_solution(
        client, as_user, question, asker, opportunity, commissioner, mailbox):
    watcher = provider(email="watcher@example.org")
    watch(watcher, opportunity)
    as_user(commissioner)

    refused = client.submit(answer_url(opportunity, question), answer_data(visibility=PRIVATE))
    page = text(refused)
    assert refused.status_code == 200 and all_questions()[0].answered_at is None
    assert page.count("Confirm the answer would reveal the asking organisation") == 2
    assert 'href="#confirm_private"' in page and "Yes, if they are accessible.</textarea>" in page

    response = client.submit(answer_url(opportunity, question), answer_data(visibility=PRIVATE, confirm_private="y"))

    assert response.status_code == 302
    assert all_questions()[0].visibility == PRIVATE
    assert "sent privately" in text(client.get(staff_url(opportunity)))
    assert mailbox.to(watcher.email) == []
    assert "sent only to your organisation" in mailbox.last_body(asker.email)


@pytest.mark.parametrize("overrides, field, message", [
    ({"answer": ""}, "answer", "Enter the answer"),
    ({"answer": "  "}, "answer", "Enter the answer"),
    ({"answer": "a" * 5001}, "answer", "Answer must be 5,000 characters or fewer"),
    ({"published_text": ""}, "published_text", "Enter the question as it will be published"),
    ({"published_text": "q" * 2001}, "published_text",
     "Question as it will be published must be 2,000 characters or fewer"),
    ({"visibility": "everyone"}, "visibility", "Select whether to publish the answer or send it privately"),
    ({"answer": "bell \x07"}, "answer", "Answer must not contain control characters"),
])
def test_a_bad_answer_is_refused_next_to_the_field(client, as_user, question, opportunity, commissioner,
                                                   overrides, field, message):
    as_user(commissioner)
    response = client.submit(answer_url(opportunity, question), answer_data(**overrides))

    page = text(response)
    assert response.status_code == 200
    assert page.count(message) == 2 and f'href="#{field}"' in page
    assert all_questions()[0].answered_at is None


def test_html_in_an_answer_is_shown_as_text(client, as_user, question, opportunity, commissioner):
    as_user(commissioner)
    client.submit(answer_url(opportunity, question), answer_data(answer="<img src=x onerror=alert(1)>"))
    page = text(client.get(public_url(opportunity)))
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_after_the_clarification_deadline_staff_can_still_answer(client, as_user, asker, commissioner):
    opportunity = make_opportunity(commissioner, clarification_deadline=utcnow() - timedelta(days=1))
    question = make_question(opportunity, asker)
    as_user(commissioner)
    assert client.submit(answer_url(opportunity, question), answer_data()).status_code == 302
    assert "Yes, if they are accessible." in text(client.get(public_url(opportunity)))


def test_after_the_submission_deadline_staff_cannot_answer(client, as_user, asker, commissioner):
    deadline = utcnow() - timedelta(minutes=5)
    opportunity = make_opportunity(commissioner, clarification_deadline=deadline - timedelta(days=2),
                                   submission_deadline=deadline)
    question = make_question(opportunity, asker)
    as_user(commissioner)

    page = text(client.get(answer_url(opportunity, question)))
    assert f"The submission deadline passed on {format_london(deadline)} (UK time)" in page
    assert 'name="answer"' not in page

    response = client.submit(answer_url(opportunity, question), answer_data())
    assert response.status_code == 200 and "The submission deadline passed" in text(response)
    assert all_questions()[0].answered_at is None


def test_an_answered_question_shows_its_answer_and_cannot_be_answered_again(client, as_user, asker, opportunity,
                                                                            commissioner):
    question = make_question(opportunity, asker, "Done?", answer="Already answered.")
    as_user(commissioner)

    page = text(client.get(answer_url(opportunity, question)))
    assert "Already answered." in page and 'name="answer"' not in page

    client.submit(answer_url(opportunity, question), answer_data(answer="Overwritten?"))
    assert all_questions()[0].answer == "Already answered."


def test_answering_needs_the_forms_csrf_token(client, as_user, question, opportunity, commissioner):
    as_user(commissioner)
    response = client.post(answer_url(opportunity, question), data=answer_data())
    assert response.status_code == 400
    assert db.session.execute(sa.select(Question.answered_at)).scalar_one() is None

