"""Tile services as plain functions (no Flask): tiles, TileJSON, styles and legends.

Every function takes the request's context (`RequestContext`: the app's services and the
reader) and passes the one access decision: a restricted layer answers 401/403 to readers
without the right, and a province reader's tiles hold only that province's features (the
cache key carries the area). Parameters are validated here into typed values, so the views
only adapt HTTP.

Tiles are cached under their layer's data version (`geoservice.layers.versions`). When it
changes (an import of what the layer is drawn from), a tile variant served before gets
its zooms up to `REFRESH_MAX_ZOOM` drawn again in the background, and until a tile's new
version is written its previous one is answered (marked `stale`: not to be kept long).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from geoservice import params as P
from geoservice.api.context import VIETNAM_BOUNDS, RequestContext
from geoservice.errors import AnalysisNotReady, InvalidParameter
from geoservice.indicators import published
from geoservice.layers.definition import LayerDef
from geoservice.layers.fields import tile_field_types
from geoservice.layers.params import layer_for, query_string, readable_layers
from geoservice.layers.style import maplibre_style
from geoservice.layers.versions import layer_data_version
from geoservice.metrics import tile_cache_lookup
from geoservice.render import legend as legend_png
from geoservice.render import ogctiles
from geoservice.render.tilecache import Revalidation, cache_key
from geoservice.render.tiles import mvt_tile, png_tile
from geoservice.tilemath import MAX_ZOOM, tile_range

if TYPE_CHECKING:
    from geoservice.services import Services

MVT = "application/vnd.mapbox-vector-tile"
PNG = "image/png"
TILE_NAME = re.compile(r"^([0-9]{1,7})(@2x)?\.(mvt|pbf|png)\Z")  # ASCII digits only
REFRESH_MAX_ZOOM = 7  # the zooms the map opens at: drawn again in the background
REFRESH_BOUNDS = (102.1, 6.5, 117.9, 23.4)  # the mainland and the archipelagos


@dataclass(frozen=True)
class TileRequest:
    """A validated tile request."""

    layer: LayerDef
    z: int
    x: int
    y: int
    fmt: str  # "mvt" or "png"
    scale: int = 1
    record_year: int | None = None  # record layers: only this year's records
    area: str | None = None  # a province reader's province: only its features
    size: int = 256  # 512: twice the side, showing zoom z+1 (`geoservice.api.large_tiles`)

    @property
    def content_type(self) -> str:
        """The tile's media type."""
        return MVT if self.fmt == "mvt" else PNG


@dataclass
class TileResult:
    """A tile's bytes with what the HTTP layer needs to answer it."""

    data: bytes
    content_type: str
    etag: str
    public: bool
    stale: bool = False  # a previous data version's tile, answered while the new is drawn


def parse_tile(ctx: RequestContext, layer_id: str, z: str, x: str, name: str,
               args: Mapping[str, str]) -> TileRequest:
    """Validate a tile URL's parts (`name` is '<y>.mvt', '<y>.png' or '<y>@2x.png')."""
    layer, decision, record_year = layer_for(ctx.catalog, layer_id, args, ctx.principal)
    match = TILE_NAME.match(name)
    if not match:
        raise InvalidParameter("A tile is <y>.mvt, <y>.png or <y>@2x.png.", parameter="y")
    fmt = "mvt" if match.group(3) in ("mvt", "pbf") else "png"
    if match.group(2) and fmt != "png":
        raise InvalidParameter("@2x is for PNG tiles only.", parameter="y")
    zoom, column, row = P.tile_address(z, x, match.group(1), MAX_ZOOM)
    return TileRequest(layer, zoom, column, row, fmt, 2 if match.group(2) else 1,
                       record_year, decision.province_code)


OGC_FORMAT = P.fmt("mvt", "png")


def parse_ogc_tile(ctx: RequestContext, layer_id: str, tile_matrix: str, tile_row: str,
                   tile_col: str, args: Mapping[str, str], preferred: str = "mvt"
                   ) -> TileRequest:
    """Validate an OGC API - Tiles address (``…/WebMercatorQuad/{tileMatrix}/{tileRow}/
    {tileCol}``): the same tile as ``/tiles/{layer}/{z}/{x}/{y}``, as MVT or, with
    ``f=png`` (or an Accept header preferring PNG, `preferred`), PNG."""
    fmt = OGC_FORMAT.get(args, preferred)
    if not tile_row.isascii() or not tile_row.isdigit() or len(tile_row) > 7:
        raise InvalidParameter("tileRow must be a whole number.", parameter="tileRow")
    layer_args = {k: v for k, v in args.items() if k != "f"}
    return parse_tile(ctx, layer_id, tile_matrix, tile_col, f"{tile_row}.{fmt}", layer_args)


def ogc_tilesets(ctx: RequestContext, layer_id: str, args: Mapping[str, str]) -> dict:
    """The tile set list of a layer (OGC API - Tiles)."""
    P.known(args, ("f",))
    P.fmt("json").get(args)
    layer = layer_for(ctx.catalog, layer_id, {}, ctx.principal)[0]
    return ogctiles.tilesets(layer, ctx.base)


def ogc_tileset(ctx: RequestContext, layer_id: str, args: Mapping[str, str]) -> dict:
    """A layer's tile set in WebMercatorQuad, for these layer parameters."""
    P.fmt("json").get(args)
    layer_args = {k: v for k, v in args.items() if k != "f"}
    layer = layer_for(ctx.catalog, layer_id, layer_args, ctx.principal)[0]
    return ogctiles.tileset(layer, ctx.base, query_string(layer_args))


def desktop_style(ctx: RequestContext, layer_id: str, args: Mapping[str, str],
                  fmt: str) -> str:
    """A layer's style for desktop GIS: QGIS QML (`fmt` 'qml') or SLD 1.1 ('sld')."""
    layer = layer_for(ctx.catalog, layer_id, args, ctx.principal)[0]
    if fmt == "qml":
        from geoservice.layers.qgis import qml

        return qml(layer, _lang(args))
    from geoservice.layers.sld import sld

    return sld(layer, _lang(args))


def tile(services: Services, request: TileRequest) -> TileResult:
    """Return a tile, from the cache when it holds this data version's copy (or, at low
    zooms, the previous version's copy while this one is drawn in the background)."""
    layer = request.layer
    if not layer.minzoom <= request.z <= layer.maxzoom:
        return _result(request, empty_tile(request))
    if layer.source.analysis is not None:
        return _analysis_tile(services, request)
    version = layer_data_version(services.store, layer)
    key = _cache_key(request, version)
    revalidation = _revalidation(services)
    previous, changed = revalidation.changed(_variant(request), version)
    if changed and previous is not None:
        revalidation.submit(("sweep", key[0]), lambda: _sweep(services, request, version))
    data = services.tile_cache.get(*key)
    tile_cache_lookup(request.layer.id, hit=data is not None)
    if data is None and previous is not None and request.z <= REFRESH_MAX_ZOOM:
        stale = services.tile_cache.get(*_cache_key(request, previous))
        if stale is not None and revalidation.submit(
                key, lambda: _redraw(services, request, version)):
            return _result(request, stale, stale=True)
    if data is None:  # many readers asking for this tile at once: drawn once
        data = services.drawing.run(key, lambda: _draw(services, request, version, key))
    return _result(request, data)


def _revalidation(services: Services) -> Revalidation:
    return services.remembered("tile_revalidation", Revalidation)


def _variant(request: TileRequest) -> tuple:
    """What one set of a layer's tiles is: all but the tile's address."""
    return (request.layer.id, tuple(sorted(request.layer.params.items())),
            request.record_year, request.scale, request.fmt, request.area)


def _redraw(services: Services, request: TileRequest, version: str) -> None:
    """Draw and keep one tile of `version` (unless kept already, or the data moved on)."""
    if layer_data_version(services.store, request.layer) != version:
        return
    key = _cache_key(request, version)
    if services.tile_cache.get(*key) is None:
        services.drawing.run(key, lambda: _draw(services, request, version, key))


def _sweep(services: Services, request: TileRequest, version: str) -> None:
    """Queue the variant's tiles up to `REFRESH_MAX_ZOOM` over Vietnam, lowest first (the
    same reader's area: a restricted variant is drawn for its area only)."""
    layer = request.layer
    if layer.minzoom > REFRESH_MAX_ZOOM:
        return
    revalidation = _revalidation(services)
    for z, x, y in tile_range(REFRESH_BOUNDS, layer.minzoom,
                              min(REFRESH_MAX_ZOOM, layer.maxzoom)):
        each = dataclasses.replace(request, z=z, x=x, y=y)
        if not revalidation.submit(_cache_key(each, version),
                                   lambda each=each: _redraw(services, each, version)):
            return  # the queue is full: the rest is drawn when asked for


def _cache_key(request: TileRequest, version: str, params: dict | None = None
               ) -> tuple[str, str]:
    params = {**request.layer.params, "record_year": request.record_year,
              "scale": request.scale} if params is None else params
    return cache_key(request.layer.id, params, request.area, version,
                     (request.z, request.x, request.y), request.fmt)


def _draw(services: Services, request: TileRequest, version: str,
          key: tuple[str, str]) -> bytes:
    """Make a tile (by the database where it can, else by our encoder) and keep it."""
    data = None
    if request.fmt == "mvt" and request.record_year is None:
        data = services.store.database_mvt(request.layer, request.z, request.x, request.y,
                                           request.area)
    if data is None:
        source = services.sources.get(services.store, request.layer, request.record_year,
                                      version)
        data = _encode(source, request)
    services.tile_cache.put(*key, data)
    return data


def _encode(source, request: TileRequest) -> bytes:
    if request.fmt == "mvt":
        return mvt_tile(source, request.z, request.x, request.y, request.area)
    return png_tile(source, request.z, request.x, request.y, request.area, request.scale)


def _result(request: TileRequest, data: bytes, stale: bool = False) -> TileResult:
    public = not request.layer.restricted
    return TileResult(data, request.content_type, _etag(data), public, stale)


def _analysis_tile(services: Services, request: TileRequest) -> TileResult:
    """A tile of an analysis layer: from its result (cached under the result's own version,
    which may be an older data version while a new result is computed), or an empty tile
    at once when no result exists yet (`geoservice.hotspots.runs.STATUS` says why)."""
    try:
        source = services.sources.get(services.store, request.layer,
                                      runs=services.analysis_runs)
    except AnalysisNotReady:
        return _result(request, empty_tile(request))
    key = _cache_key(request, source.version, {**request.layer.params,
                                               "scale": request.scale})
    data = services.tile_cache.get(*key)
    tile_cache_lookup(request.layer.id, hit=data is not None)
    if data is None:
        data = _encode(source, request)
        services.tile_cache.put(*key, data)
    return _result(request, data)


def empty_tile(request: TileRequest) -> bytes:
    """An empty tile of the request's format."""
    return b"" if request.fmt == "mvt" else png_tile_empty(request.scale)


def png_tile_empty(scale: int) -> bytes:
    """A transparent PNG tile of the requested scale."""
    from geoservice.render.png import EMPTY_PNG, TILE_SIZE, render_png

    return EMPTY_PNG if scale == 1 else render_png([], TILE_SIZE, scale)


def _etag(data: bytes) -> str:
    return '"' + hashlib.sha256(data).hexdigest()[:32] + '"'


def tilejson(ctx: RequestContext, layer_id: str, args: Mapping[str, str]) -> dict:
    """Return the TileJSON 3.0 document of a layer."""
    layer, _decision, _year_filter = layer_for(ctx.catalog, layer_id, args, ctx.principal)
    lang = _lang(args)
    store, base, query = ctx.store, ctx.base, query_string(args)
    year = layer.params.get("year")
    if year == "latest":
        year = published.indicator_year(store, None)
    notice = published.synthetic_notice(store)
    return {
        "tilejson": "3.0.0",
        "name": layer.title(lang),
        "description": layer.description.get(lang),
        "version": "1.0.0",
        "attribution": "geoservice (boundaries: docs/data.md; records: see provenance)"
                       + (" — synthetic demo data" if notice else ""),
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
        **({"geoservice:notice": notice} if notice and layer.source.collection
           not in ("countries", "sea", "border-lines", "legacy-communes") else {}),
        "geoservice:legend": f"{base}/tiles/{layer.id}/legend.json{query}",
    }


def mbtiles_metadata(ctx: RequestContext, layer_id: str, args: Mapping[str, str]) -> dict:
    """Return a layer's metadata in the MBTiles form (as GDAL's MVT driver reads it)."""
    import json

    doc = tilejson(ctx, layer_id, args)
    return {"name": layer_id, "description": doc["description"], "format": "pbf",
            "scheme": "xyz", "minzoom": doc["minzoom"], "maxzoom": doc["maxzoom"],
            "bounds": ",".join(str(v) for v in doc["bounds"]),
            "center": ",".join(str(v) for v in doc["center"]),
            "json": json.dumps({"vector_layers": doc["vector_layers"]}, ensure_ascii=False)}


def style(ctx: RequestContext, layer_ids: list[str] | None, args: Mapping[str, str]) -> dict:
    """Return a MapLibre style for one layer or for every layer the principal may read."""
    lang = _lang(args)
    catalog = ctx.catalog
    if layer_ids is None:
        P.known(args, ("lang",))
        layer_ids = readable_layers(catalog, ctx.principal)
        selected = {i: catalog[i] for i in layer_ids}
    else:
        selected = {i: layer_for(catalog, i, args, ctx.principal)[0] for i in layer_ids}
    return maplibre_style(selected, ctx.url("/tiles"), layer_ids, lang)


def legend(ctx: RequestContext, layer_id: str, args: Mapping[str, str], fmt: str):
    """Return a layer's legend as JSON data or PNG bytes."""
    layer, _decision, _year_filter = layer_for(ctx.catalog, layer_id, args, ctx.principal)
    lang = _lang(args)
    if fmt == "json":
        return layer.legend(lang)
    entries = legend_png.style_entries(layer.style, lang, layer.legend_title)
    return legend_png.legend_png(layer.legend_title.get(lang), entries,
                                 node_modules=ctx.services.node_modules)


def layer_list(ctx: RequestContext, args: Mapping[str, str]) -> dict:
    """The layers this reader may use, with links to their tiles, styles and legends."""
    P.known(args, ("lang",))
    lang, base, catalog = _lang(args), ctx.base, ctx.catalog
    return {"layers": [{
        "id": i, "title": catalog[i].title(lang),
        "access": catalog[i].access, "theme": catalog[i].theme,
        "geometry": catalog[i].geometry,
        "minzoom": catalog[i].minzoom, "maxzoom": catalog[i].maxzoom,
        "params": catalog[i].params,
        "links": {"tilejson": f"{base}/tiles/{i}.json",
                  "mvt": f"{base}/tiles/{i}/{{z}}/{{x}}/{{y}}.mvt",
                  "png": f"{base}/tiles/{i}/{{z}}/{{x}}/{{y}}.png",
                  "style": f"{base}/tiles/{i}/style.json",
                  "qml": f"{base}/tiles/{i}/style.qml",
                  "sld": f"{base}/tiles/{i}/style.sld",
                  "tilesets": f"{base}/collections/{i}/tiles",
                  "legend": f"{base}/tiles/{i}/legend.json"},
    } for i in readable_layers(catalog, ctx.principal)],
        "style": f"{base}/styles/geoservice.json",
        "wmts": f"{base}/wmts/1.0.0/WMTSCapabilities.xml",
        # OGC API - Tiles clients following the landing page's tilesets link read these.
        "tilesets": [ogctiles.tileset_summary(catalog[i], base)
                     for i in readable_layers(catalog, ctx.principal)],
        "links": [{"href": f"{base}/tiles", "rel": "self", "type": "application/json"}]}


def _lang(args: Mapping[str, str]) -> str:
    return P.LANG.get(args, "vi")
