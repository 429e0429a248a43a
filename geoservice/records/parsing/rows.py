"""Checking every row of a file as records of one kind: cells, pairs, cross-field rules.

`parse_rows` parses every mapped cell with the parser of its field type, reads coordinate
pairs (degrees, or VN-2000 metres converted to WGS 84), applies the kind's cross-field
checks and finds rows repeated within the file. Every problem becomes a `RowError`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from geoservice.errors import InvalidParameter
from geoservice.progress import Progress, counted
from geoservice.records.kinds import FieldDef, KindDef
from geoservice.records.parsing.cells import (
    cached_name_key,
    cell_text,
    is_blank,
    number_text,
    quoted,
)
from geoservice.records.parsing.coordinates import (
    LAT_RANGE,
    LON_RANGE,
    in_range,
    lon_lat_problems,
    parse_degrees,
    parse_metres,
    parse_wkt_transformed,
)
from geoservice.records.parsing.headers import coordinate_pairs, field_defs, map_headers
from geoservice.records.parsing.results import HeaderMap, ParsedRow, ParseResult, RowError, Table
from geoservice.records.parsing.values import parse_date, parse_enum, parse_int, parse_str
from geoservice.records.parsing.vn2000 import (
    check_vn2000_options,
    to_wgs84_from_vn2000,
    vn2000_geometry_transform,
)

CHECKING = "checking rows"  # the stage `parse_rows` tells its progress of


@dataclass
class _Options:
    kind: KindDef
    headers: HeaderMap
    defs: dict[str, FieldDef]
    coordinates: str
    central_meridian: float | None
    utm_zone: int | None
    today: dt.date
    wkt_transform: Callable | None = None


class _Row:
    """One row being parsed: its cells by field, typed values and errors."""

    def __init__(self, options: _Options, number: int, cells: list,
                 labels: dict[int, str] | None = None):
        self.options = options
        self.number = number
        self.raw = {name: cells[i] if i < len(cells) else None
                    for i, name in options.headers.fields.items()}
        self.labels = {name: labels[i] for i, name in options.headers.fields.items()
                       if labels and i in labels}
        self.values: dict[str, Any] = dict.fromkeys(options.defs)
        self.errors: list[RowError] = []
        self.failed: set[str] = set()

    def given(self, name: str) -> bool:
        return not is_blank(self.raw.get(name))

    def label(self, name: str) -> str:
        """The header of field `name` for this row (a wide layout's own column header)."""
        return self.labels.get(name) or self.options.headers.label(name)

    def error(self, name: str, reason: str, suggestion: str | None = None) -> None:
        self.failed.add(name)
        self.errors.append(RowError(self.number, self.label(name),
                                    _short(cell_text(self.raw.get(name))), reason, suggestion))


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_rows(table: Table, kind: KindDef, *, coordinates: str = "wgs84",
               central_meridian: float | None = None, utm_zone: int | None = None,
               today: dt.date | None = None, max_errors: int = 10_000,
               columns: dict[str, str] | None = None,
               progress: Progress | None = None) -> ParseResult:
    """Parse and check every row of `table` as records of `kind`.

    `coordinates` is "wgs84" (degrees) or "vn2000" (metres; then give `central_meridian`
    for TM-3 or `utm_zone`; see `vn2000` for which column is X and which Y).
    `today` (default: the current date) is the limit for dates that may not lie in the
    future. Bad cells never raise: they become errors. Only rows without any error are
    returned in ``rows``. After `max_errors` errors the check stops with a final note.
    `columns` (field -> header text) names columns whose header is not recognised.
    `progress` hears the rows checked (stage `CHECKING`), every `geoservice.progress.EVERY` rows.
    """
    options = _options(table, kind, coordinates, central_meridian, utm_zone, today, columns)
    headers = options.headers
    result = ParseResult([], list(headers.errors), [*table.warnings, *headers.warnings],
                         headers)
    if headers.errors:
        return result
    seen: dict[tuple, int] = {}
    labels = table.row_labels or [None] * len(table.rows)
    rows = counted(progress, CHECKING, table.rows)
    for (number, cells), own in zip(rows, labels, strict=True):
        row = _parse_row(options, number, cells, own)
        _check_duplicate(row, seen)
        if row.errors:
            result.errors.extend(row.errors)
        else:
            result.rows.append(ParsedRow(number, row.values))
        if len(result.errors) >= max_errors:
            result.errors.append(RowError(number, "", "", (
                f"more than {max_errors} errors: checking stopped at row {number}; correct "
                "these and upload the file again")))
            break
    return result


def _options(table, kind, coordinates, central_meridian, utm_zone, today,
             columns=None) -> _Options:
    if coordinates not in ("wgs84", "vn2000"):
        raise InvalidParameter(f"unknown coordinate system {quoted(coordinates)}: use 'wgs84' or "
                               "'vn2000'", parameter="coordinates")
    wkt_transform = None
    if coordinates == "vn2000":
        check_vn2000_options(central_meridian, utm_zone)
        wkt_transform = vn2000_geometry_transform(central_meridian, utm_zone)
    headers = map_headers(table.headers, kind, coordinates=coordinates,
                          header_row=table.header_row, columns=columns)
    return _Options(kind, headers, field_defs(kind, coordinates), coordinates,
                    central_meridian, utm_zone, today or dt.date.today(), wkt_transform)


def _parse_row(options: _Options, number: int, cells: list,
               labels: dict[int, str] | None = None) -> _Row:
    row = _Row(options, number, cells, labels)
    pairs = coordinate_pairs(options.defs)
    paired = {name for pair in pairs for name in pair}
    for name in options.headers.fields.values():
        if name not in paired and row.given(name):
            _parse_cell(row, options.defs[name])
    _check_required(row)
    for lon, lat in pairs:
        _parse_pair(row, lon, lat)
    _check_unit(row)
    _KIND_CHECKS.get(options.kind.id, lambda r: None)(row)
    _check_year(row)
    return row


def _parse_cell(row: _Row, fdef: FieldDef) -> None:
    raw = row.raw[fdef.name]
    if fdef.type == "int":
        outcome = parse_int(raw)
    elif fdef.type == "date":
        outcome = parse_date(raw)
    elif fdef.type == "enum":
        outcome = parse_enum(raw, fdef.choices)
    elif fdef.type == "wkt":
        outcome = parse_wkt_transformed(raw, row.options.wkt_transform)
    else:
        outcome = parse_str(raw)
    if outcome[1] is None:
        value = outcome[0]
        if fdef.name == "commune_code" and value.isascii() and value.isdigit():
            value = value.zfill(5)  # Excel turns "00715" into the number 715
        row.values[fdef.name] = value
    else:
        row.error(fdef.name, outcome[1], outcome[2])


def _check_required(row: _Row) -> None:
    for fdef in row.options.kind.fields:
        if fdef.required and not row.given(fdef.name):
            row.error(fdef.name, "this value is required but the cell is empty")


def _parse_pair(row: _Row, lon: str, lat: str) -> None:
    if not row.given(lon) and not row.given(lat):
        return
    if not (row.given(lon) and row.given(lat)):
        missing = lat if row.given(lon) else lon
        if not row.options.defs[missing].required:  # a required one is reported already
            row.error(missing, f"{row.label(lon if missing == lat else lat)} "
                               "is given without this one: give both coordinates or neither")
        return
    if row.options.coordinates == "vn2000" and lon == "lon":
        _parse_vn2000_pair(row)
        return
    parsed = {name: parse_degrees(row.raw[name], name.rsplit("_", 1)[-1]) for name in (lon, lat)}
    for name, outcome in parsed.items():
        if outcome[1] is not None:
            row.error(name, outcome[1], outcome[2])
    if row.failed & {lon, lat}:
        return
    names = {"lon": lon, "lat": lat}
    for axis, reason, suggestion in lon_lat_problems(parsed[lon][0], parsed[lat][0]):
        row.error(names[axis], reason, suggestion)
    if not row.failed & {lon, lat}:
        row.values[lon], row.values[lat] = parsed[lon][0], parsed[lat][0]


def _parse_vn2000_pair(row: _Row) -> None:
    northing, easting = parse_metres(row.raw["lat"]), parse_metres(row.raw["lon"])
    for name, outcome in (("lat", northing), ("lon", easting)):
        if outcome[1] is not None:
            row.error(name, outcome[1], outcome[2])
    if row.failed & {"lon", "lat"}:
        return
    options = row.options
    x, y = northing[0], easting[0]
    lon, lat = to_wgs84_from_vn2000(x, y, options.central_meridian, options.utm_zone)
    if _finite_in_range(lon, lat):
        row.values["lon"], row.values["lat"] = round(lon, 8), round(lat, 8)
        return
    swapped = to_wgs84_from_vn2000(y, x, options.central_meridian, options.utm_zone)
    system = (f"TM-3 central meridian {number_text(options.central_meridian)}"
              if options.central_meridian is not None else f"UTM zone {options.utm_zone}N")
    headers = options.headers
    if _finite_in_range(*swapped):
        row.error("lat", f"X={number_text(x)}, Y={number_text(y)} fall outside Vietnam in VN-2000 "
                         f"{system}, but fit with X and Y exchanged; X is the northing (the "
                         "larger number) and Y the easting",
                  f"swap the {headers.label('lat')} and {headers.label('lon')} values")
    else:
        row.error("lat", f"X={number_text(x)}, Y={number_text(y)} fall outside Vietnam in VN-2000 "
                         f"{system}: check the coordinate system and its central meridian")


def _finite_in_range(lon: float, lat: float) -> bool:
    return (math.isfinite(lon) and math.isfinite(lat) and in_range(lon, LON_RANGE)
            and in_range(lat, LAT_RANGE))


def _check_unit(row: _Row) -> None:
    if row.given("commune_code") or row.given("commune"):
        return
    name = "commune_code" if row.options.headers.column("commune_code") is not None else "commune"
    row.error(name, "no unit given: fill in the commune code or the commune name")


def _check_year(row: _Row) -> None:
    name = row.options.kind.year_field
    year = row.values.get(name) if name else None
    if year is not None and not 1975 <= year <= row.options.today.year + 1:
        row.error(name, f"{year} is not a plausible year")


def _check_certification(row: _Row) -> None:
    values, label = row.values, row.label
    registered, reviewed, certified = (values["registered"], values["reviewed"],
                                       values["certified"])
    if certified is not None and reviewed is not None and certified > reviewed:
        row.error("certified", f"{label('certified')} ({certified}) is more than "
                               f"{label('reviewed')} ({reviewed}): only reviewed units can be "
                               "certified")
    if reviewed is not None and registered is not None and reviewed > registered:
        row.error("reviewed", f"{label('reviewed')} ({reviewed}) is more than "
                              f"{label('registered')} ({registered}): only registered units "
                              "can be reviewed")


def _check_incident(row: _Row) -> None:
    day = row.values["date"]
    if day is not None and day > row.options.today:
        row.error("date", f"the date {day:%d/%m/%Y} is in the future")


def _check_hot_spot(row: _Row) -> None:
    values, label = row.values, row.label
    location_failed = row.failed & {"lon", "lat", "area_wkt"}
    has_point = values["lon"] is not None and values["lat"] is not None
    if not location_failed and not has_point and values["area_wkt"] is None:
        row.error("lon" if row.options.headers.column("lon") is not None else "area_wkt",
                  f"no location: give {label('lon')} and {label('lat')}, or the area as WKT")
    designated, resolved = values["designated_on"], values["resolved_on"]
    if designated is not None and resolved is not None and resolved < designated:
        row.error("resolved_on", f"{label('resolved_on')} ({resolved:%d/%m/%Y}) is before "
                                 f"{label('designated_on')} ({designated:%d/%m/%Y})")


_KIND_CHECKS: dict[str, Callable[[_Row], None]] = {
    "certification": _check_certification,
    "incidents": _check_incident,
    "hot-spots": _check_hot_spot,
}


def _key_part(row: _Row, name: str) -> Any:
    """The comparable form of one natural-key field; None when empty."""
    if name == "commune_code":
        if row.given("commune_code"):
            return ("code", cached_name_key(row.values["commune_code"]))
        if row.given("commune"):
            return ("name", *(cached_name_key(row.values[n]) for n in ("province", "district",
                                                                "commune")))
        return None
    value = row.values.get(name)
    if isinstance(value, str):
        return cached_name_key(value) or None
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _row_key(row: _Row) -> tuple[tuple, tuple[str, ...]] | None:
    kind = row.options.kind
    for fields in (kind.natural_key, kind.fallback_key):
        if not fields or row.failed & set(fields):
            return None
        parts = tuple(_key_part(row, name) for name in fields)
        if all(part is not None for part in parts):
            return (fields, parts), fields
    return None


def _check_duplicate(row: _Row, seen: dict[tuple, int]) -> None:
    found = _row_key(row)
    if found is None:
        return
    key, fields = found
    if key not in seen:
        seen[key] = row.number
        return
    headers = row.options.headers
    unit = "commune_code" if row.given("commune_code") else "commune"
    shown = [unit if f == "commune_code" else f for f in fields]
    row.error(shown[0], (f"duplicate of row {seen[key]}: same "
                         f"{', '.join(headers.label(f) for f in shown)}; each record may "
                         "appear only once in a file"),
              f"delete this row or merge it with row {seen[key]}")

