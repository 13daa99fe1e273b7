"""The roster import in the web UI and the API: upload, the batch page with its progress
bar, the errors download, confirming a dry run, the template, permissions."""

import csv
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from probity.audit.models import AuditEntry
from probity.audit.selectors import verify_chain
from probity.org.services import rank_create
from probity.personnel import imports
from probity.personnel.models import Employment, ImportBatch, Person

pytestmark = pytest.mark.django_db

HEADER = ",".join(imports.COLUMNS)
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def _var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"


@pytest.fixture
def ranks(org_tree):
    return rank_create(actor=None, agency=org_tree.police, code="CPT", name_en="Captain")


@pytest.fixture
def officer(cast):
    return cast.personnel_officer


def line(n: int, *, unit="NP-SR", sex="M", born="1990-04-01") -> str:
    return f"NP-{n:04d},Sok,Dara{n},សុខ តារា,{sex},{born},{unit},CPT,Officer,ID{n:06d}"


def roster(*lines: str, name="roster.csv") -> SimpleUploadedFile:
    text = "\r\n".join([HEADER, *lines]) + "\r\n"
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


GOOD = [line(1), line(2), line(3)]
BAD = [line(1), line(2, sex="X"), line(3, unit="NP-NOWHERE", born="31/02/1990")]


# --- the pages --------------------------------------------------------------------------


def test_upload_with_errors_read_them_download_them_fix_and_import(client, officer, ranks):
    client.force_login(officer)
    page = client.get(reverse("personnel:import"))
    assert page.status_code == 200
    body = page.content.decode()
    assert reverse("personnel:import_template") in body
    assert 'enctype="multipart/form-data"' in body
    assert '<label class="form-label" for="id_file">' in body
    assert 'for="id_dry_run"' in body

    # 1. A file with errors: rejected, every error on the page and in the download.
    response = client.post(reverse("personnel:import"), {"file": roster(*BAD), "dry_run": ""})
    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("personnel:import_batch", args=[batch.pk])
    assert batch.state == ImportBatch.State.REJECTED
    body = client.get(response["Location"]).content.decode()
    assert "3 errors in 2 rows: nothing was imported." in body
    assert 'id="import-errors"' in body
    assert "Write M or F" in body and "Unknown unit code NP-NOWHERE" in body
    assert "not a real date" in body
    assert reverse("personnel:import_errors_csv", args=[batch.pk]) in body
    assert "hx-trigger" not in body  # finished: no polling
    download = client.get(reverse("personnel:import_errors_csv", args=[batch.pk]))
    assert download.status_code == 200
    assert download["Content-Type"].startswith("text/csv")
    assert f"import-{batch.pk}-errors.csv" in download["Content-Disposition"]
    content = b"".join(download.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(content)))
    assert rows[0] == ["row", "column", "message"]
    assert [(r[0], r[1]) for r in rows[1:]] == [
        ("3", "sex"),
        ("4", "date_of_birth"),
        ("4", "unit"),
    ]
    assert not Person.objects.exists()

    # 2. Fixed, checked first (dry run): nothing written, counts shown, a button to go on.
    response = client.post(reverse("personnel:import"), {"file": roster(*GOOD), "dry_run": "on"})
    dry = ImportBatch.objects.order_by("-pk").first()
    assert dry.dry_run and dry.state == ImportBatch.State.DONE
    assert (dry.created, dry.updated, dry.unchanged) == (3, 0, 0)
    assert not Person.objects.exists()
    body = client.get(response["Location"]).content.decode()
    assert "People who would be added" in body and "NP-0002" in body
    assert reverse("personnel:import_confirm", args=[dry.pk]) in body
    assert imports.stored_path(dry) is not None  # kept for the real import

    # 3. Imported for real from the stored file.
    response = client.post(reverse("personnel:import_confirm", args=[dry.pk]))
    real = ImportBatch.objects.order_by("-pk").first()
    assert real.pk != dry.pk and not real.dry_run
    assert response["Location"] == reverse("personnel:import_batch", args=[real.pk])
    assert real.state == ImportBatch.State.DONE
    assert (real.created, real.updated, real.unchanged) == (3, 0, 0)
    assert real.sha256 == dry.sha256
    assert Employment.objects.filter(import_batch=real).count() == 3
    assert imports.stored_path(real) is None  # the upload is deleted once imported
    body = client.get(response["Location"]).content.decode()
    assert 'id="count-created">3<' in body
    assert 'role="progressbar"' not in body
    assert verify_chain().ok


def test_large_files_run_in_the_background_and_the_page_polls(
    client, officer, ranks, settings, monkeypatch
):
    monkeypatch.setattr(imports, "INLINE_MAX_ROWS", 2)
    client.force_login(officer)
    # The database backend queues the task; no worker runs in the test.
    client.post(reverse("personnel:import"), {"file": roster(*GOOD), "dry_run": ""})
    batch = ImportBatch.objects.get()
    assert batch.state == ImportBatch.State.QUEUED
    from django_tasks_db.models import DBTaskResult

    task = DBTaskResult.objects.get()
    assert task.task_path == "probity.personnel.tasks.import_roster"
    assert task.args_kwargs["args"] == [batch.pk, False]
    url = reverse("personnel:import_batch", args=[batch.pk])
    body = client.get(url).content.decode()
    assert f'hx-get="{url}"' in body and 'hx-trigger="every 1s"' in body
    assert 'role="progressbar"' in body and 'aria-valuenow="0"' in body
    assert "Waiting for the background worker" in body

    # While it runs, the page follows the progress file; htmx gets only the status part.
    batch.state = ImportBatch.State.RUNNING
    batch.save()
    imports.progress_path(batch.pk).write_text(
        '{"phase": "writing", "processed": 2, "total": 3}', encoding="utf-8"
    )
    partial = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and 'id="batch-status"' in partial
    assert 'aria-valuenow="77"' in partial and "Writing: 2 of 3 rows." in partial
    assert 'hx-trigger="every 1s"' in partial

    # The worker's task does the import (run here directly).
    from probity.personnel.tasks import import_roster

    batch.state = ImportBatch.State.QUEUED
    batch.save()
    result = import_roster.call(batch.pk, False)
    assert result["state"] == "done" and result["created"] == 3
    partial = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in partial  # polling stops
    assert 'id="count-created">3<' in partial


def test_background_import_with_the_immediate_backend(
    client, officer, ranks, settings, monkeypatch
):
    settings.TASKS = IMMEDIATE
    monkeypatch.setattr(imports, "INLINE_MAX_ROWS", 2)
    client.force_login(officer)
    client.post(reverse("personnel:import"), {"file": roster(*GOOD), "dry_run": ""})
    batch = ImportBatch.objects.get()
    assert batch.state == ImportBatch.State.DONE and batch.created == 3
    assert imports.stored_path(batch) is None


def test_upload_refused_is_shown_on_the_form(client, officer):
    client.force_login(officer)
    response = client.post(
        reverse("personnel:import"),
        {"file": SimpleUploadedFile("roster.pdf", b"%PDF-1.4"), "dry_run": "on"},
    )
    assert response.status_code == 200
    assert "must end in .csv or .xlsx" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_template_download_opens_with_both_sheets(client, officer):
    client.force_login(officer)
    response = client.get(reverse("personnel:import_template"))
    assert response.status_code == 200
    assert response["Content-Type"] == imports.XLSX_CONTENT_TYPE
    assert "attachment" in response["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(response.content))
    assert wb.sheetnames == ["People", "Instructions"]
    assert [c.value for c in wb["People"][1]] == list(imports.COLUMNS)


def test_who_may_use_the_import_pages(client, cast, siem_reap_cast, ranks):
    commander = cast.commander  # sees people, may not import
    client.force_login(commander)
    assert client.get(reverse("personnel:import")).status_code == 403
    assert client.get(reverse("personnel:import_template")).status_code == 403

    client.force_login(cast.personnel_officer)
    client.post(reverse("personnel:import"), {"file": roster(*BAD), "dry_run": ""})
    batch = ImportBatch.objects.get()
    url = reverse("personnel:import_batch", args=[batch.pk])
    errors_url = reverse("personnel:import_errors_csv", args=[batch.pk])
    assert client.get(url).status_code == 200

    # Another personnel officer does not see someone else's import; an auditor does.
    client.force_login(siem_reap_cast.personnel_officer)
    assert client.get(url).status_code == 404
    assert client.get(errors_url).status_code == 404
    client.force_login(cast.auditor)
    assert client.get(url).status_code == 200
    assert client.get(errors_url).status_code == 200
    # Only the creator may confirm a dry run.
    assert client.post(reverse("personnel:import_confirm", args=[batch.pk])).status_code == 403


def test_a_batch_that_was_not_a_successful_dry_run_cannot_be_confirmed(client, officer, ranks):
    client.force_login(officer)
    client.post(reverse("personnel:import"), {"file": roster(*BAD), "dry_run": "on"})
    batch = ImportBatch.objects.get()
    response = client.post(reverse("personnel:import_confirm", args=[batch.pk]), follow=True)
    assert "cannot be imported" in response.content.decode()
    assert ImportBatch.objects.count() == 1


# --- the API ----------------------------------------------------------------------------

API = "/api/v1/people/import"


def test_api_import_counts_then_nothing_the_second_time(api_client_for, officer, ranks):
    api = api_client_for(officer)
    response = api.post(API, {"file": roster(*GOOD)})
    assert response.status_code == 200, response.content
    body = response.json()
    assert {k: body[k] for k in ("created", "updated", "unchanged")} == {
        "created": 3,
        "updated": 0,
        "unchanged": 0,
    }
    assert body["dry_run"] is False and body["rows"] == 3
    batch = ImportBatch.objects.get(pk=body["batch"])
    assert imports.stored_path(batch) is None
    again = api.post(API, {"file": roster(*GOOD)}).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)
    changed = api.post(API, {"file": roster(line(1), line(2, unit="NP-SR-01"))}).json()
    assert (changed["created"], changed["updated"], changed["unchanged"]) == (0, 1, 1)
    assert AuditEntry.objects.filter(action="personnel.import").count() == 3


def test_api_dry_run_writes_nothing(api_client_for, officer, ranks):
    response = api_client_for(officer).post(f"{API}?dry_run=true", {"file": roster(*GOOD)})
    assert response.status_code == 200
    assert response.json()["created"] == 3 and response.json()["dry_run"] is True
    assert not Person.objects.exists()
    assert not AuditEntry.objects.filter(action="personnel.import").exists()


def test_api_422_lists_every_bad_row(api_client_for, officer, ranks):
    response = api_client_for(officer).post(API, {"file": roster(*BAD)})
    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == "3 errors in 2 rows: nothing was imported."
    assert [(e["row"], e["field"]) for e in body["errors"]] == [
        (3, "sex"),
        (4, "date_of_birth"),
        (4, "unit"),
    ]
    assert all(set(e) == {"field", "row", "message"} and e["message"] for e in body["errors"])
    assert not Person.objects.exists()


def test_api_header_errors_and_xlsx(api_client_for, officer, ranks, tmp_path):
    api = api_client_for(officer)
    bad_header = SimpleUploadedFile("r.csv", b"service_number,surname\nNP-1,Sok\n")
    body = api.post(API, {"file": bad_header}).json()
    assert {(e["row"], e["field"]) for e in body["errors"]} == {
        (1, "surname"),
        (1, "family_name"),
        (1, "given_name"),
        (1, "unit"),
    }
    wb = openpyxl.Workbook()
    wb.active.append(list(imports.COLUMNS))
    wb.active.append(line(1).split(","))
    out = io.BytesIO()
    wb.save(out)
    response = api.post(API, {"file": SimpleUploadedFile("r.xlsx", out.getvalue())})
    assert response.status_code == 200 and response.json()["created"] == 1


def test_api_refusals(api_client_for, cast, officer, ranks):
    assert api_client_for(cast.commander).post(API, {"file": roster(*GOOD)}).status_code == 403
    api = api_client_for(officer)
    missing = api.post(API, {})
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "file"
    wrong = api.post(API, {"file": SimpleUploadedFile("r.csv", "Dé\n".encode("latin-1"))})
    assert wrong.status_code == 422
    assert wrong.json()["errors"] == [{"field": "file", "message": wrong.json()["detail"]}]
    assert not ImportBatch.objects.exists()


def test_api_batch_state(api_client_for, cast, officer, ranks):
    body = api_client_for(officer).post(API, {"file": roster(*BAD)}).json()
    batch = ImportBatch.objects.get()
    url = f"/api/v1/people/imports/{batch.pk}"
    state = api_client_for(officer).get(url)
    assert state.status_code == 200
    data = state.json()
    assert data["state"] == "rejected" and data["error_count"] == 3
    assert data["errors"] == body["errors"]
    assert data["created_by"] == officer.username
    assert api_client_for(cast.commander).get(url).status_code == 404
    assert api_client_for(cast.auditor).get(url).status_code == 200
