"""Read and change settings; every change is audited."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from marketplace import audit
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.settings.defaults import BY_KEY, SPECS
from marketplace.settings.models import Setting
from marketplace.timeutil import utcnow


def _parse(spec, raw: str):
    try:
        value = spec.kind(str(raw).strip().replace(",", "").lstrip("£"))
    except (ValueError, InvalidOperation):
        raise DomainError(f"Enter a number for {spec.label.lower()}", spec.key) from None
    if isinstance(value, Decimal) and not value.is_finite():
        raise DomainError(f"Enter a number for {spec.label.lower()}", spec.key)
    if spec.minimum is not None and value < spec.minimum or spec.maximum is not None and value > spec.maximum:
        raise DomainError(f"{spec.label} must be between {spec.minimum} and {spec.maximum}", spec.key)
    return value


def get(key: str):
    """The current value of a setting, or its default."""
    spec = BY_KEY[key]
    row = db.session.get(Setting, key)
    return spec.default if row is None else spec.kind(row.value)


def all_values() -> dict:
    rows = {row.key: row.value for row in db.session.query(Setting).all()}
    return {spec.key: spec.kind(rows[spec.key]) if spec.key in rows else spec.default for spec in SPECS}


def update(admin, values: dict[str, str]) -> dict:
    parsed = {key: _parse(BY_KEY[key], raw) for key, raw in values.items() if key in BY_KEY}
    before = all_values()
    for key, value in parsed.items():
        row = db.session.get(Setting, key) or Setting(key=key)
        row.value, row.updated_at, row.updated_by_id = str(value), utcnow(), admin.id
        db.session.add(row)
    changed = {k: {"from": str(before[k]), "to": str(v)} for k, v in parsed.items() if before[k] != v}
    if changed:
        audit.record("settings.changed", "settings", "global", actor=admin, details=changed)
    db.session.commit()
    return all_values()
