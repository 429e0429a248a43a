"""Encoding a prepared layer's tile: Mapbox Vector Tile (protobuf) or PNG.

Both take the same features from a `TileSource`; the MVT keeps the layer's fields as
properties (one tile layer named like the layer), the PNG draws each feature with the
symbol its style gives it. An empty tile is answered without encoding anything.
"""

from __future__ import annotations

import mapbox_vector_tile
import numpy as np
import shapely

from geoservice.render.png import EMPTY_PNG, TILE_SIZE, render_png
from geoservice.render.tilesource import TileSource, only

MVT_EXTENT = 4096
MVT_BUFFER = 64  # tile units of geometry kept beyond each edge (no seams at the edges)
PNG_BUFFER = 8  # pixels beyond each edge, for strokes and markers that cross it
EMPTY_MVT = b""


def mvt_tile(source: TileSource, z: int, x: int, y: int, area: str | None = None) -> bytes:
    """Return tile z/x/y of the source as a Mapbox Vector Tile."""
    features = source.features(z, x, y, MVT_EXTENT, MVT_BUFFER, area)
    # Snap to the tile grid here, keeping shapes valid (GEOS precision reduction), so the
    # encoder's own rounding changes nothing and never produces invalid polygons.
    shapes = np.array([f.geometry for f in features], dtype=object)
    invalid = ~shapely.is_valid(shapes)
    if invalid.any():  # clipping can leave a sliver touching itself
        shapes[invalid] = shapely.make_valid(shapes[invalid])
    snapped = shapely.set_precision(shapes, 1.0)
    encoded = [{"geometry": shape, "properties": f.properties, "id": f.id}
               for f, shape in zip(features, (only(s, source.layer.geometry) for s in snapped))
               if shape is not None]
    if not encoded:
        return EMPTY_MVT
    layer = {"name": source.layer.id, "features": encoded}
    return mapbox_vector_tile.encode([layer], default_options={
        "extents": MVT_EXTENT, "y_coord_down": True, "on_invalid_geometry": _keep_valid})


def png_tile(source: TileSource, z: int, x: int, y: int, area: str | None = None,
             scale: float = 1.0) -> bytes:
    """Return tile z/x/y of the source drawn as a PNG (256 px times `scale`)."""
    features = source.features(z, x, y, TILE_SIZE, PNG_BUFFER, area)
    items = [(f.geometry, f.symbol) for f in features if f.symbol is not None]
    if not items:
        return EMPTY_PNG if scale == 1 else render_png([], TILE_SIZE, scale)
    return render_png(items, TILE_SIZE, scale)


def _keep_valid(geometry):
    """Repair a geometry the encoder still finds invalid (rare after snapping)."""
    repaired = shapely.make_valid(geometry)
    return repaired if not repaired.is_empty else None
