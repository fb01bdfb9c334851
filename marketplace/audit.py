"""The audit log: append-only and hash-chained, so tampering shows.

Each event's hash is SHA-256 over the previous event's hash in its chain and the event's own canonical content.
There are CHAINS chains. An event joins the one its object's type and id fall in (chain_of), so every event
about one bid, say, is in one chain, in order. Appending holds that chain's lock until the transaction ends, so
two requests about different objects rarely wait for each other, as they would for a single chain (deadline-day
submissions and the saves of bidders typing). The log from before there were chains is the start of chain 0.
`record()` inserts the event in the caller's transaction, so it commits with the change it describes, or not at
all. `verify_chain()` is pure and reports the first broken link.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.dbtypes import UTCDateTime
from marketplace.extensions import db, on_postgresql
from marketplace.timeutil import as_utc, utcnow

GENESIS = "0" * 64
CHAINS = 64
# PostgreSQL's transaction-scoped advisory locks that serialise appends to each chain: this base, shifted, plus the
# chain's number (above 2**32, so apart from the service's other advisory locks).
_CHAIN_LOCK_BASE = 0x4B434D41 << 8  # "KCMA"


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
    chain: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False, default=0, server_default="0")

    __table_args__ = (sa.Index("ix_audit_events_object", "object_type", "object_id"),
                      sa.Index("ix_audit_events_chain_id", "chain", "id"))


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
    chain: int = 0  # which chain it is in: not hashed (moving an event to another chain breaks both links)

    @classmethod
    def of(cls, event: AuditEvent) -> "EventContent":
        return cls(as_utc(event.occurred_at), event.actor_id, event.actor_label, event.action,
                   event.object_type, event.object_id, event.details or {}, event.prev_hash, event.hash, event.chain)


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
    """Walk events in id order; report the first whose link (to the event before it in its chain) or content
    does not match."""
    last_hashes: dict[int, str] = {}
    checked = 0
    for event_id, content in events:
        if content.prev_hash != last_hashes.get(content.chain, GENESIS):
            return ChainReport(checked, event_id, "its previous-hash does not match the event before it")
        if compute_hash(content) != content.hash:
            return ChainReport(checked, event_id, "its content does not match its hash")
        last_hashes[content.chain] = content.hash
        checked += 1
    return ChainReport(checked)


def chain_of(obj_type: str, obj_id: Any) -> int:
    """The chain an object's events join: the same for every event about it, in every process."""
    return zlib.crc32(f"{obj_type}:{obj_id}".encode()) % CHAINS


_EVENTS = AuditEvent.__table__
_LAST_HASH = (sa.select(_EVENTS.c.hash).where(_EVENTS.c.chain == sa.bindparam("chain"))
              .order_by(_EVENTS.c.id.desc()).limit(1))


_INSERT = sa.insert(_EVENTS)
_FIELDS = tuple(field.name for field in dataclasses.fields(EventContent))


_CHAIN_HEAD = sa.text("SELECT audit_chain_head(:lock_key, :chain)")  # migration 0014


def _lock_and_read_head(chain: int) -> str:
    """Hold the chain's lock until the transaction ends, then read its last hash: on PostgreSQL in one round trip
    (a function that takes the lock, then reads in a query of its own, which sees what committed meanwhile);
    SQLite serialises writers, so there the read is enough."""
    connection = db.session.connection()
    if on_postgresql():
        head = connection.execute(_CHAIN_HEAD, {"lock_key": _CHAIN_LOCK_BASE + chain, "chain": chain}).scalar_one()
    else:
        head = connection.execute(_LAST_HASH, {"chain": chain}).scalar_one_or_none()
    return head or GENESIS


def _jsonable(details: dict[str, Any] | None) -> dict:
    return json.loads(json.dumps(details or {}, default=str))


def record(action: str, obj_type: str, obj_id: Any, actor: Any = None,
           details: dict[str, Any] | None = None) -> EventContent:
    """Append an event to its object's chain within the current transaction (the caller commits). Written with a
    plain INSERT, not as an object the session tracks: the saves made while a bidder types record one each."""
    db.session.flush()
    chain = chain_of(obj_type, obj_id)
    actor_id = getattr(actor, "id", None)
    actor_label = getattr(actor, "email", None) or (str(actor) if actor else "system")
    content = EventContent(utcnow(), actor_id, actor_label, action, obj_type, str(obj_id),
                           _jsonable(details), _lock_and_read_head(chain), chain=chain)
    content = dataclasses.replace(content, hash=compute_hash(content))
    db.session.connection().execute(_INSERT, {name: getattr(content, name) for name in _FIELDS})
    return content


def verify_database(batch: int = 1000) -> ChainReport:
    """Check the whole stored chain, streaming in id order."""
    rows = db.session.execute(sa.select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=batch))
    return verify_chain((event.id, EventContent.of(event)) for event in rows.scalars())

