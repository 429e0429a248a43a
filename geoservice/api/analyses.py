"""The analyses API as plain functions (no Flask): run documents, links, tables, CSV.

The blueprint (`geoservice.web.analyses`) adapts HTTP to these and back.
"""

from __future__ import annotations

import csv
import hashlib
import io
from urllib.parse import urlencode

from geoservice.errors import InvalidParameter
from geoservice.hotspots import emerging
from geoservice.hotspots.runs import Result, Run
from geoservice.store import FeatureQuery

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
GISTAR_LAYERS = {"communes": "hotspots-gistar", "hex": "hotspots-gistar-hex"}
QUERY = (("category", "string"), ("period", "string"), ("year", "integer"),
         ("province_code", "string"), ("border_neighbor", "string"), ("border_band", "string"),
         ("cell_km", "number"), ("bandwidth_km", "number"), ("zones", "string"),
         ("size_km", "number"), ("weights", "string"), ("distance_km", "number"),
         ("step", "string"))


def run_document(run: Run, base: str, data_version: str, notice: str | None) -> dict:
    """The run as the API shows it: status, progress, parameters, result, links."""
    doc = run.as_dict()
    doc["current"] = run.data_version == data_version
    doc["links"] = links(run, base)
    if notice:
        doc["notice"] = notice
    return doc


def links(run: Run, base: str) -> list[dict]:
    """Where the run and its result can be read."""
    params = run.params
    query = params.query()
    qs = f"?{urlencode(query)}" if query else ""
    out = [{"rel": "self", "href": f"{base}/analyses/runs/{run.id}",
            "type": "application/json"}]
    if params.method == "density":
        out += [{"rel": "tiles", "type": "image/png",
                 "href": f"{base}/analyses/density/{{z}}/{{x}}/{{y}}.png{qs}"},
                {"rel": "legend", "type": "application/json",
                 "href": f"{base}/analyses/density/legend.json{qs}"},
                {"rel": "legend", "type": "image/png",
                 "href": f"{base}/analyses/density/legend.png{qs}"},
                {"rel": "enclosure", "type": "image/tiff; application=geotiff",
                 "href": f"{base}/analyses/density.tif{qs}"}]
    elif params.method in ("gistar", "emerging"):
        layer = GISTAR_LAYERS[params.zones] if params.method == "gistar" \
            else "hotspots-emerging"
        layer_query = {k: v for k, v in query.items()
                       if not (params.method == "gistar" and k == "zones")}
        layer_qs = f"?{urlencode(layer_query)}" if layer_query else ""
        out += [{"rel": "tiles", "type": "application/vnd.mapbox-vector-tile",
                 "href": f"{base}/tiles/{layer}/{{z}}/{{x}}/{{y}}.mvt{layer_qs}"},
                {"rel": "tiles", "type": "image/png",
                 "href": f"{base}/tiles/{layer}/{{z}}/{{x}}/{{y}}.png{layer_qs}"},
                {"rel": "legend", "type": "application/json",
                 "href": f"{base}/tiles/{layer}/legend.json{layer_qs}"},
                {"rel": "data", "type": "application/geo+json",
                 "href": f"{base}/analyses/{params.method}/zones.geojson{qs}"}]
    if params.method in ("emerging", "border"):
        for fmt, mime in (("json", "application/json"), ("csv", "text/csv")):
            table = {**query, "format": "csv"} if fmt == "csv" else query
            out.append({"rel": "table", "type": mime,
                        "href": f"{base}/analyses/{params.method}/table"
                                + (f"?{urlencode(table)}" if table else "")})
    return out


def emerging_table(store, result: Result) -> dict:
    """Zones per emerging pattern for each province of the result."""
    table = emerging.province_table(result.frame())
    names = province_names(store)
    rows = [{"province_code": row["province_code"],
             "province_name": names.get(row["province_code"]),
             **{k: int(v) for k, v in row.items() if k != "province_code"}}
            for row in table.to_dict("records")]
    return {"steps": result.summary.get("steps"), "step": result.summary.get("step"),
            "patterns": list(emerging.PATTERNS), "rows": rows}


def province_names(store) -> dict[str, str]:
    """Province code -> full name."""
    page = store.query("provinces", FeatureQuery(limit=100, geometry=False))
    return {fid: props.get("full_name") or props.get("name") for fid, props, _g in page.features}


def etag(data: bytes) -> str:
    """A strong ETag value for bytes (unquoted)."""
    return hashlib.sha256(data).hexdigest()[:32]


def table_format(args) -> str:
    """The ``format`` parameter of a table: json (default) or csv."""
    fmt = args.get("format", "json")
    if fmt not in ("json", "csv"):
        raise InvalidParameter("format must be 'json' or 'csv'.", parameter="format")
    return fmt


def neutralise(value):
    """Prefix a quote to text a spreadsheet would run as a formula (= + - @)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_bytes(rows: list[dict], columns: list[str], notice: str | None = None) -> bytes:
    """Rows as CSV (UTF-8 with BOM for Excel); text cells neutralised; a notice column."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns + (["notice"] if notice else []))
    for row in rows:
        cells = ["" if row.get(c) is None else neutralise(row.get(c)) for c in columns]
        writer.writerow(cells + ([notice] if notice else []))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def openapi_paths() -> dict:
    """The analyses endpoints for the OpenAPI document."""
    ref = {"$ref": "#/components/schemas/Error"}
    errors = {str(code): {"description": text, "content": {"application/json": {
        "schema": ref}}} for code, text in ((400, "Invalid parameter"), (401, "No key"),
                                            (403, "Outside your area"))}
    obj = {"type": "object"}
    accepted = {"202": {"description": "Not computed yet: the run, to follow at Location",
                        "content": {"application/json": {"schema": obj}}}}
    query = [{"name": name, "in": "query", "required": False, "schema": {"type": kind}}
             for name, kind in QUERY]

    def ok(text: str, *types: str, schema=None) -> dict:
        body = schema or {"type": "string", "format": "binary"}
        return {"200": {"description": text, "content": {
            kind: {"schema": obj if "json" in kind else body} for kind in types}}}

    def get(op_id: str, summary: str, parameters: list, responses: dict) -> dict:
        return {"get": {"operationId": op_id, "summary": summary, "parameters": parameters,
                        "responses": {**responses, **errors}}}

    method = {"name": "method", "in": "path", "required": True,
              "schema": {"type": "string", "enum": ["density", "gistar", "emerging",
                                                    "border"]}}
    run = {**ok("The finished run with its result", "application/json"), **accepted}
    body = {"required": False, "content": {"application/json": {"schema": {
        "type": "object", "properties": {name: {"type": kind} for name, kind in QUERY}}}}}
    tile = [{"name": n, "in": "path", "required": True,
             "schema": {"type": "integer", "minimum": 0}} for n in ("z", "x", "y")]
    table = [*query, {"name": "format", "in": "query", "required": False,
                      "schema": {"type": "string", "enum": ["json", "csv"]}}]
    zones = {"name": "method", "in": "path", "required": True,
             "schema": {"type": "string", "enum": ["gistar", "emerging"]}}
    tables = {"name": "method", "in": "path", "required": True,
              "schema": {"type": "string", "enum": ["emerging", "border"]}}
    return {
        "/analyses/{method}": {
            **get("analysis_run", "Run an analysis (or find it done)", [method, *query], run),
            "post": {"operationId": "analysis_run_post", "summary": "Run an analysis",
                     "parameters": [method, *query], "requestBody": body,
                     "responses": {**run, **errors}}},
        "/analyses/runs/{runId}": get(
            "analysis_status", "A run's status, progress and result",
            [{"name": "runId", "in": "path", "required": True, "schema": {"type": "string"}}],
            ok("The run", "application/json")),
        "/analyses/density/{z}/{x}/{y}.png": get(
            "density_tile", "Density tile (PNG, transparent where no incidents)",
            [*tile, *query], ok("PNG tile", "image/png")),
        "/analyses/density/legend.json": get(
            "density_legend", "Density legend (incidents per km²)",
            [*query, {"name": "lang", "in": "query", "required": False,
                      "schema": {"type": "string", "enum": ["vi", "en"]}}],
            {**ok("Legend", "application/json"), **accepted}),
        "/analyses/density.tif": get(
            "density_geotiff", "Density surface as a Cloud-Optimised GeoTIFF", query,
            {**ok("GeoTIFF", "image/tiff"), **accepted}),
        "/analyses/{method}/zones.geojson": get(
            "analysis_zones", "Every zone of a Gi* or emerging result", [zones, *query],
            {**ok("GeoJSON", "application/geo+json", schema=obj), **accepted}),
        "/analyses/{method}/table": get(
            "analysis_table", "Emerging patterns per province, or the border view (JSON, or "
            "CSV with format=csv)", [tables, *table],
            {**ok("Table", "application/json", "text/csv"), **accepted}),
    }
