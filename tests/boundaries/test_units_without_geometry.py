"""Every 2025 unit is present, with or without geometry (issue 16: units without a polygon).

The island rules run on small generated shapes; the rest takes the two-province fixture,
blanks one commune's geometry as a build does for a unit no source draws, and follows it
through the GeoPackage, both stores, the features API, search, tiles and the reports.
"""

from __future__ import annotations

import geopandas as gpd
import mercantile
import pandas as pd
import pytest
import shapely

from geoservice.boundaries import islands
from geoservice.boundaries.basemap import ARCHIPELAGOS
from geoservice.store import FeatureQuery, open_store
from geoservice.text import search_key
from tests.conftest import FIXTURE_PROVINCES, NODE_MODULES
from tests.web.helpers import get

GEOJSON = "application/geo+json"


def _units(rows):
    return pd.DataFrame(rows, columns=["code", "name", "province_name", "unit_type", "lon",
                                       "lat", "official_area_km2"])


def _frame(codes, geoms):
    return gpd.GeoDataFrame({"code": codes}, geometry=geoms, crs="EPSG:4326")


def test_island_geometry_takes_land_near_a_waiting_zone_or_in_its_archipelago():
    west, south, east, north = ARCHIPELAGOS["Hoàng Sa"]
    reef = shapely.box(west + 0.5, south + 0.5, west + 0.52, south + 0.52)
    straddling = shapely.box(west - 0.01, south + 1, west + 0.01, south + 1.02)
    island = shapely.box(100.05, 10.0, 100.08, 10.03)  # ~6 km from zone A's centroid
    far = shapely.box(100.5, 10.0, 100.52, 10.02)  # ~55 km: out of reach
    mainland = shapely.box(99.0, 9.8, 100.0, 11.0)  # within reach, but a commune holds it
    held_island = shapely.box(100.0, 9.9, 100.01, 9.91)
    land = _frame([1] * 6, [reef, straddling, island, far, mainland, held_island])
    units = _units([
        ("A", "Zone A", "P", "đặc khu", 100.0, 10.0, 10.0),
        ("B", "Zone B", "P", "đặc khu", west + 1, south + 1, 300.0),
        ("C", "Commune C", "P", "xã", 99.5, 10.5, 900.0),
        ("D", "Zone D", "P", "đặc khu", 90.0, 0.0, 5.0),  # no land anywhere near
        ("E", "Zone E", "P", "đặc khu", 100.0, 9.9, 1.0),  # has its own polygon
    ])
    held = _frame(["C", "E"], [mainland.buffer(-0.001), held_island])
    found = islands.island_geometry(units, held, land)
    assert set(found.geometry) == {"A", "B"}
    assert found.geometry["A"].equals(shapely.MultiPolygon([island]))
    assert found.geometry["B"].equals(shapely.MultiPolygon([reef]))
    rows = {s.code: s for s in found.sources}
    assert rows["A"].parts == 1 and "km of the recorded centroid" in rows["A"].rule
    assert "Hoàng Sa" in rows["B"].rule and rows["B"].official_area_km2 == 300.0
    assert rows["B"].source.startswith("Natural Earth 1:10m land")
    assert rows["A"].as_dict()["area_km2"] == pytest.approx(
        float(islands.area_km2(island)), abs=1e-3)


def test_island_geometry_needs_no_work_when_every_zone_is_drawn():
    units = _units([("E", "Zone E", "P", "đặc khu", 100.0, 9.9, 1.0)])
    found = islands.island_geometry(units, _frame(["E"], [shapely.box(100, 9.9, 100.1, 10)]),
                                    _frame([1], [shapely.box(0, 0, 1, 1)]))
    assert found.geometry == {} and found.sources == []


def test_communes_keep_every_unit_with_or_without_geometry(built):
    from geoservice.boundaries import sources
    from geoservice.boundaries.build import _communes

    units = sources.read_units_2025(sources.SourcePaths.locate(NODE_MODULES).admin_db)
    units = units[units["province_code"].isin(FIXTURE_PROVINCES)].reset_index(drop=True)
    assembled = built.result.communes[["code", "geometry", "match", "area_guided"]]
    blank = assembled["code"].iat[0]
    communes = _communes(assembled[assembled["code"] != blank], units,
                         islands.Islands({}, []))
    assert list(communes["code"]) == list(units["code"])
    row = communes.set_index("code").loc[blank]
    assert row.geometry is None and row["match"] == "none"
    assert pd.isna(row["area_km2"]) and pd.isna(row["area_ratio"])
    assert communes.geometry.notna().sum() == len(units) - 1


@pytest.fixture(scope="module")
def blanked(built, tmp_path_factory):
    """The fixture GeoPackage with one inland commune of Điện Biên left without geometry."""
    from dataclasses import replace

    from geoservice.boundaries.build import GPKG_NAME, write_geopackage

    communes = built.result.communes.copy()
    names = communes["name_ascii"].value_counts()
    candidates = communes[(communes["province_code"] == "11")
                          & communes["border_neighbors"].map(lambda v: not v)
                          & communes["name_ascii"].map(names).eq(1)]
    code = candidates["code"].iat[0]
    communes["geometry"] = [None if c == code else g
                            for c, g in zip(communes["code"], communes.geometry)]
    folder = tmp_path_factory.mktemp("blanked")
    write_geopackage(replace(built.result, communes=communes), folder / GPKG_NAME)
    row = communes.set_index("code").loc[code]
    return folder / GPKG_NAME, code, row["name"], row["full_name"]


@pytest.fixture
def blanked_store(blanked, store_url):
    from geoservice.boundaries.load import load_boundaries

    store = open_store(store_url)
    load_boundaries(store, blanked[0])
    yield store
    store.close()


def test_both_stores_keep_a_unit_without_geometry(blanked, blanked_store, built):
    _gpkg, code, name, _full = blanked
    store = blanked_store
    fid, props, geometry = store.get("communes", code)
    assert fid == code and geometry is None and props["name"] == name
    count, bbox = store.extent("communes")
    assert count == len(built.result.communes) and bbox is not None
    everywhere = store.query("communes", FeatureQuery(limit=10_000, bbox=(90, 0, 120, 30)))
    assert code not in [f for f, _p, _g in everywhere.features]
    assert everywhere.number_matched == count - 1
    province = store.query("communes", FeatureQuery(limit=10_000, province_code="11"))
    assert code in [f for f, _p, _g in province.features]
    searched = store.query("communes", FeatureQuery(limit=10, q=search_key(name)))
    assert [f for f, _p, _g in searched.features] == [code]


def test_api_search_tiles_and_reports_serve_a_unit_without_geometry(blanked, blanked_store,
                                                                   store_url, make_app):
    from geoservice.reports.content import public_figures
    from geoservice.reports.units import find_unit
    from geoservice.services import of as services_of

    _gpkg, code, name, full_name = blanked
    app = make_app(None, DATABASE_URL=store_url, TILE_CACHE="none")
    client = app.test_client()
    item = get(client, f"/collections/communes/items/{code}", content_type=GEOJSON)
    assert item["id"] == code and item["geometry"] is None
    assert item["properties"]["name"] == name
    listed = get(client, "/collections/communes/items?limit=1000&province_code=11",
                 content_type=GEOJSON)
    assert code in [f["id"] for f in listed["features"]]
    found = get(client, f"/search?q={name}")
    match = next(m for m in found["matches"] if m["code"] == code)
    assert match["bbox"] is None
    province = services_of(app).store.get("provinces", "11")[2]
    lon, lat = province.representative_point().coords[0]
    tile = mercantile.tile(lon, lat, 7)
    response = client.get(f"/tiles/communes/{tile.z}/{tile.x}/{tile.y}.mvt")
    assert response.status_code == 200 and response.data
    store = services_of(app).store
    unit = find_unit(store, "province", "11")
    assert code in unit.commune_codes
    assert [c["code"] for c in unit.without_geometry] == [code]
    figures = public_figures(store, unit, 2024)
    assert figures.without_geometry == [
        {"code": code, "full_name": full_name, "note": "no boundary polygon yet"}]
    commune = find_unit(store, "commune", code)
    assert commune.communes[0]["has_geometry"] is False
    # The report counts it and says why it is not on the map; its own report has no map.
    html = client.get("/reports/province/11.html?lang=en").get_data(as_text=True)
    assert f"Counted but not drawn (no boundary polygon yet): {full_name}." in html
    own = client.get(f"/reports/commune/{code}.html?lang=en")
    assert own.status_code == 200
    assert "no boundary polygon yet" in own.get_data(as_text=True)
