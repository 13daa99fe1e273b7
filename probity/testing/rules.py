"""Pure domain logic of testing: panel definitions, the random draw, specimen IDs, custody.

Plain functions of plain data, no ORM, so that each rule can be read, tested exhaustively
and re-implemented by an outside verifier. The draw algorithm is published in
``docs/decisions/0007-random-draw.md``; change it only with a new algorithm version.
"""

from __future__ import annotations

import gc
import gzip
import hashlib
import heapq
import operator
import re
import secrets
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import repeat
from math import ceil, isqrt
from typing import NamedTuple

from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

# --- panels (DOMAIN.md §1) ------------------------------------------------------------------

#: The default urine panel: HHS Mandatory Guidelines, effective 7 July 2025. ng/mL.
HHS_2025_URINE = {
    "unit": "ng/mL",
    "groups": [
        {"code": "THC", "initial_cutoff": 50, "analytes": [{"code": "THCC", "cutoff": 15}]},
        {"code": "BZE", "initial_cutoff": 150, "analytes": [{"code": "BZE", "cutoff": 100}]},
        {
            "code": "COD/MOR",
            "initial_cutoff": 2000,
            "analytes": [{"code": "COD", "cutoff": 2000}, {"code": "MOR", "cutoff": 4000}],
        },
        {
            "code": "HYC/HYM",
            "initial_cutoff": 300,
            "analytes": [{"code": "HYC", "cutoff": 100}, {"code": "HYM", "cutoff": 100}],
        },
        {
            "code": "OXYC/OXYM",
            "initial_cutoff": 100,
            "analytes": [{"code": "OXYC", "cutoff": 100}, {"code": "OXYM", "cutoff": 100}],
        },
        {"code": "6-AM", "initial_cutoff": 10, "analytes": [{"code": "6-AM", "cutoff": 10}]},
        {"code": "PCP", "initial_cutoff": 25, "analytes": [{"code": "PCP", "cutoff": 25}]},
        {
            "code": "FENT",
            "initial_cutoff": 1,
            "analytes": [{"code": "FENT", "cutoff": 1}, {"code": "NFENT", "cutoff": 1}],
        },
        {
            "code": "AMP/MAMP",
            "initial_cutoff": 500,
            "analytes": [{"code": "AMP", "cutoff": 250}, {"code": "MAMP", "cutoff": 250}],
        },
        {
            "code": "MDMA/MDA",
            "initial_cutoff": 500,
            "analytes": [{"code": "MDMA", "cutoff": 250}, {"code": "MDA", "cutoff": 250}],
        },
    ],
    # An analyte reported positive only when another confirmatory analyte reaches a value:
    # methamphetamine needs amphetamine >= 100 ng/mL (DOMAIN.md §2 rule 3).
    "requires": [{"analyte": "MAMP", "other": "AMP", "minimum": 100}],
    # Validity thresholds (DOMAIN.md §2): creatinine mg/dL, SG unitless, nitrite ug/mL.
    "validity": {
        "creatinine_substituted_below": 2,
        "sg_substituted_at_or_below": "1.0010",
        "sg_substituted_at_or_above": "1.0200",
        "creatinine_dilute_below": 20,
        "sg_dilute_below": "1.0030",
        "ph_adulterated_below": 4,
        "ph_adulterated_at_or_above": 11,
        "ph_invalid_low_below": "4.5",
        "ph_invalid_high_at_or_above": 9,
        "nitrite_adulterated_at_or_above": 500,
        "nitrite_invalid_at_or_above": 200,
    },
}

VALIDITY_KEYS = frozenset(HHS_2025_URINE["validity"])


def panel_definition_errors(definition: object) -> list[str]:
    """Everything wrong with a panel definition, in words an administrator can act on.

    A definition has ``groups`` (each a ``code``, an ``initial_cutoff`` and confirmatory
    ``analytes`` with their ``cutoff``), optional ``requires`` rules and ``validity``
    thresholds with exactly the keys of the default panel.
    """
    if not isinstance(definition, dict):
        return [_("The definition must be a JSON object.")]
    errors: list[str] = []
    groups = definition.get("groups")
    if not isinstance(groups, list) or not groups:
        errors.append(_("The panel needs at least one initial test group in 'groups'."))
        groups = []
    group_codes: set[str] = set()
    analyte_codes: set[str] = set()
    for index, group in enumerate(groups, start=1):
        where = f"groups[{index}]"
        if not isinstance(group, dict):
            errors.append(_("%(where)s must be an object.") % {"where": where})
            continue
        code = _coded_entry_errors(
            group,
            where,
            errors,
            seen=group_codes,
            number="initial_cutoff",
            twice=_("%(where)s: the group code %(code)s appears twice."),
            not_positive=_("%(where)s (%(code)s): 'initial_cutoff' must be a number above zero."),
        )
        analytes = group.get("analytes")
        if not isinstance(analytes, list) or not analytes:
            errors.append(
                _("%(where)s (%(code)s): at least one confirmatory analyte is needed.")
                % {"where": where, "code": code}
            )
            continue
        for a_index, analyte in enumerate(analytes, start=1):
            a_where = f"{where}.analytes[{a_index}]"
            if not isinstance(analyte, dict):
                errors.append(_("%(where)s must be an object.") % {"where": a_where})
                continue
            _coded_entry_errors(
                analyte,
                a_where,
                errors,
                seen=analyte_codes,
                number="cutoff",
                twice=_("%(where)s: the analyte %(code)s appears in two groups."),
                not_positive=_("%(where)s (%(code)s): 'cutoff' must be a number above zero."),
            )
    for r_index, rule in enumerate(definition.get("requires") or [], start=1):
        r_where = f"requires[{r_index}]"
        if not isinstance(rule, dict):
            errors.append(_("%(where)s must be an object.") % {"where": r_where})
            continue
        for key in ("analyte", "other"):
            if rule.get(key) not in analyte_codes:
                errors.append(
                    _("%(where)s: '%(key)s' must name an analyte of the panel.")
                    % {"where": r_where, "key": key}
                )
        if not _positive_number(rule.get("minimum")):
            errors.append(
                _("%(where)s: 'minimum' must be a number above zero.") % {"where": r_where}
            )
    validity = definition.get("validity")
    if not isinstance(validity, dict):
        errors.append(_("'validity' must hold the validity thresholds."))
    else:
        missing = sorted(VALIDITY_KEYS - set(validity))
        unknown = sorted(set(validity) - VALIDITY_KEYS)
        if missing:
            errors.append(
                _("Validity thresholds missing: %(keys)s.") % {"keys": ", ".join(missing)}
            )
        if unknown:
            errors.append(
                _("Unknown validity thresholds: %(keys)s.") % {"keys": ", ".join(unknown)}
            )
        for key in sorted(VALIDITY_KEYS & set(validity)):
            if not _positive_number(validity[key]):
                errors.append(
                    _("%(where)s must be a number above zero.") % {"where": f"validity.{key}"}
                )
    return errors


def _coded_entry_errors(
    entry: dict,
    where: str,
    errors: list[str],
    *,
    seen: set[str],
    number: str,
    twice: str,
    not_positive: str,
) -> object:
    """Check a group's or an analyte's ``code`` (present, not seen before: it is added to
    ``seen``) and its cutoff ``number`` (above zero); append what is wrong to ``errors`` and
    return the code as written."""
    code = entry.get("code")
    if not isinstance(code, str) or not code.strip():
        errors.append(_("%(where)s: 'code' is missing.") % {"where": where})
    elif code in seen:
        errors.append(twice % {"where": where, "code": code})
    else:
        seen.add(code)
    if not _positive_number(entry.get(number)):
        errors.append(not_positive % {"where": where, "code": code})
    return code


def _positive_number(value: object) -> bool:
    if isinstance(value, bool):
        return False
    try:
        return Decimal(str(value)) > 0
    except ArithmeticError:
        return False


def panel_analytes(definition: dict) -> dict[str, str]:
    """Confirmatory analyte code -> its initial test group code."""
    return {
        analyte["code"]: group["code"]
        for group in definition.get("groups", [])
        for analyte in group.get("analytes", [])
    }


# --- the random draw (DOMAIN.md §4; docs/decisions/0007-random-draw.md) -----------------------

DRAW_ALGORITHM = "probity-draw-v1"


class PoolEntry(NamedTuple):
    """One person in a frozen pool: the employment id (the key), service number, unit.

    A named tuple rather than a dataclass: a pool holds up to millions of them, and a tuple
    is built several times faster."""

    key: int
    service_number: str
    unit: str


@dataclass
class DrawOutcome:
    selected: list[PoolEntry] = field(default_factory=list)
    alternates: list[PoolEntry] = field(default_factory=list)
    # Two-stage draws: unit -> number selected there (its quota).
    quotas: dict[str, int] = field(default_factory=dict)


def new_seed() -> str:
    """A fresh seed: 32 random bytes as 64 lower-case hex digits."""
    return secrets.token_hex(32)


def seed_commitment(seed: str) -> str:
    """The published hash of a seed: SHA-256 of its ASCII text, hex."""
    return hashlib.sha256(seed.encode("ascii")).hexdigest()


def seed_error(seed: str) -> str | None:
    if not isinstance(seed, str) or not 16 <= len(seed) <= 128:
        return _("A seed is 16 to 128 characters.")
    if not all(c in "0123456789abcdef" for c in seed):
        return _("A seed is written in lower-case hexadecimal digits (0-9, a-f).")
    return None


def pool_text(entries: Iterable[PoolEntry]) -> bytes:
    """The canonical snapshot: one line per person, ``key<TAB>service number<TAB>unit``,
    sorted by key (as a number), UTF-8, each line ending in a newline."""
    with gc_paused():
        ordered = sorted(entries, key=_KEY)  # stable; already sorted input costs one pass
        return "".join([f"{key}\t{number}\t{unit}\n" for key, number, unit in ordered]).encode(
            "utf-8"
        )


def pool_digest(text: bytes) -> str:
    return hashlib.sha256(text).hexdigest()


def pool_compress(text: bytes) -> bytes:
    # mtime=0 keeps the compressed bytes a function of the text alone. Level 1: five times
    # faster than 6 on a million people (0.16 s against 0.8 s), 17 % larger; what is
    # verified is the text (its SHA-256), which any level gives back unchanged.
    return gzip.compress(text, compresslevel=1, mtime=0)


#: Lines ``digits TAB text TAB text LF``, any number of them (bytes >= 0x80 of UTF-8 are
#: never a tab or a newline, so the check can run on the bytes). The definition of a
#: well-formed snapshot: ``pool_parse`` checks the same with faster string methods, and the
#: tests hold it to this expression.
_POOL_LINES = re.compile(rb"(?:[0-9]+\t[^\t\n]*\t[^\t\n]*\n)*")


_KEY = operator.itemgetter(0)  # PoolEntry.key


@contextmanager
def gc_paused() -> Iterator[None]:
    """Build a million small objects without the cyclic collector walking them again and
    again (it would triple the time). Nothing built here can form a cycle."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def pool_parse(text: bytes) -> list[PoolEntry]:
    """Read a canonical snapshot back; raises ``ValueError`` naming the first bad line."""
    if not text:
        return []
    if not text.endswith(b"\n"):
        raise ValueError(_("The pool snapshot does not end with a newline."))
    decoded = text.decode("utf-8")
    with gc_paused():
        lines = decoded.split("\n")
        lines.pop()  # the empty text after the last newline
        fields = decoded.replace("\n", "\t").split("\t")
        fields.pop()
        digits = fields[0::3]
        # What _POOL_LINES says, with string methods (several times faster than the regular
        # expression on a million lines): two tabs on every line, and keys of ASCII digits.
        joined = "".join(digits)
        if not (
            list(map(str.count, lines, repeat("\t"))).count(2) == len(lines)
            and joined.isascii()
            and joined.isdigit()
            and "" not in digits
        ):
            _pool_malformed(lines)
        keys = list(map(int, digits))
        increasing = list(map(operator.lt, keys, keys[1:]))
        if not all(increasing):
            number = increasing.index(False) + 2
            raise ValueError(
                _("Line %(number)s of the pool snapshot is out of order.") % {"number": number}
            )
        # tuple.__new__ straight from C: PoolEntry(...) would call its Python __new__ each time.
        return list(
            map(
                tuple.__new__, repeat(PoolEntry), zip(keys, fields[1::3], fields[2::3], strict=True)
            )
        )


def _pool_malformed(lines: list[str]) -> None:
    """Raise the ``ValueError`` naming the first malformed line."""
    for number, line in enumerate(lines, start=1):
        parts = line.split("\t")
        if len(parts) != 3 or not (parts[0].isascii() and parts[0].isdigit()):
            raise ValueError(
                _("Line %(number)s of the pool snapshot is malformed.") % {"number": number}
            )
    raise ValueError(_("The pool snapshot is malformed."))  # pragma: no cover


def _score(prefix: bytes, label: str) -> bytes:
    return hashlib.sha256(prefix + label.encode("utf-8")).digest()


def _lowest(prefix: bytes, entries: Sequence[PoolEntry], wanted: int) -> list[PoolEntry]:
    """The ``wanted`` entries of lowest ``(score, key)``, in that order (ties of both: input
    order). The same as sorting every entry by ``(_score(prefix, str(key)), key)``, only
    faster: when few are wanted, entries whose score is above a bound that at least
    ``wanted`` scores fall below are not ranked at all (they cannot be among the lowest)."""
    if wanted <= 0 or not entries:
        return []
    sha256 = hashlib.sha256
    scores = [sha256(prefix + str(e.key).encode()).digest() for e in entries]
    if wanted * 4 < len(entries):
        # Scores are uniform over 2^256: about wanted + 8 standard deviations + 64 of them
        # fall below this bound, so that fewer than ``wanted`` practically never do.
        bound = ((wanted + 8 * isqrt(wanted) + 64) << 256) // len(entries)
        if bound < 1 << 256:
            cut = bound.to_bytes(32, "big")
            below = [i for i, s in enumerate(scores) if s < cut]
            if len(below) >= wanted:  # else rank everyone, below
                ranked = sorted((scores[i], entries[i].key, i) for i in below)[:wanted]
                return [entries[i] for _, _, i in ranked]
    ranked = heapq.nsmallest(
        wanted, ((s, e.key, i) for i, (s, e) in enumerate(zip(scores, entries, strict=True)))
    )
    return [entries[i] for _, _, i in ranked]


def sample_size(pool_size: int, rate_percent: Decimal | str | int) -> int:
    """People to select for a rate: pool x rate / 100, rounded half up (at least one when
    the pool and the rate are not empty)."""
    exact = Fraction(pool_size) * Fraction(str(rate_percent)) / 100
    n = int(exact + Fraction(1, 2))
    if n == 0 and exact > 0:
        n = 1
    return min(n, pool_size)


def draw(
    seed: str,
    pool: Sequence[PoolEntry],
    n: int,
    *,
    alternates: int = 0,
    by_unit: bool = False,
) -> DrawOutcome:
    """Select ``n`` people (and alternates) from ``pool``, deterministically from ``seed``.

    Single stage: every person's score is ``SHA-256(seed ":" key)``; people are taken in
    ascending score order (ties, which SHA-256 makes practically impossible, by key). Each
    ordering of the pool is equally likely, so each person has the same chance, n / N.

    Two stages (``by_unit``): unit u of N_u people gets the quota n x N_u / N, its whole part
    for sure and one more with a probability equal to its fractional part (systematic
    sampling over the units in ``SHA-256(seed ":unit:" code)`` order, from a start derived
    from ``SHA-256(seed ":start")``). Within a unit people are taken in score order. Each
    person's chance is again exactly n / N. Each unit with a quota gets up to ``alternates``
    alternates of its own, the next people in its order.
    """
    n = max(0, min(n, len(pool)))
    prefix = f"{seed}:".encode("ascii")
    if not by_unit:
        ordered = _lowest(prefix, pool, min(len(pool), n + max(0, alternates)))
        return DrawOutcome(selected=ordered[:n], alternates=ordered[n:])

    units: defaultdict[str, list[PoolEntry]] = defaultdict(list)
    for entry in pool:
        units[entry.unit].append(entry)
    total = len(pool)
    outcome = DrawOutcome()
    if total == 0 or n == 0:
        return outcome
    unit_order = sorted(units, key=lambda code: (_score(prefix, f"unit:{code}"), code))
    exact = {code: Fraction(n * len(units[code]), total) for code in unit_order}
    quotas = {code: int(exact[code]) for code in unit_order}  # floor: all are >= 0
    extra = n - sum(quotas.values())
    if extra:
        start = Fraction(int.from_bytes(_score(prefix, "start")[:8], "big"), 2**64)
        # The points start, start + 1, ..., start + extra - 1: a unit gets one more place for
        # each point in [low, high), its stretch of the cumulated remainders, that is for
        # each whole k with ceil(low - start) <= k < ceil(high - start).
        cumulative = Fraction(0)
        for code in unit_order:
            low, cumulative = cumulative, cumulative + (exact[code] - quotas[code])
            quotas[code] += max(0, ceil(cumulative - start) - ceil(low - start))
    for code in unit_order:
        quota = quotas[code]
        if quota == 0:
            continue
        members = units[code]
        ordered = _lowest(prefix, members, min(len(members), quota + max(0, alternates)))
        outcome.selected.extend(ordered[:quota])
        outcome.alternates.extend(ordered[quota:])
        outcome.quotas[code] = quota
    return outcome


# --- specimen IDs --------------------------------------------------------------------------

# Crockford's base-32 alphabet: no I, L, O or U, so a handwritten ID is not misread.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SPECIMEN_PREFIX = "PB"


def _times_x(value: int) -> int:
    """``value`` times x in GF(32) = GF(2)[x] / (x^5 + x^2 + 1)."""
    value <<= 1
    return value ^ 0b100101 if value & 0b100000 else value


def _check_character(body: str) -> str:
    """Damm's check over the alphabet, with the quasigroup a * b = x.a + b of GF(32): it is
    totally anti-symmetric, so any single wrong character and any swap of two neighbours
    (the check character included) is caught. (An ISO 7064 hybrid MOD 33,32 check, used
    before, missed some swaps: 33 is not prime.)"""
    interim = 0
    for char in body:
        interim = _times_x(interim) ^ _ALPHABET.index(char)
    return _ALPHABET[_times_x(interim)]


def new_specimen_id() -> str:
    """``PB-XXXX-XXXX-C``: eight random base-32 characters and a check character."""
    body = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"{SPECIMEN_PREFIX}-{body[:4]}-{body[4:]}-{_check_character(body)}"


def normalise_specimen_id(text: str) -> str:
    """What a person or a scanner typed, in the canonical form (upper case, dashes)."""
    cleaned = "".join(c for c in (text or "").upper() if c.isalnum())
    cleaned = cleaned.replace("O", "0").replace("I", "1").replace("L", "1")
    if len(cleaned) == 11 and cleaned.startswith(SPECIMEN_PREFIX):
        body, check = cleaned[2:10], cleaned[10]
        return f"{SPECIMEN_PREFIX}-{body[:4]}-{body[4:]}-{check}"
    return (text or "").strip().upper()


def specimen_id_valid(text: str) -> bool:
    parts = (text or "").split("-")
    if len(parts) != 4 or parts[0] != SPECIMEN_PREFIX:
        return False
    body = parts[1] + parts[2]
    if (
        len(parts[1]) != 4
        or len(body) != 8
        or len(parts[3]) != 1
        or any(c not in _ALPHABET for c in body)
    ):
        return False
    return _check_character(body) == parts[3]


# --- collection and custody (DOMAIN.md §2 "rejected", §3 refusals) ---------------------------

CUSTODY_EVENTS = ("sealed", "handed_over", "received", "aliquoted", "stored", "disposed")

#: The events as words inside a sentence ("a bottle cannot be stored right after ...").
_CUSTODY_WORDS = {
    "sealed": pgettext_lazy("custody event in a sentence", "sealed"),
    "handed_over": pgettext_lazy("custody event in a sentence", "handed over"),
    "received": pgettext_lazy("custody event in a sentence", "received"),
    "aliquoted": pgettext_lazy("custody event in a sentence", "aliquoted"),
    "stored": pgettext_lazy("custody event in a sentence", "stored"),
    "disposed": pgettext_lazy("custody event in a sentence", "disposed"),
}

#: Which event may follow which on one bottle. ``None`` is the bottle's first event.
_NEXT_EVENTS = {
    None: {"sealed"},
    "sealed": {"handed_over", "received", "stored"},
    "handed_over": {"handed_over", "received"},
    "received": {"aliquoted", "stored", "disposed", "handed_over"},
    "aliquoted": {"aliquoted", "stored", "disposed", "handed_over"},
    "stored": {"aliquoted", "stored", "disposed", "handed_over"},
    "disposed": set(),
}

# Fatal flaws: the reason codes of a rejected specimen.
FLAW_ID_MISMATCH = "id_mismatch"
FLAW_SEAL_BROKEN = "seal_broken"
FLAW_NO_COLLECTOR = "no_collector"
FLAW_INSUFFICIENT = "insufficient_specimen"
FATAL_FLAWS = (FLAW_ID_MISMATCH, FLAW_SEAL_BROKEN, FLAW_NO_COLLECTOR, FLAW_INSUFFICIENT)

#: Events may be stamped a little ahead of the server's clock (a collector's phone).
CLOCK_SKEW = timedelta(minutes=5)


def custody_sequence_error(previous: str | None, event: str) -> str | None:
    """Why ``event`` cannot follow ``previous`` on a bottle, or ``None``."""
    if event not in CUSTODY_EVENTS:
        return _("Unknown custody event %(event)s; use one of: %(events)s.") % {
            "event": repr(event),
            "events": ", ".join(CUSTODY_EVENTS),
        }
    if event in _NEXT_EVENTS[previous]:
        return None
    if previous == "disposed":
        return _("The bottle has been disposed of: nothing can happen to it any more.")
    if previous is None:
        return _("A bottle's first custody event is its sealing at collection.")
    return _("A bottle cannot be %(event)s right after being %(previous)s.") % {
        "event": _CUSTODY_WORDS[event],
        "previous": _CUSTODY_WORDS[previous],
    }


def custody_time_error(
    at: datetime, *, previous_at: datetime | None, collected_at: datetime, now: datetime
) -> str | None:
    if at > now + CLOCK_SKEW:
        return _("The time of a custody event cannot be in the future.")
    if at < collected_at:
        return _("A custody event cannot come before the collection.")
    if previous_at is not None and at < previous_at:
        return _("A custody event cannot come before the bottle's previous event.")
    return None


def fatal_flaw(
    *,
    event: str,
    seal_intact: bool | None,
    id_matches: bool | None,
    collector_known: bool,
    volume_ml: int | None,
    minimum_volume_ml: int | None,
) -> str | None:
    """The fatal flaw a custody event reveals, or ``None``. Checked on receipt at the
    laboratory (the specimen is examined there); a broken seal found at any hand-over is
    fatal too."""
    if seal_intact is False and event in {"handed_over", "received"}:
        return FLAW_SEAL_BROKEN
    if event != "received":
        return None
    if id_matches is False:
        return FLAW_ID_MISMATCH
    if not collector_known:
        return FLAW_NO_COLLECTOR
    if volume_ml is not None and minimum_volume_ml and volume_ml < minimum_volume_ml:
        return FLAW_INSUFFICIENT
    return None


#: Minimum specimen volumes by type (DOMAIN.md §3: 45 mL of urine). Types are data; this is
#: the default the data migration uses.
URINE_MINIMUM_ML = 45
#: Bottle A's minimum share of a split urine specimen (DOT: 30 mL in A, 15 mL in B).
SPLIT_A_MINIMUM_ML = 30
SPLIT_B_MINIMUM_ML = 15

#: A urine specimen's temperature within 4 minutes of voiding: 32-38 degrees Celsius.
TEMPERATURE_RANGE_C = (Decimal("32"), Decimal("38"))


def temperature_in_range(celsius: Decimal | None) -> bool | None:
    if celsius is None:
        return None
    low, high = TEMPERATURE_RANGE_C
    return low <= celsius <= high


def collection_errors(
    *,
    refused: bool,
    split: bool,
    volume_a_ml: int | None,
    volume_b_ml: int | None,
    identity_checked: bool,
    donor_confirmed: bool,
    collector_confirmed: bool,
    minimum_volume_ml: int | None,
) -> dict[str, str]:
    """Field -> what is wrong with a collection as recorded (an empty dict: nothing)."""
    errors: dict[str, str] = {}
    if refused:
        return errors
    if not identity_checked:
        errors["identity_checked"] = _("Check the donor's identity before collecting.")
    if not collector_confirmed:
        errors["collector_confirmed"] = _("The collector must confirm the collection.")
    if not donor_confirmed:
        errors["donor_confirmed"] = _(
            "The donor must confirm the collection; if they will not, record a refusal."
        )
    if volume_a_ml is not None and volume_a_ml < 0:
        errors["volume_a_ml"] = _("A volume cannot be negative.")
    if volume_b_ml is not None and volume_b_ml < 0:
        errors["volume_b_ml"] = _("A volume cannot be negative.")
    if not split and volume_b_ml:
        errors["volume_b_ml"] = _("There is no bottle B when the specimen is not split.")
    volumes_ok = "volume_a_ml" not in errors and "volume_b_ml" not in errors
    if volume_a_ml is not None and minimum_volume_ml and volumes_ok:
        total = volume_a_ml + (volume_b_ml or 0)
        if total < minimum_volume_ml:
            errors["volume_a_ml"] = _(
                "%(total)s mL is less than the %(minimum)s mL needed: wait for a "
                "sufficient specimen (up to 3 hours) or record a refusal with its reason."
            ) % {"total": total, "minimum": minimum_volume_ml}
    return errors
