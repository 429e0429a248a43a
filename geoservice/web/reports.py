"""The reports blueprint: PDF reports (A4 or A3), their HTML print preview, a province's batch.

    GET /reports/{province|commune|border}/{code}.pdf?year=&lang=   the PDF
    GET /reports/{province|commune|border}/{code}.html?year=&lang=  the same as a web page
    GET /reports/{province|commune|border}/{code}.xlsx|.csv          its tables
    GET /reports/province/{code}/communes.zip?year=&lang=            every commune's PDF

    POST /reports/province/{code}/batches?format=zip|pdf             the same in the background
    GET|DELETE /reports/batches/{id}, GET /reports/batches/{id}/download

Reports also take `page` (a4, a4-landscape, a3, a3-landscape) and, one report at a time,
`number`, `signer_title`, `signer_name` (`geoservice.reports.heading`).

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
    current_app,
    g,
    jsonify,
    request,
    send_file,
    send_from_directory,
    stream_with_context,
    url_for,
)

from geoservice import access, i18n, services
from geoservice import params as P
from geoservice.errors import DataConflict, NotFound
from geoservice.memory import give_back
from geoservice.render.fonts import FONT_FILES, font_path
from geoservice.reports.heading import NUMBER_CHARS, OPTIONS, SIGNER_CHARS, parse_options
from geoservice.reports.pages import DEFAULT_PAGE, PAGES
from geoservice.reports.units import ReportRequest, parse_request

# The report modules (pandas, WeasyPrint) are imported by the views that use them, so that
# creating the app and every other request stay as quick as they were.

LOGGER = logging.getLogger(__name__)
blueprint = Blueprint("reports", __name__)
PARAMETERS = ("year", "lang")
BATCH_OPTIONS = ("page",)  # a batch's reports share their page format, not a number
FORMATS = ("pdf", "html", "xlsx", "csv")
TABLE_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               "csv": "text/csv"}
MEDIA_TYPES = {"zip": "application/zip", "pdf": "application/pdf"}


def _node_modules():
    return services.current().node_modules


def _parse(kind: str, code: str, accepted: tuple[str, ...] = (*PARAMETERS, *OPTIONS),
           options: tuple[str, ...] = OPTIONS) -> ReportRequest:
    P.known(request.args, accepted)
    lang = request.args.get("lang") or i18n.request_language()
    return parse_request(services.current().store, kind, code, request.args.get("year"), lang,
                         parse_options(request.args, options))


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
        raise NotFound("A report is <code>.pdf or <code>.html (its tables: <code>.xlsx or "
                       "<code>.csv).", parameter="format")
    if fmt == "html":
        return _preview(kind, code)
    if fmt in TABLE_TYPES:
        return _tables(kind, code, fmt)
    from geoservice.reports.batch import report_filename
    from geoservice.reports.document import report_context
    from geoservice.reports.pdf import render_html, write_pdf

    parsed = _parse(kind, code)
    context = report_context(services.current(), parsed, g.principal)
    pdf = write_pdf(render_html(context, node_modules=_node_modules()), _node_modules())
    give_back()  # the laid-out pages are freed
    response = Response(pdf, mimetype="application/pdf")
    name = report_filename(parsed.unit.kind, parsed.unit.code, parsed.year, parsed.lang)
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    return _private(response)


def _tables(kind: str, code: str, fmt: str):
    """The report's tables as XLSX or CSV: the same figures as its PDF."""
    from geoservice.reports.batch import report_filename
    from geoservice.reports.document import report_context
    from geoservice.reports.tables import to_csv, to_xlsx

    parsed = _parse(kind, code, PARAMETERS, ())
    context = report_context(services.current(), parsed, g.principal)
    data = to_xlsx(context) if fmt == "xlsx" else to_csv(context)
    response = Response(data, mimetype=TABLE_TYPES[fmt])
    name = report_filename(parsed.unit.kind, parsed.unit.code, parsed.year, parsed.lang, fmt)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
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
        batch_limit,
        check_batch,
        commune_pdfs,
        report_filename,
        select_communes,
        zip_stream,
    )

    parsed = _parse("province", code, (*PARAMETERS, *BATCH_OPTIONS, "communes"),
                    BATCH_OPTIONS)
    province = select_communes(parsed.unit, request.args.get("communes"))
    current = services.current()
    batch = replace(parsed, unit=province)
    check_batch(current.store, batch, batch_limit(current.settings, g.principal))
    files = commune_pdfs(current, batch, g.principal)
    response = Response(stream_with_context(zip_stream(files)), mimetype="application/zip")
    name = report_filename("communes", code, parsed.year, parsed.lang, "zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return _private(response)


def _jobs():
    from geoservice.reports.jobs import BatchJobs

    current = services.current()
    return current.remembered("report_batches",
                              lambda: BatchJobs(current.instance_path / "report-batches"))


@blueprint.post("/reports/province/<code>/batches")
@access.public
@access.heavy
def start_batch(code: str):
    """Start making a province's commune reports in the background (?format=zip|pdf):
    202 with the job, whose Location is followed for progress and the download."""
    from geoservice.reports.batch import (
        batch_limit,
        batch_pdf,
        check_batch,
        commune_pdfs,
        report_filename,
        select_communes,
        zip_stream,
    )
    from geoservice.reports.jobs import owner_of

    parsed = _parse("province", code, (*PARAMETERS, *BATCH_OPTIONS, "communes", "format"),
                    BATCH_OPTIONS)
    fmt = P.choice(tuple(MEDIA_TYPES))(request.args.get("format", "zip"), "format")
    current = services.current()
    batch = replace(parsed, unit=select_communes(parsed.unit, request.args.get("communes")))
    check_batch(current.store, batch, batch_limit(current.settings, g.principal))
    principal = g.principal

    def make(progress, out) -> None:
        if fmt == "pdf":
            out.write_bytes(batch_pdf(current, batch, principal, progress)[0])
            return
        with out.open("wb") as file:
            for chunk in zip_stream(commune_pdfs(current, batch, principal, progress)):
                file.write(chunk)

    name = report_filename("communes", code, parsed.year, parsed.lang, fmt)
    job = _jobs().start(current_app._get_current_object(), make, owner_of(principal), fmt,
                        name, len(batch.unit.communes), parsed.lang)
    return _job_response(job, 202)


def _job_response(job, status: int = 200) -> Response:
    url = url_for("reports.batch_status", job_id=job.id)
    doc = {**job.describe(), "links": [{"rel": "self", "href": url,
                                        "type": "application/json"}]}
    if job.status == "done":
        doc["links"].append({"rel": "enclosure", "href": url_for(
            "reports.batch_download", job_id=job.id), "type": MEDIA_TYPES[job.fmt]})
    response = jsonify(doc)
    response.status_code = status
    if status == 202:
        response.headers["Location"] = url
    if job.status in ("queued", "running"):
        response.headers["Retry-After"] = "5"
    return _private(response)


def _job(job_id: str):
    from geoservice.reports.jobs import owner_of

    P.known(request.args, ())
    return _jobs().get(job_id, owner_of(g.principal))


@blueprint.get("/reports/batches/<job_id>")
@access.public
def batch_status(job_id: str):
    """A background batch's status and progress; its download link once done."""
    return _job_response(_job(job_id))


@blueprint.delete("/reports/batches/<job_id>")
@access.public
def cancel_batch(job_id: str):
    """Cancel a background batch (it stops before its next commune)."""
    job = _job(job_id)
    _jobs().cancel(job)
    return _job_response(job)


@blueprint.get("/reports/batches/<job_id>/download")
@access.public
def batch_download(job_id: str):
    """The finished batch: the ZIP of PDFs, or the one PDF with its contents page."""
    job = _job(job_id)
    if job.status != "done":
        raise DataConflict(f"The report batch is {job.status} ({job.percent} %): download "
                           "it when its status is done.", parameter="job")
    response = send_file(job.path, mimetype=MEDIA_TYPES[job.fmt], as_attachment=True,
                         download_name=job.filename, max_age=0)
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


PAGE_PARAMETER = {"name": "page", "in": "query", "required": False,
                  "description": "Paper: A4 or A3, portrait or landscape",
                  "schema": {"type": "string", "enum": list(PAGES), "default": DEFAULT_PAGE}}


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
        PAGE_PARAMETER,
        {"name": "number", "in": "query", "required": False,
         "description": "Document number: 15/BC-CAT, or 15 (printed 15/BC); default a blank",
         "schema": {"type": "string", "maxLength": NUMBER_CHARS}},
        *({"name": name, "in": "query", "required": False, "description": text,
           "schema": {"type": "string", "maxLength": SIGNER_CHARS}}
          for name, text in (("signer_title", "The signer's title (printed in capitals)"),
                             ("signer_name", "The signer's name"))),
    ]
    errors = {str(status): {"description": text, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"}}}}
        for status, text in ((400, "Invalid year, language or option; a batch too large or "
                                   "for a year without records"), (404, "Unknown unit"))}
    return {
        "/reports/{kind}/{code}.pdf": {"get": {
            "summary": "Printable report (A4 or A3) of a province, commune or border sector",
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
            "parameters": [*parameters[1:5], {
                "name": "communes", "in": "query", "required": False,
                "description": "Comma-separated commune codes (default: every commune)",
                "schema": {"type": "string"}}],
            "responses": {"200": {"description": "ZIP", "content": {
                "application/zip": {"schema": {"type": "string", "format": "binary"}}}},
                **errors}}},
        **{f"/reports/{{kind}}/{{code}}.{fmt}": {"get": {
            "summary": f"The report's tables as {fmt.upper()} (the same figures as its PDF)",
            "operationId": f"report_{fmt}", "parameters": parameters[:4],
            "responses": {"200": {"description": fmt.upper(), "content": {
                media: {"schema": {"type": "string", "format": "binary"}}}}, **errors}}}
            for fmt, media in TABLE_TYPES.items()},
        **_job_paths(parameters, errors),
    }


def _job_paths(parameters: list, errors: dict) -> dict:
    """The background batches' paths for the OpenAPI document."""
    job = [{"name": "job_id", "in": "path", "required": True, "schema": {"type": "string"}}]
    status = {"description": "The job: status (queued, running, done, failed, cancelled), "
                             "progress {done, total, percent}, links (enclosure: the file)",
              "content": {"application/json": {"schema": {"type": "object"}}}}
    return {
        "/reports/province/{code}/batches": {"post": {
            "summary": "Start a province's commune reports in the background",
            "operationId": "report_batch_start",
            "parameters": [*parameters[1:5], *({
                "name": name, "in": "query", "required": False, "description": text,
                "schema": schema} for name, text, schema in (
                ("communes", "Comma-separated commune codes (default: every commune)",
                 {"type": "string"}),
                ("format", "zip (one PDF per commune) or pdf (one PDF with contents)",
                 {"type": "string", "enum": list(MEDIA_TYPES), "default": "zip"})))],
            "responses": {"202": {**status, "headers": {"Location": {
                "description": "The job", "schema": {"type": "string"}}}}, **errors}}},
        "/reports/batches/{job_id}": {
            "get": {"summary": "A background batch's status and progress",
                    "operationId": "report_batch_status", "parameters": job,
                    "responses": {"200": status, "404": errors["404"]}},
            "delete": {"summary": "Cancel a background batch",
                       "operationId": "report_batch_cancel", "parameters": job,
                       "responses": {"200": status, "404": errors["404"]}}},
        "/reports/batches/{job_id}/download": {"get": {
            "summary": "The finished batch (ZIP or PDF)", "operationId": "report_batch_file",
            "parameters": job,
            "responses": {"200": {"description": "ZIP or PDF", "content": {
                media: {"schema": {"type": "string", "format": "binary"}}
                for media in MEDIA_TYPES.values()}}, "404": errors["404"],
                "409": {"description": "Not finished yet"}}}},
    }
