"""The two-province fixture (08 Tuyên Quang, 11 Điện Biên) built with the real pipeline.

Checks read the GeoPackage as written (what the service loads) and recompute what they can
independently with shapely and the equal-area projection.
"""

from __future__ import annotations

import unicodedata

import numpy as np
import pytest
import shapely

from geoservice.boundaries import border, sources
from geoservice.boundaries.build import OVERLAP_TOLERANCE_KM2, topology
from geoservice.geodesy import area_km2, length_km
from tests.conftest import FIXTURE_PROVINCES, NODE_MODULES

POLYGONAL = {"Polygon", "MultiPolygon"}


@pytest.fixture(scope="module")
def communes(built):
    return built.layers["communes"]


@pytest.fixture(scope="module")
def provinces(built):
    return built.layers["provinces"]


@pytest.fixture(scope="module")
def legacy(built):
    return built.layers["legacy_communes"]


@pytest.fixture(scope="module")
def lines(built):
    return built.layers["border_lines"]


@pytest.fixture(scope="module")
def lineage(built):
    return built.layers["lineage"]


@pytest.fixture(scope="module")
def units_2025():
    paths = sources.SourcePaths.locate(NODE_MODULES)
    units = sources.read_units_2025(paths.admin_db)
    return units[units["province_code"].isin(FIXTURE_PROVINCES)]


def by_code(frame):
    return frame.set_index("code")


# --- the layers themselves ---------------------------------------------------------------


def test_gpkg_has_every_layer_with_content(built):
    layers = built.layers
    assert set(layers) == {"communes", "provinces", "legacy_communes", "border_lines",
                           "outline", "lineage", "countries", "sea"}
    assert len(layers["provinces"]) == 2
    assert sorted(layers["provinces"]["code"]) == FIXTURE_PROVINCES
    assert len(layers["communes"]) > 150
    assert len(layers["legacy_communes"]) > len(layers["communes"])
    assert len(layers["lineage"]) >= len(layers["legacy_communes"])


@pytest.mark.parametrize("layer", ["communes", "provinces", "legacy_communes"])
def test_every_geometry_is_a_valid_polygon(built, layer):
    frame = built.layers[layer]
    geoms = frame.geometry[frame.geometry.notna()].to_numpy()
    assert len(geoms) > 0
    if layer != "legacy_communes":
        assert len(geoms) == len(frame), f"{layer}: features without geometry"
    types = {g.geom_type for g in geoms}
    assert types <= POLYGONAL, types
    invalid = [str(c) for c, g in zip(frame["code"], frame.geometry) if g is not None
               and not g.is_valid]
    assert not invalid, f"{layer}: invalid geometries {invalid[:10]}"
    assert not any(g.is_empty for g in geoms)
    assert (area_km2(geoms) > 0).all()


def test_legacy_units_mostly_have_geometry(legacy):
    assert legacy.geometry.notna().mean() > 0.98


def test_border_lines_are_valid_lines(lines):
    assert set(lines["neighbor"]) == {"CN", "LA"}
    for geom in lines.geometry:
        assert geom.geom_type == "MultiLineString"
        assert geom.is_valid and not geom.is_empty


@pytest.mark.parametrize(("layer", "key"), [("communes", "code"), ("provinces", "code"),
                                            ("legacy_communes", "code"),
                                            ("border_lines", "neighbor")])
def test_codes_are_unique(built, layer, key):
    values = built.layers[layer][key]
    duplicated = values[values.duplicated()].tolist()
    assert not duplicated
    assert values.notna().all()


def test_commune_codes_have_five_digits_and_belong_to_the_fixture(communes):
    assert communes["code"].str.fullmatch(r"\d{5}").all()
    assert set(communes["province_code"]) == set(FIXTURE_PROVINCES)


def test_every_2025_commune_has_a_polygon_or_is_reported_missing(built, communes, units_2025):
    expected = set(units_2025["code"])
    with_polygon = set(communes["code"])
    missing = set(built.quality["units_without_polygon"])
    assert with_polygon <= expected, sorted(with_polygon - expected)
    assert not (with_polygon & missing)
    assert with_polygon | missing == expected, sorted(expected - with_polygon - missing)
    assert built.quality["units_total"] == len(expected)
    assert built.quality["units_with_polygon"] == len(with_polygon)
    # The fixture provinces have no island communes: all of them get a polygon.
    assert not missing


def test_names_are_nfc(built):
    checked = 0
    for layer, columns in (("communes", ("name", "full_name", "province_name")),
                           ("provinces", ("name", "full_name")),
                           ("legacy_communes", ("name", "full_name", "district_name",
                                                "province_name")),
                           ("border_lines", ("name",))):
        frame = built.layers[layer]
        for column in columns:
            for value in frame[column]:
                assert isinstance(value, str) and value, (layer, column, value)
                assert unicodedata.is_normalized("NFC", value), (layer, column, value)
                checked += 1
    assert checked > 1000


def test_ascii_names_are_ascii_folds_of_the_names(communes, provinces):
    for frame in (communes, provinces):
        assert frame["name_ascii"].map(str.isascii).all()
    lung_cu = by_code(communes).loc["00715"]
    assert (lung_cu["name"], lung_cu["full_name"], lung_cu["name_ascii"]) == (
        "Lũng Cú", "Xã Lũng Cú", "Lung Cu")


# --- topology ----------------------------------------------------------------------------


def test_overlaps_between_communes_within_tolerance(communes):
    geoms = communes.geometry.to_numpy()
    # Independently of build.topology: every pair of communes, intersection areas summed.
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    pairs = left < right
    assert pairs.sum() > len(geoms), "neighbours should touch"
    overlap = float(area_km2(shapely.intersection(geoms[left[pairs]], geoms[right[pairs]]))
                    .sum())
    assert overlap <= OVERLAP_TOLERANCE_KM2
    # And as the sum of areas less the area of the union.
    union = shapely.union_all(geoms)
    assert abs(float(area_km2(geoms).sum()) - float(area_km2(union))) <= OVERLAP_TOLERANCE_KM2


def test_holes_between_communes_within_tolerance(communes):
    union = shapely.union_all(communes.geometry.to_numpy())
    holes = [shapely.Polygon(r) for p in shapely.get_parts(union) for r in p.interiors]
    hole_km2 = float(area_km2(np.array(holes, dtype=object)).sum()) if holes else 0.0
    assert hole_km2 <= OVERLAP_TOLERANCE_KM2
    # Two provinces that do not touch, each one connected territory.
    assert len(shapely.get_parts(union)) == 2


def test_reported_topology_matches_a_recomputation(built, communes):
    reported = built.quality["topology"]
    again = topology(communes.geometry.to_numpy())
    assert reported["within_tolerance"] is True
    assert reported["tolerance_km2"] == OVERLAP_TOLERANCE_KM2
    assert again["overlap_km2"] == pytest.approx(reported["overlap_km2"], abs=1e-5)
    assert again["hole_km2"] == pytest.approx(reported["hole_km2"], abs=1e-5)


# --- border labelling --------------------------------------------------------------------


def test_lung_cu_faces_china(communes):
    lung_cu = by_code(communes).loc["00715"]
    assert lung_cu["province_code"] == "08"
    assert list(lung_cu["border_neighbors"]) == ["CN"]
    assert lung_cu["border_length_km"]["CN"] > 5
    assert lung_cu["distance_to_border_km"] == 0
    assert lung_cu["border_band"] == "0"


def test_a_dien_bien_commune_faces_laos(communes):
    facing = communes[communes["border_neighbors"].map(lambda v: "LA" in v)]
    assert len(facing) >= 5
    assert set(facing["province_code"]) == {"11"}


def test_tuyen_quang_faces_only_china(communes):
    tq = communes[communes["province_code"] == "08"]
    faced = {n for v in tq["border_neighbors"] for n in v}
    assert faced == {"CN"}
    assert sum("CN" in v for v in tq["border_neighbors"]) >= 10


def test_a_commune_at_the_tripoint_faces_china_and_laos(communes, lines):
    both = communes[communes["border_neighbors"].map(lambda v: {"CN", "LA"} <= set(v))]
    assert len(both) >= 1
    assert set(both["province_code"]) == {"11"}
    # The China and Laos lines meet, and they meet on that commune's boundary.
    cn = lines.set_index("neighbor").at["CN", "geometry"]
    la = lines.set_index("neighbor").at["LA", "geometry"]
    assert shapely.distance(cn, la) < 1e-6
    meeting = shapely.intersection(cn, la)
    assert not meeting.is_empty
    assert any(shapely.distance(g.boundary, meeting) < 1e-6 for g in both.geometry)


def test_no_cambodia_on_this_fixture(built, communes, provinces, lines):
    assert "KH" not in set(lines["neighbor"])
    assert not any("KH" in v for v in communes["border_neighbors"])
    assert not any("KH" in v for v in provinces["border_neighbors"])
    assert "KH" not in built.quality["border_length_km"]


def test_border_neighbors_agree_with_border_lengths(communes):
    for neighbours, lengths in zip(communes["border_neighbors"], communes["border_length_km"]):
        assert set(neighbours) == set(lengths)
        assert set(neighbours) <= {"CN", "LA", "KH"}
        assert all(km >= border.MIN_FACING_KM for km in lengths.values())


def test_border_communes_are_at_distance_zero(communes):
    facing = communes[communes["border_neighbors"].map(len) > 0]
    assert len(facing) >= 20
    assert (facing["distance_to_border_km"] == 0).all()
    assert (facing["border_band"] == "0").all()


def test_communes_without_neighbours_are_away_from_the_border(communes, lines):
    inland = communes[communes["border_neighbors"].map(len) == 0]
    assert len(inland) > 0
    assert (inland["distance_to_border_km"] > 0).all()
    assert (inland["border_band"] != "0").all()
    # Spot-check the distance of the farthest and the nearest inland commune independently.
    from geoservice.geodesy import to_metric

    metric_lines = to_metric(shapely.union_all(lines.geometry.to_numpy()))
    for index in (inland["distance_to_border_km"].idxmax(),
                  inland["distance_to_border_km"].idxmin()):
        geom = to_metric(inland.geometry[index])
        km = shapely.distance(geom, metric_lines) / 1e3
        assert inland.at[index, "distance_to_border_km"] == pytest.approx(km, rel=0.01, abs=0.05)


def test_a_far_commune_is_in_the_far_band(communes):
    assert (communes["border_band"] == ">50").any()
    assert communes["distance_to_border_km"].max() > 50


def test_bands_are_consistent_with_distances(communes):
    def expected(km):
        if km == 0:
            return "0"
        if km <= 10:
            return "<=10"
        if km <= 25:
            return "<=25"
        if km <= 50:
            return "<=50"
        return ">50"

    pairs = list(zip(communes["distance_to_border_km"], communes["border_band"]))
    wrong = [(km, band) for km, band in pairs if expected(km) != band]
    assert not wrong, wrong[:10]
    assert len({band for _, band in pairs}) == 5, "the fixture spans every band"


def test_border_length_per_neighbour_sums_to_the_line_length(communes, lines):
    for neighbour, line_km, geom in zip(lines["neighbor"], lines["length_km"], lines.geometry):
        assert line_km == pytest.approx(float(length_km(geom)), rel=0.001)
        total = sum(v.get(neighbour, 0.0) for v in communes["border_length_km"])
        assert total == pytest.approx(line_km, rel=0.02), neighbour
        assert line_km > 50


def test_border_lines_lie_on_the_outline_of_the_communes(communes, lines):
    outline = shapely.union_all(communes.geometry.to_numpy()).boundary
    for geom in lines.geometry:
        off = shapely.difference(geom, outline.buffer(1e-5))
        assert float(length_km(off)) < 0.01


# --- lineage -----------------------------------------------------------------------------


def test_lineage_relations_and_codes(lineage, communes, legacy):
    assert set(lineage["relation"]) == {"whole", "split"}
    assert set(lineage["code"]) <= set(communes["code"])
    assert set(lineage["legacy_code"]) <= set(legacy["code"])
    assert not lineage.duplicated(["legacy_code", "code"]).any()
    whole = lineage[lineage["relation"] == "whole"]
    assert not whole["legacy_code"].duplicated().any(), "a whole unit goes into one new unit"


def test_split_units_are_split_geometrically(lineage, legacy, communes):
    split = lineage[lineage["relation"] == "split"]
    assert split["legacy_code"].nunique() >= 3
    old = by_code(legacy)
    new = by_code(communes)
    for legacy_code, rows in split.groupby("legacy_code"):
        assert rows["code"].nunique() >= 2, legacy_code
        assert (rows["area_km2"] > 0).sum() >= 2, (legacy_code, rows["area_km2"].tolist())
        assert rows["is_default"].sum() == 1, legacy_code
        # Geometrically: the old polygon overlaps at least two of its new units.
        polygon = old.at[legacy_code, "geometry"]
        overlaps = [float(area_km2(shapely.intersection(polygon, new.at[c, "geometry"])))
                    for c in rows["code"]]
        assert sum(a > 0.01 for a in overlaps) >= 2, (legacy_code, overlaps)
        # The recorded pieces add up to (nearly) the old unit.
        assert rows["area_km2"].sum() == pytest.approx(old.at[legacy_code, "area_km2"],
                                                       rel=0.02)


def test_legacy_successors_follow_the_lineage(lineage, legacy):
    expected = lineage.groupby("legacy_code")["code"].agg(lambda s: sorted(set(s)))
    for code, successors in zip(legacy["code"], legacy["successors"]):
        assert sorted(successors) == expected.get(code, []), code
    assert legacy["successors"].map(len).min() >= 1


def test_legacy_polygons_lie_within_their_successors(legacy, communes):
    new = by_code(communes)
    strays = []
    for code, geom, successors in zip(legacy["code"], legacy.geometry, legacy["successors"]):
        if geom is None:
            continue
        held = shapely.union_all([new.at[c, "geometry"] for c in successors if c in new.index])
        outside = float(area_km2(shapely.difference(geom, held)))
        if outside > 0.01 * float(area_km2(geom)) + 0.01:
            strays.append((code, successors, round(outside, 3)))
    assert not strays


def test_legacy_pieces_tile_the_communes(legacy, communes):
    geoms = legacy.geometry[legacy.geometry.notna()].to_numpy()
    total = float(area_km2(geoms).sum())
    assert total == pytest.approx(float(area_km2(communes.geometry.to_numpy()).sum()),
                                  rel=0.001)


# --- provinces ---------------------------------------------------------------------------


def test_province_area_is_the_sum_of_its_communes(provinces, communes):
    for code, area, geom in zip(provinces["code"], provinces["area_km2"], provinces.geometry):
        members = communes[communes["province_code"] == code]
        assert area == pytest.approx(members["area_km2"].sum(), rel=0.005), code
        assert area == pytest.approx(float(area_km2(geom)), rel=0.001)
        union = shapely.union_all(members.geometry.to_numpy())
        assert float(area_km2(shapely.symmetric_difference(geom, union))) < 0.01


def test_provinces_carry_aggregated_border_properties(provinces, communes):
    table = by_code(provinces)
    assert set(table.at["11", "border_neighbors"]) == {"CN", "LA"}
    assert list(table.at["08", "border_neighbors"]) == ["CN"]
    for code, row in table.iterrows():
        members = communes[communes["province_code"] == code]
        for neighbour, km in row["border_length_km"].items():
            summed = sum(v.get(neighbour, 0.0) for v in members["border_length_km"])
            assert km == pytest.approx(summed, abs=0.01)
        assert row["distance_to_border_km"] == members["distance_to_border_km"].min() == 0
        assert row["border_band"] == "0"


def test_provinces_names_and_counts(provinces, units_2025):
    table = by_code(provinces)
    assert table.at["08", "name"] == "Tuyên Quang"
    assert table.at["11", "name"] == "Điện Biên"
    assert table.at["11", "full_name"] == "Tỉnh Điện Biên"
    assert set(table["unit_type"]) == {"tỉnh"}
    for code, count in units_2025.groupby("province_code").size().items():
        assert table.at[code, "commune_count"] == count


# --- the quality report ------------------------------------------------------------------


def test_quality_report_of_a_partial_build(built):
    quality = built.quality
    assert quality["targets"] == {}, "targets are judged on the whole country only"
    assert quality["border_length_km"].keys() == {"CN", "LA"}
    assert quality["border_communes"]["CN"] >= 10
    assert quality["border_communes"]["LA"] >= 5
    text = (built.instance / "quality.txt").read_text(encoding="utf-8")
    assert "Units with a polygon: " in text and "Land border length" in text
    ratio = quality["area_ratio"]
    assert 0.9 < ratio["median"] < 1.1
