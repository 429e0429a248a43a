"""Encoding a prepared layer's tile: Mapbox Vector Tile (protobuf) or PNG.

Both take the same features from a `TileSource`; the MVT keeps the layer's fields as
properties (one tile layer named like the layer), the PNG draws each feature with the
symbol its style gives it. An empty tile is answered without encoding anything.
"""

from __future__ import annotations

import numpy as np
import shapely

from geoservice.layers.source import TileSource, only
from geoservice.render.mvt import encode_layer, encode_tile
from geoservice.render.png import EMPTY_PNG, TILE_SIZE, render_png

MVT_EXTENT = 4096
MVT_BUFFER = 64  # tile units of geometry kept beyond each edge (no seams at the edges)
PNG_BUFFER = 8  # pixels beyond each edge, for strokes and markers that cross it
EMPTY_MVT = b""


def mvt_tile(source: TileSource, z: int, x: int, y: int, area: str | None = None) -> bytes:
    """Return tile z/x/y of the source as a Mapbox Vector Tile."""
    hits, exact = source.shapes(z, x, y, MVT_EXTENT, MVT_BUFFER, area)
    # Snap to the tile grid here, keeping shapes valid, so the encoder's own rounding
    # changes nothing: rounding is enough for most shapes; the few it leaves invalid (a
    # sliver touching itself) get GEOS's precision reduction, which keeps them valid.
    shapes = shapely.transform(exact, np.rint)
    invalid = np.flatnonzero(~shapely.is_valid(shapes))
    if len(invalid):
        repaired = [only(g, source.layer.geometry) for g in shapely.make_valid(exact[invalid])]
        shapes[invalid] = shapely.set_precision(np.array(repaired, dtype=object), 1.0)
        shapes[invalid] = [only(g, source.layer.geometry) for g in shapes[invalid]]
    kept = np.flatnonzero(~shapely.is_missing(shapes) & ~shapely.is_empty(shapes))
    if not len(kept):
        return EMPTY_MVT
    hits = hits[kept]
    layer = encode_layer(source.layer.id, shapes[kept], source.property_table, hits,
                         (hits + 1).tolist(), MVT_EXTENT)
    return encode_tile([layer]) if layer else EMPTY_MVT


def png_tile(source: TileSource, z: int, x: int, y: int, area: str | None = None,
             scale: float = 1.0) -> bytes:
    """Return tile z/x/y of the source drawn as a PNG (256 px times `scale`)."""
    hits, shapes = source.shapes(z, x, y, TILE_SIZE, PNG_BUFFER, area)
    items = [(shape, source.symbols[i]) for i, shape in zip(hits.tolist(), shapes)
             if source.symbols[i] is not None]
    if not items:
        return EMPTY_PNG if scale == 1 else render_png([], TILE_SIZE, scale)
    return render_png(items, TILE_SIZE, scale)
