"""Roster import pages: upload, the batch page (progress, counts, errors), downloads.

Small files are imported within the request; larger ones are queued for the background
worker and the batch page follows them with htmx polling.
"""

import csv
import io

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from probity.org.forms import StyledForm
from probity.personnel import imports, policies
from probity.personnel.models import ImportBatch
from probity.personnel.tasks import import_roster

ERRORS_ON_PAGE = 200
RECENT_BATCHES = 10


class ImportForm(StyledForm):
    file = forms.FileField(
        label=gettext_lazy("Roster file (CSV or XLSX)"),
        help_text=gettext_lazy(
            "Row 1 holds the column names of the template. CSV files must be UTF-8, with "
            "commas or semicolons between columns."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )
    dry_run = forms.BooleanField(
        label=gettext_lazy("Check only (dry run): show what would change and write nothing"),
        required=False,
        initial=True,
    )


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _batch_or_404(request, pk: int) -> ImportBatch:
    batch = get_object_or_404(ImportBatch.objects.select_related("created_by"), pk=pk)
    if not imports.can_view_batch(request.user, batch):
        raise Http404(_("No such import."))
    return batch


def _start(request, batch: ImportBatch) -> None:
    """Run small files now, queue large ones."""
    if imports.runs_inline(batch):
        imports.run_import(
            actor=request.user,
            batch=batch,
            path=imports.stored_path(batch),
            dry_run=batch.dry_run,
        )
        imports.discard_upload(batch)
    else:
        import_roster.enqueue(batch.pk, batch.dry_run)


@require_http_methods(["GET", "POST"])
def import_start(request):
    user = request.user
    _require(policies.can_import(user))
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            batch = imports.store_upload(
                form.cleaned_data["file"], actor=user, dry_run=form.cleaned_data["dry_run"]
            )
        except imports.UploadRefused as exc:
            form.add_error("file", exc.message)
        else:
            _start(request, batch)
            return redirect("personnel:import_batch", pk=batch.pk)
    recent = ImportBatch.objects.filter(created_by=user).order_by("-created_at")[:RECENT_BATCHES]
    return render(
        request,
        "personnel/import_start.html",
        {
            "form": form,
            "recent": recent,
            "max_mb": imports.MAX_UPLOAD_BYTES // (1024 * 1024),
            "inline_rows": imports.INLINE_MAX_ROWS,
            "columns": imports.COLUMNS,
            "required": imports.REQUIRED,
        },
    )


@require_GET
def import_template(request):
    _require(policies.can_import(request.user))
    response = HttpResponse(imports.template_workbook(), content_type=imports.XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = 'attachment; filename="probity-roster-template.xlsx"'
    return response


def _batch_context(request, batch: ImportBatch) -> dict:
    active = batch.state in (ImportBatch.State.QUEUED, ImportBatch.State.RUNNING)
    context = {
        "batch": batch,
        "progress": imports.progress_info(batch),
        "polling": active,
        "errors": (batch.errors or [])[:ERRORS_ON_PAGE],
        "errors_shown": min(len(batch.errors or []), ERRORS_ON_PAGE),
        "can_confirm": (
            batch.dry_run
            and batch.state == ImportBatch.State.DONE
            and batch.created_by_id == request.user.pk
            and policies.can_import(request.user)
            and imports.stored_path(batch) is not None
            and (batch.created or batch.updated)
        ),
    }
    if batch.state == ImportBatch.State.DONE:
        context["preview"] = imports.read_preview(batch)
    return context


@require_GET
def import_batch(request, pk: int):
    batch = _batch_or_404(request, pk)
    context = _batch_context(request, batch)
    if getattr(request, "htmx", False):
        return render(request, "personnel/import_batch.html#batch-status", context)
    return render(request, "personnel/import_batch.html", context)


@require_GET
def import_errors_csv(request, pk: int):
    batch = _batch_or_404(request, pk)
    if batch.state != ImportBatch.State.REJECTED:
        raise Http404(_("This import has no errors."))
    filename = f"import-{batch.pk}-errors.csv"
    path = imports.errors_path(batch.pk)
    if path.exists():
        return FileResponse(
            open(path, "rb"),  # noqa: SIM115 - FileResponse closes it
            as_attachment=True,
            filename=filename,
            content_type="text/csv; charset=utf-8",
        )
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(["row", "column", "message"])
    for error in imports.iter_errors(batch):
        writer.writerow([error["row"], error["field"], error["message"]])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_POST
def import_confirm(request, pk: int):
    """Import for real the file that a successful dry run checked."""
    dry = _batch_or_404(request, pk)
    _require(dry.created_by_id == request.user.pk and policies.can_import(request.user))
    try:
        batch = imports.confirm_dry_run(dry, actor=request.user)
    except imports.UploadRefused as exc:
        messages.error(request, exc.message)
        return redirect("personnel:import_batch", pk=dry.pk)
    _start(request, batch)
    return redirect("personnel:import_batch", pk=batch.pk)
