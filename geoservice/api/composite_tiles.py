"""Composite tiles: ``/tiles/{layer1},{layer2},…/{z}/{x}/{y}.mvt`` is one vector tile
holding each layer as its own MVT layer, as Martin's composite sources are: the map's
basemap and boundary layers in one request instead of one per layer.

Each part is the layer's own tile (from the tile cache, drawn as that layer's tile would
be) and passes that layer's own access decision; an MVT tile is a sequence of layers, so
the parts' bytes joined are the composite tile. A query parameter goes to the parts whose
layer has it (a thematic layer's year and group: ``sea,certification-rate,provinces``
with ``?year=2024&group=schools``); each part stays its own tile in the cache, so a
certification import redraws the thematic part only. A parameter no part has is refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from geoservice.api import tiles as tileapi
from geoservice.api.tile_urls import tile_template
from geoservice.errors import InvalidParameter
from geoservice.layers.params import find
from geoservice.params import known

if TYPE_CHECKING:
    from geoservice.api.context import RequestContext
    from geoservice.api.tiles import TileRequest
    from geoservice.services import Services

MAX_PARTS = 12  # layers in one composite tile


def split_layers(text: str) -> list[str]:
    """The layer ids of a composite name ('a,b,c'): two or more, no repeats."""
    ids = text.split(",")
    if len(ids) < 2 or len(ids) > MAX_PARTS or "" in ids or len(set(ids)) != len(ids):
        raise InvalidParameter(f"A composite tile names 2 to {MAX_PARTS} different layers "
                               "separated by commas, e.g. countries,provinces.",
                               parameter="layers")
    return ids


@dataclass(frozen=True)
class CompositeTile:
    """A composite tile's bytes and whether anyone may keep it."""

    data: bytes
    public: bool
    etag: str
    stale: bool = False  # a part is its previous version's tile (being drawn again)


def parse_composite(ctx: RequestContext, names: str, z: str, x: str, name: str,
                    args: Mapping[str, str]) -> list[TileRequest]:
    """Validate a composite tile's address; each layer passes its own access decision."""
    ids = split_layers(names)
    taken: set[str] = set()
    parts = []
    for layer_id in ids:
        own = set(find(ctx.catalog, layer_id, ctx.principal).params)
        part_args = {k: v for k, v in args.items() if k in own}
        taken |= part_args.keys()
        parts.append(tileapi.parse_tile(ctx, layer_id, z, x, name, part_args))
    known(args, tuple(taken))
    if parts[0].fmt != "mvt":
        raise InvalidParameter("A composite tile is a vector tile: <y>.mvt.", parameter="y")
    return parts


def composite_tile(services: Services, parts: list[TileRequest]) -> CompositeTile:
    """The composite tile: each part's own tile (cached as such), one MVT layer each."""
    results = [tileapi.tile(services, part) for part in parts]
    data = b"".join(r.data for r in results)
    return CompositeTile(data, all(r.public for r in results),
                         '"' + hashlib.sha256(data).hexdigest()[:32] + '"',
                         any(getattr(r, "stale", False) for r in results))


def composite_tilejson(ctx: RequestContext, names: str, args: Mapping[str, str]) -> dict:
    """TileJSON 3.0 of a composite: the parts' vector layers in one tile set."""
    lang = args.get("lang", "vi")
    docs = [tileapi.tilejson(ctx, layer_id, {"lang": lang} if "lang" in args else {})
            for layer_id in split_layers(names)]
    layers = [ctx.catalog[doc["vector_layers"][0]["id"]] for doc in docs]
    return {
        **{k: docs[0][k] for k in ("tilejson", "version", "scheme", "bounds", "attribution")},
        "name": " + ".join(doc["name"] for doc in docs),
        "tiles": [tile_template(ctx.services, ctx.base, layers)],
        "minzoom": min(doc["minzoom"] for doc in docs),
        "maxzoom": max(doc["maxzoom"] for doc in docs),
        "center": [*docs[0]["center"][:2], max(min(d["minzoom"] for d in docs), 6)],
        "vector_layers": [doc["vector_layers"][0] for doc in docs],
        "geoservice:layers": [layer.id for layer in layers],
        "geoservice:legends": [doc["geoservice:legend"] for doc in docs],
    }
