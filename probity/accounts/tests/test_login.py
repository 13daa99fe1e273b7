"""Log-in with django-axes lock-out, log-out by POST, language preference, audit events."""

import json

import pytest
from django.conf import settings
from django.urls import reverse

from probity.audit.models import AuditEntry
from probity.testing_support import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def test_login_page_is_open_and_labelled(client):
    response = client.get(LOGIN)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'for="id_username"' in body
    assert 'for="id_password"' in body


def test_login_success_redirects_home_and_is_audited(client, cast):
    response = client.post(LOGIN, {"username": "commander", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.get("/").status_code == 200
    entry = AuditEntry.objects.get(action="accounts.login")
    assert entry.actor == cast.commander
    assert entry.object_id == str(cast.commander.pk)


def test_login_follows_a_safe_next_only(client, cast):
    response = client.post(LOGIN, {"username": "commander", "password": PASSWORD, "next": "/org/"})
    assert response["Location"] == "/org/"
    client.post(reverse("accounts:logout"))
    response = client.post(
        LOGIN, {"username": "commander", "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("home")


def test_login_failure_shows_message_and_audits_username_only(client, cast):
    response = client.post(LOGIN, {"username": "commander", "password": "wrong-password-1"})
    assert response.status_code == 200
    assert "did not match" in response.content.decode()
    assert "_auth_user_id" not in client.session
    entry = AuditEntry.objects.get(action="accounts.login_failed")
    assert entry.after == {"username": "commander"}
    assert entry.actor is None
    dumped = json.dumps([entry.before, entry.after, entry.object_repr])
    assert "wrong-password-1" not in dumped


def test_inactive_user_cannot_log_in(client, cast):
    cast.commander.is_active = False
    cast.commander.save()
    response = client.post(LOGIN, {"username": "commander", "password": PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_lockout_after_repeated_failures_refuses_even_the_right_password(client, cast):
    limit = settings.AXES_FAILURE_LIMIT
    assert limit == 5
    for _ in range(limit - 1):
        response = client.post(LOGIN, {"username": "commander", "password": "nope-nope-1"})
        assert response.status_code == 200
    response = client.post(LOGIN, {"username": "commander", "password": "nope-nope-1"})
    assert response.status_code == 429
    body = response.content.decode()
    assert "locked" in body
    assert "administrator" in body
    assert "minutes" in body

    response = client.post(LOGIN, {"username": "commander", "password": PASSWORD})
    assert response.status_code == 429
    assert "This account is locked for a while" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.filter(action="accounts.lockout").exists()
    assert AuditEntry.objects.filter(action="accounts.login").count() == 0

    # Another username from the same address is not locked.
    response = client.post(LOGIN, {"username": "collector", "password": PASSWORD})
    assert response.status_code == 302


def test_success_resets_the_failure_count(client, cast):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post(LOGIN, {"username": "commander", "password": "nope-nope-1"})
    assert client.post(LOGIN, {"username": "commander", "password": PASSWORD}).status_code == 302
    client.post(reverse("accounts:logout"))
    response = client.post(LOGIN, {"username": "commander", "password": "nope-nope-1"})
    assert response.status_code == 200


def test_logout_is_post_only_and_audited(client, cast):
    client.force_login(cast.commander)
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert client.get("/").status_code == 200
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")
    assert client.get("/").status_code == 302
    entry = AuditEntry.objects.get(action="accounts.logout")
    assert entry.actor == cast.commander


def test_logout_when_already_logged_out_goes_to_login(client):
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")


def test_force_login_writes_no_audit_entry(client, cast):
    before = AuditEntry.objects.count()
    client.force_login(cast.commander)
    assert AuditEntry.objects.count() == before


def test_stored_language_is_applied_on_login(client, cast):
    cast.commander.language = "km"
    cast.commander.save()
    response = client.post(LOGIN, {"username": "commander", "password": PASSWORD})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "km"
    page = client.get("/")
    assert 'lang="km"' in page.content.decode()


def test_no_language_cookie_without_a_preference(client, cast):
    response = client.post(LOGIN, {"username": "commander", "password": PASSWORD})
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


def test_logged_in_user_visiting_login_is_sent_home(client, cast):
    client.force_login(cast.commander)
    response = client.get(LOGIN)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_installation_hashes_passwords_with_argon2():
    # The shared conftest swaps in a fast hasher for the tests; the settings module does not.
    from django.contrib.auth.hashers import check_password, make_password
    from django.test import override_settings

    from probity import settings as project_settings

    assert project_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    with override_settings(PASSWORD_HASHERS=project_settings.PASSWORD_HASHERS):
        encoded = make_password("Long-enough-pass-42")
        assert encoded.startswith("argon2$")
        assert check_password("Long-enough-pass-42", encoded)
