"""The national land border and the border communes, derived from geometry alone.

The outline of the assembled communes is cut into its edges; each edge is labelled by what
lies nearest to it across the line: China (CN), Laos (LA), Cambodia (KH) from Natural Earth
countries, or the sea (outside Natural Earth land). Natural Earth lines are 1-5 km off the
commune outlines, so labels go by nearest neighbour, not by exact intersection; edges with
nothing within `LABEL_REACH_KM` are "interior" (only seen when building a part of the
country, as the test fixture does). An edge nearest a neighbour but with the sea a few
km beyond it is coast, not border (`_coast_not_border`: Natural Earth draws some coasts
inside a neighbour's polygon). Short runs of a label are smoothed into their
surroundings. A commune faces a neighbour when it shares at least `MIN_FACING_KM` of the
border line with it.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoservice.boundaries.polygons import GRID, polygonal
from geoservice.geodesy import length_km, to_metric

LOGGER = logging.getLogger(__name__)

# Natural Earth / ISO 3166 numeric ids of the land neighbours, and the codes used here.
NEIGHBOURS = {"156": "CN", "418": "LA", "116": "KH"}
SEA = "sea"
INTERIOR = "interior"
LABEL_REACH_KM = 15.0
MIN_RUN_KM = 3.0
MIN_FACING_KM = 0.1
# How far out from an edge facing a neighbour to look for the sea (km): past the 1-5 km
# Natural Earth lies off the coast, short of the far side of a border river.
PROBE_KM = (1.0, 2.5, 5.0)
# A crack: the outline's own land lies this close across the edge (and at every probe).
CRACK_KM = 0.1
KM_PER_DEGREE = 111.32
BANDS = ((0.0, "0"), (10.0, "<=10"), (25.0, "<=25"), (50.0, "<=50"))
FAR_BAND = ">50"


def label_outline(
    outline_polygon, countries: gpd.GeoDataFrame, land: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """Cut the national outline into runs labelled CN / LA / KH / sea / interior.

    Returns a frame with `label`, `length_km` and a LineString geometry per run.
    """
    minx, miny, maxx, maxy = outline_polygon.bounds
    frame = (minx - 1, miny - 1, maxx + 1, maxy + 1)
    targets = _label_targets(countries, land, frame)
    shapely.prepare(outline_polygon)
    runs = []
    for ring, exterior in _rings(outline_polygon):
        coords = shapely.get_coordinates(ring)
        labels = _label_edges(coords, targets)
        labels = _coast_not_border(coords, labels, targets, exterior == shapely.is_ccw(ring),
                                   outline_polygon)
        runs += _runs(coords, _smooth(coords, labels))
    geometry = [line for _label, line in runs]
    result = gpd.GeoDataFrame(
        {"label": [label for label, _line in runs]}, geometry=geometry, crs="EPSG:4326"
    )
    result["length_km"] = length_km(result.geometry.to_numpy()).round(3)
    return result


def border_lines(outline: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return one land-border feature per neighbour: `neighbor`, `length_km`, MultiLineString."""
    rows = []
    for code in NEIGHBOURS.values():
        parts = outline.geometry[outline["label"] == code].to_numpy()
        if len(parts) == 0:
            continue
        merged = shapely.line_merge(shapely.union_all(parts, grid_size=GRID))
        if merged.geom_type == "LineString":
            merged = shapely.MultiLineString([merged])
        rows.append((code, merged))
    result = gpd.GeoDataFrame(
        {"neighbor": [r[0] for r in rows]}, geometry=[r[1] for r in rows], crs="EPSG:4326"
    )
    result["length_km"] = length_km(result.geometry.to_numpy()).round(3)
    return result


def commune_border_metrics(communes: gpd.GeoDataFrame, lines: gpd.GeoDataFrame) -> pd.DataFrame:
    """Return per commune: border_neighbors, border_length_km, distance and band."""
    geoms = communes.geometry.to_numpy()
    lengths = {code: np.zeros(len(geoms)) for code in lines["neighbor"]}
    tree = shapely.STRtree(geoms)
    for code, line in zip(lines["neighbor"], lines.geometry):
        hits = tree.query(line, predicate="intersects")
        shared = shapely.intersection(shapely.boundary(geoms[hits]), line, grid_size=GRID)
        lengths[code][hits] = length_km(shared)
    neighbours = [
        [code for code in lengths if lengths[code][i] >= MIN_FACING_KM] for i in range(len(geoms))
    ]
    per_commune = [
        {code: round(float(lengths[code][i]), 3) for code in neighbours[i]}
        for i in range(len(geoms))
    ]
    distance = distance_to_border_km(geoms, lines)
    distance = np.where([bool(n) for n in neighbours], 0.0, distance)
    return pd.DataFrame(
        {
            "border_neighbors": neighbours,
            "border_length_km": per_commune,
            "distance_to_border_km": np.round(distance, 3),
            "border_band": [border_band(d) for d in distance],
        },
        index=communes.index,
    )


def distance_to_border_km(geoms: np.ndarray, lines: gpd.GeoDataFrame) -> np.ndarray:
    """Return the distance (km) from each geometry to the nearest land border line."""
    if len(lines) == 0:
        return np.full(len(geoms), np.inf)
    segments = shapely.get_parts(to_metric(lines.geometry.to_numpy()))
    segments = shapely.get_parts(shapely.segmentize(segments, 5000.0))
    pieces = _explode_segments(segments, 64)
    tree = shapely.STRtree(pieces)
    metric = to_metric(geoms)
    _, distances = tree.query_nearest(metric, return_distance=True, all_matches=False)
    return distances / 1e3


def border_band(distance_km: float) -> str:
    """Return the distance band of a commune: "0", "<=10", "<=25", "<=50" or ">50"."""
    for limit, label in BANDS:
        if distance_km <= limit:
            return label
    return FAR_BAND


def _explode_segments(lines: np.ndarray, vertices: int) -> np.ndarray:
    """Cut lines into short pieces of at most `vertices` points, for a useful spatial index."""
    pieces = []
    for line in lines:
        coords = shapely.get_coordinates(line)
        for start in range(0, len(coords) - 1, vertices - 1):
            chunk = coords[start : start + vertices]
            if len(chunk) >= 2:
                pieces.append(shapely.LineString(chunk))
    return np.array(pieces, dtype=object)


def _rings(polygon) -> list:
    """Every ring of the polygon's parts, with whether it is an exterior ring."""
    return [(ring, k == 0) for part in shapely.get_parts(polygon) for k, ring in
            enumerate([part.exterior, *part.interiors])]


def _coast_not_border(coords: np.ndarray, labels: np.ndarray, targets: dict,
                      outward_right: bool, national=None) -> np.ndarray:
    """Relabel the edges facing a neighbour with no neighbour's land beyond them.

    A land border has the neighbour's land across it; Natural Earth draws some coasts
    1-5 km off, so a coast can lie nearest a neighbour's polygon (a sliver of it along
    the beach). Points `PROBE_KM` out from each edge tell: if any lies in the sea, the
    edge is coast (sea); if all lie back inside `national` (the outline's own polygon),
    from `CRACK_KM` out, the edge only faces a crack in it and is interior.
    `outward_right` says on which side of the ring the outside lies.
    """
    if SEA not in targets:
        return labels
    facing = np.isin(labels, list(NEIGHBOURS.values()))
    if not facing.any():
        return labels
    start, end = coords[:-1][facing], coords[1:][facing]
    middle = (start + end) / 2
    km_x = KM_PER_DEGREE * np.cos(np.radians(middle[:, 1]))
    dx, dy = (end[:, 0] - start[:, 0]) * km_x, (end[:, 1] - start[:, 1]) * KM_PER_DEGREE
    norm = np.hypot(dx, dy)
    norm[norm == 0] = 1.0
    side = 1.0 if outward_right else -1.0
    normal_x, normal_y = side * dy / norm, -side * dx / norm  # unit vector, km
    sea_shape = targets[SEA][0]
    in_sea = np.zeros(len(middle), dtype=bool)
    at_home = np.ones(len(middle), dtype=bool)
    for km in (CRACK_KM, *PROBE_KM) if national is not None else PROBE_KM:
        x = middle[:, 0] + km * normal_x / km_x
        y = middle[:, 1] + km * normal_y / KM_PER_DEGREE
        in_sea |= shapely.contains_xy(sea_shape, x, y)
        if national is not None:
            at_home &= shapely.contains_xy(national, x, y)
    out = labels.copy()
    index = np.flatnonzero(facing)
    if national is not None:
        out[index[at_home & ~in_sea]] = INTERIOR
    out[index[in_sea]] = SEA
    return out


def _label_targets(countries, land, frame):
    box = shapely.box(*frame)
    targets = {}
    for numeric, code in NEIGHBOURS.items():
        rows = countries[countries["id"].astype(str).str.zfill(3) == numeric]
        if len(rows):
            shape = _clipped_union(rows.geometry.to_numpy(), frame)
            targets[code] = shape
    land_shape = _clipped_union(land.geometry.to_numpy(), frame)
    targets[SEA] = shapely.difference(box, land_shape)
    prepared = {}
    for code, shape in targets.items():
        if shape.is_empty:
            continue
        shapely.prepare(shape)
        edges = _explode_segments(shapely.get_parts(shapely.boundary(shape)), 32)
        prepared[code] = (shape, shapely.STRtree(to_metric(edges)))
    return prepared


def _clipped_union(geoms: np.ndarray, frame) -> shapely.Geometry:
    clipped = shapely.make_valid(shapely.clip_by_rect(geoms, *frame))
    return polygonal(shapely.union_all(clipped, grid_size=GRID))


def _label_edges(coords: np.ndarray, targets: dict) -> np.ndarray:
    middles = (coords[:-1] + coords[1:]) / 2
    points = shapely.points(middles)
    metric = to_metric(points)
    codes = list(targets)
    distances = np.empty((len(points), len(codes)))
    for k, code in enumerate(codes):
        shape, tree = targets[code]
        _, d = tree.query_nearest(metric, return_distance=True, all_matches=False)
        inside = shapely.contains_xy(shape, middles[:, 0], middles[:, 1])
        distances[:, k] = np.where(inside, 0.0, d / 1e3)
    best = np.argmin(distances, axis=1)
    labels = np.array(codes, dtype=object)[best]
    labels[distances[np.arange(len(points)), best] > LABEL_REACH_KM] = INTERIOR
    return labels


def _smooth(coords: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Give runs shorter than `MIN_RUN_KM` the label of the nearest long run before them.

    A ring with no long run takes the label that covers most of its length.
    """
    edge_km = length_km(shapely.linestrings(np.stack([coords[:-1], coords[1:]], axis=1)))
    starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])
    ends = np.r_[starts[1:], len(labels)]
    lengths = np.add.reduceat(edge_km, starts)
    long_runs = np.flatnonzero(lengths >= MIN_RUN_KM)
    labels = labels.copy()
    if len(long_runs) == 0:
        totals = pd.Series(edge_km).groupby(labels).sum()
        labels[:] = totals.idxmax()
        return labels
    for k in np.flatnonzero(lengths < MIN_RUN_KM):
        before = long_runs[long_runs < k]
        donor = before[-1] if len(before) else long_runs[-1]  # the ring wraps around
        labels[starts[k]:ends[k]] = labels[starts[donor]]
    return labels


def _runs(coords: np.ndarray, labels: np.ndarray) -> list:
    starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])
    ends = np.r_[starts[1:], len(labels)]
    return [(labels[s], shapely.LineString(coords[s : e + 1])) for s, e in zip(starts, ends)]
