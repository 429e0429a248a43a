"""Polygon hygiene: validity, a shared precision grid, overlaps, gaps and orphan pieces.

The demo polygons come as single rings digitised independently, so neighbours overlap a
little, leave slivers between them, and a commune that surrounded another was drawn without
its hole. Everything here works on plain arrays of shapely geometries so that the same
functions serve the whole country and the two-province test fixture.
"""

from __future__ import annotations

import logging

import numpy as np
import shapely

LOGGER = logging.getLogger(__name__)

# Every coordinate is snapped to this grid (degrees; about 0.1 m) so that shared edges are
# identical and overlays of neighbours stay exact.
GRID = 1e-6


def polygonal(geometry) -> shapely.Geometry:
    """Return the polygonal part of a geometry (dropping lines and points) as one geometry."""
    if geometry is None or geometry.is_empty:
        return shapely.Polygon()
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        return geometry
    parts = [g for g in shapely.get_parts(geometry) if g.geom_type in ("Polygon", "MultiPolygon")]
    if not parts:
        return shapely.Polygon()
    return shapely.union_all(parts, grid_size=GRID)


def clean(geometries: np.ndarray) -> np.ndarray:
    """Make polygons valid, keep their polygonal part and snap them to `GRID`."""
    valid = shapely.make_valid(np.asarray(geometries, dtype=object))
    snapped = shapely.set_precision(valid, GRID)
    return np.array([polygonal(g) for g in snapped], dtype=object)


def resolve_overlaps(geometries: np.ndarray) -> tuple[np.ndarray, float]:
    """Remove overlaps between polygons: where two overlap, the larger gives the shared part up.

    That rule also restores holes that the source dropped (a commune drawn around an enclosed
    town loses the town). Returns the new polygons and the overlap area removed, in degrees².
    """
    geoms = np.asarray(geometries, dtype=object).copy()
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    overlaps = np.array(
        [polygonal(g) for g in shapely.intersection(geoms[left], geoms[right], grid_size=GRID)],
        dtype=object,
    )
    overlap_area = shapely.area(overlaps)
    real = overlap_area > 0
    areas = shapely.area(geoms)
    loser = np.where(areas[left] >= areas[right], left, right)
    removed = float(overlap_area[real].sum())
    for index in np.unique(loser[real]):
        cut = shapely.union_all(overlaps[real & (loser == index)], grid_size=GRID)
        geoms[index] = polygonal(shapely.difference(geoms[index], cut, grid_size=GRID))
    return geoms, removed


def interior_gaps(geometries: np.ndarray) -> np.ndarray:
    """Return the holes left between polygons: the interior rings of their union, as polygons."""
    union = shapely.union_all(geometries, grid_size=GRID)
    holes = [
        shapely.Polygon(ring)
        for part in shapely.get_parts(union)
        for ring in part.interiors
    ]
    return clean(np.array(holes, dtype=object)) if holes else np.array([], dtype=object)


def shared_edge_lengths(piece, neighbours: np.ndarray) -> np.ndarray:
    """Return the length of boundary `piece` shares with each neighbour (degrees)."""
    edges = shapely.intersection(piece.boundary, shapely.boundary(neighbours), grid_size=GRID)
    return shapely.length(edges)


def absorb_orphans(
    geometries: np.ndarray,
    labels: np.ndarray,
    choose=None,
    allowed=None,
) -> np.ndarray:
    """Give every unlabelled piece the label of one of the labelled pieces it touches.

    `labels` holds a label or None per piece. `choose(index, candidates, shared, labels)`
    picks among the touching labelled pieces (indices, and the length of edge shared with
    each) and returns one of them, or None to wait; by default the longest shared edge wins.
    Orphans are taken largest first, and pieces touching only other orphans wait for them.
    Pieces still unlabelled at the end take the label of the nearest labelled piece — among
    those `allowed(index, candidates)` (a boolean mask) accepts, when given. Returns the
    completed labels.
    """
    geoms = np.asarray(geometries, dtype=object)
    labels = np.asarray(labels, dtype=object).copy()
    choose = choose or longest_edge
    tree = shapely.STRtree(geoms)
    order = np.argsort(-shapely.area(geoms))
    while True:
        progress = False
        for index in order:
            if labels[index] is not None or geoms[index].is_empty:
                continue
            candidates = np.array([
                j for j in tree.query(geoms[index], predicate="intersects")
                if j != index and labels[j] is not None
            ], dtype=int)
            if len(candidates) == 0:
                continue
            shared = shared_edge_lengths(geoms[index], geoms[candidates])
            touching = shared > 0
            if not touching.any():
                continue
            chosen = choose(index, candidates[touching], shared[touching], labels)
            if chosen is not None:
                labels[index] = labels[chosen]
                progress = True
        if not progress:
            break
    _label_by_nearest(geoms, labels, allowed)
    return labels


def longest_edge(index, candidates, shared, labels):
    """Pick the touching piece with the longest shared edge."""
    return candidates[int(np.argmax(shared))]


def _label_by_nearest(geoms, labels, allowed=None):
    labelled = np.flatnonzero(np.array([lab is not None for lab in labels], dtype=bool))
    if len(labelled) == 0:
        return
    for index in range(len(geoms)):
        if labels[index] is None and not geoms[index].is_empty:
            pool = labelled
            if allowed is not None:
                mask = allowed(index, labelled)
                pool = labelled[mask] if mask.any() else labelled
            distances = shapely.distance(geoms[index], geoms[pool])
            labels[index] = labels[pool[int(np.argmin(distances))]]
