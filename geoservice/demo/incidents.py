"""Synthetic incidents: clustered in wards, near the land border, a thin background elsewhere.

About 8 a ward a year (provincial towns), near the land border in border communes (about
6, 10 in border wards; points pulled from inside the commune towards the border line), a
thin background elsewhere (0.8), times a province factor, +5 % a year; plus the clusters
of the planted hot areas (`planted`).
"""

from __future__ import annotations

import numpy as np
import shapely

from geoservice.demo.common import (
    CALIBRATION_YEAR,
    Provinces,
    days_in_year,
    demo_record,
    nth_day,
    pick,
    random_stream,
    rounded,
)
from geoservice.demo.places import Units, near_border, scatter, to_nfc
from geoservice.demo.planted import PLANTED_AREAS
from geoservice.records import catalogue
from geoservice.store.records import RecordWrite

# Incident category mixes by the kind of place (categories, probabilities).
CATEGORY_MIX = {
    "border": (("smuggling", "illegal_border_crossing", "drugs", "human_trafficking",
                "public_order"), (0.3, 0.25, 0.25, 0.1, 0.1)),
    "ward": (("public_order", "drugs", "disputes_petitions", "other"), (0.4, 0.3, 0.15, 0.15)),
    "rural": (("disputes_petitions", "public_order", "drugs", "other"), (0.35, 0.3, 0.15, 0.2)),
}
SEVERITY_MIX = (("low", "medium", "high"), (0.6, 0.3, 0.1))


def category_phrase(code: str) -> str:
    """How a sentence names an incident category ("ma túy"), from the catalogue."""
    term = catalogue.active().term("incident_category", code)
    return term.phrase("vi") if term is not None else code


def generate_incidents(units: Units, provinces: Provinces, years: list[int],
                       seed: int) -> list[RecordWrite]:
    """Return the incidents of every commune and year, planted ones included (stream 5)."""
    rng = random_stream(seed, 5)
    border = np.array([bool(nb) for nb in units.neighbors], dtype=bool)
    cls = np.where(border, "border", np.where(units.ward, "ward", "rural"))
    rate = np.where(border, np.where(units.ward, 10.0, 6.0), np.where(units.ward, 8.0, 0.8))
    records = []
    for year in years:
        counts = rng.poisson(rate * provinces.incidents * (1 + 0.05 * (year - CALIBRATION_YEAR)))
        idx = np.repeat(np.arange(units.n), counts)
        within = np.arange(len(idx)) - np.repeat(np.cumsum(counts) - counts, counts)
        x, y = scatter(units, idx, units.x[idx], units.y[idx],
                       units.size_km()[idx] * np.where(units.ward[idx], 0.25, 0.35), rng)
        on_border = np.flatnonzero(border[idx])
        picks = [units.neighbors[i][rng.integers(len(units.neighbors[i]))]
                 for i in idx[on_border].tolist()]
        bx, by, _ = near_border(units, idx[on_border], picks, rng)
        x[on_border], y[on_border] = bx, by
        category = np.empty(len(idx), dtype=object)
        for name, mix in CATEGORY_MIX.items():
            rows = np.flatnonzero(cls[idx] == name)
            category[rows] = pick(rng, mix, len(rows))
        refs = [f"DEMO-{year}-{units.code[i]}-{k + 1:03d}"
                for i, k in zip(idx.tolist(), within.tolist())]
        records += _incident_records(units, year, idx, refs, category.tolist(), x, y, rng)
        records += _planted_incidents(units, year, rng)
    return records


def _incident_records(units: Units, year: int, idx: np.ndarray, refs: list, categories: list,
                      x, y, rng) -> list[RecordWrite]:
    days = rng.integers(0, days_in_year(year), len(idx))
    severity = pick(rng, SEVERITY_MIX, len(idx))
    records = []
    for i, ref, category, lon, lat, offset, level in zip(
            idx.tolist(), refs, categories, rounded(x), rounded(y), days.tolist(), severity):
        when = nth_day(year, offset)
        records.append(demo_record(
            "incidents", units, i,
            {"ref": ref, "date": when, "category": category, "lon": lon, "lat": lat,
             "severity": level,
             "description": to_nfc(f"Vụ việc về {category_phrase(category)} (dữ liệu minh họa)")},
            geometry=shapely.Point(lon, lat), when=when, category=category))
    return records


def _planted_incidents(units: Units, year: int, rng) -> list[RecordWrite]:
    records = []
    for area in PLANTED_AREAS:
        if area.commune_code not in units.code:
            continue
        i = units.code.index(area.commune_code)
        idx = np.full(area.per_year, i)
        x, y = scatter(units, idx, area.lon, area.lat, area.radius_km / 2, rng)
        refs = [f"DEMO-{year}-{area.key}-{k + 1:03d}" for k in range(area.per_year)]
        records += _incident_records(units, year, idx, refs, [area.category] * area.per_year,
                                     x, y, rng)
    return records
