"""API tokens: created in the page or by command, shown once, stored as a hash, revocable."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from probity.accounts.models import ApiToken, User, hash_token
from probity.accounts.tests.helpers import make_user
from probity.audit.models import AuditEntry

pytestmark = pytest.mark.django_db

TOKENS = reverse("accounts:tokens")
CREATE = reverse("accounts:token_create")
RAW = re.compile(r"prb_[A-Za-z0-9_-]{20,}")


def bearer(raw):
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_token_created_in_the_page_is_shown_once_and_stored_as_a_hash(client, cast):
    admin = cast.administrator
    client.force_login(admin)
    assert client.get(CREATE).status_code == 200
    response = client.post(CREATE, {"user": "collector", "name": "Field tablet 7"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    body = response.content.decode()
    assert "will not be shown again" in body
    raw = RAW.search(body).group(0)

    token = ApiToken.objects.get(name="Field tablet 7")
    assert token.user == cast.collector
    assert token.created_by == admin
    assert token.token_hash == hash_token(raw)
    assert raw not in (token.token_hash, token.hint, token.name)
    assert raw.startswith(token.hint)
    entry = AuditEntry.objects.get(action="accounts.token_create", actor=admin)
    assert raw not in str(entry.after)

    listing = client.get(TOKENS).content.decode()
    assert "Field tablet 7" in listing
    assert token.hint in listing
    assert raw not in listing


def test_bearer_token_works_records_use_and_stops_when_revoked(client, cast):
    client.force_login(cast.administrator)
    body = client.post(CREATE, {"user": "collector", "name": "LIMS"}).content.decode()
    raw = RAW.search(body).group(0)
    token = ApiToken.objects.get(name="LIMS")
    assert token.last_used_at is None

    response = bearer(raw).get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["username"] == "collector"
    token.refresh_from_db()
    assert token.last_used_at is not None

    response = client.post(reverse("accounts:token_revoke", args=[token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert token.revoked_by == cast.administrator
    assert AuditEntry.objects.filter(action="accounts.token_revoke", actor=cast.administrator)
    assert bearer(raw).get("/api/v1/me").status_code == 401
    assert "Revoked" in client.get(TOKENS).content.decode()


def test_unknown_and_malformed_tokens_are_refused(db):
    assert bearer("prb_not-a-real-token-at-all-000000").get("/api/v1/me").status_code == 401
    assert bearer("something-else").get("/api/v1/me").status_code == 401


def test_token_of_a_deactivated_user_stops_working(cast, api_client_for):
    api = api_client_for(cast.collector)
    assert api.get("/api/v1/me").status_code == 200
    cast.collector.is_active = False
    cast.collector.save()
    assert api.get("/api/v1/me").status_code == 401


@pytest.mark.parametrize("role", ["auditor", "commander", "collector"])
def test_only_token_managers_reach_the_tokens_pages(client, cast, role):
    client.force_login(cast[role])
    assert client.get(TOKENS).status_code == 403
    assert client.get(CREATE).status_code == 403
    assert client.post(CREATE, {"user": "collector", "name": "x"}).status_code == 403
    assert not ApiToken.objects.exists()


def test_provincial_admin_makes_tokens_only_for_accounts_within_his_jurisdiction(
    client, cast, siem_reap_cast
):
    from probity.accounts.services import token_create

    national, _ = token_create(actor=None, user=cast.collector, name="National tablet")
    admin = siem_reap_cast.administrator
    client.force_login(admin)

    response = client.post(CREATE, {"user": "collector", "name": "Sneaky"})
    assert response.status_code == 200
    assert "within your own jurisdiction" in response.content.decode()
    assert not ApiToken.objects.filter(name="Sneaky").exists()

    response = client.post(CREATE, {"user": "collector_sr", "name": "SR tablet"})
    assert response.status_code == 200
    assert ApiToken.objects.filter(name="SR tablet", user=siem_reap_cast.collector).exists()

    listing = client.get(TOKENS).content.decode()
    assert "SR tablet" in listing
    assert "National tablet" not in listing
    response = client.post(reverse("accounts:token_revoke", args=[national.pk]))
    assert response.status_code == 404
    national.refresh_from_db()
    assert national.revoked_at is None


def test_create_page_preselects_the_user(client, cast):
    client.force_login(cast.administrator)
    body = client.get(CREATE, {"user": "collector"}).content.decode()
    assert re.search(r'<option value="collector" selected>', body)


# --- management commands ----------------------------------------------------------------


def test_create_api_token_command_prints_the_token_once(cast):
    out, err = StringIO(), StringIO()
    call_command("create_api_token", "collector", "--name", "HR sync", stdout=out, stderr=err)
    raw = out.getvalue().strip()
    assert RAW.fullmatch(raw)
    assert "not be shown again" in err.getvalue()
    token = ApiToken.objects.get(name="HR sync")
    assert token.token_hash == hash_token(raw)
    assert token.user == cast.collector
    assert bearer(raw).get("/api/v1/me").json()["username"] == "collector"


def test_create_api_token_command_default_name(cast):
    out = StringIO()
    call_command("create_api_token", "collector", stdout=out, stderr=StringIO())
    assert ApiToken.objects.get(user=cast.collector).name


def test_create_api_token_command_refuses_unknown_and_inactive_users(db):
    with pytest.raises(CommandError, match="no user named"):
        call_command("create_api_token", "ghost", stdout=StringIO(), stderr=StringIO())
    make_user("sleeper", is_active=False)
    with pytest.raises(CommandError, match="deactivated"):
        call_command("create_api_token", "sleeper", stdout=StringIO(), stderr=StringIO())
    assert not ApiToken.objects.exists()


def test_createsuperuser_noinput(db, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "Root-pass-2026!")
    call_command(
        "createsuperuser",
        "--noinput",
        "--username",
        "chief",
        "--email",
        "chief@example.invalid",
        stdout=StringIO(),
    )
    chief = User.objects.get(username="chief")
    assert chief.is_superuser and chief.is_staff and chief.is_active
    assert chief.email == "chief@example.invalid"
    assert chief.check_password("Root-pass-2026!")
    assert chief.has_perm("accounts.manage_users")
    assert "administrator" in chief.roles()


def test_superuser_can_log_in_through_the_form(client, superuser):
    response = client.post(
        reverse("accounts:login"), {"username": "root", "password": "Root-pass-2026!"}
    )
    assert response.status_code == 302
    assert client.get(reverse("accounts:users")).status_code == 200
