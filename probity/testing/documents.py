"""The printed documents of a collection: bottle labels and the custody and control form.

Each has a ``*_context`` function (plain data for the template, tested on its own) and a
``*_pdf`` function that renders it with ``probity.core.pdf.render_pdf`` in the active
language (the caller wraps it in ``translation.override``).

Labels are laid out for A4 sheets of 14 labels (2 columns x 7 rows of 99.1 x 38.1 mm, the
common "L7163" size any office laser printer takes); ``start`` skips labels already used on
a partly used sheet. They never carry the donor's name.

The custody and control form has two copies: one for the laboratory, without the donor's
identity, and one for the collection file, with it. Callers decide which copies a user gets
(``policies.can_see_donor``).
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.safestring import mark_safe

from probity.core.labels import code128_svg, qr_svg
from probity.core.pdf import render_pdf
from probity.testing import selectors
from probity.testing.models import Collection

COPY_LABORATORY = "laboratory"
COPY_FILE = "file"

LABELS_PER_SHEET = 14


def _bottle_rows(collection: Collection) -> list:
    return list(collection.bottles.order_by("label"))


def labels_context(collection: Collection, *, start: int = 1) -> dict:
    """One label per bottle, after ``start - 1`` empty positions on the sheet."""
    start = min(max(int(start), 1), LABELS_PER_SHEET)
    barcode = mark_safe(code128_svg(collection.specimen_id, height_mm=9, font_size=7))  # noqa: S308
    qr = mark_safe(qr_svg(collection.specimen_id, module_mm=1.0, border=1))  # noqa: S308
    labels = [
        {
            "specimen_id": collection.specimen_id,
            "bottle": bottle.label,
            "seal_number": bottle.seal_number,
            "collected_on": timezone.localtime(collection.collected_at).date(),
            "specimen_type": collection.specimen_type.name,
            "barcode": barcode,
            "qr": qr,
        }
        for bottle in _bottle_rows(collection)
    ]
    return {
        "collection": collection,
        "blanks": range(start - 1),
        "labels": labels,
    }


def labels_pdf(collection: Collection, *, start: int = 1) -> bytes:
    return render_pdf("testing/pdf/labels.html", labels_context(collection, start=start))


def custody_form_context(collection: Collection, *, copies=(COPY_LABORATORY,)) -> dict:
    """Everything the form prints. The donor block is filled only on the file copy."""
    employment = collection.employment
    bottles = _bottle_rows(collection)
    timeline = list(selectors.custody_timeline(collection))
    return {
        "collection": collection,
        "barcode": mark_safe(code128_svg(collection.specimen_id, height_mm=12)),  # noqa: S308
        "qr": mark_safe(qr_svg(collection.specimen_id, module_mm=0.9, border=1)),  # noqa: S308
        "copies": [
            {
                "kind": kind,
                "show_donor": kind == COPY_FILE,
                "donor": {
                    "name": employment.person.full_name,
                    "name_km": employment.person.name_km,
                    "service_number": employment.service_number,
                    "unit": collection.unit,
                }
                if kind == COPY_FILE
                else None,
            }
            for kind in copies
        ],
        "bottles": bottles,
        "bottle_a": next((b for b in bottles if b.label == "A"), None),
        "bottle_b": next((b for b in bottles if b.label == "B"), None),
        "timeline": timeline,
        "collectors": list(collection.collectors.order_by("username")),
        "printed_at": timezone.localtime(),
    }


def custody_form_pdf(collection: Collection, *, copies=(COPY_LABORATORY,)) -> bytes:
    return render_pdf(
        "testing/pdf/custody_form.html", custody_form_context(collection, copies=copies)
    )
