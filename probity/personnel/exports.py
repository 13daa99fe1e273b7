"""The people list as CSV or XLSX, in the roster import's columns so that an export can be
edited and imported again (``status`` is informative: the import does not change it).

Both formats stream: CSV row by row to the client, XLSX through openpyxl's write-only
workbook into a temporary file, so memory does not grow with the number of rows.
"""

import csv
import tempfile
from collections.abc import Iterable, Iterator
from datetime import date

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from probity.personnel import imports

# The import's columns, then what only an export carries: a file exported here imports back.
COLUMNS = [*imports.COLUMNS, *imports.EXPORT_ONLY_COLUMNS]
_WIDTHS = [16, 20, 20, 28, 6, 14, 16, 10, 28, 18, 22]

CHUNK = 2000
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A cell starting with one of these is a formula to a spreadsheet program.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def rows(employments) -> Iterator[list]:
    """One list of values per employment (from ``selectors.employments_for``), in
    ``COLUMNS`` order; dates stay ``date`` objects."""
    for employment in employments.iterator(chunk_size=CHUNK):
        person = employment.person
        yield [
            employment.service_number,
            person.family_name,
            person.given_name,
            person.name_km,
            person.sex,
            person.date_of_birth,
            employment.unit.code,
            employment.rank.code if employment.rank_id else "",
            employment.position,
            person.national_id,
            getattr(employment, "current_status", None) or "",
        ]


def file_name(extension: str) -> str:
    return f"people-{timezone.localdate().isoformat()}.{extension}"


# --- CSV --------------------------------------------------------------------------------


class _Echo:
    """A file-like object whose ``write`` hands back the line, for ``csv.writer``."""

    def write(self, value: str) -> str:
        return value


def _csv_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if text.startswith(_FORMULA_START):
        # Neutralised for spreadsheet programs (CSV injection); no real name starts so.
        return "'" + text
    return text


def csv_lines(values: Iterable[list]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # UTF-8 BOM: spreadsheet programs then read Khmer correctly
    yield writer.writerow(COLUMNS)
    for row in values:
        yield writer.writerow([_csv_text(value) for value in row])


def csv_response(employments) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        csv_lines(rows(employments)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{file_name("csv")}"'
    return response


# --- XLSX -------------------------------------------------------------------------------


def write_xlsx(values: Iterable[list], target) -> None:
    """Write a workbook (one sheet, header row first) to the file object ``target``."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("people")
    for index, width in enumerate(_WIDTHS):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.append(COLUMNS)
    for row in values:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value if value != "" else None)
            if isinstance(value, str) and value:
                cell.data_type = "s"  # text stays text, even when it starts with "="
            cells.append(cell)
        sheet.append(cells)
    workbook.save(target)


def xlsx_response(employments) -> FileResponse:
    target = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes (and so deletes) it
    write_xlsx(rows(employments), target)
    target.seek(0)
    return FileResponse(
        target, as_attachment=True, filename=file_name("xlsx"), content_type=XLSX_TYPE
    )
