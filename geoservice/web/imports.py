"""The imports blueprint: officials' CSV and Excel files uploaded over HTTP.

`POST /imports/{kind}` with the file as multipart field `file` (and, for VN-2000
coordinates, `vn2000_meridian` or `utm_zone`; `column=field=header`, repeatable, for
headers that are not recognised) runs the same import as `geoservice import`: every row
validated first, then all rows applied in one transaction or none. Answers 201 with the
counts written, or 422 with the row-level error report — as JSON, or as CSV with
`?format=csv`. With `dry_run=1` (query or form) nothing is stored: 200 with what would be
written, row by row, or 422 with the errors. Needs an editor's API key; a province editor's
file may only hold rows of its province. `GET /imports` lists the imports made.

Official boundaries and the official border-commune list, for national administrators:
`POST /imports/boundaries` (field `file`: a GeoPackage, GeoJSON or a .zip of a Shapefile;
`crs`, `province`, `column=code=…`/`column=name=…`, `dry_run`) loads a new boundary version
as `geoservice import-boundaries` does; `POST /imports/border-designation` (a CSV or Excel
file; `province`, `dry_run`) as `geoservice import border-designation`. Both answer 201
with the report, 200 for a dry run, 422 with the row errors, or the one JSON error shape
for a file refused as a whole (e.g. no coordinate system: 422 naming the likely zones).
"""

from __future__ import annotations

from flask import Blueprint, Response, g, jsonify, request

from geoservice import access, audit, services
from geoservice import params as P
from geoservice.access import decide_write
from geoservice.errors import GeoserviceError, InvalidParameter
from geoservice.records.importer import (
    audit_import,
    column_mapping,
    coordinate_options,
    run_import,
)
from geoservice.records.kinds import KINDS
from geoservice.records.parsing.report import errors_csv

blueprint = Blueprint("imports", __name__)
OPTIONS = {"vn2000_meridian", "utm_zone", "format", "column", "dry_run"}
DRY_RUN = P.Parameter("dry_run", P.choice(("0", "1", "false", "true")),
                      {"type": "string", "enum": ["0", "1", "false", "true"]},
                      "Check the file and answer what would be written; store nothing")
PROVINCE = P.Parameter("province", P.province_code, {"type": "string", "pattern": "^[0-9]{2}$"},
                       "Only units of this 2025 province, e.g. 08")
COLUMN = P.Parameter("column", P.text(300), {"type": "string"},
                     "field=header: the column holding a field whose header is not "
                     "recognised, e.g. reviewed=Số được xét (repeatable)")


@blueprint.post("/imports/boundaries")
@access.admin
@access.heavy
def upload_boundaries():
    """Load an uploaded official boundary file as a new boundary version."""
    import tempfile
    from pathlib import Path

    from geoservice.boundaries.official import import_boundaries

    params, upload, filename = _official_upload({"crs", "province", "column", "dry_run"})
    columns = column_mapping([COLUMN.parse(v) for v in (*request.args.getlist("column"),
                                                        *request.form.getlist("column"))])
    current = services.current()
    node_modules = Path(current.node_modules) if current.node_modules else None
    data = upload.read()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / filename
        path.write_bytes(data)
        report = _official(lambda: import_boundaries(
            current.store, path, g.principal.name, crs=params.get("crs") or None,
            province=PROVINCE.get(params), columns=columns,
            dry_run=DRY_RUN.get(params, "0") in ("1", "true"), node_modules=node_modules),
            "boundaries", filename, data)
    return _official_answer(report)


@blueprint.post("/imports/border-designation")
@access.admin
@access.heavy
def upload_designation():
    """Load an uploaded official list of border communes."""
    from geoservice.boundaries.designation import import_designation

    params, upload, filename = _official_upload({"province", "dry_run"})
    data = upload.read()
    report = _official(lambda: import_designation(
        services.current().store, data, filename, g.principal.name,
        province=PROVINCE.get(params),
        dry_run=DRY_RUN.get(params, "0") in ("1", "true")),
        "border-designation", filename, data)
    return _official_answer(report)


def _official_upload(options: set[str]):
    params = {**request.args.to_dict(), **request.form.to_dict()}
    P.known({k: v for k, v in params.items() if k != "csrf_token"}, {"file", *options})
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InvalidParameter("Send the file as the multipart form field 'file'.",
                               parameter="file")
    return params, upload, clean_filename(upload.filename)


def _official(run, kind: str, filename: str, data: bytes):
    """Run an official import, its audit row written whatever the outcome."""
    from geoservice.boundaries.official_report import audit_boundary_import

    store = services.current().store
    try:
        report = run()
    except GeoserviceError as error:  # refused as a whole: nothing written
        audit_boundary_import(store, g.principal.name, kind, filename, data, None,
                              error.message, request.remote_addr)
        raise
    audit_boundary_import(store, g.principal.name, kind, filename, data, report,
                          remote_addr=request.remote_addr)
    return report


def _official_answer(report):
    response = jsonify(report.as_dict())
    response.status_code = {"applied": 201, "preview": 200}.get(report.status, 422)
    return response


@blueprint.post("/imports/<kind>")
@access.editor
@access.heavy
def upload(kind: str):
    """Import one uploaded file of `kind` records (all rows, or none)."""
    if kind not in KINDS:
        raise InvalidParameter(f"Unknown kind '{kind}'. Kinds: {', '.join(KINDS)}.",
                               parameter="kind")
    decision = decide_write(g.principal, kind)
    params = {**request.args.to_dict(), **request.form.to_dict()}
    P.known({k: v for k, v in params.items() if k != "csrf_token"}, {"file", *OPTIONS})
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InvalidParameter("Send the file as the multipart form field 'file'.",
                               parameter="file")
    store, filename = services.current().store, clean_filename(upload.filename)
    options = _coordinate_options(params)
    columns = column_mapping([COLUMN.parse(v) for v in (*request.args.getlist("column"),
                                                        *request.form.getlist("column"))])
    dry_run = DRY_RUN.get(params, "0") in ("1", "true")
    data = upload.read()
    try:
        report = run_import(store, kind, data, filename, g.principal.name,
                            area=decision.province_code, columns=columns, dry_run=dry_run,
                            **options)
    except GeoserviceError as error:  # the file as a whole is unreadable: nothing written
        audit.import_refused(store, g.principal.name, kind, filename, data, error.message,
                             request.remote_addr)
        raise
    audit_import(store, g.principal.name, report, data, request.remote_addr)
    from geoservice.indicators import published

    if published.wrote(report):  # the map's indicators of the new data, computed once for
        # every worker by a short-lived process while the import answers; readers wait for it
        here = services.current()
        version = published.announce(store)
        here.after_imports.submit(published.publish_in_child, store, here.settings, version)
    status = {"applied": 201, "preview": 200}.get(report.status, 422)
    if params.get("format") == "csv":
        return Response(errors_csv(report.errors), status=status,
                        mimetype="text/csv", headers={
                            "Content-Disposition": f'attachment; filename="{kind}-errors.csv"'})
    response = jsonify(report.as_dict())
    response.status_code = status
    return response


@blueprint.get("/imports")
@access.editor
def imports():
    """The imports made (newest first): every one for national editors, else one's own."""
    principal = g.principal
    decide_write(principal, "any")
    P.known(request.args, ("kind",))
    kind = P.Parameter("kind", P.choice(KINDS)).get(request.args)
    rows = services.current().store.imports(kind)
    if principal.province_code is not None:
        rows = [r for r in rows if r.get("imported_by") == principal.name]
    return jsonify({"imports": rows})


def clean_filename(name: str) -> str:
    """The uploaded file's own name, as a label: no folders, no control characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in base if c.isprintable()).strip()
    return base[:200] or "upload"


def _coordinate_options(params: dict) -> dict:
    P.Parameter("format", P.choice(("json", "csv"))).get(params)
    meridian, zone = params.get("vn2000_meridian"), params.get("utm_zone")
    try:
        meridian = float(meridian) if meridian is not None else None
    except ValueError:
        raise InvalidParameter("vn2000_meridian must be a number, e.g. 105.5.",
                               parameter="vn2000_meridian") from None
    P.Parameter("utm_zone", P.choice(("48", "49"))).get(params)
    return coordinate_options(meridian, int(zone) if zone else None)
