import re
import zlib

from probity.core.pdf import render_pdf


def _fonts(pdf: bytes) -> set[str]:
    return set(re.findall(rb"/BaseFont\s*/([A-Za-z0-9+_-]+)", pdf)) | {
        m
        for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S)
        for m in re.findall(rb"/BaseFont\s*/([A-Za-z0-9+_-]+)", _inflate(stream))
    }


def _inflate(data: bytes) -> bytes:
    try:
        return zlib.decompress(data)
    except zlib.error:
        return b""


def test_khmer_pdf_embeds_a_khmer_font():
    pdf = render_pdf(
        "core/pdf_sample.html",
        {"title": "ស្នងការដ្ឋាននគរបាលខេត្តសៀមរាប", "body": "សេចក្តីជូនដំណឹង " * 40},
    )
    assert pdf.startswith(b"%PDF-")
    names = b" ".join(_fonts(pdf))
    assert b"Khmer" in names, names
