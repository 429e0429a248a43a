"""The analyses a run computes, each writing its result next to `stem` and returning a summary.

* ``density``: kernel density of the scope's incidents over its communes (`kde`),
  clipped to the communes, as a COG (``stem.tif``) with its colour-class breaks;
* ``gistar``: incidents per zone and Gi* (``stem.geojson``);
* ``emerging``: incidents per zone and time step, Gi* per step and the pattern of each
  zone (``stem.geojson``);
* ``border``: incidents, density and Gi* hot and cold communes per neighbouring country
  and per distance band from the border (the rows are in the summary itself).

`progress(percent, stage)` is called as the work goes on. A ValueError carries a message
for the user (e.g. too few time steps); it fails the run with that message.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio.features

from geoservice.hotspots import emerging as emerging_mod
from geoservice.hotspots import kde
from geoservice.hotspots.density_tiles import class_breaks
from geoservice.hotspots.gistar import LONLAT, METRIC_CRS, count_points, gi_star
from geoservice.hotspots.params import BANDS, AnalysisParams
from geoservice.hotspots.scope import (
    incident_points,
    neighbours_of,
    scope_communes,
    scope_incidents,
    zones_for,
)
from geoservice.indicators.published import synthetic_notice

Progress = Callable[[float, str], None]
MAX_RADIUS_CELLS = 500  # a larger kernel costs minutes and shows nothing finer
FALLBACK_BANDWIDTH_KM = 5.0  # when the rule has nothing to measure (under two incidents)
TOP = 10


def density(store, params: AnalysisParams, stem: Path, progress: Progress) -> dict:
    """Kernel density surface of the scope's incidents, per km², clipped to its communes."""
    progress(5, "reading communes")
    communes = _communes(store, params)
    progress(15, "reading incidents")
    incidents = scope_incidents(store, params, communes)
    points = incidents[["lon", "lat"]].to_numpy(dtype=float).reshape(-1, 2)
    bandwidth, rule = params.bandwidth_km, "given"
    if bandwidth is None:
        try:
            bandwidth, rule = kde.bandwidth_km(kde.project_points(points)), "standard distance"
        except ValueError:
            bandwidth, rule = FALLBACK_BANDWIDTH_KM, "fallback (fewer than two places)"
    if bandwidth / params.cell_km > MAX_RADIUS_CELLS:
        raise ValueError(f"a radius of {bandwidth:g} km is more than {MAX_RADIUS_CELLS} cells "
                         f"of {params.cell_km:g} km; use larger cells")
    progress(30, "computing density")
    array, transform, crs = kde.density(points, bounds_lonlat=tuple(communes.total_bounds),
                                        cell_km=params.cell_km, bandwidth_km=bandwidth)
    progress(60, "clipping to the communes")
    inside = rasterio.features.geometry_mask(communes.to_crs(crs.to_wkt()).geometry,
                                             out_shape=array.shape, transform=transform,
                                             invert=True, all_touched=True)
    array[~inside] = 0.0
    breaks = class_breaks(array)
    progress(75, "writing the GeoTIFF")
    kde.write_cog(stem.with_suffix(".tif"), array, transform, crs, {
        "bandwidth_km": f"{bandwidth:.3f}", "category": params.category or "all",
        "period": params.period or "all", "province": params.province_code or "all",
        "border_neighbor": params.border_neighbor or "all",
        "border_band": params.border_band or "all", "incidents": str(len(points)),
        **({"notice": notice} if (notice := synthetic_notice(store)) else {})})
    return {"incidents": int(len(points)), "bandwidth_km": round(float(bandwidth), 3),
            "bandwidth_rule": rule, "cell_km": params.cell_km, "width": array.shape[1],
            "height": array.shape[0], "crs": "EPSG:32648", "units": "incidents/km²",
            "peak_per_km2": round(float(array.max()), 4), "breaks": breaks,
            "bounds": [round(float(v), 5) for v in communes.total_bounds]}


def gistar(store, params: AnalysisParams, stem: Path, progress: Progress) -> dict:
    """Gi* of the scope's incidents per commune or hexagon."""
    progress(5, "reading communes")
    communes = _communes(store, params)
    progress(15, "reading incidents")
    incidents = scope_incidents(store, params, communes)
    progress(30, "building zones")
    zones = zones_for(communes, params)
    progress(45, "counting incidents")
    zones["count"] = count_points(zones, incident_points(incidents))
    progress(60, "computing Gi*")
    result = gi_star(zones, zones["count"], params.weights, params.distance_km, permutations=0)
    frame = zones.join(result.drop(columns=["p_sim", "significant"])).to_crs(LONLAT)
    progress(85, "writing zones")
    columns = [c for c in ("zone_id", "name", "province_code", "border_neighbors",
                           "border_band", "count", "z", "p", "gi_bin") if c in frame.columns]
    write_zones(stem.with_suffix(".geojson"), frame[[*columns, "geometry"]])
    hot = frame[frame["gi_bin"] > 0].sort_values("z", ascending=False).head(TOP)
    return {"zones": int(len(frame)), "incidents": int(len(incidents)),
            "counted": int(frame["count"].sum()),
            "bins": {str(b): int((frame["gi_bin"] == b).sum()) for b in range(3, -4, -1)},
            "hottest": [_zone_summary(row) for _, row in hot.iterrows()]}


def emerging(store, params: AnalysisParams, stem: Path, progress: Progress) -> dict:
    """Emerging hot spots of the scope's incidents per commune or hexagon."""
    progress(5, "reading communes")
    communes = _communes(store, params)
    progress(12, "reading incidents")
    incidents = scope_incidents(store, params, communes)
    dated = incidents[incidents["date"].notna()]
    if dated.empty and (params.date_from is None or params.date_to is None):
        raise ValueError("no dated incident in the scope: give a period to follow over time")
    start = params.date_from or dated["date"].min().date()
    end = params.date_to or dated["date"].max().date()
    steps = emerging_mod.time_steps(start, end, params.step)
    progress(20, "building zones")
    zones = zones_for(communes, params)
    progress(30, "counting incidents per time step")
    counts = emerging_mod.step_counts(zones, incident_points(dated), steps)
    result = emerging_mod.emerging(zones, counts, params.weights, params.distance_km,
                                   progress=lambda share: progress(30 + 55 * share,
                                                                   "computing Gi* per step"))
    frame = zones[[c for c in ("zone_id", "name", "province_code", "geometry")
                   if c in zones.columns]].join(result).to_crs(LONLAT)
    progress(90, "writing zones")
    write_zones(stem.with_suffix(".geojson"), frame)
    return {"zones": int(len(frame)), "incidents": int(len(dated)),
            "steps": [s.label for s in steps], "step": params.step,
            "patterns": {name: int((frame["pattern"] == name).sum())
                         for name in emerging_mod.PATTERNS}}


def border(store, params: AnalysisParams, stem: Path, progress: Progress) -> dict:
    """Incidents, density and Gi* per neighbouring country and per distance band."""
    progress(5, "reading communes")
    communes = _communes(store, params)
    progress(20, "reading incidents")
    incidents = scope_incidents(store, params, communes)
    counts = incidents.groupby("commune_code").size().reindex(communes.index, fill_value=0)
    progress(50, "computing Gi* on the communes")
    zones = communes.to_crs(METRIC_CRS)
    bins = gi_star(zones, counts.to_numpy(), permutations=0)["gi_bin"]
    neighbours = [set(neighbours_of(v)) for v in communes["border_neighbors"]]
    groups = [("all", "all", np.ones(len(communes), dtype=bool))]
    groups += [("neighbor", code, np.array([code in n for n in neighbours], dtype=bool))
               for code in ("CN", "LA", "KH")]
    groups += [("band", band, (communes["border_band"] == band).to_numpy()) for band in BANDS]
    total = int(counts.sum())
    area = communes["area_km2"].astype(float).fillna(0).to_numpy()
    rows = []
    for group, value, members in groups:
        km2, found = float(area[members].sum()), int(counts.to_numpy()[members].sum())
        rows.append({"group": group, "value": value, "communes": int(members.sum()),
                     "area_km2": round(km2, 1), "incidents": found,
                     "share_of_incidents": round(found / total, 4) if total else None,
                     "per_100_km2": round(100 * found / km2, 3) if km2 else None,
                     "hot_communes": int((bins.to_numpy()[members] > 0).sum()),
                     "cold_communes": int((bins.to_numpy()[members] < 0).sum())})
    progress(90, "summarising")
    return {"incidents": total, "communes": int(len(communes)), "rows": rows}


COMPUTE = {"density": density, "gistar": gistar, "emerging": emerging, "border": border}
RESULT_SUFFIX = {"density": ".tif", "gistar": ".geojson", "emerging": ".geojson",
                 "border": None}


def _communes(store, params: AnalysisParams) -> gpd.GeoDataFrame:
    communes = scope_communes(store, params)
    if communes.empty:
        raise ValueError("no commune matches the scope (province, border neighbour, band)")
    return communes


def _zone_summary(row) -> dict:
    out = {"zone_id": row["zone_id"], "count": int(row["count"]),
           "z": round(float(row["z"]), 3), "gi_bin": int(row["gi_bin"])}
    if isinstance(row.get("name"), str):
        out["name"] = row["name"]
    return out


def write_zones(path: Path, frame: gpd.GeoDataFrame) -> None:
    """Write zones as GeoJSON, atomically (readers never see half a file)."""
    text = frame.reset_index(drop=True).to_json(na="null", drop_id=True, ensure_ascii=False)
    partial = path.with_name(f".{uuid.uuid4().hex}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def write_json(path: Path, data: dict) -> None:
    """Write a JSON document atomically."""
    partial = path.with_name(f".{uuid.uuid4().hex}.partial")
    partial.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(partial, path)
