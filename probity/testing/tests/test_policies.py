"""Who may see and do what in testing: every role, both ways, over the whole agency (``cast``)
and over Siem Reap only (``siem_reap_cast``).

The expected sets are written out here, not derived from ``roles.py``, so that a permission
granted or withdrawn by mistake fails a test.
"""

from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser

from probity.accounts.roles import Role
from probity.org.tests.factories import LaboratoryFactory
from probity.testing import policies, selectors, services
from probity.testing.models import Campaign, Collection, CollectionSession, Draw
from probity.testing.tests.factories import (
    make_campaign,
    make_collection,
    make_draw,
    make_session,
    people,
    ship_to_lab,
)

pytestmark = pytest.mark.django_db

ALL_ROLES = list(Role.values)
PM, AUDITOR, COLLECTOR = Role.PROGRAMME_MANAGER, Role.AUDITOR, Role.COLLECTOR
ANALYST, CERTIFIER = Role.LAB_ANALYST, Role.LAB_CERTIFIER

CAMPAIGN_VIEWERS = {PM, COLLECTOR, AUDITOR}
CAMPAIGN_MANAGERS = {PM}
DRAW_VIEWERS = {PM, AUDITOR}
DRAW_RUNNERS = {PM}
OVERSEERS = {PM, AUDITOR}  # see every collection in their jurisdiction
PANEL_MANAGERS = {Role.ADMINISTRATOR}
PANEL_READERS = {Role.ADMINISTRATOR, PM, COLLECTOR, AUDITOR, ANALYST, CERTIFIER}
LAB_STAFF_MANAGERS = {Role.ADMINISTRATOR}

NP_KEYS = {"national", "pp", "sr", "srd"}
SR_KEYS = {"sr", "srd"}


class World:
    """Campaigns (with a draw each), sessions and collections across the tree, and two
    laboratories. Every dictionary is keyed by where the thing is: national, pp, sr, srd
    (the Siem Reap district), prisons."""

    def __init__(self, org_tree, cast, siem_reap_cast):
        manager = cast.programme_manager
        units = {
            "national": org_tree.np_root,
            "pp": org_tree.phnom_penh,
            "sr": org_tree.siem_reap,
            "srd": org_tree.siem_reap_district,
            "prisons": org_tree.prisons_root,
        }
        donors = {key: people(unit, 2) for key, unit in units.items()}
        self.campaigns = {
            key: make_campaign(
                actor=manager, unit=unit, rate_percent=Decimal("50"), code=f"C-{key}"
            )
            for key, unit in units.items()
        }
        self.draws = {
            key: make_draw(actor=manager, campaign=campaign)
            for key, campaign in self.campaigns.items()
        }
        collector, collector_sr = cast.collector, siem_reap_cast.collector
        self.sessions = {
            "pp": make_session(actor=collector, unit=units["pp"], team=[collector]),
            "sr": make_session(actor=collector_sr, unit=units["sr"], team=[collector_sr]),
            "srd": make_session(actor=collector, unit=units["srd"], team=[collector]),
        }
        self.collections = {
            key: make_collection(
                actor=collector_sr if key == "sr" else collector,
                employment=donors[key][0],
                session=session,
            )
            for key, session in self.sessions.items()
        }
        # Recorded by the root collector outside the police: beyond their jurisdiction.
        self.collections["prisons"] = make_collection(
            actor=collector, employment=donors["prisons"][0]
        )
        self.lab_a = LaboratoryFactory(code="LAB-A")
        self.lab_b = LaboratoryFactory(code="LAB-B")
        admin = cast.administrator
        services.lab_staff_add(actor=admin, user=cast.lab_analyst, laboratory=self.lab_a)
        services.lab_staff_add(actor=admin, user=siem_reap_cast.lab_analyst, laboratory=self.lab_b)
        services.lab_staff_add(
            actor=admin, user=siem_reap_cast.lab_certifier, laboratory=self.lab_a
        )
        # cast.lab_certifier has no post at all.
        for key, sender in (("pp", collector), ("sr", collector_sr)):
            ship_to_lab(
                collector=sender,
                lab_user=cast.lab_analyst,
                collection=self.collections[key],
                laboratory=self.lab_a,
            )

    def keys(self, objects: dict, model, q) -> set[str]:
        by_pk = {obj.pk: key for key, obj in objects.items()}
        return {by_pk[pk] for pk in model.objects.filter(q).values_list("pk", flat=True)}


@pytest.fixture
def world(org_tree, cast, siem_reap_cast):
    return World(org_tree, cast, siem_reap_cast)


def _user(cast, siem_reap_cast, where, role):
    return (cast if where == "root" else siem_reap_cast)[role]


BOTH = [(where, role) for where in ("root", "sr") for role in ALL_ROLES]


def every_role(cast, siem_reap_cast, check):
    """Run ``check(where, role, user)`` for every role of both casts; report every role
    that fails at once (the world is built once for all of them)."""
    failures = {}
    for where, role in BOTH:
        try:
            check(where, role, _user(cast, siem_reap_cast, where, role))
        except AssertionError as exc:
            failures[f"{where}/{role}"] = str(exc).splitlines()[0] if str(exc) else "failed"
    assert failures == {}


# --- panels and laboratory staff ------------------------------------------------------------


def test_panels_and_lab_staff(cast, siem_reap_cast):
    def check(where, role, user):
        assert policies.can_manage_panels(user) == (role in PANEL_MANAGERS)
        assert policies.can_view_panels(user) == (role in PANEL_READERS)
        assert policies.can_manage_lab_staff(user) == (role in LAB_STAFF_MANAGERS)

    every_role(cast, siem_reap_cast, check)


# --- campaigns and draws --------------------------------------------------------------------


def test_campaigns_visible(world, cast, siem_reap_cast):
    def check(where, role, user):
        # From Siem Reap: its own and its district's campaigns, and the national one that
        # covers it; never Phnom Penh's.
        area = NP_KEYS if where == "root" else {"national", "sr", "srd"}
        expected = area if role in CAMPAIGN_VIEWERS else set()
        visible = world.keys(world.campaigns, Campaign, policies.campaigns_visible_to(user))
        assert visible == expected
        assert {k for k, c in world.campaigns.items() if policies.can_view_campaign(user, c)} == (
            expected
        )
        listed = {c.code for c in selectors.campaigns_for(user)}
        assert listed == {f"C-{k}" for k in expected}

    every_role(cast, siem_reap_cast, check)


def test_a_siem_reap_collector_sees_the_national_campaign_not_phnom_penhs(world, siem_reap_cast):
    collector = siem_reap_cast.collector
    assert policies.can_view_campaign(collector, world.campaigns["national"])
    assert not policies.can_view_campaign(collector, world.campaigns["pp"])
    # Seeing a campaign is not seeing who was drawn in it.
    assert not policies.can_view_draws(collector, world.campaigns["sr"])


def test_who_manages_campaigns(world, cast, siem_reap_cast):
    def check(where, role, user):
        area = NP_KEYS if where == "root" else SR_KEYS  # managing does not reach upwards
        expected = area if role in CAMPAIGN_MANAGERS else set()
        managed = {k for k, c in world.campaigns.items() if policies.can_manage_campaign(user, c)}
        assert managed == expected
        creatable = {
            k for k, c in world.campaigns.items() if policies.can_create_campaign_in(user, c.unit)
        }
        assert creatable == expected

    every_role(cast, siem_reap_cast, check)


def test_who_sees_and_runs_draws(world, cast, siem_reap_cast):
    def check(where, role, user):
        area = NP_KEYS if where == "root" else SR_KEYS
        expected_view = area if role in DRAW_VIEWERS else set()
        expected_run = area if role in DRAW_RUNNERS else set()
        assert world.keys(world.draws, Draw, policies.draws_visible_to(user)) == expected_view
        assert {
            k for k, c in world.campaigns.items() if policies.can_view_draws(user, c)
        } == expected_view
        assert {
            k for k, c in world.campaigns.items() if policies.can_run_draw(user, c)
        } == expected_run
        assert {
            k for k, d in world.draws.items() if selectors.draw_get(user, d.pk) is not None
        } == expected_view

    every_role(cast, siem_reap_cast, check)


@pytest.mark.parametrize(
    "role",
    [
        Role.COLLECTOR,
        Role.COMMANDER,
        Role.LAB_ANALYST,
        Role.PERSONNEL_OFFICER,
        Role.MEDICAL_REVIEWER,
    ],
)
def test_nobody_in_the_line_of_command_or_the_field_learns_who_was_drawn(world, cast, role):
    user = cast[role]
    for campaign in world.campaigns.values():
        assert not policies.can_view_draws(user, campaign)
        assert not policies.can_run_draw(user, campaign)
        assert not selectors.draws_for(user, campaign).exists()


# --- sessions -------------------------------------------------------------------------------


def test_sessions(world, cast, siem_reap_cast):
    def check(where, role, user):
        area = {"pp", "sr", "srd"} if where == "root" else SR_KEYS
        viewers = {COLLECTOR} | OVERSEERS
        expected = area if role in viewers else set()
        q = policies.sessions_visible_to(user)
        assert world.keys(world.sessions, CollectionSession, q) == expected
        assert {k for k, s in world.sessions.items() if policies.can_view_session(user, s)} == (
            expected
        )
        assert {s.pk for s in selectors.sessions_for(user)} == {
            world.sessions[k].pk for k in expected
        }
        managers = area if role == COLLECTOR else set()
        assert {
            k for k, s in world.sessions.items() if policies.can_manage_session(user, s)
        } == managers
        assert {
            k for k, s in world.sessions.items() if policies.can_create_session_in(user, s.unit)
        } == managers
        # Collecting in a session: its team members only.
        if role != COLLECTOR:
            team = set()
        else:
            team = {"pp", "srd"} if where == "root" else {"sr"}
        assert {k for k, s in world.sessions.items() if policies.can_collect_in(user, s)} == team

    every_role(cast, siem_reap_cast, check)


def test_a_team_member_outside_the_jurisdiction_cannot_collect(world, siem_reap_cast):
    session = world.sessions["pp"]
    services.session_set_team(
        actor=siem_reap_cast.collector,
        session=session,
        team=[siem_reap_cast.collector],
    )
    assert not policies.can_collect_in(siem_reap_cast.collector, session)


def test_collect_from_a_donor_in_the_jurisdiction(world, cast, siem_reap_cast):
    def check(where, role, user):
        area = {"pp", "sr", "srd"} if where == "root" else SR_KEYS
        expected = area if role == COLLECTOR else set()
        assert {
            k for k, c in world.collections.items() if policies.can_collect_from(user, c.employment)
        } == expected

    every_role(cast, siem_reap_cast, check)


# --- collections ----------------------------------------------------------------------------


def _expected_collections(where, role):
    if role in OVERSEERS:
        return {"pp", "sr", "srd"} if where == "root" else SR_KEYS
    if role == COLLECTOR:  # their own team's only, in their jurisdiction
        return {"pp", "srd"} if where == "root" else {"sr"}
    if (where, role) in {("root", ANALYST), ("sr", CERTIFIER)}:  # posted at LAB-A
        return {"pp", "sr"}
    return set()  # commanders, the other laboratory, a certifier without a post, ...


def test_collections_visible(world, cast, siem_reap_cast):
    def check(where, role, user):
        expected = _expected_collections(where, role)
        q = policies.collections_visible_to(user)
        by_pk = {c.pk: k for k, c in world.collections.items()}
        rows = list(Collection.objects.filter(q).values_list("pk", flat=True))
        assert {by_pk[pk] for pk in rows} == expected
        listed = [c.pk for c in selectors.collections_for(user)]
        assert len(listed) == len(expected)  # no duplicates from the joins
        assert {by_pk[pk] for pk in listed} == expected

    every_role(cast, siem_reap_cast, check)


def test_who_sees_the_donor(world, cast, siem_reap_cast):
    def check(where, role, user):
        # Laboratory staff see specimens, never donors.
        expected = set() if role in {ANALYST, CERTIFIER} else _expected_collections(where, role)
        assert {k for k, c in world.collections.items() if policies.can_see_donor(user, c)} == (
            expected
        )

    every_role(cast, siem_reap_cast, check)


def test_who_records_custody(world, cast, siem_reap_cast):
    def check(where, role, user):
        pp = world.collections["pp"]

        def allowed(event, laboratory=None):
            return {
                k
                for k, c in world.collections.items()
                if policies.can_record_custody(user, c, event=event, laboratory=laboratory)
            }

        own = _expected_collections(where, role) if role == COLLECTOR else set()
        assert allowed("sealed") == own
        assert allowed("handed_over") == own
        assert allowed("received", world.lab_a) & own == set()
        lab_a = (where, role) in {("root", ANALYST), ("sr", CERTIFIER)}
        lab_b = (where, role) == ("sr", ANALYST)
        for event in ("received", "aliquoted", "stored", "disposed"):
            assert (
                policies.can_record_custody(user, pp, event=event, laboratory=world.lab_a) == lab_a
            )
            assert (
                policies.can_record_custody(user, pp, event=event, laboratory=world.lab_b) == lab_b
            )
            assert not policies.can_record_custody(user, pp, event=event)
        if lab_a:
            # A laboratory hands over (to another laboratory) but never seals.
            assert policies.can_record_custody(
                user, pp, event="handed_over", laboratory=world.lab_a
            )
            assert not policies.can_record_custody(user, pp, event="sealed", laboratory=world.lab_a)

    every_role(cast, siem_reap_cast, check)


def test_laboratory_ids(world, cast, siem_reap_cast, superuser):
    assert policies.laboratory_ids(cast.lab_analyst) == {world.lab_a.pk}
    assert policies.laboratory_ids(cast.lab_certifier) == set()
    assert policies.laboratory_ids(siem_reap_cast.lab_analyst) == {world.lab_b.pk}
    assert policies.laboratory_ids(cast.programme_manager) == set()
    assert policies.laboratory_ids(superuser) is None
    assert policies.works_at(cast.lab_analyst, world.lab_a)
    assert not policies.works_at(cast.lab_analyst, world.lab_b)
    assert not policies.works_at(cast.lab_analyst, None)


# --- nobody and everybody -------------------------------------------------------------------


def _everything(user, world):
    results = {
        "campaigns": world.keys(world.campaigns, Campaign, policies.campaigns_visible_to(user)),
        "draws": world.keys(world.draws, Draw, policies.draws_visible_to(user)),
        "sessions": world.keys(
            world.sessions, CollectionSession, policies.sessions_visible_to(user)
        ),
        "collections": {
            k
            for k, c in world.collections.items()
            if Collection.objects.filter(policies.collections_visible_to(user), pk=c.pk).exists()
        },
    }
    results["can"] = {
        "panels": policies.can_manage_panels(user) or policies.can_view_panels(user),
        "lab_staff": policies.can_manage_lab_staff(user),
        "view_campaign": any(policies.can_view_campaign(user, c) for c in world.campaigns.values()),
        "manage_campaign": any(
            policies.can_manage_campaign(user, c) for c in world.campaigns.values()
        ),
        "draws": any(
            policies.can_view_draws(user, c) or policies.can_run_draw(user, c)
            for c in world.campaigns.values()
        ),
        "sessions": any(
            policies.can_view_session(user, s)
            or policies.can_manage_session(user, s)
            or policies.can_collect_in(user, s)
            for s in world.sessions.values()
        ),
        "donor": any(policies.can_see_donor(user, c) for c in world.collections.values()),
        "custody": any(
            policies.can_record_custody(user, c, event=e, laboratory=world.lab_a)
            for c in world.collections.values()
            for e in ("sealed", "handed_over", "received")
        ),
        "collect_from": any(
            policies.can_collect_from(user, c.employment) for c in world.collections.values()
        ),
    }
    return results


NOTHING = {
    "campaigns": set(),
    "draws": set(),
    "sessions": set(),
    "collections": set(),
    "can": {
        "panels": False,
        "lab_staff": False,
        "view_campaign": False,
        "manage_campaign": False,
        "draws": False,
        "sessions": False,
        "donor": False,
        "custody": False,
        "collect_from": False,
    },
}


def test_an_inactive_user_gets_nothing(world, cast, siem_reap_cast):
    for where, role in BOTH:
        user = _user(cast, siem_reap_cast, where, role)
        user.is_active = False
        user.save(update_fields=["is_active"])
        assert _everything(user, world) == NOTHING, (where, role)
        assert policies.laboratory_ids(user) == set()


def test_anonymous_gets_nothing(world):
    assert _everything(AnonymousUser(), world) == NOTHING
    assert _everything(None, world) == NOTHING


def test_the_commander_gets_nothing_in_testing(world, cast, siem_reap_cast):
    assert _everything(cast.commander, world) == NOTHING
    assert _everything(siem_reap_cast.commander, world) == NOTHING


def test_the_superuser_gets_everything(world, superuser):
    everything = _everything(superuser, world)
    assert everything["campaigns"] == set(world.campaigns)
    assert everything["draws"] == set(world.draws)
    assert everything["sessions"] == set(world.sessions)
    assert everything["collections"] == set(world.collections)
    assert all(everything["can"].values())
    for session in world.sessions.values():
        assert policies.can_collect_in(superuser, session)  # not on any team
    assert policies.can_record_custody(
        superuser, world.collections["prisons"], event="received", laboratory=world.lab_b
    )
