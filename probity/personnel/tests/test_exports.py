"""Exports of the people list: exactly the filtered rows within the user's scope, in the
roster import's columns, CSV streamed and XLSX readable by openpyxl, and audited."""

import csv
import io
from datetime import date

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from probity.accounts.models import User
from probity.audit.models import AuditEntry
from probity.org.services import rank_create
from probity.personnel import exports, services

pytestmark = pytest.mark.django_db

CSV_URL = reverse("personnel:people_export_csv")
XLSX_URL = reverse("personnel:people_export_xlsx")
HEADER = [
    "service_number",
    "family_name",
    "given_name",
    "name_km",
    "sex",
    "date_of_birth",
    "unit",
    "rank",
    "position",
    "national_id",
    "status",
]


def hire(unit, service_number, family, given, **extra):
    registrar, _ = User.objects.get_or_create(username="registrar")
    person = services.person_create(
        actor=registrar,
        family_name=family,
        given_name=given,
        service_number=service_number,
        unit=unit,
        start_date=date(2015, 1, 1),
        **extra,
    )
    return person.employments.get()


@pytest.fixture
def roster(org_tree):
    colonel = rank_create(
        actor=None, agency=org_tree.police, code="COL", name_en="Colonel", order=80
    )
    hire(
        org_tree.phnom_penh,
        "NP-000001",
        "Sok",
        "Dara",
        name_km="សុខ ដារា",
        sex="M",
        date_of_birth=date(1990, 4, 1),
        rank=colonel,
        position="Chief of office",
        national_id="100000001",
    )
    sophea = hire(org_tree.siem_reap, "NP-000002", "Chan", "Sophea", name_km="ចាន់ សោភា", sex="F")
    hire(org_tree.siem_reap_district, "NP-000003", "Keo", "Vichea", rank=colonel)
    hire(org_tree.prisons_root, "GDP-0001", "Meas", "Bopha")
    services.status_record(
        actor=User.objects.get(username="registrar"),
        employment=sophea,
        status="suspended",
        effective_date=date(2024, 1, 10),
        reason="Pending the committee",
    )
    return org_tree


def read_csv(response) -> list[list[str]]:
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def read_xlsx(response) -> list[list]:
    content = b"".join(response.streaming_content)
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    sheet = workbook.worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_csv_has_the_import_header_and_every_row_in_scope(client, cast, roster):
    client.force_login(cast.commander)
    response = client.get(CSV_URL)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'attachment; filename="people-' in response["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0] == HEADER
    assert rows[1:] == [
        ["NP-000002", "Chan", "Sophea", "ចាន់ សោភា", "F", "", "NP-SR", "", "", "", "suspended"],
        ["NP-000003", "Keo", "Vichea", "", "", "", "NP-SR-01", "COL", "", "", "active"],
        [
            "NP-000001",
            "Sok",
            "Dara",
            "សុខ ដារា",
            "M",
            "1990-04-01",
            "NP-PP",
            "COL",
            "Chief of office",
            "100000001",
            "active",
        ],
    ]


def test_csv_holds_exactly_the_filtered_rows(client, cast, roster):
    client.force_login(cast.commander)
    numbers = lambda params: [row[0] for row in read_csv(client.get(CSV_URL, params))[1:]]  # noqa: E731
    assert numbers({"unit": "NP-SR"}) == ["NP-000002", "NP-000003"]
    assert numbers({"status": "active"}) == ["NP-000003", "NP-000001"]
    assert numbers({"rank": "COL", "sort": "service_number"}) == ["NP-000001", "NP-000003"]
    assert numbers({"q": "សោភា"}) == ["NP-000002"]
    assert numbers({"q": "NP-000001"}) == ["NP-000001"]
    assert numbers({"q": "nobody"}) == []


def test_exports_stay_in_scope(client, siem_reap_cast, roster):
    client.force_login(siem_reap_cast.commander)
    assert [row[0] for row in read_csv(client.get(CSV_URL))[1:]] == ["NP-000002", "NP-000003"]
    assert [row[0] for row in read_xlsx(client.get(XLSX_URL))[1:]] == ["NP-000002", "NP-000003"]
    # A unit outside the jurisdiction is not a filter: back to the list, which says why.
    response = client.get(CSV_URL, {"unit": "NP-PP"})
    assert response.status_code == 302
    assert response["Location"] == reverse("personnel:people") + "?unit=NP-PP"


def test_xlsx_has_the_import_header_real_dates_and_the_filtered_rows(client, cast, roster):
    client.force_login(cast.commander)
    response = client.get(XLSX_URL, {"rank": "COL"})
    assert response.status_code == 200
    assert response["Content-Type"] == exports.XLSX_TYPE
    assert response["Content-Disposition"].startswith('attachment; filename="people-')
    rows = read_xlsx(response)
    assert rows[0] == HEADER
    assert [row[0] for row in rows[1:]] == ["NP-000003", "NP-000001"]
    dara = rows[2]
    assert dara[1:4] == ["Sok", "Dara", "សុខ ដារា"]
    assert dara[5].date() == date(1990, 4, 1)  # a real date cell, not text
    assert dara[6:] == ["NP-PP", "COL", "Chief of office", "100000001", "active"]


@pytest.mark.parametrize("url", [CSV_URL, XLSX_URL])
def test_exporting_is_audited_without_the_rows(client, cast, roster, url):
    client.force_login(cast.commander)
    client.get(url, {"unit": "NP-SR", "status": "suspended"})
    entry = AuditEntry.objects.filter(action="personnel.export").latest("seq")
    assert entry.actor == cast.commander
    assert entry.after["rows"] == 1
    assert entry.after["format"] == url.rsplit(".", 1)[1]
    assert entry.after["filters"]["unit"] == "NP-SR"
    assert entry.after["filters"]["status"] == "suspended"
    assert "Chan" not in str(entry.after) and "NP-000002" not in str(entry.after)


@pytest.mark.parametrize("role", ["lab_analyst", "analyst"])
def test_exports_are_refused_without_the_permission(client, cast, roster, role):
    client.force_login(cast[role])
    assert client.get(CSV_URL).status_code == 403
    assert client.get(XLSX_URL).status_code == 403
    assert not AuditEntry.objects.filter(action="personnel.export").exists()


def test_text_that_looks_like_a_formula_stays_text(client, cast, org_tree):
    hire(org_tree.phnom_penh, "NP-000066", '=HYPERLINK("http://x")', "Mallory")
    client.force_login(cast.commander)
    rows = read_csv(client.get(CSV_URL))
    assert rows[1][1] == '\'=HYPERLINK("http://x")'
    content = b"".join(client.get(XLSX_URL).streaming_content)
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    cell = sheet["B2"]
    assert cell.data_type == "s" and cell.value == '=HYPERLINK("http://x")'


def test_the_columns_are_those_of_the_roster_import():
    from probity.personnel import imports

    assert [name for name in exports.COLUMNS if name != "status"] == list(imports.COLUMNS)


def test_empty_export_still_has_the_header(client, cast, org_tree):
    client.force_login(cast.commander)
    assert read_csv(client.get(CSV_URL)) == [HEADER]
    assert read_xlsx(client.get(XLSX_URL)) == [HEADER]


@pytest.mark.parametrize("url", [CSV_URL, XLSX_URL])
def test_an_export_imports_again_without_changing_anything(
    client, cast, roster, tmp_path, settings, url
):
    """The export's columns are the import's (its status column is read past), so a list can
    go out to a spreadsheet and back: nothing changes when it comes back untouched."""
    from probity.personnel import imports
    from probity.personnel.models import ImportBatch

    settings.VAR_DIR = tmp_path / "var"
    client.force_login(cast.personnel_officer)
    response = client.get(url, {"unit": "NP-HQ"})
    suffix = "csv" if url == CSV_URL else "xlsx"
    path = tmp_path / f"export.{suffix}"
    path.write_bytes(b"".join(response.streaming_content))
    batch = imports.run_import(
        actor=cast.personnel_officer,
        batch=ImportBatch(file_name=path.name, created_by=cast.personnel_officer),
        path=path,
        dry_run=False,
    )
    assert batch.state == ImportBatch.State.DONE, batch.errors
    assert (batch.created, batch.updated, batch.unchanged) == (0, 0, 3)
