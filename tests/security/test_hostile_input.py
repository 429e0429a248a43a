"""Hostile and broken requests, on both backends: each gets a clear 4xx in the one JSON error
shape (never a 500), and nothing is written or leaked."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from geoservice.records.parsing.reading import MAX_XLSX_UNCOMPRESSED
from geoservice.services import of as services_of
from tests.security.conftest import key_headers
from tests.web.helpers import assert_error, decode

HOSTILE_GETS = [
    ("/collections/communes/items?limit=99999999999999999999", "limit"),
    ("/collections/communes/items?offset=99999999999999999999", "offset"),
    ("/collections/communes/items?bbox=1e309,0,1,1", "bbox"),
    ("/collections/communes/items?bbox=,,,", "bbox"),
    ("/collections/communes/items?q=" + "a" * 5000, "q"),
    ("/collections/communes/items?q=%00", None),
    ("/collections/communes/items/%00", None),
    ("/collections/incidents/items/%00x", None),
    ("/collections/incidents/items?datetime=2024-13-45", "datetime"),
    ("/collections/incidents/items?datetime=2024-01-01/2023-01-01", "datetime"),
    ("/collections/incidents/items?datetime=../../../etc/passwd", "datetime"),
    ("/collections/incidents/items?category=%27%3B%20DROP%20TABLE%20records%3B--", "category"),
    ("/collections/incidents/items?commune_code=%D9%A1%D9%A2%D9%A3%D9%A4%D9%A5",
     "commune_code"),
    ("/collections/incidents/items?year=%C2%B2%C2%B2%C2%B2%C2%B2", "year"),
    ("/tiles/provinces/99999999999/0/0.mvt", "z"),
    ("/tiles/provinces/3/99999999999999999/0.mvt", "x"),
    ("/tiles/provinces/3/0/99999999999999999999.png", "y"),
    ("/tiles/provinces/3/0/%D9%A1.mvt", "y"),
    ("/tiles/..%2F..%2Fetc%2Fpasswd/3/0/0.mvt", None),
    ("/tiles/provinces.json?year=0000", "year"),
    ("/tiles/provinces/legend.svg", None),
    ("/tiles/provinces/style.json?lang=xx", "lang"),
    ("/imports?kind=../../x", "kind"),
    ("/admin/audit.json?since=2024-02-30", "since"),
    ("/admin/audit.json?limit=-1", "limit"),
    ("/admin/audit.json?actor=%00", "actor"),
    ("/admin/keys/%00", None),
]


@pytest.mark.parametrize("url, parameter", HOSTILE_GETS)
def test_hostile_requests_get_a_clear_4xx(world, url, parameter):
    admin = key_headers(world.store, "admin")
    method = "delete" if url.startswith("/admin/keys/") else "get"
    response = getattr(world.app.test_client(), method)(url, headers=admin)
    assert 400 <= response.status_code < 500, (url, response.status_code, response.data[:300])
    body = decode(response, response.status_code)
    assert_error(body, response.status_code, parameter=parameter)


@pytest.mark.parametrize("headers", [
    {"X-API-Key": "gsk_" + "a" * 10000},
    {"X-API-Key": "gsk_000000000000.\x00" + "a" * 42},
    {"Authorization": "Bearer"},
    {"Authorization": "Bearer gsk_zzz.zzz"},
    {"Authorization": "Basic YWRtaW46YWRtaW4="},
])
def test_bad_credentials_are_refused_not_crashed(world, headers):
    response = world.app.test_client().get("/collections/incidents/items", headers=headers)
    assert response.status_code == 401
    assert_error(decode(response, 401), 401, "Unauthorized")


def test_a_forged_or_garbled_session_cookie_is_anonymous(world):
    client = world.app.test_client()
    for value in ("not-a-cookie", "eyJzaWQiOiJ4In0.forged.signature", "\u00ff" * 50,
                  world.app.session_interface.get_signing_serializer(world.app).dumps(
                      {"sid": ["a", "list"]})):
        client.set_cookie("geoservice_session", value)
        who = decode(client.get("/auth/session"))
        assert who["authenticated"] is False
        assert_error(decode(client.get("/collections/incidents/items"), 401), 401)


def upload(client, headers, data: bytes, name: str, query: str = ""):
    return client.post(f"/imports/incidents{query}", headers=headers,
                       content_type="multipart/form-data",
                       data={"file": (io.BytesIO(data), name)})


def xlsx_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b" " * (MAX_XLSX_UNCOMPRESSED + 10))
    return buffer.getvalue()


@pytest.mark.parametrize("data, name, words", [
    (b"MZ\x90\x00\x03" + b"\x00" * 200, "virus.exe", "not a CSV"),
    (b"MZ\x90\x00\x03" + b"\x00" * 200, "virus.csv", "binary"),
    (b"\xd0\xcf\x11\xe0" + b"\x00" * 200, "cu.xls", "97-2003"),
    (None, "bom.xlsx", "too large"),
    (b"", "rong.csv", "empty"),
    (b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a '1234567890'>]><x>&a;</x>", "x.xlsx",
     "not a valid Excel"),
])
def test_hostile_uploads_are_refused_and_write_nothing(fresh_world, data, name, words):
    store = fresh_world.store
    before = len(store.imports())
    data = xlsx_bomb() if data is None else data
    response = upload(fresh_world.app.test_client(), key_headers(store, "editor"), data, name)
    body = decode(response, 400)
    assert_error(body, 400, "InvalidParameter", "file")
    assert words in body["description"]
    assert len(store.imports()) == before


def test_uploaded_names_are_labels_and_report_cells_are_not_formulas(fresh_world):
    store, client = fresh_world.store, fresh_world.app.test_client()
    editor = key_headers(store, "editor")
    text = ("Mã vụ việc,Tỉnh,Xã,Ngày,Loại,Kinh độ,Vĩ độ\n"
            "=HYPERLINK(\"http://evil\"),Tuyên Quang,Lũng Cú,01/04/2024,=1+1,105.31,23.33\n")
    response = upload(client, editor, text.encode(), "..\\..\\windows\\x.csv", "?format=csv")
    assert response.status_code == 422 and response.mimetype == "text/csv"
    report = response.get_data().decode("utf-8-sig")
    assert "'=1+1" in report and ",=1+1" not in report
    good = text.replace("=1+1", "ma tuý")
    decode(upload(client, editor, good.encode(), "../../../etc/vu-viec.csv"), 201)
    assert store.imports()[0]["filename"] == "vu-viec.csv"
    stored = decode(client.get("/collections/incidents/items?limit=100", headers=editor))
    refs = {f["properties"].get("ref") for f in stored["features"]}
    assert '=HYPERLINK("http://evil")' in refs  # kept as data, never run: exports neutralise


def test_deeply_nested_or_huge_json_bodies_are_400(world):
    admin, client = key_headers(world.store, "admin"), world.app.test_client()
    deep = "[" * 100000 + "]" * 100000
    for body in (deep, '{"name": "' + "x" * 100000 + '"}', "{not json", json.dumps([1] * 10)):
        response = client.post("/admin/keys", headers={**admin,
                                                       "Content-Type": "application/json"},
                               data=body)
        assert response.status_code == 400, (body[:30], response.status_code)
        assert_error(decode(response, 400), 400)


def test_oversized_requests_are_413(make_app, loaded_db):
    app = make_app(loaded_db, MAX_UPLOAD_MB=1)
    response = upload(app.test_client(), key_headers(services_of(app).store,
                                                     "editor"), b"a" * (2 * 1024 * 1024),
                      "lon.csv")
    assert_error(decode(response, 413), 413, "RequestEntityTooLarge")
