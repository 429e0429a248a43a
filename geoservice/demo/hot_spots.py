"""Synthetic designated hot spots: a few per province, more in border provinces.

2 designated hot spots per province, 5 in border provinces, plus one per planted hot area
(`planted`); about 45 % carry a polygon (``area_wkt``; the record's geometry is then that
polygon, as the importer does).
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import shapely

from geoservice.demo.common import demo_record, pick, random_stream, rounded
from geoservice.demo.incidents import CATEGORY_MIX, category_phrase
from geoservice.demo.places import Units, near_border, scatter, shift_km, to_nfc
from geoservice.demo.planted import PLANTED_AREAS
from geoservice.store.records import RecordWrite


def generate_hot_spots(units: Units, years: list[int], seed: int) -> list[RecordWrite]:
    """Return the designated hot spots of every province and planted area (stream 6)."""
    rng = random_stream(seed, 6)
    chosen = []
    for province in sorted(set(units.province)):
        members = np.array([i for i in range(units.n) if units.province[i] == province])
        on_border = np.array([bool(units.neighbors[i]) for i in members], dtype=bool)
        weight = np.where(on_border, 4.0, np.where(units.ward[members], 2.0, 0.5))
        size = min(len(members), 5 if on_border.any() else 2)
        chosen += sorted(rng.choice(members, size=size, replace=False,
                                    p=weight / weight.sum()).tolist())
    idx = np.array(chosen, dtype=int)
    border = np.array([bool(units.neighbors[i]) for i in chosen], dtype=bool)
    x, y = scatter(units, idx, units.x[idx], units.y[idx], units.size_km()[idx] * 0.25, rng)
    rows = np.flatnonzero(border)
    picks = [units.neighbors[i][0] for i in idx[rows].tolist()]
    x[rows], y[rows], _ = near_border(units, idx[rows], picks, rng)
    first, last = date(2019, 1, 1), date(max(years), 6, 30)
    records = []
    for i, lon, lat, on_line in zip(idx.tolist(), rounded(x), rounded(y), border.tolist()):
        mix = CATEGORY_MIX["border" if on_line else "ward" if units.ward[i] else "rural"]
        category = pick(rng, mix, 1)[0]
        designated = first + timedelta(days=int(rng.integers(0, (last - first).days)))
        status = pick(rng, (("active", "monitoring", "resolved"), (0.55, 0.3, 0.15)), 1)[0]
        radius = float(rng.uniform(0.4, 1.5)) if rng.random() < 0.45 else None
        resolved = None
        if status == "resolved":
            resolved = min(designated + timedelta(days=int(rng.integers(180, 720))),
                           date(max(years), 12, 31))
        name = to_nfc(f"Điểm nóng về {category_phrase(category)} – {units.full_name[i]}")
        records.append(_hot_spot(units, i, name, category, lon, lat, radius, status,
                                 designated, resolved))
    for area in PLANTED_AREAS:
        if area.commune_code in units.code:
            records.append(_hot_spot(
                units, units.code.index(area.commune_code), to_nfc(area.name), area.category,
                area.lon, area.lat, area.radius_km, "active", date(min(years) - 1, 3, 1), None))
    return records


def _hot_spot(units: Units, i: int, name: str, category: str, lon: float, lat: float,
              radius_km: float | None, status: str, designated: date,
              resolved: date | None) -> RecordWrite:
    properties = {"name": name, "category": category, "lon": lon, "lat": lat,
                  "status": status, "designated_on": designated}
    geometry = shapely.Point(lon, lat)
    if radius_km is not None:
        angles = np.linspace(0, 2 * np.pi, 17)[:-1]
        ring_x, ring_y = shift_km(np.full(16, lon), np.full(16, lat), radius_km * np.cos(angles),
                                  radius_km * np.sin(angles))
        ring = list(zip(rounded(ring_x), rounded(ring_y)))
        properties["area_wkt"] = shapely.to_wkt(shapely.Polygon(ring), rounding_precision=6)
        geometry = shapely.from_wkt(properties["area_wkt"])
    if resolved is not None:
        properties["resolved_on"] = resolved
    return demo_record("hot-spots", units, i, properties, geometry=geometry, when=designated,
                       category=category)
