"""The audit log: append-only and hash-chained, so tampering shows.

Each event's hash is SHA-256 over the previous event's hash and the event's own canonical content.
`record()` adds the event to the caller's session so it commits in the same transaction as the change it
describes. `verify_chain()` is pure and reports the first broken link.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.dbtypes import UTCDateTime
from marketplace.extensions import db, hold_until_commit
from marketplace.timeutil import as_utc, utcnow

GENESIS = "0" * 64
# A fixed key for PostgreSQL's transaction-scoped advisory lock that serialises appends to the chain.
_CHAIN_LOCK_KEY = 0x4B434D41  # "KCMA"


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    actor_id: Mapped[int | None] = mapped_column(sa.Integer, index=True)
    actor_label: Mapped[str] = mapped_column(sa.String(320), nullable=False)
    action: Mapped[str] = mapped_column(sa.String(80), nullable=False, index=True)
    object_type: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    object_id: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    details: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)
    prev_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    hash: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)

    __table_args__ = (sa.Index("ix_audit_events_object", "object_type", "object_id"),)


@dataclass(frozen=True)
class EventContent:
    """The fields an event's hash covers, in a form independent of the database."""

    occurred_at: datetime
    actor_id: int | None
    actor_label: str
    action: str
    object_type: str
    object_id: str
    details: dict
    prev_hash: str
    hash: str = ""

    @classmethod
    def of(cls, event: AuditEvent) -> "EventContent":
        return cls(as_utc(event.occurred_at), event.actor_id, event.actor_label, event.action,
                   event.object_type, event.object_id, event.details or {}, event.prev_hash, event.hash)


def canonical(content: EventContent) -> bytes:
    body = {
        "occurred_at": as_utc(content.occurred_at).isoformat(timespec="microseconds"),
        "actor_id": content.actor_id,
        "actor_label": content.actor_label,
        "action": content.action,
        "object_type": content.object_type,
        "object_id": content.object_id,
        "details": content.details,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def compute_hash(content: EventContent) -> str:
    return hashlib.sha256(content.prev_hash.encode() + canonical(content)).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_at: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify_chain(events: Iterable[tuple[int, EventContent]]) -> ChainReport:
    """Walk events in id order; report the first whose link or content does not match."""
    expected_prev = GENESIS
    checked = 0
    for event_id, content in events:
        if content.prev_hash != expected_prev:
            return ChainReport(checked, event_id, "its previous-hash does not match the event before it")
        if compute_hash(content) != content.hash:
            return ChainReport(checked, event_id, "its content does not match its hash")
        expected_prev = content.hash
        checked += 1
    return ChainReport(checked)


def _lock_chain() -> None:
    hold_until_commit(_CHAIN_LOCK_KEY)


def _last_hash() -> str:
    last = db.session.execute(
        sa.select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).scalar_one_or_none()
    return last or GENESIS


def _jsonable(details: dict[str, Any] | None) -> dict:
    return json.loads(json.dumps(details or {}, default=str))


def record(action: str, obj_type: str, obj_id: Any, actor: Any = None,
           details: dict[str, Any] | None = None) -> AuditEvent:
    """Append an event to the chain within the current transaction (the caller commits)."""
    db.session.flush()
    _lock_chain()
    actor_id = getattr(actor, "id", None)
    actor_label = getattr(actor, "email", None) or (str(actor) if actor else "system")
    content = EventContent(utcnow(), actor_id, actor_label, action, obj_type, str(obj_id),
                           _jsonable(details), _last_hash())
    event = AuditEvent(occurred_at=content.occurred_at, actor_id=actor_id, actor_label=actor_label,
                       action=action, object_type=obj_type, object_id=str(obj_id),
                       details=content.details, prev_hash=content.prev_hash, hash=compute_hash(content))
    db.session.add(event)
    db.session.flush()
    return event


def verify_database(batch: int = 1000) -> ChainReport:
    """Check the whole stored chain, streaming in id order."""
    rows = db.session.execute(sa.select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=batch))
    return verify_chain((event.id, EventContent.of(event)) for event in rows.scalars())

