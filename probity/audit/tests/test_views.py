"""The auditor's pages: who may see them, search, entry detail, verification, access log."""

# Tampering is raw SQL on purpose; table and column names are quoted, values are params.
# ruff: noqa: S608

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from probity.audit.models import AuditEntry
from probity.audit.selectors import audit_head
from probity.audit.services import access_record, audit_record
from probity.audit.tests.conftest import TABLE, qn, tampering

pytestmark = pytest.mark.django_db

PAGES = [
    ("audit:log", {}),
    ("audit:entry", {"seq": 1}),
    ("audit:verify", {}),
    ("audit:access_log", {}),
]


@pytest.fixture
def auditor_client(client, cast):
    client.force_login(cast.auditor)
    return client


@pytest.mark.parametrize(("name", "kwargs"), PAGES)
def test_auditor_sees_every_page(auditor_client, name, kwargs):
    response = auditor_client.get(reverse(name, kwargs=kwargs))
    assert response.status_code == 200


@pytest.mark.parametrize(("name", "kwargs"), PAGES)
def test_commander_is_refused(client, cast, name, kwargs):
    client.force_login(cast.commander)
    assert client.get(reverse(name, kwargs=kwargs)).status_code == 403
    assert client.post(reverse("audit:verify")).status_code == 403


@pytest.mark.parametrize(("name", "kwargs"), PAGES)
def test_anonymous_is_sent_to_log_in(client, cast, name, kwargs):
    response = client.get(reverse(name, kwargs=kwargs))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_superuser_reads_the_log(client, superuser):
    client.force_login(superuser)
    assert client.get(reverse("audit:log")).status_code == 200


def test_log_lists_entries_newest_first_with_the_head(auditor_client):
    count, head_hash = audit_head()
    body = auditor_client.get(reverse("audit:log")).content.decode()
    assert f"{count}:{head_hash}" in body
    assert reverse("audit:entry", kwargs={"seq": count}) in body
    assert body.index(f"#{count}<") < body.index("#1<")
    assert 'scope="col"' in body
    assert "Asia/Phnom_Penh" in body


def _listed_seqs(response) -> list[int]:
    return [entry.seq for entry in response.context["page"].object_list]


def test_search_filters(auditor_client, cast):
    mine = audit_record(
        actor=cast.commander,
        action="test.special_action",
        object_type="personnel.person",
        object_id="777",
        after={"x": 1},
    )
    url = reverse("audit:log")
    for params in (
        {"actor": "command"},
        {"action": "special"},
        {"object_type": "personnel.person"},
        {"object_id": "777"},
        {"actor": "commander", "object_id": "777", "action": "special_action"},
    ):
        assert _listed_seqs(auditor_client.get(url, params)) == [mine.seq], params
    assert _listed_seqs(auditor_client.get(url, {"object_id": "778"})) == []
    assert _listed_seqs(auditor_client.get(url, {"actor": "nobody"})) == []


def test_time_range_is_in_days_of_the_installation_time_zone(auditor_client):
    # 2024-01-22 23:30 in Phnom Penh (UTC+7) is 16:30 UTC the same day; 00:30 on the 23rd
    # in Phnom Penh is 17:30 UTC on the 22nd: it belongs to the 23rd.
    late = datetime(2024, 1, 22, 16, 30, tzinfo=UTC)
    next_day = datetime(2024, 1, 22, 17, 30, tzinfo=UTC)
    with mock.patch("probity.audit.services.timezone.now", return_value=late):
        first = audit_record(actor=None, action="range.first")
    with mock.patch("probity.audit.services.timezone.now", return_value=next_day):
        second = audit_record(actor=None, action="range.second")
    url = reverse("audit:log")
    only = {"action": "range."}
    assert _listed_seqs(
        auditor_client.get(url, {**only, "since": "2024-01-22", "until": "2024-01-22"})
    ) == [first.seq]
    assert _listed_seqs(auditor_client.get(url, {**only, "since": "2024-01-23"})) == [second.seq]
    assert _listed_seqs(auditor_client.get(url, {**only, "until": "2024-01-23"})) == [
        second.seq,
        first.seq,
    ]
    body = auditor_client.get(url, {**only, "since": "2024-01-22"}).content.decode()
    assert "2024-01-22 23:30:00" in body  # shown in local time


def test_bad_search_input_is_a_form_error_not_a_failure(auditor_client):
    url = reverse("audit:log")
    response = auditor_client.get(url, {"since": "not a date"})
    assert response.status_code == 200
    assert response.context["form"].errors["since"]
    response = auditor_client.get(url, {"since": "2024-02-01", "until": "2024-01-01"})
    assert response.status_code == 200
    assert response.context["form"].errors["until"]
    assert _listed_seqs(response) == []
    assert auditor_client.get(url, {"page": "999"}).status_code == 200
    assert auditor_client.get(url, {"page": "x"}).status_code == 200


def test_log_is_paginated(auditor_client):
    for i in range(60):
        audit_record(actor=None, action="bulk.append", object_id=str(i))
    url = reverse("audit:log")
    first = auditor_client.get(url, {"action": "bulk.append"})
    assert len(first.context["page"].object_list) == 50
    assert first.context["page"].paginator.count == 60
    body = first.content.decode()
    assert "action=bulk.append&amp;page=2" in body
    second = auditor_client.get(url, {"action": "bulk.append", "page": 2})
    assert len(second.context["page"].object_list) == 10


def test_entry_shows_before_and_after_pretty_printed(auditor_client, cast):
    entry = audit_record(
        actor=cast.commander,
        action="test.change",
        object_type="org.unit",
        object_id="5",
        object_repr="Siem Reap",
        before={"name": "Old", "code": "A"},
        after={"name": "ក្រុម", "code": "A"},
    )
    response = auditor_client.get(reverse("audit:entry", kwargs={"seq": entry.seq}))
    body = response.content.decode()
    assert "{\n  &quot;code&quot;: &quot;A&quot;,\n  &quot;name&quot;: &quot;Old&quot;\n}" in body
    assert "ក្រុម" in body
    assert entry.entry_hash in body and entry.prev_hash in body
    assert response.context["hash_matches"] is True
    assert reverse("audit:entry", kwargs={"seq": entry.seq - 1}) in body


def test_entry_page_flags_an_altered_entry(auditor_client):
    with tampering() as cursor:
        cursor.execute(f"UPDATE {qn(TABLE)} SET {qn('action')} = 'x' WHERE {qn('seq')} = 1")
    response = auditor_client.get(reverse("audit:entry", kwargs={"seq": 1}))
    assert response.context["hash_matches"] is False


def test_unknown_entry_is_404(auditor_client):
    assert auditor_client.get(reverse("audit:entry", kwargs={"seq": 99999})).status_code == 404


def test_verify_button_reports_an_intact_chain(auditor_client):
    count, head_hash = audit_head()
    body = auditor_client.post(reverse("audit:verify")).content.decode()
    assert "The audit chain is intact" in body
    assert f"{count}:{head_hash}" in body
    assert "<html" in body.lower()  # without htmx: the whole page


def test_verify_with_htmx_returns_only_the_result(auditor_client):
    response = auditor_client.post(reverse("audit:verify"), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "The audit chain is intact" in body
    assert "<html" not in body.lower()


def test_verify_button_reports_the_first_bad_entry(auditor_client):
    with tampering() as cursor:
        cursor.execute(f"DELETE FROM {qn(TABLE)} WHERE {qn('seq')} = 2")
    response = auditor_client.post(reverse("audit:verify"), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "The audit chain is broken" in body
    assert "First bad entry: #3" in body
    assert "#2 was removed" in body
    assert reverse("audit:entry", kwargs={"seq": 3}) in body


def test_verify_against_a_recorded_head(auditor_client):
    count, head_hash = audit_head()
    with tampering() as cursor:
        cursor.execute(f"DELETE FROM {qn(TABLE)} WHERE {qn('seq')} = %s", [count])
    url = reverse("audit:verify")
    assert "is intact" in auditor_client.post(url).content.decode()
    body = auditor_client.post(url, {"expect_head": f"{count}:{head_hash}"}).content.decode()
    assert "The audit chain is broken" in body
    assert f"First bad entry: #{count}" in body
    body = auditor_client.post(url, {"expect_head": "rubbish"}).content.decode()
    assert "COUNT:HASH" in body and "is intact" not in body


def test_log_page_has_the_verify_button(auditor_client):
    body = auditor_client.get(reverse("audit:log")).content.decode()
    assert f'hx-post="{reverse("audit:verify")}"' in body
    assert 'method="post"' in body


def test_access_log_lists_and_filters(auditor_client, cast):
    access_record(user=cast.medical_reviewer, object_type="testing.result", object_id="12")
    access_record(user=cast.commander, object_type="personnel.person", object_id="34")
    url = reverse("audit:access_log")
    response = auditor_client.get(url)
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 2
    body = response.content.decode()
    assert "medical_reviewer" in body and "testing.result:12" in body
    by_user = auditor_client.get(url, {"user": "commander"})
    assert [a.object_id for a in by_user.context["page"].object_list] == ["34"]
    by_object = auditor_client.get(url, {"object_type": "testing.result", "object_id": "12"})
    assert [a.object_id for a in by_object.context["page"].object_list] == ["12"]
    today = timezone.localdate()
    later = auditor_client.get(url, {"since": str(today + timedelta(days=1))})
    assert later.context["page"].paginator.count == 0


def test_viewing_the_log_writes_nothing(auditor_client):
    before = AuditEntry.objects.count()
    auditor_client.get(reverse("audit:log"))
    auditor_client.post(reverse("audit:verify"))
    assert AuditEntry.objects.count() == before


def test_reading_an_audit_entry_is_recorded_in_the_access_log(client, cast):
    from probity.audit.models import AccessLogEntry, AuditEntry

    entry = AuditEntry.objects.order_by("seq").first()
    client.force_login(cast.auditor)
    assert client.get(reverse("audit:entry", args=[entry.seq])).status_code == 200
    logged = AccessLogEntry.objects.get(object_type="audit.auditentry")
    assert logged.user == cast.auditor
    assert logged.object_id == str(entry.seq)
