"""``Idempotency-Key`` on API ``POST`` (API.md), on a throwaway endpoint that writes."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from probity.audit.models import AuditEntry
from probity.core.models import IdempotencyRecord
from probity.core.tests import idempotency_urls

pytestmark = [pytest.mark.django_db, pytest.mark.urls("probity.core.tests.idempotency_urls")]

URL = "/api/test/notes"


def post(client, body, key=None, **extra):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(
        URL,
        data=json.dumps(body) if not isinstance(body, str) else body,
        content_type="application/json",
        **headers,
        **extra,
    )


def notes() -> int:
    return AuditEntry.objects.filter(action="test.note").count()


@pytest.fixture
def dara(cast, api_client_for):
    return api_client_for(cast.commander)


@pytest.fixture
def failing():
    idempotency_urls.FAIL_AFTER_WRITE["on"] = True
    yield
    idempotency_urls.FAIL_AFTER_WRITE["on"] = False


def test_repeat_with_same_key_and_body_returns_the_first_answer(dara):
    first = post(dara, {"text": "hello"}, key="key-1")
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first
    assert notes() == 1
    again = post(dara, {"text": "hello"}, key="key-1")
    assert again.status_code == 201
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert again["Content-Type"] == first["Content-Type"]
    assert notes() == 1  # nothing new was written


def test_same_key_with_another_body_is_422(dara):
    post(dara, {"text": "hello"}, key="key-2")
    response = post(dara, {"text": "something else"}, key="key-2")
    assert response.status_code == 422
    body = response.json()
    assert set(body) == {"detail", "errors"}
    assert body["errors"][0]["field"] == "Idempotency-Key"
    assert notes() == 1


def test_same_key_on_another_path_is_422(dara):
    post(dara, {"text": "hello"}, key="key-3")
    response = dara.post(
        "/api/test/entries",
        data="{}",
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="key-3",
    )
    assert response.status_code == 422


def test_callers_have_their_own_keys(cast, api_client_for):
    commander, auditor = api_client_for(cast.commander), api_client_for(cast.auditor)
    one = post(commander, {"text": "hello"}, key="shared")
    two = post(auditor, {"text": "hello"}, key="shared")
    assert one.status_code == two.status_code == 201
    assert "Idempotent-Replayed" not in two
    assert one.json()["seq"] != two.json()["seq"]
    assert notes() == 2


def test_session_callers_have_keys_too(client, cast):
    client.force_login(cast.commander)
    first = post(client, {"text": "hi"}, key="session-key")
    again = post(client, {"text": "hi"}, key="session-key")
    assert first.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert notes() == 1


def test_without_a_key_every_call_writes(dara):
    first = post(dara, {"text": "hello"})
    second = post(dara, {"text": "hello"})
    assert first.status_code == second.status_code == 201
    assert first.json()["seq"] != second.json()["seq"]
    assert notes() == 2
    assert not IdempotencyRecord.objects.exists()


def test_a_server_error_is_not_kept_and_leaves_nothing_written(dara, failing):
    dara.raise_request_exception = False
    failed = post(dara, {"text": "hello"}, key="key-5")
    assert failed.status_code == 500
    assert set(failed.json()) == {"detail", "errors"}
    assert notes() == 0  # the write before the failure was rolled back
    assert not IdempotencyRecord.objects.exists()
    idempotency_urls.FAIL_AFTER_WRITE["on"] = False
    retry = post(dara, {"text": "hello"}, key="key-5")
    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry
    assert notes() == 1


def test_client_errors_are_kept_and_replayed(dara):
    first = post(dara, {"text": "refuse"}, key="key-6")
    assert first.status_code == 409
    again = post(dara, {"text": "refuse"}, key="key-6")
    assert again.status_code == 409
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"


def test_invalid_body_is_422_and_replayed(dara):
    first = post(dara, {"text": ""}, key="key-7")
    assert first.status_code == 422
    assert first.json()["errors"][0]["field"] == "text"
    assert post(dara, {"text": ""}, key="key-7")["Idempotent-Replayed"] == "true"


@pytest.mark.parametrize("key", ["", "   ", "k" * 256])
def test_malformed_key_is_422(dara, key):
    response = post(dara, {"text": "hello"}, key=key)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
    assert notes() == 0


def test_unauthenticated_with_a_key_is_401_and_keeps_nothing(client):
    response = post(client, {"text": "hello"}, key="anon")
    assert response.status_code == 401
    assert not IdempotencyRecord.objects.exists()


def test_an_expired_key_runs_again(dara):
    post(dara, {"text": "hello"}, key="key-8")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(days=2))
    again = post(dara, {"text": "hello"}, key="key-8")
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again
    assert notes() == 2


def test_get_requests_ignore_the_key(dara):
    response = dara.get("/api/test/entries", HTTP_IDEMPOTENCY_KEY="get-key")
    assert response.status_code == 200
    assert not IdempotencyRecord.objects.exists()
