"""Report HTML (the Jinja templates in templates/reports/) and its PDF (WeasyPrint).

The PDF and the HTML print preview come from the same template; only the font URLs
differ: the PDF embeds DejaVu Sans from the npm package through ``file://`` URLs, the
preview page gets the same files from this service. WeasyPrint may read nothing but those
font files and ``data:`` URLs (the map and legends), so a report never reaches out.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import unquote, urlsplit

import weasyprint
from flask import render_template, url_for

from geoservice.render.fonts import FONT_FILES, font_path

LOGGER = logging.getLogger(__name__)
TEMPLATE = "reports/report.html"
STYLESHEET = "reports/report.css"
# A tagged PDF (WeasyPrint's `pdf_tags`). Not the PDF/UA or PDF/A variants: WeasyPrint
# writes their markers without checking the document meets them.
PDF_OPTIONS = {"pdf_tags": True}


def font_urls(node_modules=None, preview: bool = False) -> dict[str, str]:
    """The URL of each font style: file:// for the PDF, this service's for the preview."""
    if preview:
        return {style: url_for("reports.font", name=name) for style, name in FONT_FILES.items()}
    return {style: font_path(style, node_modules).resolve().as_uri() for style in FONT_FILES}


def render_html(context: dict, preview: bool = False, node_modules=None,
                template: str = TEMPLATE) -> str:
    """Render a report (or a batch's contents page) to one HTML page with its CSS inline."""
    css = render_template(STYLESHEET, fonts=font_urls(node_modules, preview), **context)
    return render_template(template, css=css, preview=preview, **context)


def layout(html: str, node_modules=None) -> weasyprint.Document:
    """Lay the HTML out on its pages (WeasyPrint), fetching only our fonts and data: URLs."""
    folder = font_path("regular", node_modules).parent.resolve()
    return weasyprint.HTML(string=html, url_fetcher=_ReportFetcher(folder)).render()


def write_pdf(html: str, node_modules=None) -> bytes:
    """The PDF of one report's HTML."""
    return write_document(layout(html, node_modules))


def write_document(document: weasyprint.Document) -> bytes:
    """The PDF of a laid-out document: tagged (its structure and language readable by
    screen readers), with the metadata of the HTML head: title, author, creation date,
    keywords, language (``<html lang>``)."""
    return document.write_pdf(**PDF_OPTIONS)


class _ReportFetcher(weasyprint.URLFetcher):
    """Fetches data: URLs and our font files; refuses everything else."""

    def __init__(self, folder: Path):
        super().__init__(allowed_protocols=("data", "file"), allow_redirects=False)
        self.folder = folder

    def fetch(self, url, headers=None):
        """Fetch `url` if it is a data: URL or one of the report fonts."""
        if url.startswith("file:"):
            path = Path(unquote(urlsplit(url).path)).resolve()
            if path.parent != self.folder or path.name not in FONT_FILES.values():
                LOGGER.warning("a report tried to load %s; refused", url)
                raise ValueError(f"reports load only their fonts and images, not {url}")
        return super().fetch(url, headers)
