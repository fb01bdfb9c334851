"""Clarification use cases: ask, answer (publicly with the asker hidden, or privately), list what a viewer may see.

Who may do what is decided by the small pure functions at the top (`can_*`, `*_refusal`), which the views and
templates use to decide what to show and the use cases use to decide what to allow.
"""

from __future__ import annotations

import smtplib
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app, url_for
from sqlalchemy.orm import joinedload

from marketplace import audit
from marketplace.accounts.models import User
from marketplace.clarifications.models import PRIVATE, PUBLIC, VISIBILITIES, Question
from marketplace.email import send_email
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.links import absolute_url
from marketplace.opportunities import lifecycle
from marketplace.opportunities.models import Opportunity, Watch
from marketplace.organisations.models import Membership
from marketplace.timeutil import format_london, utcnow

COUNCIL_STAFF_ROLES = frozenset({lifecycle.COMMISSIONER, lifecycle.PROCUREMENT_OFFICER})
PRIVATE_REASON = "The answer would reveal the asking organisation's own solution"


# Rules (pure: plain attributes in, bool or message out) ------------------------------------------------

def _signed_in(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def is_council_staff(user: Any) -> bool:
    """Commissioners and procurement officers see every question and its asker."""
    return _signed_in(user) and bool(frozenset(getattr(user, "roles", ())) & COUNCIL_STAFF_ROLES)


def asking_organisation_id(user: Any) -> int | None:
    """The organisation a user asks for: a provider's own; None for staff and people with no organisation."""
    if not _signed_in(user) or getattr(user, "is_staff", False):
        return None
    membership = getattr(user, "membership", None)
    return membership.organisation_id if membership is not None else None


def can_ask(user: Any) -> bool:
    return asking_organisation_id(user) is not None


def _uk(moment: datetime) -> str:
    return f"{format_london(moment)} (UK time)"


def ask_refusal(opportunity: Any, now: datetime) -> str | None:
    """Why no question can be asked now, or None while questions are open."""
    state = lifecycle.effective_state(opportunity.status, opportunity.submission_deadline, now)
    deadline = opportunity.clarification_deadline or opportunity.submission_deadline
    if deadline is not None and now >= deadline:
        return f"Questions closed on {_uk(deadline)}. You can no longer ask a question about this opportunity."
    if state != lifecycle.PUBLISHED:
        return (f"This opportunity is {lifecycle.STATE_LABELS.get(state, state).lower()}, "
                "so you can no longer ask a question about it.")
    return None


def answer_refusal(opportunity: Any, now: datetime) -> str | None:
    """Why no question can be answered now: answers are still published after the clarification deadline,
    but not once bids are due."""
    deadline = opportunity.submission_deadline
    if deadline is not None and now >= deadline:
        return f"The submission deadline passed on {_uk(deadline)}, so questions can no longer be answered."
    if opportunity.status != lifecycle.PUBLISHED:
        label = lifecycle.STATE_LABELS.get(opportunity.status, opportunity.status).lower()
        return f"This opportunity is {label}, so questions can no longer be answered."
    return None


# Reading ------------------------------------------------------------------------------------------------

def visible_questions_query(opportunity: Opportunity, user: Any) -> sa.Select:
    """One query for the questions this viewer may read. Staff: all, answered first. Others: published answers,
    plus their own organisation's private ones, in the order they were answered."""
    statement = sa.select(Question).where(Question.opportunity_id == opportunity.id)
    if is_council_staff(user):
        return statement.order_by(Question.answered_at.is_(None), Question.answered_at, Question.asked_at,
                                  Question.id)
    readable = Question.visibility == PUBLIC
    own = asking_organisation_id(user)
    if own is not None:
        readable = sa.or_(readable, sa.and_(Question.visibility == PRIVATE, Question.organisation_id == own))
    return (statement.where(Question.answered_at.is_not(None), readable)
            .order_by(Question.answered_at, Question.id))


def visible_questions(opportunity, user) -> list:
    """Questions with answers this viewer may read: public answers for everyone, private ones for the asker's
    organisation, and every question for council staff."""
    return list(db.session.execute(visible_questions_query(opportunity, user)).scalars())


def organisation_questions_query(opportunity: Opportunity, organisation_id: int) -> sa.Select:
    """The asking organisation's own questions on an opportunity, newest first."""
    return (sa.select(Question)
            .where(Question.opportunity_id == opportunity.id, Question.organisation_id == organisation_id)
            .order_by(Question.asked_at.desc(), Question.id.desc()))


def staff_questions_query(opportunity: Opportunity) -> sa.Select:
    """Every question on an opportunity with its asker, unanswered first, oldest first."""
    return (sa.select(Question).options(joinedload(Question.organisation))
            .where(Question.opportunity_id == opportunity.id)
            .order_by(Question.answered_at.is_not(None), Question.asked_at, Question.id))


def question_counts(opportunity: Opportunity) -> dict[str, int]:
    total, unanswered = db.session.execute(
        sa.select(sa.func.count(Question.id),
                  sa.func.count(Question.id).filter(Question.answered_at.is_(None)))
        .where(Question.opportunity_id == opportunity.id)
    ).one()
    return {"total": total, "unanswered": unanswered}


def get_question(opportunity: Opportunity, question_id: int) -> Question | None:
    return db.session.execute(
        sa.select(Question).options(joinedload(Question.organisation))
        .where(Question.id == question_id, Question.opportunity_id == opportunity.id)
    ).scalar_one_or_none()


def opportunity_url(opportunity: Opportunity, external: bool = False) -> str:
    """The public opportunity page's Q&A section, or this feature's Q&A page in a build without it."""
    build = absolute_url if external else url_for
    if "opportunities.detail" in current_app.view_functions:
        return build("opportunities.detail", opportunity_id=opportunity.id, _anchor="questions")
    return build("clarifications.questions", opportunity_id=opportunity.id)


# Use cases ----------------------------------------------------------------------------------------------

def _lock_opportunity(opportunity: Opportunity) -> Opportunity:
    """Re-read the opportunity's state and deadlines inside this transaction; on PostgreSQL, hold a shared lock
    so an amendment cannot move a deadline between the check and the commit."""
    return db.session.execute(
        sa.select(Opportunity).where(Opportunity.id == opportunity.id)
        .with_for_update(read=True).execution_options(populate_existing=True)
    ).scalar_one()


def _refuse_if(refusal: str | None) -> None:
    """End the transaction (releasing the lock) and refuse with the rule's message."""
    if refusal:
        db.session.rollback()
        raise DomainError(refusal)


def ask_question(user: User, opportunity: Opportunity, text: str) -> Question:
    organisation_id = asking_organisation_id(user)
    if organisation_id is None:
        raise DomainError("Only members of a registered provider organisation can ask questions.")
    opportunity = _lock_opportunity(opportunity)
    _refuse_if(ask_refusal(opportunity, utcnow()))
    question = Question(opportunity_id=opportunity.id, organisation_id=organisation_id, asked_by_id=user.id,
                        text=text, asked_at=utcnow())
    db.session.add(question)
    db.session.flush()
    audit.record("clarification.asked", "question", question.id, actor=user,
                 details={"opportunity_id": opportunity.id, "organisation_id": organisation_id})
    db.session.commit()
    _notify_commissioner(opportunity)
    return question


def answer_question(user: User, question: Question, answer: str, published_text: str, visibility: str,
                    confirmed_private: bool = False) -> Question:
    """Answer once: publish to everyone (the asker hidden) or, when confirmed that it would reveal the asker's
    own solution, privately to the asking organisation."""
    if not is_council_staff(user):
        raise DomainError("Only commissioners and procurement officers can answer questions.")
    if visibility not in VISIBILITIES:
        raise DomainError("Select whether to publish the answer or send it privately", "visibility")
    if visibility == PRIVATE and not confirmed_private:
        raise DomainError("Confirm the answer would reveal the asking organisation's own solution, or publish it "
                          "to everyone", "confirm_private")
    opportunity = _lock_opportunity(question.opportunity)
    now = utcnow()
    _refuse_if(answer_refusal(opportunity, now))
    updated = db.session.execute(
        sa.update(Question).where(Question.id == question.id, Question.answered_at.is_(None))
        .values(answer=answer, published_text=published_text, visibility=visibility, answered_by_id=user.id,
                answered_at=now)
        .execution_options(synchronize_session=False)
    )
    if updated.rowcount != 1:
        db.session.rollback()
        raise DomainError("This question has already been answered.")
    db.session.refresh(question)
    audit.record("clarification.answered", "question", question.id, actor=user,
                 details={"opportunity_id": opportunity.id, "visibility": visibility,
                          "wording_edited": published_text != question.text,
                          "reason": PRIVATE_REASON if visibility == PRIVATE else None})
    db.session.commit()
    _notify_answer(opportunity, question)
    return question


# Email --------------------------------------------------------------------------------------------------

def _active(statement: sa.Select) -> sa.Select:
    return statement.where(User.deactivated_at.is_(None)).order_by(User.email)


def organisation_emails(organisation_id: int) -> list[str]:
    return list(db.session.execute(_active(
        sa.select(User.email).join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id == organisation_id)
    )).scalars())


def watcher_emails(opportunity: Opportunity) -> list[str]:
    return list(db.session.execute(_active(
        sa.select(User.email).join(Watch, Watch.user_id == User.id).where(Watch.opportunity_id == opportunity.id)
    )).scalars())


def _send_each(addresses: list[str], subject: str, template: str, **context) -> None:
    """Send one email per person; one failed delivery is logged and does not stop the rest."""
    for address in addresses:
        try:
            send_email(address, subject, template, **context)
        except (smtplib.SMTPException, OSError):
            current_app.logger.exception("Could not send %s email to %s", template, address)


def _notify_commissioner(opportunity: Opportunity) -> None:
    creator = db.session.get(User, opportunity.created_by_id) if opportunity.created_by_id else None
    if creator is None or creator.deactivated_at is not None:
        return
    _send_each([creator.email], f"New question about {opportunity.reference}: {opportunity.title}",
               "clarification_asked", opportunity=opportunity,
               link=absolute_url("clarifications.staff_list", opportunity_id=opportunity.id))


def _notify_answer(opportunity: Opportunity, question: Question) -> None:
    """The asking organisation hears about its answer; when published, everyone who saved the opportunity hears
    too, without being told who asked."""
    askers = organisation_emails(question.organisation_id)
    link = opportunity_url(opportunity, external=True)
    _send_each(askers, f"Your question about {opportunity.reference} has been answered",
               "clarification_answered_yours", opportunity=opportunity, question=question, link=link)
    if question.visibility == PUBLIC:
        already_told = set(askers)
        others = [email for email in watcher_emails(opportunity) if email not in already_told]
        _send_each(others, f"New answer to a question about {opportunity.reference}",
                   "clarification_answered", opportunity=opportunity, question=question, link=link)
