"""Commune and province features carry the indicators of a year (?year=, default the
latest), equal to the indicator functions' values, refreshed when records change, with
restricted counts only for readers whose area covers the unit."""

from __future__ import annotations

import pytest

from geoservice.auth import create_key
from geoservice.indicators.compute import certification_rates
from geoservice.indicators.published import PUBLIC_INDICATORS
from geoservice.services import of as services_of
from geoservice.store.records import ImportBatch
from tests.web.helpers import assert_error, decode, get
from tests.web.test_records_api import certification
from tests.web.test_records_api import client as records_client  # noqa: F401

GEOJSON = "application/geo+json"


@pytest.fixture
def client(records_client):  # noqa: F811
    return records_client


def props(client, url, headers=None):
    return decode(client.get(url, headers=headers or {}), content_type=GEOJSON)["properties"]


def test_default_year_is_the_latest_and_values_match_the_functions(client):
    store = services_of(client.application).store
    unit = props(client, "/collections/communes/items/00715")
    assert unit["indicator_year"] == 2025
    assert unit["certification_rate_residential"] == pytest.approx(0.9)
    assert set(PUBLIC_INDICATORS) <= set(unit) and "incidents" not in unit
    older = props(client, "/collections/communes/items/00715?year=2024")
    expected = certification_rates(store, 2024, "commune", "residential")
    value = expected.set_index("code").loc["00715", "rate_reviewed"]
    assert older["certification_rate_residential"] == pytest.approx(value) == 0.7
    province = props(client, "/collections/provinces/items/11?year=2025")
    assert province["certification_rate_schools"] == 1.0
    assert province["certification_rate_residential"] is None


def test_items_pages_carry_indicators(client):
    body = get(client, "/collections/communes/items?province_code=08&limit=500&year=2024",
               content_type=GEOJSON)
    by_code = {f["id"]: f["properties"] for f in body["features"]}
    assert by_code["00715"]["certification_rate_residential"] == 0.7
    assert all(p["indicator_year"] == 2024 for p in by_code.values())
    others = [p["certification_rate_residential"] for c, p in by_code.items() if c != "00715"]
    assert others and set(others) == {None}


def test_restricted_counts_only_inside_the_readers_area(client):
    store = services_of(client.application).store
    national = {"X-API-Key": create_key(store, "n", "viewer", "national")[1]}
    other = {"X-API-Key": create_key(store, "p", "viewer", "11")[1]}
    url = "/collections/communes/items/00715?year=2024"
    assert props(client, url, national)["incidents"] == 1
    assert "incidents" not in props(client, url, other)
    assert "incidents" not in props(client, url)


def test_new_records_refresh_the_indicators(client):
    store = services_of(client.application).store
    assert props(client, "/collections/communes/items/00715")[
        "certification_rate_residential"] == 0.9
    store.apply_records([certification("00715", "08", 2025, "residential", 10, 5, ("CN",))],
                        ImportBatch("certification", "sua.xlsx", "2" * 64, "tester"))
    assert props(client, "/collections/communes/items/00715")[
        "certification_rate_residential"] == 0.5


@pytest.mark.parametrize("url, parameter", [
    ("/collections/communes/items?year=20x4", "year"),
    ("/collections/communes/items/00715?year=99999", "year"),
    ("/collections/border-lines/items?year=2024", "year"),
    ("/collections/communes/items/00715?limit=3", "limit"),
])
def test_bad_year_parameters_are_400(client, url, parameter):
    assert_error(decode(client.get(url), 400), 400, "InvalidParameter", parameter)
