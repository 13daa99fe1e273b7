"""Who sees and changes which units: jurisdiction both ways."""

import pytest

from probity.accounts.services import user_update
from probity.org import policies, selectors
from probity.org.models import Unit

pytestmark = pytest.mark.django_db


def _codes(user):
    return set(selectors.units_for(user).values_list("code", flat=True))


def test_siem_reap_commander_sees_only_siem_reap(org_tree, siem_reap_cast):
    commander = siem_reap_cast.commander
    assert _codes(commander) == {"NP-SR", "NP-SR-01"}
    assert policies.can_view_unit(commander, org_tree.siem_reap)
    assert policies.can_view_unit(commander, org_tree.siem_reap_district)
    assert not policies.can_view_unit(commander, org_tree.phnom_penh)
    assert not policies.can_view_unit(commander, org_tree.np_root)
    assert not policies.can_view_unit(commander, org_tree.prisons_root)
    assert selectors.unit_get(commander, "NP-PP") is None
    assert selectors.unit_get(commander, "GDP-HQ") is None
    assert [u.code for u in selectors.unit_roots_for(commander)] == ["NP-SR"]


def test_root_level_user_sees_all_of_the_police_but_not_prisons(org_tree, cast):
    commander = cast.commander
    assert _codes(commander) == {"NP-HQ", "NP-PP", "NP-SR", "NP-SR-01"}
    assert not policies.can_view_unit(commander, org_tree.prisons_root)
    assert [u.code for u in selectors.agencies_for(commander)] == ["NP"]
    assert [u.code for u in selectors.unit_roots_for(commander)] == ["NP-HQ"]


def test_superuser_sees_everything(org_tree, superuser):
    assert _codes(superuser) == set(Unit.objects.values_list("code", flat=True))
    assert [u.code for u in selectors.unit_roots_for(superuser)] == ["GDP-HQ", "NP-HQ"]
    assert policies.can_create_unit(superuser, None)
    assert policies.can_change_unit(superuser, org_tree.prisons_root)


def test_nested_assignments_give_one_root(org_tree, siem_reap_cast):
    from probity.accounts.services import assignment_grant

    commander = siem_reap_cast.commander
    assignment_grant(actor=None, user=commander, role="commander", unit=org_tree.siem_reap_district)
    commander = type(commander).objects.get(pk=commander.pk)
    assert [u.code for u in selectors.unit_roots_for(commander)] == ["NP-SR"]


def test_change_needs_the_administrator_role_within_scope(org_tree, cast, siem_reap_cast):
    assert policies.can_change_unit(cast.administrator, org_tree.siem_reap)
    assert not policies.can_change_unit(cast.commander, org_tree.siem_reap)
    assert not policies.can_change_unit(cast.administrator, org_tree.prisons_root)
    sr_admin = siem_reap_cast.administrator
    assert policies.can_change_unit(sr_admin, org_tree.siem_reap_district)
    assert not policies.can_change_unit(sr_admin, org_tree.phnom_penh)
    assert policies.can_create_unit(sr_admin, org_tree.siem_reap)
    assert not policies.can_create_unit(sr_admin, org_tree.np_root)
    assert not policies.can_create_unit(cast.administrator, None)  # roots: whole installation
    assert not policies.can_move_unit(sr_admin, org_tree.siem_reap_district, org_tree.phnom_penh)
    assert policies.can_move_unit(
        cast.administrator, org_tree.siem_reap_district, org_tree.phnom_penh
    )


def test_roles_without_unit_browsing(cast):
    assert not policies.can_browse_units(cast.lab_analyst)
    assert policies.can_view_laboratories(cast.lab_analyst)
    assert policies.can_browse_units(cast.rehab_staff)
    assert not policies.can_view_laboratories(cast.rehab_staff)
    assert policies.can_manage_laboratories(cast.administrator)
    assert not policies.can_manage_laboratories(cast.commander)
    assert policies.can_manage_reference_data(cast.administrator)
    assert not policies.can_manage_reference_data(cast.auditor)
    assert selectors.laboratories_for(cast.rehab_staff).count() == 0


def test_inactive_and_anonymous_users_see_nothing(org_tree, cast):
    from django.contrib.auth.models import AnonymousUser

    user = user_update(actor=None, user=cast.commander, is_active=False)
    assert _codes(user) == set()
    assert not policies.can_view_unit(user, org_tree.np_root)
    anonymous = AnonymousUser()
    assert not Unit.objects.filter(policies.units_visible_to(anonymous)).exists()
    assert not policies.can_view_unit(anonymous, org_tree.np_root)
    assert not policies.can_browse_units(anonymous)


def test_jurisdiction_q_through_a_relation(org_tree, cast, siem_reap_cast):
    from probity.accounts.models import Assignment
    from probity.accounts.roles import Role

    q = policies.jurisdiction_q(siem_reap_cast.commander, roles={Role.COMMANDER}, unit_field="unit")
    units = set(Assignment.objects.filter(q).values_list("unit__code", flat=True))
    assert units == {"NP-SR"}


def test_outermost():
    assert policies.outermost(["/1/2/", "/1/", "/3/", "/1/2/5/"]) == ["/1/", "/3/"]
    assert policies.outermost([]) == []
