"""The page shell: deny by default, home page, language switch, error shapes."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_anonymous_is_sent_to_log_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_home_shows_assignments_and_reachable_pages(client, cast):
    client.force_login(cast.commander)
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "General Commissariat" in body
    assert "Commander" in body
    assert reverse("org:tree") in body
    assert reverse("audit:log") not in body  # a commander does not read the audit log


def test_auditor_reaches_audit_log(client, cast):
    client.force_login(cast.auditor)
    body = client.get("/").content.decode()
    assert reverse("audit:log") in body


def test_language_switch_is_remembered_on_the_account(client, cast):
    client.force_login(cast.commander)
    response = client.post(reverse("set_language"), {"language": "km", "next": "/"})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "km"
    cast.commander.refresh_from_db()
    assert cast.commander.language == "km"
    page = client.get("/")
    assert page.content.decode().count('lang="km"') >= 1


def test_unknown_language_is_ignored(client, cast):
    client.force_login(cast.commander)
    response = client.post(reverse("set_language"), {"language": "xx", "next": "/"})
    assert "django_language" not in response.cookies


def test_language_switch_refuses_foreign_redirect(client):
    response = client.post(
        reverse("set_language"), {"language": "km", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_request_id_is_echoed(client):
    response = client.get(reverse("accounts:login"), HTTP_X_REQUEST_ID="abcdef123456")
    assert response["X-Request-ID"] == "abcdef123456"
    response = client.get(reverse("accounts:login"), HTTP_X_REQUEST_ID="bad id!")
    assert response["X-Request-ID"] != "bad id!"
    assert len(response["X-Request-ID"]) == 32


def test_server_error_page_renders_without_the_database(rf):
    from probity.core.views import server_error

    request = rf.get("/somewhere/")
    request.request_id = "req-12345678"
    response = server_error(request)
    assert response.status_code == 500
    assert "req-12345678" in response.content.decode()


def test_api_server_error_is_json(rf):
    from probity.core.views import server_error

    response = server_error(rf.get("/api/v1/units"))
    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
