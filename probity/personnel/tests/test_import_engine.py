"""The roster import engine: reading, every validation rule, all or nothing, idempotency,
updates with their history, dry runs, jurisdiction, audit."""

import csv
import io
import json
import unicodedata
from datetime import date, datetime, timedelta

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from probity.audit.models import AuditEntry
from probity.audit.selectors import verify_chain
from probity.org.services import rank_create
from probity.personnel import imports
from probity.personnel.models import (
    Employment,
    EmploymentEvent,
    ImportBatch,
    Person,
    StatusChange,
)
from probity.personnel.selectors import employments_for
from probity.personnel.services import person_create

pytestmark = pytest.mark.django_db

HEADER = list(imports.COLUMNS)
KM_NFC = "សុខ តារា"
KM_NFD = unicodedata.normalize("NFD", "សុខ តារា") + "\u200b"  # and a zero-width space


@pytest.fixture(autouse=True)
def _var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"


@pytest.fixture
def ranks(org_tree):
    return {
        "CPT": rank_create(
            actor=None, agency=org_tree.police, code="CPT", name_en="Captain", order=5
        ),
        "LT": rank_create(
            actor=None, agency=org_tree.police, code="LT", name_en="Lieutenant", order=4
        ),
        "WARDEN": rank_create(
            actor=None, agency=org_tree.prisons, code="WARDEN", name_en="Warden", order=1
        ),
    }


@pytest.fixture
def officer(cast):
    """A personnel officer over the whole National Police."""
    return cast.personnel_officer


@pytest.fixture
def sr_officer(siem_reap_cast):
    """A personnel officer over Siem Reap only."""
    return siem_reap_cast.personnel_officer


def excel_date(year: int, month: int, day: int) -> datetime:
    """What openpyxl gives for a real Excel date: a naive datetime at midnight."""
    return datetime(year, month, day)  # noqa: DTZ001 - Excel dates have no time zone


def person_row(n: int, **values) -> dict:
    row = {
        "service_number": f"NP-{n:06d}",
        "family_name": "Sok",
        "given_name": f"Dara{n}",
        "name_km": KM_NFC,
        "sex": "M",
        "date_of_birth": "1990-04-01",
        "unit": "NP-SR",
        "rank": "CPT",
        "position": "Officer",
        "national_id": f"ID{n:08d}",
    }
    row.update(values)
    return row


def write_csv(folder, rows, *, name="roster.csv", header=None, delimiter=",", bom=False):
    header = header or HEADER
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(h, "") if isinstance(row, dict) else "" for h in header])
    path = folder / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode("utf-8"))
    return path


def write_xlsx(folder, rows, *, name="roster.xlsx", header=None, instructions_first=False):
    header = header or HEADER
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "People"
    if instructions_first:
        wb.move_sheet(wb.create_sheet("Instructions"), offset=-1)
    ws.append(header)
    for row in rows:
        ws.append([row.get(h) for h in header] if row else [])
    path = folder / name
    wb.save(path)
    return path


def run(user, path, *, dry_run=False, **kwargs):
    batch = ImportBatch(file_name=path.name, created_by=user)
    return imports.run_import(actor=user, batch=batch, path=path, dry_run=dry_run, **kwargs)


def errors_of(batch):
    return [(e["row"], e["field"]) for e in imports.iter_errors(batch)]


def message_for(batch, row, field):
    return next(
        e["message"] for e in imports.iter_errors(batch) if (e["row"], e["field"]) == (row, field)
    )


# --- reading ----------------------------------------------------------------------------


def test_csv_with_bom_and_comma_header_case_insensitive(tmp_path):
    header = [" Service_Number", "FAMILY_NAME", "given name", "Unit "]
    path = write_csv(
        tmp_path,
        [{"Service_Number": "1"}],
        header=header,
        bom=True,
    )
    path.write_text(
        "\ufeff Service_Number,FAMILY_NAME,given name,Unit \r\nNP-1,Sok,Dara,NP-SR\r\n,,,\r\n"
        "NP-2,Chan,Sophea,NP-PP\r\n",
        encoding="utf-8",
    )
    rows = list(imports.read_rows(path, file_name="x.csv"))
    assert rows == [
        (
            2,
            {"service_number": "NP-1", "family_name": "Sok", "given_name": "Dara", "unit": "NP-SR"},
        ),
        (
            4,
            {
                "service_number": "NP-2",
                "family_name": "Chan",
                "given_name": "Sophea",
                "unit": "NP-PP",
            },
        ),
    ]


def test_csv_with_semicolons(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(
        "service_number;family_name;given_name;unit;position\nNP-1;Sok;Dara;NP-SR;Chief, deputy\n",
        encoding="utf-8",
    )
    [(number, row)] = list(imports.read_rows(path, file_name="r.csv"))
    assert number == 2
    assert row["position"] == "Chief, deputy"


def test_header_problems_name_every_column(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("service_number,family_name,nickname,family_name\nNP-1,a,b,c\n")
    with pytest.raises(imports.ImportFileError) as caught:
        list(imports.read_rows(path, file_name="r.csv"))
    found = {(e["row"], e["field"]) for e in caught.value.errors}
    assert found == {(1, "nickname"), (1, "family_name"), (1, "given_name"), (1, "unit")}
    messages = " ".join(e["message"] for e in caught.value.errors)
    assert "Unknown column nickname" in messages
    assert "appears twice" in messages
    assert "required column given_name is missing" in messages


def test_xlsx_real_dates_text_dates_numbers_and_instructions_sheet_first(tmp_path):
    rows = [
        person_row(1, date_of_birth=excel_date(1985, 3, 9), service_number=123),
        person_row(2, date_of_birth="09/03/1985", national_id=10203040.0),
        None,  # an empty row is skipped; numbering keeps going
        person_row(3, date_of_birth=date(1970, 1, 2)),
    ]
    path = write_xlsx(tmp_path, rows, instructions_first=True)
    read = list(imports.read_rows(path, file_name="r.xlsx"))
    assert [number for number, _row in read] == [2, 3, 5]
    assert read[0][1]["date_of_birth"] == date(1985, 3, 9)
    assert read[0][1]["service_number"] == "123"
    assert read[1][1]["date_of_birth"] == "09/03/1985"
    assert read[1][1]["national_id"] == "10203040"
    assert read[2][1]["date_of_birth"] == date(1970, 1, 2)


def test_parse_date_accepts_iso_dmy_and_excel_dates():
    assert imports.parse_date("1990-04-01") == date(1990, 4, 1)
    assert imports.parse_date("1/4/1990") == date(1990, 4, 1)
    assert imports.parse_date("1990-04-01 00:00:00") == date(1990, 4, 1)
    assert imports.parse_date(excel_date(1990, 4, 1)) == date(1990, 4, 1)
    for bad in ("1990.04.01", "04/1990", "April 1990", "31/02/1990", "1990-13-01"):
        with pytest.raises(ValueError):
            imports.parse_date(bad)


# --- creating, history, audit -----------------------------------------------------------


def test_import_creates_people_with_their_history_and_one_audit_entry(officer, ranks, tmp_path):
    path = write_csv(tmp_path, [person_row(1), person_row(2, unit="NP-SR-01", rank="")])
    audit_before = AuditEntry.objects.count()
    batch = run(officer, path)
    assert batch.state == ImportBatch.State.DONE, batch.message
    assert (batch.created, batch.updated, batch.unchanged) == (2, 0, 0)
    assert batch.total_rows == batch.processed_rows == 2
    employment = Employment.objects.select_related("person", "unit", "rank").get(
        service_number="NP-000001"
    )
    person = employment.person
    assert (person.family_name, person.given_name, person.sex) == ("Sok", "Dara1", "M")
    assert person.date_of_birth == date(1990, 4, 1)
    assert person.search_text == f"sok dara1 {KM_NFC}"
    assert employment.unit.code == "NP-SR" and employment.rank.code == "CPT"
    assert employment.import_batch == batch
    assert Employment.objects.get(service_number="NP-000002").rank is None
    for employment in Employment.objects.all():
        [event] = employment.events.all()
        assert event.kind == EmploymentEvent.Kind.STARTED
        assert event.import_batch == batch and event.recorded_by == officer
        assert event.effective_date == timezone.localdate()
        [status] = employment.status_changes.all()
        assert status.status == "active" and status.import_batch == batch
    assert employments_for(officer, status="active").count() == 2
    # One audit entry for the whole import, and the chain still verifies.
    assert AuditEntry.objects.count() == audit_before + 1
    entry = AuditEntry.objects.order_by("-seq").first()
    assert entry.action == "personnel.import"
    assert entry.actor_id == officer.pk
    assert entry.object_id == str(batch.pk)
    assert entry.after == {
        "file_name": "roster.csv",
        "sha256": imports.file_digest(path)[0],
        "size": path.stat().st_size,
        "dry_run": False,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "rows": 2,
    }
    assert verify_chain().ok


def test_the_same_file_twice_changes_nothing_the_second_time(officer, ranks, tmp_path):
    path = write_csv(tmp_path, [person_row(n) for n in range(1, 6)])
    first = run(officer, path)
    assert (first.created, first.updated, first.unchanged) == (5, 0, 0)
    counts = (Person.objects.count(), EmploymentEvent.objects.count(), StatusChange.objects.count())
    second = run(officer, path)
    assert second.state == ImportBatch.State.DONE
    assert (second.created, second.updated, second.unchanged) == (0, 0, 5)
    assert (
        Person.objects.count(),
        EmploymentEvent.objects.count(),
        StatusChange.objects.count(),
    ) == counts
    assert verify_chain().ok


def test_changes_are_detected_and_recorded_as_history(officer, ranks, tmp_path):
    run(officer, write_csv(tmp_path, [person_row(1), person_row(2), person_row(3)], name="a.csv"))
    changed = [
        person_row(1, unit="NP-SR-01"),  # transfer
        person_row(2, rank="lt", position="Chief of post", given_name="Darith"),  # several
        # blank cells never erase: rank, position, sex, name_km, date of birth left as they are
        person_row(3, rank="", position="", sex="", name_km="", date_of_birth=""),
    ]
    batch = run(officer, write_csv(tmp_path, changed, name="b.csv"))
    assert batch.state == ImportBatch.State.DONE, batch.message
    assert (batch.created, batch.updated, batch.unchanged) == (0, 2, 1)

    first = Employment.objects.get(service_number="NP-000001")
    assert first.unit.code == "NP-SR-01"
    [transfer] = first.events.filter(import_batch=batch)
    assert transfer.kind == EmploymentEvent.Kind.TRANSFER
    assert (transfer.before, transfer.after) == ({"unit": "NP-SR"}, {"unit": "NP-SR-01"})

    second = Employment.objects.select_related("person", "rank").get(service_number="NP-000002")
    assert second.rank.code == "LT" and second.position == "Chief of post"
    assert second.person.given_name == "Darith"
    assert second.person.search_text.startswith("sok darith")
    kinds = {e.kind: e for e in second.events.filter(import_batch=batch)}
    assert set(kinds) == {"rank", "position", "details"}
    assert kinds["rank"].before == {"rank": "CPT"} and kinds["rank"].after == {"rank": "LT"}
    assert kinds["details"].before == {"given_name": "Dara2"}
    assert kinds["details"].after == {"given_name": "Darith"}

    third = Employment.objects.select_related("person", "rank").get(service_number="NP-000003")
    assert third.rank.code == "CPT" and third.position == "Officer"
    assert third.person.name_km == KM_NFC and third.person.sex == "M"
    assert not third.events.filter(import_batch=batch).exists()


def test_existing_people_registered_by_hand_are_matched(officer, ranks, tmp_path, org_tree):
    person_create(
        actor=officer,
        family_name="Sok",
        given_name="Dara1",
        name_km=KM_NFC,
        sex="M",
        date_of_birth=date(1990, 4, 1),
        national_id="ID00000001",
        service_number="NP-000001",
        unit=org_tree.siem_reap,
        rank=ranks["CPT"],
        position="Officer",
    )
    batch = run(officer, write_csv(tmp_path, [person_row(1)]))
    assert (batch.created, batch.updated, batch.unchanged) == (0, 0, 1)


def test_an_imported_person_has_the_same_records_as_one_added_by_hand(
    officer, ranks, tmp_path, org_tree
):
    by_hand = person_create(
        actor=officer,
        family_name="Sok",
        given_name="Dara1",
        name_km=KM_NFC,
        sex="M",
        date_of_birth=date(1990, 4, 1),
        national_id="ID00000001",
        service_number="NP-000001",
        unit=org_tree.siem_reap,
        rank=ranks["CPT"],
        position="Officer",
    )
    batch = run(officer, write_csv(tmp_path, [person_row(2)]))
    imported = Person.objects.get(employments__service_number="NP-000002")

    def records(person):
        employment = person.employments.get()
        event = employment.events.get()
        status = employment.status_changes.get()
        return {
            "person": {
                f: getattr(person, f)
                for f in ("family_name", "name_km", "sex", "date_of_birth", "search_text")
            },
            "employment": (
                employment.agency_id,
                employment.unit_id,
                employment.rank_id,
                employment.position,
                employment.start_date,
                employment.end_date,
            ),
            "event": (
                event.kind,
                event.effective_date,
                event.before,
                event.after,
                event.reference,
                event.recorded_by_id,
            ),
            "status": (
                status.status,
                status.effective_date,
                status.reason,
                status.reference,
                status.reinstatement,
                status.recorded_by_id,
            ),
            "stamped": bool(event.recorded_at and status.recorded_at and person.created_at),
        }

    mine, theirs = records(by_hand), records(imported)
    theirs["person"]["search_text"] = theirs["person"]["search_text"].replace("dara2", "dara1")
    assert mine == theirs
    assert imported.employments.get().events.get().import_batch == batch


def test_old_files_are_pruned_but_not_those_of_running_batches(officer, tmp_path):
    import os
    import time

    folder = imports.imports_dir()
    running = ImportBatch.objects.create(
        file_name="r.csv", created_by=officer, state=ImportBatch.State.RUNNING
    )
    done = running.pk + 1  # no such batch any more, or long finished
    old = [folder / f"{done}.csv", folder / f"{done}.errors.csv", folder / f"{running.pk}.csv"]
    for path in [*old, folder / "recent.csv"]:
        path.write_text("x")
    month_ago = time.time() - 31 * 24 * 60 * 60
    for path in old:
        os.utime(path, (month_ago, month_ago))
    assert imports.prune_files() == 2
    assert sorted(p.name for p in folder.iterdir()) == sorted([f"{running.pk}.csv", "recent.csv"])


def test_service_numbers_are_matched_within_the_agency(superuser, ranks, tmp_path):
    rows = [person_row(1), person_row(1, unit="GDP-HQ", rank="WARDEN", national_id="")]
    batch = run(superuser, write_csv(tmp_path, rows))
    assert batch.state == ImportBatch.State.DONE, list(imports.iter_errors(batch))
    assert batch.created == 2
    assert Employment.objects.filter(service_number="NP-000001").count() == 2


def test_khmer_in_nfd_is_stored_in_nfc_and_matches_on_the_next_import(officer, ranks, tmp_path):
    batch = run(officer, write_csv(tmp_path, [person_row(1, name_km=KM_NFD)], name="a.csv"))
    assert batch.state == ImportBatch.State.DONE
    person = Person.objects.get()
    assert person.name_km == KM_NFC
    assert unicodedata.is_normalized("NFC", person.name_km)
    assert employments_for(officer, q="តារា").count() == 1
    again = run(officer, write_csv(tmp_path, [person_row(1, name_km=KM_NFC)], name="b.csv"))
    assert (again.updated, again.unchanged) == (0, 1)


# --- dry run ----------------------------------------------------------------------------


def test_dry_run_counts_and_writes_nothing_but_the_batch(officer, ranks, tmp_path):
    run(officer, write_csv(tmp_path, [person_row(1), person_row(2)], name="a.csv"))
    state = (
        Person.objects.count(),
        Employment.objects.count(),
        EmploymentEvent.objects.count(),
        StatusChange.objects.count(),
        AuditEntry.objects.count(),
    )
    rows = [person_row(1), person_row(2, position="Chief"), person_row(3)]
    batch = run(officer, write_csv(tmp_path, rows, name="b.csv"), dry_run=True)
    assert batch.state == ImportBatch.State.DONE and batch.dry_run
    assert (batch.created, batch.updated, batch.unchanged) == (1, 1, 1)
    assert (
        Person.objects.count(),
        Employment.objects.count(),
        EmploymentEvent.objects.count(),
        StatusChange.objects.count(),
        AuditEntry.objects.count(),
    ) == state
    preview = imports.read_preview(batch)
    assert [e["service_number"] for e in preview["created"]] == ["NP-000003"]
    [updated] = preview["updated"]
    assert updated["row"] == 3
    assert updated["changes"] == [{"field": "position", "before": "Officer", "after": "Chief"}]


# --- validation: every rule -------------------------------------------------------------


def test_every_rule_is_checked_and_every_bad_row_is_reported(
    sr_officer, officer, ranks, tmp_path, org_tree
):
    # In the registry: someone in Phnom Penh (outside Siem Reap), someone in Siem Reap.
    run(
        officer,
        write_csv(
            tmp_path,
            [
                person_row(900, unit="NP-PP", national_id="PP-NID"),
                person_row(901, national_id="SR-NID"),
            ],
            name="registry.csv",
        ),
    )
    closed = org_tree.siem_reap_district
    closed.active = False
    closed.save()
    today = timezone.localdate()
    rows = [
        person_row(1),  # row 2: fine
        person_row(2, service_number=""),  # 3
        person_row(3, family_name="  "),  # 4
        person_row(4, given_name=""),  # 5
        person_row(5, unit=""),  # 6
        person_row(6, date_of_birth="1990.04.01"),  # 7
        person_row(7, date_of_birth="31/02/1990"),  # 8
        person_row(8, date_of_birth=(today + timedelta(days=1)).isoformat()),  # 9
        person_row(9, date_of_birth="1899-12-31"),  # 10
        person_row(10, unit="NP-XX"),  # 11: unknown unit
        person_row(11, unit="NP-PP"),  # 12: outside the jurisdiction
        person_row(12, rank="GENERAL"),  # 13: unknown rank
        person_row(13, rank="WARDEN"),  # 14: another agency's rank
        person_row(14, sex="X"),  # 15
        person_row(1, national_id="ID-OTHER"),  # 16: service number twice
        person_row(16, national_id="ID00000001"),  # 17: national ID twice
        person_row(17, national_id="SR-NID"),  # 18: national ID of someone else
        person_row(18, family_name="x" * 101),  # 19: too long
        person_row(19, position="Chief\x00"),  # 20: control character
        person_row(900, unit="NP-SR"),  # 21: service number of someone outside
        person_row(21, unit=closed.code),  # 22: closed unit
        person_row(901, national_id="PP-NID"),  # 23: would take someone else's national ID
        person_row(23, sex="f", national_id="ID-23"),  # 24: fine (lower case sex)
        person_row(24, service_number="S" * 31),  # 25: too long service number
    ]
    path = write_csv(tmp_path, rows, name="bad.csv")
    people_before = Person.objects.count()
    audit_before = AuditEntry.objects.count()
    batch = run(sr_officer, path)
    assert batch.state == ImportBatch.State.REJECTED
    expected = [
        (3, "service_number"),
        (4, "family_name"),
        (5, "given_name"),
        (6, "unit"),
        (7, "date_of_birth"),
        (8, "date_of_birth"),
        (9, "date_of_birth"),
        (10, "date_of_birth"),
        (11, "unit"),
        (12, "unit"),
        (13, "rank"),
        (14, "rank"),
        (15, "sex"),
        (16, "service_number"),
        (17, "national_id"),
        (18, "national_id"),
        (19, "family_name"),
        (20, "position"),
        (21, "service_number"),
        (22, "unit"),
        (23, "national_id"),
        (25, "service_number"),
    ]
    assert errors_of(batch) == expected
    assert batch.error_count == len(expected)
    assert batch.errors == list(imports.iter_errors(batch))
    assert "A value is required" in message_for(batch, 3, "service_number")
    assert "YYYY-MM-DD or DD/MM/YYYY" in message_for(batch, 7, "date_of_birth")
    assert "not a real date" in message_for(batch, 8, "date_of_birth")
    assert "in the future" in message_for(batch, 9, "date_of_birth")
    assert "before 1900" in message_for(batch, 10, "date_of_birth")
    assert "Unknown unit code NP-XX" in message_for(batch, 11, "unit")
    assert "outside your jurisdiction" in message_for(batch, 12, "unit")
    assert "GENERAL does not exist" in message_for(batch, 13, "rank")
    assert "M or F" in message_for(batch, 15, "sex")
    assert "first in row 2" in message_for(batch, 16, "service_number")
    assert "first in row 2" in message_for(batch, 17, "national_id")
    assert "registered to another person" in message_for(batch, 18, "national_id")
    assert "101 characters, at most 100" in message_for(batch, 19, "family_name")
    assert "outside your jurisdiction" in message_for(batch, 21, "service_number")
    assert "inactive" in message_for(batch, 22, "unit")
    assert "registered to another person" in message_for(batch, 23, "national_id")
    assert batch.message == "22 errors in 22 rows: nothing was imported."
    # Nothing written but the batch.
    assert Person.objects.count() == people_before
    assert AuditEntry.objects.count() == audit_before
    assert not Employment.objects.filter(import_batch=batch).exists()
    # The errors file holds them all, as row, column, message.
    with open(imports.errors_path(batch.pk), encoding="utf-8-sig") as fh:
        lines = list(csv.reader(fh))
    assert lines[0] == ["row", "column", "message"]
    assert [(int(r), c) for r, c, _m in lines[1:]] == expected


def test_a_change_is_not_dated_before_one_already_recorded(officer, ranks, tmp_path, org_tree):
    from probity.personnel.services import employment_change

    run(officer, write_csv(tmp_path, [person_row(1), person_row(2)], name="a.csv"))
    later = timezone.localdate() + timedelta(days=30)
    employment_change(
        actor=officer,
        employment=Employment.objects.get(service_number="NP-000001"),
        effective_date=later,
        position="Chief of post",
    )
    rows = [person_row(1, unit="NP-SR-01"), person_row(2, unit="NP-SR-01")]
    batch = run(officer, write_csv(tmp_path, rows, name="b.csv"))
    assert errors_of(batch) == [(2, "unit")]
    assert later.isoformat() in batch.errors[0]["message"]


def test_nobody_is_moved_into_a_closed_unit(officer, ranks, tmp_path, org_tree):
    run(officer, write_csv(tmp_path, [person_row(1)], name="a.csv"))
    org_tree.siem_reap_district.active = False
    org_tree.siem_reap_district.save()
    batch = run(officer, write_csv(tmp_path, [person_row(1, unit="NP-SR-01")], name="b.csv"))
    assert errors_of(batch) == [(2, "unit")]
    assert "moved into it" in batch.errors[0]["message"]


def test_a_siem_reap_officer_cannot_import_into_phnom_penh(sr_officer, ranks, tmp_path):
    batch = run(sr_officer, write_csv(tmp_path, [person_row(1, unit="NP-PP")]))
    assert batch.state == ImportBatch.State.REJECTED
    assert errors_of(batch) == [(2, "unit")]
    assert "Unit NP-PP is outside your jurisdiction." == message_for(batch, 2, "unit")
    assert not Person.objects.exists()


def test_a_user_without_the_permission_imports_nothing(cast, ranks, tmp_path):
    batch = run(cast.commander, write_csv(tmp_path, [person_row(1)]))
    assert batch.state == ImportBatch.State.REJECTED
    assert "outside your jurisdiction" in message_for(batch, 2, "unit")


def test_value_in_an_unnamed_column_and_empty_files(officer, ranks, tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(
        "service_number,family_name,given_name,unit,\nNP-1,Sok,Dara,NP-SR,oops\n", encoding="utf-8"
    )
    batch = run(officer, path)
    assert errors_of(batch) == [(2, "E")]

    path.write_text("service_number,family_name,given_name,unit\n", encoding="utf-8")
    batch = run(officer, path)
    assert batch.state == ImportBatch.State.REJECTED
    assert "no people" in batch.errors[0]["message"]

    path.write_text("", encoding="utf-8")
    batch = run(officer, path)
    assert batch.state == ImportBatch.State.REJECTED
    assert errors_of(batch) == [(1, "")]


def test_bytes_that_are_not_utf8_are_reported_at_their_row(officer, ranks, tmp_path):
    path = write_csv(tmp_path, [person_row(1), person_row(2)])
    path.write_bytes(path.read_bytes() + "NP-3,Sok,D\u00e9,NP-SR\r\n".encode("latin-1"))
    batch = run(officer, path)
    assert batch.state == ImportBatch.State.REJECTED
    assert errors_of(batch) == [(4, "")]
    assert "UTF-8" in batch.errors[0]["message"]


def test_a_damaged_workbook_is_rejected(officer, tmp_path):
    path = tmp_path / "r.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    batch = run(officer, path)
    assert batch.state == ImportBatch.State.REJECTED
    assert "cannot be read" in batch.errors[0]["message"]


def test_xlsx_import_with_excel_dates_and_text_dates(officer, ranks, tmp_path):
    rows = [
        person_row(1, date_of_birth=excel_date(1985, 3, 9)),
        person_row(2, date_of_birth="09/03/1985"),
        person_row(3, date_of_birth="1985-03-09"),
    ]
    batch = run(officer, write_xlsx(tmp_path, rows))
    assert batch.state == ImportBatch.State.DONE, list(imports.iter_errors(batch))
    assert batch.created == 3
    assert set(Person.objects.values_list("date_of_birth", flat=True)) == {date(1985, 3, 9)}


def test_every_bad_row_is_reported_across_chunks(officer, ranks, tmp_path, monkeypatch):
    monkeypatch.setattr(imports, "CHUNK_ROWS", 7)
    monkeypatch.setattr(imports, "ERRORS_KEPT", 5)
    rows = [person_row(n, sex="?" if n % 3 == 0 else "M") for n in range(1, 41)]
    rows.append(person_row(2))  # a duplicate of a row several chunks back
    batch = run(officer, write_csv(tmp_path, rows))
    assert batch.state == ImportBatch.State.REJECTED
    bad = [(n + 1, "sex") for n in range(3, 41, 3)]
    assert errors_of(batch) == [*bad, (42, "service_number"), (42, "national_id")]
    assert batch.error_count == len(bad) + 2
    assert len(batch.errors) == 5  # the first ones on the batch; all of them in the file
    assert "first in row 3" in message_for(batch, 42, "service_number")


# --- all or nothing ---------------------------------------------------------------------


def test_a_failure_halfway_through_writing_leaves_nothing(officer, ranks, tmp_path, monkeypatch):
    monkeypatch.setattr(imports, "CHUNK_ROWS", 10)
    real = imports._write_chunk
    calls = []

    def failing(ctx, batch, plan):
        calls.append(len(plan.creates))
        if len(calls) == 2:
            raise RuntimeError("disk on fire")
        real(ctx, batch, plan)

    monkeypatch.setattr(imports, "_write_chunk", failing)
    audit_before = AuditEntry.objects.count()
    batch = run(officer, write_csv(tmp_path, [person_row(n) for n in range(1, 26)]))
    assert calls == [10, 10]  # the first chunk was written before the failure
    assert batch.state == ImportBatch.State.FAILED
    assert "RuntimeError" in batch.message and "Nothing was written" in batch.message
    assert (batch.created, batch.updated, batch.unchanged) == (0, 0, 0)
    assert not Person.objects.exists()
    assert not Employment.objects.exists()
    assert not EmploymentEvent.objects.exists()
    assert not StatusChange.objects.exists()
    assert AuditEntry.objects.count() == audit_before
    batch.refresh_from_db()
    assert batch.state == ImportBatch.State.FAILED
    assert not imports.progress_path(batch.pk).exists()
    assert verify_chain().ok


def test_a_registry_change_between_the_passes_fails_cleanly(
    officer, ranks, tmp_path, monkeypatch, org_tree
):
    real = imports._write

    def sneaky(ctx, batch, path, file_name, progress, total):
        # Someone registers the same national ID while the file is being imported.
        person_create(
            actor=officer,
            family_name="Other",
            given_name="Person",
            national_id="ID00000002",
            service_number="NP-999999",
            unit=org_tree.siem_reap,
        )
        return real(ctx, batch, path, file_name, progress, total)

    monkeypatch.setattr(imports, "_write", sneaky)
    batch = run(officer, write_csv(tmp_path, [person_row(1), person_row(2)]))
    assert batch.state == ImportBatch.State.FAILED
    assert "registry changed" in batch.message and "row 3" in batch.message
    assert not Person.objects.exists()


# --- progress and memory ----------------------------------------------------------------


def test_progress_is_reported_in_both_passes_and_cleared(officer, ranks, tmp_path, monkeypatch):
    monkeypatch.setattr(imports, "CHUNK_ROWS", 4)
    seen = []
    files = []

    def progress(processed, total):
        seen.append((processed, total))
        path = imports.progress_path(batch.pk)
        files.append(json.loads(path.read_text()))

    batch = ImportBatch(file_name="r.csv", created_by=officer)
    path = write_csv(tmp_path, [person_row(n) for n in range(1, 11)], name="r.csv")
    imports.run_import(actor=officer, batch=batch, path=path, dry_run=False, progress=progress)
    assert batch.state == ImportBatch.State.DONE
    validating = [f for f in files if f["phase"] == "validating"]
    writing = [f for f in files if f["phase"] == "writing"]
    assert [f["processed"] for f in validating] == [0, 4, 8, 10]
    assert [f["processed"] for f in writing] == [0, 4, 8, 10]
    assert all(f["total"] == 10 for f in writing)
    assert seen[-1] == (10, 10)
    assert not imports.progress_path(batch.pk).exists()
    info = imports.progress_info(batch)
    assert info["percent"] == 100 and info["phase"] == "done"


def test_progress_info_while_running(officer, tmp_path):
    batch = ImportBatch.objects.create(
        file_name="r.csv", created_by=officer, state=ImportBatch.State.RUNNING
    )
    imports.progress_path(batch.pk).write_text(
        json.dumps({"phase": "writing", "processed": 50, "total": 100})
    )
    assert imports.progress_info(batch) == {
        "phase": "writing",
        "processed": 50,
        "total": 100,
        "percent": 66,
    }
    batch.state = ImportBatch.State.QUEUED
    assert imports.progress_info(batch)["phase"] == "queued"


def test_validation_memory_does_not_grow_with_the_file(officer, ranks, tmp_path):
    import tracemalloc

    def peak_for(n):
        path = write_csv(tmp_path, [person_row(i) for i in range(1, n + 1)], name=f"{n}.csv")
        tracemalloc.start()
        try:
            run(officer, path, dry_run=True)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = peak_for(4_000), peak_for(20_000)
    assert large < small * 1.25, (small, large)


# --- uploads and the template -----------------------------------------------------------


def upload(name, content: bytes):
    return SimpleUploadedFile(name, content)


def test_store_upload_keeps_the_file_under_var_imports(officer, settings):
    batch = imports.store_upload(
        upload("Roster.CSV", b"service_number\n1\n"), actor=officer, dry_run=True
    )
    assert batch.state == ImportBatch.State.QUEUED and batch.dry_run
    assert batch.stored_file == f"{batch.pk}.csv"
    path = imports.stored_path(batch)
    assert path.parent == settings.VAR_DIR / "imports"
    assert path.read_bytes() == b"service_number\n1\n"
    assert batch.sha256 == imports.file_digest(path)[0] and batch.size == 17


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("roster.txt", b"a,b", "must end in .csv or .xlsx"),
        ("roster.csv", b"", "empty"),
        ("roster.csv", "Dé,x\n".encode("latin-1"), "not a UTF-8 CSV"),
        ("roster.csv", b"PK\x03\x04\x00\x00binary", "not a UTF-8 CSV"),
        ("roster.xlsx", b"service_number,unit\n", "not an Excel workbook"),
        ("roster.xlsx", b"PK\x03\x04 truncated", "not an Excel workbook"),
    ],
)
def test_store_upload_checks_type_by_name_and_content(officer, name, content, problem):
    with pytest.raises(imports.UploadRefused) as caught:
        imports.store_upload(upload(name, content), actor=officer, dry_run=False)
    assert problem in caught.value.message
    assert not ImportBatch.objects.exists()
    assert not [p for p in imports.imports_dir().iterdir()]


def test_store_upload_refuses_files_over_the_limit(officer, monkeypatch):
    monkeypatch.setattr(imports, "MAX_UPLOAD_BYTES", 10)
    with pytest.raises(imports.UploadRefused) as caught:
        imports.store_upload(upload("r.csv", b"x" * 11), actor=officer, dry_run=False)
    assert caught.value.status == 413
    assert "larger than" in caught.value.message


def test_template_has_the_header_and_bilingual_instructions(officer, ranks, tmp_path):
    wb = openpyxl.load_workbook(io.BytesIO(imports.template_workbook()))
    assert wb.sheetnames == ["People", "Instructions"]
    assert [c.value for c in wb["People"][1]] == list(imports.COLUMNS)
    text = "\n".join(
        str(cell.value) for row in wb["Instructions"].iter_rows() for cell in row if cell.value
    )
    for column in imports.COLUMNS:
        assert column in text
    assert "Required" in text and "ចាំបាច់" in text  # English and Khmer
    assert "DD/MM/YYYY" in text
    # Filled in, the template imports as it is.
    wb["People"].append([person_row(1)[c] for c in imports.COLUMNS])
    path = tmp_path / "filled.xlsx"
    wb.save(path)
    batch = run(officer, path)
    assert batch.state == ImportBatch.State.DONE, list(imports.iter_errors(batch))
    assert batch.created == 1
