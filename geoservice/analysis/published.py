"""The indicators that commune and province features carry, cached per data version.

Computing every unit's indicators for a year reads all records of the year (a few
seconds nationally), so the result is kept: in this process, and in the store's metadata
so that other processes and hosts on the same store reuse it. Both copies are keyed by
the store's data version, which every import changes, so a stale figure is never served.

Public features carry the public indicators; incident and cooperation counts (from
restricted kinds) are added only for units inside the reader's area (`restricted_area`).
"""

from __future__ import annotations

import json
import logging
import threading
import weakref

from geoservice.analysis.indicators import INDICATOR_NAMES, RESTRICTED_INDICATORS, unit_indicators
from geoservice.errors import InvalidParameter

LOGGER = logging.getLogger(__name__)

UNIT_LEVELS = {"communes": "commune", "provinces": "province"}
YEAR_FIELD = "indicator_year"
PUBLIC_INDICATORS = {name: text for name, text in INDICATOR_NAMES.items()
                     if name not in RESTRICTED_INDICATORS}
INDICATOR_FIELDS = {
    YEAR_FIELD: ("integer", "Year the indicator properties refer to (?year=, default the "
                            "latest year with certification records)"),
    **{name: ("integer" if not name.startswith(("certification_rate", "model_coverage"))
              else "number", text) for name, text in INDICATOR_NAMES.items()},
}

_MEMO: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def indicator_year(store, value: str | None) -> int | None:
    """Validate `?year=` (default: the latest year with certification records, or None)."""
    if value is None:
        years = store.record_years("certification")
        return years[-1] if years else None
    if not (value.isascii() and value.isdigit() and len(value) == 4):
        raise InvalidParameter("year must be a four-digit year, e.g. 2024.", parameter="year")
    year = int(value)
    if not 1900 <= year <= 2100:
        raise InvalidParameter("year must be between 1900 and 2100.", parameter="year")
    return year


def indicators(store, level: str, year: int) -> dict[str, dict]:
    """Return {unit code: {indicator: value}} for every unit of a level, restricted ones too."""
    version = store.data_version()
    key = (version, level, year)
    memo = _MEMO.setdefault(store, {})
    if key in memo:
        return memo[key]
    with _LOCK:
        if key in memo:
            return memo[key]
        meta_key = f"indicators/{level}/{year}"
        cached = store.get_meta(meta_key)
        payload = json.loads(cached) if cached else None
        if payload is None or payload.get("version") != version:
            LOGGER.info("computing %s indicators for %s (data version %s)", level, year, version)
            values = unit_indicators(store, level, year, restricted=True)
            store.set_meta(meta_key, json.dumps({"version": version, "values": values},
                                                ensure_ascii=False))
        else:
            values = payload["values"]
        for old in [k for k in memo if k[0] != version]:
            del memo[old]  # an older data version can no longer be served
        memo[key] = values
        return values


def decorate(store, collection_id: str, features: list, year: int | None,
             restricted_area: str | None | bool) -> list:
    """Add a year's indicators to (id, properties, geometry) features of communes/provinces.

    `restricted_area` is False when the reader may not see restricted indicators, None for
    a national reader, or a province code limiting them to that province's units.
    """
    level = UNIT_LEVELS.get(collection_id)
    if level is None or year is None:
        return features
    values = indicators(store, level, year)
    out = []
    for fid, properties, geometry in features:
        unit = values.get(fid, {})
        province = properties.get("province_code") or properties.get("code")
        allowed = restricted_area is None or (restricted_area is not False
                                              and province == restricted_area)
        extra = {name: unit.get(name) for name in (INDICATOR_NAMES if allowed
                                                    else PUBLIC_INDICATORS)}
        out.append((fid, {**properties, YEAR_FIELD: year, **extra}, geometry))
    return out


def warm(store, years=None) -> None:
    """Compute and store the indicators of the given years (default: the latest) ahead."""
    for year in years or store.record_years("certification")[-1:]:
        for level in UNIT_LEVELS.values():
            indicators(store, level, year)
