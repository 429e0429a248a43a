"""The OpenAPI 3.0 document, generated from the collection definitions."""

from __future__ import annotations

from geoservice.collections import COLLECTIONS

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

PARAMETERS = {
    "bbox": {"name": "bbox", "in": "query", "required": False, "style": "form",
             "explode": False, "description": "minLon,minLat,maxLon,maxLat (WGS 84)",
             "schema": {"type": "array", "minItems": 4, "maxItems": 4,
                        "items": {"type": "number"}}},
    "limit": {"name": "limit", "in": "query", "required": False,
              "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 10}},
    "offset": {"name": "offset", "in": "query", "required": False,
               "schema": {"type": "integer", "minimum": 0, "default": 0}},
    "province_code": {"name": "province_code", "in": "query", "required": False,
                      "schema": {"type": "string", "pattern": "^[0-9]{2}$"}},
    "border_neighbor": {"name": "border_neighbor", "in": "query", "required": False,
                        "schema": {"type": "string", "enum": ["CN", "LA", "KH"]}},
    "commune_code": {"name": "commune_code", "in": "query", "required": False,
                     "schema": {"type": "string", "pattern": "^[0-9]{5}$"}},
    "year": {"name": "year", "in": "query", "required": False,
             "schema": {"type": "integer", "minimum": 1900, "maximum": 2100}},
    "datetime": {"name": "datetime", "in": "query", "required": False,
                 "description": "A date (YYYY-MM-DD) or an interval start/end; '..' leaves "
                                "an end open",
                 "schema": {"type": "string"}},
    "category": {"name": "category", "in": "query", "required": False,
                 "description": "The kind's category (group, model type, incident category "
                                "or activity type)",
                 "schema": {"type": "string"}},
    "q": {"name": "q", "in": "query", "required": False,
          "description": "Name search; diacritics and unit-type prefixes are ignored",
          "schema": {"type": "string", "minLength": 1}},
}


def _error_responses() -> dict:
    ref = {"$ref": "#/components/schemas/Error"}
    return {
        str(code): {"description": text, "content": {"application/json": {"schema": ref}}}
        for code, text in ((400, "Invalid parameter"), (404, "Not found"),
                           (503, "Data not built or store unavailable"))
    }


def _properties_schema(definition) -> dict:
    return {
        "type": "object",
        "properties": {name: {"type": kind, "description": text}
                       for name, (kind, text) in definition.fields.items()},
    }


def openapi_document(base: str) -> dict:
    """Return the OpenAPI document for this deployment's base URL."""
    paths: dict = {
        "/": {"get": {"summary": "Landing page", "operationId": "landing",
                      "responses": {"200": {"description": "Landing page"}}}},
        "/conformance": {"get": {"summary": "Conformance classes", "operationId": "conformance",
                                 "responses": {"200": {"description": "Conformance"}}}},
        "/collections": {"get": {"summary": "Collections", "operationId": "collections",
                                 "responses": {"200": {"description": "Collections"}}}},
    }
    for cid, definition in COLLECTIONS.items():
        op = cid.replace("-", "_")
        filters = [{"$ref": f"#/components/parameters/{name}"} for name in definition.filters]
        feature_schema = {"$ref": f"#/components/schemas/{op}_properties"}
        paths[f"/collections/{cid}"] = {"get": {
            "summary": f"{definition.title_en}: metadata", "operationId": f"describe_{op}",
            "responses": {"200": {"description": "Collection"}, **_error_responses()}}}
        paths[f"/collections/{cid}/items"] = {"get": {
            "summary": f"{definition.title_en}: features", "operationId": f"items_{op}",
            "description": definition.description,
            "parameters": [{"$ref": "#/components/parameters/bbox"},
                           {"$ref": "#/components/parameters/limit"},
                           {"$ref": "#/components/parameters/offset"}, *filters],
            "responses": {"200": {"description": "GeoJSON FeatureCollection", "content": {
                "application/geo+json": {"schema": {"type": "object", "properties": {
                    "features": {"type": "array", "items": {"type": "object", "properties": {
                        "properties": feature_schema}}}}}}}}, **_error_responses()}}}
        paths[f"/collections/{cid}/items/{{featureId}}"] = {"get": {
            "summary": f"{definition.title_en}: one feature", "operationId": f"item_{op}",
            "parameters": [{"name": "featureId", "in": "path", "required": True,
                            "schema": {"type": "string"}}],
            "responses": {"200": {"description": "GeoJSON Feature", "content": {
                "application/geo+json": {"schema": {"type": "object", "properties": {
                    "properties": feature_schema}}}}}, **_error_responses()}}}
    from geoservice.api import search

    paths.update(search.openapi_paths())
    from geoservice.web import reports

    paths.update(reports.openapi_paths())
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
        "components": {
            "parameters": PARAMETERS,
            "schemas": {"Error": ERROR_SCHEMA, **{
                f"{cid.replace('-', '_')}_properties": _properties_schema(d)
                for cid, d in COLLECTIONS.items()}},
        },
    }
