"""Records served as collections of the features API, on both backends: filters, the
one error shape, and restricted kinds closed to anonymous requests."""

from __future__ import annotations

from datetime import date

import pytest
import shapely

from geoservice.boundaries.load import load_boundaries
from geoservice.services import of as services_of
from geoservice.store.records import ImportBatch, RecordWrite
from tests.web.helpers import assert_error, decode, get

GEOJSON = "application/geo+json"


def certification(commune, province, year, group, reviewed, certified, neighbors=()):
    return RecordWrite(
        kind="certification", natural_key=f"{commune}|{year}|{group}", commune_code=commune,
        province_code=province, year=year, category=group, neighbors=neighbors,
        properties={"year": year, "group": group, "reviewed": reviewed,
                    "certified": certified})


ROWS = [
    certification("00715", "08", 2024, "residential", 10, 7, ("CN",)),
    certification("00715", "08", 2025, "residential", 10, 9, ("CN",)),
    certification("03127", "11", 2025, "schools", 4, 4, ("LA",)),
]


@pytest.fixture
def client(make_app, store_url, built):
    app = make_app(None, DATABASE_URL=store_url)
    store = services_of(app).store
    load_boundaries(store, built.gpkg)
    store.apply_records(ROWS, ImportBatch("certification", "ket-qua-2025.xlsx", "0" * 64,
                                          "tester"))
    store.apply_records([RecordWrite(
        kind="incidents", natural_key="A-1", commune_code="00715", province_code="08",
        properties={"ref": "A-1", "category": "drugs"}, geometry=shapely.Point(105.3, 23.3),
        date=date(2024, 3, 5), category="drugs")],
        ImportBatch("incidents", "vu-viec.csv", "1" * 64, "tester"))
    return app.test_client()


def refs(body):
    return sorted((f["properties"]["commune_code"], f["properties"]["year"],
                   f["properties"]["group"]) for f in body["features"])


def test_certification_items_with_provenance(client):
    body = get(client, "/collections/certification/items?limit=10", content_type=GEOJSON)
    assert body["numberMatched"] == 3
    feature = next(f for f in body["features"] if f["properties"]["year"] == 2024)
    assert feature["geometry"] is None
    assert feature["properties"]["certified"] == 7
    assert feature["properties"]["source_file"] == "ket-qua-2025.xlsx"
    assert feature["properties"]["synthetic"] is False
    single = get(client, f"/collections/certification/items/{feature['id']}",
                 content_type=GEOJSON)
    assert single["properties"] == feature["properties"]


@pytest.mark.parametrize("query, expected", [
    ("year=2025", [("00715", 2025, "residential"), ("03127", 2025, "schools")]),
    ("province_code=11", [("03127", 2025, "schools")]),
    ("commune_code=00715&year=2024", [("00715", 2024, "residential")]),
    ("category=schools", [("03127", 2025, "schools")]),
    ("border_neighbor=CN", [("00715", 2024, "residential"), ("00715", 2025, "residential")]),
])
def test_record_filters(client, query, expected):
    body = get(client, f"/collections/certification/items?{query}", content_type=GEOJSON)
    assert refs(body) == expected and body["numberMatched"] == len(expected)


@pytest.mark.parametrize("query, parameter", [
    ("year=20x5", "year"), ("year=3000", "year"), ("category=bananas", "category"),
    ("commune_code=715", "commune_code"), ("datetime=2024-13-01", "datetime"),
    ("datetime=2025-01-01/2024-01-01", "datetime"), ("q=lung", "q"),
    ("border_neighbor=TH", "border_neighbor"),
])
def test_bad_record_parameters_are_400(client, query, parameter):
    body = decode(client.get(f"/collections/certification/items?{query}"), 400)
    assert_error(body, 400, "InvalidParameter", parameter)


@pytest.mark.parametrize("kind", ["incidents", "hot-spots", "cooperation"])
def test_restricted_kinds_are_closed_to_anonymous_requests(client, kind):
    for url in (f"/collections/{kind}/items", f"/collections/{kind}/items?bbox=100,8,110,24",
                f"/collections/{kind}/items/anything"):
        body = decode(client.get(url), 401)
        assert_error(body, 401, "Unauthorized")
        assert "A-1" not in str(body)
    meta = get(client, f"/collections/{kind}")
    assert meta["restricted"] is True and meta["numberOfFeatures"] is None
    listed = {c["id"] for c in get(client, "/collections")["collections"]}
    assert kind not in listed
