"""The tiles blueprint: vector and raster tiles, TileJSON, MapLibre styles, legends and
WMTS capabilities. HTTP in, `geoservice.api.tiles` functions, bytes or JSON out.

Every tile has a strong ETag (a digest of its bytes) and Cache-Control: public layers may
be cached by anyone for a while; restricted ones only privately, varying by credentials.
A matching If-None-Match gets 304 with no body.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, jsonify, request

from geoservice import access
from geoservice.api import tiles as tileapi
from geoservice.render import ogctiles, wmts

blueprint = Blueprint("tiles", __name__)
PUBLIC_MAX_AGE = 300
PRIVATE_MAX_AGE = 60


def _ext(name: str):
    return current_app.extensions[name]


def _base() -> str:
    return request.url_root.rstrip("/")


def _args() -> dict:
    return request.args.to_dict()


@blueprint.get("/tiles/<layer_id>/<z>/<x>/<name>")
@access.public
def tile(layer_id: str, z: str, x: str, name: str):
    """One MVT or PNG tile."""
    parsed, decision = tileapi.parse_tile(_ext("geoservice.catalog"), layer_id, z, x, name,
                                          _args(), g.principal)
    result = tileapi.tile(_ext("geoservice.store"), _ext("geoservice.sources"),
                          _ext("geoservice.tile_cache"), parsed, decision)
    response = Response(result.data, mimetype=result.content_type)
    response.set_etag(result.etag.strip('"'))
    if result.public:
        response.headers["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE}"
    else:
        response.headers["Cache-Control"] = f"private, max-age={PRIVATE_MAX_AGE}"
        response.headers["Vary"] = "X-API-Key, Authorization, Cookie"
    response = response.make_conditional(request)
    response.headers.pop("Date", None)  # the server adds its own; one Date header only
    return response


@blueprint.get("/tiles/<layer_id>.json")
@access.public
def tilejson(layer_id: str):
    """TileJSON 3.0 of a layer."""
    return jsonify(tileapi.tilejson(_ext("geoservice.store"), _ext("geoservice.catalog"),
                                    layer_id, _base(), _args(), g.principal))


@blueprint.get("/tiles/<layer_id>/metadata.json")
@access.public
def tileset_metadata(layer_id: str):
    """The MBTiles-style metadata GDAL's MVT driver reads to open a whole tile set."""
    return jsonify(tileapi.mbtiles_metadata(_ext("geoservice.store"),
                                            _ext("geoservice.catalog"), layer_id, _base(),
                                            _args(), g.principal))


@blueprint.get("/tiles")
@access.public
def layers():
    """The layers this reader may use, with links to their tiles, styles and legends."""
    catalog, base = _ext("geoservice.catalog"), _base()
    lang = request.args.get("lang", "vi")
    return jsonify({"layers": [{
        "id": i, "title": catalog[i].title(lang if lang in ("vi", "en") else "vi"),
        "access": catalog[i].access, "theme": catalog[i].theme, "geometry": catalog[i].geometry,
        "minzoom": catalog[i].minzoom, "maxzoom": catalog[i].maxzoom,
        "params": catalog[i].params,
        "links": {"tilejson": f"{base}/tiles/{i}.json",
                  "mvt": f"{base}/tiles/{i}/{{z}}/{{x}}/{{y}}.mvt",
                  "png": f"{base}/tiles/{i}/{{z}}/{{x}}/{{y}}.png",
                  "style": f"{base}/tiles/{i}/style.json",
                  "legend": f"{base}/tiles/{i}/legend.json"},
    } for i in tileapi.readable_layers(catalog, g.principal)],
        "style": f"{base}/styles/geoservice.json",
        "wmts": f"{base}/wmts/1.0.0/WMTSCapabilities.xml"})


@blueprint.get("/tiles/<layer_id>/style.json")
@access.public
def layer_style(layer_id: str):
    """MapLibre style of one layer."""
    return jsonify(tileapi.style(_ext("geoservice.catalog"), _base(), [layer_id], _args(),
                                 g.principal))


@blueprint.get("/styles/geoservice.json")
@access.public
def combined_style():
    """MapLibre style of every layer this reader may see."""
    return jsonify(tileapi.style(_ext("geoservice.catalog"), _base(), None, _args(),
                                 g.principal))


@blueprint.get("/tiles/<layer_id>/legend.<fmt>")
@access.public
def legend(layer_id: str, fmt: str):
    """A layer's legend as JSON or PNG."""
    if fmt not in ("json", "png"):
        from geoservice.errors import NotFound

        raise NotFound("A legend is legend.json or legend.png.")
    body = tileapi.legend(_ext("geoservice.catalog"), layer_id, _args(), fmt, g.principal,
                          current_app.config["GEOSERVICE_NODE_MODULES"] or None)
    if fmt == "json":
        return jsonify(body)
    response = Response(body, mimetype="image/png")
    restricted = _ext("geoservice.catalog")[layer_id].restricted
    response.headers["Cache-Control"] = (f"private, max-age={PRIVATE_MAX_AGE}" if restricted
                                         else f"public, max-age={PUBLIC_MAX_AGE}")
    if restricted:
        response.headers["Vary"] = "X-API-Key, Authorization, Cookie"
    return response


@blueprint.get("/wmts/1.0.0/WMTSCapabilities.xml")
@access.public
def wmts_capabilities():
    """WMTS 1.0.0 capabilities (RESTful) of the layers this reader may see."""
    catalog = _ext("geoservice.catalog")
    lang = request.args.get("lang", "vi")
    xml = wmts.capabilities(catalog, tileapi.readable_layers(catalog, g.principal), _base(),
                            lang if lang in ("vi", "en") else "vi")
    return Response(xml, mimetype="application/xml")


@blueprint.get("/collections/<collection_id>/tiles")
@access.public
def ogc_tilesets(collection_id: str):
    """OGC API - Tiles: the tile sets of a layer."""
    layer, _decision, _year = tileapi.layer_for(_ext("geoservice.catalog"), collection_id, {},
                                                g.principal)
    return jsonify(ogctiles.tilesets(layer, _base()))


@blueprint.get("/collections/<collection_id>/tiles/WebMercatorQuad")
@access.public
def ogc_tileset(collection_id: str):
    """OGC API - Tiles: a layer's tile set in WebMercatorQuad."""
    layer, _decision, _year = tileapi.layer_for(_ext("geoservice.catalog"), collection_id, {},
                                                g.principal)
    return jsonify(ogctiles.tileset(layer, _base()))


@blueprint.get("/tileMatrixSets")
@access.public
def tile_matrix_sets():
    """OGC API - Tiles: the tile matrix sets offered."""
    return jsonify({"tileMatrixSets": [{
        "id": "WebMercatorQuad", "uri": ogctiles.TMS_URI,
        "links": [{"href": f"{_base()}/tileMatrixSets/WebMercatorQuad", "rel": "self",
                   "type": "application/json"}]}]})


@blueprint.get("/tileMatrixSets/WebMercatorQuad")
@access.public
def tile_matrix_set():
    """OGC API - Tiles: the WebMercatorQuad definition."""
    return jsonify(ogctiles.tile_matrix_set())
