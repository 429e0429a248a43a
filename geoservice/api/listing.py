"""Which collections there are: the stored ones, then every layer not named like one."""

from __future__ import annotations

from geoservice.api.collections import Collection
from geoservice.api.context import RequestContext
from geoservice.api.layers import LayerCollection
from geoservice.api.stored import StoredCollection
from geoservice.collections import COLLECTIONS
from geoservice.errors import CollectionNotFound
from geoservice.layers.params import readable_layers


def find(ctx: RequestContext, collection_id: str) -> Collection:
    """The collection `collection_id`, or `CollectionNotFound` naming those there are."""
    if collection_id in COLLECTIONS:
        return StoredCollection(COLLECTIONS[collection_id])
    if collection_id in ctx.catalog:
        return LayerCollection(ctx.catalog[collection_id])
    known = ", ".join([*COLLECTIONS, *(i for i in ctx.catalog if i not in COLLECTIONS)])
    raise CollectionNotFound(f"There is no collection '{collection_id}'. Collections: "
                             f"{known}.")


def every(ctx: RequestContext) -> list[Collection]:
    """Every collection the reader may read: stored collections, then layers."""
    stored = [StoredCollection(d) for d in COLLECTIONS.values()]
    layers = [LayerCollection(ctx.catalog[i])
              for i in readable_layers(ctx.catalog, ctx.principal) if i not in COLLECTIONS]
    return [c for c in stored if c.readable(ctx)] + layers


def listing(ctx: RequestContext, lang: str = "vi") -> dict:
    """The /collections document (restricted collections only for those who may read)."""
    return {"collections": [c.document(ctx, lang) for c in every(ctx)],
            "links": [{"href": ctx.url("/collections"), "rel": "self",
                       "type": "application/json"},
                      {"href": ctx.url("/collections?f=html"), "rel": "alternate",
                       "type": "text/html"}]}
