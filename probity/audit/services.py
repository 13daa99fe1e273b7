"""Writes to the audit and access logs. Every other app's services call ``audit_record``."""

import json
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from probity.audit import chain
from probity.audit.models import AccessLogEntry, AuditEntry
from probity.core.context import current_request_id

# An arbitrary, fixed key for PostgreSQL's transaction-level advisory lock on the chain.
_CHAIN_LOCK_KEY = 7_246_315_001

_SECRET_FIELDS = {"password", "token_hash", "key", "secret"}


def _jsonable(value: Any) -> Any:
    """What the database will give back: hashing must see exactly what is stored."""
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


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
    # SQLite: the IMMEDIATE transaction already holds the database's write lock.
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
        object_repr = object_repr or str(obj)[:300]
    actor_id = actor.pk if actor is not None and actor.is_authenticated else None
    actor_label = actor.get_username() if actor_id is not None else "system"
    before, after = _jsonable(before), _jsonable(after)
    with transaction.atomic():
        _lock_chain()
        last = AuditEntry.objects.order_by("-seq").values("seq", "entry_hash").first()
        seq = (last["seq"] + 1) if last else 1
        prev_hash = last["entry_hash"] if last else chain.GENESIS_HASH
        fields = {
            "seq": seq,
            "at": timezone.now(),
            "actor_id": actor_id,
            "actor_label": actor_label,
            "action": action,
            "object_type": object_type,
            "object_id": str(object_id),
            "object_repr": object_repr[:300],
            "before": before,
            "after": after,
            "request_id": current_request_id(),
            "prev_hash": prev_hash,
        }
        return AuditEntry.objects.create(**fields, entry_hash=chain.entry_hash(**fields))


def access_record(*, user, object_type: str, object_id: str, purpose: str = "") -> AccessLogEntry:
    """Note that ``user`` has seen a sensitive record."""
    return AccessLogEntry.objects.create(
        at=timezone.now(),
        user=user if user is not None and user.is_authenticated else None,
        object_type=object_type,
        object_id=str(object_id),
        purpose=purpose,
        request_id=current_request_id(),
    )
