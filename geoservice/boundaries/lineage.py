"""Lineage of the 2025 reform: which pre-reform units became which 2025 unit.

Most pre-reform communes went whole into one 2025 unit. Some (about 470) were split between
two to five new units; their polygon is split geometrically between those units with a
generalised Voronoi partition: cells grown from the outlines of what each new unit already
holds (or from its recorded centroid when it holds nothing else), clipped to the old polygon.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import rasterio.features
import shapely
import shapely.geometry
from affine import Affine

from geoservice.boundaries.polygons import GRID, polygonal
from geoservice.geodesy import area_km2

LOGGER = logging.getLogger(__name__)

SEED_REACH_DEG = 0.15  # outline points farther than this from the split unit do not compete


def lineage_table(conversion: dict, units: pd.DataFrame, legacy: pd.DataFrame) -> pd.DataFrame:
    """Return the lineage table old -> new with one row per (old code, new code).

    Columns: `legacy_code`, `code` (2025), `relation` ("whole" or "split"), `is_default`
    (the package's default new unit for a split old unit), `new_lat`/`new_lon` (recorded
    centroid of the new unit).
    """
    new_code = {(p, w): c for p, w, c in zip(units["province_key"], units["ward_key"],
                                             units["code"])}
    old_code = dict(zip(legacy["old_key"], legacy["code"]))
    rows = []
    for province_key, wards in conversion["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for ward_key, olds in wards.items():
            code = new_code.get((province_key, ward_key))
            if code is None:
                continue
            rows += [(old_code[o], code, "whole", True) for o in olds if o in old_code]
    for province_key, olds in conversion["DICT_PROVINCE_WARD_DIVIDED"].items():
        for old, targets in olds.items():
            if old not in old_code:
                continue
            for target in targets:
                code = new_code.get((province_key, target["newWardKey"]))
                if code is None:
                    continue
                rows.append((old_code[old], code, "split", bool(target["isDefaultNewWard"])))
    table = pd.DataFrame(rows, columns=["legacy_code", "code", "relation", "is_default"])
    table = table.drop_duplicates(["legacy_code", "code"]).reset_index(drop=True)
    centroids = units.set_index("code")[["lat", "lon"]]
    table["new_lat"] = table["code"].map(centroids["lat"])
    table["new_lon"] = table["code"].map(centroids["lon"])
    return table


def assign_to_2025(
    legacy_geoms: pd.Series, lineage: pd.DataFrame, official_km2: pd.Series | None = None
) -> pd.DataFrame:
    """Distribute pre-reform polygons over the 2025 units.

    `legacy_geoms` maps legacy code -> polygon. Returns a frame of pieces with columns
    `code`, `legacy_code`, `relation`, `geometry`: whole units as they are, split units cut
    into one piece per receiving 2025 unit. Where `official_km2` (2025 code -> official area)
    is given, a split gives each receiving unit a share in proportion to what it still lacks
    of its official area; otherwise each point goes to the nearest receiving unit.
    """
    whole = lineage[lineage["relation"] == "whole"]
    pieces = [
        (code, old, "whole", legacy_geoms[old])
        for old, code in zip(whole["legacy_code"], whole["code"])
        if old in legacy_geoms.index and not legacy_geoms[old].is_empty
    ]
    held = pd.DataFrame(pieces, columns=["code", "legacy_code", "relation", "geometry"])
    held_by_code = {
        code: shapely.union_all(group.to_numpy(), grid_size=GRID)
        for code, group in held.groupby("code")["geometry"]
    }
    have_km2 = {code: float(area_km2(g)) for code, g in held_by_code.items()}
    split = lineage[lineage["relation"] == "split"]
    order = sorted(
        (old for old in split["legacy_code"].unique()
         if old in legacy_geoms.index and not legacy_geoms[old].is_empty),
        key=lambda old: -legacy_geoms[old].area,
    )
    for old in order:
        targets = split[split["legacy_code"] == old]
        wanted = None
        if official_km2 is not None:
            wanted = {code: float(official_km2.get(code, np.nan)) - have_km2.get(code, 0.0)
                      for code in targets["code"]}
        parts = split_polygon(legacy_geoms[old], targets, held_by_code, wanted)
        for code, part in parts.items():
            pieces.append((code, old, "split", part))
            have_km2[code] = have_km2.get(code, 0.0) + float(area_km2(part))
    return pd.DataFrame(pieces, columns=["code", "legacy_code", "relation", "geometry"])


def split_polygon(polygon, targets: pd.DataFrame, held_by_code: dict,
                  wanted_km2: dict | None = None) -> dict:
    """Split one old polygon between the 2025 units in `targets`.

    Each receiving unit grows from what it already holds next to the polygon (or from its
    recorded centroid when it holds nothing); points of the polygon go to the nearest
    grower, with additive weights fitted so that the shares follow `wanted_km2` where it is
    positive (a weighted Voronoi partition computed on a point lattice).
    """
    codes, seeds = [], []
    for code, lat, lon in zip(targets["code"], targets["new_lat"], targets["new_lon"]):
        seed = _nearby_outline(held_by_code.get(code), polygon)
        if seed is None and np.isfinite(lat) and np.isfinite(lon):
            seed = shapely.Point(lon, lat)
        if seed is not None:
            codes.append(code)
            seeds.append(seed)
    if len(codes) <= 1:
        return {codes[0]: polygon} if codes else {}
    centres, inside, transform = _lattice(polygon)
    distance = np.column_stack([shapely.distance(centres, seed) for seed in seeds])
    weights = _fit_weights(distance[inside.ravel()], _shares(codes, wanted_km2), polygon)
    owner = np.argmin(distance - weights, axis=1).reshape(inside.shape).astype("int32")
    regions: dict[int, list] = {}
    for shape, value in rasterio.features.shapes(owner, transform=transform):
        regions.setdefault(int(value), []).append(shapely.geometry.shape(shape))
    parts = {}
    for k, shapes in regions.items():
        region = shapely.union_all(shapes, grid_size=GRID)
        part = polygonal(shapely.intersection(polygon, region, grid_size=GRID))
        if not part.is_empty:
            parts[codes[k]] = part
    return parts


LATTICE_POINTS = 1500


def _lattice(polygon):
    """Cover the polygon's bounding box with a grid of square cells (`LATTICE_POINTS` inside).

    Returns the cell centres (row-major), a boolean grid of the centres inside the polygon,
    and the grid's affine transform.
    """
    minx, miny, maxx, maxy = polygon.bounds
    step = max(np.sqrt(polygon.area / LATTICE_POINTS), 1e-5)
    ncols = int(np.ceil((maxx - minx) / step)) + 1
    nrows = int(np.ceil((maxy - miny) / step)) + 1
    transform = Affine(step, 0, minx - step / 2, 0, -step, maxy + step / 2)
    cols, rows = np.meshgrid(np.arange(ncols), np.arange(nrows))
    cx = transform.c + (cols + 0.5) * step
    cy = transform.f - (rows + 0.5) * step
    inside = shapely.contains_xy(polygon, cx, cy)
    return shapely.points(cx.ravel(), cy.ravel()), inside, transform


def _shares(codes, wanted_km2):
    if not wanted_km2:
        return None
    wanted = np.array([max(wanted_km2.get(c, 0.0), 0.0) if np.isfinite(wanted_km2.get(c, np.nan))
                       else 0.0 for c in codes])
    if wanted.sum() <= 0:
        return None
    return wanted / wanted.sum()


def _fit_weights(distance: np.ndarray, shares, polygon) -> np.ndarray:
    """Fit additive weights so that the nearest-grower shares approach `shares`."""
    weights = np.zeros(distance.shape[1])
    if shares is None or len(distance) < 10:
        return weights
    scale = np.sqrt(polygon.area)
    for _ in range(80):
        owner = np.argmin(distance - weights, axis=1)
        got = np.bincount(owner, minlength=distance.shape[1]) / len(distance)
        error = shares - got
        if np.abs(error).max() < 0.01:
            break
        weights += 0.5 * scale * error
    return weights


def _nearby_outline(held, polygon):
    """Return the part of a unit's outline near the polygon, or None."""
    if held is None or held.is_empty:
        return None
    minx, miny, maxx, maxy = polygon.bounds
    reach = SEED_REACH_DEG
    nearby = shapely.clip_by_rect(held.boundary, minx - reach, miny - reach, maxx + reach,
                                  maxy + reach)
    return None if nearby.is_empty else nearby
