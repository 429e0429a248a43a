"""Clusters of point collections, computed on the server per zoom: their counts add up to the
items route's numberMatched for the same filters, view and reader, on both stores."""

from __future__ import annotations

import math
from urllib.parse import urlencode

import pytest

from geoservice.api.clusters import CELL_PX, pixels
from geoservice.auth import create_key
from geoservice.services import of as services_of
from tests.reports.conftest import demo_postgis  # noqa: F401 - the shared session fixture
from tests.web.helpers import assert_error, get
from tests.web.test_tiles import demo_db  # noqa: F401 - the shared session fixture

GEOJSON = "application/geo+json"
WHOLE = "102,20,107,24"  # both fixture provinces
QUERIES = [  # (filters, bbox, zoom)
    ({}, WHOLE, 5),
    ({}, WHOLE, 9),
    ({}, "103.5,21.5,105.5,23.5", 12),
    ({"province_code": "08"}, WHOLE, 8),
    ({"category": "drugs"}, WHOLE, 10),
    ({"datetime": "2024-01-01/2024-12-31"}, "104,21,106,23.5", 7),
    ({"filter": "severity = 'high'"}, WHOLE, 11),
    ({"year": "2024", "border_neighbor": "CN"}, WHOLE, 6),
]


@pytest.fixture(params=["sqlite", "postgis"])
def app(request, make_app, demo_db):  # noqa: F811
    """The demo records on each store backend."""
    if request.param == "sqlite":
        return make_app(demo_db)
    return make_app(None, DATABASE_URL=request.getfixturevalue("demo_postgis"))


def key(app, area: str, layers=None) -> dict:
    _row, secret = create_key(services_of(app).store, f"clusters {area}", "viewer", area,
                              layers=layers)
    return {"X-API-Key": secret}


def fetch(client, url: str, headers: dict, status: int = 200):
    response = client.get(url, headers=headers)
    assert response.status_code == status, (url, response.get_data()[:300])
    return response.get_json()


def check_totals(client, collection: str, filters: dict, bbox: str, zoom: int,
                 headers: dict) -> dict:
    query = urlencode({**filters, "bbox": bbox})
    items = fetch(client, f"/collections/{collection}/items?{query}&limit=1000", headers)
    body = fetch(client, f"/collections/{collection}/clusters?{query}&zoom={zoom}", headers)
    assert body["type"] == "FeatureCollection" and body["zoom"] == zoom
    counts = [f["properties"]["count"] for f in body["features"]]
    assert body["numberMatched"] == items["numberMatched"]
    assert sum(counts) + body["unlocated"] == items["numberMatched"]
    assert all(isinstance(c, int) and c >= 1 for c in counts)
    cells = set()
    for feature in body["features"]:
        lon, lat = feature["geometry"]["coordinates"]
        x, y = pixels(lon, lat, zoom)  # the centre lies in its own cell of the world grid
        cell = (math.floor(x / CELL_PX), math.floor(y / CELL_PX))
        assert cell not in cells
        cells.add(cell)
        if feature["properties"]["count"] > 1:
            assert feature["id"] == f"cluster-{zoom}-{cell[0]}-{cell[1]}"
    if items["numberMatched"] <= 1000:  # every single is a matching record, as items has it
        by_id = {f["id"]: f for f in items["features"]}
        for feature in body["features"]:
            if feature["properties"]["count"] == 1:
                record = by_id[feature["id"]]
                assert {**record["properties"], "count": 1} == feature["properties"]
                assert record["geometry"]["coordinates"] == pytest.approx(
                    feature["geometry"]["coordinates"], abs=1e-6)
    return body


@pytest.mark.parametrize("filters,bbox,zoom", QUERIES)
def test_cluster_counts_equal_the_items_number_matched(app, filters, bbox, zoom):
    client = app.test_client()
    body = check_totals(client, "incidents", filters, bbox, zoom, key(app, "national"))
    assert body["numberMatched"] > 0  # each query finds demo incidents
    assert any(f["properties"]["count"] > 1 for f in body["features"]) or zoom >= 10
    if not filters and zoom == 5:
        assert body["numberMatched"] > 100  # the demo has incidents to cluster
        assert len(body["features"]) < body["numberMatched"]  # and they are clustered


def test_clusters_are_stable_across_views(app):
    """A cell wholly inside two views has the same cluster in both."""
    client, headers = app.test_client(), key(app, "national")
    whole = fetch(client, f"/collections/incidents/clusters?zoom=8&bbox={WHOLE}", headers)
    every = fetch(client, "/collections/incidents/clusters?zoom=8", headers)
    assert [f["id"] for f in whole["features"]] == [f["id"] for f in every["features"]]
    biggest = max(whole["features"], key=lambda f: f["properties"]["count"])
    lon, lat = biggest["geometry"]["coordinates"]
    view = f"{lon - 1.5},{lat - 1.5},{lon + 1.5},{lat + 1.5}"  # ~4 cells each way at z8
    part = fetch(client, f"/collections/incidents/clusters?zoom=8&bbox={view}", headers)
    same = next(f for f in part["features"] if f["id"] == biggest["id"])
    assert same == biggest


def test_a_province_reader_counts_its_province_only(app):
    client, headers = app.test_client(), key(app, "08")
    body = check_totals(client, "incidents", {}, WHOLE, 14, headers)
    national = fetch(client, f"/collections/incidents/clusters?zoom=14&bbox={WHOLE}",
                     key(app, "national"))
    assert 0 < body["numberMatched"] < national["numberMatched"]
    singles = [f for f in body["features"] if f["properties"]["count"] == 1]
    assert singles and {f["properties"]["province_code"] for f in singles} == {"08"}
    refused = client.get("/collections/incidents/clusters?zoom=8&province_code=11",
                         headers=headers)
    assert_error(refused.get_json(), 403)


def test_access_is_the_items_access(app):
    client = app.test_client()
    anonymous = client.get("/collections/incidents/clusters?zoom=8")
    assert_error(anonymous.get_json(), 401)
    scoped = client.get("/collections/incidents/clusters?zoom=8",
                        headers=key(app, "national", layers=["certification-rate"]))
    assert scoped.status_code == client.get(
        "/collections/incidents/items", headers=key(app, "national",
                                                    layers=["certification-rate"])).status_code
    assert scoped.status_code in (401, 403)


def test_point_layers_and_public_collections_cluster_too(app):
    client = app.test_client()
    for collection in ("models", "model-points"):
        body = check_totals(client, collection, {}, WHOLE, 9, {})
        assert body["numberMatched"] > 0


@pytest.mark.parametrize("query,status,parameter", [
    ("", 400, "zoom"),
    ("zoom=23", 400, "zoom"),
    ("zoom=8.5", 400, "zoom"),
    ("zoom=8&limit=10", 400, "limit"),
    ("zoom=8&colour=red", 400, "colour"),
    ("zoom=8&bbox=1,2,3", 400, "bbox"),
    ("zoom=8&category=nothing", 400, "category"),
])
def test_bad_parameters_get_the_one_error_shape(app, query, status, parameter):
    response = app.test_client().get(f"/collections/incidents/clusters?{query}",
                                     headers=key(app, "national"))
    assert_error(response.get_json(), status, parameter=parameter)


def test_collections_without_points_have_no_clusters(app):
    client = app.test_client()
    for collection in ("communes", "certification-rate", "nothing"):
        body = get(client, f"/collections/{collection}/clusters?zoom=5", status=404)
        assert_error(body, 404)
