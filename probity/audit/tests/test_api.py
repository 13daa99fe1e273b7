"""The audit endpoints of the API: verification and the head, for auditors only."""

# Tampering is raw SQL on purpose; table and column names are quoted, values are params.
# ruff: noqa: S608

import pytest

from probity.audit.selectors import audit_head
from probity.audit.tests.conftest import TABLE, qn, tampering

pytestmark = pytest.mark.django_db


def test_auditor_verifies_an_intact_chain(cast, api_client_for):
    client = api_client_for(cast.auditor)  # creating its token is audited
    count, head_hash = audit_head()
    body = client.get("/api/v1/audit/verify").json()
    assert body == {
        "ok": True,
        "count": count,
        "head_hash": head_hash,
        "head": f"{count}:{head_hash}",
        "first_bad_entry": None,
        "problem_kind": None,
        "problem": None,
    }


def test_auditor_reads_the_head(cast, api_client_for):
    client = api_client_for(cast.auditor)
    count, head_hash = audit_head()
    body = client.get("/api/v1/audit/head").json()
    assert body == {"count": count, "head_hash": head_hash, "head": f"{count}:{head_hash}"}


def test_broken_chain_names_the_first_bad_entry(cast, api_client_for):
    with tampering() as cursor:
        cursor.execute(f"UPDATE {qn(TABLE)} SET {qn('action')} = 'x' WHERE {qn('seq')} = 2")
    body = api_client_for(cast.auditor).get("/api/v1/audit/verify").json()
    assert body["ok"] is False
    assert body["first_bad_entry"] == 2
    assert body["problem_kind"] == "altered"
    assert body["count"] == 1


def test_truncation_against_a_recorded_head(cast, api_client_for):
    client = api_client_for(cast.auditor)
    count, head_hash = audit_head()
    with tampering() as cursor:
        cursor.execute(f"DELETE FROM {qn(TABLE)} WHERE {qn('seq')} = %s", [count])
    assert client.get("/api/v1/audit/verify").json()["ok"] is True
    body = client.get("/api/v1/audit/verify", {"expect_head": f"{count}:{head_hash}"}).json()
    assert body["ok"] is False and body["problem_kind"] == "truncated"


def test_malformed_recorded_head_is_422(cast, api_client_for):
    response = api_client_for(cast.auditor).get("/api/v1/audit/verify", {"expect_head": "x"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "expect_head"


@pytest.mark.parametrize("path", ["/api/v1/audit/verify", "/api/v1/audit/head"])
def test_others_are_refused(cast, api_client_for, client, path):
    response = api_client_for(cast.commander).get(path)
    assert response.status_code == 403
    assert set(response.json()) == {"detail", "errors"}
    assert client.get(path).status_code == 401
