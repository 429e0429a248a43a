"""The `Collection` interface of the features API, and what every kind of collection shares.

Boundary collections (provinces, communes …) and record collections (certification,
incidents …) are read from the store (`geoservice.api.stored`); every published layer
whose id is not a collection's is a collection of its own, its features as its tiles hold
them (`geoservice.api.layers`). Each answers the same three documents — its description,
a page of items and one item — in the same shapes, so views never ask which kind it is;
`geoservice.api.listing` finds them.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import urlencode

import shapely

from geoservice.access import decide
from geoservice.api.context import CRS84, GEOJSON, VIETNAM_BOUNDS, RequestContext
from geoservice.collections import COLLECTIONS
from geoservice.errors import GeoserviceError
from geoservice.indicators import published
from geoservice.render import ogctiles


class Collection(ABC):
    """A collection of the features API."""

    id: str
    restricted: bool
    is_layer: bool = False

    @abstractmethod
    def titles(self, lang: str = "vi") -> tuple[str, str, str]:
        """(Vietnamese title, English title, description)."""

    @abstractmethod
    def extent(self, ctx: RequestContext) -> tuple[int | None, tuple | None]:
        """(number of features the reader may see or None, bbox or None)."""

    @abstractmethod
    def items(self, ctx: RequestContext, args: Mapping[str, str]) -> dict:
        """A page of features as a GeoJSON FeatureCollection with paging links."""

    @abstractmethod
    def item(self, ctx: RequestContext, feature_id: str, args: Mapping[str, str]) -> dict:
        """One feature with its links."""

    def links(self, ctx: RequestContext) -> list[dict]:
        """Links of the collection document beyond self and items."""
        return []

    def temporal(self) -> tuple | None:
        """(first, last day; None open) the features are valid, or None: no time."""
        return None

    def types(self) -> dict[str, str]:
        """Queryable properties and their JSON types (and `geometry`)."""
        return {}

    def queryables(self, ctx: RequestContext) -> dict:
        """The queryables document (JSON Schema); readable only by the collection's readers."""
        from geoservice.api import queryables

        self.check_readable(ctx)
        fields = self.describe_fields()
        return queryables.document(ctx.url(f"/collections/{self.id}/queryables"),
                                   self.titles()[0], self.types(),
                                   {k: v[1] for k, v in fields.items()},
                                   {k: v[2] for k, v in fields.items()})

    def describe_fields(self) -> dict[str, tuple[str, str, str | None]]:
        """name -> (JSON type, description, format) of the collection's properties."""
        return {name: (kind, "", None) for name, kind in self.types().items()}

    def check_readable(self, ctx: RequestContext) -> None:
        """Raise the access decision's error when the reader may not read this."""
        decide(ctx.principal, self)

    def readable(self, ctx: RequestContext) -> bool:
        """True when the reader may read this collection."""
        try:
            decide(ctx.principal, self)
        except GeoserviceError:
            return False
        return True

    def document(self, ctx: RequestContext, lang: str = "vi") -> dict:
        """The collection's description (the same shape for every kind)."""
        title, title_en, description = self.titles(lang)
        count, bbox = self.extent(ctx)
        url = ctx.url(f"/collections/{self.id}")
        extent = {"spatial": {"bbox": [list(bbox or VIETNAM_BOUNDS)], "crs": CRS84}}
        valid = self.temporal()
        if valid is not None:
            extent["temporal"] = {"interval": [[
                None if day is None else f"{day.isoformat()}T00:00:00Z" if i == 0
                else f"{day.isoformat()}T23:59:59Z" for i, day in enumerate(valid)]],
                "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}
        layer = ctx.catalog[self.id] if self.id in ctx.catalog else None
        return {
            "id": self.id, "title": title, "title_en": title_en, "description": description,
            "itemType": "feature", "crs": [CRS84], "extent": extent,
            "restricted": self.restricted, "layer": self.is_layer,
            "numberOfFeatures": count,
            # a collection that is also a layer: the geometry kind GDAL reads (`vectorType`)
            **(ogctiles.collection_members(layer) if layer is not None else {}),
            "links": [{"href": url, "rel": "self", "type": "application/json"},
                      {"href": f"{url}?f=html", "rel": "alternate", "type": "text/html"},
                      {"href": f"{url}/items", "rel": "items", "type": GEOJSON},
                      {"href": f"{url}/queryables", "type": "application/schema+json",
                       "rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables"},
                      {"href": f"{url}/queryables?f=json", "type": "application/json",
                       "rel": "queryables"},  # Part 3's draft name, which GDAL 3.6 reads
                      *self.links(ctx),
                      # a collection that is also a layer: its OGC tile sets and styles
                      *(ogctiles.collection_links(self.id, ctx.base)
                        if layer is not None else [])],
        }


# --- shared by every kind ----------------------------------------------------------------

def feature(ctx: RequestContext | None, fid: str, properties: dict, geometry) -> dict:
    """A GeoJSON Feature. With a request context the geometry is spliced in as GEOS wrote
    it (kept for the next page showing the same shape: `Services.shapes`); a fragment only
    our response encoder writes, for bodies that go straight out."""
    if geometry is None:
        shape = None
    elif ctx is not None:
        shape = ctx.services.shapes.fragment(geometry)
    else:
        shape = json.loads(shapely.to_geojson(geometry))
    return {"type": "Feature", "id": fid, "geometry": shape, "properties": properties}


def page(ctx: RequestContext, collection_id: str, features: list[dict], matched: int,
         args: Mapping[str, str], window) -> dict:
    """A FeatureCollection of one page with self, next and prev links (and the notice);
    `window` is the query (anything with `limit` and `offset`) that chose the page."""
    limit, offset = window.limit, window.offset
    url = ctx.url(f"/collections/{collection_id}/items")
    kept = {k: v for k, v in args.items() if k not in ("offset", "limit")}

    def link(at: int, rel: str) -> dict:
        query = urlencode({**kept, "limit": limit, "offset": at})
        return {"href": f"{url}?{query}", "rel": rel, "type": GEOJSON}

    links = [link(offset, "self")]
    if offset + limit < matched:
        links.append(link(offset + limit, "next"))
    if offset > 0:
        links.append(link(max(offset - limit, 0), "prev"))
    return with_notice(ctx.store, collection_id, {
        "type": "FeatureCollection", "features": features,
        "numberMatched": matched, "numberReturned": len(features),
        "timeStamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "links": links,
    })


def with_notice(store, collection_id: str, body: dict) -> dict:
    """Add the synthetic-data notice to a response that shows records or indicators."""
    shows_records = (collection_id not in COLLECTIONS
                     or COLLECTIONS[collection_id].source == "records"
                     or collection_id in published.UNIT_LEVELS)
    notice = published.synthetic_notice(store) if shows_records else None
    if notice:
        body["notice"] = notice
    return body
