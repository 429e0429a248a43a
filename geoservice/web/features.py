"""The features API blueprint (OGC API - Features): HTTP in, plain functions, JSON out."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from geoservice import access
from geoservice.api import features as ogcapi
from geoservice.api import layers as layerfeatures
from geoservice.errors import InvalidParameter
from geoservice.web.openapi import openapi_document

blueprint = Blueprint("features", __name__)


def _store():
    return current_app.extensions["geoservice.store"]


def _base() -> str:
    return request.url_root.rstrip("/")


def _json(body: dict, content_type: str = "application/json"):
    response = jsonify(body)
    response.content_type = content_type
    return response


@blueprint.get("/")
def landing():
    """Landing page: the map for browsers, the API's landing document for programs.

    Negotiated the OGC way: `?f=json` (or an Accept preferring JSON, `*/*` or none, as
    GDAL, QGIS and scripts send) gets the JSON document; `?f=html` or an Accept preferring
    text/html (a browser) gets the map page (`geoservice.web.mappage`).
    """
    fmt = request.args.get("f")
    if fmt not in (None, "json", "html"):
        raise InvalidParameter("f must be 'json' or 'html'.", parameter="f")
    wanted = request.accept_mimetypes.best_match(["application/json", "text/html"])
    if fmt == "html" or (fmt is None and wanted == "text/html"):
        from geoservice.web.mappage import map_page

        return map_page()
    response = _json(ogcapi.landing(_base()))
    response.vary.add("Accept")
    return response


@blueprint.get("/conformance")
@access.public
def conformance():
    """Conformance classes."""
    return _json(ogcapi.conformance())


@blueprint.get("/api")
@access.public
def api():
    """The OpenAPI 3.0 document."""
    return _json(openapi_document(_base()), "application/vnd.oai.openapi+json;version=3.0")


@blueprint.get("/collections")
@access.public
def collections():
    """All collections."""
    body = ogcapi.collections(_store(), _base(), g.principal)
    catalog = current_app.extensions["geoservice.catalog"]
    body["collections"] += [layerfeatures.collection(catalog, _base(), layer_id, g.principal)
                            for layer_id in layerfeatures.layer_ids(catalog, g.principal)]
    return _json(body)


@blueprint.get("/collections/<collection_id>")
@access.public
def collection(collection_id: str):
    """One collection."""
    catalog = current_app.extensions["geoservice.catalog"]
    if layerfeatures.is_layer(catalog, collection_id):
        return _json(layerfeatures.collection(catalog, _base(), collection_id, g.principal))
    return _json(ogcapi.collection(_store(), _base(), collection_id, g.principal))


@blueprint.get("/collections/<collection_id>/items")
@access.public
def items(collection_id: str):
    """A page of features."""
    config = current_app.config
    catalog = current_app.extensions["geoservice.catalog"]
    if layerfeatures.is_layer(catalog, collection_id):
        body = layerfeatures.items(_store(), current_app.extensions["geoservice.sources"],
                                   catalog, _base(), collection_id, request.args.to_dict(),
                                   config["GEOSERVICE_DEFAULT_ITEMS_LIMIT"],
                                   config["GEOSERVICE_MAX_ITEMS_LIMIT"], g.principal)
        return _json(body, ogcapi.GEOJSON)
    body = ogcapi.items(_store(), _base(), collection_id, request.args.to_dict(),
                        config["GEOSERVICE_DEFAULT_ITEMS_LIMIT"],
                        config["GEOSERVICE_MAX_ITEMS_LIMIT"], g.principal)
    return _json(body, ogcapi.GEOJSON)


@blueprint.get("/collections/<collection_id>/items/<feature_id>")
@access.public
def item(collection_id: str, feature_id: str):
    """One feature."""
    catalog = current_app.extensions["geoservice.catalog"]
    if layerfeatures.is_layer(catalog, collection_id):
        body = layerfeatures.item(_store(), current_app.extensions["geoservice.sources"],
                                  catalog, _base(), collection_id, feature_id,
                                  request.args.to_dict(), g.principal)
        return _json(body, ogcapi.GEOJSON)
    body = ogcapi.item(_store(), _base(), collection_id, feature_id, g.principal,
                       request.args.to_dict())
    return _json(body, ogcapi.GEOJSON)
