"""The accounts policies as plain functions, both ways."""

import pytest
from django.utils import timezone

from probity.accounts import policies, selectors
from probity.accounts.models import ApiToken, User
from probity.accounts.services import token_create
from probity.accounts.tests.helpers import make_user

pytestmark = pytest.mark.django_db


def visible(user):
    return set(User.objects.filter(policies.visible_to(user)).values_list("username", flat=True))


def changeable(user, perm=policies.MANAGE_USERS):
    qs = User.objects.filter(policies.changeable_by(user, perm))
    return set(qs.values_list("username", flat=True))


def test_national_administrator_sees_and_changes_everyone_assigned(cast, siem_reap_cast):
    admin = cast.administrator
    assert {"collector", "collector_sr", "administrator_sr"} <= visible(admin)
    assert {"collector", "collector_sr"} <= changeable(admin)


def test_roles_without_permission_see_nobody(cast):
    assert visible(cast.commander) == set()
    assert changeable(cast.auditor) == set()
    assert not policies.can_manage_users(cast.auditor)
    assert policies.can_view_users(cast.auditor)
    assert not policies.can_manage_tokens(cast.auditor)


def test_provincial_scope(cast, siem_reap_cast, org_tree):
    make_user("pp_only", unit=org_tree.phnom_penh)
    make_user("district", unit=org_tree.siem_reap_district)
    make_user("unplaced")
    admin = siem_reap_cast.administrator
    seen = visible(admin)
    assert {"district", "unplaced", "collector_sr"} <= seen
    assert not {"pp_only", "collector", "administrator"} & seen
    assert {"district", "unplaced", "collector_sr"} <= changeable(admin)
    assert "pp_only" not in changeable(admin)

    units = set(selectors.grantable_units(admin).values_list("code", flat=True))
    assert units == {"NP-SR", "NP-SR-01"}
    assert policies.can_grant(admin, User.objects.get(username="unplaced"), org_tree.siem_reap)
    assert not policies.can_grant(admin, User.objects.get(username="unplaced"), org_tree.phnom_penh)
    assert not policies.can_grant(admin, User.objects.get(username="pp_only"), org_tree.siem_reap)


def test_inactive_unit_is_not_offered(siem_reap_cast, org_tree):
    org_tree.siem_reap_district.active = False
    org_tree.siem_reap_district.save()
    units = set(
        selectors.grantable_units(siem_reap_cast.administrator).values_list("code", flat=True)
    )
    assert units == {"NP-SR"}


def test_a_user_whose_roles_are_all_revoked_becomes_unplaced(siem_reap_cast, org_tree):
    former = make_user("former", unit=org_tree.phnom_penh)
    assert "former" not in visible(siem_reap_cast.administrator)
    former.assignments.update(revoked_at=timezone.now())
    assert "former" in visible(siem_reap_cast.administrator)


def test_revoke_needs_the_unit_in_scope(cast, siem_reap_cast):
    national = cast.collector.assignments.get()
    provincial = siem_reap_cast.collector.assignments.get()
    assert policies.can_revoke(cast.administrator, national)
    assert policies.can_revoke(cast.administrator, provincial)
    assert policies.can_revoke(siem_reap_cast.administrator, provincial)
    assert not policies.can_revoke(siem_reap_cast.administrator, national)
    assert not policies.can_revoke(cast.auditor, provincial)


def test_tokens_scope(cast, siem_reap_cast):
    national, _ = token_create(actor=None, user=cast.collector, name="national")
    provincial, _ = token_create(actor=None, user=siem_reap_cast.collector, name="provincial")
    sr_admin = siem_reap_cast.administrator
    names = set(
        ApiToken.objects.filter(policies.tokens_visible_to(sr_admin)).values_list("name", flat=True)
    )
    assert names == {"provincial"}
    assert policies.can_revoke_token(sr_admin, provincial)
    assert not policies.can_revoke_token(sr_admin, national)
    assert policies.can_revoke_token(cast.administrator, national)
    assert not policies.can_revoke_token(cast.auditor, national)
    assert policies.can_create_token_for(sr_admin, siem_reap_cast.collector)
    assert not policies.can_create_token_for(sr_admin, cast.collector)


def test_superuser_acts_everywhere(superuser, cast, org_tree):
    make_user("pp_only", unit=org_tree.phnom_penh)
    assert "pp_only" in visible(superuser)
    assert policies.can_change_user(superuser, cast.administrator)
    assert policies.can_grant(superuser, cast.collector, org_tree.prisons_root)
    assert not policies.can_deactivate_user(superuser, superuser)
