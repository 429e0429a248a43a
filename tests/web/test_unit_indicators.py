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


def _wait_until_published(store, timeout=60.0):
    import json
    import time

    from geoservice.indicators.published import PENDING_KEY

    deadline = time.time() + timeout
    while json.loads(store.get_meta(PENDING_KEY) or "{}").get("until", 0) > 0:
        assert time.time() < deadline, "the indicators after the import were not published"
        time.sleep(0.1)


def test_an_http_import_has_the_new_indicators_computed_by_a_short_lived_process(
        client, monkeypatch):
    """The worker that took the import computes nothing itself (it would keep the memory):
    a child process keeps the latest year's indicators in the store, and readers get them."""
    import io
    import json

    import geoservice.indicators.published as published

    def not_here(*args, **kwargs):
        raise AssertionError("the indicators were computed in the worker")

    monkeypatch.setattr(published, "unit_indicators", not_here)
    store = services_of(client.application).store
    editor = {"X-API-Key": create_key(store, "e", "editor", "national")[1]}
    text = ("Mã vụ việc,Tỉnh,Xã,Ngày,Loại,Kinh độ,Vĩ độ\n"
            "TQ-25,Tuyên Quang,Lũng Cú,05/03/2025,ma tuý,105.31,23.33\n")
    response = client.post("/imports/incidents", headers=editor,
                           data={"file": (io.BytesIO(text.encode()), "vu-viec.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 201, response.get_data(as_text=True)
    _wait_until_published(store)
    for level in ("commune", "province"):
        kept = json.loads(store.get_meta(f"indicators/{level}/2025"))
        assert kept["version"] == store.data_version()
    assert kept["values"]["08"]["incidents"] == 1
    assert props(client, "/collections/communes/items/00715", editor)["incidents"] == 1


def test_readers_wait_for_indicators_being_computed_elsewhere(client, monkeypatch):
    import json
    import threading
    import time

    import geoservice.indicators.published as published

    store = services_of(client.application).store
    version = store.data_version()
    made_elsewhere = {"00715": {"incidents": 7}}
    store.set_meta(published.PENDING_KEY,
                   json.dumps({"version": version, "until": time.time() + 30}))
    monkeypatch.setattr(published, "unit_indicators", lambda *a, **k: {"computed": "here"})

    def elsewhere():
        time.sleep(0.5)
        store.set_meta("indicators/commune/2025",
                       json.dumps({"version": version, "values": made_elsewhere}))

    threading.Thread(target=elsewhere).start()
    started = time.perf_counter()
    assert published.indicators(store, "commune", 2025) == made_elsewhere
    assert time.perf_counter() - started >= 0.4
    # The other process gave up (or failed): the next reader computes them itself.
    store.set_meta(published.PENDING_KEY, json.dumps({"version": version, "until": 0}))
    assert published.indicators(store, "province", 2025) == {"computed": "here"}
