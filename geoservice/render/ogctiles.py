"""OGC API - Tiles documents (the cheap part): each layer's tile sets in WebMercatorQuad,
pointing at the same MVT and PNG tiles as the XYZ URLs, and the tile matrix set itself."""

from __future__ import annotations

from geoservice.render.wmts import SCALE_Z0, TOP_LEFT

TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
CRS_3857 = "http://www.opengis.net/def/crs/EPSG/0/3857"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/png",
]
MAX_ZOOM = 22


def tilesets(layer, base: str) -> dict:
    """The tile sets of a layer (one, in WebMercatorQuad)."""
    url = f"{base}/collections/{layer.id}/tiles/WebMercatorQuad"
    return {"tilesets": [{
        "title": layer.title("vi"), "dataType": "vector", "crs": CRS_3857,
        "tileMatrixSetURI": TMS_URI,
        "links": [{"href": url, "rel": "self", "type": "application/json"},
                  {"href": f"{base}/tileMatrixSets/WebMercatorQuad",
                   "rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme",
                   "type": "application/json"}],
    }], "links": [{"href": f"{base}/collections/{layer.id}/tiles", "rel": "self",
                   "type": "application/json"}]}


def tileset(layer, base: str) -> dict:
    """A layer's tile set: limits, the layer and links to the tiles (MVT and PNG)."""
    template = f"{base}/tiles/{layer.id}/{{tileMatrix}}/{{tileCol}}/{{tileRow}}"
    return {
        "title": layer.title("vi"), "description": layer.description.get("en"),
        "dataType": "vector", "crs": CRS_3857, "tileMatrixSetURI": TMS_URI,
        "tileMatrixSetLimits": [{"tileMatrix": str(z)} for z in range(
            layer.minzoom, layer.maxzoom + 1)],
        "layers": [{"id": layer.id, "dataType": "vector", "geometryDimension": {
            "point": 0, "line": 1, "polygon": 2}[layer.geometry],
            "minTileMatrix": str(layer.minzoom), "maxTileMatrix": str(layer.maxzoom),
            "propertiesSchema": {"type": "object", "properties": {
                name: {} for name in layer.fields}}}],
        "links": [
            {"href": f"{template}.mvt", "rel": "item", "templated": True,
             "type": "application/vnd.mapbox-vector-tile"},
            {"href": f"{template}.png", "rel": "item", "templated": True,
             "type": "image/png"},
            {"href": f"{base}/tileMatrixSets/WebMercatorQuad",
             "rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme",
             "type": "application/json"},
            {"href": f"{base}/tiles/{layer.id}/style.json", "rel": "describedby",
             "type": "application/json", "title": "MapLibre style"},
        ],
    }


def tile_matrix_set() -> dict:
    """The WebMercatorQuad tile matrix set (OGC 17-083r4), zooms 0-22."""
    west = float(TOP_LEFT.split()[0])
    return {
        "id": "WebMercatorQuad", "uri": TMS_URI, "crs": CRS_3857,
        "title": "Google Maps Compatible for the World",
        "orderedAxes": ["X", "Y"],
        "tileMatrices": [{
            "id": str(z), "scaleDenominator": SCALE_Z0 / 2**z,
            "cellSize": -2 * west / (256 * 2**z), "cornerOfOrigin": "topLeft",
            "pointOfOrigin": [west, -west], "tileWidth": 256, "tileHeight": 256,
            "matrixWidth": 2**z, "matrixHeight": 2**z,
        } for z in range(MAX_ZOOM + 1)],
    }
