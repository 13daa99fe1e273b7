"""The roster import: CSV or XLSX files of people, checked whole, then written all at once.

Two passes over the file, both streaming (docs/decisions/0006-roster-import.md):

1. **Validation** reads every row, cleans it and checks it against the file itself (the same
   service number or national ID twice) and the registry (jurisdiction, units, ranks,
   national IDs owned by someone else), chunk by chunk. Nothing but the batch is written.
   Every error of every row goes to ``<batch>.errors.csv`` under ``VAR_DIR/imports/``; the
   first ``ERRORS_KEPT`` are also kept on the batch. Any error rejects the whole file.
2. **Writing** (not for a dry run) reads the file again and writes it in ONE transaction, in
   chunks of ``CHUNK_ROWS`` rows, with bulk inserts and updates that keep the same history
   rows as ``services.person_create`` / ``person_update`` / ``employment_change``, each
   pointing at the batch; one audit entry covers the whole import. Any failure rolls it all
   back.

Memory does not grow with the file: rows are read one chunk at a time, errors are streamed
to a file, and the keys already seen (for duplicates within the file) are kept in a private
temporary SQLite database on disk, not in a Python set.

Progress is written to ``<batch>.progress`` (JSON, replaced atomically), readable by any
process while the writing transaction is still open; during validation the batch row is
updated as well.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import itertools
import json
import logging
import os
import re
import sqlite3
import tempfile
import time
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date, datetime
from io import BytesIO
from pathlib import Path

from django.conf import settings
from django.db import connections, router, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from probity.audit.services import audit_record
from probity.core.khmer import normalise
from probity.org.models import Rank, Unit
from probity.personnel import policies, rules
from probity.personnel.models import (
    Employment,
    EmploymentEvent,
    ImportBatch,
    Person,
    StatusChange,
)
from probity.personnel.services import search_text

logger = logging.getLogger(__name__)

# The header names: the fields of ``POST /api/v1/people`` (API.md), in template order.
COLUMNS = (
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
)
REQUIRED = ("service_number", "family_name", "given_name", "unit")
PERSON_FIELDS = ("family_name", "given_name", "name_km", "sex", "date_of_birth", "national_id")
_NORMALISED = {"family_name", "given_name", "name_km", "position"}  # NFC, spaces folded
_COLUMN_ORDER = {name: i for i, name in enumerate(COLUMNS)}
# Columns that the people list's export adds and the import reads past, so that an export
# can be imported again: status is derived from the history and changes only by a recorded
# status change, never by a spreadsheet.
EXPORT_ONLY_COLUMNS = ("status",)
_IGNORED = "\x00ignored"  # the header name of a column read past

MAX_LENGTHS = {
    "service_number": Employment._meta.get_field("service_number").max_length,
    "family_name": Person._meta.get_field("family_name").max_length,
    "given_name": Person._meta.get_field("given_name").max_length,
    "name_km": Person._meta.get_field("name_km").max_length,
    "national_id": Person._meta.get_field("national_id").max_length,
    "position": Employment._meta.get_field("position").max_length,
    "unit": Unit._meta.get_field("code").max_length,
    "rank": Rank._meta.get_field("code").max_length,
}

CHUNK_ROWS = 2000
ERRORS_KEPT = 1000  # on the batch row; all of them are in the errors file
PREVIEW_ROWS = 50  # people listed as "would be created" / "would be updated"
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
INLINE_MAX_ROWS = 2000  # larger files run as a background task (the UI only)
INLINE_MAX_BYTES = 1024 * 1024
KEEP_FILES_DAYS = 30  # uploads, error lists and previews under VAR_DIR/imports
EARLIEST_BIRTH = date(1900, 1, 1)
EXTENSIONS = (".csv", ".xlsx")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
INSTRUCTIONS_SHEET = "Instructions"
DATA_SHEET = "People"

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?$")
_DMY_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


class ImportFileError(Exception):
    """The file as a whole cannot be read: bad header, not UTF-8, not a workbook."""

    def __init__(self, errors: list[dict]):
        super().__init__(errors[0]["message"] if errors else "")
        self.errors = errors


class UploadRefused(Exception):
    """An upload that is not stored at all (wrong type, too large, empty)."""

    def __init__(self, message: str, *, status: int = 422):
        super().__init__(message)
        self.message = message
        self.status = status


class RegistryChanged(Exception):
    """The registry changed between validation and writing: nothing was written."""


def _error(row: int, field_name: str, message: str) -> dict:
    return {"row": row, "field": field_name, "message": message}


def _error_order(error: dict):
    return (error["row"], _COLUMN_ORDER.get(error["field"], len(COLUMNS)), error["field"])


# --- where the files live ---------------------------------------------------------------


def imports_dir() -> Path:
    path = Path(settings.VAR_DIR) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def stored_path(batch: ImportBatch) -> Path | None:
    """The uploaded file of a batch, if it is still kept."""
    if not batch.stored_file:
        return None
    path = imports_dir() / Path(batch.stored_file).name
    return path if path.exists() else None


def errors_path(batch_id: int) -> Path:
    return imports_dir() / f"{batch_id}.errors.csv"


def progress_path(batch_id: int) -> Path:
    return imports_dir() / f"{batch_id}.progress"


def preview_path(batch_id: int) -> Path:
    return imports_dir() / f"{batch_id}.preview.json"


def _write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise


# --- reading ----------------------------------------------------------------------------


def column_letter(index: int) -> str:
    """A spreadsheet column's letters from its 1-based index (1 -> A, 27 -> AA)."""
    letters = ""
    while index > 0:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _header_name(cell) -> str:
    text = "" if cell is None else str(cell)
    text = text.replace("\ufeff", "").strip().lower()
    return re.sub(r"[\s-]+", "_", text)


def _parse_header(cells) -> list[str | None]:
    """Column index -> field name (None: an unnamed column). Raises on unknown, repeated or
    missing columns, naming each one."""
    names: list[str | None] = []
    errors = []
    seen: set[str] = set()
    for cell in cells:
        name = _header_name(cell)
        if not name:
            names.append(None)
            continue
        if name in EXPORT_ONLY_COLUMNS:
            names.append(_IGNORED)
            continue
        if name not in COLUMNS:
            errors.append(
                _error(
                    1,
                    name,
                    _("Unknown column %(name)s: use the column names of the template.")
                    % {"name": name},
                )
            )
        elif name in seen:
            errors.append(
                _error(
                    1, name, _("Column %(name)s appears twice in the header row.") % {"name": name}
                )
            )
        seen.add(name)
        names.append(name)
    for name in REQUIRED:
        if name not in seen:
            errors.append(
                _error(1, name, _("The required column %(name)s is missing.") % {"name": name})
            )
    if errors:
        raise ImportFileError(errors)
    return names


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _row_dict(names: list[str | None], cells) -> dict | None:
    """A data row as ``{field: value}``; ``None`` for a fully empty row. Values in columns
    without a name are listed under ``""`` by column letter."""
    if all(_blank(c) for c in cells):
        return None
    row: dict = {}
    for index, value in enumerate(cells):
        name = names[index] if index < len(names) else None
        if name is _IGNORED:
            continue
        if name is None:
            if not _blank(value):
                row.setdefault("", []).append(column_letter(index + 1))
            continue
        row[name] = value
    return row


def _xlsx_value(value):
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date) or value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class _Source:
    """An open file: ``estimate`` (rows, cheaply) and ``rows()``."""

    estimate: int = 0

    def rows(self) -> Iterator[tuple[int, dict]]:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self) -> None:
        pass


def _count_lines(path: Path) -> int:
    lines = 0
    last = b""
    with open(path, "rb") as fh:
        while block := fh.read(1024 * 1024):
            lines += block.count(b"\n")
            last = block[-1:]
    if last and last != b"\n":
        lines += 1
    return lines


class _CsvSource(_Source):
    def __init__(self, path: Path):
        self.path = path
        self.estimate = max(_count_lines(path) - 1, 0)
        self._fh = open(path, "rb")  # noqa: SIM115 - closed in close()
        self.record = 0  # the CSV record being read (header = 1)

    def _lines(self) -> Iterator[str]:
        """Decoded lines, one at a time, so that a byte that is not UTF-8 is reported at
        the row that holds it (a text stream decodes ahead in blocks)."""
        first = True
        for raw in self._fh:
            if first:
                first = False
                if raw.startswith(codecs.BOM_UTF8):
                    raw = raw[len(codecs.BOM_UTF8) :]
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ImportFileError(
                    [
                        _error(
                            self.record,
                            "",
                            _(
                                "This row is not UTF-8 text (nor is, perhaps, the rest of the "
                                "file). Save the file as “CSV UTF-8” and try again."
                            ),
                        )
                    ]
                ) from exc

    def rows(self) -> Iterator[tuple[int, dict]]:
        lines = self._lines()
        self.record = 1
        first = next(lines, "")
        if not first.strip():
            raise ImportFileError([_error(1, "", _("The file has no header row."))])
        delimiter = ";" if first.count(";") > first.count(",") else ","
        reader = csv.reader(itertools.chain([first], lines), delimiter=delimiter)
        try:
            names = _parse_header(next(reader))
            while True:
                self.record += 1
                cells = next(reader, None)
                if cells is None:
                    return
                row = _row_dict(names, cells)
                if row is not None:
                    yield self.record, row
        except csv.Error as exc:
            raise ImportFileError(
                [
                    _error(
                        self.record,
                        "",
                        _("The CSV file cannot be read from this row on (%(problem)s).")
                        % {"problem": str(exc)},
                    )
                ]
            ) from exc

    def close(self) -> None:
        self._fh.close()


class _XlsxSource(_Source):
    def __init__(self, path: Path):
        import openpyxl  # only for workbooks: a CSV import does not pay for loading it

        try:
            self._wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # BadZipFile, KeyError, InvalidFileException, XML errors
            raise ImportFileError(
                [
                    _error(
                        1,
                        "",
                        _("The XLSX file cannot be read: it is damaged or not an Excel workbook."),
                    )
                ]
            ) from exc
        sheets = [ws for ws in self._wb.worksheets if ws.title.strip() != INSTRUCTIONS_SHEET]
        if not sheets:
            self.close()
            raise ImportFileError([_error(1, "", _("The workbook has no sheet of people."))])
        self._ws = sheets[0]
        self.estimate = max((self._ws.max_row or 1) - 1, 0)

    def rows(self) -> Iterator[tuple[int, dict]]:
        names = None
        for number, cells in enumerate(self._ws.iter_rows(values_only=True), start=1):
            if names is None:
                if number == 1 and all(_blank(c) for c in cells):
                    raise ImportFileError(
                        [_error(1, "", _("Row 1 must hold the column names; it is empty."))]
                    )
                names = _parse_header(cells)
                continue
            row = _row_dict(names, [_xlsx_value(c) for c in cells])
            if row is not None:
                yield number, row
        if names is None:
            raise ImportFileError([_error(1, "", _("The file has no header row."))])

    def close(self) -> None:
        self._wb.close()


def _file_kind(file_name: str) -> str:
    suffix = Path(file_name or "").suffix.lower()
    if suffix not in EXTENSIONS:
        raise ImportFileError(
            [_error(1, "", _("Only CSV and XLSX files can be imported (.csv or .xlsx)."))]
        )
    return suffix


@contextmanager
def _open_source(path: Path, file_name: str):
    kind = _file_kind(file_name)
    source = _CsvSource(path) if kind == ".csv" else _XlsxSource(path)
    try:
        yield source
    finally:
        source.close()


def read_rows(path, *, file_name: str) -> Iterator[tuple[int, dict[str, str | date | None]]]:
    """The data rows of a CSV or XLSX roster as ``(row number, {column: value})``, streaming.

    The header (row 1) holds the field names of ``POST /api/v1/people``, in any case and
    order; fully empty rows are skipped (their numbers are not reused). CSV values are
    strings; XLSX values are strings, ``date`` for real Excel dates, or ``None``. Raises
    :class:`ImportFileError` for an unreadable file or a bad header.
    """
    with _open_source(Path(path), file_name) as source:
        yield from source.rows()


def estimate_rows(path, *, file_name: str) -> int:
    """About how many data rows the file holds, without reading it all."""
    try:
        with _open_source(Path(path), file_name) as source:
            return source.estimate
    except ImportFileError:
        return 0


def _chunks(rows: Iterable, size: int) -> Iterator[list]:
    """Lists of ``size`` rows; a partial chunk read before a file error is still handed out
    before the error is raised."""
    chunk: list = []
    try:
        for row in rows:
            chunk.append(row)
            if len(chunk) >= size:
                yield chunk
                chunk = []
    except ImportFileError:
        if chunk:
            yield chunk
        raise
    if chunk:
        yield chunk


# --- cleaning one row -------------------------------------------------------------------


@dataclass
class _Context:
    actor: object
    today: date
    units: dict[str, Unit]  # importable, by exact code
    units_ci: dict[str, Unit | None]  # importable, by upper-case code (None: ambiguous)
    known_codes: set[str]  # every unit code in upper case
    importable_ids: set[int]
    ranks: dict[tuple[int, str], Rank]
    ranks_ci: dict[tuple[int, str], Rank | None]


def _context(actor) -> _Context:
    units = list(Unit.objects.filter(policies.units_importable_by(actor)).select_related("agency"))
    units_ci: dict[str, Unit | None] = {}
    for unit in units:
        key = unit.code.upper()
        units_ci[key] = None if key in units_ci else unit
    ranks: dict[tuple[int, str], Rank] = {}
    ranks_ci: dict[tuple[int, str], Rank | None] = {}
    for rank in Rank.objects.all():
        ranks[(rank.agency_id, rank.code)] = rank
        key = (rank.agency_id, rank.code.upper())
        ranks_ci[key] = None if key in ranks_ci else rank
    return _Context(
        actor=actor,
        today=timezone.localdate(),
        units={u.code: u for u in units},
        units_ci=units_ci,
        known_codes={code.upper() for code in Unit.objects.values_list("code", flat=True)},
        importable_ids={u.pk for u in units},
        ranks=ranks,
        ranks_ci=ranks_ci,
    )


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def parse_date(value) -> date:
    """A date from an Excel date, ``YYYY-MM-DD`` or ``DD/MM/YYYY``; ``ValueError`` otherwise
    (with the reason as its message)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value).strip()
    match = _ISO_DATE.match(text)
    if match:
        year, month, day = (int(g) for g in match.groups())
    else:
        match = _DMY_DATE.match(text)
        if not match:
            raise ValueError(
                _("Not a date: write it as YYYY-MM-DD or DD/MM/YYYY, not %(value)s.")
                % {"value": text}
            )
        day, month, year = (int(g) for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(_("%(value)s is not a real date.") % {"value": text}) from None


def _resolve_unit(ctx: _Context, code: str) -> tuple[Unit | None, str | None]:
    unit = ctx.units.get(code) or ctx.units_ci.get(code.upper())
    if unit is not None:
        return unit, None
    if code.upper() in ctx.known_codes:
        return None, _("Unit %(code)s is outside your jurisdiction.") % {"code": code}
    return None, _("Unknown unit code %(code)s.") % {"code": code}


def _clean(ctx: _Context, number: int, raw: dict) -> tuple[dict, list[dict]]:
    """One row, cleaned: text trimmed (names and positions in NFC with spaces folded), the
    date parsed, unit and rank resolved. Returns the values that are valid and the errors.
    ``present`` lists the columns that have a value (a blank cell never erases data)."""
    errors: list[dict] = []
    out: dict = {"row": number}
    present: set[str] = set()
    for letter in raw.get("", ()):
        errors.append(
            _error(
                number,
                letter,
                _("A value in column %(column)s, which has no name in the header row.")
                % {"column": letter},
            )
        )
    for name in COLUMNS:
        value = raw.get(name)
        if name == "date_of_birth":
            if _blank(value):
                out[name] = None
                continue
            try:
                born = parse_date(value)
            except ValueError as exc:
                errors.append(_error(number, name, str(exc)))
                continue
            if born > ctx.today:
                errors.append(
                    _error(
                        number,
                        name,
                        _("The date of birth %(date)s is in the future.")
                        % {"date": born.isoformat()},
                    )
                )
            elif born < EARLIEST_BIRTH:
                errors.append(
                    _error(
                        number,
                        name,
                        _("The date of birth %(date)s is before 1900.")
                        % {"date": born.isoformat()},
                    )
                )
            else:
                out[name] = born
                present.add(name)
            continue
        text = _text(value)
        if _CONTROL.search(text):
            errors.append(
                _error(
                    number,
                    name,
                    _("Contains control characters (such as NUL) that cannot be stored."),
                )
            )
            continue
        text = normalise(text) if name in _NORMALISED else text.strip()
        if not text:
            if name in REQUIRED:
                errors.append(_error(number, name, _("A value is required.")))
            else:
                out[name] = ""
            continue
        limit = MAX_LENGTHS.get(name)
        if limit and len(text) > limit:
            errors.append(
                _error(
                    number,
                    name,
                    _("Too long: %(length)d characters, at most %(limit)d.")
                    % {"length": len(text), "limit": limit},
                )
            )
            continue
        if name == "sex":
            text = text.upper()
            if text not in ("M", "F"):
                errors.append(
                    _error(
                        number,
                        name,
                        _("Write M or F (or leave it blank), not %(value)s.") % {"value": text},
                    )
                )
                continue
        out[name] = text
        present.add(name)
    code = out.pop("unit", "")
    out["unit"] = None
    if code:
        unit, problem = _resolve_unit(ctx, code)
        if problem:
            errors.append(_error(number, "unit", problem))
        out["unit"] = unit
    rank_code = out.pop("rank", "")
    out["rank"] = None
    if rank_code and out["unit"] is not None:
        agency_id = out["unit"].agency_id
        rank = ctx.ranks.get((agency_id, rank_code)) or ctx.ranks_ci.get(
            (agency_id, rank_code.upper())
        )
        if rank is None:
            errors.append(
                _error(
                    number,
                    "rank",
                    _("Rank %(rank)s does not exist in the agency %(agency)s.")
                    % {"rank": rank_code, "agency": out["unit"].agency.code},
                )
            )
            present.discard("rank")
        out["rank"] = rank
    elif rank_code:
        present.discard("rank")  # cannot be checked without the unit, whose error is shown
    out["present"] = present
    return out, errors


# --- duplicates within the file ---------------------------------------------------------


class _SeenKeys:
    """Service numbers and national IDs already met in the file, with their first row.

    A private temporary SQLite database (on disk once its small cache is full), so that a
    file of a million rows does not need a million-entry set in memory.
    """

    def __init__(self):
        self._db = sqlite3.connect("")
        self._db.execute("PRAGMA cache_size=-16000")
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute("CREATE TABLE seen (key TEXT PRIMARY KEY, row INTEGER) WITHOUT ROWID")

    def first_rows(self, keys: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for start in range(0, len(keys), 900):
            part = keys[start : start + 900]
            marks = ",".join("?" * len(part))
            query = f"SELECT key, row FROM seen WHERE key IN ({marks})"  # noqa: S608 - placeholders only
            found.update(self._db.execute(query, part))
        return found

    def add(self, items: list[tuple[str, int]]) -> None:
        self._db.executemany("INSERT INTO seen (key, row) VALUES (?, ?)", items)

    def close(self) -> None:
        self._db.close()


def _duplicates(seen: _SeenKeys, rows: list[dict]) -> tuple[list[dict], set[int]]:
    """Errors for rows repeating a service number (within an agency) or a national ID met in
    an earlier row, and the numbers of those rows."""
    wanted: list[tuple[str, str, str, dict]] = []
    for row in rows:
        if row.get("service_number") and row.get("unit") is not None:
            key = f"s\x1f{row['unit'].agency_id}\x1f{row['service_number']}"
            wanted.append((key, "service_number", row["service_number"], row))
        if row.get("national_id"):
            wanted.append((f"n\x1f{row['national_id']}", "national_id", row["national_id"], row))
    if not wanted:
        return [], set()
    earlier = seen.first_rows([key for key, *_rest in wanted])
    new: dict[str, int] = {}
    errors: list[dict] = []
    bad: set[int] = set()
    for key, name, value, row in wanted:
        first = earlier.get(key) or new.get(key)
        if first is None:
            new[key] = row["row"]
            continue
        bad.add(row["row"])
        if name == "service_number":
            message = _(
                "Service number %(value)s appears twice in the file for the same agency "
                "(first in row %(first)d)."
            )
        else:
            message = _("National ID %(value)s appears twice in the file (first in row %(first)d).")
        errors.append(_error(row["row"], name, message % {"value": value, "first": first}))
    seen.add(list(new.items()))
    return errors, bad


# --- against the registry: what each row would do --------------------------------------

_EXISTING = (
    "id",
    "agency_id",
    "service_number",
    "person_id",
    "unit_id",
    "unit__code",
    "unit__active",
    "rank_id",
    "rank__code",
    "position",
    "person__family_name",
    "person__given_name",
    "person__name_km",
    "person__sex",
    "person__date_of_birth",
    "person__national_id",
)


@dataclass
class _Plan:
    creates: list[dict] = field(default_factory=list)
    # (row, existing employment values, person changes, employment changes); changes are
    # {field: (before, after)}
    updates: list[tuple[dict, dict, dict, dict]] = field(default_factory=list)
    unchanged: int = 0
    errors: list[dict] = field(default_factory=list)


def _plan(ctx: _Context, rows: list[dict], bad_rows: set[int]) -> _Plan:
    """Match rows to the registry by (agency of the unit, service number) and decide what
    each one does. Registry errors are found for every row that can be matched; only rows
    without any error (``bad_rows`` lists those with one already) are planned."""
    plan = _Plan()
    by_agency: dict[int, list[str]] = defaultdict(list)
    national_ids: list[str] = []
    for row in rows:
        if row.get("unit") is not None and row.get("service_number"):
            by_agency[row["unit"].agency_id].append(row["service_number"])
        if row.get("national_id"):
            national_ids.append(row["national_id"])
    existing: dict[tuple[int, str], dict] = {}
    for agency_id, numbers in by_agency.items():
        for record in Employment.objects.filter(
            agency_id=agency_id, service_number__in=numbers
        ).values(*_EXISTING):
            existing[(agency_id, record["service_number"])] = record
    owners = (
        dict(
            # The exclusion repeats the unique index's condition, so that the index is used.
            Person.objects.filter(national_id__in=national_ids)
            .exclude(national_id="")
            .values_list("national_id", "id")
        )
        if national_ids
        else {}
    )

    def fail(row, name, message):
        plan.errors.append(_error(row["row"], name, message))
        bad_rows.add(row["row"])

    pending: list[tuple[dict, dict, dict, dict]] = []
    for row in rows:
        unit = row.get("unit")
        number = row.get("service_number")
        if unit is None or not number:
            continue
        record = existing.get((unit.agency_id, number))
        national_id = row.get("national_id")
        owner = owners.get(national_id) if national_id else None
        if record is None:
            if not unit.active:
                fail(
                    row,
                    "unit",
                    _("Unit %(code)s is closed (inactive): nobody can be added to it.")
                    % {"code": unit.code},
                )
            if owner is not None:
                fail(
                    row,
                    "national_id",
                    _("National ID %(value)s is already registered to another person.")
                    % {"value": national_id},
                )
            if row["row"] not in bad_rows:
                plan.creates.append(row)
            continue
        if record["unit_id"] not in ctx.importable_ids:
            fail(
                row,
                "service_number",
                _("Service number %(value)s belongs to a person outside your jurisdiction.")
                % {"value": number},
            )
            continue
        if owner is not None and owner != record["person_id"]:
            fail(
                row,
                "national_id",
                _("National ID %(value)s is already registered to another person.")
                % {"value": national_id},
            )
        person_changes = {}
        for name in PERSON_FIELDS:
            if name in row["present"] and row[name] != record[f"person__{name}"]:
                person_changes[name] = (record[f"person__{name}"], row[name])
        employment_changes = {}
        if unit.pk != record["unit_id"]:
            if not unit.active:
                fail(
                    row,
                    "unit",
                    _("Unit %(code)s is closed (inactive): nobody can be moved into it.")
                    % {"code": unit.code},
                )
            employment_changes["unit"] = (record["unit__code"], unit.code)
        rank = row.get("rank")
        if rank is not None and rank.pk != record["rank_id"]:
            employment_changes["rank"] = (record["rank__code"] or "", rank.code)
        if "position" in row["present"] and row["position"] != record["position"]:
            employment_changes["position"] = (record["position"], row["position"])
        if row["row"] in bad_rows:
            continue
        if person_changes or employment_changes:
            pending.append((row, record, person_changes, employment_changes))
        else:
            plan.unchanged += 1
    # History stays in order: no change dated today before one already recorded later.
    moving = [record["id"] for _row, record, _p, changes in pending if changes]
    later = {}
    if moving:
        later = dict(
            EmploymentEvent.objects.filter(employment_id__in=moving, effective_date__gt=ctx.today)
            .values("employment_id")
            .annotate(latest=Max("effective_date"))
            .values_list("employment_id", "latest")
        )
    for item in pending:
        row, record, _person, changes = item
        if changes and record["id"] in later:
            fail(
                row,
                next(iter(changes)),
                _(
                    "A change to this employment is already recorded for %(date)s, after "
                    "today: record this change on the person's page instead."
                )
                % {"date": later[record["id"]].isoformat()},
            )
            continue
        plan.updates.append(item)
    return plan


# --- writing ----------------------------------------------------------------------------


def _json_value(value):
    return value.isoformat() if isinstance(value, date) else value


_CHANGE_KINDS = {
    "unit": EmploymentEvent.Kind.TRANSFER,
    "rank": EmploymentEvent.Kind.RANK,
    "position": EmploymentEvent.Kind.POSITION,
}


def _insert_many(model, constants: dict, varying: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert ``rows`` (values of the ``varying`` fields, by attname): the same rows
    ``bulk_create`` writes, without building a model instance and compiling SQL for each
    (``COPY`` on PostgreSQL, one prepared ``executemany`` on SQLite). The other columns
    are prepared once, from ``constants`` and the fields' defaults (``auto_now_add``
    included). For tables whose new ids are not needed."""
    if not rows:
        return
    connection = connections[router.db_for_write(model)]
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    template = model(**constants)
    position = {name: i for i, name in enumerate(varying)}
    values = [None] * len(fields)
    slots = []
    for i, f in enumerate(fields):
        if f.attname in position:
            slots.append((i, position[f.attname], f))
        else:
            values[i] = f.get_db_prep_save(f.pre_save(template, add=True), connection)
    params = []
    for row in rows:
        line = values.copy()
        for i, j, f in slots:
            line[i] = f.get_db_prep_save(row[j], connection)
        params.append(line)
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY: the fastest way in, one stream for the whole chunk.
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for line in params:
                    copy.write_row(line)
            return
        marks = ", ".join(["%s"] * len(fields))
        sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608 - names quoted
        for start in range(0, len(params), 5000):
            cursor.executemany(sql, params[start : start + 5000])


def _write_chunk(ctx: _Context, batch: ImportBatch, plan: _Plan) -> None:
    """Write one chunk's plan with bulk queries: the same rows ``services.person_create``,
    ``person_update`` and ``employment_change`` write, each pointing at the batch."""
    actor_id = ctx.actor.pk
    today = ctx.today
    events: list[tuple[int, str, dict, dict]] = []  # employment, kind, before, after
    started: list[tuple[int]] = []  # employments that start (and are active) today
    if plan.creates:
        people = [
            Person(
                family_name=row["family_name"],
                given_name=row["given_name"],
                name_km=row["name_km"],
                sex=row["sex"],
                date_of_birth=row["date_of_birth"],
                national_id=row["national_id"],
                search_text=search_text(
                    family_name=row["family_name"],
                    given_name=row["given_name"],
                    name_km=row["name_km"],
                ),
            )
            for row in plan.creates
        ]
        Person.objects.bulk_create(people)
        employments = [
            Employment(
                person_id=person.pk,
                agency_id=row["unit"].agency_id,
                service_number=row["service_number"],
                unit_id=row["unit"].pk,
                rank_id=row["rank"].pk if row["rank"] else None,
                position=row["position"],
                import_batch_id=batch.pk,
            )
            for row, person in zip(plan.creates, people, strict=True)
        ]
        Employment.objects.bulk_create(employments)
        for row, employment in zip(plan.creates, employments, strict=True):
            after = {
                "unit": row["unit"].code,
                "rank": row["rank"].code if row["rank"] else "",
                "position": row["position"],
            }
            events.append((employment.pk, EmploymentEvent.Kind.STARTED, {}, after))
            started.append((employment.pk,))
    if plan.updates:
        now = timezone.now()
        people_by_id: dict[int, Person] = {}
        details: dict[int, tuple[dict, dict]] = {}
        employments = []
        for row, record, person_changes, employment_changes in plan.updates:
            if person_changes:
                values = {name: record[f"person__{name}"] for name in PERSON_FIELDS}
                values.update({name: new for name, (_old, new) in person_changes.items()})
                person = Person(id=record["person_id"], updated_at=now, **values)
                person.search_text = search_text(
                    family_name=person.family_name,
                    given_name=person.given_name,
                    name_km=person.name_km,
                )
                people_by_id[person.pk] = person
                details[person.pk] = (
                    {k: _json_value(old) for k, (old, _new) in person_changes.items()},
                    {k: _json_value(new) for k, (_old, new) in person_changes.items()},
                )
            if employment_changes:
                employments.append(
                    Employment(
                        id=record["id"],
                        unit_id=row["unit"].pk,
                        rank_id=row["rank"].pk if row["rank"] else record["rank_id"],
                        position=row["position"]
                        if "position" in row["present"]
                        else record["position"],
                    )
                )
                for name, (old, new) in employment_changes.items():
                    events.append((record["id"], _CHANGE_KINDS[name], {name: old}, {name: new}))
        if people_by_id:
            Person.objects.bulk_update(
                list(people_by_id.values()),
                [*PERSON_FIELDS, "search_text", "updated_at"],
                batch_size=500,
            )
            # Like ``person_update``: the correction shows on every employment of the person.
            for employment_id, person_id in Employment.objects.filter(
                person_id__in=list(people_by_id)
            ).values_list("id", "person_id"):
                before, after = details[person_id]
                events.append((employment_id, EmploymentEvent.Kind.DETAILS, before, after))
        if employments:
            Employment.objects.bulk_update(
                employments, ["unit", "rank", "position"], batch_size=500
            )
    history = {"effective_date": today, "recorded_by_id": actor_id, "import_batch_id": batch.pk}
    _insert_many(EmploymentEvent, history, ("employment_id", "kind", "before", "after"), events)
    _insert_many(
        StatusChange,
        {**history, "status": rules.ACTIVE, "reason": "Registered"},
        ("employment_id",),
        started,
    )


# --- errors, preview and progress -------------------------------------------------------


class _ErrorSink:
    """Every error to a CSV file (row, column, message), the first ``ERRORS_KEPT`` in memory."""

    def __init__(self, path: Path):
        self.path = path
        self.kept: list[dict] = []
        self.count = 0
        self.rows = 0
        self._last_row: int | None = None
        self._fh = None
        self._writer = None
        with suppress(FileNotFoundError):
            path.unlink()

    def add(self, errors: list[dict]) -> None:
        for error in sorted(errors, key=_error_order):
            if self._fh is None:
                self._fh = open(self.path, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115
                self._writer = csv.writer(self._fh)
                self._writer.writerow(["row", "column", "message"])
            self._writer.writerow([error["row"], error["field"], error["message"]])
            self.count += 1
            if error["row"] != self._last_row:
                self.rows += 1
                self._last_row = error["row"]
            if len(self.kept) < ERRORS_KEPT:
                self.kept.append(error)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def iter_errors(batch: ImportBatch) -> Iterator[dict]:
    """Every error of a rejected batch, in row order (from the errors file when kept)."""
    path = errors_path(batch.pk)
    if path.exists():
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            next(reader, None)
            for row, column, message in reader:
                yield _error(int(row), column, message)
        return
    yield from batch.errors or []


def _preview_entry(row: dict, record: dict | None = None, changes: dict | None = None) -> dict:
    entry = {
        "row": row["row"],
        "service_number": row["service_number"],
        "name": f"{row.get('family_name', '')} {row.get('given_name', '')}".strip(),
        "name_km": row.get("name_km", ""),
        "unit": row["unit"].code,
    }
    if changes is not None:
        entry["changes"] = [
            {"field": name, "before": _json_value(old), "after": _json_value(new)}
            for name, (old, new) in changes.items()
        ]
    return entry


def read_preview(batch: ImportBatch) -> dict:
    """What a (dry) run found: up to ``PREVIEW_ROWS`` people created and updated."""
    try:
        return json.loads(preview_path(batch.pk).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"created": [], "updated": []}


class _Progress:
    def __init__(self, batch: ImportBatch, callback: Callable[[int, int], None] | None):
        self.batch = batch
        self.callback = callback
        self.path = progress_path(batch.pk)

    def report(self, phase: str, processed: int, total: int, *, save_row: bool) -> None:
        total = max(total, processed)
        _write_atomically(
            self.path,
            json.dumps({"phase": phase, "processed": processed, "total": total}),
        )
        if save_row:
            ImportBatch.objects.filter(pk=self.batch.pk).update(
                processed_rows=processed, total_rows=total
            )
        self.batch.processed_rows, self.batch.total_rows = processed, total
        if self.callback is not None:
            self.callback(processed, total)

    def clear(self) -> None:
        with suppress(FileNotFoundError):
            self.path.unlink()


def progress_info(batch: ImportBatch) -> dict:
    """Where a batch stands, for the page and the API: ``phase`` (queued, validating,
    writing, or the final state), rows ``processed`` of ``total`` and an overall
    ``percent`` (validation is the first third of a real import, writing the rest)."""
    data = {}
    if batch.state in (ImportBatch.State.QUEUED, ImportBatch.State.RUNNING):
        with suppress(OSError, ValueError):
            data = json.loads(progress_path(batch.pk).read_text(encoding="utf-8"))
    processed = int(data.get("processed", batch.processed_rows))
    total = int(data.get("total", batch.total_rows))
    if batch.state == ImportBatch.State.QUEUED:
        phase = "queued"
    elif batch.state == ImportBatch.State.RUNNING:
        phase = data.get("phase", "validating")
    else:
        phase = batch.state
    share = processed / total if total else 0.0
    if phase == "validating":
        percent = share * (100 if batch.dry_run else 100 / 3)
    elif phase == "writing":
        percent = 100 / 3 + share * 200 / 3
    elif phase == ImportBatch.State.DONE:
        percent = 100.0
    else:
        percent = 0.0
    return {
        "phase": phase,
        "processed": processed,
        "total": total,
        "percent": int(min(percent, 100)),
    }


# --- the import -------------------------------------------------------------------------


def file_digest(path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while block := fh.read(1024 * 1024):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


@dataclass
class _Outcome:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    preview: dict = field(default_factory=lambda: {"created": [], "updated": []})

    def count(self, plan: _Plan) -> None:
        self.created += len(plan.creates)
        self.updated += len(plan.updates)
        self.unchanged += plan.unchanged
        for row in plan.creates:
            if len(self.preview["created"]) >= PREVIEW_ROWS:
                break
            self.preview["created"].append(_preview_entry(row))
        for row, record, person_changes, employment_changes in plan.updates:
            if len(self.preview["updated"]) >= PREVIEW_ROWS:
                break
            changes = {**person_changes, **employment_changes}
            self.preview["updated"].append(_preview_entry(row, record, changes))


def _validate(ctx, path: Path, file_name: str, sink: _ErrorSink, progress: _Progress) -> _Outcome:
    outcome = _Outcome()
    seen = _SeenKeys()
    try:
        with _open_source(path, file_name) as source:
            estimate = source.estimate
            progress.report("validating", 0, estimate, save_row=True)
            try:
                for chunk in _chunks(source.rows(), CHUNK_ROWS):
                    outcome.rows += len(chunk)
                    errors: list[dict] = []
                    cleaned = []
                    bad_rows: set[int] = set()
                    for number, raw in chunk:
                        row, row_errors = _clean(ctx, number, raw)
                        cleaned.append(row)
                        if row_errors:
                            errors.extend(row_errors)
                            bad_rows.add(number)
                    duplicate_errors, duplicate_rows = _duplicates(seen, cleaned)
                    errors.extend(duplicate_errors)
                    bad_rows |= duplicate_rows
                    plan = _plan(ctx, cleaned, bad_rows)
                    errors.extend(plan.errors)
                    sink.add(errors)
                    if not sink.count:
                        outcome.count(plan)
                    progress.report(
                        "validating", outcome.rows, max(estimate, outcome.rows), save_row=True
                    )
            except ImportFileError as exc:
                sink.add(exc.errors)
    except ImportFileError as exc:
        sink.add(exc.errors)
    finally:
        seen.close()
    if outcome.rows == 0 and not sink.count:
        sink.add([_error(1, "", _("The file has a header row but no people in it."))])
    return outcome


def _write(ctx, batch: ImportBatch, path: Path, file_name: str, progress: _Progress, total: int):
    outcome = _Outcome()
    progress.report("writing", 0, total, save_row=False)
    with _open_source(path, file_name) as source:
        for chunk in _chunks(source.rows(), CHUNK_ROWS):
            cleaned = []
            for number, raw in chunk:
                row, errors = _clean(ctx, number, raw)
                if errors:
                    raise RegistryChanged(errors[0])
                cleaned.append(row)
            plan = _plan(ctx, cleaned, set())
            if plan.errors:
                raise RegistryChanged(plan.errors[0])
            _write_chunk(ctx, batch, plan)
            outcome.rows += len(chunk)
            outcome.count(plan)
            progress.report("writing", outcome.rows, total, save_row=False)
    return outcome


def _finish(batch: ImportBatch, state: str, **values) -> ImportBatch:
    batch.state = state
    batch.finished_at = timezone.now()
    for name, value in values.items():
        setattr(batch, name, value)
    batch.save()
    return batch


def run_import(
    *,
    actor,
    batch: ImportBatch,
    path,
    dry_run: bool,
    progress: Callable[[int, int], None] | None = None,
) -> ImportBatch:
    """Import the roster at ``path`` as ``actor`` into ``batch`` (saved here if new).

    Validates every row first; any error rejects the file (``state = rejected``, errors on
    the batch and in the errors file, nothing written). Otherwise, unless ``dry_run``,
    writes everything in one transaction with one audit entry; an unexpected failure rolls
    it all back (``state = failed``). ``progress(processed, total)`` is called after every
    chunk, through validation and then again through writing.
    """
    path = Path(path)
    if not batch.file_name:
        batch.file_name = path.name[:255]
    if batch.created_by_id is None:
        batch.created_by = actor
    if not batch.sha256:
        batch.sha256, batch.size = file_digest(path)
    batch.dry_run = dry_run
    batch.state = ImportBatch.State.RUNNING
    batch.finished_at = None
    batch.created = batch.updated = batch.unchanged = 0
    batch.processed_rows = batch.error_count = 0
    batch.errors = []
    batch.message = ""
    batch.save()

    reporter = _Progress(batch, progress)
    sink = _ErrorSink(errors_path(batch.pk))
    try:
        ctx = _context(actor)
        checked = _validate(ctx, path, batch.file_name, sink, reporter)
    except Exception as exc:
        sink.close()
        reporter.clear()
        logger.error("Roster import #%s failed while checking: %s", batch.pk, type(exc).__name__)
        return _finish(
            batch,
            ImportBatch.State.FAILED,
            message=_(
                "An unexpected error stopped the check (%(error)s). Nothing was written; "
                "you can try again."
            )
            % {"error": type(exc).__name__},
        )
    sink.close()

    if sink.count:
        reporter.clear()
        return _finish(
            batch,
            ImportBatch.State.REJECTED,
            errors=sink.kept,
            error_count=sink.count,
            total_rows=checked.rows,
            processed_rows=checked.rows,
            message=ngettext(
                "%(errors)d error in %(rows)d row: nothing was imported.",
                "%(errors)d errors in %(rows)d rows: nothing was imported.",
                sink.rows,
            )
            % {"errors": sink.count, "rows": sink.rows},
        )

    _write_atomically(
        preview_path(batch.pk), json.dumps(checked.preview, ensure_ascii=False, default=str)
    )
    if dry_run:
        reporter.clear()
        return _finish(
            batch,
            ImportBatch.State.DONE,
            total_rows=checked.rows,
            processed_rows=checked.rows,
            created=checked.created,
            updated=checked.updated,
            unchanged=checked.unchanged,
        )

    try:
        with transaction.atomic():
            written = _write(ctx, batch, path, batch.file_name, reporter, checked.rows)
            audit_record(
                actor=actor,
                action="personnel.import",
                obj=batch,
                after={
                    "file_name": batch.file_name,
                    "sha256": batch.sha256,
                    "size": batch.size,
                    "dry_run": False,
                    "created": written.created,
                    "updated": written.updated,
                    "unchanged": written.unchanged,
                    "rows": written.rows,
                },
            )
            _finish(
                batch,
                ImportBatch.State.DONE,
                total_rows=written.rows,
                processed_rows=written.rows,
                created=written.created,
                updated=written.updated,
                unchanged=written.unchanged,
            )
    except RegistryChanged as exc:
        problem = exc.args[0] if exc.args else {}
        _finish(
            batch,
            ImportBatch.State.FAILED,
            created=0,
            updated=0,
            unchanged=0,
            total_rows=checked.rows,
            processed_rows=0,
            message=_(
                "The registry changed while the file was being imported (row %(row)s: "
                "%(problem)s). Nothing was written; import the file again."
            )
            % {"row": problem.get("row", "?"), "problem": problem.get("message", "")},
        )
    except Exception as exc:
        logger.error("Roster import #%s failed while writing: %s", batch.pk, type(exc).__name__)
        _finish(
            batch,
            ImportBatch.State.FAILED,
            created=0,
            updated=0,
            unchanged=0,
            total_rows=checked.rows,
            processed_rows=0,
            message=_(
                "An unexpected error stopped the import (%(error)s). Nothing was written; "
                "you can try again."
            )
            % {"error": type(exc).__name__},
        )
    finally:
        reporter.clear()
    return batch


# --- who may see a batch ----------------------------------------------------------------


def can_view_batch(user, batch: ImportBatch) -> bool:
    """A batch (its errors name people) is for its creator while they may import, a
    superuser or an auditor."""
    if not user.is_authenticated:
        return False
    if user.is_superuser or user.has_perm("audit.view_auditentry"):
        return True
    return batch.created_by_id == user.pk and policies.can_import(user)


# --- uploads ----------------------------------------------------------------------------


def check_upload_name(file_name: str) -> str:
    suffix = Path(file_name or "").suffix.lower()
    if suffix not in EXTENSIONS:
        raise UploadRefused(
            _("Upload a CSV or XLSX file: the file name must end in .csv or .xlsx.")
        )
    return suffix


def _looks_like_xlsx(path: Path) -> bool:
    with open(path, "rb") as fh:
        if fh.read(4) != b"PK\x03\x04":
            return False
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        return False
    return "[Content_Types].xml" in names and "xl/workbook.xml" in names


def store_upload(upload, *, actor, dry_run: bool) -> ImportBatch:
    """Check an uploaded file (name, size, content) and keep it as the file of a new batch,
    ``VAR_DIR/imports/<batch id>.<csv|xlsx>``. Raises :class:`UploadRefused`."""
    file_name = Path(upload.name or "").name[:255]
    suffix = check_upload_name(file_name)
    too_large = _("The file is larger than %(size)d MB, the most that can be imported at once.") % {
        "size": MAX_UPLOAD_BYTES // (1024 * 1024)
    }
    if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
        raise UploadRefused(too_large, status=413)
    prune_files()
    folder = imports_dir()
    fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=".upload-", suffix=suffix)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        size = 0
        decoder = codecs.getincrementaldecoder("utf-8")()
        text_ok = suffix == ".csv"
        with os.fdopen(fd, "wb") as out:
            for block in upload.chunks():
                size += len(block)
                if size > MAX_UPLOAD_BYTES:
                    raise UploadRefused(too_large, status=413)
                digest.update(block)
                out.write(block)
                if text_ok:
                    try:
                        decoder.decode(block)
                    except UnicodeDecodeError:
                        text_ok = False
                    text_ok = text_ok and b"\x00" not in block
        if size == 0:
            raise UploadRefused(_("The file is empty."))
        if suffix == ".csv":
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                text_ok = False
            if not text_ok:
                raise UploadRefused(
                    _(
                        "The file is not a UTF-8 CSV file. In Excel, save it as “CSV UTF-8 "
                        "(comma delimited)”, or upload the XLSX workbook itself."
                    )
                )
        elif not _looks_like_xlsx(tmp):
            raise UploadRefused(
                _("The file is not an Excel workbook (.xlsx), although its name ends in .xlsx.")
            )
        batch = ImportBatch.objects.create(
            file_name=file_name,
            sha256=digest.hexdigest(),
            size=size,
            dry_run=dry_run,
            created_by=actor,
            state=ImportBatch.State.QUEUED,
        )
        final = folder / f"{batch.pk}{suffix}"
        os.replace(tmp, final)
        batch.stored_file = final.name
        batch.save(update_fields=["stored_file"])
        return batch
    finally:
        with suppress(FileNotFoundError):
            tmp.unlink()


def runs_inline(batch: ImportBatch) -> bool:
    """Small files are imported within the request; larger ones by the background worker."""
    path = stored_path(batch)
    if path is None:
        return True
    if batch.size > INLINE_MAX_BYTES:
        return False
    return estimate_rows(path, file_name=batch.file_name) <= INLINE_MAX_ROWS


def confirm_dry_run(dry: ImportBatch, *, actor) -> ImportBatch:
    """A real import of the file a successful dry run checked (the same stored file)."""
    path = stored_path(dry)
    if not (dry.dry_run and dry.state == ImportBatch.State.DONE) or path is None:
        raise UploadRefused(_("This check cannot be imported: run the check again."))
    if file_digest(path)[0] != dry.sha256:
        raise UploadRefused(_("The stored file has changed since it was checked: upload it again."))
    return ImportBatch.objects.create(
        file_name=dry.file_name,
        sha256=dry.sha256,
        size=dry.size,
        dry_run=False,
        created_by=actor,
        state=ImportBatch.State.QUEUED,
        stored_file=dry.stored_file,
    )


def prune_files(*, keep_days: int = KEEP_FILES_DAYS) -> int:
    """Delete the kept files (uploads, error lists, previews) older than ``keep_days``, but
    not those of a batch still queued or running. Rosters are personal data: they are not
    kept longer than needed. Returns how many files were deleted."""
    cutoff = time.time() - keep_days * 24 * 60 * 60
    old = []
    for path in imports_dir().iterdir():
        with suppress(OSError):
            if path.is_file() and path.stat().st_mtime < cutoff:
                old.append(path)
    busy = set(
        ImportBatch.objects.filter(
            state__in=[ImportBatch.State.QUEUED, ImportBatch.State.RUNNING]
        ).values_list("pk", flat=True)
    )
    deleted = 0
    for path in old:
        head = path.name.split(".", 1)[0]
        if head.isdigit() and int(head) in busy:
            continue
        with suppress(OSError):
            path.unlink()
            deleted += 1
    return deleted


def discard_upload(batch: ImportBatch) -> None:
    """Delete the uploaded file once nothing needs it: only a successful dry run keeps it,
    for the real import that may follow. (Its SHA-256 stays on the batch and in the audit.)"""
    if batch.dry_run and batch.state == ImportBatch.State.DONE:
        return
    path = stored_path(batch)
    if path is not None:
        with suppress(FileNotFoundError):
            path.unlink()


# --- the template -----------------------------------------------------------------------

_TEMPLATE_HELP = {
    # column: (meaning, meaning in Khmer, required, format, example)
    "service_number": (
        "Service number, unique within the agency. Rows are matched on it.",
        "អត្តលេខមន្ត្រី មិនស្ទួនគ្នាក្នុងស្ថាប័នតែមួយ។ ជួរនីមួយៗត្រូវបានផ្គូផ្គងតាមអត្តលេខនេះ។",
        True,
        "Text, at most 30 characters / អក្សរ មិនលើស ៣០ តួ",
        "NP-000123",
    ),
    "family_name": (
        "Family name, in Latin letters.",
        "នាមត្រកូល ជាអក្សរឡាតាំង។",
        True,
        "Text, at most 100 characters / អក្សរ មិនលើស ១០០ តួ",
        "Sok",
    ),
    "given_name": (
        "Given name, in Latin letters.",
        "នាមខ្លួន ជាអក្សរឡាតាំង។",
        True,
        "Text, at most 100 characters / អក្សរ មិនលើស ១០០ តួ",
        "Dara",
    ),
    "name_km": (
        "Full name in Khmer script.",
        "ឈ្មោះពេញ ជាអក្សរខ្មែរ។",
        False,
        "Khmer text, at most 200 characters / អក្សរខ្មែរ មិនលើស ២០០ តួ",
        "សុខ តារា",
    ),
    "sex": (
        "Sex: M (male) or F (female).",
        "ភេទ៖ M (ប្រុស) ឬ F (ស្រី)។",
        False,
        "M or F / M ឬ F",
        "M",
    ),
    "date_of_birth": (
        "Date of birth.",
        "ថ្ងៃខែឆ្នាំកំណើត។",
        False,
        "YYYY-MM-DD, DD/MM/YYYY or an Excel date / YYYY-MM-DD, DD/MM/YYYY ឬកាលបរិច្ឆេទ Excel",
        "1990-04-01",
    ),
    "unit": (
        "Code of the unit the person serves in; it decides the agency. It must lie within "
        "your jurisdiction.",
        "លេខកូដអង្គភាពដែលមន្ត្រីបម្រើការងារ ដែលកំណត់ស្ថាប័ន។ អង្គភាពនោះត្រូវស្ថិតក្នុងដែនសមត្ថកិច្ចរបស់អ្នក។",
        True,
        "A unit code from Probity / លេខកូដអង្គភាពក្នុង Probity",
        "NP-PP",
    ),
    "rank": (
        "Rank code, one of the ranks of the unit's agency.",
        "លេខកូដឋានន្តរស័ក្តិ នៃស្ថាប័នរបស់អង្គភាព។",
        False,
        "A rank code from Probity / លេខកូដឋានន្តរស័ក្តិក្នុង Probity",
        "CPT",
    ),
    "position": (
        "Position or post held.",
        "មុខតំណែង។",
        False,
        "Text, at most 200 characters / អក្សរ មិនលើស ២០០ តួ",
        "Deputy chief of post",
    ),
    "national_id": (
        "National identity card number; a person has only one.",
        "លេខអត្តសញ្ញាណប័ណ្ណសញ្ជាតិខ្មែរ។ មនុស្សម្នាក់មានលេខតែមួយ។",
        False,
        "Text, at most 30 characters / អក្សរ មិនលើស ៣០ តួ",
        "010203040",
    ),
}

_TEMPLATE_RULES = [
    (
        "Fill in the sheet “People”: row 1 holds the column names, then one person per row. "
        "Do not rename or add columns; you may leave out optional ones.",
        "សូមបំពេញសន្លឹក “People”៖ ជួរទី១ ជាឈ្មោះជួរឈរ បន្ទាប់មកមនុស្សម្នាក់ក្នុងមួយជួរ។ "
        "កុំប្តូរឈ្មោះ ឬបន្ថែមជួរឈរ។ ជួរឈរមិនចាំបាច់ អាចលុបចោលបាន។",
    ),
    (
        "A row whose service number is new in the unit's agency adds a person; a known one "
        "updates that person (transfer, rank, position or personal details).",
        "ជួរដែលមានអត្តលេខថ្មីក្នុងស្ថាប័ន បន្ថែមមន្ត្រីថ្មី។ អត្តលេខដែលមានស្រាប់ "
        "ធ្វើបច្ចុប្បន្នភាពព័ត៌មានរបស់មន្ត្រីនោះ (ការផ្ទេរ ឋានន្តរស័ក្តិ មុខតំណែង ឬព័ត៌មានផ្ទាល់ខ្លួន)។",
    ),
    (
        "A blank cell never erases what is already recorded.",
        "ក្រឡាទទេ មិនលុបព័ត៌មានដែលបានកត់ត្រារួចហើយទេ។",
    ),
    (
        "All or nothing: if any row has an error, nothing is imported, and the list of errors "
        "names every bad row and column. Importing the same file twice changes nothing.",
        "ទាំងអស់ ឬគ្មានអ្វីសោះ៖ បើជួរណាមួយមានកំហុស គ្មានអ្វីត្រូវបាននាំចូលទេ "
        "ហើយបញ្ជីកំហុសបង្ហាញគ្រប់ជួរ និងជួរឈរដែលខុស។ ការនាំចូលឯកសារដដែលពីរដង មិនផ្លាស់ប្តូរអ្វីទេ។",
    ),
    (
        "Save as XLSX, or as CSV in UTF-8 (comma or semicolon between columns).",
        "រក្សាទុកជា XLSX ឬជា CSV UTF-8 (ក្បៀស ឬចំណុចក្បៀស រវាងជួរឈរ)។",
    ),
]


def template_workbook() -> bytes:
    """An empty roster workbook: the sheet "People" with the header row, and an
    "Instructions" sheet in English and Khmer describing every column."""
    import openpyxl
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = openpyxl.Workbook()
    people = wb.active
    people.title = DATA_SHEET
    people.append(list(COLUMNS))
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDE7F3")
    for index, name in enumerate(COLUMNS, start=1):
        cell = people.cell(row=1, column=index)
        cell.font = bold
        cell.fill = fill
        width = 14 if name in ("sex", "rank") else 22
        people.column_dimensions[column_letter(index)].width = width
    people.freeze_panes = "A2"
    # Codes and identity numbers are text: Excel must not turn "000123" into 123.
    for name in ("service_number", "national_id", "unit", "rank"):
        letter = column_letter(COLUMNS.index(name) + 1)
        for row in range(2, 1002):
            people[f"{letter}{row}"].number_format = "@"
    sex = DataValidation(type="list", formula1='"M,F"', allow_blank=True)
    sex.error = "M or F / M ឬ F"
    people.add_data_validation(sex)
    letter = column_letter(COLUMNS.index("sex") + 1)
    sex.add(f"{letter}2:{letter}1048576")

    guide = wb.create_sheet(INSTRUCTIONS_SHEET)
    guide.append(["Probity — roster import / ការនាំចូលបញ្ជីឈ្មោះមន្ត្រី"])
    guide["A1"].font = Font(bold=True, size=14)
    guide.append([])
    for english, khmer in _TEMPLATE_RULES:
        guide.append([english, khmer])
    guide.append([])
    header = [
        "Column / ជួរឈរ",
        "Meaning",
        "អត្ថន័យ",
        "Required? / ចាំបាច់?",
        "Format / ទម្រង់",
        "Example / ឧទាហរណ៍",
    ]
    guide.append(header)
    for cell in guide[guide.max_row]:
        cell.font = bold
        cell.fill = fill
    for name in COLUMNS:
        meaning, meaning_km, required, fmt, example = _TEMPLATE_HELP[name]
        guide.append(
            [
                name,
                meaning,
                meaning_km,
                "Required / ចាំបាច់" if required else "Optional / មិនចាំបាច់",
                fmt,
                example,
            ]
        )
    for letter, width in zip("ABCDEF", (18, 50, 50, 22, 40, 18), strict=True):
        guide.column_dimensions[letter].width = width
    for row in guide.iter_rows(min_row=3):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    out = BytesIO()
    wb.save(out)
    return out.getvalue()
