"""Background work of the personnel registry (django-tasks; ``manage.py db_worker`` runs it)."""

import logging

from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from probity.personnel import imports
from probity.personnel.models import ImportBatch

logger = logging.getLogger(__name__)


@task()
def import_roster(batch_id: int, dry_run: bool) -> dict:
    """Run the import of a stored roster file (large files, enqueued by the import page).

    The batch records the outcome (state, counts, errors); the page polls it. The uploaded
    file is deleted afterwards unless a successful dry run keeps it for the real import.
    """
    batch = ImportBatch.objects.select_related("created_by").get(pk=batch_id)
    if batch.state != ImportBatch.State.QUEUED:
        logger.warning("Roster import #%s is %s, not queued: not run again.", batch_id, batch.state)
        return {"batch": batch.pk, "state": batch.state}
    path = imports.stored_path(batch)
    if path is None:
        batch.state = ImportBatch.State.FAILED
        batch.message = _("The uploaded file is no longer stored: upload it again.")
        batch.finished_at = timezone.now()
        batch.save(update_fields=["state", "message", "finished_at"])
        return {"batch": batch.pk, "state": batch.state}
    imports.run_import(actor=batch.created_by, batch=batch, path=path, dry_run=dry_run)
    imports.discard_upload(batch)
    return {
        "batch": batch.pk,
        "state": batch.state,
        "created": batch.created,
        "updated": batch.updated,
        "unchanged": batch.unchanged,
        "errors": batch.error_count,
    }
