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

from geoservice.geodesy import area_km2

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


# --- the sea: jumps between islands, and the part of a unit lying in the sea ---------------

# The demo source draws each commune as one ring, so an island commune's ring runs round one
# island, jumps across the water to the next and back: the jumps enclose long triangles of
# sea. A segment longer than `JUMP_KM` is a jump (half a million source segments: median
# 0.3 km, 99th percentile 2.0 km); a face of the ring bounded mostly by jumps
# (`JUMP_SHARE` of its outline) and lying mostly in the sea (`SEA_SHARE` of its area
# outside the land polygons) is water the ring crossed, not land, and is dropped.
JUMP_KM = 2.0
JUMP_SHARE = 0.4
SEA_SHARE = 0.5
KM_PER_DEGREE = 111.32
_ON_LINE_DEG = 1e-6  # how near a face edge lies to a jump to be part of it (about 0.1 m)


def drop_sea_jumps(source: np.ndarray, cleaned: np.ndarray, land) -> tuple[np.ndarray, float]:
    """Remove from `cleaned` the sea in the faces of each `source` ring enclosed by jumps.

    `source` are the polygons as read, `cleaned` the same after `clean`, `land` one
    (multi)polygon of land (Natural Earth). Islands are kept, each its own part: only faces
    that are both bounded by jumps and in the sea go. Returns the new polygons and the area
    removed (km²).
    """
    out = np.asarray(cleaned, dtype=object).copy()
    if land is None or land.is_empty or len(out) == 0:
        return out, 0.0
    shapely.prepare(land)
    removed = 0.0
    for index in np.flatnonzero(~shapely.within(out, land)):
        faces = _jump_faces(source[index], out[index], land)
        if len(faces):
            cut = polygonal(shapely.union_all(faces, grid_size=GRID))
            before = out[index]
            out[index] = polygonal(shapely.difference(out[index], cut, grid_size=GRID))
            removed += float(area_km2(before) - area_km2(out[index]))
    return out, removed


def _jump_faces(polygon, cleaned, land) -> np.ndarray:
    """The sea in the faces of `polygon`'s ring (inside `cleaned`) enclosed by jumps."""
    ring = shapely.get_coordinates(shapely.get_exterior_ring(polygon))
    if len(ring) < 4 or cleaned.is_empty:
        return np.array([], dtype=object)
    segments = shapely.linestrings(np.stack([ring[:-1], ring[1:]], axis=1))
    jumps = segments[segment_km(ring) > JUMP_KM]
    if len(jumps) == 0:
        return np.array([], dtype=object)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(shapely.node(
        shapely.LineString(ring)))))
    faces = faces[shapely.area(faces) > 0]
    inside = shapely.contains_xy(cleaned, shapely.get_coordinates(
        shapely.point_on_surface(faces)))
    faces = faces[inside]
    if len(faces) < 2:
        return np.array([], dtype=object)  # a ring that never crosses itself
    land = shapely.clip_by_rect(land, *cleaned.bounds)
    near_jump = shapely.buffer(shapely.union_all(jumps), _ON_LINE_DEG)
    outline = shapely.boundary(faces)
    jump_share = shapely.length(shapely.intersection(outline, near_jump)) / shapely.length(outline)
    sea = shapely.area(shapely.difference(faces, land))
    sea_share = sea / shapely.area(faces)
    drop = (jump_share >= JUMP_SHARE) & (sea_share >= SEA_SHARE)
    if drop.all():
        # Never the whole unit: it keeps the face with most land, or (all of them in the
        # sea) the one least bounded by jumps.
        on_land = shapely.area(faces) - sea
        drop[int(np.argmax(on_land)) if on_land.max() > 0 else int(np.argmin(jump_share))] = False
    # Only the water goes: where a jump face covers land (an island the ring also ran
    # round), that land stays.
    return shapely.difference(faces[drop], land, grid_size=GRID)


def segment_km(coords: np.ndarray) -> np.ndarray:
    """Approximate length (km) of each segment of a lon/lat line: enough to tell jumps."""
    delta = np.diff(coords, axis=0)
    scale = np.cos(np.radians(coords[:-1, 1]))
    return np.hypot(delta[:, 0] * scale, delta[:, 1]) * KM_PER_DEGREE


def sea_km2(geometries: np.ndarray, land) -> np.ndarray:
    """Return the area (km², equal-area) of each geometry lying outside `land` (in the sea).

    None and empty geometries give 0.
    """
    geoms = np.asarray(geometries, dtype=object)
    result = np.zeros(len(geoms))
    present = np.array([g is not None and not g.is_empty for g in geoms], dtype=bool)
    if land is None or land.is_empty or not present.any():
        return result
    shapely.prepare(land)
    index = np.flatnonzero(present)
    coastal = index[~shapely.within(geoms[index], land)]
    if len(coastal):
        sea = shapely.difference(geoms[coastal], land, grid_size=GRID)
        result[coastal] = area_km2(sea)
    return result
