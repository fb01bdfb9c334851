"""Clarification use cases on a real database: asking until the deadline, answering publicly or privately,
who reads what, the audit trail, and who is emailed."""

from __future__ import annotations

import itertools
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from marketplace.audit import AuditEvent, verify_database
from marketplace.clarifications import services
from marketplace.clarifications.models import PRIVATE, PUBLIC, Question
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.opportunities.models import Opportunity, Watch
from marketplace.timeutil import format_london, utcnow
from tests.factories import OrganisationFactory, StaffFactory, UserFactory, colleague, provider

_numbers = itertools.count(1)


# Helpers shared with tests/functional/test_clarifications.py ----------------------------------------------

def make_opportunity(created_by, **overrides) -> Opportunity:
    """A published opportunity: questions open for 5 more days, bids due in 10. Times are relative to the
    server clock, so 'before' and 'after' a deadline need no frozen clock."""
    now = utcnow()
    fields = {
        "reference": f"KCC-2027-{next(_numbers):04d}",
        "title": "Community transport in Thanet",
        "summary": "Door-to-door transport for older people.",
        "category": "highways-and-transport",
        "localities": ["thanet"],
        "estimated_value": Decimal("150000.00"),
        "status": "published",
        "published_at": now - timedelta(days=3),
        "publication_date": now - timedelta(days=3),
        "clarification_deadline": now + timedelta(days=5),
        "submission_deadline": now + timedelta(days=10),
        "created_by_id": created_by.id,
        "contact_name": "Commissioning team",
        "contact_email": "commissioning@kent.example",
    }
    fields.update(overrides)
    opportunity = Opportunity(**fields)
    db.session.add(opportunity)
    db.session.commit()
    return opportunity


def make_question(opportunity, asker, text="Can we subcontract the evening routes?", **answer) -> Question:
    """A question asked by asker's organisation; answered when `answer` fields are given."""
    question = Question(opportunity_id=opportunity.id, organisation_id=asker.membership.organisation_id,
                        asked_by_id=asker.id, text=text, asked_at=utcnow() - timedelta(hours=1))
    if answer:
        answer.setdefault("answered_at", utcnow())
        answer.setdefault("visibility", PUBLIC)
        answer.setdefault("published_text", text)
    for key, value in answer.items():
        setattr(question, key, value)
    db.session.add(question)
    db.session.commit()
    return question


def watch(user, opportunity) -> None:
    db.session.add(Watch(user_id=user.id, opportunity_id=opportunity.id))
    db.session.commit()


def events(action: str) -> list[AuditEvent]:
    return list(db.session.execute(
        sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).scalars())


def all_questions() -> list[Question]:
    db.session.expire_all()
    return list(db.session.execute(sa.select(Question).order_by(Question.id)).scalars())


@contextmanager
def count_queries():
    """Count the SQL statements run inside the block."""
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)


# Fixtures -------------------------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def request_context(app):
    """Emails carry absolute links, built as in a request (the CLI would set SERVER_NAME)."""
    with app.test_request_context("/"):
        yield


@pytest.fixture()
def commissioner(app):
    return StaffFactory(email="commissioner@kent.example", roles=["commissioner"])


@pytest.fixture()
def opportunity(commissioner):
    return make_opportunity(commissioner)


@pytest.fixture()
def asking_org(app):
    return OrganisationFactory(legal_name="Margate Minibus Co-operative")


@pytest.fixture()
def asker(asking_org):
    return provider(asking_org, email="asker@minibus.example")


# Asking ---------------------------------------------------------------------------------------------------

def test_a_provider_asks_for_its_organisation_before_the_clarification_deadline(asker, opportunity):
    question = services.ask_question(asker, opportunity, "Can we use volunteer drivers?")

    [stored] = all_questions()
    assert stored.id == question.id
    assert (stored.organisation_id, stored.asked_by_id) == (asker.membership.organisation_id, asker.id)
    assert stored.text == "Can we use volunteer drivers?"
    assert stored.answered_at is None and stored.published_text is None


def test_asking_writes_an_audit_event_in_the_same_transaction(asker, opportunity):
    question = services.ask_question(asker, opportunity, "Can we use volunteer drivers?")

    [event] = events("clarification.asked")
    assert (event.object_type, event.object_id, event.actor_id) == ("question", str(question.id), asker.id)
    assert event.details == {"opportunity_id": opportunity.id,
                             "organisation_id": asker.membership.organisation_id}
    assert verify_database().ok


def test_the_commissioner_is_emailed_when_a_question_is_asked_without_the_asker_named(
        asker, opportunity, commissioner, mailbox):
    services.ask_question(asker, opportunity, "Can we use volunteer drivers?")

    body = mailbox.last_body(commissioner.email)
    assert opportunity.reference in body
    assert f"/commissioning/opportunities/{opportunity.id}/questions" in body
    assert "Margate Minibus" not in body


def test_a_question_after_the_clarification_deadline_is_refused_giving_the_deadline_in_uk_time(
        asker, commissioner):
    deadline = utcnow() - timedelta(minutes=1)
    opportunity = make_opportunity(commissioner, clarification_deadline=deadline)

    with pytest.raises(DomainError) as refused:
        services.ask_question(asker, opportunity, "Too late?")

    assert refused.value.message.startswith(f"Questions closed on {format_london(deadline)} (UK time)")
    assert all_questions() == []
    assert events("clarification.asked") == []


def test_without_a_clarification_deadline_questions_close_at_the_submission_deadline(asker, commissioner):
    opportunity = make_opportunity(commissioner, clarification_deadline=None,
                                   submission_deadline=utcnow() - timedelta(seconds=1))
    with pytest.raises(DomainError, match="Questions closed on"):
        services.ask_question(asker, opportunity, "Too late?")


def test_no_question_can_be_asked_about_a_cancelled_opportunity(asker, commissioner):
    opportunity = make_opportunity(commissioner, status="cancelled", cancel_reason="Service brought in-house")
    with pytest.raises(DomainError, match="This opportunity is cancelled"):
        services.ask_question(asker, opportunity, "Is it still going ahead?")


@pytest.mark.parametrize("make_user", [
    lambda: StaffFactory(roles=["commissioner"]),
    lambda: StaffFactory(roles=["procurement_officer"]),
    lambda: UserFactory(),  # a provider user who has not registered or joined an organisation
], ids=["commissioner", "procurement officer", "no organisation"])
def test_only_a_member_of_an_organisation_can_ask(opportunity, make_user):
    with pytest.raises(DomainError, match="Only members of a registered provider organisation"):
        services.ask_question(make_user(), opportunity, "May I ask?")
    assert all_questions() == []


# Answering ------------------------------------------------------------------------------------------------

def test_a_published_answer_keeps_the_original_wording_and_the_edited_one(asker, opportunity, commissioner):
    question = make_question(opportunity, asker, "We at Margate Minibus run 6 buses: may we use them?")

    services.answer_question(commissioner, question, "Yes.", "May bidders use their own vehicles?", PUBLIC)

    [stored] = all_questions()
    assert stored.text == "We at Margate Minibus run 6 buses: may we use them?"
    assert stored.published_text == "May bidders use their own vehicles?"
    assert (stored.answer, stored.visibility, stored.answered_by_id) == ("Yes.", PUBLIC, commissioner.id)
    assert stored.answered_at is not None


@pytest.mark.parametrize("visibility, confirmed, reason", [
    (PUBLIC, False, None),
    (PRIVATE, True, services.PRIVATE_REASON),
])
def test_answering_writes_an_audit_event_with_who_sees_it(asker, opportunity, commissioner, visibility,
                                                          confirmed, reason):
    question = make_question(opportunity, asker)

    services.answer_question(commissioner, question, "Yes.", "Edited wording", visibility, confirmed)

    [event] = events("clarification.answered")
    assert (event.object_id, event.actor_id) == (str(question.id), commissioner.id)
    assert event.details == {"opportunity_id": opportunity.id, "visibility": visibility,
                             "wording_edited": True, "reason": reason}
    assert verify_database().ok


def test_a_private_answer_needs_the_confirmation_that_it_would_reveal_the_askers_solution(
        asker, opportunity, commissioner):
    question = make_question(opportunity, asker)

    with pytest.raises(DomainError) as refused:
        services.answer_question(commissioner, question, "Yes.", question.text, PRIVATE, False)

    assert refused.value.field == "confirm_private"
    assert all_questions()[0].answered_at is None


def test_an_unknown_visibility_is_refused(asker, opportunity, commissioner):
    question = make_question(opportunity, asker)
    with pytest.raises(DomainError) as refused:
        services.answer_question(commissioner, question, "Yes.", question.text, "everyone")
    assert refused.value.field == "visibility"


def test_staff_can_answer_after_the_clarification_deadline(asker, commissioner):
    opportunity = make_opportunity(commissioner, clarification_deadline=utcnow() - timedelta(days=1))
    question = make_question(opportunity, asker)

    services.answer_question(commissioner, question, "Yes.", question.text, PUBLIC)

    assert all_questions()[0].answer == "Yes."


def test_staff_cannot_answer_after_the_submission_deadline(asker, commissioner):
    opportunity = make_opportunity(commissioner, clarification_deadline=utcnow() - timedelta(days=2),
                                   submission_deadline=utcnow() - timedelta(minutes=1))
    question = make_question(opportunity, asker)

    with pytest.raises(DomainError, match="The submission deadline passed on .* so questions can no longer"):
        services.answer_question(commissioner, question, "Yes.", question.text, PUBLIC)

    assert all_questions()[0].answered_at is None
    assert events("clarification.answered") == []


def test_a_question_is_answered_once(asker, opportunity, commissioner):
    question = make_question(opportunity, asker)
    services.answer_question(commissioner, question, "First answer.", question.text, PUBLIC)

    other = StaffFactory(roles=["procurement_officer"])
    with pytest.raises(DomainError, match="already been answered"):
        services.answer_question(other, all_questions()[0], "Second answer.", "Changed", PUBLIC)

    [stored] = all_questions()
    assert (stored.answer, stored.answered_by_id) == ("First answer.", commissioner.id)


@pytest.mark.parametrize("make_user", [
    lambda: StaffFactory(roles=["administrator"]),
    lambda: provider(),
], ids=["administrator", "provider"])
def test_only_commissioners_and_procurement_officers_answer(asker, opportunity, make_user):
    question = make_question(opportunity, asker)
    with pytest.raises(DomainError, match="Only commissioners and procurement officers"):
        services.answer_question(make_user(), question, "Yes.", question.text, PUBLIC)


# Who reads what -------------------------------------------------------------------------------------------

@pytest.fixture()
def mixed_questions(asker, opportunity, commissioner):
    """One public answer (asked by asker's organisation), one private answer to asker's organisation, one
    private answer to another organisation, and one unanswered question."""
    other = provider(OrganisationFactory(legal_name="Other Provider Ltd"))
    now = utcnow()
    return {
        "public": make_question(opportunity, asker, "Public?", answer="Public answer",
                                answered_at=now - timedelta(hours=2)),
        "own_private": make_question(opportunity, asker, "Ours?", answer="Private to us", visibility=PRIVATE,
                                     answered_at=now - timedelta(hours=1)),
        "other_private": make_question(opportunity, other, "Theirs?", answer="Private to them",
                                       visibility=PRIVATE, answered_at=now - timedelta(minutes=30)),
        "unanswered": make_question(opportunity, other, "Waiting?"),
    }


def _ids(questions) -> list[int]:
    return [q.id for q in questions]


@pytest.mark.parametrize("viewer", ["anonymous", "other provider", "no organisation", "administrator"])
def test_the_public_and_other_providers_read_only_published_answers(mixed_questions, opportunity, viewer):
    from flask_login import AnonymousUserMixin

    user = {
        "anonymous": AnonymousUserMixin,
        "other provider": provider,
        "no organisation": UserFactory,
        "administrator": lambda: StaffFactory(roles=["administrator"]),
    }[viewer]()
    assert _ids(services.visible_questions(opportunity, user)) == [mixed_questions["public"].id]


def test_the_asking_organisation_also_reads_its_own_private_answers_in_the_order_answered(
        mixed_questions, opportunity, asking_org):
    teammate = colleague(asking_org)
    expected = [mixed_questions["public"].id, mixed_questions["own_private"].id]
    assert _ids(services.visible_questions(opportunity, teammate)) == expected


@pytest.mark.parametrize("role", ["commissioner", "procurement_officer"])
def test_council_staff_see_every_question_answered_first_then_waiting(mixed_questions, opportunity, role):
    staff = StaffFactory(roles=[role])
    expected = [mixed_questions[k].id for k in ("public", "own_private", "other_private", "unanswered")]
    assert _ids(services.visible_questions(opportunity, staff)) == expected


def test_other_opportunities_questions_are_never_mixed_in(mixed_questions, asker, commissioner):
    elsewhere = make_opportunity(commissioner)
    make_question(elsewhere, asker, "Elsewhere?", answer="Elsewhere answer")
    assert _ids(services.visible_questions(elsewhere, StaffFactory())) != []
    assert mixed_questions["public"].id not in _ids(services.visible_questions(elsewhere, StaffFactory()))


@pytest.mark.parametrize("viewer", ["anonymous", "asker", "staff"])
def test_reading_the_questions_is_one_query_whatever_their_number(asker, opportunity, viewer):
    from flask_login import AnonymousUserMixin

    user = {"anonymous": AnonymousUserMixin(), "asker": asker, "staff": StaffFactory()}[viewer]

    def queries_for_visible() -> int:
        services.visible_questions(opportunity, user)  # reload what the last commit expired
        with count_queries() as statements:
            for question in services.visible_questions(opportunity, user):
                (question.shown_text, question.answer, question.answered_at, question.is_private)
        return len(statements)

    make_question(opportunity, asker, answer="One")
    few = queries_for_visible()
    for n in range(5):
        make_question(opportunity, asker, f"Q{n}", answer=f"A{n}", visibility=PRIVATE if n % 2 else PUBLIC)
    assert queries_for_visible() == few == 1


# Email ----------------------------------------------------------------------------------------------------

@pytest.fixture()
def watcher(opportunity):
    user = provider(OrganisationFactory(legal_name="Watching Charity"), email="watcher@example.org")
    watch(user, opportunity)
    return user


def test_a_published_answer_emails_watchers_and_the_asking_organisation_without_naming_the_asker(
        asker, asking_org, opportunity, commissioner, watcher, mailbox):
    teammate = colleague(asking_org, email="teammate@minibus.example")
    question = make_question(opportunity, asker, "Margate Minibus asks: evening routes?")
    mailbox.clear()

    services.answer_question(commissioner, question, "Evenings are optional.", "Are evening routes needed?",
                             PUBLIC)

    watcher_body = mailbox.last_body(watcher.email)
    assert "Are evening routes needed?" in watcher_body and "Evenings are optional." in watcher_body
    assert asking_org.legal_name not in watcher_body and "Margate Minibus" not in watcher_body
    for member in (asker, teammate):
        body = mailbox.last_body(member.email).replace("\r\n", "\n")
        assert "Margate Minibus asks: evening routes?" in body
        assert "published as:\nAre evening routes needed?" in body
    assert sorted(m["To"] for m in mailbox.messages) == sorted([asker.email, teammate.email, watcher.email])
    assert not any(asking_org.legal_name in (m["Subject"] or "") for m in mailbox.messages)


def test_a_private_answer_emails_only_the_asking_organisation(asker, opportunity, commissioner, watcher,
                                                               mailbox):
    question = make_question(opportunity, asker)
    mailbox.clear()

    services.answer_question(commissioner, question, "Your own solution is fine.", question.text, PRIVATE, True)

    assert mailbox.to(watcher.email) == []
    body = mailbox.last_body(asker.email)
    assert "sent only to your organisation" in body and "Your own solution is fine." in body


def test_a_watcher_in_the_asking_organisation_gets_one_email(asker, opportunity, commissioner, mailbox):
    watch(asker, opportunity)
    question = make_question(opportunity, asker)
    mailbox.clear()

    services.answer_question(commissioner, question, "Yes.", question.text, PUBLIC)

    assert [m["To"] for m in mailbox.messages] == [asker.email]


def test_deactivated_people_are_not_emailed(asker, opportunity, commissioner, watcher, mailbox):
    watcher.deactivated_at = utcnow()
    db.session.commit()
    question = make_question(opportunity, asker)
    mailbox.clear()

    services.answer_question(commissioner, question, "Yes.", question.text, PUBLIC)

    assert mailbox.to(watcher.email) == []


def test_a_failed_delivery_does_not_stop_the_others_or_undo_the_answer(
        asker, opportunity, commissioner, watcher, mailbox, monkeypatch):
    from marketplace.clarifications import services as module

    sent = []

    def flaky(to, subject, template, **context):
        if to == asker.email:
            raise OSError("connection refused")
        sent.append(to)

    monkeypatch.setattr(module, "send_email", flaky)
    question = make_question(opportunity, asker)

    services.answer_question(commissioner, question, "Yes.", question.text, PUBLIC)

    assert sent == [watcher.email]
    assert all_questions()[0].answer == "Yes."
