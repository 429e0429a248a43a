"""A province user (signed in) and a province key cannot reach another province's restricted
records through any route: the crawl below requests every GET route of the app (its url_map,
so routes added later are crawled too) with the other province's layer ids, record ids,
tiles, bbox and province code, decodes every answer (JSON, HTML, XML, MVT, PDF text) and
looks for that province's markers. A national reader's crawl finds them, so the crawl does
reach the data. Then the same rule route by route: bbox, single items, MVT and PNG tiles
(in either cache order), unit indicators, imports and the imports list."""

from __future__ import annotations

import io
import itertools
import math

import mapbox_vector_tile
import numpy as np
import pytest
from PIL import Image

from geoservice.collections import COLLECTIONS
from geoservice.services import of as services_of
from geoservice.store.records import RecordQuery
from tests.security.conftest import (
    MARKERS,
    POINTS,
    add_user,
    key_headers,
    session_token,
    sign_in,
)
from tests.web.helpers import assert_error, decode

GEOJSON = "application/geo+json"
RESTRICTED_COLLECTIONS = sorted(cid for cid, d in COLLECTIONS.items() if d.restricted)
ASSETS = ("static", "viewer.maplibre_asset", "viewer.vendor_asset")  # files, not data
MAX_URLS_PER_ROUTE = 40


def tile_xy(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def restricted_ids(app) -> list[str]:
    catalog = services_of(app).catalog
    return sorted({*RESTRICTED_COLLECTIONS, *(i for i, layer in catalog.items()
                                              if layer.restricted)})


def candidates(app, world, name: str, other: str) -> list[str]:
    """Values for a URL variable that point at province `other`'s restricted data."""
    if name in ("feature_id", "featureId", "record_id", "item_id"):
        return world.record_ids[other]
    if name == "fmt":
        return ["json"]
    if name in ("province", "province_code", "code", "area"):
        return [other]
    if name == "kind":
        return RESTRICTED_COLLECTIONS
    return restricted_ids(app)


def crawl_urls(app, world, other: str) -> list[str]:
    """Every GET route, filled with values pointing at province `other`'s data."""
    lon, lat = POINTS[other]
    bbox = f"{lon - 0.05},{lat - 0.05},{lon + 0.05},{lat + 0.05}"
    adapter = app.url_map.bind("localhost")
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in ASSETS:
            continue
        names = sorted(rule.arguments)
        if {"z", "x"} <= set(names) and {"y", "name"} & set(names):  # the tiles over them
            last = "y" if "y" in names else "name"
            fixed = [{"z": str(z), "x": str(tile_xy(lon, lat, z)[0]),
                      last: f"{tile_xy(lon, lat, z)[1]}" + (".mvt" if last == "name" else "")}
                     for z in (8, 12)]
            names = [n for n in names if n not in ("z", "x", last)]
        else:
            fixed = [{}]
        combos = itertools.product(*(candidates(app, world, n, other) for n in names))
        built = [adapter.build(rule.endpoint, {**base, **dict(zip(names, combo))})
                 for base, combo in itertools.islice(
                     itertools.product(fixed, combos), MAX_URLS_PER_ROUTE)]
        for url in built:
            urls += [url, f"{url}?bbox={bbox}", f"{url}?province_code={other}"]
    return sorted(set(urls))


def readable(response) -> str:
    """The text of a response, decoded by its type (binary images give '')."""
    mimetype = response.mimetype or ""
    data = response.get_data()
    if mimetype == "application/vnd.mapbox-vector-tile":
        return repr(mapbox_vector_tile.decode(data)) if data else ""
    if mimetype == "application/pdf":
        from pypdf import PdfReader

        return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    if mimetype.startswith("image/"):
        assert data[:8] == b"\x89PNG\r\n\x1a\n" or mimetype != "image/png"
        return ""
    return data.decode("utf-8", errors="replace")


def crawl(client, urls, headers) -> dict[str, str]:
    texts = {}
    for url in urls:
        response = client.get(url, headers=headers)
        # 503: a designed answer (an analysis still running), never an unexpected error
        assert response.status_code < 500 or response.status_code == 503, (
            url, response.status_code, response.data[:300])
        texts[url] = readable(response)
    return texts


def leaks(texts: dict[str, str], world, province: str) -> list[str]:
    """Secrets of `province` in the answers (an id the URL itself carried may be echoed in
    an error message: that shows nothing)."""
    secrets = [MARKERS[province], *world.record_ids[province]]
    return sorted(f"{url}: {s}" for url, text in texts.items() for s in secrets
                  if s in text and s not in url)


def test_no_route_shows_a_province_reader_another_province(world):
    app, store = world.app, world.store
    urls = crawl_urls(app, world, "11")
    assert len(urls) > 100
    national = crawl(app.test_client(), urls, key_headers(store))
    found = leaks(national, world, "11")
    assert {s.rsplit(": ", 1)[1] for s in found} == {MARKERS["11"], *world.record_ids["11"]}
    by_key = crawl(app.test_client(), urls, key_headers(store, "viewer", "08"))
    assert leaks(by_key, world, "11") == []
    by_session = crawl(sign_in(app, add_user(store, "viewer", "08")), urls, {})
    assert leaks(by_session, world, "11") == []
    # and they do see their own province's records
    assert leaks(by_key, world, "08") and leaks(by_session, world, "08")


@pytest.fixture(params=["key", "session"])
def reader_08(request, world):
    """A province-08 viewer's client and headers: an API key, or a signed-in session."""
    if request.param == "key":
        return world.app.test_client(), key_headers(world.store, "viewer", "08")
    return sign_in(world.app, add_user(world.store, "viewer", "08")), {}


@pytest.mark.parametrize("collection", RESTRICTED_COLLECTIONS)
def test_items_bbox_and_single_items(world, reader_08, collection):
    client, headers = reader_08
    lon, lat = POINTS["11"]
    around = f"{lon - 1},{lat - 1},{lon + 1},{lat + 1}"
    url = f"/collections/{collection}/items"
    assert decode(client.get(f"{url}?bbox={around}", headers=headers),
                  content_type=GEOJSON)["numberMatched"] == 0
    expected = world.store.query_records(collection, RecordQuery(province_code="08", limit=9))
    mine = decode(client.get(f"{url}?bbox=100,8,110,24", headers=headers), content_type=GEOJSON)
    assert mine["numberMatched"] == expected.number_matched > 0
    assert {f["properties"]["province_code"] for f in mine["features"]} == {"08"}
    assert_error(decode(client.get(f"{url}?province_code=11", headers=headers), 403), 403,
                 "Forbidden", "province_code")
    for fid in world.record_ids["11"]:
        assert_error(decode(client.get(f"{url}/{fid}", headers=headers), 404), 404)
    own = [fid for fid in world.record_ids["08"]
           if client.get(f"{url}/{fid}", headers=headers).status_code == 200]
    assert sorted(own) == sorted(f[0] for f in expected.features)
    national = key_headers(world.store)
    assert decode(client.get(f"{url}?bbox={around}", headers=national))["numberMatched"] > 0


@pytest.mark.parametrize("national_first", [True, False])
def test_tiles_hold_only_the_readers_province_whatever_the_cache_holds(world, reader_08,
                                                                      national_first):
    client, headers = reader_08
    national = key_headers(world.store)
    lon, lat = POINTS["11"]
    for layer in ("incidents", "hot-spots", "cooperation"):
        z = 11 if national_first else 12  # each order starts from an empty cache entry
        x, y = tile_xy(lon, lat, z)
        url = f"/tiles/{layer}/{z}/{x}/{y}"
        order = [("national", national), ("08", headers)]
        answers = {}
        for who, sent in (order if national_first else order[::-1]):
            mvt = client.get(f"{url}.mvt", headers=sent)
            png = client.get(f"{url}.png", headers=sent)
            assert mvt.status_code == png.status_code == 200
            assert mvt.headers["Cache-Control"].startswith("private")
            features = (mapbox_vector_tile.decode(mvt.data).get(layer, {"features": []})
                        ["features"] if mvt.data else [])
            alpha = np.asarray(Image.open(io.BytesIO(png.data)).convert("RGBA"))[..., 3]
            answers[who] = ({f["properties"].get("province_code") for f in features},
                            int((alpha > 0).sum()))
        assert answers["national"][0] == {"11"} and answers["national"][1] > 0, answers
        assert answers["08"] == (set(), 0), answers


def test_unit_indicators_of_restricted_kinds_only_inside_the_area(world, reader_08):
    client, headers = reader_08
    body = decode(client.get("/collections/communes/items?limit=1000", headers=headers),
                  content_type=GEOJSON)
    by_province = {}
    for feature in body["features"]:
        props = feature["properties"]
        by_province.setdefault(props["province_code"], []).append("incidents" in props)
    assert set(by_province) == {"08", "11"}
    assert all(by_province["08"]) and not any(by_province["11"])


@pytest.fixture(params=["key", "session"])
def editor_08(request, fresh_world):
    """A province-08 editor: a key, or a signed-in session sending its CSRF token."""
    app, store = fresh_world.app, fresh_world.store
    if request.param == "key":
        return fresh_world, app.test_client(), key_headers(store, "editor", "08")
    client = sign_in(app, add_user(store, "editor", "08"))
    return fresh_world, client, {"X-CSRFToken": session_token(client)}


def test_a_province_editor_cannot_import_into_another_province(editor_08):
    world, client, headers = editor_08
    before = {i["id"] for i in world.store.imports()}
    text = ("Mã vụ việc,Tỉnh,Xã,Ngày,Loại,Kinh độ,Vĩ độ\n"
            "NEW-11,Điện Biên,Sín Thầu,01/04/2024,ma tuý,102.29,22.38\n")
    response = client.post("/imports/incidents", headers=headers, data={
        "file": (io.BytesIO(text.encode()), "vu-viec.csv")}, content_type="multipart/form-data")
    body = decode(response, 422)
    assert [("outside your area" in e["reason"]) for e in body["errors"]] == [True]
    assert {i["id"] for i in world.store.imports()} == before
    listed = decode(client.get("/imports", headers=headers))["imports"]
    assert listed == []  # the seed imports were made by someone else
    own = text.replace("NEW-11,Điện Biên,Sín Thầu", "NEW-08,Tuyên Quang,Lũng Cú").replace(
        "102.29,22.38", "105.31,23.33")
    response = client.post("/imports/incidents", headers=headers, data={
        "file": (io.BytesIO(own.encode()), "vu-viec.csv")}, content_type="multipart/form-data")
    assert decode(response, 201)["written"]["inserted"] == 1
    assert len(decode(client.get("/imports", headers=headers))["imports"]) == 1


def test_a_key_scoped_to_layers_reads_only_those(world):
    client = world.app.test_client()
    scoped = key_headers(world.store, "viewer", "08", layers=["incidents"])
    assert decode(client.get("/collections/incidents/items", headers=scoped))["features"]
    for url in ("/collections/hot-spots/items", "/collections/provinces/items",
                "/tiles/hot-spots/5/25/14.mvt"):
        assert_error(decode(client.get(url, headers=scoped), 403), 403, "Forbidden")
    listed = {c["id"] for c in decode(client.get("/collections", headers=scoped))["collections"]}
    assert listed == {"incidents"}
