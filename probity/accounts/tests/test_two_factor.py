"""TOTP two-factor authentication: enforced for the sensitive roles, skipped in demo mode."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import override_settings
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from probity.accounts.tests.helpers import actions, current_code
from probity.audit.models import AuditEntry

pytestmark = pytest.mark.django_db

SETUP = "/accounts/2fa/setup/"
VERIFY = "/accounts/2fa/verify/"

enforced = override_settings(PROBITY_REQUIRE_2FA=True)


def confirmed_device(user):
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


@enforced
def test_administrator_enrols_then_reaches_home(client, cast):
    admin = cast.administrator
    client.force_login(admin)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == f"{SETUP}?next=/"

    page = client.get(response["Location"])
    assert page.status_code == 200
    body = page.content.decode()
    assert "<svg" in body  # the QR code, drawn on the server
    assert "authenticator app" in body
    device = TOTPDevice.objects.get(user=admin)
    assert not device.confirmed
    from base64 import b32encode

    secret = b32encode(device.bin_key).decode()
    assert secret[:4] in body

    # Reloading the page keeps the same pending device.
    client.get(SETUP)
    assert TOTPDevice.objects.filter(user=admin).count() == 1

    response = client.post(SETUP, {"code": current_code(device), "next": "/"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/").status_code == 200
    assert "accounts.2fa_enrol" in actions(actor=admin)


@enforced
def test_wrong_enrolment_code_is_refused_and_audited(client, cast):
    client.force_login(cast.administrator)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=cast.administrator)
    wrong = f"{(int(current_code(device)) + 1) % 1_000_000:06d}"
    response = client.post(SETUP, {"code": wrong, "next": "/"})
    assert response.status_code == 200
    assert "not right" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert client.get("/").status_code == 302
    assert "accounts.2fa_failed" in actions(actor=cast.administrator)


@enforced
def test_code_must_be_six_digits(client, cast):
    client.force_login(cast.administrator)
    client.get(SETUP)
    response = client.post(SETUP, {"code": "12ab"})
    assert response.status_code == 200
    assert "six digits" in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()


@enforced
def test_enrolled_administrator_verifies_at_each_log_in(client, cast):
    admin = cast.administrator
    device = confirmed_device(admin)
    client.force_login(admin)
    response = client.get("/org/?agency=NP&q=a b")
    assert response.status_code == 302
    assert response["Location"] == f"{VERIFY}?next=/org/%3Fagency%3DNP%26q%3Da%2520b"
    # Set-up sends an enrolled user to verification instead of enrolling again.
    assert client.get(SETUP)["Location"].startswith(VERIFY)

    next_url = parse_qs(urlsplit(response["Location"]).query)["next"][0]
    assert next_url == "/org/?agency=NP&q=a%20b"
    page = client.get(response["Location"])
    assert 'value="/org/?agency=NP&amp;q=a%20b"' in page.content.decode()

    response = client.post(VERIFY, {"code": current_code(device), "next": next_url})
    assert response.status_code == 302
    assert response["Location"] == next_url
    assert client.get("/").status_code == 200
    assert "accounts.2fa_verify" in actions(actor=admin)


@enforced
def test_wrong_verification_code_is_refused(client, cast):
    admin = cast.administrator
    device = confirmed_device(admin)
    client.force_login(admin)
    wrong = f"{(int(current_code(device)) + 7) % 1_000_000:06d}"
    response = client.post(VERIFY, {"code": wrong, "next": "/"})
    assert response.status_code == 200
    assert client.get("/").status_code == 302
    assert AuditEntry.objects.filter(action="accounts.2fa_failed", actor=admin).exists()


@enforced
def test_verification_ignores_a_foreign_next(client, cast):
    device = confirmed_device(cast.auditor)
    client.force_login(cast.auditor)
    response = client.post(VERIFY, {"code": current_code(device), "next": "https://evil.example/"})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


@enforced
def test_verify_without_a_device_goes_to_setup(client, cast):
    client.force_login(cast.medical_reviewer)
    response = client.get(VERIFY + "?next=/org/")
    assert response.status_code == 302
    assert response["Location"] == f"{SETUP}?next=%2Forg%2F"


@enforced
@pytest.mark.parametrize("role", ["collector", "commander", "case_officer", "analyst"])
def test_other_roles_are_not_asked(client, cast, role):
    client.force_login(cast[role])
    assert client.get("/").status_code == 200


@enforced
@pytest.mark.parametrize(
    "role", ["administrator", "medical_reviewer", "committee_member", "auditor"]
)
def test_sensitive_roles_are_asked(client, cast, role):
    client.force_login(cast[role])
    assert client.get("/").status_code == 302


@enforced
def test_superuser_is_asked(client, superuser):
    client.force_login(superuser)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(SETUP)


@enforced
def test_api_session_needs_verification_but_bearer_tokens_work(client, cast, api_client_for):
    admin = cast.administrator
    client.force_login(admin)
    response = client.get("/api/v1/me")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")
    assert "Two-factor" in response.json()["detail"]

    api = api_client_for(admin)
    response = api.get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["username"] == "administrator"

    device = confirmed_device(admin)
    client.post(VERIFY, {"code": current_code(device), "next": "/"})
    assert client.get("/api/v1/me").status_code == 200


@enforced
def test_logout_works_before_verification(client, cast):
    client.force_login(cast.administrator)
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")


@override_settings(PROBITY_REQUIRE_2FA=False)
def test_demo_mode_does_not_ask(client, cast, superuser):
    for user in (cast.administrator, cast.auditor, superuser):
        client.force_login(user)
        assert client.get("/").status_code == 200
        assert client.get("/api/v1/me").status_code == 200


@override_settings(PROBITY_REQUIRE_2FA=False)
def test_voluntary_enrolment_in_demo_mode(client, cast):
    client.force_login(cast.collector)
    assert client.get(SETUP).status_code == 200
    device = TOTPDevice.objects.get(user=cast.collector)
    response = client.post(SETUP, {"code": current_code(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed


@enforced
def test_repeated_wrong_codes_are_throttled(client, cast):
    admin = cast.administrator
    device = confirmed_device(admin)
    client.force_login(admin)
    wrong = f"{(int(current_code(device)) + 3) % 1_000_000:06d}"
    client.post(VERIFY, {"code": wrong})
    # Straight after a wrong code even the right one must wait (django-otp's throttling).
    response = client.post(VERIFY, {"code": current_code(device)})
    assert response.status_code == 200
    assert "Too many wrong codes" in response.content.decode()
    assert client.get("/").status_code == 302
