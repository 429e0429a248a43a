"""The features API blueprint (OGC API - Features): HTTP in, plain functions, JSON out."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, Response, jsonify, render_template, request

from geoservice import access
from geoservice import params as P
from geoservice.api import clusters as clusters_api
from geoservice.api import landing as landing_api
from geoservice.api import listing, table
from geoservice.api.context import GEOJSON
from geoservice.errors import InvalidParameter
from geoservice.web.context import base_url, context
from geoservice.web.openapi import LIST_PARAMETERS, openapi_document

blueprint = Blueprint("features", __name__)
PAGE_F, _ = LIST_PARAMETERS  # /conformance, /collections, /collections/{id}, /landing


def _json(body: dict, content_type: str = "application/json"):
    response = jsonify(body)
    response.content_type = content_type
    return response


def _page_args() -> tuple[str, str]:
    """The format and language of a document route (unknown parameters refused)."""
    args = request.args.to_dict()
    P.known(args, [p.name for p in LIST_PARAMETERS])
    return PAGE_F.get(args, "json"), P.LANG.get(args, "vi")


def _html(template: str, title: str, body: dict, **extra):
    return render_template(f"ogc/{template}", title=title, body=body, base=base_url(),
                           links=body.get("links", []), **extra)


def _as_html(href: str) -> str:
    parts = urlsplit(href)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "f"] + [("f", "html")]
    return urlunsplit(parts._replace(query=urlencode(query)))


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
    fmt, _ = _page_args()
    body = landing_api.conformance()
    if fmt == "html":
        return _html("landing.html", "Conformance", {
            "description": "Conformance classes this service implements.",
            "links": [{"href": c, "rel": "conformsTo", "type": "text/html", "title": c}
                      for c in body["conformsTo"]]})
    return _json(body)


@blueprint.get("/landing")
@access.public
def landing_page():
    """The landing document as an HTML page (`/` gives browsers the map)."""
    _page_args()
    body = landing_api.landing(base_url())
    return _html("landing.html", body["title"], body)


@blueprint.get("/api")
@access.public
def api():
    """The OpenAPI 3.0 document."""
    return _json(openapi_document(base_url()), "application/vnd.oai.openapi+json;version=3.0")


@blueprint.get("/collections")
@access.public
def collections():
    """All collections the caller may read."""
    fmt, lang = _page_args()
    body = listing.listing(context(), lang)
    if fmt == "html":
        return _html("collections.html", "Collections", body)
    return _json(body)


@blueprint.get("/collections/<collection_id>")
@access.public
def collection(collection_id: str):
    """One collection."""
    ctx = context()
    fmt, lang = _page_args()
    body = listing.find(ctx, collection_id).document(ctx, lang)
    if fmt == "html":
        return _html("collection.html", body["title"], body)
    return _json(body)


@blueprint.get("/collections/<collection_id>/queryables")
@access.public
def queryables(collection_id: str):
    """The collection's queryables (JSON Schema)."""
    ctx = context()
    args = request.args.to_dict()
    P.known(args, ("f",))
    fmt = P.fmt("json").get(args)
    body = listing.find(ctx, collection_id).queryables(ctx)
    # ?f=json: the same schema as plain JSON (GDAL 3.6 refuses application/schema+json)
    return _json(body, "application/json" if fmt else "application/schema+json")


@blueprint.get("/collections/<collection_id>/items")
@access.public
def items(collection_id: str):
    """A page of features."""
    ctx = context()
    args = request.args.to_dict()
    collection = listing.find(ctx, collection_id)
    body = collection.items(ctx, args)
    if args.get("f") in P.TABLE_FORMATS:
        return _table(collection, body, args["f"])
    if args.get("f") == "html":
        columns = list(dict.fromkeys(k for f in body["features"]
                                     for k in (f["properties"] or {})))
        paging = [(link["rel"], _as_html(link["href"])) for link in body["links"]
                  if link["rel"] in ("prev", "next")]
        return _html("items.html", f"{collection_id}: features", body,
                     collection_id=collection_id, columns=columns, paging=paging)
    return _json(body, GEOJSON)


def _table(collection, body: dict, fmt: str):
    """The page as a CSV or XLSX download (`geoservice.api.table`)."""
    data = table.table(body, fmt, collection.id, collection.types())
    response = Response(data, content_type=table.MEDIA_TYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{collection.id}.{fmt}"'
    return response


@blueprint.get("/collections/<collection_id>/clusters")
@access.public
def clusters(collection_id: str):
    """A point collection's features in clusters per zoom (counts of every match)."""
    body = clusters_api.clusters(context(), collection_id, request.args.to_dict())
    return _json(body, GEOJSON)


@blueprint.get("/collections/<collection_id>/items/<feature_id>")
@access.public
def item(collection_id: str, feature_id: str):
    """One feature."""
    ctx = context()
    body = listing.find(ctx, collection_id).item(ctx, feature_id, request.args.to_dict())
    return _json(body, GEOJSON)
