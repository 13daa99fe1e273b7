"""Writes to the audit and access logs. Every other app's services call ``audit_record``."""

import json
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import connection, models, transaction
from django.utils import timezone

from probity.audit import chain
from probity.audit.models import AccessLogEntry, AuditEntry
from probity.core.context import current_request_id

# An arbitrary, fixed key for PostgreSQL's transaction-level advisory lock on the chain.
_CHAIN_LOCK_KEY = 7_246_315_001

_SECRET_FIELDS = {"password", "token_hash", "key", "secret"}


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.isoformat(timespec="microseconds")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    return str(value)


def _jsonable(value: Any) -> Any:
    """What the database will give back: hashing must see exactly what is stored.

    Datetimes become ISO 8601 in UTC to the microsecond, dates ISO 8601, decimals and UUIDs
    strings; then :func:`chain.normalise` makes the JSON read back the same from SQLite and
    PostgreSQL.
    """
    return chain.normalise(json.loads(json.dumps(value, default=_json_default, ensure_ascii=False)))


def _text(value: str, max_length: int) -> str:
    return chain.clean_text(str(value))[:max_length]


def snapshot(instance: models.Model, fields: list[str] | None = None) -> dict[str, Any]:
    """The concrete field values of a model instance, foreign keys as ids, secrets left out."""
    data: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if fields is not None and field.name not in fields:
            continue
        if field.name in _SECRET_FIELDS:
            continue
        data[field.attname if field.is_relation else field.name] = field.value_from_object(instance)
    return _jsonable(data)


def _lock_chain() -> None:
    """Serialise appends until the caller's transaction ends, so the chain never forks.

    PostgreSQL: a transaction-level advisory lock; the read of the last entry that follows
    is a new statement and so sees every append committed before the lock was granted (READ
    COMMITTED, the default isolation: do not run services under REPEATABLE READ). SQLite:
    the IMMEDIATE transaction (``transaction_mode`` in settings) already holds the database's
    write lock. Either way the unique ``seq`` is the last line of defence.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])


def audit_record(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    before: Any = None,
    after: Any = None,
) -> AuditEntry:
    """Append one entry to the chain, inside the caller's transaction."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)
    actor_id = actor.pk if actor is not None and actor.is_authenticated else None
    actor_label = actor.get_username() if actor_id is not None else "system"
    before, after = _jsonable(before), _jsonable(after)
    # What is hashed is exactly what the columns can hold on either database.
    texts = {
        "actor_label": _text(actor_label, 150),
        "action": _text(action, 100),
        "object_type": _text(object_type, 100),
        "object_id": _text(object_id, 100),
        "object_repr": _text(object_repr, 300),
        "request_id": _text(current_request_id(), 64),
    }
    with transaction.atomic():
        _lock_chain()
        last = AuditEntry.objects.order_by("-seq").values("seq", "entry_hash").first()
        seq = (last["seq"] + 1) if last else 1
        prev_hash = last["entry_hash"] if last else chain.GENESIS_HASH
        fields = {
            "seq": seq,
            "at": timezone.now(),
            "actor_id": actor_id,
            **texts,
            "before": before,
            "after": after,
            "prev_hash": prev_hash,
        }
        return AuditEntry.objects.create(**fields, entry_hash=chain.entry_hash(**fields))


def access_record(*, user, object_type: str, object_id: str, purpose: str = "") -> AccessLogEntry:
    """Note that ``user`` has seen a sensitive record."""
    return AccessLogEntry.objects.create(
        at=timezone.now(),
        user=user if user is not None and user.is_authenticated else None,
        object_type=_text(object_type, 100),
        object_id=_text(object_id, 100),
        purpose=_text(purpose, 100),
        request_id=_text(current_request_id(), 64),
    )
