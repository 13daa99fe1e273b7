"""The chain's pure functions: canonical content, normalisation, the recorded head."""

import json
import math
from datetime import UTC, datetime, timedelta, timezone

import pytest

from probity.audit import chain

FIELDS = {
    "seq": 1,
    "at": datetime(2024, 1, 22, 1, 30, 0, 123456, tzinfo=UTC),
    "actor_id": 7,
    "actor_label": "dara",
    "action": "testing.collection_record",
    "object_type": "testing.collection",
    "object_id": "42",
    "object_repr": "សុខ តារា",
    "before": None,
    "after": {"b": 1, "a": [1.5, "x"]},
    "request_id": "abc",
    "prev_hash": chain.GENESIS_HASH,
}


def test_hash_is_sha256_hex_and_deterministic():
    first = chain.entry_hash(**FIELDS)
    assert len(first) == 64
    assert first == chain.entry_hash(**FIELDS)


def test_key_order_does_not_matter():
    other = {**FIELDS, "after": {"a": [1.5, "x"], "b": 1}}
    assert chain.entry_hash(**other) == chain.entry_hash(**FIELDS)


def test_time_zone_of_the_same_instant_does_not_matter():
    plus7 = FIELDS["at"].astimezone(timezone(timedelta(hours=7)))
    assert chain.entry_hash(**{**FIELDS, "at": plus7}) == chain.entry_hash(**FIELDS)


def test_every_field_counts():
    base = chain.entry_hash(**FIELDS)
    changes = {
        "seq": 2,
        "at": FIELDS["at"] + timedelta(microseconds=1),
        "actor_id": None,
        "actor_label": "someone",
        "action": "x",
        "object_type": "y",
        "object_id": "43",
        "object_repr": "z",
        "before": {},
        "after": {"b": 2, "a": [1.5, "x"]},
        "request_id": "abd",
        "prev_hash": "1" * 64,
    }
    for name, value in changes.items():
        assert chain.entry_hash(**{**FIELDS, name: value}) != base, name


def test_canonical_is_compact_sorted_utf8():
    text = chain.canonical(**FIELDS).decode("utf-8")
    assert "សុខ តារា" in text
    assert '"at":"2024-01-22T01:30:00.123456+00:00"' in text
    assert text.index('"action"') < text.index('"actor_id"') < text.index('"after"')
    assert ": " not in text and ", " not in text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1e16, 10**16),  # jsonb prints it 10000000000000000
        (-1.5e20, -150000000000000000000),
        (1.5e300, int("15" + "0" * 299)),
        (-0.0, 0.0),
        (2.0, 2.0),
        (1e-7, 1e-7),
        (0.1 + 0.2, 0.30000000000000004),
        (123, 123),
        (10**30, 10**30),
        (True, True),
        (None, None),
        ("a\x00b", "a\ufffdb"),
        ("lone \ud800 surrogate", "lone \ufffd surrogate"),
        ("ក្រុម?", "ក្រុម?"),
    ],
)
def test_normalise(value, expected):
    result = chain.normalise(value)
    assert result == expected
    assert type(result) is type(expected)


def test_normalise_non_finite_and_nested():
    assert chain.normalise(math.nan) == "nan"
    assert chain.normalise(math.inf) == "inf"
    assert chain.normalise({"k\x00": [(1e17, -math.inf)]}) == {"k\ufffd": [[10**17, "-inf"]]}


def test_normalise_is_idempotent_and_json_stable():
    value = {"x": [1e16, -0.0, 1e-7, "a\x00", {"y": math.nan}], "z": 1.018}
    once = chain.normalise(value)
    assert chain.normalise(once) == once
    assert chain.normalise(json.loads(json.dumps(once))) == once


def test_head_round_trip():
    text = chain.format_head(12, "ab" * 32)
    assert text == "12:" + "ab" * 32
    assert chain.parse_head(text) == (12, "ab" * 32)
    assert chain.parse_head(" 12:" + "AB" * 32 + " ") == (12, "ab" * 32)
    assert chain.parse_head("0:" + chain.GENESIS_HASH) == (0, chain.GENESIS_HASH)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "12",
        "12:",
        ":" + "a" * 64,
        "x:" + "a" * 64,
        "-1:" + "a" * 64,
        "12:" + "a" * 63,
        "12:" + "g" * 64,
        "12:" + "a" * 65,
        "0:" + "a" * 64,
        "1.5:" + "a" * 64,
    ],
)
def test_malformed_heads_are_refused(text):
    with pytest.raises(ValueError, match="head"):
        chain.parse_head(text)


def test_report_properties():
    ok = chain.ChainReport(3, "c" * 64, None)
    assert ok.ok and ok.head == "3:" + "c" * 64
    broken = chain.ChainReport(2, "c" * 64, chain.ChainProblem(3, "entry #3 was altered"))
    assert not broken.ok
