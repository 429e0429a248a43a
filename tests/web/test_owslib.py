"""A real client: OWSLib's OGC API - Features client against the app in a real HTTP server.

OWSLib is what Python scripts and QGIS plugins of other agencies use; it reads the landing
page, conformance, collections, queryables and items with `datetime`, `filter` and `sortby`
the way the standard spells them. Every answer is compared with the features API's own.
"""

from __future__ import annotations

import pytest
import requests

from tests.web.helpers import serving
from tests.web.test_tiles import demo_db  # noqa: F401 - the shared session fixture

owslib_features = pytest.importorskip(
    "owslib.ogcapi.features", reason="OWSLib is in the test extra (pip install -e '.[test]')")


@pytest.fixture(scope="module")
def server(demo_db, tmp_path_factory):  # noqa: F811
    with serving(demo_db, tmp_path_factory.mktemp("owslib-instance")) as running:
        yield running


@pytest.fixture(scope="module")
def client(server):
    return owslib_features.Features(server.url)


def ours(server, path: str, **params) -> dict:
    response = requests.get(server.url + path, params=params, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def test_conformance_and_collections_as_owslib_reads_them(server, client):
    classes = client.conformance()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in classes
    assert "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter" in classes
    ids = {c["id"] for c in client.collections()["collections"]}
    assert {"provinces", "communes", "models", "certification"} <= ids
    assert client.collection("communes")["title"]
    assert not server.failures(), server.failures()


def test_queryables_name_the_declared_properties(server, client):
    queryables = client.collection_queryables("communes")
    properties = queryables["properties"]
    assert properties["area_km2"]["type"] == "number"
    assert properties["province_code"]["type"] == "string"
    assert "geometry" in properties
    assert not server.failures(), server.failures()


@pytest.mark.parametrize("interval", ["2024-01-01/2024-12-31", "2025-01-01/..",
                                      "../2023-12-31"])
def test_datetime_gives_what_the_features_api_gives(server, client, interval):
    got = client.collection_items("models", datetime_=interval, limit=1000)
    expected = ours(server, "/collections/models/items", datetime=interval, limit=1000)
    assert got["numberMatched"] == expected["numberMatched"]
    assert sorted(f["id"] for f in got["features"]) == sorted(
        f["id"] for f in expected["features"])
    start, _, end = interval.partition("/")
    for feature in got["features"]:
        day = feature["properties"]["start_date"]
        assert (start == ".." or day >= start) and (end == ".." or day <= end), feature
    assert not server.failures(), server.failures()


def test_cql_filter_and_sortby_are_done_by_the_server(server, client):
    server.clear()
    got = client.collection_items("communes", filter="area_km2 > 300 AND province_code = '08'",
                                  sortby=("area_km2", "desc"), limit=1000)
    areas = [f["properties"]["area_km2"] for f in got["features"]]
    assert areas and all(a > 300 for a in areas) and areas == sorted(areas, reverse=True)
    assert {f["properties"]["province_code"] for f in got["features"]} == {"08"}
    every = ours(server, "/collections/communes/items", province_code="08", limit=1000)
    assert got["numberMatched"] == sum(
        1 for f in every["features"] if f["properties"]["area_km2"] > 300)
    sent = [q for _m, p, q, _s in server.requests if p == "/collections/communes/items"
            and "filter" in q]
    assert sent and sent[0]["sortby"] == ["-area_km2"]
    assert not server.failures(), server.failures()
