"""Roster import: Probity's ``run_import`` against the floor and against django-import-export.

Run through ``make bench`` (scripts/bench.sh), which points ``DATABASE_URL`` at a throwaway
SQLite file (or, with ``--postgres``, a database of a throwaway PostgreSQL cluster). Steps:

1. *prepare* — a fresh database (``migrate``, then ``seed_demo --people 0``: four agencies,
   52 units over every province, their ranks, a personnel officer over all of them) and a
   generated roster of N rows with the ``POST /api/v1/people`` header names of API.md
   (100,000 rows; 1,000,000 with ``--full``; ``BENCH_IMPORT_ROWS`` or ``--rows`` to choose).
   That database is the template every measure starts from.
2. On a copy of the template each, in a fresh Python process each (so that each peak
   memory figure, ``ru_maxrss``, is its own), on the same rows:

   - **floor**: a plain bulk insert of the same rows into the same four tables (Person,
     Employment, EmploymentEvent STARTED, StatusChange ACTIVE): ``bulk_create`` in batches
     of 2,000 in one transaction, no validation;
   - **raw driver inserts**: the same rows below the ORM (``executemany`` on SQLite, ``COPY``
     on PostgreSQL, ids given by the benchmark) — the bare cost of the database, for scale;
   - **django-import-export**: ``bench/roster_resources.py`` importing the file (on the first
     ``BENCH_IMPORT_IE_ROWS`` rows, 10,000 by default: it is too slow for the whole file;
     its rows per second are compared as they are);
   - **Probity**: ``personnel.imports.run_import`` (read, validate every row, write), then the
     same file again on the result (nothing changes: the idempotent pass), and a dry run;
     also on the import-export subset, for a like-for-like comparison.

   After each measure the database is checked: N people, N employments, N STARTED events
   and N ACTIVE statuses, and a digest of every written row equal to the digest of the file
   (so they all write the same data).

Prints rows of the benchmark table (``| benchmark | n | time (s) | per item | rate (/s) |
peak memory |``) and, as lines starting with ``>``, the ratios against the targets: Probity
at least half the (``bulk_create``) floor's speed and ten times django-import-export's, and
under 300 MB peak at 1,000,000 rows. Peak memory is the whole process's maximum resident
set (Python, Django and the database driver included; the idle figure is printed too).
"""

import argparse
import csv
import hashlib
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import date
from itertools import islice
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import Databases, RegistryWriter, peak_kib, run_child, table_row  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "probity.settings")

DEFAULT_ROWS = 100_000
FULL_ROWS = 1_000_000
DEFAULT_IE_ROWS = 10_000
BATCH = 2_000
IMPORTER = "demo-personnel"
FIELD_SEP = "\x1f"


# --- helpers shared by the parent and the children -------------------------------------------


def row_digest(values) -> int:
    """An order-independent digest of rows: the sum of their hashes, modulo 2**64."""
    text = FIELD_SEP.join("" if v is None else str(v) for v in values)
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def sha256_of(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


# --- child: prepare the template database and the roster -------------------------------------


def prepare(csv_path: Path, ie_path: Path, rows: int, ie_rows: int) -> dict:
    import random

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from probity.demo import people
    from probity.demo.management.commands.seed_demo import people_units
    from probity.org.models import Unit
    from probity.personnel.services import search_text

    call_command("migrate", verbosity=0, interactive=False)
    call_command("seed_demo", "--people", "0", stdout=open(os.devnull, "w"))  # noqa: SIM115
    units = {u.code: u for u in Unit.objects.all()}
    agency_of = {code: code.split("-", 1)[0] for code in units}
    officers = people.iter_officers(rows, people_units(units), rng=random.Random(2024))
    whole = subset = 0  # the digests of the file and of its first ie_rows rows
    with (
        open(csv_path, "w", encoding="utf-8", newline="") as fh,
        open(ie_path, "w", encoding="utf-8", newline="") as ie_fh,
    ):
        writer = csv.DictWriter(fh, fieldnames=people.CSV_COLUMNS)
        ie_writer = csv.DictWriter(ie_fh, fieldnames=people.CSV_COLUMNS)
        writer.writeheader()
        ie_writer.writeheader()
        for i, officer in enumerate(officers):
            row = officer.csv_row()
            writer.writerow(row)
            h = expected_digest(row, agency_of, search_text)
            whole = (whole + h) % 2**64
            if i < ie_rows:
                ie_writer.writerow(row)
                subset = (subset + h) % 2**64
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    # One entry per size: when the subset is the whole file both are the same digest (a dict
    # keyed by size once summed each row twice there).
    return {"units": len(units), "digests": {str(ie_rows): subset, str(rows): whole}}


def expected_digest(row: dict, agency_of: dict, search_text) -> int:
    return row_digest(
        [
            agency_of[row["unit"]],
            row["service_number"],
            row["family_name"],
            row["given_name"],
            row["name_km"],
            row["sex"],
            row["date_of_birth"],
            row["national_id"],
            search_text(
                family_name=row["family_name"], given_name=row["given_name"], name_km=row["name_km"]
            ),
            row["unit"],
            row["rank"],
            row["position"],
        ]
    )


# --- child: one measure -------------------------------------------------------------------------


def floor(path: Path, actor) -> int:
    """The same rows into the same tables with nothing but ``bulk_create``."""
    from django.db import transaction
    from django.utils import timezone

    from probity.org.models import Rank, Unit
    from probity.personnel import rules
    from probity.personnel.models import Employment, EmploymentEvent, Person, StatusChange
    from probity.personnel.services import search_text

    units = {
        code: (pk, agency)
        for code, pk, agency in Unit.objects.values_list("code", "pk", "agency_id")
    }
    ranks = {
        (agency, code): pk
        for agency, code, pk in Rank.objects.values_list("agency_id", "code", "pk")
    }
    today = timezone.localdate()
    n = 0
    with transaction.atomic(), open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        while batch := list(islice(reader, BATCH)):
            persons = [
                Person(
                    family_name=r["family_name"],
                    given_name=r["given_name"],
                    name_km=r["name_km"],
                    sex=r["sex"],
                    date_of_birth=date.fromisoformat(r["date_of_birth"])
                    if r["date_of_birth"]
                    else None,
                    national_id=r["national_id"],
                    search_text=search_text(
                        family_name=r["family_name"],
                        given_name=r["given_name"],
                        name_km=r["name_km"],
                    ),
                )
                for r in batch
            ]
            Person.objects.bulk_create(persons)
            employments = []
            for r, person in zip(batch, persons, strict=True):
                unit_id, agency_id = units[r["unit"]]
                employments.append(
                    Employment(
                        person=person,
                        agency_id=agency_id,
                        service_number=r["service_number"],
                        unit_id=unit_id,
                        rank_id=ranks[(agency_id, r["rank"])] if r["rank"] else None,
                        position=r["position"],
                    )
                )
            Employment.objects.bulk_create(employments)
            EmploymentEvent.objects.bulk_create(
                EmploymentEvent(
                    employment=e,
                    kind=EmploymentEvent.Kind.STARTED,
                    effective_date=today,
                    after={"unit": r["unit"], "rank": r["rank"], "position": r["position"]},
                    recorded_by=actor,
                )
                for r, e in zip(batch, employments, strict=True)
            )
            StatusChange.objects.bulk_create(
                StatusChange(
                    employment=e,
                    status=rules.ACTIVE,
                    effective_date=today,
                    reason="Registered",
                    recorded_by=actor,
                )
                for e in employments
            )
            n += len(batch)
    return n


def floor_raw(path: Path, actor) -> int:
    """The same rows again, below the ORM: the database driver alone (``executemany`` on
    SQLite, ``COPY`` on PostgreSQL), ids given by the benchmark, values prepared once per
    column kind. Nothing Django does per row is left: the bare cost of the database."""
    from django.db import connection, transaction
    from django.utils import timezone

    from probity.org.models import Rank, Unit
    from probity.personnel import rules
    from probity.personnel.models import Employment, EmploymentEvent, Person, StatusChange
    from probity.personnel.services import search_text

    units = {
        code: (pk, agency)
        for code, pk, agency in Unit.objects.values_list("code", "pk", "agency_id")
    }
    ranks = {
        (agency, code): pk
        for agency, code, pk in Rank.objects.values_list("agency_id", "code", "pk")
    }
    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    today = ops.adapt_datefield_value(timezone.localdate())
    writer = RegistryWriter(connection)

    person_id = (Person.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    employment_id = (
        Employment.objects.order_by("-id").values_list("id", flat=True).first() or 0
    ) + 1
    n = 0
    with (
        transaction.atomic(),
        connection.cursor() as cursor,
        open(path, encoding="utf-8-sig", newline="") as fh,
    ):
        reader = csv.DictReader(fh)
        while batch := list(islice(reader, BATCH)):
            persons, employments, events, statuses = [], [], [], []
            for r in batch:
                unit_id, agency_id = units[r["unit"]]
                persons.append(
                    (
                        person_id,
                        r["family_name"],
                        r["given_name"],
                        r["name_km"],
                        r["sex"],
                        r["date_of_birth"] or None,
                        r["national_id"],
                        search_text(
                            family_name=r["family_name"],
                            given_name=r["given_name"],
                            name_km=r["name_km"],
                        ),
                        now,
                        now,
                    )
                )
                rank_id = ranks[(agency_id, r["rank"])] if r["rank"] else None
                employments.append(
                    (employment_id, person_id, agency_id, r["service_number"], unit_id,
                     rank_id, r["position"], None, None, None)
                )  # fmt: skip
                after = json.dumps(
                    {"unit": r["unit"], "rank": r["rank"], "position": r["position"]},
                    ensure_ascii=False,
                )
                events.append(
                    (employment_id, EmploymentEvent.Kind.STARTED.value, today, "{}", after, "",
                     actor.pk, now, None)
                )  # fmt: skip
                statuses.append(
                    (employment_id, rules.ACTIVE, today, "Registered", "", False, actor.pk,
                     now, None)
                )  # fmt: skip
                person_id += 1
                employment_id += 1
            writer.write(cursor, Person, persons)
            writer.write(cursor, Employment, employments)
            writer.write(cursor, EmploymentEvent, events)
            writer.write(cursor, StatusChange, statuses)
            n += len(batch)
        writer.finish(cursor)
    return n


def import_export(path: Path, actor) -> int:
    import tablib

    from bench.roster_resources import RosterResource

    with open(path, encoding="utf-8-sig") as fh:
        dataset = tablib.Dataset().load(fh.read(), format="csv")
    result = RosterResource(actor=actor).import_data(
        dataset, dry_run=False, raise_errors=True, use_transactions=True
    )
    if result.has_errors() or result.has_validation_errors():
        raise SystemExit(f"django-import-export reported errors: {result.totals}")
    return len(dataset)


def probity(path: Path, actor, *, dry_run: bool = False, again: bool = False) -> int:
    from probity.personnel.imports import run_import
    from probity.personnel.models import ImportBatch

    sha256, size = sha256_of(path)
    batch = ImportBatch.objects.create(
        file_name=path.name, sha256=sha256, size=size, created_by=actor, dry_run=dry_run
    )
    batch = run_import(actor=actor, batch=batch, path=path, dry_run=dry_run)
    if batch.state != ImportBatch.State.DONE:
        raise SystemExit(
            f"run_import ended {batch.state}: {batch.message} {batch.errors[:5]}".strip()
        )
    expected = batch.unchanged if again else batch.created
    if expected != batch.total_rows or batch.total_rows == 0:
        raise SystemExit(
            f"run_import: {batch.total_rows} rows, {batch.created} created, "
            f"{batch.updated} updated, {batch.unchanged} unchanged"
        )
    return batch.total_rows


def check(rows: int, written: bool) -> int:
    """What the database holds after a measure: counts, and the digest of every row."""
    from django.db.models import Count

    from probity.personnel import rules
    from probity.personnel.models import Employment, EmploymentEvent, Person, StatusChange

    if not written:
        assert Person.objects.count() == 0 and Employment.objects.count() == 0
        return 0
    assert Person.objects.count() == rows, Person.objects.count()
    assert Employment.objects.count() == rows
    events = EmploymentEvent.objects.aggregate(
        n=Count("id"), employments=Count("employment", distinct=True)
    )
    assert events == {"n": rows, "employments": rows}, events
    assert not EmploymentEvent.objects.exclude(kind=EmploymentEvent.Kind.STARTED).exists()
    statuses = StatusChange.objects.aggregate(
        n=Count("id"), employments=Count("employment", distinct=True)
    )
    assert statuses == {"n": rows, "employments": rows}, statuses
    assert not StatusChange.objects.exclude(status=rules.ACTIVE).exists()
    total = 0
    columns = [
        "agency__code",
        "service_number",
        "person__family_name",
        "person__given_name",
        "person__name_km",
        "person__sex",
        "person__date_of_birth",
        "person__national_id",
        "person__search_text",
        "unit__code",
        "rank__code",
        "position",
    ]
    for values in Employment.objects.values_list(*columns).iterator(chunk_size=5000):
        values = list(values)
        values[6] = values[6].isoformat() if values[6] else ""
        values[10] = values[10] or ""
        total = (total + row_digest(values)) % 2**64
    return total


def measure(what: str, path: Path, rows: int) -> dict:
    import django

    django.setup()
    from django.db import connection

    from probity.accounts.models import User

    actor = User.objects.get(username=IMPORTER)
    connection.ensure_connection()
    idle = peak_kib()
    started = time.perf_counter()
    if what == "floor":
        n = floor(path, actor)
    elif what == "floor_raw":
        n = floor_raw(path, actor)
    elif what == "import_export":
        n = import_export(path, actor)
    elif what == "probity":
        n = probity(path, actor)
    elif what == "probity_again":
        n = probity(path, actor, again=True)
    elif what == "probity_dry_run":
        n = probity(path, actor, dry_run=True)
    else:
        raise SystemExit(f"unknown measure {what}")
    seconds = time.perf_counter() - started
    peak = peak_kib()
    digest = check(rows, written=what != "probity_dry_run")
    return {
        "what": what,
        "rows": n,
        "seconds": seconds,
        "peak_kib": peak,
        "idle_kib": idle,
        "digest": digest,
        "vendor": connection.vendor,
    }


# --- the parent: databases, children, the table -------------------------------------------------


def child(args: list[str], *, db_url: str, var_dir: Path, settings: str | None = None) -> dict:
    env = {
        "DATABASE_URL": db_url,
        "PROBITY_VAR_DIR": str(var_dir),
        "DJANGO_SETTINGS_MODULE": settings or "probity.settings",
    }
    return run_child(__file__, args, env=env)


def orchestrate(rows: int, ie_rows: int, keep: bool) -> None:
    ie_rows = min(ie_rows, rows)
    engine = importlib.util.find_spec("probity.personnel.imports") is not None
    engine_file = ROOT / "probity" / "personnel" / "imports.py"
    engine_sha = sha256_of(engine_file)[0] if engine else ""
    if not engine:
        log("probity/personnel/imports.py is missing: Probity's import is not measured")
    url = os.environ.get("DATABASE_URL", "")
    work = Path(tempfile.mkdtemp(prefix="probity-bench-import-"))
    if not url:
        url = f"sqlite:///{work / 'bench.sqlite3'}"
    dbs = Databases(url, work)
    var_dir = work / "var"
    vendor = dbs.vendor
    csv_path, ie_path = work / "roster.csv", work / "roster-subset.csv"
    try:
        log(f"preparing a fresh {vendor} database and a roster of {rows:,} rows")
        dbs.create_empty(dbs.template)
        started = time.perf_counter()
        prepared = child(
            [
                "--phase",
                "prepare",
                "--rows",
                str(rows),
                "--ie-rows",
                str(ie_rows),
                "--csv",
                str(csv_path),
                "--ie-csv",
                str(ie_path),
            ],
            db_url=dbs.url_of(dbs.template),
            var_dir=var_dir,
        )
        log(
            f"  {prepared['units']} units, {csv_path.stat().st_size / 2**20:.1f} MiB of CSV "
            f"in {time.perf_counter() - started:.0f} s"
        )
        results = {}
        loads = [os.getloadavg()[0]]

        def run(key, what, path, n, *, settings=None, db=None):
            log(f"measuring {key} on {n:,} rows ...")
            name = db or dbs.clone(key)
            result = child(
                ["--phase", "measure", "--what", what, "--csv", str(path), "--rows", str(n)],
                db_url=dbs.url_of(name),
                var_dir=var_dir,
                settings=settings,
            )
            if what != "probity_dry_run" and result["digest"] != prepared["digests"][str(n)]:
                raise SystemExit(f"bench_import: {key} did not write the rows of the file")
            log(
                f"  {result['rows'] / result['seconds']:,.0f} rows/s, "
                f"peak {result['peak_kib'] / 1024:.0f} MiB"
            )
            results[key] = result
            loads.append(os.getloadavg()[0])
            return name

        idle = child(["--phase", "idle"], db_url=dbs.url_of(dbs.template), var_dir=var_dir)
        dbs.drop(run("floor", "floor", csv_path, rows))
        dbs.drop(run("floor_raw", "floor_raw", csv_path, rows))
        if engine:
            probity_db = run("probity", "probity", csv_path, rows)
            run("probity_again", "probity_again", csv_path, rows, db=probity_db)
            dbs.drop(probity_db)
            dbs.drop(run("probity_dry_run", "probity_dry_run", csv_path, rows))
            dbs.drop(run("probity_subset", "probity", ie_path, ie_rows))
        dbs.drop(run("import_export", "import_export", ie_path, ie_rows, settings="bench.settings"))
    finally:
        if keep:
            log(f"kept {work}")
        else:
            if vendor == "postgresql":
                for suffix in (
                    "tpl",
                    "floor",
                    "floor_raw",
                    "probity",
                    "probity_dry_run",
                    "probity_subset",
                    "import_export",
                ):
                    try:
                        dbs.drop(dbs.name(suffix))
                    except Exception as exc:  # noqa: BLE001 - cleaning up, say and go on
                        log(f"could not drop {dbs.name(suffix)}: {exc}")
            shutil.rmtree(work, ignore_errors=True)

    def rate(key):
        return results[key]["rows"] / results[key]["seconds"]

    def peak(key):
        return results[key]["peak_kib"]

    labels = {
        "floor": "plain bulk_create — the floor",
        "floor_raw": "raw driver inserts (executemany / COPY), no ORM",
        "probity": "Probity run_import",
        "probity_again": "Probity run_import, same file again (nothing changes)",
        "probity_dry_run": "Probity run_import, dry run",
        "probity_subset": "Probity run_import (import-export subset)",
        "import_export": "django-import-export",
    }
    for key, label in labels.items():
        if key not in results:
            continue
        r = results[key]
        print(
            table_row(f"roster import: {label} ({vendor})", r["rows"], r["seconds"], r["peak_kib"])
        )
    print(
        f"> roster import ({vendor}): 1-minute load average {min(loads):.1f}–{max(loads):.1f} "
        f"over the measures, on {os.cpu_count()} CPUs (the benchmark itself keeps one busy)."
    )
    if not engine:
        print(f"> roster import ({vendor}): Probity's import engine is missing, not measured.")
        return
    changed = sha256_of(engine_file)[0] != engine_sha
    print(
        f"> roster import ({vendor}): the import engine measured is probity/personnel/imports.py "
        f"with SHA-256 {engine_sha[:12]}…"
        + (" — WARNING: the file changed during the run, measure again." if changed else ".")
    )
    floor_ratio = rate("probity") / rate("floor")
    raw_ratio = rate("probity") / rate("floor_raw")
    ie_ratio = rate("probity") / rate("import_export")
    ie_subset_ratio = rate("probity_subset") / rate("import_export")
    mem_target = rows >= FULL_ROWS
    print(
        f"> roster import ({vendor}, {rows:,} rows): Probity / floor = {floor_ratio:.2f} "
        f"(target ≥ 0.5: {'met' if floor_ratio >= 0.5 else 'NOT met'}; against the raw "
        f"driver inserts {raw_ratio:.2f}); "
        f"Probity / django-import-export = {ie_ratio:.1f} "
        f"({ie_subset_ratio:.1f} on the same {ie_rows:,} rows; target ≥ 10: "
        f"{'met' if min(ie_ratio, ie_subset_ratio) >= 10 else 'NOT met'}; import-export ran on "
        f"the first {ie_rows:,} rows only, its rate is compared as measured)."
    )
    print(
        f"> roster import ({vendor}, {rows:,} rows): peak memory of the Probity import "
        f"{peak('probity') / 1024:.0f} MiB, of the floor {peak('floor') / 1024:.0f} MiB, "
        f"of an idle process (Python, Django, a connection) {idle['peak_kib'] / 1024:.0f} MiB"
        + (
            f"; target < 300 MB at 1,000,000 rows: "
            f"{'met' if peak('probity') * 1024 < 300e6 else 'NOT met'}."
            if mem_target
            else "; the 300 MB target is for 1,000,000 rows (--full)."
        )
    )


def log(message: str) -> None:
    print(f"bench_import: {message}", file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help=f"{FULL_ROWS:,} rows")
    parser.add_argument("--rows", type=int, help=f"rows in the roster (default {DEFAULT_ROWS:,})")
    parser.add_argument("--ie-rows", type=int, help="rows for django-import-export")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--phase", choices=["prepare", "measure", "idle"], help=argparse.SUPPRESS)
    parser.add_argument("--what", help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--ie-csv", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase == "prepare":
        result = prepare(args.csv, args.ie_csv, args.rows, args.ie_rows)
    elif args.phase == "measure":
        result = measure(args.what, args.csv, args.rows)
    elif args.phase == "idle":
        import django

        django.setup()
        from django.db import connection

        connection.ensure_connection()
        from probity.personnel.models import Person

        Person.objects.exists()
        result = {"peak_kib": peak_kib()}
    else:
        rows = args.rows or (
            FULL_ROWS if args.full else int(os.environ.get("BENCH_IMPORT_ROWS", DEFAULT_ROWS))
        )
        ie_rows = args.ie_rows or int(os.environ.get("BENCH_IMPORT_IE_ROWS", DEFAULT_IE_ROWS))
        orchestrate(rows, ie_rows, args.keep)
        return
    print(json.dumps(result))


if __name__ == "__main__":
    main()
