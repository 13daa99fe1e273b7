"""The pure rules of testing, exhaustively: panels, seeds, the pool snapshot, the sample size,
the draw, specimen IDs, custody sequence and times, fatal flaws, collection checks.

Tables below (custody sequence, fatal flaws) are the specification written out by hand and
compared with the code cell by cell; they are not derived from ``rules``.
"""

import copy
import gzip
import hashlib
import itertools
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from probity.testing import rules
from probity.testing.rules import PoolEntry

# --- panels -----------------------------------------------------------------------------------


def panel():
    return copy.deepcopy(rules.HHS_2025_URINE)


def test_default_hhs_panel_is_valid():
    assert rules.panel_definition_errors(rules.HHS_2025_URINE) == []


def test_default_hhs_panel_has_the_2025_cutoffs():
    groups = {g["code"]: g for g in rules.HHS_2025_URINE["groups"]}
    assert groups["THC"]["initial_cutoff"] == 50
    assert groups["FENT"]["initial_cutoff"] == 1
    assert groups["COD/MOR"]["initial_cutoff"] == 2000
    assert len(groups) == 10


def _errors_after(change) -> list[str]:
    definition = panel()
    change(definition)
    return rules.panel_definition_errors(definition)


@pytest.mark.parametrize("value", [None, [], "text", 3])
def test_definition_must_be_an_object(value):
    assert rules.panel_definition_errors(value) == ["The definition must be a JSON object."]


@pytest.mark.parametrize("groups", [None, [], "THC", {}])
def test_groups_missing_or_empty(groups):
    errors = _errors_after(lambda d: d.__setitem__("groups", groups))
    assert "The panel needs at least one initial test group in 'groups'." in errors


def test_group_not_an_object():
    errors = _errors_after(lambda d: d["groups"].append("FENT"))
    assert "groups[11] must be an object." in errors


@pytest.mark.parametrize("code", [None, "", "   ", 5])
def test_group_code_missing(code):
    errors = _errors_after(lambda d: d["groups"][0].__setitem__("code", code))
    assert "groups[1]: 'code' is missing." in errors


def test_group_code_twice():
    def change(d):
        d["groups"][1]["code"] = "THC"

    assert "groups[2]: the group code THC appears twice." in _errors_after(change)


@pytest.mark.parametrize("cutoff", [0, -1, None, "abc", True, "0"])
def test_group_initial_cutoff_must_be_positive(cutoff):
    errors = _errors_after(lambda d: d["groups"][0].__setitem__("initial_cutoff", cutoff))
    assert "groups[1] (THC): 'initial_cutoff' must be a number above zero." in errors


@pytest.mark.parametrize("cutoff", [1, "0.5", 2.5, Decimal("0.01")])
def test_group_initial_cutoff_positive_numbers_accepted(cutoff):
    assert _errors_after(lambda d: d["groups"][0].__setitem__("initial_cutoff", cutoff)) == []


@pytest.mark.parametrize("analytes", [None, [], "THCC"])
def test_group_needs_an_analyte(analytes):
    errors = _errors_after(lambda d: d["groups"][0].__setitem__("analytes", analytes))
    assert "groups[1] (THC): at least one confirmatory analyte is needed." in errors


def test_analyte_not_an_object():
    errors = _errors_after(lambda d: d["groups"][0]["analytes"].append(7))
    assert "groups[1].analytes[2] must be an object." in errors


def test_analyte_code_missing():
    errors = _errors_after(lambda d: d["groups"][0]["analytes"][0].pop("code"))
    assert "groups[1].analytes[1]: 'code' is missing." in errors


def test_analyte_in_two_groups():
    def change(d):
        d["groups"][1]["analytes"][0]["code"] = "THCC"

    assert "groups[2].analytes[1]: the analyte THCC appears in two groups." in _errors_after(change)


@pytest.mark.parametrize("cutoff", [0, -15, None, "x", False])
def test_analyte_cutoff_must_be_positive(cutoff):
    errors = _errors_after(lambda d: d["groups"][0]["analytes"][0].__setitem__("cutoff", cutoff))
    assert "groups[1].analytes[1] (THCC): 'cutoff' must be a number above zero." in errors


def test_requires_rule_not_an_object():
    errors = _errors_after(lambda d: d["requires"].append("MAMP"))
    assert "requires[2] must be an object." in errors


@pytest.mark.parametrize("key", ["analyte", "other"])
def test_requires_names_analytes_of_the_panel(key):
    errors = _errors_after(lambda d: d["requires"][0].__setitem__(key, "LSD"))
    assert f"requires[1]: '{key}' must name an analyte of the panel." in errors


@pytest.mark.parametrize("minimum", [0, None, "-3"])
def test_requires_minimum_positive(minimum):
    errors = _errors_after(lambda d: d["requires"][0].__setitem__("minimum", minimum))
    assert "requires[1]: 'minimum' must be a number above zero." in errors


def test_requires_is_optional():
    assert _errors_after(lambda d: d.pop("requires")) == []


@pytest.mark.parametrize("validity", [None, [], "none"])
def test_validity_must_be_an_object(validity):
    errors = _errors_after(lambda d: d.__setitem__("validity", validity))
    assert "'validity' must hold the validity thresholds." in errors


def test_validity_missing_and_unknown_keys():
    def change(d):
        d["validity"].pop("ph_adulterated_below")
        d["validity"].pop("creatinine_dilute_below")
        d["validity"]["glucose_high"] = 5

    errors = _errors_after(change)
    assert "Validity thresholds missing: creatinine_dilute_below, ph_adulterated_below." in errors
    assert "Unknown validity thresholds: glucose_high." in errors


def test_validity_values_positive():
    errors = _errors_after(lambda d: d["validity"].__setitem__("sg_dilute_below", "0"))
    assert errors == ["validity.sg_dilute_below must be a number above zero."]


def test_several_errors_reported_together():
    def change(d):
        d["groups"][0]["initial_cutoff"] = 0
        d["validity"] = None

    assert len(_errors_after(change)) == 2


def test_panel_analytes_maps_each_analyte_to_its_group():
    analytes = rules.panel_analytes(rules.HHS_2025_URINE)
    assert analytes["THCC"] == "THC"
    assert analytes["MOR"] == "COD/MOR"
    assert analytes["NFENT"] == "FENT"
    assert analytes["MDA"] == "MDMA/MDA"
    assert len(analytes) == 16
    assert rules.panel_analytes({}) == {}


# --- seeds --------------------------------------------------------------------------------------


def test_new_seed_is_64_lower_hex_and_valid():
    seeds = {rules.new_seed() for _ in range(50)}
    assert len(seeds) == 50
    for seed in seeds:
        assert len(seed) == 64
        assert set(seed) <= set("0123456789abcdef")
        assert rules.seed_error(seed) is None


@pytest.mark.parametrize("length", [16, 17, 64, 128])
def test_seed_lengths_accepted(length):
    assert rules.seed_error("a" * length) is None


@pytest.mark.parametrize("length", [0, 1, 15, 129, 500])
def test_seed_lengths_refused(length):
    assert rules.seed_error("a" * length) == "A seed is 16 to 128 characters."


@pytest.mark.parametrize(
    "seed", ["ABCDEF0123456789", "0123456789abcdeg", "0123 456789abcdef", "é" * 16]
)
def test_seed_must_be_lower_hex(seed):
    assert rules.seed_error(seed) == (
        "A seed is written in lower-case hexadecimal digits (0-9, a-f)."
    )


@pytest.mark.parametrize("seed", [None, 1234567890123456789, b"0123456789abcdef"])
def test_seed_not_text(seed):
    assert rules.seed_error(seed) == "A seed is 16 to 128 characters."


def test_seed_commitment_is_sha256_of_the_ascii_text():
    seed = "00112233445566778899aabbccddeeff"
    assert rules.seed_commitment(seed) == hashlib.sha256(seed.encode()).hexdigest()
    # A known vector: SHA-256 of "abc" (FIPS 180-2).
    assert (
        rules.seed_commitment("abc")
        == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
    assert rules.seed_commitment(seed) != rules.seed_commitment(seed + "0")


# --- pool snapshot --------------------------------------------------------------------------------


def test_pool_text_is_sorted_by_key_as_a_number():
    entries = [PoolEntry(10, "S-10", "U1"), PoolEntry(9, "S-9", "U2"), PoolEntry(100, "X", "U1")]
    assert rules.pool_text(entries) == b"9\tS-9\tU2\n10\tS-10\tU1\n100\tX\tU1\n"


def test_pool_text_is_utf8():
    text = rules.pool_text([PoolEntry(1, "ល-០០១", "NP-ភ្នំពេញ")])
    assert text == "1\tល-០០១\tNP-ភ្នំពេញ\n".encode()
    assert rules.pool_parse(text) == [PoolEntry(1, "ល-០០១", "NP-ភ្នំពេញ")]


def test_empty_pool():
    assert rules.pool_text([]) == b""
    assert rules.pool_parse(b"") == []
    assert rules.pool_digest(b"") == hashlib.sha256(b"").hexdigest()


pool_entries = st.lists(
    st.builds(
        PoolEntry,
        key=st.integers(min_value=0, max_value=10**12),
        service_number=st.text(
            alphabet=st.characters(blacklist_characters="\t\n\r", blacklist_categories=("Cs",)),
            max_size=12,
        ),
        unit=st.text(
            alphabet=st.characters(blacklist_characters="\t\n\r", blacklist_categories=("Cs",)),
            max_size=12,
        ),
    ),
    unique_by=lambda e: e.key,
    max_size=40,
)


@given(pool_entries, st.randoms(use_true_random=False))
def test_pool_text_and_parse_round_trip(entries, rnd):
    text = rules.pool_text(entries)
    shuffled = list(entries)
    rnd.shuffle(shuffled)
    assert rules.pool_text(shuffled) == text  # the input order does not matter
    assert rules.pool_parse(text) == sorted(entries, key=lambda e: e.key)
    assert rules.pool_digest(text) == hashlib.sha256(text).hexdigest()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"1\tA\tU", "The pool snapshot does not end with a newline."),
        (b"1\tA\n", "Line 1 of the pool snapshot is malformed."),
        (b"1\tA\tU\tV\n", "Line 1 of the pool snapshot is malformed."),
        (b"1\tA\tU\nx\tB\tU\n", "Line 2 of the pool snapshot is malformed."),
        (b"1\tA\tU\n-2\tB\tU\n", "Line 2 of the pool snapshot is malformed."),
        (b"1\tA\tU\n\n", "Line 2 of the pool snapshot is malformed."),
        (b"\tA\tU\n", "Line 1 of the pool snapshot is malformed."),
        (b"2\tA\tU\n1\tB\tU\n", "Line 2 of the pool snapshot is out of order."),
        (b"2\tA\tU\n2\tB\tU\n", "Line 2 of the pool snapshot is out of order."),
        (b"1\tA\tU\n3\tB\tU\n3\tC\tU\n", "Line 3 of the pool snapshot is out of order."),
    ],
)
def test_pool_parse_refuses_malformed_or_out_of_order_lines(text, message):
    with pytest.raises(ValueError, match=message):
        rules.pool_parse(text)


def test_pool_parse_refuses_text_that_is_not_utf8():
    with pytest.raises(ValueError):
        rules.pool_parse(b"1\t\xff\tU\n")


def test_pool_digest_changes_with_any_byte():
    text = rules.pool_text([PoolEntry(k, f"S{k}", "U") for k in range(1, 20)])
    digest = rules.pool_digest(text)
    assert len(digest) == 64
    for i in range(len(text)):
        changed = text[:i] + bytes([text[i] ^ 1]) + text[i + 1 :]
        assert rules.pool_digest(changed) != digest


def test_pool_compress_is_deterministic_and_decompresses():
    text = rules.pool_text([PoolEntry(k, f"S{k}", f"U{k % 7}") for k in range(1, 2000)])
    first = rules.pool_compress(text)
    assert first == rules.pool_compress(text)
    assert gzip.decompress(first) == text
    assert first[4:8] == b"\0\0\0\0"  # the gzip header's mtime is zero
    assert len(first) < len(text)


# --- sample size --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pool", "rate", "expected"),
    [
        (100, 5, 5),
        (10, 25, 3),  # 2.5 rounds half up
        (10, "15", 2),  # 1.5
        (10, "14.99", 1),  # 1.499
        (10, 35, 4),  # 3.5
        (10, "34.9", 3),
        (1000, "0.05", 1),  # 0.5 -> 1
        (1000, "0.04", 1),  # 0.4 -> 0 -> at least one
        (3, "0.01", 1),
        (1, 100, 1),
        (7, 100, 7),
        (7, "99.99", 7),
        (7, 150, 7),  # never above the pool
        (0, 50, 0),  # an empty pool selects nobody
        (0, 100, 0),
        (50, 0, 0),  # a zero rate selects nobody
        (1_000_000, 5, 50_000),
        (999_999, "12.5", 125_000),  # 124,999.875
        (200, Decimal("2.25"), 5),  # 4.5
        (200, Decimal("2.24"), 4),  # 4.48
    ],
)
def test_sample_size(pool, rate, expected):
    assert rules.sample_size(pool, rate) == expected


@given(st.integers(0, 10**6), st.decimals(min_value=0, max_value=100, places=2))
def test_sample_size_property(pool, rate):
    n = rules.sample_size(pool, rate)
    exact = Fraction(pool) * Fraction(str(rate)) / 100
    assert 0 <= n <= pool
    if exact > 0:
        assert n >= 1
        assert abs(Fraction(n) - exact) <= Fraction(1, 2) or n == 1
    else:
        assert n == 0


# --- the draw -------------------------------------------------------------------------------------


def make_pool(size: int, units: dict[str, int] | None = None) -> list[PoolEntry]:
    """``size`` people with keys 1..size; ``units`` code -> head count (in that order)."""
    units = units or {"U": size}
    assert sum(units.values()) == size
    codes = [code for code, count in units.items() for _ in range(count)]
    return [PoolEntry(k, f"SN{k:06d}", codes[k - 1]) for k in range(1, size + 1)]


SEED = "5eed" * 16


def test_single_stage_is_the_lowest_scores():
    pool = make_pool(200)
    outcome = rules.draw(SEED, pool, 10, alternates=5)
    scores = sorted((hashlib.sha256(f"{SEED}:{e.key}".encode()).digest(), e.key) for e in pool)
    order = [key for _, key in scores]
    assert [e.key for e in outcome.selected] == order[:10]
    assert [e.key for e in outcome.alternates] == order[10:15]
    assert outcome.quotas == {}


def test_draw_is_deterministic_and_depends_on_the_seed():
    pool = make_pool(500)
    a = rules.draw(SEED, pool, 25, alternates=5)
    b = rules.draw(SEED, list(pool), 25, alternates=5)
    c = rules.draw("beef" * 16, pool, 25, alternates=5)
    assert a.selected == b.selected and a.alternates == b.alternates
    assert a.selected != c.selected


@pytest.mark.parametrize("by_unit", [False, True])
def test_draw_of_nobody(by_unit):
    pool = make_pool(30, {"A": 10, "B": 20})
    outcome = rules.draw(SEED, pool, 0, alternates=3, by_unit=by_unit)
    assert outcome.selected == []
    if by_unit:
        assert outcome.alternates == [] and outcome.quotas == {}
    else:
        assert len(outcome.alternates) == 3  # a single-stage draw still lists alternates


@pytest.mark.parametrize("by_unit", [False, True])
def test_draw_from_an_empty_pool(by_unit):
    outcome = rules.draw(SEED, [], 5, alternates=2, by_unit=by_unit)
    assert outcome.selected == [] and outcome.alternates == []


@pytest.mark.parametrize("by_unit", [False, True])
def test_draw_of_everyone(by_unit):
    pool = make_pool(30, {"A": 10, "B": 20})
    outcome = rules.draw(SEED, pool, 30, alternates=4, by_unit=by_unit)
    assert sorted(e.key for e in outcome.selected) == list(range(1, 31))
    assert outcome.alternates == []
    if by_unit:
        assert outcome.quotas == {"A": 10, "B": 20}


@pytest.mark.parametrize("by_unit", [False, True])
def test_draw_of_more_than_the_pool_takes_everyone(by_unit):
    pool = make_pool(12, {"A": 5, "B": 7})
    outcome = rules.draw(SEED, pool, 40, by_unit=by_unit)
    assert len(outcome.selected) == 12


@pytest.mark.parametrize(("n", "alternates", "expected"), [(10, 0, 0), (10, 5, 5), (45, 10, 5)])
def test_single_stage_alternates_count(n, alternates, expected):
    outcome = rules.draw(SEED, make_pool(50), n, alternates=alternates)
    assert len(outcome.alternates) == expected
    assert not {e.key for e in outcome.selected} & {e.key for e in outcome.alternates}


def test_negative_alternates_and_n_are_nothing():
    outcome = rules.draw(SEED, make_pool(10), -3, alternates=-2)
    assert outcome.selected == [] and outcome.alternates == []


@given(st.randoms(use_true_random=False), st.booleans())
@settings(max_examples=40)
def test_draw_does_not_depend_on_the_pools_input_order(rnd, by_unit):
    pool = make_pool(60, {"A": 7, "B": 23, "C": 30})
    shuffled = list(pool)
    rnd.shuffle(shuffled)
    a = rules.draw(SEED, pool, 13, alternates=2, by_unit=by_unit)
    b = rules.draw(SEED, shuffled, 13, alternates=2, by_unit=by_unit)
    assert (a.selected, a.alternates, a.quotas) == (b.selected, b.alternates, b.quotas)


UNIT_SPLITS = [
    {"A": 1, "B": 2, "C": 97},
    {"A": 13, "B": 13, "C": 13, "D": 11},
    {"A": 3, "B": 5, "C": 7, "D": 11, "E": 13, "F": 17, "G": 19, "H": 25},
    {f"U{i:02d}": 1 + i % 4 for i in range(40)},
]


@pytest.mark.parametrize("units", UNIT_SPLITS)
@pytest.mark.parametrize("n", [1, 2, 7, 10, 33])
def test_two_stage_quotas(units, n):
    pool = make_pool(sum(units.values()), units)
    total = len(pool)
    for s in range(20):
        seed = hashlib.sha256(f"quota-{s}".encode()).hexdigest()
        outcome = rules.draw(seed, pool, n, alternates=2, by_unit=True)
        assert sum(outcome.quotas.values()) == n == len(outcome.selected)
        for code, count in units.items():
            share = Fraction(n * count, total)
            quota = outcome.quotas.get(code, 0)
            assert quota in {int(share), int(share) + 1}, (code, share, quota)
            if share.denominator == 1:
                assert quota == share
            chosen = [e for e in outcome.selected if e.unit == code]
            assert len(chosen) == quota
        # The selected of each unit are its lowest scores, units one after another.
        by_unit: dict[str, list[int]] = {}
        for entry in outcome.selected:
            by_unit.setdefault(entry.unit, []).append(entry.key)
        units_seen = [e.unit for e in outcome.selected]  # each unit one contiguous block
        assert units_seen == sorted(units_seen, key=list(by_unit).index)


def test_two_stage_unit_order_and_within_unit_order():
    units = {"A": 10, "B": 20, "C": 30}
    pool = make_pool(60, units)
    outcome = rules.draw(SEED, pool, 12, alternates=3, by_unit=True)

    def unit_score(code):
        return hashlib.sha256(f"{SEED}:unit:{code}".encode()).digest()

    def score(entry):
        return hashlib.sha256(f"{SEED}:{entry.key}".encode()).digest()

    order = sorted(units, key=unit_score)
    expected_selected, expected_alternates = [], []
    for code in order:
        members = sorted((e for e in pool if e.unit == code), key=score)
        quota = outcome.quotas[code]
        expected_selected += members[:quota]
        expected_alternates += members[quota : quota + 3]
    assert outcome.selected == expected_selected
    assert outcome.alternates == expected_alternates


def test_two_stage_per_unit_alternates():
    units = {"A": 2, "B": 10, "C": 40}
    pool = make_pool(52, units)
    outcome = rules.draw(SEED, pool, 26, alternates=3, by_unit=True)
    assert outcome.quotas == {"A": 1, "B": 5, "C": 20}
    counts = Counter(e.unit for e in outcome.alternates)
    assert counts == {"A": 1, "B": 3, "C": 3}  # A has only one person left
    assert not {e.key for e in outcome.selected} & {e.key for e in outcome.alternates}


def test_two_stage_units_without_quota_get_no_alternates():
    units = {"A": 1, "B": 99}
    pool = make_pool(100, units)
    for s in range(30):
        seed = hashlib.sha256(f"alt-{s}".encode()).hexdigest()
        outcome = rules.draw(seed, pool, 2, alternates=2, by_unit=True)
        if "A" not in outcome.quotas:
            assert all(e.unit == "B" for e in outcome.alternates)
            assert len(outcome.alternates) == 2


def test_two_stage_systematic_start():
    """The extra places go where the cumulative remainders cover start + k."""
    units = {"A": 1, "B": 1, "C": 1}
    pool = make_pool(3, units)
    seed = SEED
    order = sorted(units, key=lambda c: hashlib.sha256(f"{seed}:unit:{c}".encode()).digest())
    start = Fraction(
        int.from_bytes(hashlib.sha256(f"{seed}:start".encode()).digest()[:8], "big"), 2**64
    )
    outcome = rules.draw(seed, pool, 1, by_unit=True)
    # each unit's exact share is 1/3: the unit whose third holds ``start`` is chosen
    expected = order[int(start * 3)]
    assert outcome.quotas == {expected: 1}


def test_two_stage_everyone_has_the_same_chance_over_many_seeds():
    units = {"A": 1, "B": 3, "C": 6}
    pool = make_pool(10, units)
    hits = Counter()
    rounds = 3000
    for s in range(rounds):
        seed = hashlib.sha256(f"chance-{s}".encode()).hexdigest()
        hits.update(e.key for e in rules.draw(seed, pool, 3, by_unit=True).selected)
    # Expected 900 for each; 5 standard deviations (about 125) is a generous margin.
    for key in range(1, 11):
        assert abs(hits[key] - 900) < 130, hits


# --- specimen IDs -------------------------------------------------------------------------------

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def sample_ids(count: int = 150) -> list[str]:
    rng = random.Random(7)
    ids = []
    for _ in range(count):
        body = "".join(rng.choice(ALPHABET) for _ in range(8))
        ids.append(f"PB-{body[:4]}-{body[4:]}-{rules._check_character(body)}")
    return ids


def test_new_specimen_id_format_and_validity():
    seen = set()
    for _ in range(300):
        sid = rules.new_specimen_id()
        assert len(sid) == 14
        prefix, a, b, check = sid.split("-")
        assert prefix == "PB" and len(a) == len(b) == 4 and len(check) == 1
        assert set(a + b + check) <= set(ALPHABET)
        assert rules.specimen_id_valid(sid)
        seen.add(sid)
    assert len(seen) == 300


def test_every_single_character_substitution_is_detected():
    for sid in sample_ids():
        positions = [i for i, c in enumerate(sid) if c != "-"][2:]  # body and check
        for i in positions:
            for c in ALPHABET:
                if c == sid[i]:
                    continue
                wrong = sid[:i] + c + sid[i + 1 :]
                assert not rules.specimen_id_valid(wrong), (sid, wrong)


def test_every_adjacent_transposition_is_detected():
    for sid in sample_ids(400):
        chars = sid.replace("-", "")[2:]  # 8 body characters and the check character
        for i in range(len(chars) - 1):
            if chars[i] == chars[i + 1]:
                continue
            swapped = chars[:i] + chars[i + 1] + chars[i] + chars[i + 2 :]
            wrong = f"PB-{swapped[:4]}-{swapped[4:8]}-{swapped[8]}"
            assert not rules.specimen_id_valid(wrong), (sid, wrong)


def test_every_adjacent_transposition_of_every_pair_is_detected():
    """All 32 x 31 ordered pairs of distinct characters at every neighbouring position."""
    for a, b in itertools.permutations(ALPHABET, 2):
        for i in range(7):
            body = ("K7" * 4)[:i] + a + b + ("X3M9" * 2)[: 6 - i]
            good = rules._check_character(body)
            swapped = body[:i] + b + a + body[i + 2 :]
            assert rules._check_character(swapped) != good, (body, swapped)
        # the last body character swapped with the check character
        body = "ZZZZZZZ" + a
        check = rules._check_character(body)
        if check != a:
            assert rules._check_character("ZZZZZZZ" + check) != a


@pytest.mark.parametrize(
    "text",
    [
        "",
        None,
        "PB-1234-5678",
        "PB-1234-5678-90",
        "XX-1234-5678-9",
        "PB-12345-678-9",
        "PB-1234-567I-9",  # I is not in the alphabet
        "pb-0000-0000-0",
        "PB_0000_0000_0",
    ],
)
def test_malformed_ids_are_invalid(text):
    assert not rules.specimen_id_valid(text)


def test_normalise_specimen_id():
    sid = sample_ids(1)[0]
    body = sid.replace("-", "")
    assert rules.normalise_specimen_id(sid) == sid
    assert rules.normalise_specimen_id(sid.lower()) == sid
    assert rules.normalise_specimen_id(" " + " ".join(body) + " ") == sid
    assert rules.normalise_specimen_id(body.lower()) == sid


def test_normalise_reads_o_as_zero_and_i_l_as_one():
    body = "00110A1B"
    sid = f"PB-{body[:4]}-{body[4:]}-{rules._check_character(body)}"
    typed = f"pb-OOIl-OAIB-{sid[-1]}"
    assert rules.normalise_specimen_id(typed) == sid
    assert rules.specimen_id_valid(rules.normalise_specimen_id(typed))


def test_normalise_leaves_other_text_trimmed_and_upper_case():
    assert rules.normalise_specimen_id("  abc-12 ") == "ABC-12"
    assert rules.normalise_specimen_id(None) == ""


# --- custody --------------------------------------------------------------------------------

EVENTS = ("sealed", "handed_over", "received", "aliquoted", "stored", "disposed")

# fmt: off
# Rows: the previous event (None: the bottle's first); columns: the next event, in EVENTS order.
#                      sea han rec ali sto dis
SEQUENCE = {
    None:           "   Y   .   .   .   .   .",
    "sealed":       "   .   Y   Y   .   Y   .",
    "handed_over":  "   .   Y   Y   .   .   .",
    "received":     "   .   Y   .   Y   Y   Y",
    "aliquoted":    "   .   Y   .   Y   Y   Y",
    "stored":       "   .   Y   .   Y   Y   Y",
    "disposed":     "   .   .   .   .   .   .",
}
# fmt: on


@pytest.mark.parametrize(("previous", "event"), list(itertools.product(SEQUENCE, EVENTS)))
def test_custody_sequence(previous, event):
    allowed = SEQUENCE[previous].split()[EVENTS.index(event)] == "Y"
    error = rules.custody_sequence_error(previous, event)
    if allowed:
        assert error is None
    elif previous == "disposed":
        assert error == "The bottle has been disposed of: nothing can happen to it any more."
    elif previous is None:
        assert error == "A bottle's first custody event is its sealing at collection."
    else:
        assert error == (
            f"A bottle cannot be {event.replace('_', ' ')} right after being "
            f"{previous.replace('_', ' ')}."
        )


def test_custody_events_constant():
    assert rules.CUSTODY_EVENTS == EVENTS


@pytest.mark.parametrize("previous", list(SEQUENCE))
def test_unknown_custody_event(previous):
    error = rules.custody_sequence_error(previous, "lost")
    assert error.startswith("Unknown custody event 'lost'")
    assert "sealed, handed_over" in error


NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
COLLECTED = NOW - timedelta(hours=3)


@pytest.mark.parametrize(
    ("at", "previous_at", "expected"),
    [
        (NOW, None, None),
        (NOW + timedelta(minutes=5), None, None),
        (
            NOW + timedelta(minutes=5, microseconds=1),
            None,
            "The time of a custody event cannot be in the future.",
        ),
        (NOW + timedelta(days=1), None, "The time of a custody event cannot be in the future."),
        (COLLECTED, None, None),
        (
            COLLECTED - timedelta(microseconds=1),
            None,
            "A custody event cannot come before the collection.",
        ),
        (NOW - timedelta(hours=1), NOW - timedelta(hours=1), None),
        (
            NOW - timedelta(hours=1, microseconds=1),
            NOW - timedelta(hours=1),
            "A custody event cannot come before the bottle's previous event.",
        ),
        (
            NOW,
            NOW + timedelta(minutes=1),
            "A custody event cannot come before the bottle's previous event.",
        ),
    ],
)
def test_custody_time(at, previous_at, expected):
    assert (
        rules.custody_time_error(at, previous_at=previous_at, collected_at=COLLECTED, now=NOW)
        == expected
    )


def _flaw(**overrides):
    arguments = {
        "event": "received",
        "seal_intact": True,
        "id_matches": True,
        "collector_known": True,
        "volume_ml": 45,
        "minimum_volume_ml": 45,
    }
    arguments.update(overrides)
    return rules.fatal_flaw(**arguments)


def test_a_sound_receipt_has_no_flaw():
    assert _flaw() is None
    assert _flaw(seal_intact=None, id_matches=None, volume_ml=None) is None
    assert _flaw(minimum_volume_ml=None, volume_ml=1) is None
    assert _flaw(minimum_volume_ml=0, volume_ml=1) is None


@pytest.mark.parametrize(
    ("overrides", "flaw"),
    [
        ({"seal_intact": False}, rules.FLAW_SEAL_BROKEN),
        ({"id_matches": False}, rules.FLAW_ID_MISMATCH),
        ({"collector_known": False}, rules.FLAW_NO_COLLECTOR),
        ({"volume_ml": 44}, rules.FLAW_INSUFFICIENT),
        ({"volume_ml": 0}, rules.FLAW_INSUFFICIENT),
    ],
)
def test_each_fatal_flaw_on_receipt(overrides, flaw):
    assert _flaw(**overrides) == flaw


# Precedence: a broken seal first, then the ID, then the collector, then the volume.
PRECEDENCE = [
    ({"seal_intact": False}, rules.FLAW_SEAL_BROKEN),
    ({"id_matches": False}, rules.FLAW_ID_MISMATCH),
    ({"collector_known": False}, rules.FLAW_NO_COLLECTOR),
    ({"volume_ml": 10}, rules.FLAW_INSUFFICIENT),
]


@pytest.mark.parametrize(
    "subset", [s for r in range(2, 5) for s in itertools.combinations(range(4), r)]
)
def test_fatal_flaw_precedence(subset):
    overrides = {}
    for index in subset:
        overrides.update(PRECEDENCE[index][0])
    assert _flaw(**overrides) == PRECEDENCE[min(subset)][1]


@pytest.mark.parametrize("event", ["handed_over"])
def test_broken_seal_at_a_hand_over_is_fatal(event):
    assert _flaw(event=event, seal_intact=False) == rules.FLAW_SEAL_BROKEN


@pytest.mark.parametrize("event", ["sealed", "handed_over", "aliquoted", "stored", "disposed"])
def test_other_flaws_only_count_on_receipt(event):
    assert _flaw(event=event, id_matches=False, collector_known=False, volume_ml=1) is None


@pytest.mark.parametrize("event", ["sealed", "aliquoted", "stored", "disposed"])
def test_broken_seal_outside_hand_over_and_receipt_is_not_a_flaw(event):
    assert _flaw(event=event, seal_intact=False) is None


def test_fatal_flaw_codes():
    assert rules.FATAL_FLAWS == (
        "id_mismatch",
        "seal_broken",
        "no_collector",
        "insufficient_specimen",
    )


# --- collection -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("celsius", "expected"),
    [
        (None, None),
        (Decimal("32"), True),
        (Decimal("38"), True),
        (Decimal("35.5"), True),
        (Decimal("31.9"), False),
        (Decimal("31.99"), False),
        (Decimal("38.1"), False),
        (Decimal("38.01"), False),
        (Decimal("0"), False),
    ],
)
def test_temperature_in_range(celsius, expected):
    assert rules.temperature_in_range(celsius) is expected


def _collection(**overrides):
    arguments = {
        "refused": False,
        "split": True,
        "volume_a_ml": 30,
        "volume_b_ml": 15,
        "identity_checked": True,
        "donor_confirmed": True,
        "collector_confirmed": True,
        "minimum_volume_ml": 45,
    }
    arguments.update(overrides)
    return rules.collection_errors(**arguments)


def test_a_complete_collection_has_no_error():
    assert _collection() == {}
    assert _collection(split=False, volume_a_ml=45, volume_b_ml=None) == {}
    assert _collection(split=False, volume_a_ml=45, volume_b_ml=0) == {}
    assert _collection(volume_a_ml=None, volume_b_ml=None) == {}  # volume not measured
    assert _collection(minimum_volume_ml=None, volume_a_ml=1, volume_b_ml=1) == {}


def test_a_refusal_needs_none_of_it():
    assert (
        _collection(
            refused=True,
            identity_checked=False,
            donor_confirmed=False,
            collector_confirmed=False,
            volume_a_ml=-1,
        )
        == {}
    )


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"identity_checked": False},
            "identity_checked",
            "Check the donor's identity before collecting.",
        ),
        (
            {"collector_confirmed": False},
            "collector_confirmed",
            "The collector must confirm the collection.",
        ),
        (
            {"donor_confirmed": False},
            "donor_confirmed",
            "The donor must confirm the collection; if they will not, record a refusal.",
        ),
        ({"volume_a_ml": -1}, "volume_a_ml", "A volume cannot be negative."),
        ({"volume_b_ml": -1}, "volume_b_ml", "A volume cannot be negative."),
        (
            {"split": False, "volume_a_ml": 50, "volume_b_ml": 5},
            "volume_b_ml",
            "There is no bottle B when the specimen is not split.",
        ),
    ],
)
def test_each_collection_error(overrides, field, message):
    errors = _collection(**overrides)
    assert errors[field] == message


@pytest.mark.parametrize(
    ("a", "b", "ok"),
    [(30, 15, True), (30, 14, False), (44, None, False), (45, None, True), (0, 0, False)],
)
def test_collection_minimum_volume_boundary(a, b, ok):
    errors = _collection(volume_a_ml=a, volume_b_ml=b)
    if ok:
        assert errors == {}
    else:
        total = a + (b or 0)
        assert errors == {
            "volume_a_ml": f"{total} mL is less than the 45 mL needed: wait for a sufficient "
            "specimen (up to 3 hours) or record a refusal with its reason."
        }


def test_all_collection_errors_together():
    errors = _collection(
        identity_checked=False, donor_confirmed=False, collector_confirmed=False, volume_b_ml=-2
    )
    assert set(errors) == {
        "identity_checked",
        "donor_confirmed",
        "collector_confirmed",
        "volume_b_ml",
    }


def _brute_force(seed, pool, wanted):
    """Every entry sorted by (SHA-256(seed ":" key), key), input order on full ties."""
    return sorted(pool, key=lambda e: (hashlib.sha256(f"{seed}:{e.key}".encode()).digest(), e.key))[
        :wanted
    ]


@pytest.mark.parametrize(
    ("size", "n", "alternates"),
    [(5000, 10, 0), (5000, 200, 50), (3000, 1, 1), (400, 99, 0), (400, 100, 0)],
)
def test_large_pools_give_the_same_order_as_sorting_everyone(size, n, alternates):
    """The draw skips ranking scores that cannot be among the lowest; the result is the
    same as ranking everyone."""
    pool = [PoolEntry(k * 3 + 1, f"S{k}", f"U{k % 9}") for k in range(size)]
    for s in range(3):
        seed = hashlib.sha256(f"big-{s}".encode()).hexdigest()
        outcome = rules.draw(seed, pool, n, alternates=alternates)
        assert outcome.selected + outcome.alternates == _brute_force(seed, pool, n + alternates)
        two = rules.draw(seed, pool, n, alternates=alternates, by_unit=True)
        start = 0
        for code, quota in two.quotas.items():
            members = [e for e in pool if e.unit == code]
            assert two.selected[start : start + quota] == _brute_force(seed, members, quota)
            start += quota


def test_the_draw_when_the_bound_lets_too_few_through(monkeypatch):
    """Should fewer scores than wanted fall below the bound, everyone is ranked."""
    pool = [PoolEntry(k, f"S{k}", "U") for k in range(1, 2001)]
    # With no margin the bound lets through about as many as wanted: often fewer.
    monkeypatch.setattr(rules, "isqrt", lambda n: -8)
    cut = ((30 + 8 * -8 + 64) << 256) // len(pool)
    too_few = 0
    for s in range(12):
        seed = hashlib.sha256(f"few-{s}".encode()).hexdigest()
        below = sum(
            1
            for e in pool
            if int.from_bytes(hashlib.sha256(f"{seed}:{e.key}".encode()).digest(), "big") < cut
        )
        too_few += below < 30
        assert rules.draw(seed, pool, 30).selected == _brute_force(seed, pool, 30)
    assert too_few >= 1


def test_duplicate_keys_keep_the_input_order():
    """Not a canonical pool, but the rule is total: equal keys tie on score and key."""
    pool = [PoolEntry(5, "first", "U"), PoolEntry(5, "second", "U"), PoolEntry(6, "x", "U")]
    outcome = rules.draw(SEED, pool, 3)
    fives = [e.service_number for e in outcome.selected if e.key == 5]
    assert fives == ["first", "second"]
