"""Reads in testing: the eligible pool, campaign progress (counted by hand on small
campaigns, in a constant number of queries), panel versions, collection lists, custody
timelines and session lists."""

import copy
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from probity.org.tests.factories import LaboratoryFactory
from probity.personnel import rules as personnel_rules
from probity.personnel.services import status_record
from probity.personnel.tests.factories import EmploymentFactory
from probity.testing import rules, selectors, services
from probity.testing.models import Campaign, Panel, Selection
from probity.testing.tests.factories import (
    make_campaign,
    make_collection,
    make_draw,
    make_session,
    people,
    ship_to_lab,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(cast):
    return cast.programme_manager


@pytest.fixture
def collector(cast):
    return cast.collector


@pytest.fixture
def lab(db):
    return LaboratoryFactory(code="LAB-S")


def _pks(qs) -> set[int]:
    return set(qs.values_list("pk", flat=True))


# --- the eligible pool ----------------------------------------------------------------------


def test_eligible_pool_follows_agency_subtrees_and_provinces(manager, org_tree):
    hq = people(org_tree.np_root, 1)
    pp = people(org_tree.phnom_penh, 2)
    sr = people(org_tree.siem_reap, 2)
    srd = people(org_tree.siem_reap_district, 2)
    people(org_tree.prisons_root, 3)

    def pool(**kwargs):
        campaign = make_campaign(actor=manager, unit=org_tree.np_root, start=False, **kwargs)
        return _pks(selectors.eligible_pool(campaign))

    assert pool() == {e.pk for e in hq + pp + sr + srd}  # not the prisons
    assert pool(scope_units=[org_tree.siem_reap]) == {e.pk for e in sr + srd}
    assert pool(scope_units=[org_tree.siem_reap_district, org_tree.phnom_penh]) == {
        e.pk for e in srd + pp
    }
    assert pool(provinces=[org_tree.phnom_penh.province]) == {e.pk for e in pp}
    # HQ has no province: a campaign naming provinces leaves it out.
    assert pool(provinces=[org_tree.siem_reap.province, org_tree.phnom_penh.province]) == {
        e.pk for e in pp + sr + srd
    }
    by_unit = make_campaign(actor=manager, unit=org_tree.siem_reap, start=False)
    assert _pks(selectors.eligible_pool(by_unit)) == {e.pk for e in sr + srd}
    prisons = make_campaign(actor=manager, unit=org_tree.prisons_root, start=False)
    assert len(selectors.eligible_pool(prisons)) == 3


def test_eligible_pool_follows_the_status_on_the_day(manager, org_tree):
    today = timezone.localdate()
    retired = EmploymentFactory(unit=org_tree.siem_reap, start_date=date(2020, 1, 1))
    steady = EmploymentFactory(unit=org_tree.siem_reap, start_date=date(2020, 1, 1))
    suspended = EmploymentFactory(unit=org_tree.siem_reap, start_date=date(2020, 1, 1))
    dismissed = EmploymentFactory(unit=org_tree.siem_reap, start_date=date(2020, 1, 1))
    newcomer = EmploymentFactory(unit=org_tree.siem_reap, start_date=today - timedelta(days=5))

    def record(employment, status, days_ago, **kwargs):
        status_record(
            actor=manager,
            employment=employment,
            status=status,
            effective_date=today - timedelta(days=days_ago),
            reason="Recorded in the test",
            **kwargs,
        )

    record(retired, personnel_rules.RETIRED, 30)
    record(suspended, personnel_rules.SUSPENDED, 30)
    record(suspended, personnel_rules.ACTIVE, 10)  # the suspension ends
    record(dismissed, personnel_rules.DISMISSED, 30)
    record(dismissed, personnel_rules.ACTIVE, 10, reinstatement=True)
    campaign = make_campaign(actor=manager, unit=org_tree.np_root, start=False)

    def pool(days_ago):
        return _pks(selectors.eligible_pool(campaign, on=today - timedelta(days=days_ago)))

    assert pool(40) == {
        steady.pk,
        suspended.pk,
        dismissed.pk,
        retired.pk,
    }  # before anything happened
    # A suspended officer is still on the force's list (personnel.rules.IN_SERVICE) and may
    # be drawn; a dismissed one is not; the newcomer has not started.
    assert pool(20) == {steady.pk, suspended.pk}
    assert pool(0) == {steady.pk, suspended.pk, dismissed.pk, newcomer.pk}  # reinstated: back
    assert _pks(selectors.eligible_pool(campaign)) == pool(0)  # today by default
    entries = selectors.pool_entries(campaign)
    assert {e.key for e in entries} == pool(0)
    assert {e.unit for e in entries} == {"NP-SR"}


# --- campaign progress ----------------------------------------------------------------------


def _refuse(actor, employment, campaign, *, selection=None):
    return services.collection_refuse(
        actor=actor,
        employment=employment,
        reason="census" if selection is None else "random",
        refusal_reason="no_show",
        at=timezone.now() - timedelta(hours=1),
        remarks="Did not come",
        campaign=campaign,
        selection=selection,
    )


def _reject(collector, lab_user, lab, collection):
    ship_to_lab(
        collector=collector,
        lab_user=lab_user,
        collection=collection,
        laboratory=lab,
        seal_intact=False,
    )


@pytest.fixture
def lab_user(cast, lab):
    services.lab_staff_add(actor=cast.administrator, user=cast.lab_analyst, laboratory=lab)
    return cast.lab_analyst


def test_progress_of_a_census_campaign_counted_by_hand(manager, collector, lab, lab_user, org_tree):
    pp = people(org_tree.phnom_penh, 3)
    sr = people(org_tree.siem_reap, 2)
    srd = people(org_tree.siem_reap_district, 2)
    gone = people(org_tree.phnom_penh, 1)[0]
    status_record(
        actor=manager,
        employment=gone,
        status=personnel_rules.DISMISSED,
        effective_date=timezone.localdate() - timedelta(days=1),
        reason="Delisted",
    )
    campaign = make_campaign(
        actor=manager,
        unit=org_tree.np_root,
        mode=Campaign.Mode.CENSUS,
        screen_negative_closes=True,
        target_coverage_percent=Decimal("80"),
    )
    make_collection(actor=collector, employment=pp[0], campaign=campaign)
    _refuse(collector, pp[1], campaign)
    _reject(
        collector,
        lab_user,
        lab,
        make_collection(actor=collector, employment=sr[0], campaign=campaign),
    )
    make_collection(actor=collector, employment=srd[0], campaign=campaign, screen_result="negative")
    # Not this campaign's: another campaign, and a collection outside any campaign.
    other = make_campaign(actor=manager, unit=org_tree.np_root, mode="census")
    make_collection(actor=collector, employment=pp[2], campaign=other)
    make_collection(actor=collector, employment=sr[1])

    progress = selectors.campaign_progress(campaign)
    assert (progress.eligible, progress.selected, progress.excused) == (7, 7, 0)
    assert (progress.collected, progress.refused, progress.rejected) == (1, 1, 1)
    assert progress.closed_screen == 1 and progress.tested == 4
    assert progress.coverage_percent == 57.1  # 4 of 7
    assert progress.target_percent == 80.0
    assert progress.by_state == {"collected": 1, "refused": 1, "rejected": 1, "closed_screen": 1}
    assert progress.by_unit == [
        {
            "unit": "NP-PP",
            "eligible": 3,
            "selected": 3,
            "collected": 1,
            "refused": 1,
            "rejected": 0,
            "closed_screen": 0,
        },
        {
            "unit": "NP-SR",
            "eligible": 2,
            "selected": 2,
            "collected": 0,
            "refused": 0,
            "rejected": 1,
            "closed_screen": 0,
        },
        {
            "unit": "NP-SR-01",
            "eligible": 2,
            "selected": 2,
            "collected": 0,
            "refused": 0,
            "rejected": 0,
            "closed_screen": 1,
        },
    ]


def test_progress_of_a_random_campaign_counted_by_hand(manager, collector, lab, lab_user, org_tree):
    people(org_tree.phnom_penh, 4)
    people(org_tree.siem_reap, 4)
    campaign = make_campaign(
        actor=manager,
        unit=org_tree.np_root,
        rate_percent=Decimal("50"),
        alternates=2,
        target_coverage_percent=Decimal("50"),
    )
    empty = selectors.campaign_progress(campaign)
    assert (empty.eligible, empty.selected, empty.tested, empty.coverage_percent) == (8, 0, 0, 0)

    draw = make_draw(actor=manager, campaign=campaign, sample_size=3)
    first, second, third = draw.selections.filter(kind="selected").order_by("position")
    alternate = services.selection_excuse(actor=manager, selection=first, reason="On leave")
    # The selection names the campaign: a collection for a drawn person counts for it.
    collected = make_collection(actor=collector, employment=second.employment, selection=second)
    assert collected.campaign == campaign
    _refuse(collector, third.employment, None, selection=third)
    _reject(
        collector,
        lab_user,
        lab,
        make_collection(actor=collector, employment=alternate.employment, selection=alternate),
    )
    progress = selectors.campaign_progress(campaign)
    # Three to test: the second, the third and the alternate called in for the first.
    assert (progress.eligible, progress.selected, progress.excused) == (8, 3, 1)
    assert (progress.collected, progress.refused, progress.rejected) == (1, 1, 1)
    assert progress.tested == 3 and progress.coverage_percent == 37.5
    to_test = [second, third, alternate]
    for row in progress.by_unit:
        assert row["eligible"] == 4
        assert row["selected"] == sum(1 for s in to_test if s.unit.code == row["unit"])
    assert sum(r["collected"] + r["refused"] + r["rejected"] for r in progress.by_unit) == 3

    # A second draw of everyone: each person counts once however often they are drawn.
    make_draw(actor=manager, campaign=campaign, sample_size=8)
    progress = selectors.campaign_progress(campaign)
    assert (progress.selected, progress.excused) == (8, 1)
    assert [(r["unit"], r["selected"]) for r in progress.by_unit] == [("NP-PP", 4), ("NP-SR", 4)]


def _grow(manager, collector, org_tree, campaign, n):
    """``n`` more people in new units, each collected or refused for ``campaign``."""
    from probity.org.tests.factories import UnitFactory

    for i in range(n):
        unit = UnitFactory(parent=org_tree.siem_reap)
        a, b = people(unit, 2)
        make_collection(actor=collector, employment=a, campaign=campaign)
        if i % 2:
            _refuse(collector, b, campaign)


@pytest.mark.parametrize("mode", ["census", "random"])
def test_progress_takes_the_same_number_of_queries_at_any_size(manager, collector, org_tree, mode):
    people(org_tree.phnom_penh, 2)
    campaign = make_campaign(actor=manager, unit=org_tree.np_root, mode=mode)

    def count():
        if mode == "random":
            make_draw(actor=manager, campaign=campaign)
        fresh = Campaign.objects.get(pk=campaign.pk)  # nothing cached from an earlier call
        with CaptureQueriesContext(connection) as ctx:
            progress = selectors.campaign_progress(fresh)
            assert progress.by_unit  # evaluated
        return len(ctx.captured_queries), len(progress.by_unit)

    small, small_units = count()
    _grow(manager, collector, org_tree, campaign, 6)
    large, large_units = count()
    assert large_units > small_units + 5
    assert small == large


# --- panels ---------------------------------------------------------------------------------


def test_panel_version_on(cast):
    panel = Panel.objects.get(code="HHS-2025-URINE")
    first = panel.versions.get(version=1)
    assert selectors.panel_version_on(panel, date(2025, 7, 6)) is None
    assert selectors.panel_version_on(panel, date(2025, 7, 7)) == first
    definition = copy.deepcopy(rules.HHS_2025_URINE)

    def add(day):
        return services.panel_version_add(
            actor=cast.administrator, panel=panel, definition=definition, effective_from=day
        )

    second = add(date(2026, 1, 1))
    third = add(date(2026, 1, 1))
    fourth = add(date(2026, 6, 1))
    assert selectors.panel_version_on(panel, date(2025, 12, 31)) == first
    assert selectors.panel_version_on(panel, date(2026, 1, 1)) == third  # the later of the two
    assert selectors.panel_version_on(panel, date(2026, 5, 31)) == third
    assert selectors.panel_version_on(panel, date(2030, 1, 1)) == fourth
    assert second.version == 2
    assert [v.version for v in selectors.panels().get(pk=panel.pk).versions.all()] == [4, 3, 2, 1]


# --- collections, custody, sessions ---------------------------------------------------------


def test_collections_for_filters(manager, collector, lab, lab_user, org_tree):
    donors = people(org_tree.siem_reap, 4)
    campaign = make_campaign(actor=manager, unit=org_tree.np_root, mode="census")
    session = make_session(actor=collector, unit=org_tree.siem_reap, campaign=campaign)
    in_session = make_collection(actor=collector, employment=donors[0], session=session)
    in_campaign = make_collection(actor=collector, employment=donors[1], campaign=campaign)
    outside = make_collection(
        actor=collector, employment=donors[2], when=timezone.now() - timedelta(days=1)
    )
    refusal = _refuse(collector, donors[3], campaign)

    def pks(**filters):
        return [c.pk for c in selectors.collections_for(collector, **filters)]

    # Newest first.
    assert pks() == [refusal.pk, in_campaign.pk, in_session.pk, outside.pk]
    assert set(pks(campaign=campaign)) == {in_session.pk, in_campaign.pk, refusal.pk}
    assert pks(session=session) == [in_session.pk]
    assert pks(state="refused") == [refusal.pk]
    assert pks(state="rejected") == []
    typed = in_campaign.specimen_id.lower().replace("-", " ")
    assert pks(q=typed) == [in_campaign.pk]
    assert pks(q=outside.specimen_id[3:7]) == [outside.pk]
    assert selectors.collection_by_specimen(collector, typed) == in_campaign
    assert selectors.collection_by_specimen(manager, typed) == in_campaign
    assert selectors.specimen_exists(typed)
    assert not selectors.specimen_exists("PB-0000-0000-0")


def test_custody_timeline_is_in_time_order_across_bottles(collector, lab, lab_user, org_tree):
    donor = EmploymentFactory(unit=org_tree.siem_reap)
    t0 = timezone.now() - timedelta(hours=10)
    collection = make_collection(actor=collector, employment=donor, when=t0)
    a, b = collection.bottles.get(label="A"), collection.bottles.get(label="B")

    def record(bottle, event, hours, actor, **kwargs):
        services.custody_record(
            actor=actor, bottle=bottle, event=event, at=t0 + timedelta(hours=hours), **kwargs
        )

    # Recorded out of time order across the two bottles.
    record(a, "handed_over", 2, collector, counter_signer_name="Courier")
    record(b, "handed_over", 1, collector, counter_signer_name="Courier")
    record(a, "received", 3, lab_user, laboratory=lab, seal_intact=True)
    record(b, "received", 2.5, lab_user, laboratory=lab, seal_intact=True)
    record(b, "stored", 4, lab_user)
    timeline = [(e.bottle.label, e.event) for e in selectors.custody_timeline(collection)]
    assert timeline == [
        ("A", "sealed"),
        ("B", "sealed"),
        ("B", "handed_over"),
        ("A", "handed_over"),
        ("B", "received"),
        ("A", "received"),
        ("B", "stored"),
    ]


def test_session_list_and_counts(manager, collector, org_tree):
    campaign = make_campaign(actor=manager, unit=org_tree.np_root, mode="census")
    zed = EmploymentFactory(unit=org_tree.siem_reap, family_name="Zed")
    abe = EmploymentFactory(unit=org_tree.siem_reap, family_name="Abe")
    district = EmploymentFactory(unit=org_tree.siem_reap_district, family_name="Aaa")
    session = make_session(actor=collector, unit=org_tree.siem_reap, campaign=campaign)
    services.session_add_people(
        actor=collector, session=session, employments=[district, zed, abe], reason="census"
    )
    done = make_collection(actor=collector, employment=zed, session=session)
    rows = selectors.session_list(session)
    # By unit code (NP-SR before NP-SR-01), then by family name.
    assert [(entry.employment_id, c) for entry, c in rows] == [
        (abe.pk, None),
        (zed.pk, done),
        (district.pk, None),
    ]
    listed = selectors.sessions_for(collector).get(pk=session.pk)
    assert (listed.listed, listed.done) == (3, 1)
    assert list(selectors.sessions_for(collector, mine=True)) == [listed]
    assert not selectors.sessions_for(manager, mine=True).exists()
    assert not selectors.sessions_for(collector, state="closed").exists()


def test_session_entries_to_add_skips_the_excused_and_those_listed(manager, collector, org_tree):
    sr = people(org_tree.siem_reap, 3)
    people(org_tree.phnom_penh, 2)
    campaign = make_campaign(actor=manager, unit=org_tree.np_root, rate_percent=Decimal("100"))
    draw = make_draw(actor=manager, campaign=campaign)
    services.selection_excuse(
        actor=manager, selection=draw.selections.get(employment=sr[0]), reason="Ill"
    )
    session = make_session(actor=collector, unit=org_tree.siem_reap, campaign=campaign)
    services.session_add_people(
        actor=collector, session=session, employments=[sr[1]], reason="census"
    )
    to_add = selectors.session_entries_to_add(session, draw)
    assert [s.employment_id for s in to_add] == [sr[2].pk]


def test_draw_verify_detects_tampering(manager, org_tree):
    people(org_tree.siem_reap, 6)
    campaign = make_campaign(actor=manager, unit=org_tree.np_root, rate_percent=Decimal("50"))
    draw = make_draw(actor=manager, campaign=campaign)
    verification = selectors.draw_verify(draw)
    assert verification.ok and all(passed for _, passed, _ in verification.checks)
    assert [e.key for e in verification.selected] == list(
        draw.selections.filter(kind="selected")
        .order_by("position")
        .values_list("employment_id", flat=True)
    )
    pending = services.draw_commit(actor=manager, campaign=campaign)
    assert not selectors.draw_verify(pending).ok

    # Someone swaps a drawn person for one who was not drawn.
    chosen = draw.selections.filter(kind="selected").first()
    spare = (
        selectors.eligible_pool(campaign)
        .exclude(pk__in=draw.selections.values("employment"))
        .first()
    )
    Selection.objects.filter(pk=chosen.pk).update(employment=spare)
    checks = dict((name, passed) for name, passed, _ in selectors.draw_verify(draw).checks)
    assert checks["selection"] is False and checks["seed"] is True
