"""HTML to PDF with WeasyPrint: PDF/A-3u, fonts embedded, so documents keep and extract well."""

import threading

from flask import render_template

from grantflow.core.config import resource_dir


class PdfUnavailable(RuntimeError):
    """WeasyPrint cannot load its system libraries (Pango); the message says what to install."""


def _weasyprint():
    try:
        import weasyprint  # noqa: PLC0415 - here, so a missing Pango becomes a clear message
    except OSError as error:  # Pango or one of its libraries is missing
        raise PdfUnavailable(
            "PDF rendering needs Pango: sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0 "
            f"fonts-dejavu-core ({error})"
        ) from error
    return weasyprint


_local = threading.local()


def _font_config():
    """One font configuration per thread, kept: the documents' @font-face fonts are then
    loaded once, not for every PDF (a fifth of the time). Pango's font map is not shared
    between threads."""
    if getattr(_local, "fonts", None) is None:
        from weasyprint.text.fonts import FontConfiguration  # noqa: PLC0415 - WeasyPrint loads lazily (above)

        _local.fonts = FontConfiguration()
    return _local.fonts


def html_to_pdf(html: str) -> bytes:
    """Also the batch's worker function: needs no application, only the HTML."""
    weasyprint = _weasyprint()
    document = weasyprint.HTML(string=html, base_url=str(resource_dir("templates") / "documents"))
    return document.write_pdf(pdf_variant="pdf/a-3u", custom_metadata=False, font_config=_font_config())


def render_pdf(template: str, **context) -> bytes:
    """Render `templates/<template>` with `context` and return the PDF bytes."""
    html = render_template(template, **context)
    return html_to_pdf(html)
