"""The OpenAPI 3.0 document, generated from the collection definitions."""

from __future__ import annotations

from flask import has_app_context

from geoservice import params as P
from geoservice import services
from geoservice.api import table
from geoservice.api.layers import LayerCollection
from geoservice.api.stored import StoredCollection
from geoservice.collections import COLLECTIONS
from geoservice.config import DEFAULTS
from geoservice.indicators import published

LIST_PARAMETERS = (P.fmt("json", "html"), P.LANG)  # as web/features.py's document routes
GEOJSON = "application/geo+json"
TABLES = {media.split(";")[0]: {"schema": {"type": "string", "format": "binary"}}
          for media in table.MEDIA_TYPES.values()}


def _limits() -> tuple[int, int]:
    settings = services.current().settings if has_app_context() else DEFAULTS
    return settings["DEFAULT_ITEMS_LIMIT"], settings["MAX_ITEMS_LIMIT"]


def _layers() -> list:
    """The layers published as collections of their own (not named like a collection)."""
    if not has_app_context():
        return []
    catalog = services.current().catalog
    return [catalog[i] for i in sorted(catalog) if i not in COLLECTIONS]

ERROR_SCHEMA = {
    "type": "object",
    "required": ["code", "description", "status"],
    "properties": {
        "code": {"type": "string", "example": "InvalidParameter"},
        "description": {"type": "string"},
        "status": {"type": "integer"},
        "parameter": {"type": "string"},
    },
}

SECURITY_SCHEMES = {
    "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key",
               "description": "An API key (administrators create them: /admin/keys)"},
    "Bearer": {"type": "http", "scheme": "bearer",
               "description": "The same API key as Authorization: Bearer <key>"},
    "Session": {"type": "apiKey", "in": "cookie", "name": "geoservice_session",
                "description": "The session cookie of /login"},
}
# Every route is open to anonymous callers for public data; a key or session opens more.
SECURITY = [{}, {"ApiKey": []}, {"Bearer": []}, {"Session": []}]


def _error_responses() -> dict:
    ref = {"$ref": "#/components/schemas/Error"}
    return {
        str(code): {"description": text, "content": {"application/json": {"schema": ref}}}
        for code, text in ((400, "Invalid parameter"), (404, "Not found"),
                           (503, "Data not built or store unavailable"))
    }


def _properties_schema(definition) -> dict:
    """A stored collection's properties; every one may be null where the definition says."""
    return {"type": "object", "properties": {
        name: {"type": kind, "description": text,
               **({"nullable": True} if name in definition.nullable else {})}
        for name, (kind, text) in definition.fields.items()}}


def _layer_properties_schema(layer) -> dict:
    """A layer's properties as its features carry them (lists and objects as text, like
    its tiles); indicators and joins may be null."""
    return {"type": "object", "properties": {
        name: {"type": "string" if kind in ("array", "object") else kind, "nullable": True}
        for name, kind in layer.field_types().items()}}


def _collection_paths(collection, op: str, properties: dict, limits, description: str):
    """The describe, items, item and queryables paths of one collection."""
    cid = collection.id
    title = collection.titles("en")[1] or cid
    feature = {"type": "object", "properties": {"properties": properties}}
    item_parameters = [{"name": "featureId", "in": "path", "required": True,
                        "schema": {"type": "string"}}, collection_item_f(collection)]
    if collection.id in published.UNIT_LEVELS:
        item_parameters.append(P.LAYER_YEAR.openapi())
    html = {"text/html": {"schema": {"type": "string"}}}
    document = [p.openapi() for p in LIST_PARAMETERS]
    return {
        f"/collections/{cid}": {"get": {
            "summary": f"{title}: metadata", "operationId": f"describe_{op}",
            "parameters": document,
            "responses": {"200": {"description": "Collection", "content": {
                "application/json": {"schema": {"type": "object"}}, **html}},
                **_error_responses()}}},
        f"/collections/{cid}/items": {"get": {
            "summary": f"{title}: features", "operationId": f"items_{op}",
            "description": description,
            "parameters": [_ref(p, limits) for p in collection.parameters(limits)],
            "responses": {"200": {"description": "GeoJSON FeatureCollection (f=csv, "
                                                 "f=xlsx: the page's properties as a table)",
                                  "content": {
                "application/geo+json": {"schema": {"type": "object", "properties": {
                    "features": {"type": "array", "items": feature}}}}, **html,
                **TABLES}}, **_error_responses()}}},
        f"/collections/{cid}/items/{{featureId}}": {"get": {
            "summary": f"{title}: one feature", "operationId": f"item_{op}",
            "parameters": [p if isinstance(p, dict) else p.openapi() for p in item_parameters],
            "responses": {"200": {"description": "GeoJSON Feature", "content": {
                "application/geo+json": {"schema": feature}}}, **_error_responses()}}},
        f"/collections/{cid}/queryables": {"get": {
            "summary": f"{title}: queryables", "operationId": f"queryables_{op}",
            "parameters": [P.fmt("json").openapi()],
            "responses": {"200": {"description": "JSON Schema of the queryables", "content": {
                "application/schema+json": {"schema": {"type": "object"}},
                "application/json": {"schema": {"type": "object"}}}},
                **_error_responses()}}},
    }


CLUSTERS_SCHEMA = {"type": "object", "required": ["type", "features", "numberMatched", "zoom"],
                   "properties": {
                       "type": {"type": "string", "enum": ["FeatureCollection"]},
                       "features": {"type": "array", "items": {"type": "object", "properties": {
                           "properties": {"type": "object", "required": ["count"],
                                          "properties": {"count": {"type": "integer",
                                                                   "minimum": 1}}}}}},
                       "numberMatched": {"type": "integer", "minimum": 0},
                       "zoom": {"type": "integer"}, "cellSize": {"type": "integer"},
                       "unlocated": {"type": "integer", "minimum": 0}}}


def _cluster_paths(limits) -> dict:
    """`/collections/{id}/clusters` of every collection of points (stored and layers)."""
    from geoservice.api import clusters

    every = [StoredCollection(d) for d in COLLECTIONS.values()]
    every += [LayerCollection(layer) for layer in _layers()]
    paths = {}
    for collection in filter(clusters.clustered, every):
        title = collection.titles("en")[1] or collection.id
        parameters = [_ref(p, limits) for p in clusters.parameters(collection, limits)]
        parameters[0] = {**parameters[0], "required": True}  # zoom
        paths[f"/collections/{collection.id}/clusters"] = {"get": {
            "summary": f"{title}: clusters per zoom",
            "operationId": f"clusters_{collection.id.replace('-', '_')}",
            "description": "Every feature the items route matches for these filters, "
                           f"grouped in cells of {clusters.CELL_PX} screen pixels of a grid "
                           "anchored to the world at the zoom (Web Mercator): a Point at "
                           "the members' mean position with its count; a cell of one "
                           "feature is that feature (its id and properties, count 1). The "
                           "counts add up to numberMatched.",
            "parameters": parameters,
            "responses": {"200": {"description": "GeoJSON FeatureCollection of clusters",
                                  "content": {GEOJSON: {"schema": CLUSTERS_SCHEMA}}},
                          **_error_responses()}}}
    return paths


def _shared(limits) -> dict:
    """Parameters shared by many operations, as components (each from its parser)."""
    return {p.name: p.openapi() for p in (
        P.YEAR, P.PROVINCE_CODE, P.COMMUNE_CODE, P.BBOX, P.OFFSET, P.DATETIME,
        P.BORDER_NEIGHBOR, P.LANG, P.limit(*limits))}


def _ref(parameter, limits) -> dict:
    """A `$ref` to the shared component when it is the same parameter (GDAL's OAPIF driver
    finds a collection's parameters, e.g. province_code, through these references)."""
    shared = _shared(limits).get(parameter.name)
    if shared == parameter.openapi():
        return {"$ref": f"#/components/parameters/{parameter.name}"}
    return parameter.openapi()


def collection_item_f(collection) -> dict:
    """The `f` of one feature (JSON or GeoJSON)."""
    return P.fmt("json", "geojson").openapi()


def openapi_document(base: str) -> dict:
    """Return the OpenAPI document for this deployment's base URL."""
    paths: dict = {
        "/": {"get": {"summary": "Landing page (a browser gets the map)",
                      "operationId": "landing",
                      "parameters": [P.fmt("json", "html").openapi()],
                      "responses": {"200": {"description": "Landing page", "content": {
                          "application/json": {"schema": {"type": "object"}},
                          "text/html": {"schema": {"type": "string"}}}}}}},
        "/landing": {"get": {"summary": "Landing page (HTML)", "operationId": "landing_html",
                             "parameters": [p.openapi() for p in LIST_PARAMETERS],
                             "responses": {"200": {"description": "Landing page", "content": {
                                 "text/html": {"schema": {"type": "string"}}}}}}},
        **{path: {"get": {"summary": summary, "operationId": op,
                          "parameters": [p.openapi() for p in LIST_PARAMETERS],
                          "responses": {"200": {"description": summary, "content": {
                              "application/json": {"schema": {"type": "object"}},
                              "text/html": {"schema": {"type": "string"}}}}}}}
           for path, op, summary in (("/conformance", "conformance", "Conformance classes"),
                                     ("/collections", "collections", "Collections"))},
    }
    limits = _limits()
    for cid, definition in COLLECTIONS.items():
        op = cid.replace("-", "_")
        paths.update(_collection_paths(
            StoredCollection(definition), op,
            {"$ref": f"#/components/schemas/{op}_properties"}, limits,
            definition.description))
    for layer in _layers():
        paths.update(_collection_paths(
            LayerCollection(layer), "layer_" + layer.id.replace("-", "_"),
            _layer_properties_schema(layer), limits, layer.description.get("en") or ""))
    paths.update(_cluster_paths(limits))
    from geoservice.api import search

    paths.update(search.openapi_paths())
    from geoservice.web import reports

    paths.update(reports.openapi_paths())
    from geoservice.web import catalogue, mapimage

    paths.update(mapimage.openapi_paths())
    paths.update(catalogue.openapi_paths())
    from geoservice.api.analyses import openapi_paths as analyses_paths

    paths.update(analyses_paths())
    from geoservice.web import openapi_access  # keep last: it adds the access statuses

    openapi_access.complete(paths)
    return {
        "openapi": "3.0.3",
        "info": {"title": "geoservice", "version": "0.1.0",
                 "description": "OGC API - Features for Vietnam's administrative units and "
                                "border communes."},
        "servers": [{"url": base or "/"}],
        "paths": paths,
        "security": SECURITY,
        "components": {
            "securitySchemes": SECURITY_SCHEMES,
            # shared by the routes other modules document ($ref), from the same parsers
            # (GDAL's OAPIF driver reads its page size from components/parameters/limit)
            "parameters": _shared(limits),
            "schemas": {"Error": ERROR_SCHEMA, **{
                f"{cid.replace('-', '_')}_properties": _properties_schema(d)
                for cid, d in COLLECTIONS.items()}},
        },
    }
