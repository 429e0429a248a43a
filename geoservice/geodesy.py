"""Coordinate systems and measurements.

Geometry is stored and served in WGS 84 (EPSG:4326). Areas, lengths and distances are never
taken in degrees: they are measured in `VN_ALBERS`, an Albers equal-area conic fitted to
Vietnam (standard parallels 10°N and 21°N, central meridian 106°E). Areas are exact in it;
lengths and distances are within about 1% over the whole country, which is well inside the
uncertainty of the demo polygons.
"""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import CRS, Transformer

WGS84 = CRS.from_epsg(4326)
WEB_MERCATOR = CRS.from_epsg(3857)
VN_ALBERS = CRS.from_proj4(
    "+proj=aea +lat_0=16 +lon_0=106 +lat_1=10 +lat_2=21 +x_0=0 +y_0=0 +ellps=WGS84 "
    "+units=m +no_defs"
)

_TO_METRIC = Transformer.from_crs(WGS84, VN_ALBERS, always_xy=True)
_FROM_METRIC = Transformer.from_crs(VN_ALBERS, WGS84, always_xy=True)


def to_metric(geometries):
    """Project WGS 84 geometries (a geometry or an array of them) into `VN_ALBERS` metres."""
    return shapely.transform(geometries, lambda xy: np.column_stack(_TO_METRIC.transform(*xy.T)))


def from_metric(geometries):
    """Project `VN_ALBERS` geometries back to WGS 84."""
    return shapely.transform(
        geometries, lambda xy: np.column_stack(_FROM_METRIC.transform(*xy.T))
    )


def area_km2(geometries) -> np.ndarray:
    """Return equal-area areas in km² of WGS 84 geometries."""
    return shapely.area(to_metric(geometries)) / 1e6


def length_km(geometries) -> np.ndarray:
    """Return lengths in km of WGS 84 lines (or polygon perimeters)."""
    return shapely.length(to_metric(geometries)) / 1e3
