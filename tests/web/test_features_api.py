"""The OGC API - Features endpoints over the two-province fixture, decoded and checked."""

from __future__ import annotations

import unicodedata
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import shapely

from geoservice.collections import COLLECTIONS
from geoservice.config import DEFAULTS
from geoservice.records.kinds import KINDS
from tests.web.helpers import assert_error, decode, geometry, get, link

GEOJSON = "application/geo+json"
COLLECTION_IDS = ["provinces", "communes", "border-lines", "legacy-communes"]
LAYER_OF = {"provinces": "provinces", "communes": "communes", "border-lines": "border_lines",
            "legacy-communes": "legacy_communes"}
KEY_OF = {"provinces": "code", "communes": "code", "border-lines": "neighbor",
          "legacy-communes": "code"}
GEOMETRY_TYPES = {"provinces": {"MultiPolygon"}, "communes": {"MultiPolygon"},
                  "border-lines": {"MultiLineString"},
                  "legacy-communes": {"Polygon", "MultiPolygon"}}
LUNG_CU_BOX = (105.28, 23.30, 105.32, 23.34)


def all_items(client, collection, **params):
    query = "&".join(f"{k}={quote(str(v))}" for k, v in {"limit": 1000, **params}.items())
    body = get(client, f"/collections/{collection}/items?{query}", content_type=GEOJSON)
    assert body["numberReturned"] == len(body["features"]) == body["numberMatched"]
    return body


def codes(body):
    return [f["id"] for f in body["features"]]


# --- landing, conformance, collections ---------------------------------------------------


def test_landing_page_links_work(client):
    body = get(client, "/", content_type="application/json")
    assert body["title"]
    rels = {entry["rel"] for entry in body["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= rels
    assert get(client, link(body, "conformance"))["conformsTo"]
    assert get(client, link(body, "data"))["collections"]
    assert get(client, link(body, "service-desc"))["openapi"].startswith("3.0")
    assert get(client, link(body, "self")) == body


def test_conformance(client):
    classes = get(client, "/conformance")["conformsTo"]
    base = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
    assert {base + "core", base + "geojson", base + "oas30"} <= set(classes)


def test_collections_lists_every_collection_with_extent(client, built):
    body = get(client, "/collections", content_type="application/json")
    listed = {c["id"]: c for c in body["collections"]}
    public_records = [cid for cid, d in COLLECTIONS.items()
                      if d.source == "records" and not d.restricted]
    public = [cid for cid, d in COLLECTIONS.items() if not d.restricted]
    assert list(listed)[:len(public)] == public  # then every layer served as a collection
    assert all(listed[cid].get("layer") for cid in list(listed)[len(public):])
    assert set(COLLECTION_IDS) <= set(public)
    assert not {"incidents", "hot-spots", "cooperation"} & set(listed), "restricted listed"
    for cid in public_records:
        assert listed[cid]["numberOfFeatures"] == 0 and listed[cid]["restricted"] is False
    for cid, entry in ((cid, listed[cid]) for cid in COLLECTION_IDS):
        frame = built.layers[LAYER_OF[cid]]
        assert entry["numberOfFeatures"] == len(frame)
        assert entry["title"] and entry["itemType"] == "feature"
        assert entry["extent"]["spatial"]["crs"].endswith("CRS84")
        (bbox,) = entry["extent"]["spatial"]["bbox"]
        assert len(bbox) == 4
        minx, miny, maxx, maxy = frame.geometry[frame.geometry.notna()].total_bounds
        # Never smaller than the data, and close to it.
        assert bbox[0] <= minx and bbox[1] <= miny and bbox[2] >= maxx and bbox[3] >= maxy
        assert bbox == pytest.approx([minx, miny, maxx, maxy], abs=1e-4)
        assert 102 < bbox[0] < bbox[2] < 110 and 8 < bbox[1] < bbox[3] < 24
        items = link(entry, "items")
        assert items.endswith(f"/collections/{cid}/items")
        assert get(client, items, content_type=GEOJSON)["type"] == "FeatureCollection"
        assert get(client, link(entry, "self")) == entry


@pytest.mark.parametrize("cid", COLLECTION_IDS)
def test_one_collection(client, cid):
    body = get(client, f"/collections/{cid}", content_type="application/json")
    assert body["id"] == cid
    assert body["title"] == COLLECTIONS[cid].title
    assert body["numberOfFeatures"] > 0


# --- items -------------------------------------------------------------------------------


@pytest.mark.parametrize("cid", COLLECTION_IDS)
def test_items_are_valid_geojson_features(client, built, cid):
    body = all_items(client, cid)
    frame = built.layers[LAYER_OF[cid]]
    assert body["type"] == "FeatureCollection"
    assert body["numberMatched"] == len(frame)
    assert codes(body) == sorted(frame[KEY_OF[cid]])
    assert body["timeStamp"].endswith("Z")
    allowed = set(COLLECTIONS[cid].fields)
    expected = frame.set_index(KEY_OF[cid]).geometry
    for feature in body["features"]:
        assert feature["type"] == "Feature"
        props = feature["properties"]
        assert set(props) <= allowed, set(props) - allowed
        assert props[KEY_OF[cid]] == feature["id"]
        if feature["geometry"] is None:
            assert cid == "legacy-communes" and expected[feature["id"]] is None
            continue
        geom = geometry(feature)
        assert geom.geom_type in GEOMETRY_TYPES[cid]
        assert geom.equals_exact(expected[feature["id"]], tolerance=1e-6)
    for name in ("name", "full_name"):
        values = [f["properties"].get(name) for f in body["features"]]
        assert all(unicodedata.is_normalized("NFC", v) for v in values if v)


def test_default_limit_and_numbers(client, built):
    default = DEFAULTS["DEFAULT_ITEMS_LIMIT"]  # 100: GDAL pages with it
    total = len(built.layers["communes"])
    assert total > default, "the fixture must hold more communes than one default page"
    body = get(client, "/collections/communes/items", content_type=GEOJSON)
    assert body["numberReturned"] == len(body["features"]) == default
    assert body["numberMatched"] == total
    assert codes(body) == sorted(built.layers["communes"]["code"])[:default]
    assert link(body, "prev") is None
    assert parse_qs(urlsplit(link(body, "next")).query)["offset"] == [str(default)]


def test_following_next_links_visits_every_feature_once(client, built):
    url = "/collections/communes/items?limit=7"
    seen, pages = [], 0
    matched = None
    while url:
        body = get(client, url, content_type=GEOJSON)
        matched = body["numberMatched"] if matched is None else matched
        assert body["numberMatched"] == matched
        assert body["numberReturned"] == len(body["features"]) <= 7
        assert link(body, "self") is not None
        seen += codes(body)
        url = link(body, "next")
        pages += 1
        assert pages < 100, "the next links do not end"
    assert seen == sorted(built.layers["communes"]["code"])
    assert len(seen) == len(set(seen)) == matched
    assert pages == -(-matched // 7)


def test_prev_links_lead_back(client):
    first = get(client, "/collections/communes/items?limit=5")
    second = get(client, link(first, "next"))
    back = get(client, link(second, "prev"))
    assert codes(back) == codes(first)
    assert codes(second) != codes(first)
    third = get(client, link(second, "next"))
    assert codes(get(client, link(third, "prev"))) == codes(second)
    # An offset that is not a multiple of the limit: prev never goes below 0.
    odd = get(client, "/collections/communes/items?limit=5&offset=3")
    assert parse_qs(urlsplit(link(odd, "prev")).query)["offset"] == ["0"]
    assert codes(odd) == (codes(first) + codes(second))[3:8]


def test_last_page_has_no_next_link_and_past_the_end_is_empty(client, built):
    total = len(built.layers["communes"])
    last = get(client, f"/collections/communes/items?limit=10&offset={total - 3}")
    assert last["numberReturned"] == 3 and link(last, "next") is None
    beyond = get(client, f"/collections/communes/items?offset={total + 5}")
    assert beyond["features"] == [] and beyond["numberMatched"] == total


def test_paging_links_keep_the_filters(client):
    url = "/collections/communes/items?province_code=11&border_neighbor=LA&limit=3"
    seen, matched = [], None
    while url:
        body = get(client, url)
        matched = body["numberMatched"]
        query = parse_qs(urlsplit(link(body, "self")).query)
        assert query["province_code"] == ["11"] and query["border_neighbor"] == ["LA"]
        for feature in body["features"]:
            assert feature["properties"]["province_code"] == "11"
            assert "LA" in feature["properties"]["border_neighbors"]
        seen += codes(body)
        url = link(body, "next")
    assert len(seen) == len(set(seen)) == matched >= 5


def test_limit_is_clamped_to_the_configured_maximum(make_app, loaded_db):
    client = make_app(loaded_db, MAX_ITEMS_LIMIT=20, DEFAULT_ITEMS_LIMIT=4).test_client()
    body = get(client, "/collections/communes/items?limit=500")
    assert body["numberReturned"] == 20
    assert parse_qs(urlsplit(link(body, "next")).query)["limit"] == ["20"]
    assert get(client, "/collections/communes/items")["numberReturned"] == 4


def test_bbox_filter_is_exact(client, built):
    box = shapely.box(*LUNG_CU_BOX)
    body = all_items(client, "communes", bbox=",".join(map(str, LUNG_CU_BOX)))
    assert "00715" in codes(body)
    for feature in body["features"]:
        assert geometry(feature).intersects(box), feature["id"]
    frame = built.layers["communes"]
    expected = sorted(frame["code"][frame.geometry.intersects(box)])
    assert codes(body) == expected


def test_bbox_filter_over_a_larger_area_with_paging(client, built):
    bbox = (103.0, 21.0, 103.5, 22.0)
    box = shapely.box(*bbox)
    frame = built.layers["communes"]
    expected = sorted(frame["code"][frame.geometry.intersects(box)])
    assert len(expected) > 10
    url = f"/collections/communes/items?bbox={','.join(map(str, bbox))}&limit=4"
    seen = []
    while url:
        body = get(client, url)
        assert body["numberMatched"] == len(expected)
        assert all(geometry(f).intersects(box) for f in body["features"])
        seen += codes(body)
        url = link(body, "next")
    assert seen == expected


def test_bbox_far_away_finds_nothing(client):
    body = get(client, "/collections/communes/items?bbox=0,0,1,1")
    assert body["features"] == [] and body["numberMatched"] == 0


def test_province_code_filter(client, built):
    frame = built.layers["communes"]
    for code in ("08", "11"):
        body = all_items(client, "communes", province_code=code)
        assert {f["properties"]["province_code"] for f in body["features"]} == {code}
        assert codes(body) == sorted(frame["code"][frame["province_code"] == code])
    assert get(client, "/collections/communes/items?province_code=99")["numberMatched"] == 0
    legacy = all_items(client, "legacy-communes", province_code="02")  # pre-reform Hà Giang
    assert legacy["numberMatched"] > 100
    assert {f["properties"]["province_name"] for f in legacy["features"]} == {"Tỉnh Hà Giang"}


def test_border_neighbor_filter(client, built):
    frame = built.layers["communes"]
    for neighbour in ("CN", "LA"):
        body = all_items(client, "communes", border_neighbor=neighbour)
        expected = sorted(frame["code"][frame["border_neighbors"].map(lambda v, n=neighbour:
                                                                       n in v)])
        assert codes(body) == expected and len(expected) >= 5
        assert all(neighbour in f["properties"]["border_neighbors"] for f in body["features"])
    lower = all_items(client, "communes", border_neighbor="cn")
    assert codes(lower) == codes(all_items(client, "communes", border_neighbor="CN"))
    assert all_items(client, "communes", border_neighbor="KH")["numberMatched"] == 0
    assert codes(all_items(client, "provinces", border_neighbor="LA")) == ["11"]
    assert codes(all_items(client, "provinces", border_neighbor="CN")) == ["08", "11"]
    combined = all_items(client, "communes", border_neighbor="CN", province_code="11")
    assert all({"CN"} <= set(f["properties"]["border_neighbors"]) for f in combined["features"])
    assert {f["properties"]["province_code"] for f in combined["features"]} == {"11"}


@pytest.mark.parametrize("typed", ["lung cu", "Lũng Cú", "xã lũng cú", "LUNG CU", "Xã Lũng Cú",
                                   unicodedata.normalize("NFD", "Lũng Cú")])
def test_name_search_finds_lung_cu(client, typed):
    body = get(client, f"/collections/communes/items?q={quote(typed)}", content_type=GEOJSON)
    assert codes(body) == ["00715"] and body["numberMatched"] == 1
    name = body["features"][0]["properties"]["name"]
    assert name == "Lũng Cú" and unicodedata.is_normalized("NFC", name)
    assert body["features"][0]["properties"]["full_name"] == "Xã Lũng Cú"


def test_name_search_with_a_raw_utf8_query_string(client):
    response = client.get("/collections/communes/items", query_string={"q": "Lũng Cú"})
    assert codes(decode(response)) == ["00715"]


def test_name_search_other_collections_and_word_starts(client):
    assert codes(get(client, "/collections/provinces/items?q=dien%20bien")) == ["11"]
    assert codes(get(client, "/collections/provinces/items?q=T%E1%BB%89nh%20Tuy%C3%AAn")) == [
        "08"]
    legacy = get(client, "/collections/legacy-communes/items?q=lung%20cu")
    assert codes(legacy) == ["00715"]
    assert legacy["features"][0]["properties"]["successors"] == ["00715"]
    # Search goes by word starts: "ung cu" is inside "lung cu" but starts no word.
    assert get(client, "/collections/communes/items?q=ung%20cu")["numberMatched"] == 0
    both = get(client, "/collections/communes/items?q=ha%20giang&limit=100")
    assert {f["properties"]["name"] for f in both["features"]} >= {"Hà Giang 1", "Hà Giang 2"}


def test_single_item_lung_cu(client, built):
    body = get(client, "/collections/communes/items/00715", content_type=GEOJSON)
    assert body["type"] == "Feature" and body["id"] == "00715"
    props = body["properties"]
    assert props["name"] == "Lũng Cú" and props["full_name"] == "Xã Lũng Cú"
    assert props["name_ascii"] == "Lung Cu" and props["province_code"] == "08"
    assert props["border_neighbors"] == ["CN"]
    assert props["border_band"] == "0"
    assert props["distance_to_border_km"] == 0
    assert props["border_length_km"]["CN"] > 5
    assert props["area_km2"] > 0 and props["official_area_km2"] > 0
    geom = geometry(body)
    assert geom.geom_type == "MultiPolygon"
    assert geom.intersects(shapely.box(*LUNG_CU_BOX))
    assert get(client, link(body, "self")) == body
    assert get(client, link(body, "collection"))["id"] == "communes"


def test_single_items_of_other_collections(client):
    line = get(client, "/collections/border-lines/items/LA", content_type=GEOJSON)
    assert line["properties"]["neighbor"] == "LA" and line["properties"]["name_en"] == "Laos"
    assert geometry(line).geom_type == "MultiLineString"
    assert line["properties"]["length_km"] > 100
    province = get(client, "/collections/provinces/items/11")
    assert province["properties"]["name"] == "Điện Biên"
    assert sorted(province["properties"]["border_neighbors"]) == ["CN", "LA"]
    assert province["properties"]["commune_count"] > 10
    no_geometry = get(client, "/collections/legacy-communes/items/03177")
    assert no_geometry["geometry"] is None and no_geometry["properties"]["successors"]


def test_legacy_communes_have_successors_that_resolve(client):
    body = all_items(client, "legacy-communes")
    successors = set()
    for feature in body["features"]:
        listed = feature["properties"]["successors"]
        assert isinstance(listed, list) and listed, feature["id"]
        assert all(isinstance(c, str) and len(c) == 5 for c in listed)
        successors.update(listed)
    communes = set(codes(all_items(client, "communes")))
    assert successors <= communes
    split = get(client, "/collections/legacy-communes/items/00688")["properties"]
    assert len(split["successors"]) >= 2
    for code in split["successors"]:
        assert get(client, f"/collections/communes/items/{code}")["id"] == code


# --- OpenAPI -----------------------------------------------------------------------------


def resolve(document, ref):
    assert ref.startswith("#/")
    node = document
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def test_openapi_document(client):
    response = client.get("/api")
    assert response.mimetype == "application/vnd.oai.openapi+json"
    doc = decode(response)
    assert doc["openapi"].startswith("3.0")
    assert doc["info"]["title"] and doc["info"]["version"]
    assert doc["servers"][0]["url"] == "http://localhost"
    paths = doc["paths"]
    assert {"/", "/conformance", "/collections"} <= set(paths)
    for cid in COLLECTION_IDS:
        for path in (f"/collections/{cid}", f"/collections/{cid}/items",
                     f"/collections/{cid}/items/{{featureId}}"):
            assert "get" in paths[path], path
            assert "200" in paths[path]["get"]["responses"]
        names = {resolve(doc, p["$ref"])["name"] if "$ref" in p else p["name"]
                 for p in paths[f"/collections/{cid}/items"]["get"]["parameters"]}
        # Part 1 and 3 (f, datetime, filter, sortby, properties) on every collection, then
        # exactly the filters each takes (year: indicators of units; category: its kinds).
        expected = {"bbox", "limit", "offset", "f", "datetime", "filter", "filter-lang",
                    "filter-crs", "sortby", "properties", *COLLECTIONS[cid].filters}
        expected |= {"year"} if cid in ("communes", "provinces") else set()
        if COLLECTIONS[cid].source == "records" and KINDS[cid].category_field is None:
            expected.discard("category")
        assert expected == names, cid
    operation_ids = [op["operationId"] for item in paths.values() for op in item.values()]
    assert len(operation_ids) == len(set(operation_ids))
    for ref in set(refs(doc)):
        assert resolve(doc, ref), ref
    error = doc["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"code", "description", "status"}


# --- errors ------------------------------------------------------------------------------


ERRORS = [
    ("/collections/nope", 404, "CollectionNotFound", None),
    ("/collections/nope/items", 404, "CollectionNotFound", None),
    ("/collections/nope/items/00715", 404, "CollectionNotFound", None),
    ("/collections/communes/items/99999", 404, "FeatureNotFound", None),
    ("/collections/communes/items?limit=abc", 400, "InvalidParameter", "limit"),
    ("/collections/communes/items?limit=0", 400, "InvalidParameter", "limit"),
    ("/collections/communes/items?limit=-5", 400, "InvalidParameter", "limit"),
    ("/collections/communes/items?limit=1.5", 400, "InvalidParameter", "limit"),
    ("/collections/communes/items?offset=-1", 400, "InvalidParameter", "offset"),
    ("/collections/communes/items?offset=x", 400, "InvalidParameter", "offset"),
    ("/collections/communes/items?bbox=104,21,105", 400, "InvalidParameter", "bbox"),
    ("/collections/communes/items?bbox=104,21,105,22,1", 400, "InvalidParameter", "bbox"),
    ("/collections/communes/items?bbox=a,b,c,d", 400, "InvalidParameter", "bbox"),
    ("/collections/communes/items?bbox=104,21,190,22", 400, "InvalidParameter", "bbox"),
    ("/collections/communes/items?bbox=104,-91,105,22", 400, "InvalidParameter", "bbox"),
    ("/collections/communes/items?bbox=nan,21,105,22", 400, "InvalidParameter", "bbox"),
    ("/collections/communes/items?bbox=104,21,inf,22", 400, "InvalidParameter", "bbox"),
    ("/collections/communes/items?bbox=105,21,104,22", 400, "InvalidParameter", "bbox"),
    ("/collections/communes/items?bbox=104,22,105,21", 400, "InvalidParameter", "bbox"),
    ("/collections/communes/items?border_neighbor=XX", 400, "InvalidParameter",
     "border_neighbor"),
    ("/collections/communes/items?province_code=8", 400, "InvalidParameter", "province_code"),
    ("/collections/communes/items?q=%25%25", 400, "InvalidParameter", "q"),
    ("/collections/communes/items?f=xml", 400, "InvalidParameter", "f"),  # f=html: a page
    ("/collections/communes/items?colour=red", 400, "InvalidParameter", "colour"),
    ("/collections/border-lines/items?province_code=08", 400, "InvalidParameter",
     "province_code"),
    ("/collections/provinces/items?province_code=08", 400, "InvalidParameter", "province_code"),
    ("/collections/border-lines/items?q=lao", 400, "InvalidParameter", "q"),
    ("/no/such/url", 404, "NotFound", None),
    ("/collections/communes/items/00715/extra", 404, "NotFound", None),
]


@pytest.mark.parametrize(("url", "status", "code", "parameter"), ERRORS)
def test_errors_have_one_json_shape(client, url, status, code, parameter):
    response = client.get(url)
    assert response.mimetype == "application/json"
    body = decode(response, status)
    assert_error(body, status, code, parameter)


@pytest.mark.parametrize(("method", "url"), [
    ("post", "/collections/communes/items"),
    ("put", "/collections/communes/items/00715"),
    ("delete", "/collections/communes/items/00715"),
    ("post", "/collections"),
])
def test_wrong_method_is_405_in_the_same_shape(client, method, url):
    response = getattr(client, method)(url, json={"name": "x"})
    body = decode(response, 405)
    assert_error(body, 405, "MethodNotAllowed")


def test_405_names_the_allowed_methods(client):
    response = client.post("/collections/communes/items")
    assert response.status_code == 405
    allowed = {m.strip() for m in response.headers.get("Allow", "").split(",")}
    assert "GET" in allowed


@pytest.mark.parametrize("param", ["limit", "offset"])
def test_unicode_digits_are_a_400_not_a_500(client, param):
    response = client.get(f"/collections/communes/items?{param}=%C2%B2")
    body = decode(response, 400)
    assert_error(body, 400, "InvalidParameter", param)


def test_data_not_built_is_a_503(empty_app):
    client = empty_app.test_client()
    for url in ("/collections/communes/items", "/collections/communes/items/00715",
                "/collections/legacy-communes/items?q=lung"):
        body = decode(client.get(url), 503)
        assert_error(body, 503, "DataNotBuilt")
        assert "build-data" in body["description"]
    # The documents that do not need data still answer.
    collections = get(client, "/collections")
    assert {c["id"]: c["numberOfFeatures"] for c in collections["collections"]
            if c["id"] in COLLECTION_IDS} == {cid: 0 for cid in COLLECTION_IDS}
    # Nothing measured yet: each collection reports Vietnam's extent (OGC wants one bbox).
    assert all(len(c["extent"]["spatial"]["bbox"]) == 1 for c in collections["collections"])
    assert get(client, "/")["links"]
    # Bad parameters are still reported as such.
    assert_error(decode(client.get("/collections/communes/items?limit=0"), 400), 400,
                 "InvalidParameter", "limit")
