"""``POST /api/v1/people/import`` (API.md) and the state of an import batch.

The import runs within the request, whatever the size of the file: the caller gets the
counts (200) or every bad row (422), as the contract says. The web page queues large files
instead.
"""

from datetime import datetime

from django.utils.translation import gettext as _
from ninja import File, Router, Schema
from ninja.files import UploadedFile

from probity.core.api import ApiError
from probity.personnel import imports, policies
from probity.personnel.models import ImportBatch

router = Router(tags=["personnel import"])

ERRORS_IN_BATCH = 200


class ImportResultOut(Schema):
    created: int
    updated: int
    unchanged: int
    dry_run: bool
    batch: int
    rows: int


class RowErrorOut(Schema):
    field: str
    row: int
    message: str


class ImportErrorOut(Schema):
    detail: str
    errors: list[RowErrorOut]


class ImportBatchOut(Schema):
    id: int
    file_name: str
    sha256: str
    size: int
    dry_run: bool
    state: str
    created_by: str
    created_at: datetime
    finished_at: datetime | None
    total_rows: int
    processed_rows: int
    progress: int
    created: int
    updated: int
    unchanged: int
    error_count: int
    errors: list[RowErrorOut]
    message: str


@router.post(
    "/people/import",
    response={200: ImportResultOut, 413: ImportErrorOut, 422: ImportErrorOut},
    summary="Import a roster (CSV or XLSX): all rows or none",
    description=(
        "Multipart upload, field `file`: CSV (UTF-8, with or without BOM; comma or "
        "semicolon) or XLSX whose header row holds the `POST /people` field names. Rows are "
        "matched by `service_number` within the unit's agency. Every row is validated before "
        "anything is written; any invalid row means `422` listing every bad row (`row`, "
        "header = 1; `field`, the column). `dry_run=true` checks and counts without writing."
    ),
)
def import_people(request, file: File[UploadedFile] = None, dry_run: bool = False):
    user = request.user
    if not policies.can_import(user):
        raise ApiError(403, _("Your roles do not include importing people."))
    if file is None:
        message = _("Send the roster as the multipart field `file` (CSV or XLSX).")
        raise ApiError(422, message, [{"field": "file", "message": message}])
    try:
        batch = imports.store_upload(file, actor=user, dry_run=dry_run)
    except imports.UploadRefused as exc:
        raise ApiError(
            exc.status, exc.message, [{"field": "file", "message": exc.message}]
        ) from exc
    path = imports.stored_path(batch)
    try:
        imports.run_import(actor=user, batch=batch, path=path, dry_run=dry_run)
    finally:
        # No confirmation step in the API (the caller sends the file again without
        # dry_run), so the stored file is never needed afterwards.
        path.unlink(missing_ok=True)
    if batch.state == ImportBatch.State.REJECTED:
        errors = [
            {"field": e["field"], "row": e["row"], "message": e["message"]}
            for e in imports.iter_errors(batch)
        ]
        raise ApiError(
            422, batch.message or _("The file has errors; nothing was imported."), errors
        )
    if batch.state != ImportBatch.State.DONE:
        raise ApiError(500, batch.message or _("The import failed; nothing was written."))
    return {
        "created": batch.created,
        "updated": batch.updated,
        "unchanged": batch.unchanged,
        "dry_run": batch.dry_run,
        "batch": batch.pk,
        "rows": batch.total_rows,
    }


@router.get(
    "/people/imports/{batch_id}",
    response=ImportBatchOut,
    summary="The state of one roster import (its creator, a superuser or an auditor)",
)
def get_import(request, batch_id: int):
    batch = ImportBatch.objects.select_related("created_by").filter(pk=batch_id).first()
    if batch is None or not imports.can_view_batch(request.user, batch):
        raise ApiError(404, _("No import #%(id)s that you may see.") % {"id": batch_id})
    return {
        "id": batch.pk,
        "file_name": batch.file_name,
        "sha256": batch.sha256,
        "size": batch.size,
        "dry_run": batch.dry_run,
        "state": batch.state,
        "created_by": batch.created_by.get_username(),
        "created_at": batch.created_at,
        "finished_at": batch.finished_at,
        "total_rows": batch.total_rows,
        "processed_rows": batch.processed_rows,
        "progress": imports.progress_info(batch)["percent"],
        "created": batch.created,
        "updated": batch.updated,
        "unchanged": batch.unchanged,
        "error_count": batch.error_count,
        "errors": (batch.errors or [])[:ERRORS_IN_BATCH],
        "message": batch.message,
    }
