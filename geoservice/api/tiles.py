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

from geoservice import params as P
from geoservice.access import ANONYMOUS, AccessDecision, Principal
from geoservice.errors import InvalidParameter
from geoservice.indicators import published
from geoservice.layers.definition import LayerDef
from geoservice.layers.fields import tile_field_types
from geoservice.layers.params import layer_for, query_string, readable_layers
from geoservice.layers.source import SourceCache
from geoservice.layers.style import maplibre_style
from geoservice.render import legend as legend_png
from geoservice.render.tilecache import TileCache, cache_key
from geoservice.render.tiles import mvt_tile, png_tile
from geoservice.singleflight import SingleFlight
from geoservice.tilemath import MAX_ZOOM

MVT = "application/vnd.mapbox-vector-tile"
PNG = "image/png"
TILE_NAME = re.compile(r"^([0-9]{1,7})(@2x)?\.(mvt|pbf|png)\Z")  # ASCII digits only
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
    zoom, column, row = P.tile_address(z, x, match.group(1), MAX_ZOOM)
    return TileRequest(layer, zoom, column, row, fmt, 2 if match.group(2) else 1,
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


def tilejson(store, catalog, layer_id: str, base: str, args: Mapping[str, str],
             principal: Principal = ANONYMOUS) -> dict:
    """Return the TileJSON 3.0 document of a layer."""
    layer, _decision, _year_filter = layer_for(catalog, layer_id, args, principal)
    query = query_string(args)
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
            "fields": tile_field_types(layer),
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
    return P.LANG.get(args, "vi")
