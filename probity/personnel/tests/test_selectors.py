"""Reads of the registry: the status derived from history, search in both scripts,
filters, sorts and headcounts."""

import unicodedata
from datetime import date, timedelta

import pytest
from django.utils import timezone

from probity.org.tests.factories import RankFactory
from probity.personnel import rules, selectors
from probity.personnel.services import employment_change, status_record
from probity.personnel.tests.factories import EmploymentFactory, registrar

pytestmark = pytest.mark.django_db

START = date(2018, 1, 1)
TODAY = timezone.localdate()
# NFC puts COENG (class 9) before ATTHACAN (class 230); the typed form has them the other way
# round and a zero-width space, as Khmer keyboards produce.
KM_GIVEN_NFC = unicodedata.normalize("NFC", "ស\u17d2\u17ddរី")
KM_GIVEN_TYPED = "\u200bស\u17dd\u17d2រី"


def _record(employment, status, day, **kwargs):
    status_record(
        actor=registrar(),
        employment=employment,
        status=status,
        effective_date=day,
        reason=kwargs.pop("reason", "Order"),
        **kwargs,
    )


@pytest.fixture
def roster(org_tree):
    """Five people: three in Siem Reap's subtree, one in Phnom Penh, one in the prisons."""
    police = org_tree.police
    ranks = {
        "CST": RankFactory(agency=police, code="CST", name_en="Constable", order=1),
        "LT": RankFactory(agency=police, code="LT", name_en="Lieutenant", order=5),
    }

    def make(unit, family, given, name_km, service_number, rank=None):
        return EmploymentFactory(
            unit=unit,
            family_name=family,
            given_name=given,
            name_km=name_km,
            service_number=service_number,
            rank=ranks[rank] if rank else None,
            start_date=START,
        )

    people = {
        "dara": make(org_tree.siem_reap, "Sok", "Dara", "សុខ ដារា", "SR-0001", "LT"),
        "srey": make(
            org_tree.siem_reap_district,
            "Chan",
            "Srey",
            f"ចាន់ {KM_GIVEN_NFC}",
            "SR-0002",
            "CST",
        ),
        "bopha": make(org_tree.siem_reap, "Keo", "Bopha", "កែវ បុប្ផា", "SR-0100", "CST"),
        "kosal": make(org_tree.phnom_penh, "Meas", "Kosal", "មាស កុសល", "PP-0001"),
        "vanna": make(org_tree.prisons_root, "Sokha", "Vanna", "សុខា វណ្ណា", "SR-0003"),
    }
    # Dara: suspended last year, active again since; Srey: dismissed two years ago;
    # Bopha: active, dismissal ordered to take effect next month; Kosal: retired.
    _record(people["dara"], rules.SUSPENDED, TODAY - timedelta(days=400))
    _record(people["dara"], rules.ACTIVE, TODAY - timedelta(days=300), reason="")
    _record(people["srey"], rules.DISMISSED, TODAY - timedelta(days=730))
    _record(people["bopha"], rules.DISMISSED, TODAY + timedelta(days=30))
    _record(people["kosal"], rules.RETIRED, TODAY - timedelta(days=10))
    return people


def _keys(roster, qs):
    by_pk = {e.pk: key for key, e in roster.items()}
    return [by_pk[e.pk] for e in qs]


def _found(roster, user, **kwargs):
    return set(_keys(roster, selectors.employments_for(user, **kwargs)))


def _statuses(roster, user, **kwargs):
    rows = list(selectors.employments_for(user, **kwargs))
    return dict(zip(_keys(roster, rows), (e.current_status for e in rows), strict=True))


# --- status derived from the history ------------------------------------------------------


def test_status_today_comes_from_the_history(roster, superuser):
    assert _statuses(roster, superuser) == {
        "dara": rules.ACTIVE,
        "srey": rules.DISMISSED,
        "bopha": rules.ACTIVE,  # the dismissal is not in force yet
        "kosal": rules.RETIRED,
        "vanna": rules.ACTIVE,
    }


def test_status_on_a_past_or_future_day(roster, superuser):
    then = TODAY - timedelta(days=350)
    assert _statuses(roster, superuser, on=then) == {
        "dara": rules.SUSPENDED,
        "srey": rules.DISMISSED,
        "bopha": rules.ACTIVE,
        "kosal": rules.ACTIVE,
        "vanna": rules.ACTIVE,
    }
    later = TODAY + timedelta(days=30)
    assert _statuses(roster, superuser, on=later)["bopha"] == rules.DISMISSED
    before_start = START - timedelta(days=1)
    assert set(_statuses(roster, superuser, on=before_start).values()) == {None}


def test_same_day_statuses_resolve_to_the_later_recording(roster, superuser):
    day = TODAY - timedelta(days=5)
    _record(roster["vanna"], rules.SUSPENDED, day)
    _record(roster["vanna"], rules.DISMISSED, day)
    assert _statuses(roster, superuser)["vanna"] == rules.DISMISSED


def test_status_filter_uses_the_status_in_force(roster, superuser):
    assert _found(roster, superuser, status=rules.ACTIVE) == {"dara", "bopha", "vanna"}
    assert _found(roster, superuser, status=rules.DISMISSED) == {"srey"}
    later = TODAY + timedelta(days=30)
    assert _found(roster, superuser, status=rules.DISMISSED, on=later) == {"srey", "bopha"}


def test_history_and_timeline_in_order(roster, org_tree):
    dara = roster["dara"]
    history = list(selectors.status_history(dara))
    assert [c.status for c in history] == [rules.ACTIVE, rules.SUSPENDED, rules.ACTIVE]
    employment_change(
        actor=registrar(),
        employment=dara,
        effective_date=START + timedelta(days=1),
        unit=org_tree.siem_reap_district,
    )
    assert [e.kind for e in selectors.employment_timeline(dara)] == ["started", "transfer"]


# --- search -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("sok", {"dara", "vanna"}),  # "Sok" and "Sokha"
        ("SOK", {"dara", "vanna"}),
        ("Sok Dara", {"dara"}),
        ("dara sok", {"dara"}),  # words in any order
        ("  dARA   ", {"dara"}),
        ("bop", {"bopha"}),
        ("sok kosal", set()),  # every word must match
        ("nobody", set()),
    ],
)
def test_search_by_latin_name_ignores_case(roster, superuser, q, expected):
    assert _found(roster, superuser, q=q) == expected


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("សុខ", {"dara", "vanna"}),
        ("ដារា", {"dara"}),
        ("កុសល មាស", {"kosal"}),
        (KM_GIVEN_NFC, {"srey"}),
        (KM_GIVEN_TYPED, {"srey"}),  # typed in another order of marks, with a ZWSP
        (unicodedata.normalize("NFD", f"ចាន់ {KM_GIVEN_TYPED}"), {"srey"}),
    ],
)
def test_search_by_khmer_name_normalises_the_query(roster, superuser, q, expected):
    assert _found(roster, superuser, q=q) == expected


def test_search_by_service_number_prefix(roster, superuser):
    assert _found(roster, superuser, q="SR-000") == {"dara", "srey", "vanna"}
    assert _found(roster, superuser, q="sr-0") == {"dara", "srey", "bopha", "vanna"}
    assert _found(roster, superuser, q="SR-0100") == {"bopha"}
    assert _found(roster, superuser, q="0001") == set()  # not a prefix
    assert _found(roster, superuser, q="PP-0001") == {"kosal"}


def test_an_empty_query_finds_everyone(roster, superuser):
    assert _found(roster, superuser, q="") == set(roster)
    assert _found(roster, superuser, q="   ") == set(roster)


# --- filters and sorts --------------------------------------------------------------------


def test_filter_by_unit_subtree(roster, org_tree, superuser):
    assert _found(roster, superuser, unit=org_tree.siem_reap) == {"dara", "srey", "bopha"}
    assert _found(roster, superuser, unit=org_tree.siem_reap_district) == {"srey"}
    assert _found(roster, superuser, unit=org_tree.np_root) == {"dara", "srey", "bopha", "kosal"}
    assert _found(roster, superuser, unit=org_tree.phnom_penh) == {"kosal"}


def test_filter_by_rank(roster, superuser):
    assert _found(roster, superuser, rank="CST") == {"srey", "bopha"}
    assert _found(roster, superuser, rank="LT") == {"dara"}


def test_filters_combine(roster, org_tree, superuser):
    found = _found(
        roster, superuser, unit=org_tree.siem_reap, rank="CST", status=rules.ACTIVE, q="keo"
    )
    assert found == {"bopha"}


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["srey", "bopha", "kosal", "dara", "vanna"]),
        ("-name", ["vanna", "dara", "kosal", "bopha", "srey"]),
        ("service_number", ["kosal", "dara", "srey", "vanna", "bopha"]),
        ("-service_number", ["bopha", "vanna", "srey", "dara", "kosal"]),
        ("nonsense", ["srey", "bopha", "kosal", "dara", "vanna"]),  # falls back to name
    ],
)
def test_sorts(roster, superuser, sort, expected):
    assert _keys(roster, selectors.employments_for(superuser, sort=sort)) == expected


def test_sort_by_unit_rank_and_status(roster, org_tree, superuser):
    def order(sort):
        qs = selectors.employments_for(superuser, sort=sort, unit=org_tree.np_root)
        return _keys(roster, qs)

    # Unit codes: NP-PP < NP-SR < NP-SR-01.
    assert order("unit") == ["kosal", "dara", "bopha", "srey"]
    assert order("-unit") == ["srey", "bopha", "dara", "kosal"]
    # Senior first: the lieutenant, then the constables by service number; no rank last.
    assert order("rank") == ["dara", "srey", "bopha", "kosal"]
    assert order("-rank") == ["srey", "bopha", "dara", "kosal"]
    assert order("status") == ["dara", "bopha", "srey", "kosal"]
    assert order("-status") == ["kosal", "srey", "dara", "bopha"]


def test_people_without_a_status_yet_sort_last_both_ways(roster, org_tree, superuser):
    later = EmploymentFactory(unit=org_tree.siem_reap, start_date=TODAY + timedelta(days=7))
    for sort in ("status", "-status"):
        qs = list(selectors.employments_for(superuser, sort=sort, unit=org_tree.siem_reap))
        assert qs[-1] == later and qs[-1].current_status is None


# --- headcount and single reads -----------------------------------------------------------


def test_headcount_by_status(roster, org_tree, superuser):
    assert selectors.headcount_by_status(superuser, org_tree.siem_reap) == {
        rules.ACTIVE: 2,
        rules.DISMISSED: 1,
    }
    assert selectors.headcount_by_status(superuser, org_tree.np_root) == {
        rules.ACTIVE: 2,
        rules.DISMISSED: 1,
        rules.RETIRED: 1,
    }


def test_headcount_stays_within_the_callers_scope(roster, org_tree, siem_reap_cast):
    commander = siem_reap_cast.commander
    assert selectors.headcount_by_status(commander, org_tree.np_root) == {
        rules.ACTIVE: 2,
        rules.DISMISSED: 1,
    }
    assert selectors.headcount_by_status(commander, org_tree.phnom_penh) == {}


def test_employment_get_respects_jurisdiction(roster, siem_reap_cast):
    commander = siem_reap_cast.commander
    assert selectors.employment_get(commander, roster["dara"].pk) == roster["dara"]
    assert selectors.employment_get(commander, roster["kosal"].pk) is None
    assert selectors.employment_get(commander, roster["vanna"].pk) is None
    assert _found(roster, commander) == {"dara", "srey", "bopha"}


def test_one_employments_status_on_a_day_follows_its_history(org_tree):
    employment = EmploymentFactory(unit=org_tree.siem_reap, start_date=START)
    suspended = START + timedelta(days=100)
    _record(employment, rules.SUSPENDED, suspended)
    _record(employment, rules.ACTIVE, suspended + timedelta(days=30))

    def on(day):
        return selectors.employment_status_on(employment, day)

    assert on(START - timedelta(days=1)) is None  # before it started
    assert on(START) == rules.ACTIVE
    assert on(suspended - timedelta(days=1)) == rules.ACTIVE
    assert on(suspended) == rules.SUSPENDED
    assert on(suspended + timedelta(days=29)) == rules.SUSPENDED
    assert on(suspended + timedelta(days=30)) == rules.ACTIVE
