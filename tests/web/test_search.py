"""`GET /search`: names with or without diacritics and unit types, pre-2025 names with the
2025 units they went into, bounding boxes to zoom to, and the one JSON error shape.

Expectations are computed from the fixture store (provinces 08 and 11 with their pre-reform
communes) through `geoservice.text.search_key`, never copied from output.
"""

from __future__ import annotations

import shapely
import shapely.geometry
from pytest import mark

from geoservice.services import of as services_of
from geoservice.store import FeatureQuery
from geoservice.text import ascii_fold, search_key
from tests.web.helpers import assert_error, decode, get

EVERYTHING = FeatureQuery(limit=100_000)


def _all(app, collection):
    return services_of(app).store.query(collection, EVERYTHING).features


def _contains(name: str, typed: str) -> bool:
    return f" {search_key(name)} ".find(f" {search_key(typed)}") >= 0


def _bounds(geometry) -> list[float]:
    return [round(v, 5) for v in geometry.bounds]


@mark.parametrize("typed", ["lung cu", "Lũng Cú", "XÃ LŨNG CÚ", "  xa   lung-cu "])
def test_a_commune_is_found_with_or_without_diacritics_and_unit_type(app, client, typed):
    communes = _all(app, "communes")
    expected = {fid for fid, props, _g in communes if _contains(props["name"], typed)}
    assert expected, "the fixture has Lũng Cú"
    body = get(client, f"/search?q={typed}", content_type="application/json")
    found = {m["code"] for m in body["matches"] if m["level"] == "commune"}
    assert found == expected
    first = body["matches"][0]
    fid, props, geometry = next(f for f in communes if f[0] == first["code"])
    assert search_key(first["name"]) == search_key(typed)  # the exact name comes first
    assert first["full_name"] == props["full_name"] and first["name"] == props["name"]
    assert first["province"] == {"code": props["province_code"], "name": props["province_name"]}
    assert first["bbox"] == _bounds(geometry)
    assert geometry.intersects(shapely.geometry.box(*first["bbox"]))


def test_a_province_is_found_by_name(app, client):
    for fid, props, geometry in _all(app, "provinces"):
        typed = ascii_fold(props["name"]).lower()
        body = get(client, f"/search?q=tinh {typed}")
        match = next(m for m in body["matches"] if m["level"] == "province")
        assert (match["code"], match["full_name"]) == (fid, props["full_name"])
        assert match["bbox"] == _bounds(geometry)


def test_an_old_commune_name_leads_to_the_2025_unit_it_went_into(app, client):
    current = {search_key(props["name"]) for _f, props, _g in _all(app, "communes")}
    communes = {fid: props for fid, props, _g in _all(app, "communes")}
    renamed = [(fid, props) for fid, props, _g in _all(app, "legacy-communes")
               if search_key(props["name"]) not in current and props.get("successors")
               and all(code in communes for code in props["successors"])]
    assert renamed, "the fixture has pre-reform communes whose names are gone"
    for fid, props in renamed[:5]:
        body = get(client, f"/search?q={ascii_fold(props['name'])}&limit=50")
        match = next(m for m in body["matches"]
                     if m["level"] == "former-commune" and m["code"] == fid)
        assert match["district"] == props["district_name"]
        assert match["province"]["name"] == props["province_name"]
        successors = sorted(props["successors"])
        assert [u["code"] for u in match["now_in"]] == successors[:10]
        assert match["successor_count"] == len(successors)
        for unit in match["now_in"]:
            assert unit["level"] == "commune"
            assert unit["province"]["code"] == communes[unit["code"]]["province_code"]


def test_an_old_unit_that_kept_its_name_is_shown_on_the_2025_unit(app, client):
    communes = {fid: props for fid, props, _g in _all(app, "communes")}
    kept = [(fid, props) for fid, props, _g in _all(app, "legacy-communes")
            if len(props.get("successors") or []) == 1
            and props["successors"][0] in communes
            and search_key(communes[props["successors"][0]]["name"]) == search_key(props["name"])]
    assert kept
    fid, props = next((f, p) for f, p in kept if search_key(p["name"]) == "lung cu")
    body = get(client, "/search?q=lung cu")
    match = next(m for m in body["matches"] if m["code"] == props["successors"][0])
    assert {"level": "former-commune", "code": fid, "full_name": props["full_name"],
            "district": props["district_name"],
            "province": {"code": props["province_code"], "name": props["province_name"]}
            } in match["former"]
    assert not [m for m in body["matches"] if m["level"] == "former-commune" and m["code"] == fid]


def test_an_old_province_name_leads_to_the_2025_province(app, client):
    legacy = _all(app, "legacy-communes")
    communes = {fid: props for fid, props, _g in _all(app, "communes")}
    old = {props["province_name"] for _f, props, _g in legacy}
    current = {search_key(props["name"]) for _f, props, _g in _all(app, "provinces")}
    gone = sorted(name for name in old if search_key(name) not in current)
    assert gone, "the fixture has a province that was merged away (Hà Giang)"
    for name in gone:
        members = [(props, geometry) for _f, props, geometry in legacy
                   if props["province_name"] == name]
        expected = sorted({communes[c]["province_code"] for props, _g in members
                           for c in props["successors"] if c in communes})
        body = get(client, f"/search?q={ascii_fold(name)}")
        match = next(m for m in body["matches"] if m["level"] == "former-province")
        assert match["full_name"] == name
        assert [u["code"] for u in match["now_in"]] == expected
        union = shapely.union_all([g for _p, g in members])
        assert match["bbox"] == _bounds(union)


def test_limit_and_counts(app, client):
    body = get(client, "/search?q=a&limit=3")
    assert body["numberReturned"] == len(body["matches"]) == 3
    assert body["numberMatched"] >= 3
    assert body["query"] == "a"


@mark.parametrize("query, parameter", [
    ("", "q"), ("?q=", "q"), ("?q=%20%20", "q"), ("?q=!!!", "q"), ("?q=" + "x" * 101, "q"),
    ("?q=lung&limit=0", "limit"), ("?q=lung&limit=51", "limit"), ("?q=lung&limit=ten", "limit"),
    ("?q=lung&bbox=1,2,3,4", "bbox")])
def test_bad_searches_get_the_json_error_shape(client, query, parameter):
    response = client.get(f"/search{query}")
    assert response.mimetype == "application/json"
    assert_error(decode(response, 400), 400, "InvalidParameter", parameter)


def test_search_is_in_the_openapi_document(client):
    document = get(client, "/api")
    operation = document["paths"]["/search"]["get"]
    assert [p["name"] for p in operation["parameters"]] == ["q", "limit"]
