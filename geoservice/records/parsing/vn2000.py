"""VN-2000 grid coordinates: the coordinate systems and their conversion to WGS 84.

By default a file's coordinates are WGS 84 decimal degrees (or degrees-minutes-seconds).
``parse_rows(..., coordinates="vn2000", central_meridian=105.5)`` (VN-2000 TM-3, k = 0.9999,
false easting 500 000 m) or ``coordinates="vn2000", utm_zone=48`` (VN-2000 / UTM 48N,
EPSG:3405; 49 -> EPSG:3406) reads metres instead and converts them to WGS 84 with pyproj,
through the VN-2000 datum as EPSG defines it (EPSG:4756 and its transformation to WGS 84).
Vietnamese surveying follows the geodetic convention: **X is the northing and Y the
easting**. In VN-2000 mode a column headed "X" / "Tọa độ X" / "Northing" / "Vĩ độ" is read as
the northing and "Y" / "Tọa độ Y" / "Easting" / "Kinh độ" as the easting; the converted
values land in the ``lat`` and ``lon`` fields. A WKT area (hot spots) in VN-2000 mode is read
in GIS axis order (easting northing), as GIS software writes it. The partner coordinates of
cross-border cooperation always stay in degrees: they lie outside Vietnam's grids.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.crs import ProjectedCRS
from pyproj.crs.coordinate_operation import TransverseMercatorConversion

from geoservice.errors import InvalidParameter
from geoservice.records.parsing.coordinates import LON_RANGE, in_range

TM3_SCALE = 0.9999
TM3_FALSE_EASTING = 500_000.0
VN2000_UTM_EPSG = {48: 3405, 49: 3406}
VN2000_GEOGRAPHIC_EPSG = 4756


def check_vn2000_options(central_meridian: float | None, utm_zone: int | None) -> None:
    """Raise `InvalidParameter` unless exactly one of a TM-3 meridian or a UTM zone is valid."""
    if (central_meridian is None) == (utm_zone is None):
        raise InvalidParameter(
            "VN-2000 coordinates need either the TM-3 central meridian (e.g. 105.5 for "
            "105°30') or the UTM zone (48 or 49), not both and not neither.",
            parameter="central_meridian")
    if utm_zone is not None and utm_zone not in VN2000_UTM_EPSG:
        raise InvalidParameter(f"UTM zone {utm_zone} is not used in Vietnam: give 48 or 49.",
                               parameter="utm_zone")
    if central_meridian is not None:
        cm = float(central_meridian)
        if not (math.isfinite(cm) and in_range(cm, LON_RANGE) and (cm * 4).is_integer()):
            raise InvalidParameter(
                f"{central_meridian} is not a VN-2000 TM-3 central meridian: they are whole or "
                "quarter degrees between 100 and 118 (e.g. 105.5 for 105°30', 106.25 for "
                "106°15', 107.75 for 107°45').", parameter="central_meridian")


@lru_cache(maxsize=32)
def vn2000_crs(central_meridian: float | None = None, utm_zone: int | None = None) -> CRS:
    """Return the VN-2000 TM-3 CRS of a central meridian, or VN-2000 / UTM 48N or 49N.

    TM-3 is built as a projected CRS on the EPSG:4756 VN-2000 datum (Transverse Mercator,
    k = 0.9999, false easting 500 000 m), so pyproj uses the EPSG transformation from
    VN-2000 to WGS 84, the same as for EPSG:3405/3406.
    """
    check_vn2000_options(central_meridian, utm_zone)
    if utm_zone is not None:
        return CRS.from_epsg(VN2000_UTM_EPSG[utm_zone])
    cm = float(central_meridian)
    degrees, minutes = int(cm), round((cm - int(cm)) * 60)
    conversion = TransverseMercatorConversion(
        latitude_natural_origin=0.0, longitude_natural_origin=cm,
        false_easting=TM3_FALSE_EASTING, false_northing=0.0,
        scale_factor_natural_origin=TM3_SCALE)
    crs = ProjectedCRS(conversion=conversion, geodetic_crs=CRS.from_epsg(VN2000_GEOGRAPHIC_EPSG),
                       name=f"VN-2000 / TM-3 {degrees}-{minutes:02d}")
    described = crs.to_json_dict()
    described["conversion"]["name"] = f"TM-3 central meridian {degrees}°{minutes:02d}'"
    return CRS.from_json_dict(described)


@lru_cache(maxsize=32)
def _to_wgs84(central_meridian: float | None, utm_zone: int | None) -> Transformer:
    return Transformer.from_crs(vn2000_crs(central_meridian, utm_zone), "EPSG:4326",
                                always_xy=True, only_best=True)


def to_wgs84_from_vn2000(x: float, y: float, central_meridian: float | None = None,
                         utm_zone: int | None = None) -> tuple[float, float]:
    """Convert VN-2000 grid coordinates to WGS 84 and return ``(lon, lat)`` in degrees.

    `x` is the **northing** and `y` the **easting**, in metres, as in Vietnamese survey
    files (X points north). Give either `central_meridian` (VN-2000 TM-3, k = 0.9999, false
    easting 500 000 m) or `utm_zone` (48 or 49: EPSG:3405 / 3406). Raises
    `InvalidParameter` for a missing or impossible system.
    """
    lon, lat = _to_wgs84(central_meridian, utm_zone).transform(y, x)
    return float(lon), float(lat)


def vn2000_geometry_transform(central_meridian, utm_zone) -> Callable:
    """Return a function converting a shapely geometry from VN-2000 (easting, northing)."""
    transformer = _to_wgs84(central_meridian, utm_zone)

    def convert(geometry):
        return shapely.transform(
            geometry, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))

    return convert
