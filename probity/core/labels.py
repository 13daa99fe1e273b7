"""Machine-readable labels as SVG text: Code 128 (python-barcode) and QR (segno).

Both return an ``<svg>`` element without an XML declaration, sized in millimetres, ready to
be placed inline in a page or in a PDF template (``{{ svg|safe }}``: the payload is escaped
by the libraries). Nothing here touches the network or the file system.
"""

from __future__ import annotations

import io
import re

import barcode
import segno
from barcode.writer import SVGWriter

_PROLOGUE = re.compile(r"^\s*(<\?xml[^>]*\?>)?\s*(<!DOCTYPE[^>]*>)?\s*", re.S)
_STYLE = re.compile(r'style="([^"]*)"')
_COMMENT = re.compile(r"<!--.*?-->", re.S)


def _strip_prologue(svg: str) -> str:
    """Only the ``<svg>`` element: an XML declaration or a doctype is not allowed inline."""
    return _PROLOGUE.sub("", svg, count=1)


def _presentation_attributes(svg: str) -> str:
    """``style="fill:black;"`` as ``fill="black"``: WeasyPrint's SVG renderer reads
    presentation attributes but not inline styles, and would paint the white background
    rectangle black. The fixed ``id`` python-barcode adds is dropped too (two barcodes on one
    page would share it)."""

    def attributes(match: re.Match) -> str:
        pairs = [p.split(":", 1) for p in match.group(1).split(";") if ":" in p]
        return " ".join(f'{name.strip()}="{value.strip()}"' for name, value in pairs)

    svg = _COMMENT.sub("", svg).replace(' id="barcode_group"', "")
    return _STYLE.sub(attributes, svg)


def code128_svg(
    payload: str,
    *,
    module_width_mm: float = 0.25,
    height_mm: float = 10.0,
    human_readable: bool = True,
    font_size: int = 8,
    quiet_zone_mm: float = 2.5,
) -> str:
    """A Code 128 barcode of ``payload``. The default module (0.25 mm, ~10 mil) scans with
    ordinary handheld scanners from a laser or thermal print; the human-readable line under
    the bars repeats the payload."""
    if not payload:
        raise ValueError("A barcode needs something to encode.")
    code = barcode.get("code128", payload, writer=SVGWriter())
    svg = code.render(
        writer_options={
            "module_width": module_width_mm,
            "module_height": height_mm,
            "quiet_zone": quiet_zone_mm,
            "font_size": font_size,
            "text_distance": 3,
            "write_text": human_readable,
            "background": "white",
            "foreground": "black",
        }
    )
    return _presentation_attributes(_strip_prologue(svg.decode("utf-8")))


def qr_svg(
    payload: str, *, module_mm: float = 0.8, border: int = 2, error: str = "m", title: str = ""
) -> str:
    """A QR code of ``payload`` (error correction M by default: it survives a scratched or
    wet label), each module ``module_mm`` millimetres."""
    if not payload:
        raise ValueError("A QR code needs something to encode.")
    buffer = io.BytesIO()
    segno.make(payload, error=error, micro=False).save(
        buffer,
        kind="svg",
        scale=module_mm,
        unit="mm",
        border=border,
        xmldecl=False,
        svgns=True,
        title=title or payload,
        nl=False,
    )
    return _strip_prologue(buffer.getvalue().decode("utf-8"))
