"""Web Mercator tile maths in one place (tiles, WMTS, reports, exports, density rasters).

Scalar tile arithmetic is `mercantile`'s; this module adds the few things it lacks: the
vectorised projection of geometry arrays, the inverse of one projected coordinate, and
the checks of tile coordinates used by every tile route. Pure functions, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import mercantile
import numpy as np
import shapely

EARTH_RADIUS = 6378137.0
WORLD = 2 * math.pi * EARTH_RADIUS  # width of the Web Mercator world, metres
MAX_LAT = 85.0511287798066
MAX_ZOOM = 22


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """A tile's bounds in Web Mercator metres (minx, miny, maxx, maxy)."""
    box = mercantile.xy_bounds(x, y, z)
    return box.left, box.bottom, box.right, box.top


def tile_range(bbox: tuple[float, float, float, float], low: int, high: int
               ) -> Iterator[tuple[int, int, int]]:
    """Every tile (z, x, y) covering `bbox` (degrees) at zooms low..high."""
    west, south, east, north = bbox
    for tile in mercantile.tiles(west, south, east, north, list(range(low, high + 1)),
                                 truncate=True):
        yield tile.z, tile.x, tile.y


def count_tiles(bbox: tuple[float, float, float, float], low: int, high: int) -> int:
    """How many tiles `tile_range` yields (counted, not listed)."""
    total = 0
    for z in range(low, high + 1):
        first, last = matrix_limits(bbox, z)
        total += (last[0] - first[0] + 1) * (last[1] - first[1] + 1)
    return total


def matrix_limits(bbox: tuple[float, float, float, float], z: int
                  ) -> tuple[tuple[int, int], tuple[int, int]]:
    """The first and last (column, row) of the tiles covering `bbox` at zoom `z` (as
    `mercantile.tiles` finds them: the south-east corner nudged inside)."""
    west, south, east, north = bbox
    west, north = max(west, -180.0), min(north, MAX_LAT)
    east, south = min(east, 180.0), max(south, -MAX_LAT)
    first = mercantile.tile(west, north, z)
    last = mercantile.tile(east - mercantile.LL_EPSILON, south + mercantile.LL_EPSILON, z)
    return (first.x, first.y), (last.x, last.y)


def to_mercator(geometries: np.ndarray) -> np.ndarray:
    """Project WGS 84 geometries to Web Mercator (latitudes clamped to ±85.05°)."""
    def project(coords: np.ndarray) -> np.ndarray:
        lon = coords[:, 0]
        lat = np.clip(coords[:, 1], -MAX_LAT, MAX_LAT)
        x = np.radians(lon) * EARTH_RADIUS
        y = np.log(np.tan(np.pi / 4 + np.radians(lat) / 2)) * EARTH_RADIUS
        return np.column_stack([x, y])

    return shapely.transform(geometries, project)


def to_lonlat(x: float, y: float) -> tuple[float, float]:
    """A Web Mercator point in degrees (lon, lat)."""
    return math.degrees(x / EARTH_RADIUS), math.degrees(math.atan(math.sinh(y / EARTH_RADIUS)))
