"""The OpenAPI description of the tiles, imports, sign-in and administration routes, and the
statuses every route may answer because of access control.

`complete(paths)` adds these paths and, to every operation (also those other modules
documented), the error answers the request guard can give: 401 (no or a bad key, or a
restricted layer), 403 (outside the caller's role, area or key scope), 503 (store
unavailable), and 429 on rate-limited routes. An operation answering an HTML page answers
its errors with a readable page too, so its error answers also list text/html. Callers
send an API key in the `X-API-Key` header (or `Authorization: Bearer`), or use the session
cookie of /login.
"""

from __future__ import annotations

from flask import has_app_context

from geoservice import params as P
from geoservice import services
from geoservice.records.kinds import KINDS

ERROR = {"$ref": "#/components/schemas/Error"}
TEXTS = {"400": "Invalid parameter", "401": "Sign in or send an API key (X-API-Key)",
         "403": "Outside your role, area or key scope", "404": "Not found",
         "409": "Boundaries changed meanwhile (another load committed first): try again",
         "413": "File too large", "429": "Too many requests (rate limit)",
         "503": "Store unavailable or data not built"}
COMMON = ("400", "401", "403", "404", "503")
MVT, PNG = "application/vnd.mapbox-vector-tile", "image/png"


def _errors(*codes: str) -> dict:
    return {code: {"description": TEXTS[code], "content": {"application/json": {
        "schema": ERROR}}} for code in codes}


def _ok(description: str, content_type: str = "application/json", schema=None) -> dict:
    return {"200": {"description": description, "content": {content_type: {
        "schema": schema or ({"type": "object"} if "json" in content_type
                             else {"type": "string", "format": "binary"})}}}}


def _get(op_id: str, summary: str, parameters=(), responses=None) -> dict:
    return {"get": {"operationId": op_id, "summary": summary, "parameters": list(parameters),
                    "responses": responses or _ok(summary)}}


def _path(name: str, schema: dict) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _query(name: str, schema: dict, description: str | None = None) -> dict:
    out = {"name": name, "in": "query", "required": False, "schema": schema}
    if description:
        out["description"] = description
    return out


def _layer_ids() -> list[str]:
    if has_app_context():
        return sorted(services.current().catalog)
    return []


def tile_paths() -> dict:
    """The tiles, styles, legends and WMTS routes."""
    layers = _layer_ids()
    layer = _path("layerId", {"type": "string", **({"enum": layers} if layers else {})})
    z, x = _path("z", {"type": "integer", "minimum": 0}), _path("x", {"type": "integer",
                                                                     "minimum": 0})
    y = _path("y", {"type": "integer", "minimum": 0})
    lang = P.LANG.openapi()
    # A layer's own parameters (group, model_type, an analysis's) differ per layer: each
    # layer's collection path lists exactly those (`/collections/{layer}/items`).
    params = (P.LAYER_YEAR.openapi(),)
    return {
        "/tiles": _get("tile_layers", "The layers this caller may read", (lang,)),
        "/tiles/{layerId}.json": _get("tilejson", "TileJSON 3.0 of a layer",
                                      (layer, *params, lang)),
        "/tiles/{layerId}/metadata.json": _get("tile_metadata", "MBTiles metadata of a layer",
                                               (layer, *params)),
        "/tiles/{layerId}/{z}/{x}/{y}.mvt": _get(
            "tile_mvt", "A vector tile (Mapbox Vector Tile)", (layer, z, x, y, *params),
            _ok("Vector tile", MVT)),
        "/tiles/{layerId}/{z}/{x}/{y}.png": _get(
            "tile_png", "A raster tile (PNG, 256 px)", (layer, z, x, y, *params),
            _ok("PNG tile", PNG)),
        "/tiles/{layerId}/style.json": _get("layer_style", "MapLibre style of one layer",
                                            (layer, *params, lang)),
        "/tiles/{layerId}/legend.json": _get("legend_json", "A layer's legend",
                                             (layer, *params, lang)),
        "/tiles/{layerId}/legend.png": _get("legend_png", "A layer's legend as PNG",
                                            (layer, *params, lang), _ok("Legend", PNG)),
        "/styles/geoservice.json": _get("combined_style", "MapLibre style of every layer",
                                        (lang,)),
        "/wmts/1.0.0/WMTSCapabilities.xml": _get(
            "wmts_capabilities", "WMTS 1.0.0 capabilities", (lang,),
            _ok("Capabilities", "application/xml")),
        "/tileMatrixSets": _get("tile_matrix_sets", "OGC API - Tiles: tile matrix sets"),
        "/tileMatrixSets/WebMercatorQuad": _get("tile_matrix_set", "WebMercatorQuad"),
        "/collections/{layerId}/tiles": _get("ogc_tilesets", "OGC API - Tiles: tile sets",
                                             (layer,)),
        "/collections/{layerId}/tiles/WebMercatorQuad": _get(
            "ogc_tileset", "OGC API - Tiles: a tile set", (layer,)),
    }


def import_paths() -> dict:
    """The imports routes (editors)."""
    kind = _path("kind", {"type": "string", "enum": list(KINDS)})
    form = {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary"},
        "vn2000_meridian": {"type": "number"},
        "utm_zone": {"type": "string", "enum": ["48", "49"]}}}
    report = {"content": {"application/json": {"schema": {"type": "object"}},
                          "text/csv": {"schema": {"type": "string"}}}}
    return {
        "/imports": _get("imports", "The imports made (editors)",
                         (_query("kind", {"type": "string"}),)),
        "/imports/{kind}": {"post": {
            "operationId": "import_file", "summary": "Import a CSV or Excel file of records",
            "parameters": [kind, _query("format", {"type": "string",
                                                   "enum": ["json", "csv"]})],
            "requestBody": {"required": True,
                            "content": {"multipart/form-data": {"schema": form}}},
            "responses": {"201": {"description": "Applied", **report},
                          "422": {"description": "Rejected: the row-level report", **report},
                          **_errors("413", "429")}}},
        "/imports/boundaries": _official_post(
            "import_boundaries", "Load an official commune boundary file (GeoPackage, "
            "Shapefile as .zip, GeoJSON) as a new boundary version (administrators)",
            {"crs": {"type": "string", "description": "The file's coordinate system when "
                                                      "it has none: tm3:105.5, utm48, "
                                                      "wgs84, EPSG:…"},
             "province": {"type": "string", "pattern": "^[0-9]{2}$"},
             "column": {"type": "string", "description": "code=… or name=…"},
             "dry_run": {"type": "string", "enum": ["0", "1", "false", "true"]}}),
        "/imports/border-designation": _official_post(
            "import_border_designation", "Load the official list of border communes, "
            "overriding the derived one (administrators)",
            {"province": {"type": "string", "pattern": "^[0-9]{2}$"},
             "dry_run": {"type": "string", "enum": ["0", "1", "false", "true"]}}),
    }


def _official_post(operation: str, summary: str, fields: dict) -> dict:
    """An official file upload: the file and its options as form fields."""
    form = {"type": "object", "required": ["file"],
            "properties": {"file": {"type": "string", "format": "binary"}, **fields}}
    report = {"content": {"application/json": {"schema": {"type": "object"}}}}
    return {"post": {
        "operationId": operation, "summary": summary,
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": form}}},
        "responses": {"201": {"description": "Applied: the report", **report},
                      "200": {"description": "Dry run: what would be applied", **report},
                      "422": {"description": "Rejected: the row-level report", **report},
                      **_errors("400", "403", "409", "413", "429")}}}


def auth_paths() -> dict:
    """Sign-in, sign-out, who am I, and the administrators' routes."""
    html = {"text/html": {"schema": {"type": "string"}}}
    login_form = {"type": "object", "properties": {
        "username": {"type": "string"}, "password": {"type": "string"},
        "csrf_token": {"type": "string"}, "next": {"type": "string"}}}
    key_body = {"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string"}, "role": {"type": "string",
                                             "enum": ["viewer", "editor", "admin"]},
        "area": {"type": "string"},
        "layers": {"type": "array", "items": {"type": "string"}, "nullable": True}}}
    audit_filters = [_query(n, s) for n, s in (
        ("action", {"type": "string"}), ("actor", {"type": "string"}),
        ("since", {"type": "string"}), ("until", {"type": "string"}),
        ("limit", {"type": "integer", "minimum": 1, "maximum": 1000}),
        ("offset", {"type": "integer", "minimum": 0}))]
    redirect = {"303": {"description": "Redirect (signed in, or back to the form)"}}
    return {
        "/login": {
            "get": {"operationId": "login_page", "summary": "The sign-in page",
                    "parameters": [_query("next", {"type": "string"}),
                                   _query("lang", {"type": "string", "enum": ["vi", "en"]})],
                    "responses": {"200": {"description": "Sign-in page", "content": html},
                                  **redirect}},
            "post": {"operationId": "login", "summary": "Sign in (form with CSRF token)",
                     "requestBody": {"content": {
                         "application/x-www-form-urlencoded": {"schema": login_form}}},
                     "responses": {**redirect, "400": {"description": "No valid CSRF token",
                                                       "content": {**html, "application/json":
                                                                   {"schema": ERROR}}},
                                   "401": {"description": "Sign-in failed", "content": html},
                                   "429": {**_errors("429")["429"], "content": {
                                       **html, "application/json": {"schema": ERROR}}}}}},
        "/logout": {"post": {"operationId": "logout", "summary": "Sign out (CSRF token)",
                             "responses": redirect}},
        "/auth/session": _get("who_am_i", "Who is asking, and a CSRF token"),
        "/admin/keys": {
            **_get("keys", "Every API key (administrators)"),
            "post": {"operationId": "key_create", "summary": "Create an API key",
                     "requestBody": {"required": True, "content": {
                         "application/json": {"schema": key_body}}},
                     "responses": {"201": {"description": "The key, shown once", "content": {
                         "application/json": {"schema": {"type": "object"}}}}}}},
        "/admin/keys/{keyId}": {"delete": {
            "operationId": "key_revoke", "summary": "Revoke an API key",
            "parameters": [_path("keyId", {"type": "string"})],
            "responses": _ok("Revoked")}},
        "/admin/audit": _get("audit_page", "The audit trail (HTML)", audit_filters,
                             {"200": {"description": "Audit page", "content": html}}),
        "/admin/audit.json": _get("audit_json", "The audit trail as JSON", audit_filters),
        "/admin/audit.csv": _get("audit_csv", "The audit trail as CSV", audit_filters,
                                 _ok("CSV", "text/csv")),
        "/admin/users": _get("users", "The users (administrators)"),
    }


def complete(paths: dict) -> dict:
    """Add our paths to `paths`, and the access statuses to every operation; return it."""
    for group in (tile_paths(), import_paths(), auth_paths()):
        for path, item in group.items():
            paths.setdefault(path, {}).update(item)
    for path, item in paths.items():
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            for code, answer in _errors(*COMMON).items():
                responses.setdefault(code, answer)
            if "text/html" in responses.get("200", {}).get("content", {}):
                for code, answer in list(responses.items()):  # a page's errors are pages
                    if code >= "400" and "content" in answer:  # (copied: may be shared)
                        responses[code] = {**answer, "content": {
                            "text/html": {"schema": {"type": "string"}}, **answer["content"]}}
            if method != "get" or path.startswith("/reports"):  # rate-limited routes
                responses.setdefault("429", _errors("429")["429"])
    return paths
