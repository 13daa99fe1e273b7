"""A draw can be verified by anyone, and tampering with it is caught.

(a) A second, independent implementation of the published algorithm, written here from
    docs/decisions/0007-random-draw.md with nothing but ``hashlib`` and ``fractions`` (it
    imports neither ``rules.draw`` nor ``rules.pool_text`` nor ``rules.sample_size``), re-runs
    draws made through the services and must find the stored selections, in order.
(b) Tampering with the stored draw (pool, seed, commitment, selections, parameters) is caught
    by ``selectors.draw_verify`` and by ``manage.py verify_draw``, each by the check meant to.
(c) Everyone in the pool has the same chance: a chi-square test over 2,000 deterministic
    seeds, single stage and two stages over an uneven unit split.
(d) ``manage.py verify_draw``: output, exit status, unknown draws, ``--pool-out``.
(e) Commanders cannot see draws; the programme manager and the auditor can.
"""

import gzip
import hashlib
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from probity.audit.models import AuditEntry
from probity.personnel import services as personnel_services
from probity.personnel.tests.factories import registrar
from probity.testing import policies, rules, selectors, services
from probity.testing.models import Draw, Selection
from probity.testing.tests.factories import make_campaign, make_draw, people

SEED = "0f" * 32
OTHER_SEED = "a1" * 32

# --- (a) the published algorithm, implemented again from the decision record -----------------


def ref_parse(text: bytes) -> list[tuple[int, str, str]]:
    """Lines ``key TAB service_number TAB unit LF``, keys ascending."""
    rows = []
    for line in text.decode("utf-8").splitlines():
        key, number, unit = line.split("\t")
        rows.append((int(key), number, unit))
    assert [r[0] for r in rows] == sorted({r[0] for r in rows}), "keys not strictly ascending"
    return rows


def ref_pool_text(rows) -> bytes:
    return "".join(f"{k}\t{s}\t{u}\n" for k, s, u in sorted(rows)).encode("utf-8")


def ref_sample_size(pool_size: int, rate: str) -> int:
    exact = Fraction(pool_size) * Fraction(rate) / 100
    n = (exact * 2 + 1) // 2  # half up
    if exact > 0:
        n = max(n, 1)
    return int(min(n, pool_size))


def sha(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


def ref_draw(seed: str, rows, n: int, alternates: int, by_unit: bool):
    """(selected keys, alternate keys) as the decision record describes."""

    def ranked(members):
        return [k for _, k in sorted((sha(f"{seed}:{k}"), k) for k, _, _ in members)]

    if not by_unit:
        order = ranked(rows)
        return order[:n], order[n : n + alternates]
    units: dict[str, list] = {}
    for row in rows:
        units.setdefault(row[2], []).append(row)
    total = len(rows)
    unit_order = sorted(units, key=lambda code: (sha(f"{seed}:unit:{code}"), code))
    share = {u: Fraction(n * len(units[u]), total) for u in unit_order}
    quota = {u: share[u].numerator // share[u].denominator for u in unit_order}
    extra = n - sum(quota.values())
    start = Fraction(int.from_bytes(sha(f"{seed}:start")[:8], "big"), 2**64)
    low = Fraction(0)
    for u in unit_order:
        high = low + share[u] - quota[u]
        # the points start, start + 1, ..., start + extra - 1 that fall in [low, high)
        quota[u] += sum(1 for k in range(extra) if low <= start + k < high)
        low = high
    selected, spare = [], []
    for u in unit_order:
        if quota[u] == 0:
            continue
        order = ranked(units[u])
        selected += order[: quota[u]]
        spare += order[quota[u] : quota[u] + alternates]
    return selected, spare


def ref_selection_digest(selected, spare) -> str:
    text = f"selected:{','.join(map(str, selected))};alternates:{','.join(map(str, spare))}"
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def stored(draw):
    rows = list(draw.selections.order_by("kind", "position").values_list("kind", "employment"))
    return (
        [e for k, e in rows if k == Selection.Kind.SELECTED],
        [e for k, e in rows if k == Selection.Kind.ALTERNATE],
    )


def audit_after(draw, action):
    return (
        AuditEntry.objects.filter(action=action, object_type="testing.draw", object_id=draw.pk)
        .values_list("after", flat=True)
        .get()
    )


@pytest.fixture
def staffed(org_tree):
    """26 people in service over four units (uneven), one who resigned yesterday (not
    eligible), one who retires next week (still eligible today)."""
    t = org_tree
    everyone = (
        people(t.np_root, 3)
        + people(t.phnom_penh, 7)
        + people(t.siem_reap, 11)
        + people(t.siem_reap_district, 5)
    )
    actor = registrar()
    today = timezone.localdate()
    gone, later = people(t.phnom_penh, 1)[0], everyone[4]
    personnel_services.status_record(
        actor=actor,
        employment=gone,
        status="resigned",
        effective_date=today - timedelta(days=1),
        reason="Resignation letter",
    )
    personnel_services.status_record(
        actor=actor,
        employment=later,
        status="retired",
        effective_date=today + timedelta(days=7),
        reason="Age limit",
    )
    return {"eligible": everyone, "gone": gone}


def check_independently(draw, staffed, *, rate: str | None):
    text = gzip.decompress(bytes(draw.pool_snapshot))
    assert hashlib.sha256(text).hexdigest() == draw.pool_digest
    rows = ref_parse(text)
    # The pool is exactly the eligible people: key, service number and unit code.
    expected_rows = sorted((e.pk, e.service_number, e.unit.code) for e in staffed["eligible"])
    assert rows == expected_rows
    assert ref_pool_text(rows) == text
    assert staffed["gone"].pk not in {r[0] for r in rows}
    n = ref_sample_size(len(rows), rate) if rate else draw.sample_size
    assert draw.sample_size == n
    assert hashlib.sha256(draw.seed.encode("ascii")).hexdigest() == draw.seed_hash
    assert audit_after(draw, "testing.draw_commit")["seed_hash"] == draw.seed_hash
    selected, spare = ref_draw(draw.seed, rows, n, draw.alternates, draw.by_unit)
    assert stored(draw) == (selected, spare)
    digest = ref_selection_digest(selected, spare)
    assert digest == draw.selection_digest
    assert audit_after(draw, "testing.draw_perform")["selection_digest"] == digest
    return selected, spare


@pytest.mark.parametrize("seed", [SEED, OTHER_SEED, "0123456789abcdef"])
def test_single_stage_draw_matches_the_independent_implementation(cast, staffed, seed):
    campaign = make_campaign(
        actor=cast.programme_manager, unit=cast.unit, rate_percent=Decimal("30"),
        alternates=3,
    )  # fmt: skip
    draw = make_draw(actor=cast.programme_manager, campaign=campaign, seed=seed)
    selected, spare = check_independently(draw, staffed, rate="30")
    assert len(selected) == 8  # 26 x 30 % = 7.8
    assert len(spare) == 3
    assert selectors.draw_verify(draw).ok


@pytest.mark.parametrize("seed", [SEED, OTHER_SEED, "fedcba9876543210" * 2])
def test_two_stage_draw_matches_the_independent_implementation(cast, org_tree, staffed, seed):
    campaign = make_campaign(
        actor=cast.programme_manager, unit=cast.unit, rate_percent=Decimal("25"),
        alternates=2, by_unit=True,
    )  # fmt: skip
    draw = make_draw(actor=cast.programme_manager, campaign=campaign, seed=seed)
    selected, spare = check_independently(draw, staffed, rate="25")
    assert len(selected) == 7  # 26 x 25 % = 6.5, half up
    units = Counter(Selection.objects.filter(draw=draw, kind="selected").values_list(
        "unit__code", flat=True))  # fmt: skip
    # each unit gets the whole part of its share, or one more (shares 0.81, 1.88, 2.96, 1.35)
    assert units["NP-HQ"] in {0, 1}
    assert units["NP-PP"] in {1, 2}
    assert units["NP-SR"] in {2, 3}
    assert units[org_tree.siem_reap_district.code] in {1, 2}
    assert audit_after(draw, "testing.draw_perform")["quotas"] == {
        code: count for code, count in units.items() if count
    }
    assert selectors.draw_verify(draw).ok


def test_draw_with_a_fixed_sample_size(cast, staffed):
    campaign = make_campaign(actor=cast.programme_manager, unit=cast.unit, alternates=1)
    draw = make_draw(actor=cast.programme_manager, campaign=campaign, seed=SEED, sample_size=5)
    selected, _ = check_independently(draw, staffed, rate=None)
    assert len(selected) == 5
    assert selectors.draw_verify(draw).ok


def test_the_independent_implementation_agrees_with_rules_draw_on_many_pools():
    """Beyond the few draws above: random pools and seeds, both kinds of draw."""
    for i in range(150):
        seed = hashlib.sha256(f"agree-{i}".encode()).hexdigest()[: 16 + i % 49]
        size = 1 + i % 37
        rows = [(k * 7 + i, f"S{k}", f"U{(k * k + i) % (1 + i % 6)}") for k in range(size)]
        pool = [rules.PoolEntry(*row) for row in rows]
        assert ref_pool_text(rows) == rules.pool_text(pool)
        rate = f"{1 + (i * 13) % 100}.{i % 10}"
        n = ref_sample_size(size, rate)
        assert n == rules.sample_size(size, rate)
        for by_unit in (False, True):
            outcome = rules.draw(seed, pool, n, alternates=i % 4, by_unit=by_unit)
            assert ref_draw(seed, rows, n, i % 4, by_unit) == (
                [e.key for e in outcome.selected],
                [e.key for e in outcome.alternates],
            )


# --- (b) tampering ---------------------------------------------------------------------------


@pytest.fixture
def drawn(cast, staffed):
    campaign = make_campaign(
        actor=cast.programme_manager, unit=cast.unit, rate_percent=Decimal("30"),
        alternates=2, by_unit=True,
    )  # fmt: skip
    return make_draw(actor=cast.programme_manager, campaign=campaign, seed=SEED)


def failed_checks(draw) -> set[str]:
    result = selectors.draw_verify(Draw.objects.get(pk=draw.pk))
    failed = {name for name, passed, _ in result.checks if not passed}
    assert result.ok is not bool(failed)
    return failed


def command_fails(draw) -> str:
    with pytest.raises(CommandError) as caught:
        call_command("verify_draw", str(draw.pk), stdout=StringIO())
    assert caught.value.returncode == 1
    return str(caught.value)


def replace_pool(draw, text: bytes, *, fix_digest: bool) -> None:
    changes = {"pool_snapshot": rules.pool_compress(text)}
    if fix_digest:
        changes["pool_digest"] = hashlib.sha256(text).hexdigest()
    Draw.objects.filter(pk=draw.pk).update(**changes)


def test_an_untouched_draw_passes_every_check(drawn):
    result = selectors.draw_verify(drawn)
    assert result.ok
    assert [name for name, _, _ in result.checks] == [
        "seed",
        "commitment_logged",
        "pool",
        "pool_logged",
        "parameters",
        "selection",
        "selection_logged",
    ]
    assert all(passed for _, passed, _ in result.checks)


def test_a_person_added_to_the_pool_is_caught_even_with_a_matching_digest(drawn):
    text = selectors.pool_of(drawn) + b"999999\tINTRUDER\tNP-PP\n"
    replace_pool(drawn, text, fix_digest=True)
    assert "pool_logged" in failed_checks(drawn)
    assert "pool" not in failed_checks(drawn)  # the digest was forged to match
    assert "pool_logged" in command_fails(drawn)


def test_a_person_removed_from_the_pool_is_caught_even_with_a_matching_digest(drawn):
    selected = set(stored(drawn)[0]) | set(stored(drawn)[1])
    lines = selectors.pool_of(drawn).splitlines(keepends=True)
    victim = next(line for line in lines if int(line.split(b"\t")[0]) not in selected)
    replace_pool(drawn, b"".join(line for line in lines if line != victim), fix_digest=True)
    assert "pool_logged" in failed_checks(drawn)
    assert "pool_logged" in command_fails(drawn)


def test_a_changed_pool_without_its_digest_is_caught(drawn):
    text = selectors.pool_of(drawn).replace(b"NP-SR\n", b"NP-PP\n", 1)
    replace_pool(drawn, text, fix_digest=False)
    assert {"pool"} <= failed_checks(drawn)


def test_a_pool_that_is_not_a_snapshot_is_caught(drawn):
    Draw.objects.filter(pk=drawn.pk).update(pool_snapshot=b"not gzip at all")
    assert "pool" in failed_checks(drawn)
    replace_pool(drawn, b"2\tA\tU\n1\tB\tU\n", fix_digest=True)
    result = selectors.draw_verify(Draw.objects.get(pk=drawn.pk))
    assert ("pool", False, "Line 2 of the pool snapshot is out of order.") in result.checks
    command_fails(drawn)


def test_a_changed_seed_is_caught(drawn):
    Draw.objects.filter(pk=drawn.pk).update(seed=OTHER_SEED)
    assert {"seed", "selection", "selection_logged"} <= failed_checks(drawn)
    assert "seed" in command_fails(drawn)


def test_a_changed_seed_with_a_matching_commitment_is_caught_by_the_audit_log(drawn):
    Draw.objects.filter(pk=drawn.pk).update(
        seed=OTHER_SEED, seed_hash=rules.seed_commitment(OTHER_SEED)
    )
    failed = failed_checks(drawn)
    assert "seed" not in failed
    assert {"commitment_logged", "selection"} <= failed
    assert "commitment_logged" in command_fails(drawn)


def test_a_changed_commitment_is_caught(drawn):
    Draw.objects.filter(pk=drawn.pk).update(seed_hash="0" * 64)
    assert {"seed", "commitment_logged"} <= failed_checks(drawn)


def test_reordered_selections_are_caught(drawn):
    first, second = Selection.objects.filter(draw=drawn, kind="selected").order_by("position")[:2]
    Selection.objects.filter(pk=first.pk).update(position=10_000)
    Selection.objects.filter(pk=second.pk).update(position=first.position)
    Selection.objects.filter(pk=first.pk).update(position=second.position)
    assert failed_checks(drawn) == {"selection"}
    assert "selection" in command_fails(drawn)


def test_a_selected_person_swapped_for_someone_else_is_caught(drawn, staffed):
    chosen = set(stored(drawn)[0]) | set(stored(drawn)[1])
    spared = next(e for e in staffed["eligible"] if e.pk not in chosen)
    victim = Selection.objects.filter(draw=drawn, kind="selected").order_by("position").last()
    Selection.objects.filter(pk=victim.pk).update(employment=spared, unit=spared.unit)
    assert failed_checks(drawn) == {"selection"}


def test_a_selected_person_swapped_with_an_alternate_is_caught(drawn):
    selected = Selection.objects.filter(draw=drawn, kind="selected").order_by("position").first()
    alternate = Selection.objects.filter(draw=drawn, kind="alternate").order_by("position").first()
    Selection.objects.filter(pk=selected.pk).update(employment=alternate.employment)
    Selection.objects.filter(pk=alternate.pk).update(employment=selected.employment)
    assert failed_checks(drawn) == {"selection"}


def test_a_deleted_selection_is_caught(drawn):
    Selection.objects.filter(draw=drawn, kind="alternate").order_by("-position").first().delete()
    assert failed_checks(drawn) == {"selection"}


def test_a_rewritten_selection_digest_is_caught(drawn):
    Draw.objects.filter(pk=drawn.pk).update(selection_digest="f" * 64)
    assert failed_checks(drawn) == {"selection_logged"}


@pytest.mark.parametrize(
    "change", [{"alternates": 5}, {"by_unit": False}, {"sample_size": 3}, {"rate_percent": 40}]
)
def test_changed_parameters_are_caught(drawn, change):
    Draw.objects.filter(pk=drawn.pk).update(**change)
    assert "parameters" in failed_checks(drawn)
    assert "parameters" in command_fails(drawn)


def test_parameters_changed_between_commitment_and_draw_are_caught(cast, staffed):
    """Whoever could read the seed before the draw cannot then pick the sample size."""
    campaign = make_campaign(
        actor=cast.programme_manager, unit=cast.unit, rate_percent=Decimal("30")
    )
    draw = services.draw_commit(actor=cast.programme_manager, campaign=campaign, seed=SEED)
    Draw.objects.filter(pk=draw.pk).update(rate_percent=Decimal("20"))
    draw = services.draw_perform(actor=cast.programme_manager, draw=draw)
    assert failed_checks(draw) == {"parameters"}


def test_a_draw_not_yet_made_cannot_be_verified(cast, staffed):
    campaign = make_campaign(actor=cast.programme_manager, unit=cast.unit)
    draw = services.draw_commit(actor=cast.programme_manager, campaign=campaign)
    result = selectors.draw_verify(draw)
    assert not result.ok
    assert result.checks == [("drawn", False, "The draw has not taken place yet.")]
    with pytest.raises(CommandError, match="has not been made yet") as caught:
        call_command("verify_draw", str(draw.pk), stdout=StringIO())
    assert caught.value.returncode == 2


# --- (c) equal chance --------------------------------------------------------------------------
#
# 2,000 draws of 10 from a pool of 50 (p = 1/5), seeds SHA-256("equal-chance-<i>") for i in
# 0..1999, fixed, so the test is reproducible. Each person's count c_i has mean R p = 400. The
# draws are without replacement, so Var(c_i) = R p (1 - p) and the counts are negatively
# correlated; the statistic
#     X2 = sum_i (c_i - R p)^2 / (R p (1 - p) N / (N - 1))
# has mean N - 1 = 49 under equal chances and is close to chi-square with 49 degrees of
# freedom (exactly so for the single stage, as N grows). Significance 0.001: the critical
# value of chi-square(49) at 0.999 is 85.351 (tables; scipy.stats.chi2.ppf(0.999, 49)).

ROUNDS = 2000
POOL = 50
DRAWN = 10
CRITICAL_CHI2_49_0999 = 85.351
# An uneven split over five units: shares 0.6, 1.4, 2.2, 2.8, 3.0 of the 10.
UNEVEN = {"A": 3, "B": 7, "C": 11, "D": 14, "E": 15}


def equal_chance_pool():
    codes = [code for code, count in UNEVEN.items() for _ in range(count)]
    return [rules.PoolEntry(k, f"S{k}", codes[k - 1]) for k in range(1, POOL + 1)]


def chi_square(counts: Counter) -> float:
    p = DRAWN / POOL
    expected = ROUNDS * p
    scale = ROUNDS * p * (1 - p) * POOL / (POOL - 1)
    return sum((counts[k] - expected) ** 2 for k in range(1, POOL + 1)) / scale


def seeds():
    return [hashlib.sha256(f"equal-chance-{i}".encode()).hexdigest() for i in range(ROUNDS)]


@pytest.mark.parametrize("by_unit", [False, True])
def test_everyone_has_the_same_chance(by_unit):
    pool = equal_chance_pool()
    counts: Counter = Counter()
    unit_counts: Counter = Counter()
    for seed in seeds():
        outcome = rules.draw(seed, pool, DRAWN, by_unit=by_unit)
        assert len(outcome.selected) == DRAWN
        counts.update(e.key for e in outcome.selected)
        unit_counts.update(e.unit for e in outcome.selected)
    assert sum(counts.values()) == ROUNDS * DRAWN
    statistic = chi_square(counts)
    assert statistic < CRITICAL_CHI2_49_0999, (statistic, counts)
    # The units too get their share: ROUNDS x n x N_u / N on average (within 5 %).
    for code, size in UNEVEN.items():
        expected = ROUNDS * DRAWN * size / POOL
        assert abs(unit_counts[code] - expected) < 0.05 * expected, (code, unit_counts)


def test_the_chance_test_catches_a_biased_draw():
    """The same test rejects a draw that favours low keys a little (so it can fail)."""
    pool = equal_chance_pool()
    counts: Counter = Counter()
    for seed in seeds():
        ranked = rules.draw(seed, pool, DRAWN + 1).selected
        # drop the highest key of the 11 lowest scores: a mild bias against high keys
        counts.update(sorted(e.key for e in ranked)[:DRAWN])
    assert chi_square(counts) > CRITICAL_CHI2_49_0999


def test_the_chance_test_catches_rounding_quotas_to_nearest():
    """A two-stage draw that rounds each unit's quota to the nearest whole number (the usual
    mistake) gives small units the wrong chance; the test sees it."""
    pool = equal_chance_pool()
    counts: Counter = Counter()
    for seed in seeds():
        for code, size in UNEVEN.items():
            quota = int(Fraction(DRAWN * size, POOL) + Fraction(1, 2))
            members = [e for e in pool if e.unit == code]
            ranked = sorted(members, key=lambda e: sha(f"{seed}:{e.key}"))
            counts.update(e.key for e in ranked[:quota])
    assert chi_square(counts) > CRITICAL_CHI2_49_0999


# --- (d) the command ------------------------------------------------------------------------


def test_verify_draw_command_passes(drawn):
    out = StringIO()
    call_command("verify_draw", str(drawn.pk), stdout=out)
    text = out.getvalue()
    for name in ("seed", "commitment_logged", "pool", "pool_logged", "parameters",
                 "selection", "selection_logged"):  # fmt: skip
        assert f"pass  {name}" in text
    assert "FAIL" not in text
    assert f"Re-run: {drawn.sample_size} selected, " in text
    first = (
        Selection.objects.filter(draw=drawn, kind="selected")
        .order_by("position")
        .values_list("employment__service_number", flat=True)
    )
    assert f"First selected, in order: {', '.join(first[:10])}" in text
    assert f"Draw {drawn.pk} verified: every check passed." in text
    assert drawn.seed in text and drawn.seed_hash in text


def test_verify_draw_command_exit_status_on_tampering(drawn, monkeypatch):
    """Run from the command line, the exit status is what a script relies on."""
    from django.db import connections

    from probity.testing.management.commands.verify_draw import Command

    # run_from_argv closes every connection when it ends, as a process would; inside the
    # test's transaction that would cut the connection under it (PostgreSQL notices).
    monkeypatch.setattr(connections, "close_all", lambda: None)

    argv = ["manage.py", "verify_draw", str(drawn.pk)]
    out, err = StringIO(), StringIO()
    Command(stdout=out, stderr=err).run_from_argv(argv)  # passes: returns normally
    assert "every check passed" in out.getvalue()
    Draw.objects.filter(pk=drawn.pk).update(seed=OTHER_SEED)
    out, err = StringIO(), StringIO()
    with pytest.raises(SystemExit) as exited:
        Command(stdout=out, stderr=err).run_from_argv(argv)
    assert exited.value.code == 1
    assert "FAIL  seed" in out.getvalue()
    assert "FAILED verification: seed, selection, selection_logged" in err.getvalue()


@pytest.mark.django_db
def test_verify_draw_unknown_draw():
    with pytest.raises(CommandError, match="There is no draw with id 987654") as caught:
        call_command("verify_draw", "987654", stdout=StringIO())
    assert caught.value.returncode == 2


@pytest.mark.django_db
def test_verify_draw_needs_a_number():
    with pytest.raises(CommandError, match="invalid int value"):
        call_command("verify_draw", "draw-one", stdout=StringIO())


def test_verify_draw_pool_out(drawn, tmp_path):
    target = tmp_path / "pool.tsv"
    out = StringIO()
    call_command("verify_draw", str(drawn.pk), "--pool-out", str(target), stdout=out)
    text = target.read_bytes()
    assert hashlib.sha256(text).hexdigest() == drawn.pool_digest
    rows = ref_parse(text)
    assert len(rows) == drawn.pool_size
    # An outsider re-runs the draw from the file and the printed seed alone.
    assert ref_draw(drawn.seed, rows, drawn.sample_size, drawn.alternates, True) == stored(drawn)
    assert f"pool written to: {target}" in out.getvalue()


def test_verify_draw_pool_out_unwritable(drawn, tmp_path):
    with pytest.raises(CommandError, match="Cannot write the pool") as caught:
        call_command(
            "verify_draw", str(drawn.pk), "--pool-out", str(tmp_path / "no" / "such" / "f"),
            stdout=StringIO(),
        )  # fmt: skip
    assert caught.value.returncode == 2


# --- (e) who sees draws ---------------------------------------------------------------------


def test_commanders_cannot_see_draws(cast, drawn):
    campaign = drawn.campaign
    assert selectors.draw_get(cast.commander, drawn.pk) is None
    assert not policies.can_view_draws(cast.commander, campaign)
    assert not selectors.draws_for(cast.commander, campaign).exists()
    assert not cast.commander.has_perm("testing.view_draw")


@pytest.mark.parametrize("role", ["programme_manager", "auditor"])
def test_programme_manager_and_auditor_see_draws(cast, drawn, role):
    user = getattr(cast, role)
    assert selectors.draw_get(user, drawn.pk) == drawn
    assert policies.can_view_draws(user, drawn.campaign)
    assert list(selectors.draws_for(user, drawn.campaign)) == [drawn]


@pytest.mark.parametrize("role", ["collector", "lab_analyst", "administrator"])
def test_other_roles_cannot_see_draws(cast, drawn, role):
    user = getattr(cast, role)
    assert selectors.draw_get(user, drawn.pk) is None
    assert not policies.can_view_draws(user, drawn.campaign)


def test_a_provincial_programme_manager_cannot_see_a_national_draw(siem_reap_cast, drawn):
    user = siem_reap_cast.programme_manager
    assert selectors.draw_get(user, drawn.pk) is None
    assert not policies.can_view_draws(user, drawn.campaign)
