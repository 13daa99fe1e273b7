"""Who sees and changes which people: every role, jurisdiction both ways.

The expected sets of roles are written out here, not derived from ``roles.py``, so that a
permission granted or withdrawn by mistake fails a test.
"""

from datetime import date

import pytest
from django.contrib.auth.models import AnonymousUser

from probity.accounts.roles import Role
from probity.accounts.services import assignment_revoke
from probity.org.models import Unit
from probity.personnel import policies, selectors
from probity.personnel.models import Employment, Person
from probity.personnel.services import employment_change
from probity.personnel.tests.factories import EmploymentFactory, registrar

pytestmark = pytest.mark.django_db

SEE_PEOPLE = {
    Role.ADMINISTRATOR,
    Role.PROGRAMME_MANAGER,
    Role.COLLECTOR,
    Role.MEDICAL_REVIEWER,
    Role.CASE_OFFICER,
    Role.COMMITTEE_MEMBER,
    Role.COMMANDER,
    Role.PERSONNEL_OFFICER,
    Role.INVESTIGATOR,
    Role.AUDITOR,
}
SEE_NOBODY = {Role.LAB_ANALYST, Role.LAB_CERTIFIER, Role.ANALYST, Role.REHAB_STAFF}
KEEP_ROSTER = {Role.PERSONNEL_OFFICER, Role.ADMINISTRATOR}

ALL_ROLES = list(Role.values)


def test_every_role_is_classified():
    assert SEE_PEOPLE | SEE_NOBODY == set(Role.values)
    assert not SEE_PEOPLE & SEE_NOBODY
    assert KEEP_ROSTER <= SEE_PEOPLE


@pytest.fixture
def staff(org_tree):
    """One person in each unit of the tree."""
    start = date(2019, 5, 1)
    units = {
        "hq": org_tree.np_root,
        "pp": org_tree.phnom_penh,
        "sr": org_tree.siem_reap,
        "sr_district": org_tree.siem_reap_district,
        "prisons": org_tree.prisons_root,
    }
    return {key: EmploymentFactory(unit=unit, start_date=start) for key, unit in units.items()}


def _visible(user, staff):
    by_pk = {e.pk: key for key, e in staff.items()}
    employments = Employment.objects.filter(policies.employments_visible_to(user))
    people = Person.objects.filter(policies.people_visible_to(user)).distinct()
    listed = selectors.employments_for(user)
    keys = {by_pk[e.pk] for e in employments}
    assert {by_pk[e.pk] for e in listed} == keys
    assert {p.pk for p in people} == {staff[k].person_id for k in keys}
    assert {k for k, e in staff.items() if policies.can_view_employment(user, e)} == keys
    return keys


@pytest.mark.parametrize("role", ALL_ROLES)
def test_siem_reap_roles_see_only_siem_reap(role, staff, siem_reap_cast):
    user = siem_reap_cast[role]
    expected = {"sr", "sr_district"} if role in SEE_PEOPLE else set()
    assert _visible(user, staff) == expected


@pytest.mark.parametrize("role", ALL_ROLES)
def test_root_roles_see_the_whole_agency_and_nothing_else(role, staff, cast):
    user = cast[role]
    expected = {"hq", "pp", "sr", "sr_district"} if role in SEE_PEOPLE else set()
    assert _visible(user, staff) == expected


@pytest.mark.parametrize("role", ALL_ROLES)
def test_roster_changes_only_for_keepers_within_scope(role, staff, org_tree, siem_reap_cast):
    user = siem_reap_cast[role]
    keeper = role in KEEP_ROSTER
    for key, employment in staff.items():
        inside = key in {"sr", "sr_district"}
        assert policies.can_change_employment(user, employment) == (keeper and inside), key
        assert policies.can_record_status(user, employment) == (keeper and inside), key
        assert policies.can_add_person_in(user, employment.unit) == (keeper and inside), key
        assert policies.can_import_into(user, employment.unit) == (keeper and inside), key
    assert policies.can_import(user) == keeper
    importable = set(Unit.objects.filter(policies.units_importable_by(user)).values_list("code"))
    assert importable == ({("NP-SR",), ("NP-SR-01",)} if keeper else set())


@pytest.mark.parametrize("role", ALL_ROLES)
def test_root_keepers_reach_the_agency_but_not_the_prisons(role, staff, cast):
    user = cast[role]
    keeper = role in KEEP_ROSTER
    for key, employment in staff.items():
        inside = key != "prisons"
        assert policies.can_change_employment(user, employment) == (keeper and inside), key
        assert policies.can_record_status(user, employment) == (keeper and inside), key
        assert policies.can_import_into(user, employment.unit) == (keeper and inside), key


def test_superuser_sees_and_changes_everyone(staff, superuser):
    assert _visible(superuser, staff) == set(staff)
    for employment in staff.values():
        assert policies.can_change_employment(superuser, employment)
        assert policies.can_record_status(superuser, employment)
        assert policies.can_import_into(superuser, employment.unit)
    assert policies.can_import(superuser)
    assert Unit.objects.filter(policies.units_importable_by(superuser)).count() == (
        Unit.objects.count()
    )


def test_anonymous_and_inactive_users_see_nobody(staff, siem_reap_cast):
    anonymous = AnonymousUser()
    assert not Employment.objects.filter(policies.employments_visible_to(anonymous)).exists()
    assert not Person.objects.filter(policies.people_visible_to(anonymous)).exists()
    assert not policies.can_view_employment(anonymous, staff["sr"])
    assert not policies.can_import(anonymous)

    officer = siem_reap_cast.personnel_officer
    officer.is_active = False
    officer.save()
    officer = type(officer).objects.get(pk=officer.pk)
    assert _visible(officer, staff) == set()
    assert not policies.can_change_employment(officer, staff["sr"])
    assert not policies.can_import(officer)


def test_a_revoked_assignment_takes_the_people_away(staff, siem_reap_cast):
    commander = siem_reap_cast.commander
    for assignment in commander.active_assignments():
        assignment_revoke(actor=None, assignment=assignment)
    commander = type(commander).objects.get(pk=commander.pk)
    assert _visible(commander, staff) == set()


def test_jurisdiction_follows_the_current_unit(staff, org_tree, siem_reap_cast):
    commander = siem_reap_cast.commander
    moved = staff["sr"]
    employment_change(
        actor=registrar(),
        employment=moved,
        effective_date=date(2024, 1, 1),
        unit=org_tree.phnom_penh,
    )
    moved.refresh_from_db()
    assert _visible(commander, staff) == {"sr_district"}
    assert not policies.can_view_employment(commander, moved)
