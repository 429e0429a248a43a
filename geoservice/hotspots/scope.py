"""What an analysis covers: the communes of its scope, its zones and its incidents.

Plain functions over the store. The scope is the province (if any), then the border
filters: communes facing a neighbour (``border_neighbor``, or ``any`` border commune) or
lying in a distance band from the border (``border_band``). Incidents are read with the
category, period and province filters of the store, then kept only when their commune is in
the scope, so a border view counts only incidents of the border communes it shows.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoservice.hotspots.gistar import LONLAT, METRIC_CRS, hex_grid
from geoservice.hotspots.params import AnalysisParams
from geoservice.indicators.compute import records_frame
from geoservice.store import FeatureQuery

PAGE = 10**6
MAX_ZONES = 200_000  # more hexagons than this is a mistake of size, not a map
COMMUNE_FIELDS = ("name", "province_code", "border_neighbors", "border_band",
                  "distance_to_border_km", "area_km2")


def neighbours_of(value) -> tuple[str, ...]:
    """The neighbour codes a commune faces, from a list or a comma-joined text."""
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(part for part in value.split(",") if part)
    return tuple(str(part) for part in value)


def scope_communes(store, params: AnalysisParams) -> gpd.GeoDataFrame:
    """The communes of the scope (EPSG:4326), indexed by commune code (``zone_id``)."""
    page = store.query("communes", FeatureQuery(limit=PAGE, province_code=params.province_code))
    rows, geometries = [], []
    for fid, props, geometry in page.features:
        if geometry is None or geometry.is_empty or not _in_scope(props, params):
            continue
        rows.append({"zone_id": fid, **{name: props.get(name) for name in COMMUNE_FIELDS}})
        geometries.append(geometry)
    frame = gpd.GeoDataFrame(rows, geometry=geometries, crs=LONLAT,
                             columns=["zone_id", *COMMUNE_FIELDS])
    frame["border_neighbors"] = [",".join(neighbours_of(v)) for v in frame["border_neighbors"]]
    return frame.set_index(pd.Index(frame["zone_id"], name="zone_id"))


def _in_scope(props: dict, params: AnalysisParams) -> bool:
    neighbours = neighbours_of(props.get("border_neighbors"))
    if params.border_neighbor == "any" and not neighbours:
        return False
    if params.border_neighbor not in (None, "any") and params.border_neighbor not in neighbours:
        return False
    return params.border_band is None or props.get("border_band") == params.border_band


def scope_incidents(store, params: AnalysisParams, communes: gpd.GeoDataFrame) -> pd.DataFrame:
    """The placed incidents of the scope: ``lon``, ``lat``, ``date`` (datetime), commune."""
    frame = records_frame(store, "incidents", **params.record_filters())
    columns = ["lon", "lat", "date", "commune_code", "province_code", "category"]
    if frame.empty or not {"lon", "lat"} <= set(frame.columns):
        return pd.DataFrame(columns=columns)
    frame = frame.reindex(columns=columns)
    frame["lon"] = pd.to_numeric(frame["lon"], errors="coerce")
    frame["lat"] = pd.to_numeric(frame["lat"], errors="coerce")
    frame["date"] = pd.to_datetime(frame["date"], errors="coerce")
    frame = frame[frame["lon"].notna() & frame["lat"].notna()]
    if params.border_neighbor or params.border_band:
        frame = frame[frame["commune_code"].isin(communes.index)]
    return frame.reset_index(drop=True)


def incident_points(incidents: pd.DataFrame) -> gpd.GeoDataFrame:
    """The incidents as points (EPSG:4326), with their date."""
    return gpd.GeoDataFrame({"date": incidents["date"].to_numpy()},
                            geometry=gpd.points_from_xy(incidents["lon"], incidents["lat"]),
                            crs=LONLAT)


def zones_for(communes: gpd.GeoDataFrame, params: AnalysisParams) -> gpd.GeoDataFrame:
    """The zones of the analysis in the metric CRS: the communes, or hexagons covering them.

    Hexagons keep ``province_code``: the scope's province, else the province of the commune
    under the hexagon's centre (or of the first commune it touches, at coasts and borders).
    """
    if params.zones == "communes":
        return communes.to_crs(METRIC_CRS)
    if communes.empty:
        return gpd.GeoDataFrame({"zone_id": [], "province_code": []}, geometry=[],
                                crs=METRIC_CRS)
    west, south, east, north = communes.total_bounds
    _check_size(communes, params.size_km)
    grid = hex_grid((west, south, east, north), params.size_km)
    metric = communes.to_crs(grid.crs).geometry.to_numpy()
    tree = shapely.STRtree(metric)
    hexes, touched = tree.query(grid.geometry.to_numpy(), predicate="intersects")
    keep = np.unique(hexes)
    first = dict(zip(hexes[::-1].tolist(), touched[::-1].tolist()))  # first commune touched
    centre_hex, centre_commune = tree.query(grid.geometry.centroid.to_numpy()[keep],
                                            predicate="within")
    owner = {int(keep[h]): int(c) for h, c in zip(centre_hex, centre_commune)}
    provinces = communes["province_code"].to_numpy()
    codes = [params.province_code or provinces[owner.get(int(i), first[int(i)])]
             for i in keep]
    frame = grid.iloc[keep].copy()
    frame["province_code"] = codes
    return frame


def _check_size(communes: gpd.GeoDataFrame, size_km: float) -> None:
    bounds = communes.to_crs(METRIC_CRS).total_bounds
    cells = (bounds[2] - bounds[0]) * (bounds[3] - bounds[1]) / (size_km * 1000) ** 2 / 0.866
    if cells > MAX_ZONES:
        raise ValueError(f"hexagons of {size_km:g} km would make about {cells:,.0f} zones "
                         f"(at most {MAX_ZONES:,}); choose a larger size_km")
