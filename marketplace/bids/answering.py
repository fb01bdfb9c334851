"""Saving one written answer: the answer page's Save buttons, and its background save every few seconds while
the bidder types (static/js/autosave.js).

The same rules as every other section's save (bids.preparation): the bidder's organisation only; refused once
the bid cannot change (preparation.edit_refusal: the deadline by the server clock, the opportunity's state, the
bid's status); refused when a colleague saved the bid after the page was loaded (the version); only a question
this bid is asked (preparation.questions, over the lots it bids for); the word limit; an audit event naming the
section, never its text; the clock checked again before the commit.

Because a page saves while its user types, this save reads only the columns those rules need, in plain
statements, not the bid and opportunity as objects: the bid with its opportunity's state, deadline and version in
one row (the opportunity under a shared lock, on PostgreSQL), and a published opportunity's lots and criteria once
per process (they cannot change once it is published). It then moves the bid's version on in an UPDATE that names
the version it checked, so that a colleague's save committed in between makes it fail (stale), and writes the
answer: on PostgreSQL both in one statement.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Callable

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.util import identity_key

from marketplace import audit
from marketplace.bids import permissions
from marketplace.bids.models import Bid, BidAnswer
from marketplace.bids.preparation import (
    ANSWER_MAX_CHARS,
    NotABidder,
    StaleBid,
    answer_question,
    commit_keeping_loaded,
    edit_refusal,
    late_message,
    word_limit_error,
)
from marketplace.errors import DomainError
from marketplace.extensions import db, on_postgresql
from marketplace.opportunities import lifecycle
from marketplace.opportunities.models import Criterion, EvaluationModel, Lot, Opportunity
from marketplace.timeutil import utcnow

NOT_ASKED = "This question is not part of your bid. Check the lots you are bidding for."


class NotAsked(DomainError):
    """The criterion is not one this bid answers (another opportunity's, or a lot the bid does not name)."""

    def __init__(self):
        super().__init__(NOT_ASKED)


@dataclass(frozen=True)
class Saved:
    """What the page needs after a save: the bid's new version (for its next save) and when it was saved."""

    version: int
    saved_at: datetime


# The facts the rules read, as plain values with the attribute names of the models they stand for -----------

@dataclass(frozen=True)
class _Bid:
    id: int
    organisation_id: int
    status: str
    version: int
    lot_ids: list
    updated_at: datetime


@dataclass(frozen=True)
class _Lot:
    id: int
    number: int


@dataclass
class _Model:
    lot_id: int | None
    criteria: list = field(default_factory=list)


@dataclass(frozen=True)
class _Criterion:
    id: int
    kind: str
    title: str
    word_limit: int | None
    model: _Model = field(repr=False, compare=False)  # its model, which lists it in turn


@dataclass(frozen=True)
class _Opportunity:
    id: int
    status: str
    submission_deadline: datetime | None
    lots: list[_Lot] = field(default_factory=list)
    models: list[_Model] = field(default_factory=list)


_BIDS, _OPPORTUNITIES = Bid.__table__.c, Opportunity.__table__.c
_MODELS, _CRITERIA, _LOTS = EvaluationModel.__table__.c, Criterion.__table__.c, Lot.__table__.c
_BID_AND_OPPORTUNITY = (
    sa.select(_BIDS.id, _BIDS.organisation_id, _BIDS.status, _BIDS.version, _BIDS.lot_ids, _BIDS.updated_at,
              _OPPORTUNITIES.status.label("opportunity_status"), _OPPORTUNITIES.submission_deadline,
              _OPPORTUNITIES.version.label("opportunity_version"))
    .join(Opportunity.__table__, _OPPORTUNITIES.id == _BIDS.opportunity_id)
    .where(_BIDS.opportunity_id == sa.bindparam("opportunity_id"),
           _BIDS.organisation_id == sa.bindparam("organisation_id")))
_LOCKED_BID_AND_OPPORTUNITY = _BID_AND_OPPORTUNITY.with_for_update(read=True, of=Opportunity.__table__)
_LOTS_OF = sa.select(_LOTS.id, _LOTS.number).where(_LOTS.opportunity_id == sa.bindparam("opportunity_id"))
_CRITERIA_OF = (sa.select(_MODELS.id.label("model_id"), _MODELS.lot_id, _CRITERIA.id, _CRITERIA.kind, _CRITERIA.title,
                          _CRITERIA.word_limit)
                .join(Criterion.__table__, _CRITERIA.model_id == _MODELS.id)
                .where(_MODELS.opportunity_id == sa.bindparam("opportunity_id"))
                .order_by(_MODELS.id, _CRITERIA.position, _CRITERIA.id))
_MOVE_VERSION_ON = (sa.update(Bid.__table__)
                    .where(_BIDS.id == sa.bindparam("bid_id"), _BIDS.version == sa.bindparam("expected"))
                    .values(version=_BIDS.version + 1, updated_at=sa.bindparam("now"),
                            updated_by_id=sa.bindparam("user_id")))


def _upsert_answer(insert: Callable, rows: Any = None) -> Any:
    """Insert the answer, or replace its text: from the parameters, or (`rows`) from a SELECT."""
    statement = insert(BidAnswer.__table__)
    if rows is not None:
        statement = statement.from_select(["bid_id", "criterion_id", "text", "updated_at"], rows)
    return statement.on_conflict_do_update(index_elements=["bid_id", "criterion_id"],
                                           set_={"text": statement.excluded.text,
                                                 "updated_at": statement.excluded.updated_at})


# SQLite: the version moved on, then the answer. PostgreSQL: both in one statement, the answer written only when the
# version moved on (a data-modifying WITH), so no row written means a colleague's save came first.
_UPSERT_ANSWER = _upsert_answer(sqlite.insert)
_MOVED = _MOVE_VERSION_ON.returning(_BIDS.id).cte("moved")
_MOVE_VERSION_ON_AND_UPSERT_ANSWER = _upsert_answer(postgresql.insert, sa.select(
    _MOVED.c.id, sa.bindparam("criterion_id", type_=sa.Integer), sa.bindparam("text", type_=sa.Text),
    sa.bindparam("updated_at", type_=BidAnswer.__table__.c.updated_at.type))).returning(BidAnswer.__table__.c.id)
# An opportunity's lots, evaluation models and criteria are fixed once it is published (only a draft's can be
# edited; an amendment moves the deadline and says what changed), so each process keeps them for the published
# opportunities it has seen, by id and version. Bounded: emptied when full.
_STRUCTURES = "bids.answering.structures"
_STRUCTURES_MAX = 2048


def _execute(statement, parameters: dict):
    return db.session.connection().execute(statement, parameters)


def _read(opportunity_id: int, organisation_id: int) -> Any:
    """The bid's row, with its opportunity's state, deadline and version; None when the organisation has none."""
    statement = _LOCKED_BID_AND_OPPORTUNITY if on_postgresql() else _BID_AND_OPPORTUNITY
    return _execute(statement, {"opportunity_id": opportunity_id, "organisation_id": organisation_id}).one_or_none()


def _structure(opportunity_id: int, row: Any) -> tuple[list[_Lot], list[_Model]]:
    """The opportunity's lots and models: a published one's from this process's store."""
    key = (opportunity_id, row.opportunity_version)
    store = current_app.extensions.setdefault(_STRUCTURES, {})
    structure = store.get(key)
    if structure is None:
        structure = _lots_and_models(opportunity_id)
        if row.opportunity_status == lifecycle.PUBLISHED:
            if len(store) >= _STRUCTURES_MAX:
                store.clear()
            store[key] = structure
    return structure


def _lots_and_models(opportunity_id: int) -> tuple[list[_Lot], list[_Model]]:
    lots = [_Lot(row.id, row.number) for row in _execute(_LOTS_OF, {"opportunity_id": opportunity_id})]
    models: dict[int, _Model] = {}
    for row in _execute(_CRITERIA_OF, {"opportunity_id": opportunity_id}):
        model = models.setdefault(row.model_id, _Model(row.lot_id))
        model.criteria.append(_Criterion(row.id, row.kind, row.title, row.word_limit, model))
    return lots, list(models.values())


def _answer_error(question: Any, text: str) -> DomainError | None:
    if not text:
        return DomainError("Enter your answer", "text")
    if len(text) > ANSWER_MAX_CHARS:
        return DomainError(f"Your answer must be {ANSWER_MAX_CHARS:,} characters or fewer", "text")
    return word_limit_error(text, question.criterion.word_limit)


def _checked(user: Any, opportunity_id: int, criterion_id: int, text: str, version: int
             ) -> tuple[_Bid, _Opportunity]:
    """The bid and its opportunity, once every rule allows this save; the refusal otherwise."""
    organisation_id = permissions.organisation_id(user)
    row = _read(opportunity_id, organisation_id) if organisation_id is not None else None
    if row is None:
        raise NotABidder()
    bid = _Bid(row.id, row.organisation_id, row.status, row.version, row.lot_ids or [], row.updated_at)
    opportunity = _Opportunity(opportunity_id, row.opportunity_status, row.submission_deadline)
    if refusal := edit_refusal(bid, opportunity, utcnow()):
        raise DomainError(refusal)
    if version != bid.version:
        raise StaleBid(bid.updated_at, "text")
    lots, models = _structure(opportunity_id, row)
    opportunity = replace(opportunity, lots=lots, models=models)
    question = answer_question(opportunity, bid, criterion_id)
    if question is None:
        raise NotAsked()
    if error := _answer_error(question, text):
        raise error
    return bid, opportunity


def _write(user: Any, bid: _Bid, criterion_id: int, text: str, now: datetime) -> None:
    parameters = {"bid_id": bid.id, "expected": bid.version, "now": now, "user_id": user.id,
                  "criterion_id": criterion_id, "text": text, "updated_at": now}
    if on_postgresql():
        written = len(_execute(_MOVE_VERSION_ON_AND_UPSERT_ANSWER, parameters).all())
    else:
        written = _execute(_MOVE_VERSION_ON, parameters).rowcount
        if written:
            _execute(_UPSERT_ANSWER, parameters)
    if written != 1:  # a colleague's save committed after this one read the bid
        raise StaleBid(None, "text")


def save_answer(user: Any, opportunity_id: int, criterion_id: int, text: str, version: int) -> Saved:
    """Save the user's organisation's answer to one question of its bid for the opportunity, if the page's
    `version` is still the bid's. Raises NotABidder (no such bid for this user: 404), NotAsked, StaleBid, or a
    DomainError saying why, and then nothing is stored."""
    text = (text or "").strip()
    try:
        bid, opportunity = _checked(user, opportunity_id, criterion_id, text, version)
        now = utcnow()
        _write(user, bid, criterion_id, text, now)
        audit.record("bid.section_saved", "bid", bid.id, actor=user, details={"section": f"answer-{criterion_id}"})
        if not permissions.can_prepare(user, bid, opportunity.submission_deadline, utcnow()):
            raise DomainError(late_message(opportunity))
    except DomainError:
        db.session.rollback()
        raise
    commit_keeping_loaded()
    _forget_loaded(bid.id)
    return Saved(bid.version + 1, now)


def _forget_loaded(bid_id: int) -> None:
    """A copy of the bid the request loaded (the Save buttons' page) is now out of date: read it again if used."""
    loaded = db.session.identity_map.get(identity_key(Bid, bid_id))
    if loaded is not None:
        db.session.expire(loaded)
