"""Coast and sea on small geometries built here: jumps across the sea, coast taken for
border, implausible reference areas. The right answer is known for each."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import shapely.affinity

from geoservice.boundaries import assemble, border, lineage, polygons, quality
from geoservice.geodesy import area_km2, length_km

MAINLAND = shapely.box(106.00, 20.00, 106.10, 20.10)
ISLAND_NORTH = shapely.box(106.20, 20.10, 106.21, 20.11)  # about 1 km a side
ISLAND_SOUTH = shapely.box(106.20, 19.99, 106.21, 20.00)
BAY_MOUTH = (106.10, 20.05)  # where the ring leaves the mainland, and comes back


def island_commune_ring() -> shapely.Polygon:
    """One ring, as the demo source draws an island commune: round the mainland, a jump
    across the bay to one island, round it, a jump to the next, round it, a jump back.

    The three jumps (10-11 km each) enclose a triangle of sea of about 58 km².
    """
    return shapely.Polygon([
        (106.00, 20.00), (106.10, 20.00), BAY_MOUTH,
        (106.20, 20.10), (106.21, 20.10), (106.21, 20.11), (106.20, 20.11), (106.20, 20.10),
        (106.20, 20.00), (106.20, 19.99), (106.21, 19.99), (106.21, 20.00), (106.20, 20.00),
        BAY_MOUTH, (106.10, 20.10), (106.00, 20.10), (106.00, 20.00),
    ])


def arr(*geoms):
    return np.array(geoms, dtype=object)


def fixed(land):
    source = arr(island_commune_ring())
    out, removed = polygons.drop_sea_jumps(source, polygons.clean(source), land)
    return polygons.clean(source)[0], out[0], removed


def test_the_ring_as_drawn_crosses_the_sea():
    land = shapely.union_all([MAINLAND, ISLAND_NORTH, ISLAND_SOUTH])
    cleaned = polygons.clean(arr(island_commune_ring()))
    sea = polygons.sea_km2(cleaned, land)[0]
    assert sea == pytest.approx(58, rel=0.05), "the triangle is there before the fix"


@pytest.mark.parametrize("islands_in_land", [True, False], ids=["land-has-islands",
                                                                 "land-lacks-islands"])
def test_jumps_across_the_sea_go_and_the_islands_stay(islands_in_land):
    land = shapely.union_all([MAINLAND, ISLAND_NORTH, ISLAND_SOUTH] if islands_in_land
                             else [MAINLAND])
    before, after, removed = fixed(land)
    assert after.is_valid and after.geom_type == "MultiPolygon"
    parts = sorted(shapely.get_parts(after), key=lambda p: -p.area)
    assert len(parts) == 3, "mainland and both islands, each its own part"
    assert parts[0].equals_exact(MAINLAND.normalize(), 1e-9) or parts[0].equals(MAINLAND)
    for island in (ISLAND_NORTH, ISLAND_SOUTH):
        kept = [p for p in parts[1:] if p.intersects(island.centroid)]
        assert len(kept) == 1 and shapely.symmetric_difference(kept[0], island).area < 1e-12
    # Nothing of it lies in the sea between them.
    sea = polygons.sea_km2(arr(after), shapely.union_all(
        [MAINLAND, ISLAND_NORTH, ISLAND_SOUTH]))[0]
    assert sea < 1e-3
    assert removed == pytest.approx(
        float(area_km2(before) - area_km2(after)), rel=0.02)
    assert not after.intersects(shapely.Point(106.17, 20.05)), "the bay is sea again"


def test_a_commune_with_long_straight_edges_on_land_is_left_alone():
    # A delta commune bounded by straight canals 10 km long: long edges, but on land.
    commune = shapely.box(105.0, 10.0, 105.1, 10.1)
    land = shapely.box(104.0, 9.0, 106.0, 11.0)
    source = arr(commune)
    out, removed = polygons.drop_sea_jumps(source, polygons.clean(source), land)
    assert removed == 0 and out[0].equals(commune)


def test_a_single_ring_reaching_into_the_sea_is_kept_whole():
    # A river island drawn as one simple ring that the coarse land polygon calls sea:
    # nothing jumps anywhere, so nothing is removed.
    island = shapely.Polygon([(105.0, 10.0), (105.1, 10.0), (105.1, 10.03), (105.0, 10.03)])
    land = shapely.box(104.0, 10.05, 106.0, 11.0)
    source = arr(island)
    out, removed = polygons.drop_sea_jumps(source, polygons.clean(source), land)
    assert removed == 0 and out[0].equals(island)


def test_sea_km2_measures_the_part_outside_land():
    land = shapely.box(106.0, 20.0, 106.05, 20.1)
    half = shapely.box(106.0, 20.0, 106.1, 20.1)
    got = polygons.sea_km2(arr(half, None, shapely.box(106.0, 20.0, 106.01, 20.01)), land)
    assert got[0] == pytest.approx(float(area_km2(half)) / 2, rel=1e-3)
    assert got[1] == 0 and got[2] == 0


# --- border: the coast is not the border ---------------------------------------------------

COMMUNE = shapely.box(106.0, 21.0, 106.3, 21.3)
VIETNAM_LAND = shapely.box(105.5, 21.0, 106.3, 21.3)  # coast to the south and the east
CHINA = shapely.box(105.5, 21.3, 106.6, 21.8)
# Natural Earth draws a 1 km strip of the neighbour along our east coast (as at Móng Cái).
STRIP = shapely.box(106.3, 21.0, 106.31, 21.3)


def border_setup(outline):
    china = shapely.union_all([CHINA, STRIP])
    countries = gpd.GeoDataFrame({"id": ["156", "704"], "name": ["China", "Vietnam"]},
                                 geometry=[china, VIETNAM_LAND], crs="EPSG:4326")
    land = gpd.GeoDataFrame(geometry=[shapely.union_all([china, VIETNAM_LAND])],
                            crs="EPSG:4326")
    labelled = border.label_outline(outline, countries, land)
    lines = border.border_lines(labelled)
    frame = gpd.GeoDataFrame({"code": ["X"]}, geometry=[COMMUNE], crs="EPSG:4326")
    return labelled, lines, border.commune_border_metrics(frame, lines)


@pytest.mark.parametrize("orientation", ["ccw", "cw"])
def test_border_length_counts_only_the_edge_shared_with_the_neighbours_land(orientation):
    outline = COMMUNE if orientation == "ccw" else COMMUNE.reverse()
    assert bool(shapely.is_ccw(outline.exterior)) == (orientation == "ccw")
    labelled, lines, metrics = border_setup(outline)
    north_km = float(length_km(shapely.LineString([(106.0, 21.3), (106.3, 21.3)])))
    east_km = float(length_km(shapely.LineString([(106.3, 21.0), (106.3, 21.3)])))
    by_label = labelled.groupby("label")["length_km"].sum()
    assert by_label["CN"] == pytest.approx(north_km, abs=0.5)
    assert by_label["sea"] == pytest.approx(east_km + north_km, abs=0.5), "east and south"
    assert metrics.at[0, "border_neighbors"] == ["CN"]
    assert metrics.at[0, "border_length_km"]["CN"] == pytest.approx(north_km, abs=0.5)
    china_line = lines.set_index("neighbor").at["CN", "geometry"]
    assert china_line.distance(shapely.Point(106.3, 21.15)) > 0.1, "the east coast is sea"


def test_a_border_river_is_still_border():
    # The neighbour lies just across a narrow river: land beyond, no sea within 5 km.
    outline = shapely.box(106.0, 21.0, 106.3, 21.29)  # 1 km short of China
    countries = gpd.GeoDataFrame({"id": ["156"], "name": ["China"]}, geometry=[CHINA],
                                 crs="EPSG:4326")
    land = gpd.GeoDataFrame(geometry=[shapely.box(105.0, 20.5, 107.0, 22.0)],
                            crs="EPSG:4326")
    labelled = border.label_outline(outline, countries, land)
    north_km = float(length_km(shapely.LineString([(106.0, 21.29), (106.3, 21.29)])))
    assert labelled.groupby("label")["length_km"].sum()["CN"] == pytest.approx(
        north_km, abs=0.5)


def test_a_crack_in_the_outline_is_not_border():
    # The source's jump left a 10 m slit 20 km deep into the outline, China 2 km north:
    # its sides face each other, not China.
    outline = shapely.Polygon([
        (106.0, 21.0), (106.3, 21.0), (106.3, 21.28), (106.2001, 21.28), (106.2001, 21.1),
        (106.2, 21.1), (106.2, 21.28), (106.0, 21.28),
    ])
    countries = gpd.GeoDataFrame({"id": ["156"], "name": ["China"]}, geometry=[CHINA],
                                 crs="EPSG:4326")
    land = gpd.GeoDataFrame(geometry=[shapely.box(105.0, 20.5, 107.0, 22.0)],
                            crs="EPSG:4326")
    labelled = border.label_outline(outline, countries, land)
    north_km = float(length_km(shapely.LineString([(106.0, 21.28), (106.3, 21.28)])))
    china_km = labelled.groupby("label")["length_km"].sum()["CN"]
    assert china_km == pytest.approx(north_km, abs=0.5), "the slit's 40 km are not border"


# --- reference areas ------------------------------------------------------------------------

def square_km(x0, y0, side_deg):
    return shapely.box(x0, y0, x0 + side_deg, y0 + side_deg)


@pytest.fixture
def reference_case():
    old = pd.Series({
        "a": square_km(106.00, 20.0, 0.03),  # ~10 km², goes whole to A
        "b": square_km(106.05, 20.0, 0.03),  # goes whole to B
        "c": square_km(106.10, 20.0, 0.03),  # goes whole to C
        "s": shapely.box(106.20, 20.0, 106.30, 20.1),  # split between A and B
    })
    table = pd.DataFrame([("a", "A", "whole"), ("b", "B", "whole"), ("c", "C", "whole"),
                          ("s", "A", "split"), ("s", "B", "split")],
                         columns=["legacy_code", "code", "relation"])
    km2 = dict(zip(old.index, area_km2(old.to_numpy())))
    units = pd.DataFrame({
        "code": ["A", "B", "C", "D"],
        # A: 25× what it can receive (as Xã Lê Lợi's 288 km² for an 11.5 km² polygon);
        # B: plausible; C: a fifth of its whole unit; D: no reference at all.
        "official_area_km2": [25 * (km2["a"] + km2["s"]), km2["b"] + km2["s"] / 2,
                              km2["c"] / 5, None],
    })
    return units, table, old, km2


def test_implausible_references_are_flagged_with_their_figures(reference_case):
    units, table, old, km2 = reference_case
    checks = assemble.reference_checks(units, table, old)
    assert checks.loc["A", "flag"].startswith("over 2×")
    assert checks.loc["A", "source_max_km2"] == pytest.approx(km2["a"] + km2["s"], rel=1e-3)
    assert checks.loc["A", "source_min_km2"] == pytest.approx(km2["a"], rel=1e-3)
    assert checks.loc["B", "flag"] is None
    assert checks.loc["C", "flag"].startswith("under 1/2")
    assert checks.loc["D", "flag"] is None
    usable = assemble.usable_references(checks)
    assert np.isnan(usable["A"]) and np.isnan(usable["C"]) and np.isnan(usable["D"])
    assert usable["B"] == units.set_index("code").at["B", "official_area_km2"]


def test_a_flagged_reference_does_not_shape_a_split(reference_case):
    units, table, old, _km2 = reference_case
    table = table.assign(is_default=True, new_lat=20.05, new_lon=[106.0, 106.05, 106.1,
                                                                  106.21, 106.29])
    official = units.set_index("code")["official_area_km2"]
    steered = lineage.assign_to_2025(old, table, official)
    checked = lineage.assign_to_2025(
        old, table, assemble.usable_references(assemble.reference_checks(units, table, old)))

    def share_of_a(pieces):
        split = pieces[pieces["relation"] == "split"].set_index("code")["geometry"]
        return split["A"].area / old["s"].area if "A" in split.index else 0.0

    # With the implausible 25× reference, A grabs nearly all of the split unit; without it
    # only B's plausible reference wants a share, and A's claim counts for nothing.
    assert share_of_a(steered) > 0.9
    assert share_of_a(checked) < 0.1


def test_a_flag_is_lifted_when_the_polygon_built_without_it_agrees(reference_case):
    units, table, old, km2 = reference_case
    checks = assemble.reference_checks(units, table, old)
    # A ends up with orphans the bounds could not see, close to its reference; C's polygon
    # stays five times its reference.
    reference_a = checks.at["A", "official_area_km2"]
    base = shapely.box(106.0, 20.0, 106.5, 20.5)
    factor = float(np.sqrt(reference_a / area_km2(base)))
    grown = shapely.affinity.scale(base, factor, factor, origin=(106.0, 20.0))
    assert area_km2(grown) == pytest.approx(reference_a, rel=0.1)
    communes = gpd.GeoDataFrame({"code": ["A", "B", "C"]},
                                geometry=[grown, old["b"], old["c"]], crs="EPSG:4326")
    confirmed = assemble._confirmed_by_polygon(checks, communes)
    assert confirmed.at["A", "flag"] is None, "the polygon agrees with the reference"
    assert confirmed.at["C", "flag"].startswith("under 1/2")
    assert confirmed["steered"].to_dict() == {"A": False, "B": True, "C": False, "D": False}
    assert confirmed.at["B", "polygon_km2"] == pytest.approx(km2["b"], rel=1e-3)


def test_the_quality_report_lists_flagged_references_and_provinces(reference_case):
    units, table, old, _km2 = reference_case
    checks = assemble.reference_checks(units, table, old)
    geoms = [old["a"], old["b"], old["c"], None]
    communes = gpd.GeoDataFrame({
        "code": ["A", "B", "C", "D"], "name": ["Lê Lợi", "Bình", "Cồn", "Đông"],
        "province_code": ["33"] * 4, "province_name": ["Tỉnh Hưng Yên"] * 4,
        "area_km2": [float(area_km2(g)) if g is not None else None for g in geoms],
    }, geometry=geoms, crs="EPSG:4326")
    checks["steered"] = checks["flag"].isna() & checks["official_area_km2"].notna()
    section = quality.reference_section(communes, checks)
    assert section["units_flagged"] == 2
    assert [u["code"] for u in section["units"]] == ["A", "C"]
    assert section["units"][0]["name"] == "Lê Lợi"
    (province,) = section["provinces"]
    reference_sum = float(units["official_area_km2"].sum())
    assert province["reference_sum_km2"] == pytest.approx(reference_sum, abs=0.1)
    assert province["flagged"] is True and section["provinces_flagged"] == ["33"]
    assert province["implausible_units"] == 2
    text = quality.render_text({**minimal_report(), "reference_areas": section})
    assert "Lê Lợi" in text and "province 33 Tỉnh Hưng Yên" in text


def test_the_quality_report_gives_each_coastal_units_sea_share():
    communes = pd.DataFrame({"code": ["A", "B"], "name": ["Vân Đồn", "Nội"],
                             "province_name": ["Tỉnh Quảng Ninh"] * 2,
                             "area_km2": [100.0, 50.0]})
    section = quality.coast_section(communes, [25.0, 0.0], {"sea_jumps_removed_km2": 3.5})
    assert section["coastal_units"] == 1 and section["sea_km2_total"] == 25.0
    assert section["units"] == [{"code": "A", "name": "Vân Đồn",
                                 "province": "Tỉnh Quảng Ninh", "area_km2": 100.0,
                                 "sea_km2": 25.0, "sea_share": 0.25}]
    text = quality.render_text({**minimal_report(), "coast": section})
    assert "A Vân Đồn (Tỉnh Quảng Ninh): 25.00 of 100.00 km² in the sea (25.0%)" in text


def minimal_report():
    return {
        "units_present": 1, "units_total": 1, "units_with_polygon": 1,
        "units_without_polygon_detail": [], "islands": [],
        "matching": {"source_polygons": 1, "matched_by_name": 1, "matched_by_location": 0,
                     "orphan_polygons": 0, "gap_polygons": 0, "gap_area_km2": 0,
                     "overlap_removed_km2": 0},
        "units_by_match": {}, "area_ratio": {
            "median": 1, "share_within_10pct": 1, "units_with_official_area": 1,
            "quantiles": {}, "independent_units": 1, "share_within_10pct_independent": 1,
            "share_within_10pct_by_match": {}, "worst_20": []},
        "border_length_km": {}, "border_communes": {}, "topology": {}, "build_seconds": 0,
        "targets": {},
    }
