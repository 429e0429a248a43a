"""Parsers of coordinates and geometries: degrees, WKT areas and VN-2000 metres.

Degrees may be decimal ("105.3021", "105,3021") or degrees-minutes-seconds (105°18'07"E);
longitudes must lie within `LON_RANGE` and latitudes within `LAT_RANGE` (Vietnam and its
neighbourhood). Each parser returns an `Outcome` (see `geoservice.records.parsing.cells`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import shapely

from geoservice.records.parsing.cells import (
    Outcome,
    cell_text,
    invalid,
    is_blank,
    number_text,
    quoted,
    valid,
)
from geoservice.text import nfc

LON_RANGE = (100.0, 118.0)
LAT_RANGE = (6.0, 25.0)


_HEMISPHERES = {"N": 1, "B": 1, "S": -1, "E": 1, "Đ": 1, "D": 1, "W": -1, "T": -1}
_AXIS_OF_HEMISPHERE = {"N": "lat", "B": "lat", "S": "lat",
                       "E": "lon", "Đ": "lon", "D": "lon", "W": "lon", "T": "lon"}
_DMS_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_AXIS_NAMES = {"lon": "longitude", "lat": "latitude"}


def parse_degrees(value: Any, axis: str) -> Outcome:
    """Decimal degrees or degrees-minutes-seconds, without the range check."""
    if is_blank(value):
        return valid(None)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return invalid(f"{quoted(cell_text(value))} is not a coordinate")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            return invalid(f"{quoted(value)} is not a number")
        return valid(float(value))
    text = nfc(value)
    body, sign, hemisphere = _split_hemisphere(text.upper())
    if hemisphere and _AXIS_OF_HEMISPHERE[hemisphere] != axis:
        other = _AXIS_NAMES["lat" if axis == "lon" else "lon"]
        return invalid(f"{quoted(text)} is a {other} (it ends in {hemisphere}) but this column "
                       f"is the {_AXIS_NAMES[axis]}", "swap longitude and latitude?")
    body = body.replace("\u2212", "-").strip()
    if re.fullmatch(r"[+-]?\d+(?:[.,]\d+)?", body):
        return valid(sign * float(body.replace(",", ".")))
    degrees = _dms(body)
    if degrees is None:
        return invalid(f"{quoted(text)} is not a coordinate: give decimal degrees (e.g. "
                       f"105.3021) or degrees, minutes and seconds (e.g. 105°18'07\"E)")
    if isinstance(degrees, str):
        return invalid(f"{quoted(text)}: {degrees}")
    return valid(sign * degrees)


def _split_hemisphere(text: str) -> tuple[str, int, str | None]:
    text = text.strip()
    for letter, sign in _HEMISPHERES.items():
        if len(text) > 1 and text.endswith(letter):
            return text[:-1].strip(), sign, letter
        if len(text) > 1 and text.startswith(letter):
            return text[1:].strip(), sign, letter
    return text, 1, None


def _dms(body: str) -> float | str | None:
    """Degrees from 22°45'30" (° required); a reason string when a part is out of range."""
    normalised = (body.replace("º", "°").replace("˚", "°").replace("′", "'")
                  .replace("’", "'").replace("‘", "'").replace("″", '"').replace("''", '"')
                  .replace("”", '"').replace("“", '"'))
    if "°" not in normalised:
        return None
    numbers = _DMS_NUMBER.findall(normalised)
    rest = _DMS_NUMBER.sub("", normalised)
    if not 1 <= len(numbers) <= 3 or set(rest) - set("°'\" ") or rest.count("°") != 1:
        return None
    parts = [float(n.replace(",", ".")) for n in numbers]
    if any(not p.is_integer() for p in parts[:-1]):
        return None
    if any(p >= 60 for p in parts[1:]):
        return "minutes and seconds must be below 60"
    return sum(p / 60**i for i, p in enumerate(parts))


def in_range(value: float, bounds: tuple[float, float]) -> bool:
    """True when `value` lies within `bounds` (both ends included)."""
    return bounds[0] <= value <= bounds[1]


def _range_reason(value: float, axis: str) -> str:
    bounds = LON_RANGE if axis == "lon" else LAT_RANGE
    return (f"{_AXIS_NAMES[axis]} {number_text(value)} is outside Vietnam and its neighbourhood "
            f"({number_text(bounds[0])} to {number_text(bounds[1])})")


def _parse_axis(value: Any, axis: str) -> Outcome:
    parsed = parse_degrees(value, axis)
    if parsed[1] is not None or parsed[0] is None:
        return parsed
    degrees = parsed[0]
    own, other = (LON_RANGE, LAT_RANGE) if axis == "lon" else (LAT_RANGE, LON_RANGE)
    if in_range(degrees, own):
        return valid(degrees)
    return invalid(_range_reason(degrees, axis),
                   "swap longitude and latitude?" if in_range(degrees, other) else None)


def parse_lon(value: Any) -> Outcome:
    """Longitude in degrees ("105.3021", "105,3021", 105°18'07"E), within 100-118° E."""
    return _parse_axis(value, "lon")


def parse_lat(value: Any) -> Outcome:
    """Latitude in degrees ("21.03", "21,03", 22°45'30"N), within 6-25° N."""
    return _parse_axis(value, "lat")


def lon_lat_problems(lon: float, lat: float) -> list[tuple[str, str, str | None]]:
    """Range problems of a pair as (axis, reason, suggestion); one problem if swapped."""
    if in_range(lon, LON_RANGE) and in_range(lat, LAT_RANGE):
        return []
    if in_range(lon, LAT_RANGE) and in_range(lat, LON_RANGE):
        return [("lon", f"longitude {number_text(lon)} and latitude {number_text(lat)} look "
                        f"swapped: longitude must be {number_text(LON_RANGE[0])} to "
                        f"{number_text(LON_RANGE[1])} and latitude {number_text(LAT_RANGE[0])} "
                        f"to {number_text(LAT_RANGE[1])}",
                 f"swap longitude and latitude (longitude {number_text(lat)}, "
                 f"latitude {number_text(lon)})")]
    problems = []
    if not in_range(lon, LON_RANGE):
        problems.append(("lon", _range_reason(lon, "lon"), None))
    if not in_range(lat, LAT_RANGE):
        problems.append(("lat", _range_reason(lat, "lat"), None))
    return problems


def parse_wkt(value: Any) -> Outcome:
    """A WGS 84 Polygon, MultiPolygon or Point in WKT (longitude first), valid, in range."""
    return parse_wkt_transformed(value, None)


def parse_wkt_transformed(value: Any, to_wgs84: Callable | None) -> Outcome:
    """`parse_wkt`, with the geometry first converted by `to_wgs84` (VN-2000) unless None."""
    if is_blank(value):
        return valid(None)
    text = cell_text(value)
    try:
        geometry = shapely.from_wkt(text)
    except (shapely.errors.ShapelyError, ValueError, TypeError):
        return invalid("this is not valid WKT", "write it like POLYGON((105.1 21.0, 105.2 21.0, "
                                             "105.2 21.1, 105.1 21.0))")
    if geometry is None or geometry.is_empty:
        return invalid("the geometry is empty")
    if geometry.geom_type not in ("Polygon", "MultiPolygon", "Point"):
        return invalid(f"a {geometry.geom_type} is not accepted: give a Polygon, MultiPolygon "
                       "or Point")
    geometry = shapely.force_2d(geometry)
    if to_wgs84 is not None:
        geometry = to_wgs84(geometry)
    if not geometry.is_valid:
        geometry, *problem = _repair(geometry)
        if problem:
            return invalid(*problem)
    return _wkt_in_range(geometry)


def _repair(geometry) -> tuple:
    reason = shapely.is_valid_reason(geometry)
    fixed = shapely.make_valid(geometry)
    parts = [p for p in shapely.get_parts(fixed) if p.geom_type in ("Polygon", "MultiPolygon")]
    if parts:
        fixed = shapely.union_all(parts)
        before, after = abs(geometry.area), fixed.area
        if math.isclose(before, after, rel_tol=1e-6, abs_tol=1e-15):
            return (fixed,)
    return (None, f"the polygon is not valid ({reason}): its edges cross or touch; draw it "
                  "again without crossing edges", None)


def _wkt_in_range(geometry) -> Outcome:
    minx, miny, maxx, maxy = geometry.bounds
    lon_ok = in_range(minx, LON_RANGE) and in_range(maxx, LON_RANGE)
    lat_ok = in_range(miny, LAT_RANGE) and in_range(maxy, LAT_RANGE)
    if lon_ok and lat_ok:
        return valid(geometry)
    swapped = (in_range(minx, LAT_RANGE) and in_range(maxx, LAT_RANGE) and in_range(miny, LON_RANGE)
               and in_range(maxy, LON_RANGE))
    return invalid(f"the geometry lies outside Vietnam and its neighbourhood (longitude "
                   f"{number_text(LON_RANGE[0])} to {number_text(LON_RANGE[1])}, latitude "
                   f"{number_text(LAT_RANGE[0])} to {number_text(LAT_RANGE[1])})",
                   "WKT puts longitude first: swap the numbers of each point" if swapped else None)


def parse_metres(value: Any) -> Outcome:
    """A VN-2000 grid coordinate in metres ("2326314.34", "2.326.314,34", "2326314,34")."""
    if is_blank(value):
        return valid(None)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return invalid(f"{quoted(cell_text(value))} is not a coordinate in metres")
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = "".join(nfc(value).split())
        if not re.fullmatch(r"\d[\d.,]*", text):
            return invalid(f"{quoted(nfc(value))} is not a coordinate in metres")
        number = float(_normalise_separators(text))
    if not math.isfinite(number) or number <= 0:
        return invalid(f"{quoted(cell_text(value))} is not a VN-2000 coordinate in metres")
    return valid(number)


def _normalise_separators(text: str) -> str:
    """The last of "." and "," is the decimal mark when both occur; a repeated one groups."""
    if "." in text and "," in text:
        decimal = "." if text.rfind(".") > text.rfind(",") else ","
        group = "," if decimal == "." else "."
        return text.replace(group, "").replace(decimal, ".")
    for mark in (".", ","):
        if text.count(mark) > 1:
            return text.replace(mark, "")
    return text.replace(",", ".")

