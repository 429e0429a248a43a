"""Pipeline pieces on tiny synthetic shapely inputs, where the right answer is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from geoservice.boundaries import border, lineage, polygons


def arr(*geoms):
    return np.array(geoms, dtype=object)


# --- polygons.resolve_overlaps -----------------------------------------------------------


def test_larger_polygon_gives_up_the_overlap():
    big = shapely.box(0.0, 0.0, 0.02, 0.02)
    small = shapely.box(0.015, 0.0, 0.025, 0.01)  # overlaps big on [0.015, 0.02] x [0, 0.01]
    result, removed = polygons.resolve_overlaps(arr(big, small))
    assert result[1].equals(small), "the smaller polygon keeps its shape"
    assert result[0].area == pytest.approx(big.area - 0.005 * 0.01, rel=1e-6)
    assert removed == pytest.approx(0.005 * 0.01, rel=1e-6)
    assert shapely.intersection(result[0], result[1]).area == pytest.approx(0.0, abs=1e-15)
    # Nothing is lost: the union is unchanged.
    assert shapely.union_all(result).area == pytest.approx(shapely.union(big, small).area)


def test_enclosed_polygon_is_punched_out_of_its_surrounding_polygon():
    commune = shapely.box(0.0, 0.0, 0.1, 0.1)
    town = shapely.box(0.04, 0.04, 0.06, 0.06)  # drawn inside, source dropped the hole
    result, removed = polygons.resolve_overlaps(arr(commune, town))
    outer, inner = result
    assert inner.equals(town)
    assert outer.geom_type == "Polygon" and len(outer.interiors) == 1
    assert shapely.Polygon(outer.interiors[0]).equals(town)
    assert outer.area == pytest.approx(commune.area - town.area, rel=1e-9)
    assert removed == pytest.approx(town.area, rel=1e-9)
    assert not outer.contains(town.centroid)


def test_disjoint_and_touching_polygons_are_left_alone():
    a = shapely.box(0.0, 0.0, 0.01, 0.01)
    b = shapely.box(0.01, 0.0, 0.02, 0.01)  # touches a along an edge
    c = shapely.box(0.05, 0.05, 0.06, 0.06)
    result, removed = polygons.resolve_overlaps(arr(a, b, c))
    assert removed == 0
    assert all(r.equals(g) for r, g in zip(result, (a, b, c)))


def test_clean_makes_a_bow_tie_valid_and_snaps_to_the_grid():
    bow_tie = shapely.Polygon([(0, 0), (0.01, 0.01), (0.01, 0), (0, 0.01)])
    assert not bow_tie.is_valid
    (cleaned,) = polygons.clean(arr(bow_tie))
    assert cleaned.is_valid and cleaned.geom_type in ("Polygon", "MultiPolygon")
    assert cleaned.area == pytest.approx(0.5 * 0.01 * 0.01, rel=1e-3)
    offgrid = shapely.box(0.1234567891, 0.0, 0.2, 0.1)
    (snapped,) = polygons.clean(arr(offgrid))
    xs = shapely.get_coordinates(snapped)[:, 0]
    assert np.allclose(xs / polygons.GRID, np.round(xs / polygons.GRID), atol=1e-6)


# --- polygons.interior_gaps --------------------------------------------------------------


def test_interior_gaps_finds_the_hole_between_four_polygons():
    frame = arr(
        shapely.box(0.0, 0.0, 0.03, 0.01),   # bottom
        shapely.box(0.0, 0.02, 0.03, 0.03),  # top
        shapely.box(0.0, 0.01, 0.01, 0.02),  # left
        shapely.box(0.02, 0.01, 0.03, 0.02),  # right
    )
    gaps = polygons.interior_gaps(frame)
    assert len(gaps) == 1
    assert gaps[0].equals(shapely.box(0.01, 0.01, 0.02, 0.02))


def test_no_gaps_between_tiling_polygons():
    tiles = arr(shapely.box(0.0, 0.0, 0.01, 0.01), shapely.box(0.01, 0.0, 0.02, 0.01))
    assert len(polygons.interior_gaps(tiles)) == 0


# --- polygons.absorb_orphans -------------------------------------------------------------


def test_orphan_takes_the_label_of_the_longest_shared_edge():
    a = shapely.box(0.0, 0.0, 0.01, 0.01)
    b = shapely.box(0.01, 0.0, 0.02, 0.01)
    orphan = shapely.box(0.008, 0.01, 0.02, 0.012)  # shares 0.002 with a, 0.01 with b
    labels = polygons.absorb_orphans(arr(a, b, orphan), arr("A", "B", None))
    assert list(labels) == ["A", "B", "B"]
    # Mirror it: the long edge now runs along a.
    orphan = shapely.box(0.0, 0.01, 0.012, 0.012)
    labels = polygons.absorb_orphans(arr(a, b, orphan), arr("A", "B", None))
    assert list(labels) == ["A", "B", "A"]


def test_orphans_touching_only_orphans_wait_and_far_orphans_take_the_nearest_label():
    a = shapely.box(0.0, 0.0, 0.01, 0.01)
    b = shapely.box(0.01, 0.0, 0.02, 0.01)
    first = shapely.box(0.008, 0.01, 0.02, 0.012)   # touches a (short) and b (long)
    second = shapely.box(0.008, 0.012, 0.02, 0.013)  # touches only `first`
    far = shapely.box(0.05, 0.0, 0.06, 0.01)          # touches nothing; nearest is b
    labels = polygons.absorb_orphans(arr(a, b, second, first, far),
                                     arr("A", "B", None, None, None))
    assert list(labels) == ["A", "B", "B", "B", "B"]


def test_absorb_orphans_uses_the_given_chooser():
    a = shapely.box(0.0, 0.0, 0.01, 0.01)
    b = shapely.box(0.01, 0.0, 0.02, 0.01)
    orphan = shapely.box(0.008, 0.01, 0.02, 0.012)
    seen = []

    def shortest(index, candidates, shared, labels):
        seen.append((index, sorted(candidates.tolist())))
        return candidates[int(np.argmin(shared))]

    labels = polygons.absorb_orphans(arr(a, b, orphan), arr("A", "B", None), shortest)
    assert list(labels) == ["A", "B", "A"]
    assert seen == [(2, [0, 1])]


# --- border._smooth and border.border_band -----------------------------------------------


def line_coords(n_edges, lat=22.0, lon0=104.0, step=0.01):
    """Points along a parallel: each edge ~1.03 km at 22° N."""
    return np.column_stack([lon0 + step * np.arange(n_edges + 1), np.full(n_edges + 1, lat)])


def test_smooth_gives_a_short_run_the_label_of_the_long_run_before_it():
    labels = np.array(["CN"] * 10 + ["sea"] * 2 + ["LA"] * 10, dtype=object)
    smoothed = border._smooth(line_coords(len(labels)), labels)
    assert list(smoothed) == ["CN"] * 12 + ["LA"] * 10
    assert list(labels[10:12]) == ["sea", "sea"], "the input is not modified"


def test_smooth_keeps_runs_of_at_least_three_km():
    labels = np.array(["CN"] * 10 + ["sea"] * 4 + ["LA"] * 10, dtype=object)  # ~4.1 km of sea
    smoothed = border._smooth(line_coords(len(labels)), labels)
    assert list(smoothed) == list(labels)


def test_smooth_wraps_around_for_a_short_run_at_the_start():
    labels = np.array(["sea"] * 2 + ["CN"] * 10 + ["LA"] * 10, dtype=object)
    smoothed = border._smooth(line_coords(len(labels)), labels)
    assert list(smoothed) == ["LA"] * 2 + ["CN"] * 10 + ["LA"] * 10


def test_smooth_without_long_runs_takes_the_longest_label():
    labels = np.array(["CN", "LA", "LA", "CN", "LA"], dtype=object)  # all runs < 3 km
    smoothed = border._smooth(line_coords(len(labels)), labels)
    assert list(smoothed) == ["LA"] * 5


@pytest.mark.parametrize(("km", "band"), [
    (0.0, "0"), (0.001, "<=10"), (10.0, "<=10"), (10.01, "<=25"), (25.0, "<=25"),
    (25.5, "<=50"), (50.0, "<=50"), (50.01, ">50"), (400.0, ">50"),
])
def test_border_band(km, band):
    assert border.border_band(km) == band


# --- lineage.split_polygon ---------------------------------------------------------------


SQUARE = shapely.box(105.0, 21.0, 105.1, 21.1)


def targets(*rows):
    return pd.DataFrame(rows, columns=["code", "new_lat", "new_lon"])


def assert_tiles(parts, polygon):
    pieces = list(parts.values())
    union = shapely.union_all(pieces)
    assert shapely.symmetric_difference(union, polygon).area < 1e-6 * polygon.area
    overlap = sum(p.area for p in pieces) - union.area
    assert overlap < 1e-6 * polygon.area
    for piece in pieces:
        assert piece.is_valid and piece.geom_type in ("Polygon", "MultiPolygon")


@pytest.mark.parametrize("wanted", [{"W": 30.0, "E": 10.0}, {"W": 10.0, "E": 30.0},
                                    {"W": 20.0, "E": 20.0}])
def test_split_shares_follow_the_wanted_areas(wanted):
    two = targets(("W", 21.05, 105.02), ("E", 21.05, 105.08))
    parts = lineage.split_polygon(SQUARE, two, {}, wanted)
    assert set(parts) == {"W", "E"}
    assert_tiles(parts, SQUARE)
    total = sum(wanted.values())
    for code, share in wanted.items():
        assert parts[code].area / SQUARE.area == pytest.approx(share / total, abs=0.05), code
    # Each part lies on its own seed's side.
    assert parts["W"].centroid.x < parts["E"].centroid.x


def test_split_without_wanted_areas_is_nearest_seed():
    two = targets(("W", 21.05, 105.02), ("E", 21.05, 105.08))
    parts = lineage.split_polygon(SQUARE, two, {})
    assert_tiles(parts, SQUARE)
    assert parts["W"].area / SQUARE.area == pytest.approx(0.5, abs=0.03)
    assert parts["W"].contains(shapely.Point(105.02, 21.05))
    assert parts["E"].contains(shapely.Point(105.08, 21.05))


def test_split_grows_from_what_a_unit_already_holds():
    # "N" holds the land just north of the square; "S" has only a centroid far south-east.
    held = {"N": shapely.box(105.0, 21.1, 105.1, 21.2)}
    two = targets(("N", 25.0, 110.0), ("S", 21.01, 105.05))
    parts = lineage.split_polygon(SQUARE, two, held)
    assert_tiles(parts, SQUARE)
    assert parts["N"].centroid.y > parts["S"].centroid.y


def test_split_with_one_target_keeps_the_polygon_whole():
    parts = lineage.split_polygon(SQUARE, targets(("A", 21.05, 105.05)), {})
    assert list(parts) == ["A"] and parts["A"].equals(SQUARE)
