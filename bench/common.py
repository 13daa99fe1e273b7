"""What the benchmarks share: peak memory, the table row, the registry's raw bulk writer,
throwaway databases and the child processes each measure runs in."""

import json
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path


def peak_kib() -> int:
    """This process's maximum resident set so far, in KiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def table_row(name: str, n: int, seconds: float, peak: int | None) -> str:
    per_item = seconds / n
    per = f"{per_item * 1e3:.3f} ms" if per_item >= 1e-3 else f"{per_item * 1e6:.2f} µs"
    mem = f"{peak / 1024:.0f} MiB" if peak is not None else "–"
    return f"| {name} | {n:,} | {seconds:.2f} | {per} | {n / seconds:,.0f} | {mem} |"


class RegistryWriter:
    """Rows straight into the personnel registry's four tables by the driver's fastest path
    (``COPY`` on PostgreSQL, ``executemany`` on SQLite): ``write(cursor, model, rows)`` with
    tuples in the column order below, then ``finish(cursor)``. A model whose columns changed
    fails loudly here."""

    LAYOUTS = {
        "Person": ["id", "family_name", "given_name", "name_km", "sex", "date_of_birth",
                   "national_id", "search_text", "created_at", "updated_at"],
        "Employment": ["id", "person_id", "agency_id", "service_number", "unit_id", "rank_id",
                       "position", "start_date", "end_date", "import_batch_id"],
        "EmploymentEvent": ["employment_id", "kind", "effective_date", "before", "after",
                            "reference", "recorded_by_id", "recorded_at", "import_batch_id"],
        "StatusChange": ["employment_id", "status", "effective_date", "reason", "reference",
                         "reinstatement", "recorded_by_id", "recorded_at", "import_batch_id"],
    }  # fmt: skip

    def __init__(self, connection):
        from django.apps import apps

        self.quote = connection.ops.quote_name
        self.postgres = connection.vendor == "postgresql"
        self.statements = {}
        for name, columns in self.LAYOUTS.items():
            model = apps.get_model("personnel", name)
            every = {f.column for f in model._meta.concrete_fields} - {"id"}
            assert every == set(columns) - {"id"}, (model, every ^ set(columns))
            table = self.quote(model._meta.db_table)
            names = ", ".join(self.quote(c) for c in columns)
            if self.postgres:
                self.statements[model] = f"COPY {table} ({names}) FROM STDIN"
            else:
                marks = ", ".join(["%s"] * len(columns))
                self.statements[model] = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608

    def write(self, cursor, model, rows) -> None:
        if self.postgres:
            with cursor.cursor.copy(self.statements[model]) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(self.statements[model], rows)

    def finish(self, cursor) -> None:
        """Move PostgreSQL's id sequences past the ids written by hand (SQLite needs none)."""
        if not self.postgres:
            return
        for model in self.statements:
            if "id" not in self.LAYOUTS[model.__name__]:
                continue
            table = model._meta.db_table
            latest = f"SELECT MAX(id) FROM {self.quote(table)}"  # noqa: S608 - a model's table
            cursor.execute(f"SELECT setval(pg_get_serial_sequence(%s, 'id'), ({latest}))", [table])


def run_child(script: str, args: list[str], *, env: dict[str, str]) -> dict:
    """Run ``script`` with ``args`` in a fresh process (its own peak memory) and return the
    JSON object it prints last."""
    out = subprocess.run(  # noqa: S603 - our own script, with our own arguments
        [sys.executable, script, *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        sys.stderr.write(out.stdout + out.stderr)
        raise SystemExit(f"{Path(script).stem}: the child {' '.join(args)} failed")
    return json.loads(out.stdout.strip().splitlines()[-1])


class Databases:
    """A template database and throwaway copies of it, on SQLite or PostgreSQL."""

    def __init__(self, url: str, work: Path):
        import dj_database_url

        self.url = url
        self.config = dj_database_url.parse(url)
        self.vendor = "sqlite" if "sqlite" in self.config["ENGINE"] else "postgresql"
        self.work = work
        self.template = self.name("tpl")

    def name(self, suffix: str) -> str:
        if self.vendor == "sqlite":
            return str(self.work / f"{suffix}.sqlite3")
        return f"{self.config['NAME']}_{suffix}"

    def url_of(self, name: str) -> str:
        if self.vendor == "sqlite":
            return f"sqlite:///{name}"
        base, _, _ = self.url.rpartition("/")
        return f"{base}/{name}"

    def _admin(self, sql: str) -> None:
        import psycopg

        c = self.config
        with psycopg.connect(
            host=c["HOST"] or None,
            port=c["PORT"] or None,
            user=c["USER"] or None,
            password=c["PASSWORD"] or None,
            dbname="postgres",
            autocommit=True,
        ) as conn:
            conn.execute(sql)

    def create_empty(self, name: str) -> None:
        if self.vendor == "postgresql":
            self._admin(f'DROP DATABASE IF EXISTS "{name}"')
            self._admin(f'CREATE DATABASE "{name}"')

    def clone(self, suffix: str) -> str:
        name = self.name(suffix)
        if self.vendor == "sqlite":
            shutil.copyfile(self.template, name)
            if os.path.exists(self.template + "-wal"):
                shutil.copyfile(self.template + "-wal", name + "-wal")
        else:
            self._admin(f'DROP DATABASE IF EXISTS "{name}"')
            self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        return name

    def drop(self, name: str) -> None:
        if self.vendor == "sqlite":
            for extra in ("", "-wal", "-shm"):
                Path(name + extra).unlink(missing_ok=True)
        else:
            self._admin(f'DROP DATABASE IF EXISTS "{name}"')
