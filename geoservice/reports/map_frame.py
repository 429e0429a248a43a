"""The printed map's frame: the area shown in Web Mercator and how lon/lat geometries are
projected into its CSS pixels (clipped and simplified to half a printed pixel)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely

from geoservice.tilemath import to_lonlat, to_mercator

PADDING = 0.06  # share of the unit's extent left around it


@dataclass(frozen=True)
class Frame:
    """The printed area in Web Mercator metres and the image size in CSS pixels."""

    minx: float
    miny: float
    maxx: float
    maxy: float
    width: float
    height: float

    @property
    def resolution(self) -> float:
        """Web Mercator metres per CSS pixel."""
        return (self.maxx - self.minx) / self.width

    def lonlat_bbox(self) -> tuple[float, float, float, float]:
        """The frame as (west, south, east, north) in degrees."""
        west, south = to_lonlat(self.minx, self.miny)
        east, north = to_lonlat(self.maxx, self.maxy)
        return west, south, east, north

    def ground_metres_per_pixel(self) -> float:
        """True ground distance of one CSS pixel at the frame's centre."""
        _w, south, _e, north = self.lonlat_bbox()
        return self.resolution * math.cos(math.radians((south + north) / 2))


def fit_frame(geometry, width: float, height: float, padding: float = PADDING) -> Frame:
    """The frame showing a lon/lat geometry with a margin, at the image's aspect ratio."""
    minx, miny, maxx, maxy = to_mercator(np.array([shapely.envelope(geometry)]))[0].bounds
    span_x = max(maxx - minx, 2000.0) * (1 + 2 * padding)
    span_y = max(maxy - miny, 2000.0) * (1 + 2 * padding)
    resolution = max(span_x / width, span_y / height)
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    half_x, half_y = resolution * width / 2, resolution * height / 2
    return Frame(cx - half_x, cy - half_y, cx + half_x, cy + half_y, width, height)


def to_pixels(geometries, frame: Frame, scale: float) -> np.ndarray:
    """Project lon/lat geometries into the frame's CSS pixels, clipped and simplified."""
    shapes = to_mercator(np.asarray(geometries, dtype=object))
    margin = 20 * frame.resolution
    shapes = shapely.clip_by_rect(shapes, frame.minx - margin, frame.miny - margin,
                                  frame.maxx + margin, frame.maxy + margin)

    def transform(coords: np.ndarray) -> np.ndarray:
        return np.column_stack([(coords[:, 0] - frame.minx) / frame.resolution,
                                (frame.maxy - coords[:, 1]) / frame.resolution])

    shapes = shapely.transform(shapes, transform)
    return shapely.simplify(shapes, 0.5 / scale, preserve_topology=True)
