"""Request parameters, parsed once at the edge into typed values by one parser each.

Every route, command and document uses these parsers, so one value gets one answer and one
mistake one message wherever it is given: ``year=02024`` or ``province_code=٠٨`` (digits of
another script) are refused alike by the features API, the tiles, the analyses, the reports
and the map page. Each parser raises `InvalidParameter` naming the parameter; `openapi()`
describes it for the OpenAPI document.

    >>> YEAR.parse("2024")
    2024
    >>> known({"year": "2024", "colour": "red"}, ("year",))
    Traceback (most recent call last):
    geoservice.errors.InvalidParameter: Unknown parameter 'colour'. Accepted: year.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from geoservice.errors import InvalidParameter

FIRST_YEAR, LAST_YEAR = 1900, 2100
LARGEST_WHOLE = 10**9  # limit, offset and counts beyond this are refused, not overflowed
NEIGHBOURS = ("CN", "LA", "KH")
LANGUAGES = ("vi", "en")
CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


def known(args: Mapping[str, Any], accepted: Iterable[str]) -> None:
    """Refuse a parameter the route does not take (the first one, in name order)."""
    accepted = sorted(set(accepted))
    unknown = sorted(str(name) for name in set(args) - set(accepted))  # a nameless form field
    if unknown:
        name = unknown[0][:50]
        raise InvalidParameter(f"Unknown parameter '{name}'. Accepted: "
                               f"{', '.join(accepted) or 'none'}.", parameter=name)


def digits(value: str) -> bool:
    """True for a non-empty run of ASCII digits (no other script's digits, no sign)."""
    return value.isascii() and value.isdigit()


@dataclass(frozen=True)
class Parameter:
    """One query parameter: its name, its parser and how the OpenAPI document shows it."""

    name: str
    parser: Callable[[str, str], Any]  # (text, name) -> value, or raise InvalidParameter
    schema: dict = field(default_factory=lambda: {"type": "string"})
    description: str = ""

    def parse(self, value: str) -> Any:
        """The typed value of `value` (text as received)."""
        return self.parser(value, self.name)

    def get(self, args: Mapping[str, str], default: Any = None) -> Any:
        """The typed value of this parameter in `args`, `default` when absent."""
        value = args.get(self.name)
        return default if value is None else self.parse(value)

    def openapi(self) -> dict:
        """The OpenAPI 3.0 parameter object (arrays as comma lists: form, not exploded)."""
        out = {"name": self.name, "in": "query", "required": False,
               "schema": self.schema, "description": self.description}
        if self.schema.get("type") == "array":
            out.update(style="form", explode=False)
        return out


# --- parsers: (text, parameter name) -> value ------------------------------------------------

def year(value: str, name: str = "year") -> int:
    """A four-digit year from 1900 to 2100."""
    if not (digits(value) and len(value) == 4 and FIRST_YEAR <= int(value) <= LAST_YEAR):
        raise InvalidParameter(f"{name} must be a four-digit year from {FIRST_YEAR} to "
                               f"{LAST_YEAR}, e.g. 2024.", parameter=name)
    return int(value)


def year_or_latest(value: str, name: str = "year") -> int | None:
    """A year, or 'latest' (None: the latest year with data)."""
    if value == "latest":
        return None
    try:
        return year(value, name)
    except InvalidParameter:
        raise InvalidParameter(f"{name} must be 'latest' or a four-digit year from "
                               f"{FIRST_YEAR} to {LAST_YEAR}, e.g. 2024.",
                               parameter=name) from None


def code(length: int, what: str, example: str) -> Callable[[str, str], str]:
    """A parser of official unit codes of `length` ASCII digits."""
    def parse(value: str, name: str) -> str:
        if not (digits(value) and len(value) == length):
            raise InvalidParameter(f"{name} must be a {what} code of {length} digits, "
                                   f"e.g. {example}.", parameter=name)
        return value

    return parse


province_code = code(2, "province", "08")
commune_code = code(5, "commune", "00715")


def whole(minimum: int = 0, maximum: int = LARGEST_WHOLE) -> Callable[[str, str], int]:
    """A parser of whole numbers from `minimum` to `maximum` (ASCII digits)."""
    def parse(value: str, name: str) -> int:
        if not (digits(value) and len(value) <= 10 and minimum <= int(value) <= maximum):
            raise InvalidParameter(f"{name} must be a whole number from {minimum} to "
                                   f"{maximum}.", parameter=name)
        return int(value)

    return parse


def choice(options: Iterable[str], fold: Callable[[str], str] | None = None
           ) -> Callable[[str, str], str]:
    """A parser of one of `options` (`fold`, e.g. str.upper, applied first)."""
    options = tuple(options)

    def parse(value: str, name: str) -> str:
        folded = fold(value) if fold else value
        if folded not in options:
            raise InvalidParameter(f"{name} must be one of {', '.join(options)}.",
                                   parameter=name)
        return folded

    return parse


def bbox(value: str, name: str = "bbox") -> tuple[float, float, float, float]:
    """`minLon,minLat,maxLon,maxLat` in WGS 84 degrees, or the six numbers
    `minLon,minLat,minZ,maxLon,maxLat,maxZ` (the heights are ignored)."""
    message = ("bbox must be four numbers minLon,minLat,maxLon,maxLat or six "
               "minLon,minLat,minZ,maxLon,maxLat,maxZ.")
    parts = value.split(",")
    if len(parts) not in (4, 6):
        raise InvalidParameter(message, parameter=name)
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise InvalidParameter(message, parameter=name) from None
    if not all(abs(v) < float("inf") for v in numbers):
        raise InvalidParameter(message, parameter=name)
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    minx, miny, maxx, maxy = numbers
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90
            and -90 <= maxy <= 90):
        raise InvalidParameter("bbox is out of range: longitudes within ±180, latitudes within "
                               "±90.", parameter=name)
    if minx > maxx or miny > maxy:
        raise InvalidParameter("bbox minimum must not exceed its maximum.", parameter=name)
    return minx, miny, maxx, maxy


RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}([Tt]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([Zz]|[+-]\d{2}:\d{2}))?")


_STAMP = (r"[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?"
          r"([Zz]|[+-][0-9]{2}:[0-9]{2}))?")
DATETIME_PATTERN = f"^({_STAMP}|({_STAMP}|\\.\\.)/({_STAMP}|\\.\\.))$"


def instant(value: str, name: str = "datetime") -> date:
    """The UTC date of an RFC 3339 date (`2025-07-01`) or date-time
    (`2025-07-01T08:00:00Z`, `…+07:00`); anything else is refused."""
    if not (value.isascii() and RFC3339.fullmatch(value)):
        raise InvalidParameter(f"{name} must be an RFC 3339 date (2025-07-01) or date-time "
                               "(2025-07-01T08:00:00Z), or an interval start/end with '..' "
                               "for an open end.", parameter=name)
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        return datetime.fromisoformat(value.upper()).astimezone(UTC).date()
    except ValueError:
        raise InvalidParameter(f"{name}: '{value[:40]}' is not a valid date.",
                               parameter=name) from None


def interval(value: str, name: str = "datetime") -> tuple[date | None, date | None]:
    """An OGC `datetime`: an instant, or an interval `a/b` with `..` (or nothing) for an
    open end; as the UTC dates of its ends (None: open)."""
    parts = value.split("/")
    if len(parts) > 2 or parts == ["", ""]:
        raise InvalidParameter(f"{name} must be a date or an interval start/end.",
                               parameter=name)
    if len(parts) == 1:
        day = instant(value, name)
        return day, day
    start, end = (None if p in ("..", "") else instant(p, name) for p in parts)
    if start and end and start > end:
        raise InvalidParameter(f"{name} interval starts after it ends.", parameter=name)
    return start, end


def tile_address(z: str, x: str, y: str, max_zoom: int = 22) -> tuple[int, int, int]:
    """The zoom, column and row of a tile URL (ASCII digits, within the zoom's matrix)."""
    if not (digits(z) and len(z) <= 2 and int(z) <= max_zoom):
        raise InvalidParameter(f"z must be a whole number from 0 to {max_zoom}.", parameter="z")
    zoom = int(z)
    limit = 2**zoom
    for name, value in (("x", x), ("y", y)):
        if not (digits(value) and len(value) <= 8 and int(value) < limit):
            raise InvalidParameter(f"{name} must be from 0 to {limit - 1} at zoom {zoom}.",
                                   parameter=name)
    return zoom, int(x), int(y)


def text(max_chars: int) -> Callable[[str, str], str]:
    """A parser of free text of at most `max_chars` characters."""
    def parse(value: str, name: str) -> str:
        if len(value) > max_chars:
            raise InvalidParameter(f"{name} is at most {max_chars} characters.",
                                   parameter=name)
        return value

    return parse


# --- the parameters ----------------------------------------------------------------------

YEAR = Parameter("year", year, {"type": "integer", "minimum": FIRST_YEAR,
                                "maximum": LAST_YEAR},
                 "Year (four digits), e.g. 2024")
LAYER_YEAR = Parameter("year", year_or_latest,
                       {"oneOf": [{"type": "integer", "minimum": FIRST_YEAR,
                                   "maximum": LAST_YEAR}, {"type": "string",
                                                           "enum": ["latest"]}]},
                       "Year of the indicators (four digits) or 'latest' (the default)")
PROVINCE_CODE = Parameter("province_code", province_code,
                          {"type": "string", "pattern": "^[0-9]{2}$"},
                          "Two-digit code of a 2025 province, e.g. 08")
COMMUNE_CODE = Parameter("commune_code", commune_code,
                         {"type": "string", "pattern": "^[0-9]{5}$"},
                         "Five-digit code of a 2025 commune, e.g. 00715")
OFFSET = Parameter("offset", whole(0), {"type": "integer", "minimum": 0,
                                        "maximum": LARGEST_WHOLE},
                   "How many features to skip (paging)")
BBOX = Parameter("bbox", bbox, {"type": "array", "items": {"type": "number"},
                                "minItems": 4, "maxItems": 6},
                 "minLon,minLat,maxLon,maxLat in WGS 84 degrees, or "
                 "minLon,minLat,minZ,maxLon,maxLat,maxZ (heights ignored)")
DATETIME = Parameter("datetime", interval, {"type": "string", "pattern": DATETIME_PATTERN},
                     "An RFC 3339 date or date-time, or an interval start/end with '..' "
                     "for an open end: records by their date (or year), boundaries by the "
                     "validity of their version")
BORDER_NEIGHBOR = Parameter("border_neighbor", choice(NEIGHBOURS, str.upper),
                            {"type": "string", "enum": list(NEIGHBOURS)},
                            "Neighbouring country along the land border: CN, LA or KH")
LANG = Parameter("lang", choice(LANGUAGES), {"type": "string", "enum": list(LANGUAGES)},
                 "Language of titles and labels: vi (default) or en")
MAX_ZOOM = 22
ZOOM = Parameter("zoom", whole(0, MAX_ZOOM), {"type": "integer", "minimum": 0,
                                              "maximum": MAX_ZOOM},
                 "Web Mercator zoom level of the map view (0-22), e.g. 8")


def limit(default: int, maximum: int) -> Parameter:
    """The page size parameter: at least 1; values above `maximum` are served as `maximum`
    (OGC API - Features, /req/core/fc-limit-response-1: a larger limit is not an error), as
    the OpenAPI document says."""
    def parse(value: str, name: str) -> int:
        return min(whole(1)(value, name), maximum)

    return Parameter("limit", parse, {"type": "integer", "minimum": 1, "maximum": maximum,
                                      "default": default},
                     f"Features per page: at most {maximum}; a larger value is served as "
                     f"{maximum} (not an error)")


MAX_FILTER_CHARS = 4000


def names(value: str, name: str) -> tuple[str, ...]:
    """A comma list of property names (each non-empty, no repeats)."""
    items = tuple(part.strip() for part in value.split(","))
    if not all(items) or len(set(items)) != len(items) or len(items) > 100:
        raise InvalidParameter(f"{name} must be a comma list of distinct property names.",
                               parameter=name)
    return items


def sort_keys(value: str, name: str = "sortby") -> tuple[tuple[str, bool], ...]:
    """`+prop,-prop,prop`: (property, descending) pairs; a name without sign ascends."""
    keys = []
    for item in names(value, name):
        descending = item.startswith("-")
        prop = item[1:] if item[:1] in "+-" else item
        if not prop:
            raise InvalidParameter(f"{name}: '{item}' names no property.", parameter=name)
        keys.append((prop, descending))
    return tuple(keys)


FILTER = Parameter("filter", text(MAX_FILTER_CHARS), {"type": "string"},
                   "A CQL2 filter on the collection's queryables, e.g. area_km2 > 500 "
                   "(see /collections/{id}/queryables)")
FILTER_LANG = Parameter("filter-lang", choice(("cql2-text", "cql2-json", "cql-text")),
                        {"type": "string", "enum": ["cql2-text", "cql2-json", "cql-text"],
                         "default": "cql2-text"},
                        "Language of filter: cql2-text (the default) or cql2-json; "
                        "cql-text (the draft's name, sent by GDAL 3.6) is read as cql2-text")
FILTER_CRS = Parameter("filter-crs", choice((CRS84_URI,)),
                       {"type": "string", "enum": [CRS84_URI]},
                       "CRS of the filter's geometries: CRS84 only")
SORT_ITEM = {"type": "string", "pattern": "^[+-]?[A-Za-z_][A-Za-z0-9_]*$"}
SORTBY = Parameter("sortby", sort_keys, {"type": "array", "items": SORT_ITEM},
                   "Sort by queryables: +name,-area_km2 (+ ascending, the default; - "
                   "descending); ties by id")
PROPERTIES = Parameter("properties", names, {"type": "array", "items": {"type": "string"}},
                       "Only these properties in each feature (a comma list)")


def fmt(*options: str) -> Parameter:
    """The `f` parameter choosing a response format among `options`."""
    return Parameter("f", choice(options), {"type": "string", "enum": list(options)},
                     f"Response format: {', '.join(options)}")


# Formats of a page of features as a table (properties only; points add their position).
TABLE_FORMATS = ("csv", "xlsx")
