"""The hash chain: canonical content of an entry and its SHA-256. Pure functions.

An entry's hash must come out the same when it is written and whenever it is read back,
on SQLite (JSON kept as text) and on PostgreSQL (``jsonb``, which keeps numbers as
``numeric``). So ``before``/``after`` are reduced by :func:`normalise` to the JSON that both
databases give back unchanged, both when an entry is written and when it is hashed:

* floats of 1e16 and more come back from ``jsonb`` as integers (``1e+16`` is printed
  ``10000000000000000``): they are kept as those integers;
* ``-0.0`` comes back as ``0.0`` (``numeric`` has no negative zero);
* NaN and infinities are not JSON (``jsonb`` refuses them): they are kept as strings;
* NUL characters are refused by PostgreSQL and lone surrogates cannot be encoded as UTF-8:
  they are replaced by U+FFFD.

Times are hashed in UTC to the microsecond, which both databases keep.
"""

import hashlib
import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

GENESIS_HASH = "0" * 64

_HASH = re.compile(r"^[0-9a-f]{64}$")


def clean_text(text: str) -> str:
    """``text`` without what a database cannot store: NUL and unencodable surrogates."""
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = "".join("\ufffd" if 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in text)
    return text


def normalise(value: Any) -> Any:
    """A JSON value (dicts, lists, str, int, float, bool, None) as both databases return it."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value == 0:
            return 0.0
        if abs(value) >= 1e16:
            return int(Decimal(repr(value)))
        return value
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(k)): normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [normalise(v) for v in value]
    return clean_text(str(value))


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
        "before": normalise(before),
        "after": normalise(after),
        "request_id": request_id,
        "prev_hash": prev_hash,
    }
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode("utf-8")


def entry_hash(**fields) -> str:
    return hashlib.sha256(canonical(**fields)).hexdigest()


def format_head(count: int, head_hash: str) -> str:
    """The head as ``COUNT:HASH``, the form ``verify_audit --expect-head`` accepts."""
    return f"{count}:{head_hash}"


def parse_head(text: str) -> tuple[int, str]:
    """``COUNT:HASH`` -> ``(count, hash)``; ``ValueError`` with a plain sentence if malformed."""
    count_text, sep, head_hash = (text or "").strip().partition(":")
    head_hash = head_hash.strip().lower()
    if not sep or not count_text.strip().isdigit() or not _HASH.match(head_hash):
        raise ValueError(
            f"{text!r} is not a recorded head: expected COUNT:HASH, a whole number, a colon "
            "and 64 hexadecimal digits, as printed by 'manage.py audit_head'."
        )
    count = int(count_text)
    if count == 0 and head_hash != GENESIS_HASH:
        raise ValueError("A recorded head with 0 entries must have the hash 000…0 (64 zeros).")
    return count, head_hash


@dataclass(frozen=True)
class ChainProblem:
    """The first bad entry. ``kind`` is one of ``altered``, ``removed``, ``reordered``,
    ``truncated`` and ``head_mismatch``; ``message`` says it in a sentence."""

    seq: int | None
    message: str
    kind: str = "altered"


@dataclass(frozen=True)
class ChainReport:
    count: int
    head_hash: str
    problem: ChainProblem | None

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def head(self) -> str:
        return format_head(self.count, self.head_hash)
