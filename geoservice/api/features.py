"""OGC API - Features documents as plain functions (no Flask): landing page, conformance,
collections, items and single items, and the parsing of items parameters.

Views in `geoservice.web.features` pass the request's arguments and base URL in and send
the returned dicts out as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from urllib.parse import urlencode

import shapely

from geoservice.access import ANONYMOUS, AccessDecision, Principal, decide
from geoservice.collections import COLLECTIONS, CollectionDef
from geoservice.errors import (
    CollectionNotFound,
    DataNotBuilt,
    FeatureNotFound,
    Forbidden,
    GeoserviceError,
    InvalidParameter,
)
from geoservice.indicators import published
from geoservice.store import FeatureQuery, Store
from geoservice.store.records import RecordQuery
from geoservice.text import search_key
from geoservice.web.jsonio import geojson

GEOJSON = "application/geo+json"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
NEIGHBOR_CODES = ("CN", "LA", "KH")
MAX_QUERY_CHARS = 200  # a name search longer than any unit name is refused, not run
VIETNAM_EXTENT = (102.14, 8.18, 109.47, 23.39)  # where records lie when not yet measured
ITEMS_PARAMETERS = {"bbox", "limit", "offset", "province_code", "border_neighbor", "q", "f",
                    "year"}
RECORD_PARAMETERS = {"bbox", "limit", "offset", "province_code", "commune_code", "year",
                     "datetime", "category", "border_neighbor", "f"}


def landing(base: str) -> dict:
    """Return the landing page."""
    return {
        "title": "geoservice",
        "description": "Vietnam's 2025 administrative units, border communes and security and "
                       "order data as OGC API - Features collections.",
        "links": [
            {"href": f"{base}/", "rel": "self", "type": "application/json", "title": "This page"},
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


def collection_def(collection_id: str) -> CollectionDef:
    """Return a collection's definition or raise `CollectionNotFound`."""
    try:
        return COLLECTIONS[collection_id]
    except KeyError:
        known = ", ".join(COLLECTIONS)
        raise CollectionNotFound(
            f"There is no collection '{collection_id}'. Collections: {known}.") from None


def collection(store: Store, base: str, collection_id: str,
               principal: Principal = ANONYMOUS) -> dict:
    """Return one collection's metadata (a restricted one's size only to those who may read)."""
    definition = collection_def(collection_id)
    count, bbox = _extent(store, definition, principal)
    url = f"{base}/collections/{collection_id}"
    return {
        "id": definition.id,
        "title": definition.title,
        "title_en": definition.title_en,
        "description": definition.description,
        "itemType": "feature",
        "crs": [CRS84],
        "extent": {"spatial": {"bbox": [list(bbox or VIETNAM_EXTENT)], "crs": CRS84}},
        "restricted": definition.restricted,
        "numberOfFeatures": count,
        "links": [
            {"href": url, "rel": "self", "type": "application/json"},
            {"href": f"{url}/items", "rel": "items", "type": GEOJSON},
        ],
    }


def _extent(store: Store, definition: CollectionDef, principal: Principal):
    if definition.source == "features":
        return store.extent(definition.id)
    try:
        decision = decide(principal, definition)
    except GeoserviceError:
        return None, None
    page = store.query_records(definition.id, RecordQuery(
        limit=1, province_code=decision.province_code))
    return page.number_matched, None


def _readable(principal: Principal, definition: CollectionDef) -> bool:
    try:
        decide(principal, definition)
    except GeoserviceError:
        return False
    return True


def collections(store: Store, base: str, principal: Principal = ANONYMOUS) -> dict:
    """Return the collections this principal may read (restricted ones are not listed)."""
    return {
        "collections": [collection(store, base, cid, principal) for cid, d in COLLECTIONS.items()
                        if _readable(principal, d)],
        "links": [{"href": f"{base}/collections", "rel": "self", "type": "application/json"}],
    }


def parse_items_query(args: Mapping[str, str], definition: CollectionDef, default_limit: int,
                      max_limit: int) -> FeatureQuery:
    """Validate an items request's parameters into a `FeatureQuery` (or raise InvalidParameter)."""
    unknown = sorted(set(args) - ITEMS_PARAMETERS)
    if unknown:
        raise InvalidParameter(f"Unknown parameter '{unknown[0]}'. Accepted: "
                               f"{', '.join(sorted(ITEMS_PARAMETERS))}.", parameter=unknown[0])
    fmt = args.get("f")
    if fmt not in (None, "json", "geojson"):
        raise InvalidParameter("f must be 'json' or 'geojson'.", parameter="f")
    limit = min(_whole(args.get("limit"), "limit", default_limit, minimum=1), max_limit)
    offset = _whole(args.get("offset"), "offset", 0, minimum=0)
    for name in ("province_code", "border_neighbor", "q"):
        if args.get(name) is not None and name not in definition.filters:
            raise InvalidParameter(f"Collection '{definition.id}' cannot be filtered by {name}.",
                                   parameter=name)
    province = args.get("province_code")
    if province is not None and not (province.isdigit() and len(province) == 2):
        raise InvalidParameter("province_code must be a two-digit province code, e.g. 08.",
                               parameter="province_code")
    neighbour = args.get("border_neighbor")
    if neighbour is not None:
        neighbour = neighbour.upper()
        if neighbour not in NEIGHBOR_CODES:
            raise InvalidParameter("border_neighbor must be one of CN, LA, KH.",
                                   parameter="border_neighbor")
    q = args.get("q")
    if q is not None:
        if len(q) > MAX_QUERY_CHARS:
            raise InvalidParameter(f"q is at most {MAX_QUERY_CHARS} characters.", parameter="q")
        q = search_key(q)
        if not q:
            raise InvalidParameter("q must contain letters or digits.", parameter="q")
    return FeatureQuery(limit=limit, offset=offset, bbox=parse_bbox(args.get("bbox")),
                        province_code=province, border_neighbor=neighbour, q=q)


def parse_bbox(value: str | None) -> tuple[float, float, float, float] | None:
    """Parse `minLon,minLat,maxLon,maxLat` in WGS 84 degrees."""
    if value is None:
        return None
    parts = value.split(",")
    if len(parts) != 4:
        raise InvalidParameter("bbox must be four numbers: minLon,minLat,maxLon,maxLat.",
                               parameter="bbox")
    try:
        minx, miny, maxx, maxy = (float(p) for p in parts)
    except ValueError:
        raise InvalidParameter("bbox must be four numbers: minLon,minLat,maxLon,maxLat.",
                               parameter="bbox") from None
    finite = all(abs(v) < float("inf") for v in (minx, miny, maxx, maxy))
    if not finite or not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90
                          and -90 <= maxy <= 90):
        raise InvalidParameter("bbox is out of range: longitudes within ±180, latitudes within "
                               "±90.", parameter="bbox")
    if minx > maxx or miny > maxy:
        raise InvalidParameter("bbox minimum must not exceed its maximum.", parameter="bbox")
    return minx, miny, maxx, maxy


def parse_record_query(args: Mapping[str, str], definition: CollectionDef, default_limit: int,
                       max_limit: int, decision: AccessDecision) -> RecordQuery:
    """Validate a records items request into a `RecordQuery` (or raise InvalidParameter)."""
    unknown = sorted(set(args) - RECORD_PARAMETERS)
    if unknown:
        raise InvalidParameter(f"Unknown parameter '{unknown[0]}'. Accepted: "
                               f"{', '.join(sorted(RECORD_PARAMETERS))}.", parameter=unknown[0])
    base = parse_items_query({k: v for k, v in args.items()
                              if k in ("limit", "offset", "bbox", "f")},
                             definition, default_limit, max_limit)
    province = _code(args.get("province_code"), 2, "province_code")
    if decision.province_code:
        if province not in (None, decision.province_code):
            raise Forbidden(f"Your area is province {decision.province_code}.",
                            parameter="province_code")
        province = decision.province_code
    year = args.get("year")
    if year is not None:
        year = _whole(year, "year", 0, minimum=1900)
        if year > 2100:
            raise InvalidParameter("year must be between 1900 and 2100.", parameter="year")
    neighbour = args.get("border_neighbor")
    if neighbour is not None and neighbour.upper() not in NEIGHBOR_CODES:
        raise InvalidParameter("border_neighbor must be one of CN, LA, KH.",
                               parameter="border_neighbor")
    date_from, date_to = parse_datetime(args.get("datetime"))
    return RecordQuery(
        limit=base.limit, offset=base.offset, bbox=base.bbox, province_code=province,
        commune_code=_code(args.get("commune_code"), 5, "commune_code"), year=year,
        date_from=date_from, date_to=date_to,
        category=_category(args.get("category"), definition.id),
        border_neighbor=neighbour.upper() if neighbour else None,
    )


def _code(value: str | None, digits: int, name: str) -> str | None:
    if value is None:
        return None
    if not (value.isascii() and value.isdigit() and len(value) == digits):
        raise InvalidParameter(f"{name} must be a {digits}-digit code.", parameter=name)
    return value


def _category(value: str | None, kind_id: str) -> str | None:
    from geoservice.records.kinds import KINDS

    if value is None:
        return None
    kind = KINDS[kind_id]
    if kind.category_field is None:
        raise InvalidParameter(f"Collection '{kind_id}' has no category.", parameter="category")
    choices = kind.field(kind.category_field).choices
    if value not in choices:
        raise InvalidParameter(f"category must be one of: {', '.join(choices)}.",
                               parameter="category")
    return value


def parse_datetime(value: str | None) -> tuple[date | None, date | None]:
    """Parse an OGC `datetime`: a date, or an interval `a/b` with `..` for an open end."""
    if value is None:
        return None, None
    parts = value.split("/")
    if len(parts) > 2:
        raise InvalidParameter("datetime must be a date or an interval start/end.",
                               parameter="datetime")
    try:
        bounds = [None if p in ("..", "") else date.fromisoformat(p[:10]) for p in parts]
    except ValueError:
        raise InvalidParameter("datetime dates must be written YYYY-MM-DD.",
                               parameter="datetime") from None
    start, end = (bounds[0], bounds[0]) if len(bounds) == 1 else bounds
    if start and end and start > end:
        raise InvalidParameter("datetime interval starts after it ends.", parameter="datetime")
    return start, end


def _whole(value: str | None, name: str, default: int, minimum: int) -> int:
    if value is None:
        return default
    if not (value.isascii() and value.isdigit()) or len(value) > 9:
        raise InvalidParameter(f"{name} must be a whole number of at least {minimum}.",
                               parameter=name)
    number = int(value)
    if number < minimum:
        raise InvalidParameter(f"{name} must be a whole number of at least {minimum}.",
                               parameter=name)
    return number


def items(store: Store, base: str, collection_id: str, args: Mapping[str, str],
          default_limit: int, max_limit: int, principal: Principal = ANONYMOUS) -> dict:
    """Return a page of a collection as a GeoJSON FeatureCollection with paging links."""
    definition = collection_def(collection_id)
    decision = decide(principal, definition)
    if definition.source == "records":
        query = parse_record_query(args, definition, default_limit, max_limit, decision)
        _require_data(store, collection_id)
        page = store.query_records(collection_id, query)
    else:
        year = _unit_year(store, definition, args)
        query = parse_items_query({k: v for k, v in args.items() if k != "year"}, definition,
                                  default_limit, max_limit)
        _require_data(store, collection_id)
        page = store.query(collection_id, query)
        page.features = published.decorate(store, collection_id, page.features, year,
                                           _restricted_area(principal))
    url = f"{base}/collections/{collection_id}/items"
    kept = {k: v for k, v in args.items() if k not in ("offset", "limit")}
    links = [_page_link(url, kept, query.limit, query.offset, "self")]
    if query.offset + query.limit < page.number_matched:
        links.append(_page_link(url, kept, query.limit, query.offset + query.limit, "next"))
    if query.offset > 0:
        links.append(_page_link(url, kept, query.limit, max(query.offset - query.limit, 0),
                                "prev"))
    body = {
        "type": "FeatureCollection",
        "features": [feature(fid, props, geom, spliced=True)
                     for fid, props, geom in page.features],
        "numberMatched": page.number_matched,
        "numberReturned": len(page.features),
        "timeStamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "links": links,
    }
    return with_notice(store, definition.id, body)


def with_notice(store: Store, collection_id: str, body: dict) -> dict:
    """Add the synthetic-data notice to a response that shows records or indicators."""
    shows_records = (collection_id not in COLLECTIONS
                     or COLLECTIONS[collection_id].source == "records"
                     or collection_id in published.UNIT_LEVELS)
    notice = published.synthetic_notice(store) if shows_records else None
    if notice:
        body["notice"] = notice
    return body


def item(store: Store, base: str, collection_id: str, feature_id: str,
         principal: Principal = ANONYMOUS, args: Mapping[str, str] | None = None) -> dict:
    """Return one feature with its links."""
    definition = collection_def(collection_id)
    decision = decide(principal, definition)
    args = args or {}
    unknown = sorted(set(args) - {"f", "year"})
    if unknown or ("year" in args and definition.id not in published.UNIT_LEVELS):
        name = unknown[0] if unknown else "year"
        raise InvalidParameter(f"Unknown parameter '{name}' for a single feature.",
                               parameter=name)
    year = _unit_year(store, definition, args)
    _require_data(store, collection_id)
    if definition.source == "records":
        page = store.query_records(collection_id, RecordQuery(
            record_id=feature_id, province_code=decision.province_code, limit=1))
        found = page.features[0] if page.features else None
    else:
        found = store.get(collection_id, feature_id)
    if found is None:
        raise FeatureNotFound(f"Collection '{collection_id}' has no feature '{feature_id}'.")
    found = published.decorate(store, collection_id, [found], year,
                               _restricted_area(principal))[0]
    body = feature(*found)
    url = f"{base}/collections/{collection_id}"
    body["links"] = [
        {"href": f"{url}/items/{feature_id}", "rel": "self", "type": GEOJSON},
        {"href": url, "rel": "collection", "type": "application/json"},
    ]
    return with_notice(store, collection_id, body)


def _unit_year(store: Store, definition: CollectionDef, args: Mapping[str, str]) -> int | None:
    """The indicator year of a communes/provinces request (other collections take none)."""
    if definition.id not in published.UNIT_LEVELS:
        if "year" in args:
            raise InvalidParameter(f"Collection '{definition.id}' has no yearly indicators.",
                                   parameter="year")
        return None
    return published.indicator_year(store, args.get("year"))


def _restricted_area(principal: Principal) -> str | None | bool:
    """Where this principal may see restricted indicators: False nowhere, None everywhere."""
    try:
        decision = decide(principal, COLLECTIONS["incidents"])
    except GeoserviceError:
        return False
    return decision.province_code


def feature(fid: str, properties: dict, geometry, spliced: bool = False) -> dict:
    """Return a GeoJSON Feature; `spliced` keeps the geometry as GEOS wrote it (a JSON
    fragment only our response encoder can write: for bodies that go straight out; kept
    for the next page showing the same shape, `geoservice.web.jsonio.EncodedShapes`)."""
    if geometry is None:
        shape = None
    elif spliced:
        shape = geojson(geometry)
    else:
        shape = json.loads(shapely.to_geojson(geometry))
    return {"type": "Feature", "id": fid, "geometry": shape, "properties": properties}


def _require_data(store: Store, collection_id: str) -> None:
    if store.get_meta("boundaries_loaded_at") is None:
        raise DataNotBuilt("The boundary data has not been built yet: run "
                           "'geoservice build-data' (make run does it).")


def _page_link(url: str, args: dict, limit: int, offset: int, rel: str) -> dict:
    query = urlencode({**args, "limit": limit, "offset": offset})
    return {"href": f"{url}?{query}", "rel": rel, "type": GEOJSON}
