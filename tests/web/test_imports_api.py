"""Imports over HTTP and API keys, on both backends: the same all-or-nothing import as the
command line, answered with the row-level report (JSON or CSV); keys decide who may write
and where; restricted collections open to keys whose area covers the data."""

from __future__ import annotations

import csv
import io

import pytest

from geoservice.auth import create_key
from geoservice.boundaries.load import load_boundaries
from geoservice.services import of as services_of
from tests.records.test_importer import FIXED, MESSY
from tests.web.helpers import assert_error, decode

GEOJSON = "application/geo+json"
INCIDENTS = ("Mã vụ việc,Tỉnh,Xã,Ngày,Loại,Kinh độ,Vĩ độ,Mức độ\n"
             "TQ-1,Tuyên Quang,Lũng Cú,05/03/2024,ma tuý,105.31,23.33,cao\n"
             "DB-1,Điện Biên,Sín Thầu,06/03/2024,ma tuý,102.29,22.38,thấp\n")


@pytest.fixture
def app(make_app, store_url, built):
    app = make_app(None, DATABASE_URL=store_url)
    load_boundaries(services_of(app).store, built.gpkg)
    return app


def key(app, role="editor", area="national"):
    return {"X-API-Key": create_key(services_of(app).store, "test", role, area)[1]}


def upload(client, kind, text, headers, query="", name="hop-tac.csv"):
    return client.post(f"/imports/{kind}{query}", headers=headers,
                       data={"file": (io.BytesIO(text.encode()), name)},
                       content_type="multipart/form-data")


def cooperation_count(client, headers):
    response = client.get("/collections/cooperation/items?limit=100", headers=headers)
    return decode(response, content_type=GEOJSON)["numberMatched"]


def test_messy_upload_is_rejected_with_the_report_and_stores_nothing(app):
    client, editor = app.test_client(), key(app)
    body = decode(upload(client, "cooperation", MESSY, editor), 422)
    assert body["status"] == "rejected" and body["written"] == {}
    assert {(e["row"], e["column"]) for e in body["errors"]} == {
        (3, "Ngày"), (4, "Xã"), (5, "Xã")}
    response = upload(client, "cooperation", MESSY, editor, "?format=csv")
    assert response.status_code == 422 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert [r["row"] for r in rows] == ["3", "4", "5"]
    assert rows[2]["value"] == "Xã Không Có Thật"
    assert cooperation_count(client, editor) == 0


def test_fixed_upload_applies_and_reupload_changes_nothing(app):
    client, editor = app.test_client(), key(app)
    first = decode(upload(client, "cooperation", FIXED, editor), 201)
    assert first["status"] == "applied" and first["written"]["inserted"] == 2
    again = decode(upload(client, "cooperation", FIXED, editor), 201)
    assert (again["written"]["inserted"], again["written"]["unchanged"]) == (0, 2)
    assert cooperation_count(client, editor) == 2
    listed = decode(client.get("/imports", headers=editor))
    assert [i["inserted"] for i in listed["imports"]] == [0, 2]
    assert listed["imports"][0]["imported_by"].startswith("key:")


def test_province_editor_cannot_write_another_province(app):
    client = app.test_client()
    editor_08 = key(app, area="08")
    body = decode(upload(client, "incidents", INCIDENTS, editor_08, name="vu-viec.csv"), 422)
    assert [(e["row"], "outside your area" in e["reason"]) for e in body["errors"]] == [
        (3, True)], body["errors"]
    national = key(app, role="viewer")
    assert decode(client.get("/collections/incidents/items", headers=national),
                  content_type=GEOJSON)["numberMatched"] == 0
    only_08 = INCIDENTS.rsplit("DB-1", 1)[0]
    decode(upload(client, "incidents", only_08, editor_08, name="vu-viec.csv"), 201)
    decode(upload(client, "incidents", INCIDENTS, key(app), name="vu-viec.csv"), 201)
    everything = decode(client.get("/collections/incidents/items", headers=national),
                        content_type=GEOJSON)
    assert sorted(f["properties"]["ref"] for f in everything["features"]) == ["DB-1", "TQ-1"]
    viewer_11 = key(app, role="viewer", area="11")
    mine = decode(client.get("/collections/incidents/items?bbox=100,8,110,24",
                             headers=viewer_11), content_type=GEOJSON)
    assert [f["properties"]["ref"] for f in mine["features"]] == ["DB-1"]
    other = decode(client.get("/collections/incidents/items?province_code=08",
                              headers=viewer_11), 403)
    assert_error(other, 403, "Forbidden", "province_code")
    tq = next(f for f in everything["features"] if f["properties"]["ref"] == "TQ-1")
    decode(client.get(f"/collections/incidents/items/{tq['id']}", headers=viewer_11), 404)


@pytest.mark.parametrize("headers, status, code", [
    ({}, 401, "Unauthorized"),
    ({"X-API-Key": "not-a-key"}, 401, "Unauthorized"),
    ({"X-API-Key": "gsk_000000000000." + "a" * 43}, 401, "Unauthorized"),
])
def test_uploads_need_a_valid_key(app, headers, status, code):
    body = decode(upload(app.test_client(), "cooperation", FIXED, headers), status)
    assert_error(body, status, code)
    assert "gsk_" not in body["description"] or "expected" in body["description"]


def test_viewers_cannot_import_and_revoked_keys_are_refused(app):
    client, store = app.test_client(), services_of(app).store
    assert_error(decode(upload(client, "cooperation", FIXED, key(app, role="viewer")), 403),
                 403, "Forbidden")
    row, text = create_key(store, "portal", "editor", "national")
    assert store.revoke_api_key(row["id"]) and not store.revoke_api_key(row["id"])
    body = decode(upload(client, "cooperation", FIXED, {"Authorization": f"Bearer {text}"}),
                  401)
    assert "revoked" in body["description"]
    assert all(r["secret_hash"] != text.split(".")[1] for r in store.api_keys())


@pytest.mark.parametrize("query, data, parameter", [
    ("", None, "file"),
    ("?utm_zone=50", "x", "utm_zone"),
    ("?vn2000_meridian=abc", "x", "vn2000_meridian"),
    ("?format=xml", "x", "format"),
    ("?sheet=2", "x", "sheet"),
])
def test_bad_upload_parameters_are_400(app, query, data, parameter):
    form = {"file": (io.BytesIO(data.encode()), "a.csv")} if data else {}
    response = app.test_client().post(f"/imports/cooperation{query}", headers=key(app),
                                      data=form, content_type="multipart/form-data")
    assert_error(decode(response, 400), 400, "InvalidParameter", parameter)


def test_unknown_kind_and_oversized_files(make_app, store_url, built):
    app = make_app(None, DATABASE_URL=store_url, MAX_UPLOAD_MB=1)
    client, editor = app.test_client(), key(app)
    assert_error(decode(upload(client, "bananas", FIXED, editor), 400), 400,
                 "InvalidParameter", "kind")
    big = FIXED + "x" * (2 * 1024 * 1024)
    body = decode(upload(client, "cooperation", big, editor), 413)
    assert_error(body, 413, "RequestEntityTooLarge")


def test_binary_garbage_is_a_clear_400(app):
    response = app.test_client().post(
        "/imports/cooperation", headers=key(app),
        data={"file": (io.BytesIO(b"PK\x03\x04garbage"), "bad.xlsx")},
        content_type="multipart/form-data")
    assert response.status_code in (400, 422)
    body = decode(response, response.status_code)
    assert body.get("code") == "InvalidParameter" or body["status"] == "rejected"


CERT_FILE = ("Mã xã,Năm,Nhóm,SL xét duyệt,Số đạt\n"
             "00715,2024,Khu dân cư,28,25\n"
             "00733,2024,Khu dân cư,30,29\n")


def upload_form(client, kind, text, headers, form=(), query="", name="ket-qua.csv"):
    data = {"file": (io.BytesIO(text.encode()), name)}
    data = [*data.items(), *form]
    from werkzeug.datastructures import MultiDict

    return client.post(f"/imports/{kind}{query}", headers=headers, data=MultiDict(data),
                       content_type="multipart/form-data")


def store_counts(app):
    from geoservice.store.records import RecordQuery

    store = services_of(app).store
    return (store.query_records("certification", RecordQuery(limit=1)).number_matched,
            len(store.imports()))


def test_column_mapping_as_repeatable_form_fields(app):
    client, editor = app.test_client(), key(app)
    refused = decode(upload_form(client, "certification", CERT_FILE, editor), 422)
    assert "missing required column(s): reviewed" in refused["errors"][0]["reason"]
    form = [("column", "reviewed=SL xét duyệt"), ("column", "certified=Số đạt")]
    body = decode(upload_form(client, "certification", CERT_FILE, editor, form), 201)
    assert body["written"]["inserted"] == 2
    bad = decode(upload_form(client, "certification", CERT_FILE, editor,
                             [("column", "bananas=Số đạt")]), 400)
    assert_error(bad, 400, "InvalidParameter", "column")


@pytest.mark.parametrize("how", ["query", "form"])
def test_dry_run_previews_and_stores_nothing(app, how):
    client, editor = app.test_client(), key(app, area="08")
    form = [("column", "reviewed=SL xét duyệt")]
    query = "?dry_run=1" if how == "query" else ""
    if how == "form":
        form.append(("dry_run", "true"))
    before = store_counts(app)
    body = decode(upload_form(client, "certification", CERT_FILE, editor, form, query), 200)
    assert body["status"] == "preview" and body["dry_run"] is True and body["written"] == {}
    assert [(r["row"], r["commune_code"], r["commune"], r["action"])
            for r in body["preview"]["rows"]] == [(2, "00715", "Xã Lũng Cú", "insert"),
                                                  (3, "00733", "Xã Sà Phìn", "insert")]
    assert store_counts(app) == before
    wrong = CERT_FILE.replace("30,29", "30,31")
    refused = decode(upload_form(client, "certification", wrong, editor, form, query), 422)
    assert refused["dry_run"] is True and [e["row"] for e in refused["errors"]] == [3]
    assert store_counts(app) == before
    bad = decode(upload_form(client, "certification", CERT_FILE, editor, form[:1],
                             "?dry_run=maybe"), 400)
    assert_error(bad, 400, "InvalidParameter", "dry_run")


def test_province_editor_point_in_another_province_is_422_naming_the_row(app):
    client = app.test_client()
    text = ("Mã vụ việc,Tỉnh,Xã,Ngày,Loại,Kinh độ,Vĩ độ\n"
            "TQ-1,Tuyên Quang,Lũng Cú,05/03/2024,ma tuý,105.31,23.33\n"
            "TQ-2,Tuyên Quang,Lũng Cú,06/03/2024,ma tuý,105.85,21.03\n")
    body = decode(upload(client, "incidents", text, key(app, area="08"), name="vu-viec.csv"),
                  422)
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(3, "Kinh độ")]
    assert "outside province 08" in body["errors"][0]["reason"]
    viewer = key(app, role="viewer")
    assert decode(client.get("/collections/incidents/items", headers=viewer),
                  content_type=GEOJSON)["numberMatched"] == 0
    national = decode(upload(client, "incidents", text, key(app), name="vu-viec.csv"), 201)
    assert any(w.startswith("row 3: the point lies") for w in national["warnings"])


def test_closing_the_app_waits_for_the_work_after_an_import(app, monkeypatch):
    """The indicators an HTTP import leaves to compute are done before the app's store closes
    (a schema dropped meanwhile deadlocked with them on PostGIS)."""
    import threading
    import time

    import geoservice.indicators.published as published

    done, started = [], threading.Event()

    def slow_publication(store, settings, version):
        started.set()
        time.sleep(0.5)
        done.append(version)

    monkeypatch.setattr(published, "publish_in_child", slow_publication)
    client = app.test_client()
    decode(upload(client, "incidents", INCIDENTS, key(app), name="vu-viec.csv"), 201)
    assert started.wait(5), "the work after the import did not start"
    assert done == []  # the import answered before that work ended
    version = services_of(app).store.data_version()
    services_of(app).close()
    assert done == [version]
