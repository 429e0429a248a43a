"""The service's landing document and its conformance declaration (OGC API - Common)."""

from __future__ import annotations

FEATURES, CQL2 = "http://www.opengis.net/spec/ogcapi-features", "http://www.opengis.net/spec/cql2"
# Only what the tests exercise (tests/web/test_ogc_features.py, test_openapi_conformance.py).
CONFORMANCE = [
    f"{FEATURES}-1/1.0/conf/core",
    f"{FEATURES}-1/1.0/conf/geojson",
    f"{FEATURES}-1/1.0/conf/oas30",
    f"{FEATURES}-1/1.0/conf/html",
    f"{FEATURES}-3/1.0/conf/queryables",
    f"{FEATURES}-3/1.0/conf/filter",
    f"{FEATURES}-3/1.0/conf/features-filter",
    f"{CQL2}/1.0/conf/cql2-text",
    f"{CQL2}/1.0/conf/cql2-json",
    f"{CQL2}/1.0/conf/basic-cql2",
    f"{CQL2}/1.0/conf/advanced-comparison-operators",
    f"{CQL2}/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/sorting",
    f"{FEATURES}-6/1.0/conf/properties",
]

def landing(base: str) -> dict:
    """Return the landing page."""
    return {
        "title": "geoservice",
        "description": "Vietnam's 2025 administrative units, border communes and security and "
                       "order data as OGC API - Features collections.",
        "links": [
            {"href": f"{base}/", "rel": "self", "type": "application/json", "title": "This page"},
            {"href": f"{base}/landing?f=html", "rel": "alternate", "type": "text/html",
             "title": "This page as HTML (a browser at / gets the map)"},
            {"href": f"{base}/api", "rel": "service-desc",
             "type": "application/vnd.oai.openapi+json;version=3.0", "title": "OpenAPI document"},
            {"href": f"{base}/conformance", "rel": "conformance", "type": "application/json",
             "title": "Conformance classes"},
            {"href": f"{base}/collections", "rel": "data", "type": "application/json",
             "title": "Collections"},
            {"href": f"{base}/tiles", "rel": "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
             "type": "application/json", "title": "Layers as tiles (MVT, PNG), styles, legends"},
            {"href": f"{base}/tileMatrixSets", "rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes",
             "type": "application/json", "title": "Tile matrix sets"},
            {"href": f"{base}/styles/geoservice.json", "rel": "stylesheet",
             "type": "application/json", "title": "MapLibre style of every layer"},
            {"href": f"{base}/wmts/1.0.0/WMTSCapabilities.xml", "rel": "alternate",
             "type": "application/xml", "title": "WMTS 1.0.0 capabilities"},
        ],
    }


def conformance() -> dict:
    """Return the conformance declaration (features, and the tiles classes served)."""
    from geoservice.render.ogctiles import CONFORMANCE as TILES

    return {"conformsTo": CONFORMANCE + TILES}
