"""The administrators' users pages: who may see and change whom, and every change audited."""

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from probity.accounts import policies
from probity.accounts.models import Assignment, User
from probity.accounts.tests.helpers import actions, make_user
from probity.audit.models import AuditEntry

pytestmark = pytest.mark.django_db

USERS = reverse("accounts:users")
CREATE = reverse("accounts:user_create")


def detail(username):
    return reverse("accounts:user_detail", kwargs={"username": username})


def grant_url(username):
    return reverse("accounts:assignment_grant", kwargs={"username": username})


# --- seeing users -----------------------------------------------------------------------


def test_administrator_lists_users_with_their_roles(client, cast, siem_reap_cast):
    client.force_login(cast.administrator)
    response = client.get(USERS)
    assert response.status_code == 200
    body = response.content.decode()
    assert "collector_sr" in body
    assert "commander" in body
    assert "New user" in body
    assert 'scope="col"' in body


def test_users_list_search_and_pagination(client, cast):
    for n in range(55):
        make_user(f"officer{n:02d}", first_name="Dara" if n == 7 else "Sok")
    client.force_login(cast.administrator)
    body = client.get(USERS, {"q": "dara"}).content.decode()
    assert "officer07" in body
    assert "officer08" not in body
    page1 = client.get(USERS).content.decode()
    page2 = client.get(USERS, {"page": 2}).content.decode()
    assert "Page 1 of 2" in page1
    assert "Page 2 of 2" in page2


@pytest.mark.parametrize("role", ["commander", "collector", "case_officer", "analyst"])
def test_roles_without_the_permission_are_refused(client, cast, role):
    client.force_login(cast[role])
    assert client.get(USERS).status_code == 403
    assert client.get(CREATE).status_code == 403
    assert client.get(detail("collector")).status_code == 403
    assert client.get(reverse("accounts:tokens")).status_code == 403


def test_auditor_sees_but_cannot_change(client, cast):
    client.force_login(cast.auditor)
    response = client.get(USERS)
    assert response.status_code == 200
    assert "New user" not in response.content.decode()
    page = client.get(detail("collector"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Grant a role" not in body
    assert "Revoke" not in body
    assert "Deactivate" not in body

    assert client.get(CREATE).status_code == 403
    assert client.post(CREATE, {"username": "x"}).status_code == 403
    assignment = cast.collector.assignments.get()
    assert (
        client.post(grant_url("collector"), {"role": "commander", "unit": cast.unit.pk}).status_code
        == 403
    )
    revoke = reverse(
        "accounts:assignment_revoke", kwargs={"username": "collector", "pk": assignment.pk}
    )
    assert client.post(revoke).status_code == 403
    assert client.get(reverse("accounts:user_edit", args=["collector"])).status_code == 403
    assert client.get(reverse("accounts:user_password", args=["collector"])).status_code == 403
    assert client.post(reverse("accounts:user_set_active", args=["collector"])).status_code == 403
    assert Assignment.objects.filter(user=cast.collector, revoked_at__isnull=True).count() == 1
    assert cast.collector.assignments.count() == 1


def test_siem_reap_administrator_sees_only_his_jurisdiction(client, cast, siem_reap_cast, org_tree):
    pp_only = make_user("pp_officer", unit=org_tree.phnom_penh)
    sr_district = make_user("district_officer", unit=org_tree.siem_reap_district)
    unplaced = make_user("newcomer")
    admin = siem_reap_cast.administrator
    client.force_login(admin)
    body = client.get(USERS).content.decode()
    assert "collector_sr" in body
    assert "district_officer" in body
    assert "newcomer" in body
    assert "pp_officer" not in body
    assert ">commander<" not in body  # assigned over the national root, outside Siem Reap

    assert client.get(detail("pp_officer")).status_code == 404
    assert client.get(detail("commander")).status_code == 404
    assert client.get(detail("district_officer")).status_code == 200
    assert client.get(detail("newcomer")).status_code == 200

    visible = set(User.objects.filter(policies.visible_to(admin)).values_list("pk", flat=True))
    assert pp_only.pk not in visible
    assert {sr_district.pk, unplaced.pk} <= visible


def test_superuser_sees_everyone(client, cast, superuser, org_tree):
    make_user("pp_officer", unit=org_tree.phnom_penh)
    client.force_login(superuser)
    body = client.get(USERS).content.decode()
    assert "pp_officer" in body
    assert "commander" in body


# --- creating and changing accounts -----------------------------------------------------


def test_administrator_creates_a_user(client, cast):
    client.force_login(cast.administrator)
    assert client.get(CREATE).status_code == 200
    response = client.post(
        CREATE,
        {
            "username": "np-000123",
            "first_name": "Dara",
            "last_name": "Sok",
            "email": "dara@example.invalid",
            "language": "km",
            "password1": "Long-enough-pass-42",
            "password2": "Long-enough-pass-42",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == detail("np-000123")
    user = User.objects.get(username="np-000123")
    assert user.check_password("Long-enough-pass-42")
    assert user.password != "Long-enough-pass-42"
    assert user.language == "km"
    entry = AuditEntry.objects.get(action="accounts.user_create")
    assert entry.actor == cast.administrator
    assert "password" not in entry.after


def test_create_user_explains_bad_input(client, cast):
    client.force_login(cast.administrator)
    response = client.post(
        CREATE, {"username": "newbie", "password1": "short", "password2": "other"}
    )
    assert response.status_code == 200
    assert "not the same" in response.content.decode()
    response = client.post(
        CREATE, {"username": "newbie", "password1": "12345678901", "password2": "12345678901"}
    )
    assert response.status_code == 200
    assert "entirely numeric" in response.content.decode()
    response = client.post(
        CREATE,
        {
            "username": "COLLECTOR",
            "password1": "Long-enough-pass-42",
            "password2": "Long-enough-pass-42",
        },
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert not User.objects.filter(username="newbie").exists()


def test_new_user_without_role_can_be_found_and_granted_by_a_provincial_admin(
    client, siem_reap_cast, org_tree
):
    admin = siem_reap_cast.administrator
    client.force_login(admin)
    response = client.post(
        CREATE,
        {
            "username": "fresh",
            "password1": "Long-enough-pass-42",
            "password2": "Long-enough-pass-42",
        },
    )
    assert response.status_code == 302
    page = client.get(detail("fresh")).content.decode()
    assert "Grant a role" in page
    assert org_tree.siem_reap.code in page
    assert org_tree.siem_reap_district.code in page
    assert org_tree.phnom_penh.code not in page
    assert org_tree.np_root.code not in page

    response = client.post(
        grant_url("fresh"), {"role": "collector", "unit": org_tree.siem_reap_district.pk}
    )
    assert response.status_code == 302
    assignment = Assignment.objects.get(user__username="fresh")
    assert assignment.unit == org_tree.siem_reap_district
    assert assignment.granted_by == admin
    entry = AuditEntry.objects.get(action="accounts.assignment_grant", actor=admin)
    assert entry.object_id == str(assignment.pk)


def test_grant_outside_jurisdiction_is_refused_with_a_clear_message(
    client, siem_reap_cast, org_tree
):
    make_user("fresh")
    client.force_login(siem_reap_cast.administrator)
    for unit in (org_tree.phnom_penh, org_tree.np_root):
        response = client.post(grant_url("fresh"), {"role": "administrator", "unit": unit.pk})
        assert response.status_code == 200
        assert "within your own jurisdiction" in response.content.decode()
    assert not Assignment.objects.filter(user__username="fresh").exists()
    assert "accounts.assignment_grant" not in actions(actor=siem_reap_cast.administrator)


def test_grant_twice_is_explained(client, cast):
    client.force_login(cast.administrator)
    response = client.post(grant_url("collector"), {"role": "collector", "unit": cast.unit.pk})
    assert response.status_code == 200
    assert "already holds this role" in response.content.decode()


def test_revoke_is_audited(client, cast):
    client.force_login(cast.administrator)
    assignment = cast.commander.assignments.get()
    url = reverse(
        "accounts:assignment_revoke", kwargs={"username": "commander", "pk": assignment.pk}
    )
    assert client.get(url).status_code == 405
    response = client.post(url)
    assert response.status_code == 302
    assignment.refresh_from_db()
    assert assignment.revoked_at is not None
    assert assignment.revoked_by == cast.administrator
    entry = AuditEntry.objects.get(action="accounts.assignment_revoke", actor=cast.administrator)
    assert entry.object_id == str(assignment.pk)
    # The revoked role shows in the history, and the page still opens (user now unplaced).
    assert "revoked role" in client.get(detail("commander")).content.decode()


def test_provincial_admin_cannot_revoke_or_take_over_a_wider_account(
    client, siem_reap_cast, org_tree
):
    both = make_user("two_provinces", unit=org_tree.siem_reap)
    pp = Assignment.objects.create(user=both, role="commander", unit=org_tree.phnom_penh)
    admin = siem_reap_cast.administrator
    client.force_login(admin)
    page = client.get(detail("two_provinces"))
    assert page.status_code == 200
    assert "outside your jurisdiction" in page.content.decode()

    url = reverse("accounts:assignment_revoke", kwargs={"username": "two_provinces", "pk": pp.pk})
    response = client.post(url, follow=True)
    assert "within your own jurisdiction" in response.content.decode()
    pp.refresh_from_db()
    assert pp.revoked_at is None

    assert client.get(reverse("accounts:user_password", args=["two_provinces"])).status_code == 403
    response = client.post(
        reverse("accounts:user_password", args=["two_provinces"]),
        {"password1": "Taken-over-pass-1", "password2": "Taken-over-pass-1"},
    )
    assert response.status_code == 403
    assert (
        client.post(
            reverse("accounts:user_set_active", args=["two_provinces"]), {"active": "0"}
        ).status_code
        == 403
    )
    both.refresh_from_db()
    assert both.is_active
    assert not both.check_password("Taken-over-pass-1")
    assert not policies.can_change_user(admin, both)
    assert policies.can_change_user(siem_reap_cast.administrator, siem_reap_cast.collector)


def test_superuser_account_is_changed_only_by_a_superuser(client, cast, superuser):
    client.force_login(cast.administrator)
    assert client.get(detail("root")).status_code == 200  # no assignment: visible
    assert client.get(reverse("accounts:user_password", args=["root"])).status_code == 403
    assert not policies.can_change_user(cast.administrator, superuser)
    assert policies.can_change_user(superuser, cast.administrator)


def test_edit_set_password_deactivate_and_reactivate(client, cast):
    admin = cast.administrator
    target = cast.collector
    client.force_login(admin)

    response = client.post(
        reverse("accounts:user_edit", args=["collector"]),
        {"first_name": "Dara", "last_name": "Sok", "email": "d@example.invalid", "language": "km"},
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert (target.first_name, target.language) == ("Dara", "km")

    response = client.post(
        reverse("accounts:user_password", args=["collector"]),
        {"password1": "Brand-new-pass-77", "password2": "Brand-new-pass-77"},
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.check_password("Brand-new-pass-77")

    url = reverse("accounts:user_set_active", args=["collector"])
    assert client.post(url, {"active": "0"}).status_code == 302
    target.refresh_from_db()
    assert not target.is_active
    assert client.post(url, {"active": "1"}).status_code == 302
    target.refresh_from_db()
    assert target.is_active

    done = actions(actor=admin, object_id=str(target.pk))
    assert done.count("accounts.user_update") == 3
    assert "accounts.user_set_password" in done


def test_deactivated_user_is_logged_out_and_cannot_log_in(client, cast):
    client.force_login(cast.collector)
    assert client.get("/").status_code == 200
    cast.collector.is_active = False
    cast.collector.save()
    assert client.get("/").status_code == 302


def test_administrator_cannot_deactivate_himself(client, cast):
    client.force_login(cast.administrator)
    response = client.post(
        reverse("accounts:user_set_active", args=["administrator"]), {"active": "0"}, follow=True
    )
    assert "cannot deactivate your own account" in response.content.decode()
    cast.administrator.refresh_from_db()
    assert cast.administrator.is_active


def test_two_factor_reset(client, cast):
    TOTPDevice.objects.create(user=cast.auditor, name="phone", confirmed=True)
    client.force_login(cast.administrator)
    assert "Reset two-factor" in client.get(detail("auditor")).content.decode()
    response = client.post(reverse("accounts:user_2fa_reset", args=["auditor"]))
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=cast.auditor).exists()
    assert "accounts.2fa_reset" in actions(actor=cast.administrator)


def test_username_new_does_not_collide_with_the_create_page(client, cast):
    make_user("new")
    client.force_login(cast.administrator)
    assert "New user" in client.get(CREATE).content.decode()
    assert client.get(detail("new")).status_code == 200
