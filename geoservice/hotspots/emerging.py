"""Emerging hot spots: how each zone's hot or cold spot status changes over time.

Following the definitions of ArcGIS "Emerging Hot Spot Analysis": incidents are counted per
zone and time step (year or quarter); Gi* is computed for every time step on its own
(`gistar.gi_star`, normal p-values with the false-discovery-rate correction per step); a
zone is a *hot* (*cold*) spot at a step when its bin is at least 95 % hot (cold). The
Mann-Kendall test (`pymannkendall.original_test`, α = 0.05) on the zone's series of Gi*
z-scores says whether the clustering intensifies, diminishes or shows no trend. Each zone
then gets one of 17 patterns (`classify`):

* final step hot, and hot in at least 90 % of the steps: *intensifying* (z rises
  significantly), *diminishing* (z falls significantly) or else *persistent*;
* final step hot, hot in fewer than 90 % of the steps: *new* (never hot before, checked
  first), *consecutive* (one unbroken run of at least two hot steps at the end, never hot
  before it), *oscillating* (a cold spot at some earlier step) or else *sporadic*;
* final step not hot, but hot in at least 90 % of the steps: *historical*;
* the same seven for cold spots, with intensifying meaning z falls (colder) and
  diminishing meaning z rises; otherwise *no pattern*.

Unlike ArcGIS the neighbourhood is spatial only (no earlier time steps are pooled into a
zone's neighbourhood), and a zone is analysed whether or not it ever had an incident.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoservice.hotspots.gistar import gi_star, spatial_weights

SIDES = ("hot", "cold")
KINDS = ("new", "consecutive", "intensifying", "persistent", "diminishing", "sporadic",
         "oscillating", "historical")
PATTERNS = (*(f"{kind}_{side}" for side in SIDES for kind in KINDS), "no_pattern")
SIGNIFICANT_BIN = 2  # 95 % confidence after the FDR correction
TREND_ALPHA = 0.05
SHARE = 0.9  # "hot in 90 % of the time steps"
MIN_STEPS = 4


@dataclass(frozen=True)
class Step:
    """One time step: its label (``2024`` or ``2024-Q3``) and first and last day."""

    label: str
    start: date
    end: date


def time_steps(date_from: date, date_to: date, step: str = "quarter") -> list[Step]:
    """The years or quarters from the one holding `date_from` to the one holding `date_to`."""
    if date_from > date_to:
        raise ValueError("the period starts after it ends")
    steps = []
    if step == "year":
        for year in range(date_from.year, date_to.year + 1):
            steps.append(Step(str(year), date(year, 1, 1), date(year, 12, 31)))
        return steps
    if step != "quarter":
        raise ValueError(f"step must be 'year' or 'quarter', not {step!r}")
    first = date_from.year * 4 + (date_from.month - 1) // 3
    last = date_to.year * 4 + (date_to.month - 1) // 3
    for index in range(first, last + 1):
        year, quarter = divmod(index, 4)
        end_month = 3 * quarter + 3
        end = date(year, 12, 31) if end_month == 12 else date.fromordinal(
            date(year, end_month + 1, 1).toordinal() - 1)
        steps.append(Step(f"{year}-Q{quarter + 1}", date(year, 3 * quarter + 1, 1), end))
    return steps


def step_counts(zones: gpd.GeoDataFrame, points: gpd.GeoDataFrame,
                steps: list[Step]) -> np.ndarray:
    """Count the points of each zone in each time step: an (zones × steps) integer array.

    `points` carry a ``date`` column; a point on a shared edge counts in one zone only,
    points outside every zone or step are left out.
    """
    counts = np.zeros((len(zones), len(steps)), dtype=np.int64)
    if points.empty or zones.empty or not steps:
        return counts
    points = points.to_crs(zones.crs)
    tree = shapely.STRtree(zones.geometry.to_numpy())
    point_pos, zone_pos = tree.query(points.geometry.to_numpy(), predicate="intersects")
    first = np.unique(point_pos, return_index=True)[1]
    point_pos, zone_pos = point_pos[first], zone_pos[first]
    days = pd.to_datetime(points["date"]).to_numpy().astype("datetime64[D]")[point_pos]
    starts = np.array([s.start for s in steps], dtype="datetime64[D]")
    ends = np.array([s.end for s in steps], dtype="datetime64[D]")
    step_pos = np.searchsorted(starts, days, side="right") - 1
    valid = (step_pos >= 0) & ~np.isnat(days)
    valid[valid] &= days[valid] <= ends[step_pos[valid]]
    np.add.at(counts, (zone_pos[valid], step_pos[valid]), 1)
    return counts


def classify(hot, cold, trend: str = "no trend") -> str:
    """The pattern of one zone from its hot and cold flags per step and its z-score trend.

    `trend` is Mann-Kendall's verdict on the z-scores: "increasing", "decreasing" or
    "no trend".
    """
    hot, cold = np.asarray(hot, dtype=bool), np.asarray(cold, dtype=bool)
    if len(hot) == 0:
        return "no_pattern"
    if hot[-1]:
        return _final(hot, cold, trend == "increasing", trend == "decreasing") + "_hot"
    if cold[-1]:
        return _final(cold, hot, trend == "decreasing", trend == "increasing") + "_cold"
    if hot.mean() >= SHARE:
        return "historical_hot"
    if cold.mean() >= SHARE:
        return "historical_cold"
    return "no_pattern"


def _final(flags: np.ndarray, other: np.ndarray, intensifying: bool, diminishing: bool) -> str:
    """The kind of a zone significant (on this side) at the final step."""
    if flags.mean() >= SHARE:
        return "intensifying" if intensifying else "diminishing" if diminishing \
            else "persistent"
    if not flags[:-1].any():
        return "new"
    run = len(flags) - int(np.flatnonzero(~flags)[-1]) - 1  # trailing run of flagged steps
    if run >= 2 and not flags[:len(flags) - run].any():
        return "consecutive"
    if other[:-1].any():
        return "oscillating"
    return "sporadic"


def trend(z) -> tuple[str, float, float]:
    """Mann-Kendall's verdict, tau and p on a z-score series (no trend when too short)."""
    z = np.asarray(z, dtype=float)
    if len(z) < 3 or not np.isfinite(z).all():
        return "no trend", math.nan, math.nan
    import pymannkendall  # scipy.stats: loaded with the first analysis, not at start

    result = pymannkendall.original_test(z, alpha=TREND_ALPHA)
    return result.trend, float(result.Tau), float(result.p)


def emerging(zones: gpd.GeoDataFrame, counts: np.ndarray, weights: str = "queen",
             distance_km: float | None = None,
             progress: Callable[[float], None] | None = None) -> pd.DataFrame:
    """Gi* per step and the pattern of every zone; indexed like `zones`.

    Columns: ``pattern``, ``hot_steps``, ``cold_steps``, ``final_bin``, ``trend``
    (increasing, decreasing or no trend), ``trend_tau``, ``trend_p``, ``bins`` (each
    step's Gi* bin, comma-joined) and ``count`` (incidents over all steps).
    """
    counts = np.asarray(counts)
    n_zones, n_steps = counts.shape
    if n_steps < MIN_STEPS:
        raise ValueError(f"emerging hot spots need at least {MIN_STEPS} time steps, got "
                         f"{n_steps}; use a longer period or quarterly steps")
    w = spatial_weights(zones, weights, distance_km) if n_zones else None
    z = np.full((n_zones, n_steps), np.nan)
    bins = np.zeros((n_zones, n_steps), dtype=np.int64)
    for t in range(n_steps):
        result = gi_star(zones, counts[:, t], weights, distance_km, permutations=0, w=w)
        z[:, t], bins[:, t] = result["z"].to_numpy(), result["gi_bin"].to_numpy()
        if progress:
            progress((t + 1) / n_steps)
    rows = []
    for i in range(n_zones):
        hot, cold = bins[i] >= SIGNIFICANT_BIN, bins[i] <= -SIGNIFICANT_BIN
        verdict, tau, p = trend(z[i])
        rows.append({"pattern": classify(hot, cold, verdict), "hot_steps": int(hot.sum()),
                     "cold_steps": int(cold.sum()), "final_bin": int(bins[i, -1]),
                     "trend": verdict, "trend_tau": tau, "trend_p": p,
                     "bins": ",".join(str(int(b)) for b in bins[i]),
                     "count": int(counts[i].sum())})
    return pd.DataFrame(rows, index=zones.index,
                        columns=["pattern", "hot_steps", "cold_steps", "final_bin", "trend",
                                 "trend_tau", "trend_p", "bins", "count"])


def province_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Zones per pattern for each province (rows), with a total row per province.

    Columns: ``province_code``, ``zones`` and one column per pattern (`PATTERNS`).
    """
    table = pd.crosstab(frame["province_code"].fillna(""), frame["pattern"])
    table = table.reindex(columns=list(PATTERNS), fill_value=0)
    table.insert(0, "zones", table.sum(axis=1))
    table = table.reset_index().rename(columns={"index": "province_code"})
    return table.sort_values("province_code").reset_index(drop=True)
