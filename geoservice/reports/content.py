"""The public figures of a report, taken from the indicator functions and nothing else.

* A province's or a commune's published indicators (certification rates per group, model
  coverage, awareness work) are `published.indicators` — the cached `unit_indicators`
  that the features API and the map layers show — so report, map and API agree.
* The counts behind a rate, the change against the year before and the gap to the target
  come from `certification_rates` at the unit's level; active models from
  `model_coverage`.
* A border sector has no level of its own: its figures are `by_border_neighbor` over the
  commune-level frames of the provinces it crosses (counts summed, rates recomputed).

Rates are fractions 0–1, changes and gaps percentage points, as the functions give them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from geoservice.indicators import compute as ind
from geoservice.indicators import published
from geoservice.indicators.names import CERTIFICATION_GROUPS
from geoservice.reports.format import exact, share
from geoservice.reports.reads import computed, plain_store
from geoservice.reports.units import Unit

KEY_GROUPS = ("residential", "commune", "agencies_enterprises_schools")
TREND_YEARS = 5
# Above this many provinces a border sector's frames are read nationally in one go
# (faster than one filtered read per province).
NATIONAL_READ_FROM = 4


@dataclass
class PublicFigures:
    """Everything a report may show to anyone."""

    has_data: bool
    certification: list[dict] = field(default_factory=list)  # one row per group
    models: list[dict] = field(default_factory=list)  # one row per model type (+ any)
    awareness: dict = field(default_factory=dict)
    trend: list[dict] = field(default_factory=list)  # {year, rates: {group: rate}}
    communes: list[dict] = field(default_factory=list)  # one row per commune
    # Communes with no boundary polygon yet: counted, but not on the map (code, full_name,
    # note "no boundary polygon yet"); listed whether or not there are records.
    without_geometry: list[dict] = field(default_factory=list)
    years: list[int] = field(default_factory=list)  # years with certification records


def level_of(unit: Unit) -> str:
    """The indicator level a unit is read at ('province' or 'commune')."""
    return "province" if unit.kind == "province" else "commune"


def has_records(store, year: int) -> bool:
    """True when the store holds certification or awareness results for `year`."""
    return (year in store.record_years("certification")
            or year in store.record_years("awareness"))


def public_figures(store, unit: Unit, year: int) -> PublicFigures:
    """Gather the public figures of `unit` for `year` (empty when there are no records)."""
    years = store.record_years("certification")
    undrawn = [{"code": c["code"], "full_name": c["full_name"], "note": c["note"]}
               for c in unit.without_geometry]
    if not has_records(store, year) or not unit.communes:
        return PublicFigures(has_data=False, years=years, without_geometry=undrawn)
    frames = unit_frames(store, unit, year)
    values = _unit_values(store, unit, year)
    communes = published.indicators(plain_store(store), "commune", year)
    return PublicFigures(
        has_data=True,
        certification=_certification(frames["certification"]),
        models=_models(frames["models"], values),
        awareness=_awareness(frames["awareness"], values),
        trend=_trend(store, unit, [y for y in years if y <= year][-TREND_YEARS:], year,
                     frames["certification"]),
        communes=_commune_rows(unit, communes, frames["commune_models"],
                               frames["commune_certification"]),
        years=years,
        without_geometry=undrawn,
    )


def unit_frames(store, unit: Unit, year: int) -> dict[str, pd.DataFrame]:
    """The unit's rows of the certification, model and awareness frames for `year`.

    Each frame holds the unit's own rows (the province, the commune, or the border
    sector as ``by_border_neighbor`` rolls it up); ``commune_models`` keeps the
    commune-level model rows of the unit's communes for the commune table.
    """
    def commune_rates(province):
        return computed(store, ind.certification_rates, year, "commune",
                        province_code=province)

    if unit.kind == "border":
        by_commune = _commune_frame(store, unit, commune_rates)
        certification = _neighbor_rows(ind.by_border_neighbor(by_commune, store), unit)
        models = _commune_frame(store, unit, lambda p: computed(
            store, ind.model_coverage, year, province_code=p))
        awareness = _sector(store, unit, lambda p: computed(
            store, ind.awareness_totals, year, "commune", province_code=p))
        return {"certification": certification,
                "models": _neighbor_rows(ind.by_border_neighbor(models, store), unit),
                "awareness": awareness, "commune_models": models,
                "commune_certification": by_commune}
    level, province = level_of(unit), unit.province_code
    commune_models = computed(store, ind.model_coverage, year, province_code=province)
    models = (commune_models if level == "commune" else computed(
        store, ind.model_coverage, year, level="province", province_code=province))
    certification = computed(store, ind.certification_rates, year, level,
                             province_code=province)
    awareness = computed(store, ind.awareness_totals, year, level, province_code=province)
    return {
        "certification": _own(certification, unit),
        "models": _own(models, unit),
        "awareness": _own(awareness, unit),
        "commune_models": commune_models[commune_models["code"].isin(unit.commune_codes)],
        "commune_certification": _commune_frame(store, unit, commune_rates),
    }


def _own(frame: pd.DataFrame, unit: Unit) -> pd.DataFrame:
    return frame[frame["code"] == unit.code] if len(frame) else frame


def _commune_frame(store, unit: Unit, read) -> pd.DataFrame:
    """A commune-level frame of the unit's communes, read per province or nationally."""
    provinces = unit.provinces
    if len(provinces) >= NATIONAL_READ_FROM:
        frame = read(None)
    else:
        parts = [read(p) for p in provinces]
        filled = [p for p in parts if len(p)]
        frame = pd.concat(filled, ignore_index=True) if filled else parts[0]
    frame = frame[frame["code"].isin(unit.commune_codes)] if len(frame) else frame
    frame.attrs["level"] = "commune"
    return frame


def _sector(store, unit: Unit, read) -> pd.DataFrame:
    """A border sector's rows: the commune frame rolled up by its neighbour."""
    return _neighbor_rows(ind.by_border_neighbor(_commune_frame(store, unit, read), store),
                          unit)


def _neighbor_rows(frame: pd.DataFrame, unit: Unit) -> pd.DataFrame:
    return frame[frame["neighbor"] == unit.neighbor] if len(frame) else frame


def _unit_values(store, unit: Unit, year: int) -> dict:
    """The published indicators of a province or commune (empty for a border sector)."""
    if unit.kind == "border":
        return {}
    return published.indicators(plain_store(store), level_of(unit), year).get(unit.code, {})


def _plain(value):
    """A plain Python number (or text) from a frame cell; None for missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _certification(frame: pd.DataFrame) -> list[dict]:
    """One row per group: the counts, and every figure derived from the printed counts.

    The rate is certified ÷ reviewed and the gap is counted against `basis` (registered
    where registration is tracked, else reviewed), both from the counts printed beside
    them, exactly (`Fraction`), so a reader can redo every sum on paper.
    """
    rows = []
    for group in CERTIFICATION_GROUPS:
        match = frame[frame["group"] == group] if len(frame) else frame
        row = match.iloc[0].to_dict() if len(match) else {}
        counts = {key: _plain(row.get(key)) for key in ("registered", "reviewed", "certified")}
        basis = _plain(row.get("gap_basis")) or "reviewed"
        rows.append({
            "group": group, **counts,
            **{key: _plain(row.get(key)) for key in (
                "previous_rate_reviewed", "change_vs_previous_year")},
            **target_gap(counts, basis, _plain(row.get("target")) or 1.0),
        })
    return rows


def target_gap(counts: dict, basis: str, target: float) -> dict:
    """The rate and the gap to `target` (a share, 1.0 = every unit) from the counts.

    ``rate`` = certified ÷ reviewed; ``basis_count`` is the count the target is counted
    against, ``basis_rate`` = certified ÷ basis_count, ``gap_to_target`` = target −
    basis_rate in percentage points (negative above the target) and ``units_short`` =
    target × basis_count − certified, rounded up (0 when reached).
    """
    certified, basis_count = counts.get("certified"), counts.get(basis)
    goal = exact(target)
    basis_rate = share(certified, basis_count)
    short = None
    if basis_rate is not None:
        short = max(0, math.ceil(goal * int(basis_count)) - int(certified))
    return {"rate": share(certified, counts.get("reviewed")), "target": goal,
            "basis": basis, "basis_count": basis_count, "basis_rate": basis_rate,
            "gap_to_target": None if basis_rate is None else (goal - basis_rate) * 100,
            "units_short": short}


def _models(frame: pd.DataFrame, values: dict) -> list[dict]:
    rows = []
    for model_type in (*ind.MODEL_TYPES, ind.ANY_MODEL):
        match = frame[frame["model_type"] == model_type] if len(frame) else frame
        row = match.iloc[0].to_dict() if len(match) else {}
        name = f"model_coverage_{model_type}"
        coverage = values[name] if name in values else _plain(row.get("coverage"))
        rows.append({"model_type": model_type, "coverage": coverage,
                     **{key: _plain(row.get(key)) for key in (
                         "models", "communes", "covered_communes", "residential_coverage")}})
    return rows


def _awareness(frame: pd.DataFrame, values: dict) -> dict:
    row = frame.iloc[0].to_dict() if len(frame) else {}
    out = {}
    for column in ("sessions", "participants", "commended_collectives",
                   "commended_individuals"):
        name = f"awareness_{column}"
        out[column] = values[name] if name in values else _plain(row.get(column))
    return out


def _trend(store, unit: Unit, years: list[int], year: int,
           current: pd.DataFrame) -> list[dict]:
    """Certification rates of the key groups for each year up to `year`."""
    out = []
    for each in years:
        if each == year:
            frame = current
        elif unit.kind == "border":
            frame = _sector(store, unit, lambda p, y=each: computed(
                store, ind.certification_rates, y, "commune", province_code=p))
        else:
            frame = _own(computed(store, ind.certification_rates, each, level_of(unit),
                                  province_code=unit.province_code), unit)
        rates = {}
        for group in KEY_GROUPS:
            match = frame[frame["group"] == group] if len(frame) else frame
            rates[group] = _plain(match.iloc[0]["rate_reviewed"]) if len(match) else None
        out.append({"year": each, "rates": rates})
    return out


def _commune_rows(unit: Unit, values: dict, models: pd.DataFrame,
                  certification: pd.DataFrame) -> list[dict]:
    """One row per commune: its published indicators, its certification rates exactly
    (certified ÷ reviewed, rounded only when printed) and its active models (any type)."""
    active = {}
    if len(models):
        anyone = models[models["model_type"] == ind.ANY_MODEL]
        active = dict(zip(anyone["code"], anyone["models"]))
    rates: dict = {}
    for record in (certification.to_dict("records") if len(certification) else []):
        rates[(record["code"], record["group"])] = share(_plain(record["certified"]),
                                                         _plain(record["reviewed"]))
    rows = []
    for commune in unit.communes:
        own = values.get(commune["code"], {})
        row = {**commune, **{name: own.get(name) for name in published.PUBLIC_INDICATORS},
               "active_models": _plain(active.get(commune["code"]))}
        for group in CERTIFICATION_GROUPS:
            if (commune["code"], group) in rates:
                row[f"certification_rate_{group}"] = rates[(commune["code"], group)]
        rows.append(row)
    return rows


def provenance(store) -> dict:
    """Where the figures come from: the latest import of each record kind, the boundaries."""
    latest: dict[str, dict] = {}
    for entry in store.imports():  # newest first
        latest.setdefault(entry["kind"], entry)
    return {
        "imports": [{"kind": kind, "filename": entry["filename"],
                     "imported_at": entry["imported_at"], "imported_by": entry["imported_by"]}
                    for kind, entry in sorted(latest.items())],
        "boundaries_loaded_at": store.get_meta("boundaries_loaded_at"),
        "notice": published.synthetic_notice(plain_store(store)),
        "issued": date.today().isoformat(),
    }
