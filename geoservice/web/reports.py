"""The reports blueprint: A4 PDF reports, their HTML print preview, a province's batch.

    GET /reports/{province|commune|border}/{code}.pdf?year=&lang=   the PDF
    GET /reports/{province|commune|border}/{code}.html?year=&lang=  the same as a web page
    GET /reports/province/{code}/communes.zip?year=&lang=            every commune's PDF

HTTP in, `geoservice.reports` functions, bytes out. Reports hold figures only for whom
they were made (restricted sections depend on the key), so they are never cached by
shared caches. Errors are the JSON error shape, except on the HTML preview, which answers
with a readable page.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from flask import (
    Blueprint,
    Response,
    g,
    request,
    send_from_directory,
    stream_with_context,
)

from geoservice import access, i18n, services
from geoservice import params as P
from geoservice.errors import NotFound
from geoservice.render.fonts import FONT_FILES, font_path
from geoservice.reports.units import ReportRequest, parse_request

# The report modules (pandas, WeasyPrint) are imported by the views that use them, so that
# creating the app and every other request stay as quick as they were.

LOGGER = logging.getLogger(__name__)
blueprint = Blueprint("reports", __name__)
PARAMETERS = ("year", "lang")
FORMATS = ("pdf", "html")


def _node_modules():
    return services.current().node_modules


def _parse(kind: str, code: str, accepted: tuple[str, ...] = PARAMETERS) -> ReportRequest:
    P.known(request.args, accepted)
    lang = request.args.get("lang") or i18n.request_language()
    return parse_request(services.current().store, kind, code, request.args.get("year"), lang)


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "private, no-store"
    response.vary.add("X-API-Key")
    response.vary.add("Authorization")
    return response


@blueprint.get("/reports/<kind>/<code>.<fmt>")
@access.public
@access.heavy
def report(kind: str, code: str, fmt: str):
    """One report as a PDF, or its HTML print preview."""
    if fmt not in FORMATS:
        raise NotFound("A report is <code>.pdf or <code>.html.", parameter="format")
    if fmt == "html":
        return _preview(kind, code)
    from geoservice.reports.batch import report_filename
    from geoservice.reports.document import report_context
    from geoservice.reports.pdf import render_html, write_pdf

    parsed = _parse(kind, code)
    context = report_context(services.current(), parsed, g.principal)
    pdf = write_pdf(render_html(context, node_modules=_node_modules()), _node_modules())
    response = Response(pdf, mimetype="application/pdf")
    name = report_filename(parsed.unit.kind, parsed.unit.code, parsed.year, parsed.lang)
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    return _private(response)


def _preview(kind: str, code: str):
    """The HTML preview (its errors are the HTML error page: `geoservice.web.errors`)."""
    from geoservice.reports.document import report_context
    from geoservice.reports.pdf import render_html

    parsed = _parse(kind, code)
    context = report_context(services.current(), parsed, g.principal)
    return _private(Response(render_html(context, preview=True, node_modules=_node_modules()),
                             mimetype="text/html"))


@blueprint.get("/reports/province/<code>/communes.zip")
@access.public
@access.heavy
def communes_zip(code: str):
    """Every commune report of a province (or those of ?communes=a,b) as PDFs in a ZIP,
    streamed as they are made."""
    from geoservice.reports.batch import (
        commune_pdfs,
        report_filename,
        select_communes,
        zip_stream,
    )

    parsed = _parse("province", code, (*PARAMETERS, "communes"))
    province = select_communes(parsed.unit, request.args.get("communes"))
    files = commune_pdfs(services.current(), replace(parsed, unit=province), g.principal)
    response = Response(stream_with_context(zip_stream(files)), mimetype="application/zip")
    name = report_filename("communes", code, parsed.year, parsed.lang, "zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return _private(response)


@blueprint.get("/reports/assets/fonts/<name>")
@access.anyone  # a font file: no data
def font(name: str):
    """The report fonts (DejaVu Sans) for the HTML preview; nothing else is served."""
    if name not in FONT_FILES.values():
        raise NotFound(f"There is no report font '{name}'.")
    response = send_from_directory(font_path("regular", _node_modules()).parent.resolve(),
                                   name, mimetype="font/ttf")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


def openapi_paths() -> dict:
    """The report paths for the OpenAPI document."""
    parameters = [
        {"name": "kind", "in": "path", "required": True,
         "schema": {"type": "string", "enum": ["province", "commune", "border"]}},
        {"name": "code", "in": "path", "required": True,
         "description": "Province (2 digits), commune (5 digits) or border sector (CN, LA, KH)",
         "schema": {"type": "string"}},
        {"$ref": "#/components/parameters/year"},
        {"name": "lang", "in": "query", "required": False,
         "schema": {"type": "string", "enum": ["vi", "en"], "default": "vi"}},
    ]
    errors = {str(status): {"description": text, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"}}}}
        for status, text in ((400, "Invalid year or language"), (404, "Unknown unit"))}
    return {
        "/reports/{kind}/{code}.pdf": {"get": {
            "summary": "Printable A4 report of a province, commune or border sector",
            "operationId": "report_pdf", "parameters": parameters,
            "responses": {"200": {"description": "PDF", "content": {
                "application/pdf": {"schema": {"type": "string", "format": "binary"}}}},
                **errors}}},
        "/reports/{kind}/{code}.html": {"get": {
            "summary": "HTML print preview of the same report",
            "operationId": "report_html", "parameters": parameters,
            "responses": {"200": {"description": "HTML page", "content": {
                "text/html": {"schema": {"type": "string"}}}}, **errors}}},
        "/reports/province/{code}/communes.zip": {"get": {
            "summary": "Every commune report of a province (ZIP of PDFs, streamed)",
            "operationId": "report_communes_zip",
            "parameters": [*parameters[1:], {
                "name": "communes", "in": "query", "required": False,
                "description": "Comma-separated commune codes (default: every commune)",
                "schema": {"type": "string"}}],
            "responses": {"200": {"description": "ZIP", "content": {
                "application/zip": {"schema": {"type": "string", "format": "binary"}}}},
                **errors}}},
    }
