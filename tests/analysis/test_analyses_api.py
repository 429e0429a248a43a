"""The analyses API on the fixture with the synthetic demo data: runs (202 → progress →
done → cached → recomputed after an import), access (401, a province key sees its province
only), the one JSON error shape, and the planted hot areas found through the endpoints."""

from __future__ import annotations

import io
import math
import time

import mapbox_vector_tile
import numpy as np
import pytest
import shapely
from PIL import Image

from geoservice.auth import create_key
from geoservice.demo.planted import PLANTED_AREAS
from geoservice.indicators.compute import records_frame
from geoservice.layers.catalog import load_catalog
from geoservice.services import of as services_of
from geoservice.store.records import ImportBatch, RecordWrite
from tests.web.helpers import assert_error, decode
from tests.web.test_tiles import demo_db  # noqa: F401 - the shared session fixture

CATALOG = load_catalog()
H1 = next(a for a in PLANTED_AREAS if a.key == "H1")  # Lũng Cú (08)
FIXTURE_AREAS = [a for a in PLANTED_AREAS if a.commune_code in
                 ("00715", "00694", "03158", "03127")]


@pytest.fixture
def demo_app(make_app, demo_db):  # noqa: F811
    return make_app(demo_db)


def key(app, area="national"):
    return {"X-API-Key": create_key(services_of(app).store, f"k{area}", "viewer",
                                    area)[1]}


def wait(client, url, headers, timeout=180):
    """Follow a run until it is done (returning its document and the progress seen)."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        doc = decode(client.get(url, headers=headers))
        seen.append((doc["status"], doc["progress"]["percent"], doc["progress"]["stage"]))
        if doc["status"] in ("done", "failed"):
            return doc, seen
        time.sleep(0.1)
    raise AssertionError(f"run {url} not done after {timeout} s: {seen[-3:]}")


def run_url(response):
    return response.headers.get("Location") or response.headers["X-Analysis-Run"]


def tile_of(lon, lat, z):
    n = 2**z
    fx = (lon + 180) / 360 * n
    fy = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return (z, int(fx), int(fy)), (int((fx % 1) * 256), int((fy % 1) * 256))


def pixels(data):
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))


def nearest_area_km(lon, lat):
    return min(math.dist((lon, lat), (a.lon, a.lat)) * 111 for a in FIXTURE_AREAS)


# --- runs ------------------------------------------------------------------------------------

def test_runs_progress_finish_are_cached_and_follow_the_data(demo_app):
    client, store = demo_app.test_client(), services_of(demo_app).store
    national = key(demo_app)
    first = client.post("/analyses/gistar", json={"zones": "hex", "size_km": 5},
                        headers=national)
    started = decode(first, 202)
    assert started["status"] in ("queued", "running") and first.headers["Retry-After"]
    assert first.headers["Location"].endswith(f"/analyses/runs/{started['id']}")
    doc, seen = wait(client, first.headers["Location"], national)
    assert doc["status"] == "done" and doc["current"] and doc["progress"]["percent"] == 100
    percents = [p for _s, p, _stage in seen]
    assert percents == sorted(percents)
    assert doc["params"]["zones"] == "hex" and doc["area"] == "national"
    assert doc["notice"]  # the demo data is synthetic, and says so
    # The hottest hexagon sits at a planted hot area.
    hottest = doc["result"]["hottest"][0]
    zones = decode(client.get("/analyses/gistar/zones.geojson?zones=hex&size_km=5",
                              headers=national), content_type="application/geo+json")
    shape = next(shapely.geometry.shape(f["geometry"]) for f in zones["features"]
                 if f["properties"]["zone_id"] == hottest["zone_id"])
    assert hottest["gi_bin"] == 3 and nearest_area_km(shape.centroid.x, shape.centroid.y) < 8
    # The same question again is answered at once from the cache, by the same run.
    again = decode(client.get("/analyses/gistar?zones=hex", headers=national))
    assert again["id"] == doc["id"] and again["status"] == "done"
    # An import changes the data version: the analysis is computed again.
    version = store.data_version()
    store.apply_records([RecordWrite(
        kind="incidents", natural_key="TEST-1", commune_code=H1.commune_code,
        province_code="08", year=2025, category="drugs",
        properties={"ref": "TEST-1", "date": "2025-06-01", "category": "drugs",
                    "lon": H1.lon, "lat": H1.lat}, geometry=shapely.Point(H1.lon, H1.lat))],
        ImportBatch("incidents", "them.csv", "4" * 64, "tester"))
    assert store.data_version() != version
    redo = client.post("/analyses/gistar?zones=hex", headers=national)
    renewed = decode(redo, 202)
    assert renewed["id"] != doc["id"] and renewed["data_version"] != doc["data_version"]
    done, _seen = wait(client, redo.headers["Location"], national)
    assert done["result"]["incidents"] == doc["result"]["incidents"] + 1


def test_maps_never_wait_and_serve_the_previous_result_while_computing(demo_app,
                                                                       monkeypatch):
    """While a run is held, tiles answer at once: empty before any result, then the
    previous result marked stale; the run's own result once it is done."""
    import threading

    from geoservice.hotspots import compute

    client, store = demo_app.test_client(), services_of(demo_app).store
    national = key(demo_app)
    gate = threading.Event()
    real = compute.COMPUTE["gistar"]

    def held(*args):
        assert gate.wait(120)
        return real(*args)

    monkeypatch.setitem(compute.COMPUTE, "gistar", held)
    (z, x, y), _pixel = tile_of(H1.lon, H1.lat, 9)
    url = f"/tiles/hotspots-gistar/{z}/{x}/{y}.mvt?category=illegal_border_crossing"
    waiting = client.get(url, headers=national)
    assert waiting.status_code == 200 and waiting.data == b""
    assert waiting.headers["X-Analysis-Status"] in ("queued", "running")
    assert waiting.headers["Retry-After"] and waiting.headers["Cache-Control"] == "no-store"
    features = client.get("/collections/hotspots-gistar/items", headers=national)
    assert_error(decode(features, 503), 503, "AnalysisNotReady")  # its defaults: held too
    assert features.headers["Retry-After"]
    assert features.headers["X-Analysis-Status"] in ("queued", "running")
    assert "/analyses/runs/" in features.headers["X-Analysis-Run"]  # another run: defaults
    gate.set()
    wait(client, run_url(waiting), national)
    ready = client.get(url, headers=national)
    assert ready.headers["X-Analysis-Status"] == "current"
    current = mapbox_vector_tile.decode(ready.data)["hotspots-gistar"]["features"]
    assert any(f["properties"]["zone_id"] == H1.commune_code for f in current)
    gate.clear()
    store.apply_records([RecordWrite(
        kind="incidents", natural_key="TEST-2", commune_code=H1.commune_code,
        province_code="08", year=2025, category="illegal_border_crossing",
        properties={"ref": "TEST-2", "date": "2025-07-01",
                    "category": "illegal_border_crossing", "lon": H1.lon, "lat": H1.lat},
        geometry=shapely.Point(H1.lon, H1.lat))],
        ImportBatch("incidents", "more.csv", "5" * 64, "tester"))
    stale = client.get(url, headers=national)
    assert stale.headers["X-Analysis-Status"] == "stale" and stale.headers["Retry-After"]
    assert stale.data == ready.data  # the previous result, not a blank map
    gate.set()
    doc, _seen = wait(client, run_url(stale), national)
    fresh = client.get(url, headers=national)
    assert fresh.headers["X-Analysis-Status"] == "current"
    counts = {f["properties"]["zone_id"]: f["properties"]["count"]
              for f in mapbox_vector_tile.decode(fresh.data)["hotspots-gistar"]["features"]}
    before = {f["properties"]["zone_id"]: f["properties"]["count"] for f in current}
    assert counts[H1.commune_code] == before[H1.commune_code] + 1


# --- access and errors -------------------------------------------------------------------------

def test_access_is_the_incidents_decision(demo_app):
    client, store = demo_app.test_client(), services_of(demo_app).store
    for url in ("/analyses/gistar", "/analyses/density/9/405/221.png",
                "/analyses/emerging/table", "/analyses/density.tif"):
        assert_error(decode(client.get(url), 401), 401, "Unauthorized")
    assert client.post("/analyses/density").status_code == 401
    own, national = key(demo_app, "08"), key(demo_app)
    mine = client.post("/analyses/gistar", headers=own)
    doc, _seen = wait(client, run_url(mine), own)
    assert doc["area"] == "08" and doc["params"]["province_code"] == "08"
    in_08 = records_frame(store, "incidents", province_code="08")
    assert doc["result"]["incidents"] == len(in_08)
    zones = decode(client.get("/analyses/gistar/zones.geojson", headers=own),
                   content_type="application/geo+json")
    assert {f["properties"]["province_code"] for f in zones["features"]} == {"08"}
    assert_error(decode(client.get("/analyses/gistar?province_code=11", headers=own), 403),
                 403, "Forbidden", "province_code")
    # The national reader's run of the same province is another result, not shared.
    theirs = client.post("/analyses/gistar?province_code=08", headers=national)
    other, _seen = wait(client, run_url(theirs), national)
    assert other["id"] != doc["id"] and other["area"] == "national"
    assert_error(decode(client.get(f"/analyses/runs/{other['id']}", headers=own), 404), 404)
    assert decode(client.get(f"/analyses/runs/{doc['id']}", headers=national))["id"] == \
        doc["id"]


@pytest.mark.parametrize("url, status, parameter", [
    ("/analyses/kriging", 400, "method"),
    ("/analyses/gistar?zones=bad", 400, "zones"),
    ("/analyses/gistar?weights=distance", 400, "distance_km"),
    ("/analyses/density?cell_km=-1", 400, "cell_km"),
    ("/analyses/density?province_code=99", 400, "province_code"),
    ("/analyses/density?foo=1", 400, "foo"),
    ("/analyses/density/9/405/abc.png", 400, "y"),
    ("/analyses/density/9/999/221.png", 400, "x"),
    ("/analyses/density/9/405/221@3x.png", 400, "y"),
    ("/analyses/density/9/405/221.mvt", 404, None),
    ("/analyses/emerging/table?format=xml", 400, "format"),
    ("/analyses/density/legend.json?lang=fr", 400, "lang"),
    ("/analyses/runs/0123456789abcdef", 404, None),
    ("/analyses/gistar/table", 404, None),
    ("/analyses/border/zones.geojson", 404, None),
])
def test_bad_requests_get_the_json_error_shape(demo_app, url, status, parameter):
    body = decode(demo_app.test_client().get(url, headers=key(demo_app)), status)
    assert_error(body, status, parameter=parameter)


def test_bad_bodies_are_refused(demo_app):
    client, national = demo_app.test_client(), key(demo_app)
    listed = client.post("/analyses/density", json=["drugs"], headers=national)
    assert_error(decode(listed, 400), 400, "InvalidParameter", "body")
    nested = client.post("/analyses/density", json={"category": {"a": 1}}, headers=national)
    assert_error(decode(nested, 400), 400, "InvalidParameter", "category")
