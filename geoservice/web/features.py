"""The features API blueprint (OGC API - Features): HTTP in, plain functions, JSON out."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from geoservice import access
from geoservice.api import landing as landing_api
from geoservice.api import listing
from geoservice.api.context import GEOJSON
from geoservice.errors import InvalidParameter
from geoservice.web.context import base_url, context
from geoservice.web.openapi import openapi_document

blueprint = Blueprint("features", __name__)


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
    response = _json(landing_api.landing(base_url()))
    response.vary.add("Accept")
    return response


@blueprint.get("/conformance")
@access.public
def conformance():
    """Conformance classes."""
    return _json(landing_api.conformance())


@blueprint.get("/api")
@access.public
def api():
    """The OpenAPI 3.0 document."""
    return _json(openapi_document(base_url()), "application/vnd.oai.openapi+json;version=3.0")


@blueprint.get("/collections")
@access.public
def collections():
    """All collections the caller may read."""
    return _json(listing.listing(context()))


@blueprint.get("/collections/<collection_id>")
@access.public
def collection(collection_id: str):
    """One collection."""
    ctx = context()
    return _json(listing.find(ctx, collection_id).document(ctx))


@blueprint.get("/collections/<collection_id>/items")
@access.public
def items(collection_id: str):
    """A page of features."""
    ctx = context()
    body = listing.find(ctx, collection_id).items(ctx, request.args.to_dict())
    return _json(body, GEOJSON)


@blueprint.get("/collections/<collection_id>/items/<feature_id>")
@access.public
def item(collection_id: str, feature_id: str):
    """One feature."""
    ctx = context()
    body = listing.find(ctx, collection_id).item(ctx, feature_id, request.args.to_dict())
    return _json(body, GEOJSON)
