"""The restricted sections of a report: incidents, designated hot spots, cooperation details.

Each section asks the one access decision for derived data
(`geoservice.access.decide_derived`) for its own collection: a key scoped to layers sees
a section only when its scope holds that collection. A section is shown only when the
reader's area covers the unit: a national reader always, a province reader for a unit of
its province, and for a border sector only the rows of its own province. Otherwise the
section is left out and the report says why; nothing of it is computed, so no figure can
leak.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from geoservice.access import Principal, decide_derived
from geoservice.collections import COLLECTIONS
from geoservice.errors import Forbidden, Unauthorized
from geoservice.indicators import compute as ind
from geoservice.reports.content import level_of
from geoservice.reports.reads import computed
from geoservice.reports.units import Unit
from geoservice.store.records import RecordQuery

SECTIONS = {"incidents": "incidents", "hot_spots": "hot-spots", "cooperation": "cooperation"}
ALL = 10**6


@dataclass(frozen=True)
class Scope:
    """Whether a restricted section is shown, and limited to which province."""

    allowed: bool
    province_code: str | None = None  # rows limited to this province (None: whole unit)
    reason: str | None = None  # why it is left out: "sign_in", "not_allowed", "other_area"


def scope_for(principal: Principal, collection_id: str, unit: Unit) -> Scope:
    """The scope of one restricted collection's section for this reader and unit."""
    try:
        decision = decide_derived(principal, COLLECTIONS[collection_id])
    except Unauthorized:
        return Scope(False, reason="sign_in")
    except Forbidden:
        return Scope(False, reason="not_allowed")
    area = decision.province_code
    if area is None:
        return Scope(True)
    if area in unit.provinces:  # a province or commune of the area, or a sector crossing it
        return Scope(True, province_code=area)
    return Scope(False, reason="other_area")


def scopes(principal: Principal, unit: Unit) -> dict[str, Scope]:
    """The scope of every restricted section."""
    return {name: scope_for(principal, collection, unit)
            for name, collection in SECTIONS.items()}


@dataclass
class RestrictedFigures:
    """The restricted sections' figures; a section left out is None."""

    scopes: dict[str, Scope]
    incidents: dict | None = None
    hot_spots: list[dict] | None = None
    hot_spot_features: list = field(default_factory=list)  # (properties, geometry)
    cooperation: dict | None = None

    @property
    def any_shown(self) -> bool:
        """True when at least one restricted section is shown."""
        return any(s.allowed for s in self.scopes.values())


def restricted_figures(store, unit: Unit, year: int, principal: Principal,
                       with_data: bool = True) -> RestrictedFigures:
    """Gather the restricted sections this reader may see (none are read otherwise)."""
    figures = RestrictedFigures(scopes(principal, unit))
    if not unit.communes:
        return figures
    start, end = date(year, 1, 1), date(year, 12, 31)
    own = figures.scopes["incidents"]
    if own.allowed and with_data:
        figures.incidents = incidents(store, unit, start, end, own.province_code)
    own = figures.scopes["hot_spots"]
    if own.allowed:
        figures.hot_spot_features = hot_spots(store, unit, year, own.province_code)
        figures.hot_spots = [props for props, _geometry in figures.hot_spot_features]
    own = figures.scopes["cooperation"]
    if own.allowed and with_data:
        figures.cooperation = cooperation(store, unit, start, end, own.province_code)
    return figures


def _communes(unit: Unit, area: str | None) -> dict[str, dict]:
    """The unit's communes within the area (all of them when `area` is None)."""
    return {c["code"]: c for c in unit.communes if area is None or c["province_code"] == area}


def _provinces(unit: Unit, area: str | None) -> list[str | None]:
    if area is not None:
        return [area]
    return [None] if len(unit.provinces) > 3 else list(unit.provinces)


def _commune_frame(unit: Unit, area: str | None, read) -> pd.DataFrame:
    parts = [read(p) for p in _provinces(unit, area)]
    filled = [p for p in parts if len(p)]
    frame = pd.concat(filled, ignore_index=True) if filled else parts[0]
    if len(frame):
        frame = frame[frame["code"].isin(_communes(unit, area))]
    frame.attrs["level"] = "commune"
    return frame


def _unit_row(store, unit: Unit, area: str | None, communes: pd.DataFrame, read,
              neighbour_filter=None) -> pd.DataFrame:
    """The unit's own rows: the function at the unit's level, or the sector roll-up."""
    if unit.kind == "border":
        frame = ind.by_border_neighbor(communes, store) if len(communes) else communes
        if len(frame):
            frame = frame[frame["neighbor"] == unit.neighbor]
        return frame
    if unit.kind == "commune":
        return communes[communes["code"] == unit.code] if len(communes) else communes
    frame = read(unit.province_code, level_of(unit))
    return frame[frame["code"] == unit.code] if len(frame) else frame


def incidents(store, unit: Unit, start: date, end: date, area: str | None) -> dict:
    """Incidents of the year in the unit: total, per category and per commune."""
    def read(province, level="commune"):
        return computed(store, ind.incident_counts, start, end, level, province_code=province)

    communes = _commune_frame(unit, area, read)
    row = _unit_row(store, unit, area, communes, read)
    totals = row.sum(numeric_only=True) if len(row) else pd.Series(dtype=float)
    return {
        "total": int(totals.get("incidents", 0)),
        "categories": [{"category": c, "count": int(totals.get(f"incidents_{c}", 0))}
                       for c in ind.INCIDENT_CATEGORIES],
        "communes": {code: int(n) for code, n in zip(communes.get("code", []),
                                                     communes.get("incidents", []))},
    }


def cooperation(store, unit: Unit, start: date, end: date, area: str | None) -> dict:
    """Cross-border activities of the year: totals, per type, per partner locality."""
    partner = unit.neighbor

    def read(province, level="commune"):
        return computed(store, ind.activity_counts, start, end, level,
                        partner_country=partner, province_code=province)

    communes = _commune_frame(unit, area, read)
    row = _unit_row(store, unit, area, communes, read)
    totals = row.sum(numeric_only=True) if len(row) else pd.Series(dtype=float)
    per_commune = (communes.groupby("code")["activities"].sum().to_dict()
                   if len(communes) else {})
    return {
        "total": int(totals.get("activities", 0)),
        "participants": int(totals.get("participants", 0)),
        "types": [{"activity_type": t, "count": int(totals.get(f"activities_{t}", 0))}
                  for t in ind.ACTIVITY_TYPES],
        "localities": _localities(store, unit, start, end, area),
        "communes": {code: int(n) for code, n in per_commune.items()},
    }


def _localities(store, unit: Unit, start: date, end: date, area: str | None) -> list[dict]:
    """Activities per partner locality across the border (from the records themselves)."""
    communes = _communes(unit, area)
    frames = [computed(store, ind.records_frame, "cooperation", date_from=start,
                       date_to=end, province_code=p) for p in _provinces(unit, area)]
    frames = [f for f in frames if len(f)]
    if not frames:
        return []
    records = pd.concat(frames, ignore_index=True)
    records = records[records["commune_code"].isin(communes)]
    if unit.neighbor:
        records = records[records["partner_country"] == unit.neighbor]
    if records.empty:
        return []
    records["participants"] = pd.to_numeric(records.get("participants"),
                                            errors="coerce").fillna(0)
    out = []
    for (country, locality), rows in records.groupby(["partner_country", "partner_locality"]):
        names = sorted({communes[c]["full_name"] for c in rows["commune_code"]})
        out.append({"partner_country": country, "partner_locality": locality,
                    "activities": len(rows), "participants": int(rows["participants"].sum()),
                    "types": sorted(set(rows["activity_type"])), "communes": names})
    return sorted(out, key=lambda r: (-r["activities"], r["partner_locality"]))


def hot_spots(store, unit: Unit, year: int, area: str | None) -> list[tuple[dict, object]]:
    """Designated hot spots in force during `year` in the unit: designated by its end and
    not resolved before its start. Returned as (properties, geometry), by commune."""
    communes = _communes(unit, area)
    first, last = f"{year}-01-01", f"{year}-12-31"
    out = []
    for province in _provinces(unit, area):
        page = store.query_records("hot-spots", RecordQuery(limit=ALL, province_code=province))
        for _id, props, geometry in page.features:
            designated, resolved = props.get("designated_on"), props.get("resolved_on")
            if props.get("commune_code") not in communes:
                continue
            if (designated and str(designated) > last) or (resolved and str(resolved) < first):
                continue
            commune = communes[props["commune_code"]]
            out.append(({**props, "commune_name": commune["full_name"],
                         "province_name": commune["province_name"]}, geometry))
    return sorted(out, key=lambda item: (item[0]["commune_code"], item[0].get("name") or ""))

