"""PDF rendering: a Django template through WeasyPrint, with Khmer shaped by Pango.

The fonts come from the system (Debian's ``fonts-khmeros``, installed by the set-up); the
stylesheet names them first for Khmer text. Khmer words get zero-width spaces so that lines
wrap (``probity.core.khmer.word_breaks``); templates use the ``khmer_breaks`` filter.
"""

from django.conf import settings
from django.template.loader import render_to_string

PDF_FONT_STACK = '"Khmer OS System", "Khmer OS", "Noto Sans Khmer", "DejaVu Sans", sans-serif'


def render_pdf(template_name: str, context: dict | None = None, *, request=None) -> bytes:
    from weasyprint import HTML  # imported late: it loads Pango, which the web pages never need

    html = render_to_string(
        template_name, {"pdf_font_stack": PDF_FONT_STACK, **(context or {})}, request=request
    )
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
