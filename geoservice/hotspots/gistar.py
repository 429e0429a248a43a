"""Getis-Ord Gi* hot spots of incident counts, with a false-discovery-rate correction.

Plain functions (no Flask) over GeoDataFrames; the statistics come from PySAL (`esda`
for Gi* and the FDR cut-off, `libpysal` for the spatial weights), never written here.

* Zones are communes or hexagons. Hexagons are built in a metric CRS, by default
  EPSG:3405 (VN-2000 / UTM zone 48N, the national datum). Zone 48N's central meridian is
  105° E; at Vietnam's eastern edge (~109.5° E) the scale error is ~0.3 %, so hexagons of
  one size stay equal in area to within ~0.6 % over the whole country.
* `gi_star` uses binary weights with each zone's own value included (Gi*, ``star=True``).
  ``p`` is the two-sided normal-theory p-value of the Gi* z-score by default, the
  ArcGIS convention. Permutation pseudo p-values cannot go below 1 / (permutations + 1),
  which is too coarse to survive an FDR correction over hundreds of zones; they are
  still computed (``p_sim``, esda's folded one-sided value) when ``permutations > 0``
  and can be chosen with ``p_value="permutation"`` (then p = min(1, 2 * p_sim)).
* ``gi_bin`` is -3/-2/-1 (cold) … 1/2/3 (hot) at 99/95/90 % confidence, each level
  judged against `esda.fdr`'s Benjamini–Hochberg cut-off for that level; 0 otherwise.
  Zones with no neighbour (islands) and values that do not vary get bin 0, and islands
  have no z or p (NaN): their Gi* would only restate their own value.
"""

from __future__ import annotations

import logging
import math
import warnings
from datetime import date
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from geoservice.indicators.compute import records_frame
from geoservice.store import FeatureQuery

if TYPE_CHECKING:  # PySAL (and scipy.stats under it) is loaded with the first analysis
    import esda
    import libpysal

LOGGER = logging.getLogger(__name__)

METRIC_CRS = "EPSG:3405"  # VN-2000 / UTM zone 48N
LONLAT = "EPSG:4326"
LEVELS = ((3, 0.01), (2, 0.05), (1, 0.10))  # bin, 1 - confidence
WEIGHTS = ("queen", "distance")
P_VALUES = ("normal", "permutation")
PAGE = 10**6


def hex_grid(bounds_lonlat: tuple[float, float, float, float], size_km: float,
             crs: str = METRIC_CRS) -> gpd.GeoDataFrame:
    """Pointy-topped hexagons in `crs` covering (west, south, east, north) in degrees.

    `size_km` is the distance between neighbouring centres (the flat-to-flat width).
    The lattice is anchored at the CRS origin, so a cell's ``zone_id`` ("r{row}c{col}")
    is the same whatever bounds it was built for. The frame is indexed by ``zone_id``.
    """
    if size_km <= 0:
        raise ValueError("size_km must be positive")
    width = size_km * 1000.0
    radius = width / math.sqrt(3)
    dy = 1.5 * radius
    west, south, east, north = Transformer.from_crs(LONLAT, crs, always_xy=True) \
        .transform_bounds(*bounds_lonlat, densify_pts=21)
    area = shapely.box(west, south, east, north)
    rows = np.arange(math.floor(south / dy) - 1, math.ceil(north / dy) + 2)
    cols = np.arange(math.floor(west / width) - 1, math.ceil(east / width) + 2)
    row, col = (a.ravel() for a in np.meshgrid(rows, cols, indexing="ij"))
    cx = col * width + (row % 2) * width / 2
    cy = row * dy
    angles = np.radians(np.arange(6) * 60 + 30)
    rings = np.stack([cx[:, None] + radius * np.cos(angles),
                      cy[:, None] + radius * np.sin(angles)], axis=-1)
    # Round to the millimetre so neighbours share exact vertices (queen contiguity).
    hexes = shapely.polygons(np.round(rings, 3))
    keep = shapely.intersects(hexes, area)
    ids = [f"r{r}c{c}" for r, c in zip(row[keep], col[keep])]
    return gpd.GeoDataFrame({"zone_id": ids}, geometry=hexes[keep], crs=crs,
                            index=pd.Index(ids, name="zone_id"))


def count_points(zones: gpd.GeoDataFrame, points: gpd.GeoDataFrame) -> pd.Series:
    """Count the points in each zone (a spatial join); a point on a shared edge counts once.

    Returns an integer Series indexed like `zones`, named ``count``.
    """
    counts = pd.Series(0, index=zones.index, name="count", dtype="int64")
    if points.empty or zones.empty:
        return counts
    points = points.to_crs(zones.crs)
    # Positions, not labels: the zones' index may carry any name or duplicates.
    tree = shapely.STRtree(zones.geometry.to_numpy())
    point_pos, zone_pos = tree.query(points.geometry.to_numpy(), predicate="intersects")
    first = np.unique(point_pos, return_index=True)[1]
    counts[:] = np.bincount(zone_pos[first], minlength=len(zones))
    return counts


def spatial_weights(zones: gpd.GeoDataFrame, weights: str = "queen",
                    distance_km: float | None = None) -> libpysal.weights.W:
    """Binary libpysal weights between zones: shared edge or corner, or centres within a distance.

    Distance weights need a metric CRS; ids are the zones' positions (0 … n-1).
    """
    import libpysal  # loaded with the first analysis, not at start

    if weights not in WEIGHTS:
        raise ValueError(f"weights must be one of {WEIGHTS}, not {weights!r}")
    frame = zones[["geometry"]].reset_index(drop=True)
    if weights == "queen":
        return libpysal.weights.Queen.from_dataframe(frame, use_index=True, silence_warnings=True)
    if distance_km is None or distance_km <= 0:
        raise ValueError("distance weights need a positive distance_km")
    if frame.crs is None or not frame.crs.is_projected:
        raise ValueError("distance weights need zones in a projected (metric) CRS")
    centres = frame.set_geometry(frame.geometry.centroid)
    return libpysal.weights.DistanceBand.from_dataframe(
        centres, threshold=distance_km * 1000.0, binary=True, silence_warnings=True)


def gi_star(zones: gpd.GeoDataFrame, values, weights: str = "queen",
            distance_km: float | None = None, permutations: int = 999, seed: int | None = 0,
            alpha: float = 0.05, p_value: str = "normal",
            w: libpysal.weights.W | None = None) -> pd.DataFrame:
    """Gi* per zone: ``z``, ``p``, ``p_sim``, ``gi_bin`` and ``significant``.

    `values` line up with the zones' rows. ``gi_bin`` is the signed confidence level
    (3/2/1 = hot at 99/95/90 %, negative = cold) after esda's FDR cut-off per level;
    ``significant`` is FDR-significant at `alpha`. See the module notes for ``p``.
    The frame is indexed like `zones`. `w` reuses weights already built by
    `spatial_weights` for the same zones (e.g. one per time step).
    """
    if p_value not in P_VALUES:
        raise ValueError(f"p_value must be one of {P_VALUES}, not {p_value!r}")
    y = np.asarray(values, dtype=float).ravel()
    if len(y) != len(zones):
        raise ValueError("values must have one number per zone")
    out = pd.DataFrame({"z": np.nan, "p": np.nan, "p_sim": np.nan, "gi_bin": 0,
                        "significant": False}, index=zones.index)
    if len(y) == 0:
        return out
    if w is None:
        w = spatial_weights(zones, weights, distance_km)
    linked = np.array([w.cardinalities[i] > 0 for i in w.id_order])
    if linked.sum() < 2:
        return out
    if np.ptp(y[linked]) == 0:
        # Nothing varies, so nothing stands out: not a NaN from a zero variance.
        out.loc[linked, ["z", "p"]] = (0.0, 1.0)
        return out
    result = _esda_gi_star(y, w, linked, permutations, seed)
    out.loc[linked, "z"] = result.Zs
    out.loc[linked, "p"] = np.minimum(1.0, 2 * result.p_norm)
    if permutations:
        out.loc[linked, "p_sim"] = result.p_sim
        if p_value == "permutation":
            out.loc[linked, "p"] = np.minimum(1.0, 2 * result.p_sim)
    out["gi_bin"], out["significant"] = _bins(out["z"].to_numpy(), out["p"].to_numpy(),
                                              linked, alpha)
    return out


def _esda_gi_star(y: np.ndarray, w: libpysal.weights.W, linked: np.ndarray,
                  permutations: int, seed: int | None) -> esda.G_Local:
    """Run esda's Gi* on the zones that have neighbours (islands would only see themselves)."""
    import esda
    import libpysal

    # A neighbourhood of every zone divides by a zero variance; its z stays NaN.
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        # Islands (and seas between zones) leave the weights in several pieces: expected.
        warnings.filterwarnings("ignore", message="The weights matrix is not fully connected",
                                category=UserWarning)
        if not linked.all():
            w = libpysal.weights.w_subset(w, [i for i, ok in zip(w.id_order, linked) if ok],
                                          silence_warnings=True)
        # esda announces a future default; p_sim is documented here as its current one.
        warnings.filterwarnings("ignore", message="The alternative hypothesis",
                                category=DeprecationWarning)
        return esda.G_Local(y[linked], w, transform="B", star=True,
                            permutations=permutations, seed=seed, n_jobs=1,
                            keep_simulations=False)


def _bins(z: np.ndarray, p: np.ndarray, linked: np.ndarray, alpha: float) -> tuple:
    """Signed confidence bins, each level against its own FDR cut-off (esda.fdr)."""
    import esda

    # A zone whose neighbourhood is every zone has no variance (z is NaN): not a test.
    tested = linked & np.isfinite(p)
    bins = np.zeros(len(z), dtype="int64")
    significant = np.zeros(len(z), dtype=bool)
    if not tested.any():
        return bins, significant
    for level, level_alpha in reversed(LEVELS):  # 90 % first, so 99 % wins
        passed = tested & (p <= esda.fdr(p[tested], level_alpha))
        bins[passed] = level * np.sign(z[passed]).astype("int64")
    significant = tested & (p <= esda.fdr(p[tested], alpha))
    return bins, significant


def hotspot_frame(store, zones: str = "communes", size_km: float = 5.0,
                  category: str | None = None, date_from: date | None = None,
                  date_to: date | None = None, province_code: str | None = None,
                  **gi_options) -> gpd.GeoDataFrame:
    """Incident counts and Gi* columns per commune or hexagon, in EPSG:4326.

    Incidents are read with the given filters; their ``lon``/``lat`` properties place
    them. Hexagons of `size_km` cover the communes (of the province, if one is given) and
    only those touching a commune are kept. Columns: ``zone_id`` (commune code or hexagon
    id), ``name`` (communes), ``count`` and those of `gi_star` (`gi_options` go to it).
    """
    if zones not in ("communes", "hex"):
        raise ValueError("zones must be 'communes' or 'hex'")
    communes = _communes(store, province_code)
    if zones == "hex":
        frame = hex_grid(tuple(communes.total_bounds), size_km)
        tree = shapely.STRtree(communes.to_crs(frame.crs).geometry.to_numpy())
        touching = np.unique(tree.query(frame.geometry.to_numpy(), predicate="intersects")[0])
        frame = frame.iloc[touching]
    else:
        frame = communes.to_crs(METRIC_CRS)
    points = _incident_points(store, category=category, date_from=date_from,
                              date_to=date_to, province_code=province_code)
    frame = frame.assign(count=count_points(frame, points))
    result = gi_star(frame, frame["count"], **gi_options)
    return frame.join(result).to_crs(LONLAT)


def _communes(store, province_code: str | None) -> gpd.GeoDataFrame:
    page = store.query("communes", FeatureQuery(limit=PAGE, province_code=province_code))
    rows = [(fid, props.get("name"), geometry) for fid, props, geometry in page.features
            if geometry is not None and not geometry.is_empty]
    ids = [fid for fid, _name, _geometry in rows]
    return gpd.GeoDataFrame({"zone_id": ids, "name": [name for _fid, name, _g in rows]},
                            geometry=[g for _fid, _name, g in rows], crs=LONLAT,
                            index=pd.Index(ids, name="zone_id"))


def _incident_points(store, **filters) -> gpd.GeoDataFrame:
    frame = records_frame(store, "incidents", **filters)
    if frame.empty or not {"lon", "lat"} <= set(frame.columns):
        return gpd.GeoDataFrame(geometry=[], crs=LONLAT)
    lon = pd.to_numeric(frame["lon"], errors="coerce")
    lat = pd.to_numeric(frame["lat"], errors="coerce")
    placed = lon.notna() & lat.notna()
    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon[placed], lat[placed]), crs=LONLAT)
