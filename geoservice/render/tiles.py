"""Encoding a prepared layer's tile: Mapbox Vector Tile (protobuf) or PNG.

Both take the same features from a `TileSource`; the MVT keeps the layer's fields as
properties (one tile layer named like the layer), the PNG draws each feature with the
symbol its style gives it. An empty tile is answered without encoding anything.
"""

from __future__ import annotations

import numpy as np
import shapely

from geoservice.render.mvt import encode_layer, encode_tile
from geoservice.render.png import EMPTY_PNG, TILE_SIZE, render_png
from geoservice.render.tilesource import TileSource, only

MVT_EXTENT = 4096
MVT_BUFFER = 64  # tile units of geometry kept beyond each edge (no seams at the edges)
PNG_BUFFER = 8  # pixels beyond each edge, for strokes and markers that cross it
EMPTY_MVT = b""


def mvt_tile(source: TileSource, z: int, x: int, y: int, area: str | None = None) -> bytes:
    """Return tile z/x/y of the source as a Mapbox Vector Tile."""
    features = source.features(z, x, y, MVT_EXTENT, MVT_BUFFER, area)
    # Snap to the tile grid here, keeping shapes valid, so the encoder's own rounding
    # changes nothing: rounding is enough for most shapes; the few it leaves invalid (a
    # sliver touching itself) get GEOS's precision reduction, which keeps them valid.
    exact = np.array([f.geometry for f in features], dtype=object)
    shapes = shapely.transform(exact, np.rint)
    invalid = np.flatnonzero(~shapely.is_valid(shapes))
    if len(invalid):
        repaired = [only(g, source.layer.geometry) for g in shapely.make_valid(exact[invalid])]
        shapes[invalid] = shapely.set_precision(np.array(repaired, dtype=object), 1.0)
    kept = [(f, shape) for f, shape in zip(features, (only(s, source.layer.geometry)
                                                       for s in shapes)) if shape is not None]
    if not kept:
        return EMPTY_MVT
    layer = encode_layer(source.layer.id, np.array([s for _f, s in kept], dtype=object),
                         source.property_table,
                         np.array([f.id - 1 for f, _s in kept]), [f.id for f, _s in kept],
                         MVT_EXTENT)
    return encode_tile([layer]) if layer else EMPTY_MVT


def png_tile(source: TileSource, z: int, x: int, y: int, area: str | None = None,
             scale: float = 1.0) -> bytes:
    """Return tile z/x/y of the source drawn as a PNG (256 px times `scale`)."""
    features = source.features(z, x, y, TILE_SIZE, PNG_BUFFER, area)
    items = [(f.geometry, f.symbol) for f in features if f.symbol is not None]
    if not items:
        return EMPTY_PNG if scale == 1 else render_png([], TILE_SIZE, scale)
    return render_png(items, TILE_SIZE, scale)
