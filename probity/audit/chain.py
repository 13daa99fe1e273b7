"""The hash chain: canonical content of an entry and its SHA-256. Pure functions."""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64


def canonical(
    *,
    seq: int,
    at: datetime,
    actor_id: int | None,
    actor_label: str,
    action: str,
    object_type: str,
    object_id: str,
    object_repr: str,
    before: Any,
    after: Any,
    request_id: str,
    prev_hash: str,
) -> bytes:
    """Sorted-key, compact JSON of everything an entry says, times in UTC microseconds."""
    document = {
        "seq": seq,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": actor_id,
        "actor_label": actor_label,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "object_repr": object_repr,
        "before": before,
        "after": after,
        "request_id": request_id,
        "prev_hash": prev_hash,
    }
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode("utf-8")


def entry_hash(**fields) -> str:
    return hashlib.sha256(canonical(**fields)).hexdigest()


@dataclass(frozen=True)
class ChainProblem:
    seq: int | None
    message: str


@dataclass(frozen=True)
class ChainReport:
    count: int
    head_hash: str
    problem: ChainProblem | None

    @property
    def ok(self) -> bool:
        return self.problem is None
