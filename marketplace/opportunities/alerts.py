"""Keeping up with opportunities: saved searches with a daily email digest, and saved (watched) opportunities.

Use cases take explicit arguments, run in one transaction and write their audit event in it. `flask send-alerts`
(run daily from cron) emails each person one digest of the opportunities published since their last alert
that match their saved searches, then records when they were alerted, so running it again sends nothing new.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import click
import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.exc import IntegrityError

from marketplace import audit
from marketplace.accounts import permissions as account_perms
from marketplace.accounts.models import User
from marketplace.email import send_email
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.links import absolute_url, base_url_option, links_from
from marketplace.opportunities import permissions
from marketplace.opportunities.models import Opportunity, SavedSearch, Watch
from marketplace.opportunities.search import SearchCriteria, pounds, public_condition, search_statement
from marketplace.settings import services as settings
from marketplace.timeutil import utcnow

NAME_MAX = 120
MAX_SAVED_SEARCHES = 20
DIGEST_LIMIT = 25  # opportunities listed per saved search in one email; the link shows the rest


class NotAllowed(DomainError):
    """Only provider users keep saved searches and saved opportunities (the view answers 403)."""


def _require_provider(user: Any) -> None:
    if not account_perms.is_provider(user):
        raise NotAllowed("Only provider users can save searches and opportunities.")


# Saved searches -----------------------------------------------------------------------------------------

def saved_searches_query(user: Any) -> sa.Select:
    return (sa.select(SavedSearch).where(SavedSearch.user_id == user.id)
            .order_by(SavedSearch.created_at.desc(), SavedSearch.id.desc()))


def get_saved_search(user: Any, saved_search_id: int) -> SavedSearch | None:
    """The user's own saved search; someone else's is None, as if it did not exist."""
    return db.session.execute(
        sa.select(SavedSearch).where(SavedSearch.id == saved_search_id, SavedSearch.user_id == user.id)
    ).scalar_one_or_none()


def _name_taken(user: Any, name: str) -> bool:
    return db.session.execute(
        sa.select(sa.func.count(SavedSearch.id))
        .where(SavedSearch.user_id == user.id, sa.func.lower(SavedSearch.name) == name.lower())
    ).scalar_one() > 0


def _saved_count(user: Any) -> int:
    return db.session.execute(
        sa.select(sa.func.count(SavedSearch.id)).where(SavedSearch.user_id == user.id)).scalar_one()


def save_search(user: Any, name: str, criteria: SearchCriteria) -> SavedSearch:
    """Keep a search under a name; new matches are emailed daily from now on."""
    _require_provider(user)
    name = " ".join((name or "").split())
    if not name:
        raise DomainError("Enter a name for this search", "name")
    if len(name) > NAME_MAX:
        raise DomainError(f"Name must be {NAME_MAX} characters or fewer", "name")
    if _name_taken(user, name):
        raise DomainError(f"You already have a saved search called ‘{name}’. Choose another name.", "name")
    if _saved_count(user) >= MAX_SAVED_SEARCHES:
        raise DomainError(f"You can keep up to {MAX_SAVED_SEARCHES} saved searches. Delete one you no longer "
                          "need, then save this search.", "name")
    saved = SavedSearch(user_id=user.id, name=name, criteria=criteria.to_args(), created_at=utcnow())
    db.session.add(saved)
    db.session.flush()
    audit.record("saved_search.created", "saved_search", saved.id, actor=user,
                 details={"name": name, "criteria": saved.criteria})
    db.session.commit()
    return saved


def delete_search(user: Any, saved: SavedSearch) -> None:
    if saved.user_id != user.id:
        raise NotAllowed("You can only delete your own saved searches.")
    audit.record("saved_search.deleted", "saved_search", saved.id, actor=user, details={"name": saved.name})
    db.session.delete(saved)
    db.session.commit()


def criteria_of(saved: SavedSearch) -> SearchCriteria:
    """The stored criteria, parsed again: a value that is no longer a choice is dropped."""
    return SearchCriteria.from_args(saved.criteria or {})


# Saved opportunities (watches) --------------------------------------------------------------------------

def is_watching(user: Any, opportunity: Opportunity) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return db.session.get(Watch, (user.id, opportunity.id)) is not None


def watch(user: Any, opportunity: Opportunity, now: datetime | None = None) -> Watch:
    """Save a published opportunity; saving it again changes nothing."""
    _require_provider(user)
    now = now or utcnow()
    if not permissions.is_public(opportunity, now):
        raise DomainError("You can only save published opportunities.")
    existing = db.session.get(Watch, (user.id, opportunity.id))
    if existing is not None:
        return existing
    saved = Watch(user_id=user.id, opportunity_id=opportunity.id, created_at=now)
    db.session.add(saved)
    try:
        audit.record("opportunity.watched", "opportunity", opportunity.id, actor=user,
                     details={"reference": opportunity.reference})
        db.session.commit()
    except IntegrityError:  # saved at the same moment from another tab
        db.session.rollback()
        return db.session.get(Watch, (user.id, opportunity.id))
    return saved


def unwatch(user: Any, opportunity: Opportunity) -> None:
    """Remove a saved opportunity; removing one that is not saved changes nothing."""
    existing = db.session.get(Watch, (user.id, opportunity.id))
    if existing is None:
        return
    db.session.delete(existing)
    audit.record("opportunity.unwatched", "opportunity", opportunity.id, actor=user,
                 details={"reference": opportunity.reference})
    db.session.commit()


def watched_query(user: Any, now: datetime) -> sa.Select:
    """The user's saved opportunities, most recently saved first."""
    return (sa.select(Opportunity).join(Watch, Watch.opportunity_id == Opportunity.id)
            .where(Watch.user_id == user.id, public_condition(now))
            .order_by(Watch.created_at.desc(), Opportunity.id.desc()))


# The daily digest ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DigestSection:
    name: str
    description: str
    link: str
    opportunities: tuple[Opportunity, ...]
    more: int  # matches not listed in the email


@dataclass(frozen=True)
class AlertReport:
    emailed: int
    opportunities: int
    failed: int = 0

    def describe(self) -> str:
        sent = f"Sent {self.emailed} digest{'' if self.emailed == 1 else 's'} " \
               f"listing {self.opportunities} new match{'' if self.opportunities == 1 else 'es'}."
        return sent + (f" {self.failed} could not be sent and will be tried again next time." if self.failed else "")


def _new_matches(saved: SavedSearch, now: datetime) -> list[Opportunity]:
    since = saved.last_alerted_at or saved.created_at
    statement = search_statement(criteria_of(saved), now, settings.get("procurement_threshold"))
    return list(db.session.execute(statement.where(Opportunity.published_at > since)).scalars())


def digest_sections(user: Any, now: datetime) -> list[DigestSection]:
    """Per saved search, the opportunities published since its last alert that match it."""
    threshold = settings.get("procurement_threshold")
    sections = []
    for saved in db.session.execute(saved_searches_query(user)).scalars():
        matches = _new_matches(saved, now)
        if matches:
            criteria = criteria_of(saved)
            sections.append(DigestSection(
                saved.name, criteria.describe(threshold),
                absolute_url("opportunities.search", **criteria.to_args()),
                tuple(matches[:DIGEST_LIMIT]), max(len(matches) - DIGEST_LIMIT, 0)))
    return sections


def _alerted(user: Any, now: datetime, sections: list[DigestSection]) -> None:
    """Record the alert: every saved search of the user is up to date as of now."""
    db.session.execute(sa.update(SavedSearch).where(SavedSearch.user_id == user.id)
                       .values(last_alerted_at=now).execution_options(synchronize_session=False))
    if sections:
        audit.record("saved_search.digest_sent", "user", user.id, actor="alerts",
                     details={"searches": [s.name for s in sections],
                              "opportunities": sorted({o.id for s in sections for o in s.opportunities})})
    db.session.commit()


def _send_digest(user: User, sections: list[DigestSection]) -> None:
    count = len({o.id for s in sections for o in s.opportunities})
    send_email(user.email, f"{count} new opportunit{'y' if count == 1 else 'ies'} match your saved searches",
               "alert_digest", user=user, sections=sections, pounds=pounds,
               manage_link=absolute_url("opportunities.saved_searches"),
               link_for=lambda o: absolute_url("opportunities.detail", opportunity_id=o.id))


def _recipients() -> list[User]:
    """Active, verified people with at least one saved search."""
    return list(db.session.execute(
        sa.select(User).where(User.id.in_(sa.select(SavedSearch.user_id)), User.deactivated_at.is_(None),
                              User.email_verified_at.is_not(None), User.is_staff.is_(False))
        .order_by(User.id)).scalars())


def send_alerts(now: datetime | None = None) -> AlertReport:
    """Email each person one digest of new matches, then record the alert. A failed delivery is logged and
    left unrecorded, so the next run tries again; it does not stop the others."""
    now = now or utcnow()
    emailed = listed = failed = 0
    for user in _recipients():
        sections = digest_sections(user, now)
        if sections:
            try:
                _send_digest(user, sections)
            except (smtplib.SMTPException, OSError):
                current_app.logger.exception("Could not send the alert digest to %s", user.email)
                db.session.rollback()
                failed += 1
                continue
            emailed += 1
            listed += len({o.id for s in sections for o in s.opportunities})
        _alerted(user, now, sections)
    return AlertReport(emailed, listed, failed)


# The command --------------------------------------------------------------------------------------------

@click.command("send-alerts")
@base_url_option("the links in the emails")
def send_alerts_command(base_url: str | None) -> None:
    """Email each provider user a digest of new opportunities matching their saved searches (run daily)."""
    with links_from(base_url):
        report = send_alerts()
    click.echo(report.describe())


def init_cli(app: Flask) -> None:
    app.cli.add_command(send_alerts_command)
