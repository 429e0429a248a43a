"""Every layer is a collection of the features API: listed, paged, filtered, with the
layer's fields and parameters, and the same access rule as its tiles."""

from __future__ import annotations

import pytest

from geoservice.auth import create_key
from geoservice.collections import COLLECTIONS
from geoservice.layers.catalog import load_catalog
from geoservice.services import of as services_of
from tests.web.helpers import assert_error, decode, get
from tests.web.test_tiles import demo_db  # noqa: F401 - the shared session fixture

GEOJSON = "application/geo+json"
CATALOG = load_catalog()
PUBLIC_LAYERS = sorted(i for i, layer in CATALOG.items() if not layer.restricted)


@pytest.fixture
def client(make_app, demo_db):  # noqa: F811
    return make_app(demo_db).test_client()


def test_every_public_layer_is_listed(client):
    listed = {c["id"] for c in get(client, "/collections")["collections"]}
    assert set(PUBLIC_LAYERS) <= listed
    assert not {i for i, layer in CATALOG.items() if layer.restricted} - set(COLLECTIONS) & \
        listed


@pytest.mark.parametrize("layer_id", [i for i in PUBLIC_LAYERS if i not in COLLECTIONS])
def test_layer_items_carry_the_layer_fields(client, layer_id):
    body = get(client, f"/collections/{layer_id}/items?limit=5", content_type=GEOJSON)
    if layer_id == "border-communes-kh":
        assert body["numberMatched"] == 0  # the fixture provinces do not border Cambodia
        return
    assert body["numberMatched"] > 0 and body["features"]
    for feature in body["features"]:
        assert set(feature["properties"]) <= set(CATALOG[layer_id].fields)
        assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon", "Point",
                                               "MultiPoint", "LineString", "MultiLineString")
    one = body["features"][0]
    single = get(client, f"/collections/{layer_id}/items/{one['id']}", content_type=GEOJSON)
    assert single["properties"] == one["properties"]


def test_layer_parameters_filters_and_paging(client):
    body = get(client, "/collections/certification-rate/items?group=schools&year=2024"
                       "&province_code=11&limit=3", content_type=GEOJSON)
    assert body["numberReturned"] == 3 and body["numberMatched"] > 3
    assert all(f["properties"]["province_code"] == "11" and
               f["properties"]["indicator_year"] == 2024 and
               "certification_rate_schools" in f["properties"] for f in body["features"])
    following = get(client, next(link["href"] for link in body["links"]
                                 if link["rel"] == "next"), content_type=GEOJSON)
    assert {f["id"] for f in following["features"]}.isdisjoint(
        {f["id"] for f in body["features"]})
    lung_cu = get(client, "/collections/border-communes-cn/items?bbox=105.2,23.2,105.4,23.4",
                  content_type=GEOJSON)
    assert "00715" in {f["id"] for f in lung_cu["features"]}
    assert all("CN" in f["properties"]["border_neighbors"] for f in lung_cu["features"])


def test_properties_filter_and_sortby_follow_the_requested_group(client):
    """A group's own rate is a property of the layer the request resolves, not only the
    default group's: the map counts its legend classes on it."""
    whole = get(client, "/collections/certification-rate/items?group=schools&year=2024"
                        "&limit=1000", content_type=GEOJSON)
    rates = {f["id"]: f["properties"].get("certification_rate_schools")
             for f in whole["features"]}
    thin = get(client, "/collections/certification-rate/items?group=schools&year=2024"
                       "&limit=1000&properties=certification_rate_schools",
               content_type=GEOJSON)
    assert thin["numberMatched"] == whole["numberMatched"]
    assert all(set(f["properties"]) <= {"certification_rate_schools"}
               for f in thin["features"])
    assert sum(r is not None for r in rates.values()) > 10
    assert {f["id"]: f["properties"].get("certification_rate_schools")
            for f in thin["features"]} == rates
    over = get(client, "/collections/certification-rate/items?group=schools&year=2024"
                       "&limit=1000&filter=certification_rate_schools%20%3E%2050"
                       "&sortby=-certification_rate_schools", content_type=GEOJSON)
    got = [f["properties"].get("certification_rate_schools") for f in over["features"]]
    assert got == sorted((r for r in rates.values() if r is not None and r > 50),
                         reverse=True)
    refused = client.get("/collections/certification-rate/items?group=schools"
                         "&properties=certification_rate_residential")
    assert refused.status_code == 400
    assert_error(refused.get_json(), 400, parameter="properties")


@pytest.mark.parametrize("url, status, parameter", [
    ("/collections/certification-rate/items?group=bananas", 400, "group"),
    ("/collections/certification-rate/items?bbox=1,2", 400, "bbox"),
    ("/collections/certification-rate/items?sort=name", 400, "sort"),
    ("/collections/certification-rate/items/99999", 404, None),
])
def test_bad_layer_requests(client, url, status, parameter):
    body = decode(client.get(url), status)
    assert body["status"] == status and (parameter is None or body["parameter"] == parameter)


def test_restricted_layers_follow_the_access_decision(client):
    store = services_of(client.application).store
    assert_error(decode(client.get("/collections/cooperation-lines/items"), 401), 401,
                 "Unauthorized")
    key = {"X-API-Key": create_key(store, "p", "viewer", "11")[1]}
    body = decode(client.get("/collections/cooperation-lines/items?limit=50", headers=key),
                  content_type=GEOJSON)
    assert body["numberMatched"] > 0
    assert {f["properties"]["province_code"] for f in body["features"]} == {"11"}
    other = decode(client.get("/collections/cooperation-lines/items?province_code=08",
                              headers=key), 403)
    assert_error(other, 403, "Forbidden", "province_code")


def test_demo_data_is_labelled_synthetic_wherever_it_shows(client, make_app, loaded_db):
    for url in ("/collections/certification/items", "/collections/communes/items/00715",
                "/collections/certification-rate/items?limit=1"):
        assert "synthetic" in get(client, url, content_type=GEOJSON)["notice"]
    assert "notice" not in get(client, "/collections/border-lines/items",
                               content_type=GEOJSON)
    assert "synthetic" in get(client, "/tiles/certification-rate.json")["attribution"]
    real = make_app(loaded_db).test_client()  # boundaries only, no demo records
    assert "notice" not in get(real, "/collections/communes/items/00715",
                               content_type=GEOJSON)
