"""OGC API - Tiles documents (the cheap part): each layer's tile sets in WebMercatorQuad,
pointing at the same MVT and PNG tiles as the XYZ URLs, and the tile matrix set itself."""

from __future__ import annotations

from geoservice.render.wmts import REGION_BOUNDS, SCALE_Z0, TOP_LEFT
from geoservice.tilemath import matrix_limits

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
MVT = "application/vnd.mapbox-vector-tile"
TILING_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
TILESETS_VECTOR = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
# (extension, link relation, media type, title) of each style a layer has.
STYLES = (("json", "stylesheet", "application/vnd.mapbox.style+json", "MapLibre style"),
          ("qml", "stylesheet", "application/vnd.qgis.qml+xml", "QGIS style (QML)"),
          ("sld", "stylesheet", "application/vnd.ogc.sld+xml", "SLD 1.1 / SE style"))


def tileset_summary(layer, base: str) -> dict:
    """A layer's tile set as a tile set list names it (title, data type, grid, links)."""
    url = f"{base}/collections/{layer.id}/tiles/WebMercatorQuad"
    return {"title": layer.title("vi"), "dataType": "vector", "crs": CRS_3857,
            "tileMatrixSetURI": TMS_URI,
            "links": [{"href": url, "rel": "self", "type": "application/json",
                       "title": f"{layer.id} in WebMercatorQuad"},
                      {"href": f"{base}/tileMatrixSets/WebMercatorQuad", "rel": TILING_SCHEME,
                       "type": "application/json"}]}


def tilesets(layer, base: str) -> dict:
    """The tile sets of a layer (one, in WebMercatorQuad)."""
    return {"tilesets": [tileset_summary(layer, base)],
            "links": [{"href": f"{base}/collections/{layer.id}/tiles", "rel": "self",
                       "type": "application/json"},
                      {"href": f"{base}/collections/{layer.id}", "rel": "collection",
                       "type": "application/json"}]}


def matrix_set_limits(minzoom: int, maxzoom: int,
                      bounds: tuple[float, float, float, float] = REGION_BOUNDS) -> list[dict]:
    """The rows and columns of WebMercatorQuad covering `bounds` (degrees), per zoom."""
    limits = []
    for z in range(minzoom, maxzoom + 1):
        (col0, row0), (col1, row1) = matrix_limits(bounds, z)
        limits.append({"tileMatrix": str(z), "minTileRow": row0, "maxTileRow": row1,
                       "minTileCol": col0, "maxTileCol": col1})
    return limits


def tileset(layer, base: str, query: str = "") -> dict:
    """A layer's tile set: limits, the layer and links to its tiles (MVT and PNG) on the
    standard path; `query` ('?year=2024…' or '') carries the layer's parameters."""
    url = f"{base}/collections/{layer.id}/tiles/WebMercatorQuad"
    template = f"{url}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}{query}{'&' if query else '?'}"
    return {
        "title": layer.title("vi"), "description": layer.description.get("en"),
        "dataType": "vector", "crs": CRS_3857, "tileMatrixSetURI": TMS_URI,
        "tileMatrixSetLimits": matrix_set_limits(layer.minzoom, layer.maxzoom),
        "layers": [{"id": layer.id, "dataType": "vector", "geometryDimension": {
            "point": 0, "line": 1, "polygon": 2}[layer.geometry],
            "minTileMatrix": str(layer.minzoom), "maxTileMatrix": str(layer.maxzoom),
            "propertiesSchema": {"type": "object", "properties": {
                name: {} for name in layer.fields}}}],
        "links": [
            {"href": f"{url}{query}", "rel": "self", "type": "application/json"},
            {"href": f"{template}f=mvt", "rel": "item", "templated": True,
             "type": MVT, "title": "Mapbox vector tiles"},
            {"href": f"{template}f=png", "rel": "item", "templated": True,
             "type": "image/png", "title": "PNG tiles drawn with the layer's style"},
            {"href": f"{base}/tileMatrixSets/WebMercatorQuad", "rel": TILING_SCHEME,
             "type": "application/json"},
            *style_links(layer.id, base, query),
        ],
    }


def style_links(layer_id: str, base: str, query: str = "") -> list[dict]:
    """Links to a layer's styles: MapLibre, QGIS (QML) and SLD 1.1."""
    return [{"href": f"{base}/tiles/{layer_id}/style.{ext}{query}", "rel": rel,
             "type": media, "title": title} for ext, rel, media, title in STYLES]


# GDAL's OGCAPI driver types the layers it builds from vector tiles by the collection's
# `vectorType` (a name of the draft OGC API work GDAL followed, before OGC API - Tiles 1.0):
# without it each zoom level's layer is of geometry type "Unknown (any)".
VECTOR_TYPES = {"point": "Points", "line": "Lines", "polygon": "Polygons"}


def collection_members(layer) -> dict:
    """The members a collection that is also a layer carries besides its links: the draft
    `vectorType` GDAL reads, served in addition to the standard documents (JSON objects of
    OGC API - Common / Features collections admit further members; clients ignore them)."""
    return {"vectorType": VECTOR_TYPES[layer.geometry]}


def collection_links(layer_id: str, base: str) -> list[dict]:
    """The links a collection that is also a layer carries: its tile sets and styles."""
    return [{"href": f"{base}/collections/{layer_id}/tiles", "rel": TILESETS_VECTOR,
             "type": "application/json", "title": "Vector tile sets (OGC API - Tiles)"},
            *style_links(layer_id, base)]


def tile_matrix_set() -> dict:
    """The WebMercatorQuad tile matrix set as OGC 2D Tile Matrix Set 2.0 (17-083r4) writes
    it, zooms 0-22, with the 1.0 (17-083r2) member names alongside (`identifier`,
    `supportedCRS`, `boundingBox`, `topLeftCorner`): GDAL before 3.7 reads only those."""
    west = float(TOP_LEFT.split()[0])
    return {
        "id": "WebMercatorQuad", "uri": TMS_URI, "crs": CRS_3857,
        "identifier": "WebMercatorQuad", "supportedCRS": CRS_3857,
        "boundingBox": {"crs": CRS_3857, "lowerCorner": [west, west],
                        "upperCorner": [-west, -west]},
        "title": "Google Maps Compatible for the World",
        "orderedAxes": ["E", "N"],
        "wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
        "tileMatrices": [{
            "id": str(z), "identifier": str(z), "topLeftCorner": [west, -west],
            "scaleDenominator": SCALE_Z0 / 2**z,
            "cellSize": -2 * west / (256 * 2**z), "cornerOfOrigin": "topLeft",
            "pointOfOrigin": [west, -west], "tileWidth": 256, "tileHeight": 256,
            "matrixWidth": 2**z, "matrixHeight": 2**z,
        } for z in range(MAX_ZOOM + 1)],
    }
