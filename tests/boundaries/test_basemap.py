"""The basemap layers `countries` and `sea` of the two-province fixture, and how they are served.

Geometry is checked against what the build started from (the communes, Natural Earth as
read from world-atlas) with shapely; areas are measured in the equal-area projection.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geoservice.boundaries import basemap, border, sources
from geoservice.boundaries.build import read_geopackage
from geoservice.collections import COLLECTIONS
from geoservice.errors import DataNotBuilt
from geoservice.geodesy import area_km2
from tests.conftest import NODE_MODULES
from tests.web.helpers import geometry, get

GEOJSON = "application/geo+json"
TOLERANCE_KM2 = 0.01  # overlaps and gaps below this are overlay noise
# Natural Earth's land and countries files draw the coast a little differently: in the
# region around Vietnam they disagree by 0.16 km² in all, in slivers of at most 0.002 km².
NE_FILES_KM2 = 0.5
AROUND_VIETNAM = (97.0, 5.0, 118.0, 26.0)
FAR_NE_FILES_KM2 = 80.0
EAST_SEA = shapely.Point(110.0, 15.0)  # Biển Đông off Quảng Ngãi (108.5° E is still land)
GULF_OF_THAILAND = shapely.Point(103.0, 10.0)
HA_NOI = shapely.Point(105.85, 21.03)  # outside the fixture's two provinces
CON_DAO = shapely.Point(106.61, 8.70)  # an island the demo communes lack


@pytest.fixture(scope="module")
def countries(built):
    return built.layers["countries"].set_index("iso_a2", drop=False)


@pytest.fixture(scope="module")
def sea(built):
    (geom,) = built.layers["sea"].geometry
    return geom


@pytest.fixture(scope="module")
def communes(built):
    return shapely.union_all(built.layers["communes"].geometry.to_numpy())


@pytest.fixture(scope="module")
def natural_earth():
    paths = sources.SourcePaths.locate(NODE_MODULES)
    return sources.read_countries(paths.countries), sources.read_land(paths.land)


def region_clip(geometry):
    return shapely.make_valid(shapely.clip_by_rect(geometry, *basemap.REGION))


# --- the layers in the GeoPackage --------------------------------------------------------


def test_layers_are_written_valid_and_inside_the_region(built):
    assert {"countries", "sea"} <= set(gpd.list_layers(built.gpkg)["name"])
    west, south, east, north = basemap.REGION
    for layer in ("countries", "sea"):
        frame = built.layers[layer]
        assert len(frame) > 0
        for geom in frame.geometry:
            assert geom.geom_type == "MultiPolygon", layer
            assert geom.is_valid and not geom.is_empty, layer
        minx, miny, maxx, maxy = frame.total_bounds
        assert west <= minx and south <= miny and maxx <= east and maxy <= north


def test_an_old_geopackage_asks_for_a_rebuild(tmp_path):
    old = tmp_path / "old.gpkg"
    gpd.GeoDataFrame({"code": ["1"]}, geometry=[shapely.box(0, 0, 1, 1)],
                     crs="EPSG:4326").to_file(old, layer="communes", driver="GPKG")
    with pytest.raises(DataNotBuilt, match="countries.*build-data"):
        read_geopackage(Path(old))


# --- countries ---------------------------------------------------------------------------


def test_neighbours_and_vietnam_are_there_with_vietnamese_names(countries):
    assert countries["iso_a2"].is_unique
    expected = {"VN": ("Việt Nam", "Vietnam"), "CN": ("Trung Quốc", "China"),
                "LA": ("Lào", "Laos"), "KH": ("Campuchia", "Cambodia"),
                "TH": ("Thái Lan", "Thailand"), "MM": ("Myanmar", "Myanmar")}
    for code, names in expected.items():
        assert (countries.at[code, "name"], countries.at[code, "name_en"]) == names
    for value in (*countries["name"], *countries["name_en"]):
        assert value and unicodedata.is_normalized("NFC", value)


def test_every_country_of_the_region_has_a_vietnamese_name(natural_earth):
    frame, _land = natural_earth
    inside = frame[frame.intersects(shapely.box(*basemap.REGION))]
    coded = inside[inside["id"].notna()]
    assert set(coded["id"]) <= set(basemap.COUNTRIES), set(coded["id"]) - set(basemap.COUNTRIES)
    # What Natural Earth leaves without a code here is the Trường Sa archipelago, and
    # Scarborough Reef, which gets a Vietnamese name of its own.
    boxes = shapely.union_all([shapely.box(*b) for b in basemap.ARCHIPELAGOS.values()])
    uncoded = inside[inside["id"].isna()]
    for name, geom in zip(uncoded["name"], uncoded.geometry):
        code = basemap.country_code(None, name)
        assert region_clip(geom).within(boxes) or code in basemap.NAMES, name


def test_codes_for_countries_outside_the_table():
    assert basemap.country_code("156", "China") == "CN"
    assert basemap.country_code("608", "Philippines") == "PH"
    assert basemap.country_code("630", "Puerto Rico") == "630"
    assert basemap.country_code(None, "Scarborough Reef") == "SCARBOROUGH-REEF"
    assert basemap.country_code(float("nan"), "Spratly Is.") == "SPRATLY-IS"


def test_vietnam_is_the_communes_completed_by_natural_earth(countries, communes):
    vietnam = countries.at["VN", "geometry"]
    assert float(area_km2(shapely.difference(communes, vietnam))) < TOLERANCE_KM2
    # A partial build: the rest of the country, and islands the communes lack, from NE.
    assert vietnam.contains(HA_NOI) and vietnam.contains(CON_DAO)
    for code, geom in countries["geometry"].items():
        if code != "VN":
            assert float(area_km2(shapely.intersection(geom, communes))) < TOLERANCE_KM2, code


def test_the_archipelagos_are_vietnamese(countries, natural_earth):
    frame, _land = natural_earth
    vietnam = countries.at["VN", "geometry"]
    for name, bounds in basemap.ARCHIPELAGOS.items():
        box = shapely.box(*bounds)
        ne_land = shapely.union_all(region_clip(frame.geometry[frame.intersects(box)]
                                                .to_numpy()))
        islands = shapely.intersection(ne_land, box)
        assert float(area_km2(islands)) > 1, name
        assert float(area_km2(shapely.difference(islands, vietnam))) < TOLERANCE_KM2, name
        others = countries.drop(index="VN").geometry
        assert not others.intersects(box).any(), (name, list(others[others.intersects(box)]
                                                              .index))


def test_neighbours_meet_the_communes_along_the_border(built, countries):
    # Not all of it in a partial build: near an unbuilt province the strip between the
    # communes and Natural Earth's border runs on into that province and stays Vietnam's
    # (see test_strips_go_to_what_the_outline_faces for the exact rule).
    for neighbour, line in zip(built.layers["border_lines"]["neighbor"],
                               built.layers["border_lines"].geometry):
        edge = countries.at[neighbour, "geometry"].boundary
        met = shapely.intersection(line, edge.buffer(1e-5))
        assert shapely.length(met) > 0.7 * shapely.length(line), neighbour


def test_strips_go_to_what_the_outline_faces():
    """A made-up Vietnam 2 km short of Natural Earth's on every side: east China, else sea."""
    ne_vietnam = shapely.box(104.0, 15.0, 106.0, 17.0)
    ne_island = shapely.box(104.5, 14.0, 104.6, 14.1)  # an island the communes lack
    paracel = shapely.box(112.3, 16.8, 112.35, 16.85)  # Natural Earth: China's
    spratly = shapely.box(114.3, 10.0, 114.35, 10.05)  # Natural Earth: no country
    natural_earth = gpd.GeoDataFrame(
        {"id": ["704", "156", "156", None], "name": ["Vietnam", "China", "China", "Spratly Is."]},
        geometry=[shapely.union(ne_vietnam, ne_island), shapely.box(106.0, 15.0, 108.0, 17.0),
                  paracel, spratly], crs="EPSG:4326")
    land = gpd.GeoDataFrame(geometry=[shapely.union_all(natural_earth.geometry.to_numpy())],
                            crs="EPSG:4326")
    national = shapely.box(104.02, 15.02, 105.98, 16.98)
    outline = border.label_outline(national, natural_earth, land)
    assert set(outline["label"]) == {"CN", "sea"}

    made = basemap.build_basemap(national, outline, natural_earth)
    shapes = made.countries.set_index("iso_a2").geometry
    assert sorted(shapes.index) == ["CN", "VN"]
    vietnam = shapely.union_all([national, ne_island, paracel, spratly])
    assert shapely.symmetric_difference(shapes["VN"], vietnam).area < 1e-9
    assert shapes["CN"].contains(shapely.Point(105.99, 16.0))  # the eastern strip
    assert shapes["CN"].touches(national)
    (sea,) = made.sea.geometry
    for x, y in ((104.01, 16.0), (105.0, 16.99), (105.0, 15.01), (110.0, 15.0)):
        assert sea.contains(shapely.Point(x, y)), (x, y)
    assert shapely.intersection(sea, vietnam).area < 1e-9
    region = shapely.box(*basemap.REGION)
    assert abs(sea.area + shapely.area(shapes.to_numpy()).sum() - region.area) < 1e-9


# --- sea ---------------------------------------------------------------------------------


def test_sea_is_one_feature_named_bien(built, sea):
    frame = built.layers["sea"]
    assert frame[["id", "name", "name_en"]].to_dict("records") == [
        {"id": "sea", "name": "Biển", "name_en": "Sea"}]
    assert unicodedata.is_normalized("NFC", frame["name"].iat[0])
    assert sea.contains(EAST_SEA) and sea.contains(GULF_OF_THAILAND)
    assert not sea.contains(HA_NOI) and not sea.contains(CON_DAO)


def test_sea_leaves_out_all_land(sea, communes, natural_earth):
    frame, land = natural_earth
    assert float(area_km2(shapely.intersection(sea, communes))) < TOLERANCE_KM2
    # Natural Earth's Vietnam is left out: its coastal strips follow the communes instead.
    vietnam = frame.geometry[frame["id"] == "704"].iat[0]
    other_land = shapely.difference(shapely.union_all(region_clip(land.geometry.to_numpy())),
                                    region_clip(vietnam))
    wet = shapely.intersection(sea, other_land)
    assert float(area_km2(shapely.clip_by_rect(wet, *AROUND_VIETNAM))) < NE_FILES_KM2
    # Farther out the land file has islands the countries file lacks (two Philippine islets
    # of 35 and 32 km², the Senkaku islets): drawn as sea, as the countries file has it.
    assert float(area_km2(wet)) < FAR_NE_FILES_KM2


def test_countries_and_sea_tile_the_region(countries, sea):
    land = shapely.union_all(countries.geometry.to_numpy())
    assert float(area_km2(shapely.intersection(sea, land))) < TOLERANCE_KM2
    region = shapely.box(*basemap.REGION)
    assert float(area_km2(shapely.difference(region, shapely.union(sea, land)))) < TOLERANCE_KM2
    geoms = countries.geometry.to_numpy()
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    pairs = left < right
    overlap = area_km2(shapely.intersection(geoms[left[pairs]], geoms[right[pairs]]))
    assert float(np.sum(overlap)) < TOLERANCE_KM2


# --- served by the features API ----------------------------------------------------------


def test_countries_are_served_as_geojson(client, countries):
    body = get(client, "/collections/countries/items?limit=100", content_type=GEOJSON)
    assert body["type"] == "FeatureCollection"
    assert body["numberMatched"] == len(countries)
    assert [f["id"] for f in body["features"]] == sorted(countries["iso_a2"])
    for feature in body["features"]:
        assert set(feature["properties"]) == set(COLLECTIONS["countries"].fields)
        assert feature["properties"]["iso_a2"] == feature["id"]
        assert geometry(feature).geom_type == "MultiPolygon"
    china = get(client, "/collections/countries/items/CN", content_type=GEOJSON)
    assert (china["properties"]["name"], china["properties"]["name_en"]) == (
        "Trung Quốc", "China")
    assert geometry(china).equals_exact(countries.at["CN", "geometry"], 1e-6)


def test_sea_is_served_as_geojson(client, sea):
    body = get(client, "/collections/sea/items", content_type=GEOJSON)
    (feature,) = body["features"]
    assert feature["id"] == "sea"
    assert feature["properties"] == {"name": "Biển", "name_en": "Sea"}
    served = geometry(feature)
    assert served.contains(EAST_SEA)
    assert float(area_km2(shapely.symmetric_difference(served, sea))) < TOLERANCE_KM2
