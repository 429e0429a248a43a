"""Assembling the 2025 communes and the pre-reform units from the demo polygons.

Steps, each a plain function of arrays and frames:
1. clean the polygons and remove their overlaps (`polygons`);
2. match them to pre-reform units (`matching`);
3. dissolve the matched ones per pre-reform unit and hand them to the 2025 units through the
   lineage, splitting the old units that were divided (`lineage`);
4. attach the orphans (polygons of communes merged away before 2025, and the gaps between
   polygons) to a touching 2025 unit: the one whose assembled area falls furthest short of
   its official area, relative to that area; then to a pre-reform unit of that 2025 unit;
5. dissolve per unit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoservice.boundaries import lineage as lineage_mod
from geoservice.boundaries import matching
from geoservice.boundaries import polygons as poly
from geoservice.geodesy import area_km2
from geoservice.text import name_key

LOGGER = logging.getLogger(__name__)
# Steps 1-5 as `assemble` tells its `step` callback (a build's progress shows them).
ASSEMBLY_STEPS = ("cleaning the polygons", "matching the pre-reform units",
                  "handing them to 2025 units", "attaching the orphans",
                  "dissolving the units")


@dataclass
class Assembly:
    """What the geometric assembly produced, with the figures the quality report needs."""

    communes: gpd.GeoDataFrame  # code, geometry, match
    legacy: gpd.GeoDataFrame  # code, geometry, match
    lineage: pd.DataFrame  # legacy_code, code, relation, is_default, area_km2
    stats: dict
    references: pd.DataFrame  # by 2025 code: official area, source bounds, flag


def assemble(
    source_polygons: gpd.GeoDataFrame,
    units: pd.DataFrame,
    legacy: pd.DataFrame,
    conversion: dict,
    land=None,
    step: Callable[[str], None] | None = None,
) -> Assembly:
    """Run steps 1-5 and return the 2025 communes, the pre-reform units and the lineage.

    `land` (one polygon, e.g. Natural Earth land) tells the sea the source rings cross to
    join islands (`polygons.drop_sea_jumps`); without it the rings are taken as they are.
    `step(name)` hears as each of `ASSEMBLY_STEPS` begins.
    """
    step = step or (lambda _name: None)
    step("cleaning the polygons")
    raw = source_polygons.geometry.to_numpy()
    geoms, jump_km2 = poly.drop_sea_jumps(raw, poly.clean(raw), land)
    geoms, overlap_deg2 = poly.resolve_overlaps(geoms)
    source = source_polygons.set_geometry(geoms)
    step("matching the pre-reform units")
    matched = matching.match_to_legacy(source, legacy)
    old_province = matching.province_codes(source, legacy).to_numpy()
    gaps = poly.interior_gaps(geoms)
    gap_km2 = float(area_km2(gaps).sum()) if len(gaps) else 0.0

    has_code = matched["legacy_code"].notna().to_numpy()
    legacy_geoms = pd.Series(geoms[has_code]).groupby(
        matched["legacy_code"].to_numpy()[has_code]
    ).agg(lambda s: shapely.union_all(s.to_numpy(), grid_size=poly.GRID))
    lineage = lineage_mod.lineage_table(conversion, units, legacy)
    references = reference_checks(units, lineage, legacy_geoms)
    official = usable_references(references)
    step("handing them to 2025 units")
    pieces = lineage_mod.assign_to_2025(legacy_geoms, lineage, official)

    step("attaching the orphans")
    orphans = np.concatenate([geoms[~has_code], gaps])
    # Communes merged away before 2025 were merged within their district: an orphan prefers
    # a neighbour of its own (province, district), then of its province.
    district = source["district"].map(name_key).to_numpy()
    orphan_groups = list(zip(old_province[~has_code], district[~has_code])) + [None] * len(gaps)
    by_code = legacy.set_index("code")
    piece_groups = pieces["legacy_code"].map(
        lambda c: (by_code.at[c, "province_code"], name_key(by_code.at[c, "district_short"])))
    all_geoms = np.concatenate([pieces["geometry"].to_numpy(), orphans])
    groups = np.empty(len(pieces) + len(orphans), dtype=object)
    groups[:] = list(piece_groups) + list(orphan_groups)
    new_labels = np.concatenate([pieces["code"].to_numpy(), [None] * len(orphans)])
    seeded = _seed_units_without_pieces(units, set(pieces["code"]), orphans)
    for offset, code in seeded.items():
        new_labels[len(pieces) + offset] = code
    new_labels = poly.absorb_orphans(
        all_geoms, new_labels, _closest_to_official_area(all_geoms, new_labels, groups, official)
    )
    new_labels = _refine(all_geoms, new_labels, np.arange(len(pieces), len(all_geoms)), groups,
                         official)
    old_labels = np.concatenate([pieces["legacy_code"].to_numpy(), [None] * len(orphans)])
    old_labels = poly.absorb_orphans(
        all_geoms, old_labels, _same_new_unit(new_labels),
        allowed=lambda i, pool: np.array([new_labels[j] == new_labels[i] for j in pool]))

    step("dissolving the units")
    communes = _dissolve(all_geoms, new_labels)
    references = _confirmed_by_polygon(references, communes)
    legacy_units = _dissolve(all_geoms, old_labels)
    method = _match_method(matched, pieces, new_labels, len(pieces))
    communes["match"] = communes["code"].map(method).fillna("orphans")
    # Where official areas steered the geometry (orphans placed, split shares): such units'
    # area ratios are not an independent check of the assembly.
    guided = set(new_labels[len(pieces):]) | set(pieces.loc[pieces["relation"] == "split", "code"])
    communes["area_guided"] = communes["code"].isin(guided)
    legacy_units["match"] = legacy_units["code"].map(
        matched.dropna().drop_duplicates("legacy_code").set_index("legacy_code")["match"]
    ).fillna("orphans")
    lineage = _lineage_areas(lineage, all_geoms, new_labels, old_labels)
    stats = {
        "source_polygons": int(len(source)),
        "matched_by_name": int((matched["match"] == "name").sum()),
        "matched_by_location": int((matched["match"] == "location").sum()),
        "orphan_polygons": int((~has_code).sum()),
        "gap_polygons": int(len(gaps)),
        "gap_area_km2": round(gap_km2, 3),
        "overlap_removed_km2": round(overlap_deg2 * 111.32**2, 3),
        "sea_jumps_removed_km2": round(jump_km2, 3),
    }
    LOGGER.info("assembled %d communes, %d pre-reform units", len(communes), len(legacy_units))
    return Assembly(communes, legacy_units, lineage, stats, references)


# A reference (official) area more than this factor above everything a unit could receive
# from the source polygons, or below what it surely receives, is implausible.
REFERENCE_FACTOR = 2.0


def reference_checks(units: pd.DataFrame, lineage: pd.DataFrame,
                     legacy_geoms: pd.Series) -> pd.DataFrame:
    """Check each unit's reference area against the source polygons it inherits.

    A unit surely receives its pre-reform units that went to it whole (`source_min_km2`)
    and at most those plus the ones split with others (`source_max_km2`), orphans apart.
    Returns a frame by 2025 code with `official_area_km2`, both bounds and `flag` (None
    when plausible); the build leaves flagged references out of every split and orphan
    placement.
    """
    areas = pd.Series(area_km2(legacy_geoms.to_numpy()) if len(legacy_geoms) else [],
                      index=legacy_geoms.index, dtype=float)
    table = lineage[["legacy_code", "code", "relation"]].copy()
    table["km2"] = table["legacy_code"].map(areas).fillna(0.0)
    frame = units.set_index("code")[["official_area_km2"]].copy()
    frame["source_min_km2"] = table[table["relation"] == "whole"].groupby("code")["km2"].sum(
    ).reindex(frame.index).fillna(0.0).round(3)
    frame["source_max_km2"] = table.groupby("code")["km2"].sum().reindex(
        frame.index).fillna(0.0).round(3)
    reference = frame["official_area_km2"]
    too_large = (frame["source_max_km2"] > 0) & (
        reference > REFERENCE_FACTOR * frame["source_max_km2"])
    too_small = (frame["source_min_km2"] > 0) & (
        reference < frame["source_min_km2"] / REFERENCE_FACTOR)
    frame["flag"] = None
    frame.loc[too_large, "flag"] = (f"over {REFERENCE_FACTOR:g}× the source polygons it "
                                    "can receive")
    frame.loc[too_small, "flag"] = (f"under 1/{REFERENCE_FACTOR:g} of the source polygons "
                                    "it receives whole")
    LOGGER.info("reference areas: %d of %d implausible", int(frame["flag"].notna().sum()),
                len(frame))
    return frame


SEED_REACH_DEG = 0.05  # about 5 km


def _seed_units_without_pieces(units, held_codes, orphans) -> dict:
    """Give a 2025 unit that received nothing the orphan at (or nearest) its recorded centroid.

    Returns {orphan index: 2025 code}. An orphan goes to one unit at most.
    """
    seeds: dict = {}
    if len(orphans) == 0:
        return seeds
    waiting = units[~units["code"].isin(held_codes)]
    for code, lat, lon in zip(waiting["code"], waiting["lat"], waiting["lon"]):
        if not (np.isfinite(lat) and np.isfinite(lon)):
            continue
        distances = shapely.distance(shapely.Point(lon, lat), orphans)
        for index in np.argsort(distances):
            if distances[index] > SEED_REACH_DEG:
                break
            if index not in seeds:
                seeds[int(index)] = code
                break
    return seeds


def usable_references(references: pd.DataFrame) -> pd.Series:
    """The reference areas the build may steer by: implausible ones become unknown (NaN)."""
    return references["official_area_km2"].where(references["flag"].isna())


def _confirmed_by_polygon(references: pd.DataFrame, communes: gpd.GeoDataFrame) -> pd.DataFrame:
    """Clear the flag of a reference its unit's polygon, built without it, agrees with.

    The bounds miss the orphans a unit receives, so a unit made mostly of orphans can look
    implausible beforehand; if its polygon comes within `REFERENCE_FACTOR` of the
    reference, the reference was plausible after all (it still steered nothing:
    `steered` is False).
    """
    out = references.copy()
    out["steered"] = out["flag"].isna() & out["official_area_km2"].notna()
    polygon = pd.Series(area_km2(communes.geometry.to_numpy()), index=communes["code"])
    out["polygon_km2"] = polygon.reindex(out.index).round(3)
    ratio = out["official_area_km2"] / out["polygon_km2"]
    agrees = (ratio <= REFERENCE_FACTOR) & (ratio >= 1 / REFERENCE_FACTOR)
    out.loc[out["flag"].notna() & agrees, "flag"] = None
    return out


def _closest_to_official_area(geoms, labels, groups, official):
    """Chooser: the touching unit whose relative area error the orphan reduces most."""
    areas = area_km2(geoms)
    current = pd.Series(areas).groupby(pd.Series(labels, dtype=object)).sum().to_dict()

    def choose(index, candidates, shared, live_labels):
        pool, pool_shared = _preferred(index, candidates, shared, groups)
        gains = []
        for candidate in pool:
            code = live_labels[candidate]
            target = official.get(code)
            have = current.get(code, 0.0)
            if target is None or not np.isfinite(target) or target <= 0:
                gains.append(0.0)
            else:
                gains.append((abs(target - have) - abs(target - have - areas[index])) / target)
        gains = np.array(gains)
        best = int(np.argmax(gains)) if gains.max() > 0 else int(np.argmax(pool_shared))
        chosen = pool[best]
        code = live_labels[chosen]
        current[code] = current.get(code, 0.0) + areas[index]
        return chosen

    return choose


def _refine(geoms, labels, movable, groups, official, passes: int = 3):
    """Move orphans to another touching unit where that brings both closer to official area."""
    labels = labels.copy()
    areas = area_km2(geoms)
    have = pd.Series(areas).groupby(pd.Series(labels, dtype=object)).sum().to_dict()
    tree = shapely.STRtree(geoms)

    def error(code, km2):
        target = official.get(code)
        if target is None or not np.isfinite(target) or target <= 0:
            return 0.0
        return abs(target - km2) / target

    for _ in range(passes):
        moved = 0
        for index in movable:
            here = labels[index]
            touching = [j for j in tree.query(geoms[index], predicate="touches")
                        if labels[j] != here]
            touching = [j for j in touching if groups[index] is None or groups[j] is None
                        or groups[j][:1] == groups[index][:1]]
            best, best_gain = None, 1e-9
            for code in {labels[j] for j in touching}:
                before = error(here, have[here]) + error(code, have.get(code, 0.0))
                after = error(here, have[here] - areas[index]) + error(
                    code, have.get(code, 0.0) + areas[index])
                if before - after > best_gain:
                    best, best_gain = code, before - after
            if best is not None and have[here] - areas[index] > 0:
                have[here] -= areas[index]
                have[best] = have.get(best, 0.0) + areas[index]
                labels[index] = best
                moved += 1
        LOGGER.info("area refinement moved %d orphan pieces", moved)
        if not moved:
            break
    return labels


def _preferred(index, candidates, shared, groups):
    """Narrow candidates to the same (province, district) as the orphan, else the province."""
    mine = groups[index]
    if mine is None:
        return candidates, shared
    for level in (1,):
        same = np.array([groups[c] is not None and groups[c][:level] == mine[:level]
                         for c in candidates])
        if same.any():
            return candidates[same], shared[same]
    return candidates, shared


def _same_new_unit(new_labels):
    """Chooser: the longest-edge pre-reform neighbour that went to the same 2025 unit."""

    def choose(index, candidates, shared, live_labels):
        same = np.array([new_labels[c] == new_labels[index] for c in candidates])
        if same.any():
            return candidates[same][int(np.argmax(shared[same]))]
        return None  # wait; if none ever touches, the nearest of the same 2025 unit is taken

    return choose


def _dissolve(geoms, labels) -> gpd.GeoDataFrame:
    frame = pd.DataFrame({"code": labels, "geometry": geoms})
    frame = frame[frame["code"].notna()]
    merged = frame.groupby("code")["geometry"].agg(
        lambda s: poly.polygonal(shapely.union_all(s.to_numpy(), grid_size=poly.GRID))
    )
    geometry = [g if g.geom_type == "MultiPolygon" else shapely.MultiPolygon([g])
                for g in merged.to_numpy()]
    return gpd.GeoDataFrame({"code": merged.index}, geometry=geometry, crs="EPSG:4326")


def _match_method(matched, pieces, new_labels, n_pieces) -> dict:
    """Per 2025 unit: "name" if every polygon it holds was matched by name, else the weakest."""
    order = {"name": 0, "location": 1, "split": 2, "orphans": 3}
    methods: dict = {}
    by_legacy = matched.dropna().drop_duplicates("legacy_code").set_index("legacy_code")["match"]
    for code, old, relation in zip(pieces["code"], pieces["legacy_code"], pieces["relation"]):
        how = "split" if relation == "split" else by_legacy.get(old, "orphans")
        if order[how] > order[methods.get(code, "name")]:
            methods[code] = how
        methods.setdefault(code, how)
    return methods


def _lineage_areas(lineage, geoms, new_labels, old_labels) -> pd.DataFrame:
    areas = pd.DataFrame({"legacy_code": old_labels, "code": new_labels,
                          "area_km2": area_km2(geoms)})
    totals = areas.groupby(["legacy_code", "code"], as_index=False)["area_km2"].sum()
    table = lineage.merge(totals, on=["legacy_code", "code"], how="left")
    table["area_km2"] = table["area_km2"].fillna(0.0).round(3)
    return table
