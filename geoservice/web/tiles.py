"""The tiles blueprint: vector and raster tiles, TileJSON, MapLibre styles, legends and
WMTS capabilities. HTTP in, `geoservice.api.tiles` functions, bytes or JSON out.

Every tile has a strong ETag (a digest of its bytes) and Cache-Control: public layers may
be cached by anyone for a while; restricted ones only privately, varying by credentials.
A matching If-None-Match gets 304 with no body. Public layers' versioned tiles
(``/tiles/v/{version}/…``, `geoservice.api.tile_urls`) are immutable: kept for a year, an
old version redirected to the current one. ``/tiles/{a},{b}/…`` is a composite tile.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, redirect, request

from geoservice import access
from geoservice import params as P
from geoservice.api import composite_tiles, large_tiles, tile_urls
from geoservice.api import tiles as tileapi
from geoservice.layers.params import readable_layers
from geoservice.render import ogctiles, wmts
from geoservice.web.context import base_url, context

blueprint = Blueprint("tiles", __name__)
PUBLIC_MAX_AGE = 300
PRIVATE_MAX_AGE = 60
REDIRECT_MAX_AGE = 60  # an old version's redirect: the current version changes on import
STALE = "public, no-cache"  # a previous version's tile answered while the new one is drawn


def _args() -> dict:
    return request.args.to_dict()


@blueprint.get("/tiles/<layer_id>/<z>/<x>/<name>")
@access.public
def tile(layer_id: str, z: str, x: str, name: str):
    """One MVT or PNG tile, or a composite MVT tile of several layers ('a,b,c')."""
    ctx = context()
    if "," in layer_id:
        return _composite_response(ctx, composite_tiles.parse_composite(ctx, layer_id, z, x, name,
                                                                  _args()))
    return _tile_response(ctx, tileapi.parse_tile(ctx, layer_id, z, x, name, _args()))


@blueprint.get("/tiles/<layer_id>/512/<z>/<x>/<name>")
@access.public
def large_tile(layer_id: str, z: str, x: str, name: str):
    """One 512-pixel PNG tile: z/x/y drawn at twice the side, showing zoom z+1."""
    ctx = context()
    parsed = large_tiles.large_tile(tileapi.parse_tile(ctx, layer_id, z, x, name, _args()))
    return _tile_response(ctx, parsed, large_tiles.stitched)


@blueprint.get("/tiles/v/<version>/<layer_id>/<z>/<x>/<name>")
@access.public
def versioned_tile(version: str, layer_id: str, z: str, x: str, name: str):
    """A public layer's (or composite's) tile at its version: immutable; an old version
    redirects to the current one, a layer without versioned URLs to its plain URL."""
    ctx = context()
    tile_urls.check_version(version)
    args = _args()
    if "," in layer_id:
        parts = composite_tiles.parse_composite(ctx, layer_id, z, x, name, args)
        current = tile_urls.composite_version(ctx.services, [p.layer for p in parts])
    else:
        parts = [tileapi.parse_tile(ctx, layer_id, z, x, name, args)]
        current = tile_urls.tile_version(ctx.services, parts[0].layer)
    if current != version:
        prefix = f"/tiles/v/{current}" if current else "/tiles"
        query = f"?{request.query_string.decode()}" if request.query_string else ""
        response = redirect(ctx.url(f"{prefix}/{layer_id}/{z}/{x}/{name}{query}"), 302)
        response.headers["Cache-Control"] = f"public, max-age={REDIRECT_MAX_AGE}"
        return response
    result = (composite_tiles.composite_tile(ctx.services, parts) if len(parts) > 1
              else tileapi.tile(ctx.services, parts[0]))
    if result.stale:  # the previous version's tile while this one is drawn: not for keeps
        return _answer(result.data, parts[0].content_type, STALE, result.etag)
    folder = tile_urls.public_tiles(ctx.services)
    if folder is not None and not args:  # with parameters: a variant nginx cannot tell
        folder.put(layer_id, version, parts[0], result.data)
    return _answer(result.data, parts[0].content_type, tile_urls.IMMUTABLE, result.etag)


@blueprint.get("/collections/<collection_id>/tiles/WebMercatorQuad/<tile_matrix>/<tile_row>/"
               "<tile_col>")
@access.public
def ogc_tile(collection_id: str, tile_matrix: str, tile_row: str, tile_col: str):
    """OGC API - Tiles: one tile (MVT; PNG with f=png or an Accept preferring it)."""
    ctx = context()
    preferred = request.accept_mimetypes.best_match([tileapi.MVT, tileapi.PNG],
                                                    default=tileapi.MVT)
    parsed = tileapi.parse_ogc_tile(ctx, collection_id, tile_matrix, tile_row, tile_col,
                                    _args(), "png" if preferred == tileapi.PNG else "mvt")
    response = _tile_response(ctx, parsed)
    response.vary.add("Accept")
    return response


def _tile_response(ctx, parsed, draw=tileapi.tile) -> Response:
    """A tile (`draw`n: `tileapi.tile` or `large_tiles.stitched`) with its ETag and caching
    headers, 304 when If-None-Match matches."""
    result = draw(ctx.services, parsed)
    return _answer(result.data, result.content_type, _caching(result.public, result.stale),
                   result.etag)


def _composite_response(ctx, parts) -> Response:
    """A composite tile at its plain URL: public when every part is."""
    result = composite_tiles.composite_tile(ctx.services, parts)
    return _answer(result.data, tileapi.MVT, _caching(result.public, result.stale),
                   result.etag)


def _caching(public: bool, stale: bool = False) -> str:
    if not public:
        return f"private, max-age={PRIVATE_MAX_AGE}"
    return STALE if stale else f"public, max-age={PUBLIC_MAX_AGE}"


def _answer(data: bytes, content_type: str, cache_control: str, etag: str) -> Response:
    """Tile bytes with their strong ETag (304 when If-None-Match matches) and
    `cache_control`; private answers vary by the credentials."""
    response = Response(data, mimetype=content_type)
    response.set_etag(etag.strip('"'))
    response.headers["Cache-Control"] = cache_control
    if cache_control.startswith("private"):
        response.headers["Vary"] = "X-API-Key, Authorization, Cookie"
    response = response.make_conditional(request)
    response.headers.pop("Date", None)  # the server adds its own; one Date header only
    return response


@blueprint.get("/tiles/<layer_id>.json")
@access.public
def tilejson(layer_id: str):
    """TileJSON 3.0 of a layer, or of a composite ('a,b,c')."""
    if "," in layer_id:
        return jsonify(composite_tiles.composite_tilejson(context(), layer_id, _args()))
    return jsonify(tileapi.tilejson(context(), layer_id, _args()))


@blueprint.get("/tiles/<layer_id>/metadata.json")
@access.public
def tileset_metadata(layer_id: str):
    """The MBTiles-style metadata GDAL's MVT driver reads to open a whole tile set."""
    return jsonify(tileapi.mbtiles_metadata(context(), layer_id, _args()))


@blueprint.get("/tiles")
@access.public
def layers():
    """The layers this reader may use, with links to their tiles, styles and legends."""
    return jsonify(tileapi.layer_list(context(), _args()))


@blueprint.get("/tiles/<layer_id>/style.json")
@access.public
def layer_style(layer_id: str):
    """MapLibre style of one layer."""
    return jsonify(tileapi.style(context(), [layer_id], _args()))


@blueprint.get("/tiles/<layer_id>/style.qml")
@access.public
def layer_qml(layer_id: str):
    """QGIS style (QML) of one layer."""
    xml = tileapi.desktop_style(context(), layer_id, _args(), "qml")
    return Response(xml, mimetype="application/vnd.qgis.qml+xml")


@blueprint.get("/tiles/<layer_id>/style.sld")
@access.public
def layer_sld(layer_id: str):
    """SLD 1.1 / Symbology Encoding style of one layer."""
    xml = tileapi.desktop_style(context(), layer_id, _args(), "sld")
    return Response(xml, mimetype="application/vnd.ogc.sld+xml")


@blueprint.get("/styles/geoservice.json")
@access.public
def combined_style():
    """MapLibre style of every layer this reader may see."""
    return jsonify(tileapi.style(context(), None, _args()))


@blueprint.get("/tiles/<layer_id>/legend.<fmt>")
@access.public
def legend(layer_id: str, fmt: str):
    """A layer's legend as JSON or PNG."""
    if fmt not in ("json", "png"):
        from geoservice.errors import NotFound

        raise NotFound("A legend is legend.json or legend.png.")
    ctx = context()
    body = tileapi.legend(ctx, layer_id, _args(), fmt)
    if fmt == "json":
        return jsonify(body)
    response = Response(body, mimetype="image/png")
    restricted = ctx.catalog[layer_id].restricted
    response.headers["Cache-Control"] = (f"private, max-age={PRIVATE_MAX_AGE}" if restricted
                                         else f"public, max-age={PUBLIC_MAX_AGE}")
    if restricted:
        response.headers["Vary"] = "X-API-Key, Authorization, Cookie"
    return response


@blueprint.get("/wmts/1.0.0/WMTSCapabilities.xml")
@access.public
def wmts_capabilities():
    """WMTS 1.0.0 capabilities (RESTful) of the layers this reader may see."""
    ctx = context()
    xml = wmts.capabilities(ctx.catalog, readable_layers(ctx.catalog, ctx.principal), ctx.base,
                            P.LANG.get(request.args, "vi"))
    return Response(xml, mimetype="application/xml")


@blueprint.get("/collections/<collection_id>/tiles")
@access.public
def ogc_tilesets(collection_id: str):
    """OGC API - Tiles: the tile sets of a layer."""
    return jsonify(tileapi.ogc_tilesets(context(), collection_id, _args()))


@blueprint.get("/collections/<collection_id>/tiles/WebMercatorQuad")
@access.public
def ogc_tileset(collection_id: str):
    """OGC API - Tiles: a layer's tile set in WebMercatorQuad."""
    return jsonify(tileapi.ogc_tileset(context(), collection_id, _args()))


@blueprint.get("/tileMatrixSets")
@access.public
def tile_matrix_sets():
    """OGC API - Tiles: the tile matrix sets offered."""
    return jsonify({"tileMatrixSets": [{
        "id": "WebMercatorQuad", "uri": ogctiles.TMS_URI,
        "links": [{"href": f"{base_url()}/tileMatrixSets/WebMercatorQuad", "rel": "self",
                   "type": "application/json"}]}]})


@blueprint.get("/tileMatrixSets/WebMercatorQuad")
@access.public
def tile_matrix_set():
    """OGC API - Tiles: the WebMercatorQuad definition."""
    return jsonify(ogctiles.tile_matrix_set())
