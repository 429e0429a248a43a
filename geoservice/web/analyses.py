"""The analyses blueprint: hot-spot analyses of incidents run on request, in the background.

HTTP in, `geoservice.hotspots` functions, JSON, PNG, GeoTIFF or CSV out. Every route reads
incidents, so every route takes the one access decision for analyses of the ``incidents``
collection (`geoservice.access.decide_analysis`): no key → 401; a key scoped to layers
must hold a layer that shows the analysis (``hotspots-gistar`` … for Gi* and emerging hot
spots; ``incidents`` for density and the border view), else 403; a province reader's
analyses use its province's incidents only (results are kept per area). A run that is
not finished never holds a request: its endpoint answers 202 with the run
(``Location: /analyses/runs/{id}``), a density tile answers a transparent tile, and results
computed for an older data version are served marked ``X-Analysis-Status: stale`` with
``Retry-After`` while the new one is computed.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, g, jsonify, request, send_file

from geoservice import access, services
from geoservice import params as P
from geoservice.access import decide_analysis
from geoservice.api import analyses as api
from geoservice.api.tiles import TILE_NAME
from geoservice.collections import COLLECTIONS
from geoservice.errors import InvalidParameter, NotFound
from geoservice.hotspots import density_tiles, runs
from geoservice.hotspots.params import parse
from geoservice.indicators.published import synthetic_notice
from geoservice.render.legend import legend_png
from geoservice.render.png import empty_png
from geoservice.render.tilecache import cache_key
from geoservice.tilemath import MAX_ZOOM

blueprint = Blueprint("analyses", __name__)
META = ("lang", "format")
PRIVATE = "private, max-age=60"
VARY = "X-API-Key, Authorization, Cookie"
TABLE_METHODS = ("emerging", "border")
ZONE_METHODS = ("gistar", "emerging")
INCIDENTS = COLLECTIONS["incidents"]


def _base() -> str:
    return request.url_root.rstrip("/")


def _params(method: str):
    """The validated parameters (query string, and a JSON or form body on POST), and area."""
    catalog = services.current().catalog
    decision = decide_analysis(g.principal, INCIDENTS, catalog, method)
    args: dict = request.args.to_dict()
    if request.method == "POST" and request.content_length:
        body = request.get_json(silent=True) if request.is_json else request.form.to_dict()
        if not isinstance(body, dict):
            raise InvalidParameter("The body must be a JSON object of parameters.",
                                   parameter="body")
        args.update(body)
    params = parse(method, {k: v for k, v in args.items() if k not in META},
                   decision.province_code)
    decide_analysis(g.principal, INCIDENTS, catalog, method, params)  # the exact layer
    store = services.current().store
    if params.province_code and store.get("provinces", params.province_code) is None:
        raise InvalidParameter(f"There is no province {params.province_code}.",
                               parameter="province_code")
    return params, decision.province_code


def _run_url(run) -> str:
    return f"{_base()}/analyses/runs/{run.id}"


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = PRIVATE
    response.headers["Vary"] = VARY
    return response


def _mark(response: Response, state: str, run) -> Response:
    """Say what the answer was made from: current, stale, queued, running or failed."""
    response.headers["X-Analysis-Status"] = state
    response.headers["X-Analysis-Run"] = _run_url(run)
    if state != "current":
        response.headers["Cache-Control"] = "no-store"
        if state != "failed":
            response.headers["Retry-After"] = str(runs.RETRY_AFTER_SECONDS)
    return response


def _run_response(run, status: int | None = None) -> Response:
    store = services.current().store
    doc = api.run_document(run, _base(), store.data_version(), synthetic_notice(store))
    response = _private(jsonify(doc))
    pending = run.status in ("queued", "running")
    response.status_code = status or (202 if pending else 200)
    if pending:
        response.headers["Location"] = _run_url(run)
        response.headers["Retry-After"] = str(runs.RETRY_AFTER_SECONDS)
    return response


def _lookup(method: str):
    """(result or None, state, run) of the analysis the request names; never waits."""
    params, area = _params(method)
    held = services.current()
    result, current, run = held.analysis_runs.available(held.store, params, area)
    if result is None:
        return None, run.status, run
    return result, "current" if current else "stale", run


def _result(method: str):
    """As `_lookup`; a failed run without an older result is a 400 with its reason."""
    result, state, run = _lookup(method)
    if result is None and run.status == "failed":
        raise InvalidParameter(f"The analysis failed: {run.error}")
    return result, state, run


@blueprint.route("/analyses/<method>", methods=["GET", "POST"])
@access.restricted
@access.heavy
def run_analysis(method: str):
    """Start an analysis (or find it done): 200 with the result, or 202 with the run."""
    params, area = _params(method)
    held = services.current()
    return _run_response(held.analysis_runs.request(held.store, params, area))


@blueprint.get("/analyses/runs/<run_id>")
@access.restricted
def run_status(run_id: str):
    """A run's status, progress and, once done, its result."""
    held = services.current()
    run = held.analysis_runs.run(run_id)
    if run is None:
        raise NotFound(f"There is no analysis run '{run_id[:64]}'.")
    decision = decide_analysis(g.principal, INCIDENTS, held.catalog, run.params.method,
                               run.params)
    if decision.province_code not in (None, run.area):
        raise NotFound(f"There is no analysis run '{run_id[:64]}'.")
    return _run_response(run, 200)


@blueprint.get("/analyses/density/<z>/<x>/<y>.png")
@access.restricted
def density_tile(z: str, x: str, y: str):
    """A density tile (``{y}.png`` or ``{y}@2x.png``): PNG coloured by the legend's classes,
    transparent where nothing."""
    zoom, col, row, scale = _tile_address(z, x, f"{y}.png")
    result, state, run = _lookup("density")
    if result is None:
        return _mark(_private(Response(empty_png(256 * scale), mimetype="image/png")), state,
                     run)
    cache = services.current().tile_cache
    folder, file = cache_key("analyses-density", {"scale": scale}, None, result.token,
                             (zoom, col, row), "png")
    data = cache.get(folder, file)
    if data is None:
        data = density_tiles.render_tile(result.file, result.summary["breaks"], zoom, col,
                                         row, scale)
        cache.put(folder, file, data)
    response = _private(Response(data, mimetype="image/png"))
    response.set_etag(api.etag(data))
    response = _mark(response, state, run).make_conditional(request)
    response.headers.pop("Date", None)
    return response


def _tile_address(z: str, x: str, name: str) -> tuple[int, int, int, int]:
    match = TILE_NAME.match(name)
    if not match:
        raise InvalidParameter("A density tile is <y>.png or <y>@2x.png.", parameter="y")
    zoom, column, row = P.tile_address(z, x, match.group(1), MAX_ZOOM)
    return zoom, column, row, 2 if match.group(2) else 1


@blueprint.get("/analyses/density/legend.json", defaults={"fmt": "json"})
@blueprint.get("/analyses/density/legend.png", defaults={"fmt": "png"})
@access.restricted
def density_legend(fmt: str):
    """The density legend (classes in incidents per km²) as JSON or PNG."""
    lang = P.LANG.get(request.args, "vi")
    result, state, run = _result("density")
    if result is None:
        return _run_response(run, 202)
    breaks = result.summary["breaks"]
    if fmt == "json":
        body = {**density_tiles.legend(breaks, lang),
                "bandwidth_km": result.summary["bandwidth_km"],
                "cell_km": result.summary["cell_km"]}
        return _mark(_private(jsonify(body)), state, run)
    image = legend_png(density_tiles.TITLE[lang], density_tiles.legend_entries(breaks, lang),
                       node_modules=services.current().node_modules)
    return _mark(_private(Response(image, mimetype="image/png")), state, run)


@blueprint.get("/analyses/density.tif")
@access.restricted
def density_geotiff():
    """The density surface as a Cloud-Optimised GeoTIFF (incidents per km², EPSG:32648)."""
    result, state, run = _result("density")
    if result is None:
        return _run_response(run, 202)
    response = send_file(result.file, mimetype="image/tiff", as_attachment=True,
                         download_name=f"density-{result.token}.tif")
    return _mark(_private(response), state, run)


@blueprint.get("/analyses/<method>/zones.geojson")
@access.restricted
def zones(method: str):
    """The zones of a Gi* or emerging hot-spot result as GeoJSON."""
    if method not in ZONE_METHODS:
        raise NotFound(f"Zones are given for {', '.join(ZONE_METHODS)}.")
    result, state, run = _result(method)
    if result is None:
        return _run_response(run, 202)
    body = json.loads(result.frame().to_json(na="null", drop_id=True))
    if notice := synthetic_notice(services.current().store):
        body["notice"] = notice
    response = _private(jsonify(body))
    response.mimetype = "application/geo+json"
    return _mark(response, state, run)


@blueprint.get("/analyses/<method>/table")
@access.restricted
def table(method: str):
    """Emerging patterns per province, or the border view, as JSON or CSV."""
    if method not in TABLE_METHODS:
        raise NotFound(f"Tables are given for {', '.join(TABLE_METHODS)}.")
    fmt = api.table_format(request.args)
    result, state, run = _result(method)
    if result is None:
        return _run_response(run, 202)
    store = services.current().store
    body = api.emerging_table(store, result) if method == "emerging" else {
        "rows": result.summary["rows"], "incidents": result.summary["incidents"]}
    notice = synthetic_notice(store)
    if fmt == "csv":
        columns = list(body["rows"][0]) if body["rows"] else []
        data = api.csv_bytes(body["rows"], columns, notice)
        response = Response(data, mimetype="text/csv")
        response.headers["Content-Disposition"] = \
            f'attachment; filename="{method}-{result.token}.csv"'
    else:
        response = jsonify({**body, **({"notice": notice} if notice else {})})
    return _mark(_private(response), state, run)


@blueprint.before_app_request
def _forget_status() -> None:
    runs.STATUS.set(None)


@blueprint.after_app_request
def _analysis_status(response: Response) -> Response:
    """Tiles and features of analysis layers (and their 503 AnalysisNotReady, answered by
    the one error handler): say what they were made from, and where the run is."""
    noted = runs.STATUS.get()
    if noted is not None and "X-Analysis-Run" not in response.headers:
        state, run = noted
        _mark(response, state, run)
    runs.STATUS.set(None)
    return response
