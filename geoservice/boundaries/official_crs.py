"""Coordinate systems of official boundary files: VN-2000 TM-3 zones, UTM, WGS 84.

Official commune boundaries come in VN-2000: TM-3 (k = 0.9999, false easting 500 000 m) on
the central meridian the province uses (the national list below, per pre-reform province),
or VN-2000 / UTM 48N, 49N; sometimes in WGS 84. The systems are built by
`geoservice.records.parsing.vn2000` (VN-2000 datum, EPSG:4756, with its official
7-parameter transformation to WGS 84). A file without a coordinate system is refused with
the likely zones of its province: the 2025 province takes the meridians of the provinces
it was merged from, its own (the one whose code it kept) first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from geoservice.errors import InvalidParameter
from geoservice.records.parsing.vn2000 import VN2000_UTM_EPSG, vn2000_crs

# The VN-2000 TM-3 central meridian (degrees) of each pre-reform province, by GSO code.
TM3_MERIDIANS = {
    "01": 105.0, "02": 105.5, "04": 105.75, "06": 106.5, "08": 106.0, "10": 104.75,
    "11": 103.0, "12": 103.0, "14": 104.0, "15": 104.75, "17": 106.0, "19": 106.5,
    "20": 107.25, "22": 107.75, "24": 107.0, "25": 104.75, "26": 105.0, "27": 105.5,
    "30": 105.5, "31": 105.75, "33": 105.5, "34": 105.5, "35": 105.0, "36": 105.5,
    "37": 105.0, "38": 105.0, "40": 104.75, "42": 105.5, "44": 106.0, "45": 106.25,
    "46": 107.0, "48": 107.75, "49": 107.75, "51": 108.0, "52": 108.25, "54": 108.5,
    "56": 108.25, "58": 108.25, "60": 108.5, "62": 107.5, "64": 108.5, "66": 108.5,
    "67": 108.5, "68": 107.75, "70": 106.25, "72": 105.5, "74": 105.75, "75": 107.75,
    "77": 107.75, "79": 105.75, "80": 105.75, "82": 105.75, "83": 105.75, "84": 105.5,
    "86": 105.5, "87": 105.0, "89": 104.75, "91": 104.5, "92": 105.0, "93": 105.0,
    "94": 105.5, "95": 105.0, "96": 104.5,
}
WGS84 = CRS.from_epsg(4326)
_TM3 = re.compile(r"^(?:vn-?2000)?[\s:/_-]*tm-?3[\s:/_-]*(\d{3})(?:[.,](\d+))?"
                  r"(?:\s*°\s*(\d{1,2})\s*['′]?)?$")
_UTM = re.compile(r"^(?:vn-?2000)?[\s:/_-]*utm[\s:/_-]*(?:zone\s*)?(48|49)\s*n?$")


@dataclass(frozen=True)
class Zone:
    """A likely coordinate system of a province's files."""

    crs_text: str  # what to pass as --crs
    label: str  # e.g. "VN-2000 / TM-3 106°00' (EPSG:9211)"
    provinces: tuple[str, ...]  # the pre-reform provinces using it


def parse_crs(text: str) -> CRS:
    """The coordinate system a user names: ``tm3:105.5``, ``tm3:105°30'``, ``utm48``,
    ``wgs84``, or anything pyproj reads (``EPSG:9210``, WKT, PROJ strings)."""
    value = " ".join(str(text).strip().lower().split())
    if value in ("wgs84", "wgs 84", "wgs-84", "4326"):
        return WGS84
    tm3 = _TM3.match(value)
    if tm3:
        degrees, fraction, minutes = tm3.groups()
        meridian = float(f"{degrees}.{fraction or 0}") + (int(minutes) / 60 if minutes else 0)
        return vn2000_crs(central_meridian=meridian)
    utm = _UTM.match(value)
    if utm:
        return vn2000_crs(utm_zone=int(utm.group(1)))
    try:
        return CRS.from_user_input(text)
    except CRSError:
        raise InvalidParameter(
            f"crs: '{text}' is not a coordinate system. Give e.g. tm3:105.5 (VN-2000 TM-3 "
            "105°30'), utm48 or utm49 (VN-2000 / UTM), wgs84, or an EPSG code such as "
            "EPSG:9210.", parameter="crs") from None


def crs_label(crs: CRS) -> str:
    """A short readable name of a coordinate system, with its EPSG code when it has one."""
    code = _epsg(crs)
    return f"{crs.name} (EPSG:{code})" if code else crs.name


@lru_cache(maxsize=64)
def _epsg_of_meridian(meridian: float) -> int | None:
    for code in (*range(9205, 9219), 5899):
        try:
            crs = CRS.from_epsg(code)
        except CRSError:
            continue
        params = {p.name: p.value for p in crs.coordinate_operation.params}
        if params.get("Longitude of natural origin") == meridian and \
                params.get("Scale factor at natural origin") == 0.9999:
            return code
    return None


def _epsg(crs: CRS) -> int | None:
    code = crs.to_epsg(min_confidence=90)
    if code:
        return code
    operation = crs.coordinate_operation if crs.is_projected else None
    if operation is None or "VN-2000" not in crs.name:
        return None
    params = {p.name: p.value for p in operation.params}
    meridian = params.get("Longitude of natural origin")
    return _epsg_of_meridian(float(meridian)) if meridian is not None else None


def tm3_text(meridian: float) -> str:
    """The --crs text of a TM-3 meridian: ``tm3:105.5``."""
    return f"tm3:{meridian:g}"


def likely_zones(old_provinces: list[str]) -> list[Zone]:
    """The TM-3 zones of these pre-reform provinces (in their order), then UTM 48N/49N."""
    zones: dict[float, list[str]] = {}
    for code in old_provinces:
        if code in TM3_MERIDIANS:
            zones.setdefault(TM3_MERIDIANS[code], []).append(code)
    found = []
    for meridian, codes in zones.items():
        degrees, minutes = int(meridian), round((meridian - int(meridian)) * 60)
        crs = vn2000_crs(central_meridian=meridian)
        code = _epsg(crs)
        epsg = f" (EPSG:{code})" if code else ""
        found.append(Zone(tm3_text(meridian), f"VN-2000 / TM-3 {degrees}°{minutes:02d}'{epsg}",
                          tuple(codes)))
    for zone, epsg in VN2000_UTM_EPSG.items():
        found.append(Zone(f"utm{zone}", f"VN-2000 / UTM zone {zone}N (EPSG:{epsg})", ()))
    return found


def coordinate_kind(bounds: tuple[float, float, float, float]) -> str:
    """What a file's numbers look like: "degrees", "metres" (a grid) or "unknown"."""
    minx, miny, maxx, maxy = bounds
    if -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90:
        return "degrees"
    if 0 < minx <= maxx < 2_000_000 and 0 < miny <= maxy < 10_000_000:
        return "metres"
    return "unknown"


def to_wgs84(geometries: np.ndarray, crs: CRS) -> np.ndarray:
    """Project geometries from `crs` to WGS 84 (the best transformation pyproj knows)."""
    if crs.equals(WGS84, ignore_axis_order=True):
        return geometries
    transformer = _transformer(crs.to_wkt())
    return shapely.transform(
        geometries, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))


@lru_cache(maxsize=16)
def _transformer(wkt: str) -> Transformer:
    return Transformer.from_crs(CRS.from_wkt(wkt), WGS84, always_xy=True)


def distance_note(geometries: np.ndarray, zone: Zone, province_shape) -> str:
    """How far the file lands from the province read in `zone` ("in the province" or km)."""
    from geoservice.geodesy import to_metric

    if province_shape is None:
        return ""
    moved = to_wgs84(geometries, parse_crs(zone.crs_text))
    middle = shapely.centroid(shapely.union_all(shapely.envelope(moved)))
    if not np.isfinite(shapely.get_coordinates(middle)).all():
        return ""
    if province_shape.covers(middle):
        return "the file lands in the province"
    km = shapely.distance(to_metric(middle), to_metric(province_shape)) / 1e3
    return f"the file lands {km:,.0f} km from the province"
