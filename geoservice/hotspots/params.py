"""Analysis parameters, validated once at the edge into one frozen `AnalysisParams`.

The same parser serves the API (query string or JSON body), the map layers of the
catalogue (``/tiles/hotspots-…?category=drugs``) and the commands, so an analysis asked
for in any of these ways has the same canonical form and the same cache key. Values:

* scope: ``category`` (incident category), ``period`` (``2024``, ``2024-Q3``,
  ``2024-01-01/2024-06-30``, open ends as ``..``; ``year`` is a shortcut for a one-year
  period), ``province_code``, ``border_neighbor`` (CN, LA, KH or ``any`` border commune)
  and ``border_band`` (distance to the border: 0, <=10, <=25, <=50, >50 km);
* density: ``cell_km``, ``bandwidth_km``;
* Gi* and emerging hot spots: ``zones`` (communes or hex), ``size_km`` (hexagons),
  ``weights`` (queen or distance) and ``distance_km``; emerging: ``step`` (year or quarter).

A province reader's analyses are limited to its province: asking for another province is
refused (403), as on the features API.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import date

from geoservice import params as P
from geoservice.errors import Forbidden, InvalidParameter
from geoservice.records.kinds import KINDS

METHODS = ("density", "gistar", "emerging", "border")
NEIGHBOURS = ("CN", "LA", "KH", "any")
BANDS = ("0", "<=10", "<=25", "<=50", ">50")
BAND_ALIASES = {"10": "<=10", "25": "<=25", "50": "<=50", "50+": ">50", "over50": ">50"}
ZONES = ("communes", "hex")
WEIGHTS = ("queen", "distance")
STEPS = ("year", "quarter")
CATEGORIES = tuple(KINDS["incidents"].field("category").choices)
SCOPE = ("category", "period", "year", "province_code", "border_neighbor", "border_band")
ZONING = ("zones", "size_km", "weights", "distance_km")
ACCEPTED: dict[str, tuple[str, ...]] = {
    "density": (*SCOPE, "cell_km", "bandwidth_km"),
    "gistar": (*SCOPE, *ZONING),
    "emerging": (*SCOPE, *ZONING, "step"),
    "border": ("category", "period", "year", "province_code"),
}
# name -> (lowest, highest) for the numeric settings.
RANGES = {"cell_km": (0.1, 20.0), "bandwidth_km": (0.1, 200.0), "size_km": (0.5, 100.0),
          "distance_km": (0.5, 500.0)}
QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)


@dataclass(frozen=True)
class AnalysisParams:
    """One analysis asked for: the method, the scope of incidents and zones, the settings."""

    method: str
    category: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    province_code: str | None = None
    border_neighbor: str | None = None
    border_band: str | None = None
    cell_km: float = 1.0
    bandwidth_km: float | None = None
    zones: str = "communes"
    size_km: float = 5.0
    weights: str = "queen"
    distance_km: float | None = None
    step: str = "quarter"

    @property
    def period(self) -> str | None:
        """The period as ``from/to`` (``..`` for an open end), None for all dates."""
        if self.date_from is None and self.date_to is None:
            return None
        return f"{self.date_from or '..'}/{self.date_to or '..'}"

    def canonical(self) -> dict[str, str]:
        """Every parameter the method uses, defaults included, as text (the cache key)."""
        out = {"method": self.method}
        for name in ACCEPTED[self.method]:
            if name == "year":
                continue
            value = self.period if name == "period" else getattr(self, name)
            if name in ("size_km", "distance_km") and not _uses(self, name):
                continue
            out[name] = "" if value is None else _text(value)
        return out

    def key(self) -> str:
        """A short digest of the canonical parameters."""
        text = "&".join(f"{k}={v}" for k, v in sorted(self.canonical().items()))
        return hashlib.sha1(text.encode()).hexdigest()[:16]

    def query(self) -> dict[str, str]:
        """The parameters that differ from the defaults, for URLs."""
        default = AnalysisParams(self.method).canonical()
        return {k: v for k, v in self.canonical().items()
                if k != "method" and v != default.get(k)}

    def record_filters(self) -> dict:
        """The store's record filters (RecordQuery names) of the incident scope."""
        return {k: v for k, v in (("category", self.category), ("date_from", self.date_from),
                                  ("date_to", self.date_to),
                                  ("province_code", self.province_code)) if v is not None}


def _uses(params: AnalysisParams, name: str) -> bool:
    if name == "size_km":
        return params.zones == "hex"
    return params.weights == "distance"


def _text(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def parse(method: str, args: Mapping[str, object], area: str | None = None,
          fixed: Mapping[str, object] | None = None) -> AnalysisParams:
    """Validate `args` (text values, or JSON values) for `method` into `AnalysisParams`.

    `area` is the reader's province (None: national); `fixed` are parameters a layer sets
    itself (they may not be given again). Raises InvalidParameter (400) or Forbidden (403).
    """
    if method not in METHODS:
        raise InvalidParameter(f"There is no analysis method '{method}'. Methods: "
                               f"{', '.join(METHODS)}.", parameter="method")
    fixed = dict(fixed or {})
    given = {k: v for k, v in args.items() if v is not None and v != ""}
    accepted = [name for name in ACCEPTED[method] if name not in fixed]
    for name in given:
        if name in fixed:
            raise InvalidParameter(f"'{name}' is set by this layer. Accepted: "
                                   f"{', '.join(accepted)}.", parameter=name)
    P.known(given, accepted)
    values = {**{k: str(v) for k, v in fixed.items()}, **{k: _arg(k, v)
                                                          for k, v in given.items()}}
    params = replace(AnalysisParams(method), **_scope(values, area), **_settings(values))
    _check_combination(params, values)
    return params


def _scope(values: dict, area: str | None) -> dict:
    changes: dict = {}
    if "category" in values:
        changes["category"] = _choice(values["category"], CATEGORIES, "category")
    if "period" in values and "year" in values:
        raise InvalidParameter("Give period or year, not both.", parameter="year")
    if "year" in values:
        changes["date_from"], changes["date_to"] = parse_period(values["year"], "year",
                                                                whole_year=True)
    if "period" in values:
        changes["date_from"], changes["date_to"] = parse_period(values["period"])
    changes["province_code"] = _province(values.get("province_code"), area)
    if "border_neighbor" in values:
        text = values["border_neighbor"]
        changes["border_neighbor"] = _choice("any" if text.lower() == "any" else text.upper(),
                                             NEIGHBOURS, "border_neighbor")
    if "border_band" in values:
        band = BAND_ALIASES.get(values["border_band"], values["border_band"])
        changes["border_band"] = _choice(band, BANDS, "border_band")
    return changes


def _settings(values: dict) -> dict:
    changes: dict = {}
    for name, choices in (("zones", ZONES), ("weights", WEIGHTS), ("step", STEPS)):
        if name in values:
            changes[name] = _choice(values[name], choices, name)
    for name in RANGES:
        if name in values:
            changes[name] = _number(values[name], name)
    return changes


def _arg(name: str, value) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidParameter(f"{name} must be a text or a number.", parameter=name)
    return str(value)


def _choice(value: str, choices: tuple, name: str) -> str:
    return P.choice(choices)(value, name)


def _number(text: str, name: str) -> float:
    low, high = RANGES[name]
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not low <= value <= high:
        raise InvalidParameter(f"{name} must be a number from {low:g} to {high:g} (km).",
                               parameter=name)
    return value


def _province(value: str | None, area: str | None) -> str | None:
    if value is not None:
        P.province_code(value, "province_code")
    if area is not None and value not in (None, area):
        raise Forbidden(f"Your area is province {area}.", parameter="province_code")
    return area or value


def _check_combination(params: AnalysisParams, values: dict) -> None:
    if params.weights == "distance" and params.distance_km is None:
        raise InvalidParameter("weights=distance needs distance_km (neighbours within that "
                               "distance).", parameter="distance_km")
    if params.weights != "distance" and "distance_km" in values:
        raise InvalidParameter("distance_km is for weights=distance only.",
                               parameter="distance_km")
    if params.zones != "hex" and "size_km" in values:
        raise InvalidParameter("size_km is for zones=hex only.", parameter="size_km")


def parse_period(text: str, name: str = "period",
                 whole_year: bool = False) -> tuple[date | None, date | None]:
    """Parse ``2024``, ``2024-Q3`` or ``from/to`` (dates or years, ``..`` open) into dates."""
    if whole_year:
        P.year(text, name)
    quarter = QUARTER.match(text)
    if quarter:
        year, q = int(quarter.group(1)), int(quarter.group(2))
        return _checked(date(year, 3 * q - 2, 1), _quarter_end(year, q), name)
    parts = text.split("/")
    if len(parts) == 1:
        return _checked(_bound(parts[0], name, start=True), _bound(parts[0], name, start=False),
                        name)
    if len(parts) != 2:
        raise InvalidParameter(f"{name} is a year (2024), a quarter (2024-Q3) or an interval "
                               "from/to, e.g. 2024-01-01/2024-06-30.", parameter=name)
    return _checked(_bound(parts[0], name, start=True), _bound(parts[1], name, start=False),
                    name)


def _bound(text: str, name: str, start: bool) -> date | None:
    if text in ("..", ""):
        return None
    try:
        if text.isascii() and text.isdigit() and len(text) == 4:
            year = int(text)
            return date(year, 1, 1) if start else date(year, 12, 31)
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidParameter(f"{name}: '{text}' is not a date (YYYY-MM-DD) or a year.",
                               parameter=name) from None


def _checked(start: date | None, end: date | None, name: str):
    if start and end and start > end:
        raise InvalidParameter(f"{name} starts after it ends.", parameter=name)
    for bound in (start, end):
        if bound is not None and not P.FIRST_YEAR <= bound.year <= P.LAST_YEAR:
            raise InvalidParameter(f"{name} must lie between {P.FIRST_YEAR} and "
                                   f"{P.LAST_YEAR}.", parameter=name)
    return start, end


def _quarter_end(year: int, quarter: int) -> date:
    return date(year, 12, 31) if quarter == 4 else date.fromordinal(
        date(year, 3 * quarter + 1, 1).toordinal() - 1)


def describe(params: AnalysisParams) -> dict:
    """The parameters as JSON-ready values (the run and result documents show them)."""
    out = {}
    for item in fields(params):
        if item.name in ("date_from", "date_to"):
            continue
        out[item.name] = getattr(params, item.name)
    out["period"] = params.period
    return {k: v for k, v in out.items() if k == "method" or k in params.canonical()}
