"""OGC API - Features Parts 1 and 3 on both stores: datetime on every collection, queryables,
CQL2 filters (text and JSON) done by the database, sortby, properties, 6-number bboxes and
the HTML pages. Every test decodes what it gets and checks it against the fixture."""

from __future__ import annotations

import json
from datetime import date
from urllib.parse import quote

import pytest
import shapely

from geoservice.api.filters import matches
from geoservice.api.landing import CONFORMANCE
from geoservice.boundaries.load import load_boundaries
from geoservice.services import of as services_of
from geoservice.store.records import ImportBatch, RecordWrite
from tests.web.helpers import assert_error, decode, get

GEOJSON = "application/geo+json"
LAYERS = ("border-communes-cn", "certification-rate", "model-coverage")


def items(client, collection: str, query: str = "", status: int = 200) -> dict:
    return get(client, f"/collections/{collection}/items?{query}", status)


def every(client, collection: str, query: str) -> list[dict]:
    return items(client, collection, f"limit=1000&{query}")["features"]


def test_datetime_is_taken_by_every_collection(client):
    listing = get(client, "/collections")["collections"]
    assert len(listing) >= 17
    for entry in listing:
        body = items(client, entry["id"], "limit=1&datetime=2025-08-01")
        assert body["type"] == "FeatureCollection", entry["id"]


@pytest.mark.parametrize(("collection", "inside", "outside"), [
    ("communes", "2025-07-01", "2025-06-30"),
    ("communes", "2025-01-01/2025-07-01", "../2025-06-30T23:00:00Z"),
    ("provinces", "2026-01-01T00:00:00+07:00/..", "2020-01-01/2025-06-01"),
    ("legacy-communes", "2025-06-30", "2025-07-01/.."),
    ("legacy-communes", "../2020-01-01", "2025-07-01T00:00:00Z"),
    ("border-communes-cn", "2025-07-02", "2024-01-01/2024-12-31"),
])
def test_boundaries_by_the_validity_of_their_version(client, collection, inside, outside):
    whole = items(client, collection, "limit=1")["numberMatched"]
    assert items(client, collection, f"limit=1&datetime={quote(inside)}")[
        "numberMatched"] == whole > 0
    missed = items(client, collection, f"limit=1&datetime={quote(outside)}")
    assert (missed["numberMatched"], missed["features"]) == (0, [])


def test_collection_documents_carry_the_temporal_extent(client):
    communes = get(client, "/collections/communes")["extent"]["temporal"]["interval"]
    legacy = get(client, "/collections/legacy-communes")["extent"]["temporal"]["interval"]
    assert communes == [["2025-07-01T00:00:00Z", None]]
    assert legacy == [[None, "2025-06-30T23:59:59Z"]]


@pytest.mark.parametrize("value", ["2025-01-01junk", "2025-13-01", "2025-01-01T10:00:00",
                                   "2025/2024", "/", "2025-02-30", "tomorrow",
                                   "2025-01-01/2025-01-02/2025-01-03"])
def test_bad_datetimes_are_refused(client, value):
    body = items(client, "communes", f"datetime={quote(value)}", 400)
    assert_error(body, 400, "InvalidParameter", "datetime")


def test_six_number_bbox_ignores_heights(client):
    four = items(client, "communes", "bbox=105.2,23.2,105.4,23.4&limit=1000")
    six = items(client, "communes", "bbox=105.2,23.2,-100,105.4,23.4,900&limit=1000")
    assert six["features"] == four["features"] and four["numberMatched"] > 0


def test_queryables_are_a_json_schema_of_the_declared_properties(client):
    response = client.get("/collections/communes/queryables")
    body = decode(response, 200, "application/schema+json")
    props = body["properties"]
    assert props["area_km2"]["type"] == "number" and props["code"]["type"] == "string"
    assert props["area_guided"]["type"] == "boolean"
    assert props["geometry"]["format"] == "geometry-any"
    assert "border_neighbors" not in props  # an array: not queryable
    layer = get(client, "/collections/certification-rate/queryables")["properties"]
    assert layer["certification_rate_residential"]["type"] == "number"
    assert decode(client.get("/collections/incidents/queryables"), 401)["status"] == 401


def test_cql2_text_filter_is_done_by_the_store(client):
    all_communes = every(client, "communes", "")
    expected = sorted(f["id"] for f in all_communes
                      if f["properties"].get("area_km2") is not None
                      and f["properties"]["area_km2"] > 150)
    assert 0 < len(expected) < len(all_communes)
    body = items(client, "communes", "limit=1000&filter=" + quote("area_km2 > 150"))
    assert sorted(f["id"] for f in body["features"]) == expected
    assert body["numberMatched"] == len(expected)


@pytest.mark.parametrize(("cql", "check"), [
    ("province_code = '08' AND NOT area_km2 < 100",
     lambda p: p["province_code"] == "08" and p["area_km2"] >= 100),
    ("name LIKE 'Lũng%' OR code IN ('03127', '00715')",
     lambda p: p["name"].startswith("Lũng") or p["code"] in ("03127", "00715")),
    ("area_km2 BETWEEN 50 AND 80", lambda p: 50 <= p["area_km2"] <= 80),
    ("official_area_km2 IS NULL", lambda p: p["official_area_km2"] is None),
    ("area_guided = true", lambda p: p["area_guided"] is True),
    ("name LIKE 'l%'", lambda p: p["name"].startswith("l")),  # case-sensitive: none
])
def test_cql2_operators_match_the_features(client, cql, check):
    all_communes = every(client, "communes", "")
    expected = sorted(f["id"] for f in all_communes if check(f["properties"]))
    got = every(client, "communes", "filter=" + quote(cql))
    assert sorted(f["id"] for f in got) == expected


def test_s_intersects_equals_bbox_and_cql2_json_equals_text(client):
    box = "105.2,23.2,105.4,23.4"
    by_bbox = every(client, "communes", f"bbox={box}")
    text = every(client, "communes", "filter=" + quote(f"S_INTERSECTS(geometry, BBOX({box}))"))
    polygon = shapely.box(105.2, 23.2, 105.4, 23.4).wkt
    wkt = every(client, "communes", "filter=" + quote(f"S_INTERSECTS(geometry, {polygon})"))
    as_json = json.dumps({"op": "s_intersects", "args": [
        {"property": "geometry"}, {"bbox": [105.2, 23.2, 105.4, 23.4]}]})
    js = every(client, "communes", "filter-lang=cql2-json&filter=" + quote(as_json))
    ids = [f["id"] for f in by_bbox]
    assert ids and [f["id"] for f in text] == [f["id"] for f in wkt] == [
        f["id"] for f in js] == ids
    both = json.dumps({"op": "and", "args": [
        {"op": ">", "args": [{"property": "area_km2"}, 100]},
        {"op": "=", "args": [{"property": "province_code"}, "08"]}]})
    got = every(client, "communes", "filter-lang=cql2-json&filter=" + quote(both))
    assert got and all(f["properties"]["area_km2"] > 100 for f in got)


@pytest.mark.parametrize(("cql", "named"), [
    ("colour = 'red'", "colour"),
    ("area_km2 > 'big'", "area_km2"),
    ("S_CROSSES(geometry, BBOX(1,2,3,4))", "CROSSES"),
    ("area_km2 >", None),
])
def test_bad_filters_are_refused_naming_the_problem(client, cql, named):
    body = items(client, "communes", "filter=" + quote(cql), 400)
    assert_error(body, 400, "InvalidParameter", "filter")
    assert named is None or named in body["description"]


def test_sortby_orders_in_the_store_with_nulls_last(client):
    got = every(client, "communes", "sortby=" + quote("-area_km2"))
    areas = [f["properties"]["area_km2"] for f in got]
    present = [a for a in areas if a is not None]
    assert present == sorted(present, reverse=True) and areas[:len(present)] == present
    by_two = every(client, "communes", "sortby=" + quote("province_code,+name"))
    keys = [(f["properties"]["province_code"], f["properties"]["name"]) for f in by_two]
    assert keys == sorted(keys)
    body = items(client, "communes", "sortby=colour", 400)
    assert_error(body, 400, "InvalidParameter", "sortby")


def test_properties_selects_what_is_sent(client):
    body = items(client, "communes", "limit=3&properties=code,name")
    assert [set(f["properties"]) for f in body["features"]] == [{"code", "name"}] * 3
    assert_error(items(client, "communes", "properties=colour", 400), 400,
                 "InvalidParameter", "properties")


@pytest.mark.parametrize("layer", LAYERS)
def test_layer_collections_filter_sort_and_select(client, layer):
    queryables = get(client, f"/collections/{layer}/queryables")["properties"]
    whole = every(client, layer, "")
    assert whole
    cql = "province_code = '08'"
    got = every(client, layer, "filter=" + quote(cql) + "&sortby=-code&properties=code")
    expected = sorted((f["id"] for f in whole if f["properties"].get("province_code") == "08"),
                      key=lambda fid: next(f["properties"]["code"] for f in whole
                                           if f["id"] == fid), reverse=True)
    assert [f["id"] for f in got] == expected and "province_code" in queryables
    assert all(set(f["properties"]) <= {"code"} for f in got)


def test_in_memory_evaluation_follows_sql_nulls():
    props = {"a": None, "b": 2}
    assert not matches(("not", ("cmp", ">", "a", 1)), props, None)
    assert matches(("or", ("cmp", ">", "a", 1), ("cmp", "=", "b", 2)), props, None)
    assert matches(("like", "s", "x\\%_"), {"s": "x%y"}, None)


def test_html_pages_for_landing_collections_and_items(client):
    for url, needle in (("/landing?f=html", "Collections"),
                        ("/collections?f=html", "communes"),
                        ("/collections/communes?f=html", "Features (HTML)"),
                        ("/collections/communes/items?f=html&limit=5", 'rel="next"')):
        response = client.get(url)
        assert response.status_code == 200 and response.mimetype == "text/html", url
        page = response.get_data(as_text=True)
        assert needle in page and "<script" not in page and "http" in page, url
    page = client.get("/collections/communes/items?f=html&limit=5").get_data(as_text=True)
    assert page.count("<tr>") == 6 and "area_km2" in page


def test_conformance_and_strict_document_parameters(client):
    assert get(client, "/conformance")["conformsTo"][:len(CONFORMANCE)] == CONFORMANCE
    for url in ("/collections?lang=AAA", "/collections/communes?f=xml",
                "/collections?colour=red"):
        assert decode(client.get(url), 400)["code"] == "InvalidParameter", url
    assert get(client, "/collections?lang=en")["collections"]


# --- records: the record's date, or its year --------------------------------------------

@pytest.fixture
def records_client(make_app, store_url, built):
    app = make_app(None, DATABASE_URL=store_url)
    store = services_of(app).store
    load_boundaries(store, built.gpkg)
    store.apply_records([RecordWrite(
        kind="certification", natural_key=f"00715|{year}|residential", commune_code="00715",
        province_code="08", year=year, category="residential",
        properties={"year": year, "group": "residential", "reviewed": 10,
                    "certified": certified}) for year, certified in ((2023, 5), (2024, 7))],
        ImportBatch("certification", "ket-qua.xlsx", "0" * 64, "tester"))
    return app.test_client()


def test_records_by_year_and_filter(records_client):
    c = records_client
    years = [f["properties"]["year"] for f in every(c, "certification", "datetime=2024-03-01")]
    assert years == [2024]
    assert len(every(c, "certification", "datetime=" + quote("2023-06-01/.."))) == 2
    assert every(c, "certification", "datetime=" + quote("../2022-12-31")) == []
    got = every(c, "certification", "filter=" + quote("certified >= 6 AND version = 1"))
    assert [f["properties"]["year"] for f in got] == [2024]
    ordered = every(c, "certification", "sortby=-certified")
    assert [f["properties"]["certified"] for f in ordered] == [7, 5]
    assert date.fromisoformat(ordered[0]["properties"]["imported_at"][:10])
