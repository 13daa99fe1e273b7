"""The draw's fast paths give exactly what the plain ones give.

- ``selectors.pool_entries`` (one ordered pass over the status history, raw SQL) returns the
  same people as the ORM's ``selectors.eligible_pool`` (a correlated "latest status"
  subquery): on a varied roster, several days, several scopes, both ways of naming units.
- ``rules.pool_parse`` accepts exactly the snapshots its published format
  (``rules._POOL_LINES``) describes, and refuses the rest naming the line.
- ``services.draw_perform`` stores what the plain pipeline (ORM pool, ``pool_text``,
  ``pool_parse``, ``draw``) gives, and selections as ``bulk_create`` wrote them.
"""

import gzip
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from probity.personnel import rules as personnel_rules
from probity.personnel.models import Employment, StatusChange
from probity.personnel.tests.factories import EmploymentFactory
from probity.testing import rules, selectors, services
from probity.testing.models import Selection
from probity.testing.tests.factories import make_campaign

# --- pool_entries == eligible_pool --------------------------------------------------------


def _history(employment, *changes, actor):
    """Replace an employment's status history by ``changes``: (status, day), in id order."""
    StatusChange.objects.filter(employment=employment).delete()
    for status, day in changes:
        StatusChange.objects.create(
            employment=employment, status=status, effective_date=day, recorded_by=actor
        )


@pytest.fixture
def roster(db, org_tree, cast):
    """Employments over the NP tree and the prisons, with histories that make the status
    on a day a matter of order: same-day changes (the later id wins), future-dated
    changes, gaps, people with no status at all, every status."""
    actor = cast.administrator
    today = timezone.localdate()
    day = {n: today + timedelta(days=n) for n in range(-400, 40, 5)}
    p = personnel_rules
    units = [
        org_tree.np_root,
        org_tree.phnom_penh,
        org_tree.siem_reap,
        org_tree.siem_reap_district,
        org_tree.prisons_root,
    ]
    histories = [
        [(p.ACTIVE, day[-400])],
        [(p.ACTIVE, day[-400]), (p.DISMISSED, day[-100])],
        [(p.ACTIVE, day[-400]), (p.DISMISSED, day[-100]), (p.ACTIVE, day[-50])],
        # The same day twice: the later record (higher id) is in force.
        [(p.ACTIVE, day[-400]), (p.ACTIVE, day[-20]), (p.DISMISSED, day[-20])],
        [(p.ACTIVE, day[-400]), (p.DISMISSED, day[-20]), (p.ACTIVE, day[-20])],
        [(p.RESIGNED, day[-20]), (p.ACTIVE, day[-20]), (p.SUSPENDED, day[-20])],
        # Recorded out of date order: ids do not follow the days.
        [(p.RETIRED, day[-10]), (p.ACTIVE, day[-400])],
        [(p.SUSPENDED, day[-30]), (p.ACTIVE, day[-400]), (p.DEMOTED, day[-30])],
        # Future-dated: not yet in force today.
        [(p.ACTIVE, day[-400]), (p.DISMISSED, day[10])],
        [(p.ACTIVE, day[20])],
        [(p.ACTIVE, day[-400]), (p.RETIRED, day[-200]), (p.ACTIVE, day[30])],
        [(p.REMOVED, day[-300])],
        [(p.DEMOTED, day[-300]), (p.DECEASED, day[-5])],
        [],  # no status at all: not in service
    ]
    made = []
    for i in range(len(units) * len(histories)):
        employment = EmploymentFactory(unit=units[i % len(units)], start_date=date(2010, 1, 1))
        _history(employment, *histories[i % len(histories)], actor=actor)
        made.append(employment)
    return made


def _same_pool(campaign, on=None):
    orm = selectors.eligible_pool(campaign, on)
    expected = sorted(orm.values_list("pk", "service_number", "unit__code"))
    entries = selectors.pool_entries(campaign, on)
    assert [tuple(e) for e in entries] == expected  # the same people, sorted by id
    assert all(type(e) is rules.PoolEntry for e in entries)
    return {e.key for e in entries}


@pytest.mark.parametrize(
    ("name_units_in_sql", "chunk"),
    # Chunks of 1, 2 and 7 rows: an employment's history straddles chunks, or fills them.
    [(True, 100_000), (False, 1), (True, 2), (False, 7)],
)
def test_pool_entries_are_the_eligible_pool(
    roster, org_tree, cast, monkeypatch, name_units_in_sql, chunk
):
    if not name_units_in_sql:  # as with a scope of more units than the threshold
        monkeypatch.setattr(selectors, "_UNITS_NAMED_IN_SQL", 0)
    monkeypatch.setattr(selectors, "_POOL_CHUNK", chunk)
    manager = cast.programme_manager
    today = timezone.localdate()
    campaigns = [
        make_campaign(actor=manager, unit=org_tree.np_root, start=False),
        make_campaign(
            actor=manager, unit=org_tree.np_root, start=False, scope_units=[org_tree.siem_reap]
        ),
        make_campaign(
            actor=manager,
            unit=org_tree.np_root,
            start=False,
            scope_units=[org_tree.siem_reap_district, org_tree.phnom_penh],
        ),
        make_campaign(
            actor=manager,
            unit=org_tree.np_root,
            start=False,
            provinces=[org_tree.siem_reap.province],
        ),
        make_campaign(actor=manager, unit=org_tree.prisons_root, start=False),
    ]
    sizes = set()
    for campaign in campaigns:
        for offset in (-500, -150, -60, -25, -20, -15, 0, 15, 25, 35):
            sizes.add(len(_same_pool(campaign, today + timedelta(days=offset))))
        _same_pool(campaign)  # today by default
    assert len(sizes) > 5  # the days and scopes do change who is in the pool
    whole = _same_pool(campaigns[0])
    statuses = {
        e.pk: e.status_changes.order_by("-effective_date", "-id").filter(effective_date__lte=today)
        for e in roster
        if e.unit.agency_id == org_tree.np_root.agency_id
    }
    # By hand, for the whole NP: the latest change on or before today (ties: the later id).
    in_service = {
        pk for pk, changes in statuses.items()
        if changes and changes[0].status in personnel_rules.IN_SERVICE
    }  # fmt: skip
    assert whole == in_service
    assert len(whole) < len(statuses)


def test_pool_entries_of_an_empty_scope(org_tree, cast):
    campaign = make_campaign(actor=cast.programme_manager, unit=org_tree.np_root, start=False)
    assert selectors.pool_entries(campaign) == []
    assert not selectors.eligible_pool(campaign).exists()


def test_pool_entries_leave_out_an_employment_of_another_agency_in_scope(org_tree, cast):
    """The agency is the employment's own, as in eligible_pool, not only its unit's."""
    inside, stray = (
        EmploymentFactory(unit=org_tree.siem_reap),
        EmploymentFactory(unit=org_tree.siem_reap),
    )
    Employment.objects.filter(pk=stray.pk).update(agency=org_tree.prisons_root.agency)
    campaign = make_campaign(actor=cast.programme_manager, unit=org_tree.np_root, start=False)
    assert _same_pool(campaign) == {inside.pk}


# --- pool_parse against its published format -----------------------------------------------

_pieces = st.sampled_from(["1", "07", "12", "x", "", "\t", "\n", "ល", " ", "٣", "²", "-"])


@given(st.lists(_pieces, max_size=14).map("".join))
def test_pool_parse_accepts_exactly_the_published_format(text):
    raw = text.encode("utf-8")
    well_formed = rules._POOL_LINES.fullmatch(raw) is not None and (not raw or raw[-1:] == b"\n")
    try:
        parsed = rules.pool_parse(raw)
    except ValueError as exc:
        assert raw and not (well_formed and _increasing(raw)), (raw, exc)
        assert re.fullmatch(MESSAGES, str(exc))
        return
    assert well_formed
    lines = [line.split("\t") for line in text.split("\n")[:-1]]
    assert parsed == [rules.PoolEntry(int(k), s, u) for k, s, u in lines]
    assert all(type(e) is rules.PoolEntry for e in parsed)


MESSAGES = (
    r"(Line \d+ of the pool snapshot is (malformed|out of order)"
    r"|The pool snapshot does not end with a newline)\."
)


def _increasing(raw: bytes) -> bool:
    keys = [int(line.split(b"\t")[0]) for line in raw.split(b"\n")[:-1]]
    return all(a < b for a, b in zip(keys, keys[1:], strict=False))


def test_pool_parse_names_the_first_malformed_line():
    good = rules.pool_text([rules.PoolEntry(k, f"S{k}", "U") for k in range(1, 6)])
    for bad, number in (
        (b"3\tS3\n", 3),  # one tab
        (b"3\tS3\tU\tX\n", 3),  # three tabs
        (b"\tS3\tU\n", 3),  # no key
        (b"+3\tS3\tU\n", 3),  # int() would take it
        ("٣\tS3\tU\n".encode(), 3),  # a digit, not an ASCII one
    ):
        lines = good.splitlines(keepends=True)
        lines[2] = bad
        with pytest.raises(ValueError, match=f"Line {number} of the pool snapshot is malformed"):
            rules.pool_parse(b"".join(lines))


# --- draw_perform == the plain pipeline ------------------------------------------------------


@pytest.mark.parametrize("by_unit", [False, True])
def test_draw_perform_stores_what_the_plain_pipeline_gives(roster, org_tree, cast, by_unit):
    manager = cast.programme_manager
    campaign = make_campaign(
        actor=manager,
        unit=org_tree.np_root,
        rate_percent=Decimal("30"),
        by_unit=by_unit,
        alternates=2,
    )
    draw = services.draw_commit(actor=manager, campaign=campaign, seed="5e" * 32)
    # The plain way, as before the fast paths: the ORM's pool, sorted by pool_text,
    # read back by pool_parse, drawn.
    rows = selectors.eligible_pool(campaign).values_list("pk", "service_number", "unit__code")
    text = rules.pool_text([rules.PoolEntry(*row) for row in rows])
    pool = rules.pool_parse(text)
    n = rules.sample_size(len(pool), campaign.rate_percent)
    outcome = rules.draw(draw.seed, pool, n, alternates=draw.alternates, by_unit=by_unit)

    drawn = services.draw_perform(actor=manager, draw=draw)
    assert gzip.decompress(bytes(drawn.pool_snapshot)) == text
    assert drawn.pool_digest == rules.pool_digest(text)
    assert drawn.pool_size == len(pool) and drawn.sample_size == n
    stored = list(
        Selection.objects.filter(draw=drawn)
        .order_by("kind", "position")
        .values_list(
            "kind", "position", "employment_id", "unit__code", "excused", "excusal_reason",
            "excused_by", "excused_at", "replaces",
        )
    )  # fmt: skip
    expected = [
        (Selection.Kind.ALTERNATE, i, e.key, e.unit, False, "", None, None, None)
        for i, e in enumerate(outcome.alternates, start=1)
    ] + [
        (Selection.Kind.SELECTED, i, e.key, e.unit, False, "", None, None, None)
        for i, e in enumerate(outcome.selected, start=1)
    ]
    assert stored == expected and outcome.selected
    assert drawn.selection_digest == selectors.selection_digest(
        [e.key for e in outcome.selected], [e.key for e in outcome.alternates]
    )
    assert selectors.draw_verify(drawn).ok
