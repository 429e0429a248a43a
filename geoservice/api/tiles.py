"""Tile services as plain functions (no Flask): tiles, TileJSON, styles and legends.

Every function takes the principal and passes the one access decision: a restricted layer
answers 401/403 to readers without the right, and a province reader's tiles hold only
that province's features (the cache key carries the area). Parameters are validated here
into typed values, so the views only adapt HTTP.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from geoservice.access import ANONYMOUS, AccessDecision, Principal, decide
from geoservice.errors import GeoserviceError, InvalidParameter, NotFound
from geoservice.indicators import published
from geoservice.layers.catalog import LayerDef, maplibre_style
from geoservice.layers.source import SourceCache, lonlat_bounds
from geoservice.render import legend as legend_png
from geoservice.render.tilecache import TileCache, cache_key
from geoservice.render.tiles import mvt_tile, png_tile
from geoservice.singleflight import SingleFlight

MVT = "application/vnd.mapbox-vector-tile"
PNG = "image/png"
MAX_ZOOM = 22
TILE_NAME = re.compile(r"^([0-9]{1,7})(@2x)?\.(mvt|pbf|png)\Z")  # ASCII digits only
LAYER_PARAMETERS = ("year", "group", "model_type")
DRAWING = SingleFlight()  # tiles being made now, by store, cache folder and name
VIETNAM_BOUNDS = (102.14, 8.18, 109.47, 23.39)  # west, south, east, north (mainland)


@dataclass(frozen=True)
class TileRequest:
    """A validated tile request."""

    layer: LayerDef
    z: int
    x: int
    y: int
    fmt: str  # "mvt" or "png"
    scale: int
    record_year: int | None  # record layers: only this year's records


@dataclass
class TileResult:
    """A tile's bytes with what the HTTP layer needs to answer it."""

    data: bytes
    content_type: str
    etag: str
    public: bool


def layer_for(catalog: dict[str, LayerDef], layer_id: str, args: Mapping[str, str],
              principal: Principal = ANONYMOUS) -> tuple[LayerDef, AccessDecision, int | None]:
    """Return the layer for these parameters, the access decision and a record-year filter."""
    layer = catalog.get(layer_id)
    if layer is None:
        known = ", ".join(readable_layers(catalog, principal))
        raise NotFound(f"There is no layer '{layer_id}'. Layers: {known}.", parameter="layer")
    decision = decide(principal, layer)
    if layer.source.analysis is not None:  # the analysis's own parameters, and the area
        from geoservice.layers.analysis import resolve

        analysis_args = {k: v for k, v in args.items() if k != "lang"}
        return resolve(layer, analysis_args, decision.province_code), decision, None
    unknown = sorted(set(args) - set(LAYER_PARAMETERS) - {"lang"})
    if unknown:
        raise InvalidParameter(f"Unknown parameter '{unknown[0]}'. Accepted: "
                               f"{', '.join(LAYER_PARAMETERS)}.", parameter=unknown[0])
    year = _year(args.get("year"))
    if layer.source.indicator is None:
        extra = [k for k in ("group", "model_type") if args.get(k) is not None]
        if extra:
            raise InvalidParameter(f"Layer '{layer_id}' has no parameter '{extra[0]}'.",
                                   parameter=extra[0])
        return layer, decision, year
    resolved = layer.with_params(year if year is not None else None,
                                 **{k: args.get(k) for k in ("group", "model_type")
                                    if args.get(k) is not None})
    return resolved, decision, None


def parse_tile(catalog, layer_id: str, z: str, x: str, name: str, args: Mapping[str, str],
               principal: Principal = ANONYMOUS) -> tuple[TileRequest, AccessDecision]:
    """Validate a tile URL's parts (`name` is '<y>.mvt', '<y>.png' or '<y>@2x.png')."""
    layer, decision, record_year = layer_for(catalog, layer_id, args, principal)
    match = TILE_NAME.match(name)
    if not match:
        raise InvalidParameter("A tile is <y>.mvt, <y>.png or <y>@2x.png.", parameter="y")
    fmt = "mvt" if match.group(3) in ("mvt", "pbf") else "png"
    if match.group(2) and fmt != "png":
        raise InvalidParameter("@2x is for PNG tiles only.", parameter="y")
    if not (z.isascii() and z.isdigit() and int(z) <= MAX_ZOOM):
        raise InvalidParameter(f"z must be a whole number from 0 to {MAX_ZOOM}.", parameter="z")
    zoom = int(z)
    limit = 2**zoom
    if not (x.isascii() and x.isdigit() and int(x) < limit):
        raise InvalidParameter(f"x must be from 0 to {limit - 1} at zoom {zoom}.", parameter="x")
    y = int(match.group(1))
    if y >= limit:
        raise InvalidParameter(f"y must be from 0 to {limit - 1} at zoom {zoom}.", parameter="y")
    return TileRequest(layer, zoom, int(x), y, fmt, 2 if match.group(2) else 1,
                       record_year), decision


def tile(store, sources: SourceCache, cache: TileCache, request: TileRequest,
         decision: AccessDecision) -> TileResult:
    """Return a tile, from the cache when it holds this data version's copy."""
    layer = request.layer
    params = {**layer.params, "record_year": request.record_year, "scale": request.scale}
    fmt = request.fmt
    content_type = MVT if fmt == "mvt" else PNG
    area = decision.province_code
    if not layer.minzoom <= request.z <= layer.maxzoom:
        data = b"" if fmt == "mvt" else png_tile_empty(request.scale)
        return TileResult(data, content_type, _etag(data), not layer.restricted)
    if layer.source.analysis is not None:
        return _analysis_tile(store, sources, cache, request, area)
    version = store.data_version()
    folder, name = cache_key(layer.id, params, area, version, request.z, request.x,
                             request.y, fmt)
    data = cache.get(folder, name)
    if data is None:  # many readers asking for this tile at once: drawn once
        data = DRAWING.run((id(store), folder, name), lambda: _draw(store, sources, cache, request,
                                                         area, version, folder, name))
    return TileResult(data, content_type, _etag(data), not layer.restricted)


def _draw(store, sources: SourceCache, cache: TileCache, request: TileRequest,
          area: str | None, version: str, folder: str, name: str) -> bytes:
    """Make a tile (by the database where it can, else by our encoder) and keep it."""
    layer, fmt = request.layer, request.fmt
    data = None
    if fmt == "mvt" and request.record_year is None:
        data = store.database_mvt(layer, request.z, request.x, request.y, area)
    if data is None:
        source = sources.get(store, layer, request.record_year, version)
        if fmt == "mvt":
            data = mvt_tile(source, request.z, request.x, request.y, area)
        else:
            data = png_tile(source, request.z, request.x, request.y, area, request.scale)
    cache.put(folder, name, data)
    return data


def _analysis_tile(store, sources: SourceCache, cache: TileCache, request: TileRequest,
                   area: str | None) -> TileResult:
    """A tile of an analysis layer: from its result (cached under the result's own version,
    which may be an older data version while a new result is computed), or an empty tile
    at once when no result exists yet (`geoservice.hotspots.runs.STATUS` says why)."""
    from geoservice.hotspots.runs import AnalysisNotReady

    layer, fmt = request.layer, request.fmt
    content_type = MVT if fmt == "mvt" else PNG
    try:
        source = sources.get(store, layer)
    except AnalysisNotReady:
        data = b"" if fmt == "mvt" else png_tile_empty(request.scale)
        return TileResult(data, content_type, _etag(data), False)
    folder, name = cache_key(layer.id, {**layer.params, "scale": request.scale}, area,
                             source.version, request.z, request.x, request.y, fmt)
    data = cache.get(folder, name)
    if data is None:
        if fmt == "mvt":
            data = mvt_tile(source, request.z, request.x, request.y, area)
        else:
            data = png_tile(source, request.z, request.x, request.y, area, request.scale)
        cache.put(folder, name, data)
    return TileResult(data, content_type, _etag(data), False)


def png_tile_empty(scale: int) -> bytes:
    """A transparent PNG tile of the requested scale."""
    from geoservice.render.png import EMPTY_PNG, TILE_SIZE, render_png

    return EMPTY_PNG if scale == 1 else render_png([], TILE_SIZE, scale)


def _etag(data: bytes) -> str:
    return '"' + hashlib.sha256(data).hexdigest()[:32] + '"'


def _year(value: str | None) -> int | None:
    if value is None or value == "latest":
        return None
    if not (value.isascii() and value.isdigit() and len(value) == 4
            and 1900 <= int(value) <= 2100):
        raise InvalidParameter("year must be a four-digit year between 1900 and 2100.",
                               parameter="year")
    return int(value)


def readable_layers(catalog: dict[str, LayerDef], principal: Principal) -> list[str]:
    """Ids of the layers this principal may read, in drawing order."""
    ids = []
    for layer_id, layer in catalog.items():
        try:
            decide(principal, layer)
        except GeoserviceError:
            continue
        ids.append(layer_id)
    return sorted(ids, key=lambda i: (catalog[i].order, i))


def tilejson(store, catalog, layer_id: str, base: str, args: Mapping[str, str],
             principal: Principal = ANONYMOUS) -> dict:
    """Return the TileJSON 3.0 document of a layer."""
    layer, _decision, _year_filter = layer_for(catalog, layer_id, args, principal)
    query = _query(args)
    year = layer.params.get("year")
    if year == "latest":
        year = published.indicator_year(store, None)
    return {
        "tilejson": "3.0.0",
        "name": layer.title(args.get("lang", "vi")),
        "description": layer.description.get(args.get("lang", "vi")),
        "version": "1.0.0",
        "attribution": "geoservice (boundaries: docs/data.md; records: see provenance)"
                       + (" — synthetic demo data" if published.synthetic_notice(store)
                          else ""),
        "scheme": "xyz",
        "tiles": [f"{base}/tiles/{layer.id}/{{z}}/{{x}}/{{y}}.mvt{query}"],
        "minzoom": layer.minzoom,
        "maxzoom": layer.maxzoom,
        "bounds": list(VIETNAM_BOUNDS),
        "center": [105.85, 21.03, max(layer.minzoom, 6)],
        "vector_layers": [{
            "id": layer.id, "description": layer.title("en"),
            "minzoom": layer.minzoom, "maxzoom": layer.maxzoom,
            "fields": {name: _field_type(name, layer) for name in layer.fields},
        }],
        "geoservice:params": {**{k: v for k, v in layer.params.items()
                                 if not k.startswith("_")}, "year": year},
        "geoservice:access": layer.access, "geoservice:theme": layer.theme,
        **({"geoservice:notice": notice} if (notice := published.synthetic_notice(store))
           and layer.source.collection not in ("countries", "sea", "border-lines",
                                               "legacy-communes") else {}),
        "geoservice:legend": f"{base}/tiles/{layer.id}/legend.json{query}",
    }


def mbtiles_metadata(store, catalog, layer_id: str, base: str, args: Mapping[str, str],
                     principal: Principal = ANONYMOUS) -> dict:
    """Return a layer's metadata in the MBTiles form (as GDAL's MVT driver reads it)."""
    import json

    doc = tilejson(store, catalog, layer_id, base, args, principal)
    return {"name": layer_id, "description": doc["description"], "format": "pbf",
            "scheme": "xyz", "minzoom": doc["minzoom"], "maxzoom": doc["maxzoom"],
            "bounds": ",".join(str(v) for v in doc["bounds"]),
            "center": ",".join(str(v) for v in doc["center"]),
            "json": json.dumps({"vector_layers": doc["vector_layers"]}, ensure_ascii=False)}


def _field_type(name: str, layer: LayerDef | None = None) -> str:
    if layer is not None and layer.source.analysis is not None:
        from geoservice.layers.analysis import ANALYSIS_FIELDS

        kind = ANALYSIS_FIELDS[layer.source.analysis].get(name)
        return "Number" if kind in ("number", "integer") else "String"
    numeric = ("rate", "coverage", "count", "km", "sessions", "participants", "year",
               "incidents", "activities", "area", "commended")
    return "Number" if any(part in name for part in numeric) else "String"


def _query(args: Mapping[str, str]) -> str:
    from urllib.parse import urlencode

    from geoservice.layers.analysis import PARAMETER_NAMES

    kept = {k: v for k, v in args.items() if k in LAYER_PARAMETERS or k in PARAMETER_NAMES}
    return f"?{urlencode(kept)}" if kept else ""


def style(catalog, base: str, layer_ids: list[str] | None, args: Mapping[str, str],
          principal: Principal = ANONYMOUS) -> dict:
    """Return a MapLibre style for one layer or for every layer the principal may read."""
    lang = _lang(args)
    if layer_ids is None:
        layer_ids = readable_layers(catalog, principal)
        selected = {i: catalog[i] for i in layer_ids}
    else:
        selected = {i: layer_for(catalog, i, {k: v for k, v in args.items() if k != "lang"},
                                 principal)[0] for i in layer_ids}
    return maplibre_style(selected, f"{base}/tiles", layer_ids, lang)


def legend(catalog, layer_id: str, args: Mapping[str, str], fmt: str,
           principal: Principal = ANONYMOUS, node_modules=None):
    """Return a layer's legend as JSON data or PNG bytes."""
    layer, _decision, _year_filter = layer_for(
        catalog, layer_id, {k: v for k, v in args.items() if k != "lang"}, principal)
    lang = _lang(args)
    if fmt == "json":
        return layer.legend(lang)
    entries = legend_png.style_entries(layer.style, lang, layer.legend_title)
    return legend_png.legend_png(layer.legend_title.get(lang), entries,
                                 node_modules=node_modules)


def _lang(args: Mapping[str, str]) -> str:
    lang = args.get("lang", "vi")
    if lang not in ("vi", "en"):
        raise InvalidParameter("lang must be 'vi' or 'en'.", parameter="lang")
    return lang


def tile_centre(z: int, x: int, y: int) -> tuple[float, float]:
    """The centre of a tile in degrees (for tests and seeding)."""
    west, south, east, north = lonlat_bounds(z, x, y)
    return (west + east) / 2, (south + north) / 2
