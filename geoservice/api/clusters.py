"""Point collections in clusters computed on the server, per zoom: honest counts for a map.

A cluster is a cell of a grid anchored to the world in Web Mercator pixels at the view's
zoom (`CELL_PX` screen pixels square, 256-pixel tiles), so a point falls in the same cell in
every view at that zoom, and a cell wholly inside two views is the same cluster in both
(cells the view's edge cuts count the features inside the view). Each cluster is a Point
at the mean position (in Web Mercator) of its members with its `count`; a cell holding one
feature is that feature, with its id and properties. The features counted are exactly
those the collection's items route matches for the same filters and reader (its access
rule, a province reader's province, a key's layers): the counts add up to the items'
`numberMatched`, never to a page of it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import urlencode

import numpy as np
import shapely

from geoservice import params as P
from geoservice.api import listing
from geoservice.api.collections import Collection, with_notice
from geoservice.api.context import GEOJSON, RequestContext
from geoservice.api.layers import LayerCollection
from geoservice.api.stored import StoredCollection
from geoservice.errors import InvalidParameter, NotFound

CELL_PX = 64  # a cluster's cell: 64 × 64 screen pixels at the view's zoom
TILE_PX = 256
# Items parameters that choose a page or its shape, not which features match.
NOT_FILTERS = ("limit", "offset", "f", "sortby", "properties")


def clustered(collection: Collection) -> bool:
    """True for collections of points (records with a position, point layers)."""
    if isinstance(collection, StoredCollection):
        return collection.definition.geometry == "Point"
    return isinstance(collection, LayerCollection) and collection.layer.geometry == "point"


def parameters(collection: Collection, limits: tuple[int, int]) -> list[P.Parameter]:
    """The clusters route's parameters: `zoom` and the items route's filters."""
    return [P.ZOOM, *(p for p in collection.parameters(limits) if p.name not in NOT_FILTERS)]


def clusters(ctx: RequestContext, collection_id: str, args: Mapping[str, str]) -> dict:
    """The clusters of the features an items request with these filters matches."""
    collection = listing.find(ctx, collection_id)
    if not clustered(collection):
        raise NotFound(f"Collection '{collection_id}' has no clusters: only collections of "
                       "points have (e.g. incidents).")
    settings = ctx.services.settings
    limits = settings["DEFAULT_ITEMS_LIMIT"], settings["MAX_ITEMS_LIMIT"]
    P.known(args, [p.name for p in parameters(collection, limits)])
    zoom = P.ZOOM.get(args)
    if zoom is None:
        raise InvalidParameter("zoom is required: the map's zoom level (0-22).",
                               parameter="zoom")
    wanted = {k: v for k, v in args.items() if k != "zoom"}
    rows, matched = _matching(ctx, collection, wanted)
    features, unlocated = group(rows, zoom)
    url = ctx.url(f"/collections/{collection.id}/clusters")
    return with_notice(ctx.store, collection.id, {
        "type": "FeatureCollection", "features": features,
        "numberMatched": matched, "numberClusters": len(features), "zoom": zoom,
        "cellSize": CELL_PX, "unlocated": unlocated,
        "timeStamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "links": [{"href": f"{url}?{urlencode(dict(args))}", "rel": "self", "type": GEOJSON},
                  {"href": ctx.url(f"/collections/{collection.id}/items?{urlencode(wanted)}"),
                   "rel": "items", "type": GEOJSON}],
    })


def _matching(ctx: RequestContext, collection: Collection, args: Mapping[str, str]):
    """(every matching (id, properties, lon/lat geometry), how many matched)."""
    if isinstance(collection, StoredCollection):
        found, _query = collection.matching(ctx, args, every=True)
        return found.features, found.number_matched
    source, chosen = collection.matching(ctx, args, every=True)
    rows = [(source.ids[i], source.properties[i], source.lonlat[i]) for i in chosen]
    return rows, len(rows)


def pixels(lon: np.ndarray, lat: np.ndarray, zoom: int) -> tuple[np.ndarray, np.ndarray]:
    """World pixel coordinates (origin top left, y down) of lon/lat at `zoom`."""
    size = TILE_PX * 2**zoom
    lat = np.clip(lat, -85.0511, 85.0511)
    x = (lon + 180.0) / 360.0 * size
    y = (1 - np.log(np.tan(np.radians(lat)) + 1 / np.cos(np.radians(lat))) / math.pi) / 2
    return x, y * size


def lonlat(x: float, y: float, zoom: int) -> tuple[float, float]:
    """The lon/lat of a world pixel at `zoom` (the inverse of `pixels`)."""
    size = TILE_PX * 2**zoom
    lon = x / size * 360.0 - 180.0
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / size))))
    return lon, lat


def group(rows: list, zoom: int) -> tuple[list[dict], int]:
    """(cluster features in grid order, features without a position) of (id, properties,
    geometry) rows."""
    located = [(fid, props, g) for fid, props, g in rows
               if g is not None and not g.is_empty]
    if not located:
        return [], len(rows)
    points = shapely.centroid(np.array([g for _f, _p, g in located], dtype=object))
    x, y = pixels(shapely.get_x(points), shapely.get_y(points), zoom)
    cells = np.column_stack([np.floor(x / CELL_PX), np.floor(y / CELL_PX)]).astype(np.int64)
    keys, inverse, counts = np.unique(cells, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    sum_x = np.bincount(inverse, weights=x, minlength=len(keys))
    sum_y = np.bincount(inverse, weights=y, minlength=len(keys))
    first = np.full(len(keys), -1)
    first[inverse] = np.arange(len(inverse))  # a cell's member (its only one, for singles)
    features = []
    for k, ((cx, cy), count) in enumerate(zip(keys.tolist(), counts.tolist())):
        if count == 1:
            fid, props, _g = located[first[k]]
            point = points[first[k]]
            features.append(_point(fid, {**props, "count": 1}, point.x, point.y))
            continue
        lon, lat = lonlat(sum_x[k] / count, sum_y[k] / count, zoom)
        features.append(_point(f"cluster-{zoom}-{cx}-{cy}", {"count": count, "cluster": True},
                               lon, lat))
    return features, len(rows) - len(located)


def _point(fid: str, properties: dict, lon: float, lat: float) -> dict:
    return {"type": "Feature", "id": fid, "properties": properties,
            "geometry": {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]}}
