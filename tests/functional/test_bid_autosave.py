"""The answer page's background save (bids.autosave_answer, driven by static/js/autosave.js): it saves a draft
exactly as the Save buttons would, audited, and answers the page's script in JSON with the bid's new version;
what it refuses is stored nowhere and explained; it leaves the session alone; another organisation's bid answers
404."""

from __future__ import annotations

import sqlalchemy as sa

from marketplace.audit import AuditEvent
from marketplace.bids import answering
from marketplace.bids import preparation as prep
from marketplace.extensions import db
from tests.factories import OrganisationFactory, colleague, provider
from tests.sql import statements_sent
from tests.functional.test_bid_preparation import (  # noqa: F401  (fixtures)
    answer_path,
    bid,
    bidder,
    opportunity,
    organisation,
    signed_in,
    url,
    version_of,
)
from tests.integration.test_bid_preparation import close, criterion_of, reload

DRAFT = "Volunteers visit every week, and phone"


def draft_url(opportunity) -> str:
    return url(opportunity, f"{answer_path(opportunity)}/draft")


def autosave(client, opportunity, text: str, version: str, **extra):
    return client.submit(draft_url(opportunity), {"text": text, "version": version, **extra},
                         page_url=url(opportunity, answer_path(opportunity)))


def saved_text(bid, opportunity) -> str:
    return prep.saved_answer(reload(bid), criterion_of(opportunity, "quality").id)


def test_a_draft_is_saved_in_the_background_and_the_page_gets_the_new_version(signed_in, bid, opportunity):
    before = version_of(bid)

    response = autosave(signed_in, opportunity, DRAFT, before)

    assert response.status_code == 200 and response.json["saved"] is True
    assert response.json["version"] == int(before) + 1 == reload(bid).version
    assert response.json["message"].startswith("Draft saved at ")
    assert saved_text(bid, opportunity) == DRAFT
    audited = db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == "bid.section_saved")).scalar_one()
    assert audited.object_id == str(bid.id)


def test_the_next_save_with_the_version_the_draft_returned_is_not_taken_for_a_colleagues(signed_in, bid,
                                                                                         opportunity):
    version = autosave(signed_in, opportunity, DRAFT, version_of(bid)).json["version"]

    response = signed_in.submit(url(opportunity, answer_path(opportunity)),
                                {"text": DRAFT + " between visits.", "version": str(version),
                                 "save_continue": "Save and continue"})

    assert response.status_code == 302 and saved_text(bid, opportunity) == DRAFT + " between visits."


def test_a_draft_after_a_colleagues_save_is_refused_as_a_conflict_and_stores_nothing(client, app, signed_in, bid,
                                                                                       opportunity, organisation):
    seen = version_of(bid)
    answering.save_answer(colleague(organisation), bid.opportunity_id, criterion_of(opportunity, "quality").id,
                          "The colleague's answer", int(seen))

    response = autosave(signed_in, opportunity, DRAFT, seen)

    assert response.status_code == 409 and response.json["saved"] is False
    assert "A colleague changed this bid" in response.json["message"]
    assert saved_text(bid, opportunity) == "The colleague's answer"


def test_a_draft_over_the_word_limit_is_refused_with_the_reason_and_stores_nothing(signed_in, bid, opportunity):
    response = autosave(signed_in, opportunity, " ".join(["volunteers"] * 51), version_of(bid))

    assert response.status_code == 422 and response.json["saved"] is False
    assert response.json["message"] == ("Draft not saved. Your answer is 51 words. The limit is 50 words: remove 1 "
                                        "word, then save again")
    assert saved_text(bid, opportunity) == ""


def test_a_draft_after_the_deadline_is_refused_with_the_reason(signed_in, bid, opportunity):
    token = signed_in.csrf_token(url(opportunity, answer_path(opportunity)))
    close(opportunity)

    response = signed_in.post(draft_url(opportunity), data={"text": DRAFT, "version": version_of(bid),
                                                            "csrf_token": token})

    assert response.status_code == 422 and "deadline" in response.json["message"]
    assert saved_text(bid, opportunity) == ""


def test_a_draft_leaves_the_session_alone(signed_in, bid, opportunity):
    response = autosave(signed_in, opportunity, DRAFT, version_of(bid))

    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    with signed_in.session_transaction() as session:
        assert "_flashes" not in session


def test_a_draft_without_the_csrf_token_is_refused(signed_in, bid, opportunity):
    response = signed_in.post(draft_url(opportunity), data={"text": DRAFT, "version": version_of(bid)})

    assert response.status_code == 400 and saved_text(bid, opportunity) == ""


def test_another_organisations_member_gets_404_and_changes_nothing(client, as_user, bid, opportunity):
    outsider = provider(OrganisationFactory(legal_name="Swale Lunch Clubs"))
    as_user(outsider)
    token = client.csrf_token("/bids")

    response = client.post(draft_url(opportunity), data={"text": DRAFT, "version": version_of(bid),
                                                         "csrf_token": token})

    assert response.status_code == 404 and saved_text(bid, opportunity) == ""


def test_the_answer_page_offers_the_background_save_only_while_the_bid_can_be_changed(signed_in, bid, opportunity):
    page = signed_in.get(url(opportunity, answer_path(opportunity))).get_data(as_text=True)
    assert f'data-autosave-url="{draft_url(opportunity)}"' in page and "js/autosave.js" in page

    close(opportunity)

    assert "data-autosave-url" not in signed_in.get(url(opportunity, answer_path(opportunity))).get_data(as_text=True)


def test_a_published_opportunitys_questions_are_read_once_per_process_and_each_save_sends_a_handful_of_statements(
        signed_in, bid, opportunity):
    """Its lots, models and criteria cannot change once it is published; the bid and the opportunity's state and
    deadline are read on every save."""
    version = autosave(signed_in, opportunity, DRAFT, version_of(bid)).json["version"]
    with statements_sent() as sent:
        response = autosave(signed_in, opportunity, DRAFT + " again", str(version))

    assert response.json["saved"] is True and saved_text(bid, opportunity) == DRAFT + " again"
    saving = sent[max(n for n, s in enumerate(sent) if "FROM users" in s):]  # after the page giving the token
    assert not [s for s in saving if "FROM criteria" in s or "FROM lots" in s]
    assert [s for s in saving if "FROM bids JOIN opportunities" in s]
    # the user; the bid with its opportunity; the version moved on and the answer (one statement on PostgreSQL);
    # the audit chain's lock and last hash; the event
    sent_for_the_save = [s for s in saving if not s.lstrip().upper().startswith(("SAVEPOINT", "RELEASE"))]
    assert len(sent_for_the_save) == (5 if db.engine.dialect.name == "postgresql" else 6)
