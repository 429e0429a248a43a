"""Matching the demo polygons (older names) to the pre-reform units.

Three passes, each only over what the previous ones left:
1. by name: (province, district, commune) keys, with diacritics, prefixes and leading zeros
   ignored;
2. by name within the province, where districts were renamed or merged, taking the
   candidate whose recorded centroid lies nearest the polygon (and within `NEAR_KM`);
3. by location: the unit's recorded centroid falls inside an unmatched polygon.
Polygons left over (communes merged away before 2025) are attached to a neighbour later.
"""

from __future__ import annotations

import logging
from collections import Counter

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoservice.text import name_key, nfc

LOGGER = logging.getLogger(__name__)

NEAR_DEG = 0.1  # about 11 km: how far a same-name unit's recorded centroid may lie


def province_codes(polygons: gpd.GeoDataFrame, legacy: pd.DataFrame) -> pd.Series:
    """Return the pre-reform province code of each polygon.

    By name first; a province whose name changed is found by where the recorded
    centroids of the pre-reform communes fall (majority).
    """
    by_key = {name_key(n): c for n, c in zip(legacy["province_short"], legacy["province_code"])}
    codes = polygons["province"].map(lambda n: by_key.get(name_key(n)))
    points = shapely.points(legacy["lon"].to_numpy(), legacy["lat"].to_numpy())
    for province in polygons.loc[codes.isna(), "province"].unique():
        mask = polygons["province"] == province
        hull = shapely.union_all(shapely.make_valid(polygons.geometry[mask].to_numpy()))
        inside = shapely.contains(hull, points)
        votes = Counter(legacy["province_code"][inside])
        taken = set(codes.dropna())
        for code, _count in votes.most_common():
            if code not in taken:
                codes[mask] = code
                break
    return codes


def match_to_legacy(polygons: gpd.GeoDataFrame, legacy: pd.DataFrame) -> pd.DataFrame:
    """Return, per polygon, the matched pre-reform code (or None) and how it was matched."""
    n = len(polygons)
    result = pd.DataFrame({"legacy_code": [None] * n, "match": [None] * n}, index=polygons.index)
    prov = province_codes(polygons, legacy).to_numpy()
    poly_dist = polygons["district"].map(name_key).to_numpy()
    poly_ward = polygons["ward"].map(name_key).to_numpy()
    leg_dist = legacy["district_short"].map(name_key).to_numpy()
    leg_ward = legacy["name"].map(name_key).to_numpy()
    used: set[str] = set()

    # Exact names first (with diacritics): "Châu Bình" and "Châu Bính" of one district
    # fold to the same key and must not take each other's polygon.
    exact_dist = polygons["district"].map(_exact).to_numpy()
    exact_ward = polygons["ward"].map(_exact).to_numpy()
    _match_full_names(result, prov, exact_dist, exact_ward, legacy,
                      legacy["district_short"].map(_exact).to_numpy(),
                      legacy["name"].map(_exact).to_numpy(), used)
    _match_full_names(result, prov, poly_dist, poly_ward, legacy, leg_dist, leg_ward, used)
    _match_within_province(result, polygons, prov, poly_ward, legacy, leg_ward, used)
    _match_by_location(result, polygons, prov, legacy, used)
    counts = result["match"].value_counts(dropna=False).to_dict()
    LOGGER.info("polygon matches: %s", counts)
    return result


def _exact(name: str | None) -> str:
    return nfc(name or "").lower()


def _match_full_names(result, prov, poly_dist, poly_ward, legacy, leg_dist, leg_ward, used):
    index = {}
    for i, key in enumerate(zip(legacy["province_code"], leg_dist, leg_ward)):
        index.setdefault(key, []).append(i)
    for row, key in enumerate(zip(prov, poly_dist, poly_ward)):
        if result["legacy_code"].iat[row] is not None:
            continue
        hits = [i for i in index.get(key, []) if legacy["code"].iat[i] not in used]
        if len(hits) == 1:
            code = legacy["code"].iat[hits[0]]
            result.iloc[row] = (code, "name")
            used.add(code)


def _match_within_province(result, polygons, prov, poly_ward, legacy, leg_ward, used):
    index = {}
    for i, key in enumerate(zip(legacy["province_code"], leg_ward)):
        index.setdefault(key, []).append(i)
    points = shapely.points(legacy["lon"].to_numpy(), legacy["lat"].to_numpy())
    geoms = polygons.geometry.to_numpy()
    for row in np.flatnonzero(result["legacy_code"].isna().to_numpy()):
        hits = [i for i in index.get((prov[row], poly_ward[row]), [])
                if legacy["code"].iat[i] not in used]
        if not hits:
            continue
        distances = shapely.distance(geoms[row], points[hits])
        best = int(np.argmin(distances))
        if distances[best] <= NEAR_DEG:
            code = legacy["code"].iat[hits[best]]
            result.iloc[row] = (code, "name")
            used.add(code)


def _match_by_location(result, polygons, prov, legacy, used):
    open_rows = np.flatnonzero(result["legacy_code"].isna().to_numpy())
    if len(open_rows) == 0:
        return
    waiting = legacy[~legacy["code"].isin(used)]
    points = shapely.points(waiting["lon"].to_numpy(), waiting["lat"].to_numpy())
    tree = shapely.STRtree(polygons.geometry.to_numpy()[open_rows])
    point_idx, poly_idx = tree.query(points, predicate="within")
    for p, q in zip(point_idx, poly_idx):
        row = open_rows[q]
        code = waiting["code"].iat[p]
        if result["legacy_code"].iat[row] is None and code not in used \
                and waiting["province_code"].iat[p] == prov[row]:
            result.iloc[row] = (code, "location")
            used.add(code)
