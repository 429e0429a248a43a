"""The audit trail on both backends: what is recorded (imports and corrections, sign-ins,
failed sign-ins, key use without a row per tile, administrative changes over HTTP and on
the command line), that the database refuses to change or delete a row, and the exports
for administrators (JSON; CSV with formulas neutralised)."""

from __future__ import annotations

import csv
import io
import json
import sqlite3

import psycopg
import pytest
from click.testing import CliRunner

from geoservice.cli import main
from geoservice.store.records import RecordQuery
from geoservice.store.security import AuditQuery
from tests.security.conftest import (
    PASSWORD,
    add_user,
    csrf_token,
    key_headers,
    session_token,
    sign_in,
)
from tests.web.helpers import assert_error, decode


def trail(store, action=None) -> list[dict]:
    rows, total = store.audit_rows(AuditQuery(action=action, limit=1000))
    assert len(rows) == total
    return rows[::-1]  # oldest first


INCIDENT = ("Mã vụ việc,Tỉnh,Xã,Ngày,Loại,Kinh độ,Vĩ độ,Mức độ\n"
            "AUD-1,Tuyên Quang,Lũng Cú,01/04/2024,ma tuý,105.31,23.33,{severity}\n")


def post_file(client, text, headers, name="vu-viec.csv"):
    return client.post("/imports/incidents", headers=headers, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(text.encode()), name)})


def test_imports_corrections_and_rejections_are_recorded(fresh_world):
    app, store = fresh_world.app, fresh_world.store
    client, editor = app.test_client(), key_headers(store, "editor", "08")
    decode(post_file(client, INCIDENT.format(severity="thấp"), editor), 201)
    decode(post_file(client, INCIDENT.format(severity="cao"), editor), 201)  # a correction
    decode(post_file(client, INCIDENT.format(severity="không rõ"), editor), 422)
    decode(post_file(client, "PK\x03\x04 broken", editor, "x.xlsx"), 400)
    rows = [r for r in trail(store) if r["action"].startswith("import")]
    actor = rows[0]["actor"]
    assert actor.startswith("key:") and {r["actor"] for r in rows} == {actor}
    assert [r["action"] for r in rows] == ["import", "import", "import_rejected",
                                           "import_rejected"]
    first, correction = rows[0]["detail"], rows[1]["detail"]
    assert (first["inserted"], first["corrected"]) == (1, 0)
    assert (correction["inserted"], correction["corrected"]) == (0, 1)
    record_id = next(fid for fid, props, _g in store.query_records(
        "incidents", RecordQuery(limit=100)).features if props["ref"] == "AUD-1")
    history = store.record_history("incidents", record_id)
    assert [h["action"] for h in history] == ["insert", "update"]
    assert rows[1]["target"] == store.imports()[0]["id"]
    assert rows[2]["detail"]["errors"] == 1 and "reason" in rows[3]["detail"]
    assert all(r["remote_addr"] == "127.0.0.1" and r["at"] for r in rows)


def test_sign_ins_and_failures_are_recorded_with_the_address(fresh_world):
    app, store = fresh_world.app, fresh_world.store
    name = add_user(store, "viewer", "11")
    client = app.test_client()
    client.post("/login", data={"username": name, "password": "not the password",
                                "csrf_token": csrf_token(client)},
                environ_base={"REMOTE_ADDR": "10.1.2.3"})
    sign_in(app, name, client=client)
    client.post("/logout", data={"csrf_token": session_token(client)})
    rows = [r for r in trail(store) if r["target"] == name]
    assert [(r["action"], r["actor"]) for r in rows] == [
        ("login_failed", "anonymous"), ("login", f"user:{name}"), ("logout", f"user:{name}")]
    assert rows[0]["remote_addr"] == "10.1.2.3" and rows[0]["detail"] == {"reason": "password"}


def test_key_use_is_one_row_per_key_route_kind_and_minute(fresh_world, monkeypatch):
    from datetime import UTC, datetime

    from geoservice import audit, services

    class OneMinute(datetime):  # the requests below must not straddle a minute's end
        @classmethod
        def now(cls, tz=None):
            return datetime(2026, 11, 23, 10, 0, 30, tzinfo=UTC)

    monkeypatch.setattr(audit, "datetime", OneMinute)
    app, store = fresh_world.app, fresh_world.store
    client, headers = app.test_client(), key_headers(store, "viewer", "08")
    for x in range(40):
        assert client.get(f"/tiles/provinces/8/{200 + x % 5}/110.mvt",
                          headers=headers).status_code == 200
    for _ in range(5):
        client.get("/collections/incidents/items", headers=headers)
    client.get("/tiles", headers={})  # anonymous: no key, no row
    uses = trail(store, "key_use")
    assert sorted(r["target"] for r in uses) == ["features", "tiles"]
    key_id = headers["X-API-Key"][4:16]
    assert all(r["actor"].startswith(f"key:{key_id}") for r in uses)
    # Another process (no memory of this minute) still cannot add a second row.
    services.of(app).key_uses.forget()
    client.get("/tiles/provinces/8/200/110.mvt", headers=headers)
    assert len(trail(store, "key_use")) == 2


def test_administrators_manage_keys_over_http_and_it_is_recorded(fresh_world):
    app, store = fresh_world.app, fresh_world.store
    client, admin = app.test_client(), key_headers(store, "admin")
    body = decode(client.post("/admin/keys", headers=admin, json={
        "name": "cổng tỉnh", "role": "viewer", "area": "11", "layers": ["incidents"]}), 201)
    secret, key_id = body["secret"], body["key"]["id"]
    assert body["key"]["area"] == "11" and body["key"]["layers"] == ["incidents"]
    new = {"X-API-Key": secret}
    refs = [f["properties"]["ref"] for f in decode(client.get(
        "/collections/incidents/items", headers=new))["features"]]
    assert refs and all(r.startswith("DBSECRET") for r in refs)
    listed = decode(client.get("/admin/keys", headers=admin))["keys"]
    assert key_id in {k["id"] for k in listed} and "secret_hash" not in str(listed)
    assert decode(client.delete(f"/admin/keys/{key_id}", headers=admin)) == {"revoked": key_id}
    assert_error(decode(client.get("/collections/incidents/items", headers=new), 401), 401)
    assert_error(decode(client.delete(f"/admin/keys/{key_id}", headers=admin), 404), 404)
    for bad, parameter in ([{"name": "x", "role": "god"}, "role"],
                           [{"name": "x", "area": "99"}, "area"],
                           [{"name": "x", "layers": ["nope"]}, "layers"],
                           [{"name": ""}, "name"], [["not", "an", "object"], "body"],
                           [{"name": "x", "extra": 1}, "body"]):
        assert_error(decode(client.post("/admin/keys", headers=admin, json=bad), 400), 400,
                     "InvalidParameter", parameter)
    actions = [(r["action"], r["target"]) for r in trail(store) if r["action"] != "key_use"]
    assert actions == [("key_create", key_id), ("key_revoke", key_id)]
    # Only administrators: a province editor, a national viewer, a signed-in user.
    for headers in (key_headers(store, "editor", "08"), key_headers(store)):
        assert_error(decode(client.get("/admin/keys", headers=headers), 403), 403)
    signed_in = sign_in(app, add_user(store, "editor"))
    assert signed_in.post("/admin/keys", json={"name": "x"},
                          headers={"X-CSRFToken": session_token(signed_in)}).status_code == 403
    assert_error(decode(client.get("/admin/keys"), 401), 401)


def cli(world, *args, stdin=None):
    env = {"GEOSERVICE_INSTANCE_PATH": str(world.app.instance_path),
           "GEOSERVICE_DATABASE_URL": world.url}
    return CliRunner().invoke(main, list(args), env=env, input=stdin, catch_exceptions=False)


def test_user_commands_are_recorded(fresh_world):
    store = fresh_world.store
    created = cli(fresh_world, "users", "create", "Can.Bo-08", "--role", "editor", "--area",
                  "08", "--password-stdin", stdin=PASSWORD + "\n")
    assert created.exit_code == 0, created.output
    for args in (("users", "set-role", "can.bo-08", "viewer", "--area", "11"),
                 ("users", "disable", "can.bo-08"), ("users", "enable", "can.bo-08")):
        assert cli(fresh_world, *args).exit_code == 0
    assert cli(fresh_world, "users", "set-password", "can.bo-08", "--password-stdin",
               stdin="Một mật khẩu mới 2026\n").exit_code == 0
    listed = cli(fresh_world, "users", "list").output
    assert "can.bo-08  viewer  11  enabled" in listed and "$argon2" not in listed
    refused = cli(fresh_world, "users", "create", "boss", "--role", "admin", "--area", "08",
                  "--password-stdin", stdin=PASSWORD + "\n")
    assert refused.exit_code == 2 and "national" in refused.output
    short = cli(fresh_world, "users", "create", "shorty", "--role", "viewer",
                "--password-stdin", stdin="short\n")
    assert short.exit_code == 2 and "10" in short.output
    rows = [r for r in trail(store) if r["target"] == "can.bo-08"]
    assert [r["action"] for r in rows] == ["user_create", "user_set_role", "user_disable",
                                           "user_enable", "user_set_password"]
    assert {r["remote_addr"] for r in rows} == {"local"}
    assert all(r["actor"].startswith("cli:") for r in rows)
    assert store.get_user("can.bo-08")["password_hash"].startswith("$argon2id$")
    client = sign_in(fresh_world.app, "can.bo-08", "Một mật khẩu mới 2026")
    assert decode(client.get("/auth/session"))["area"] == "11"


def test_the_database_refuses_to_change_or_delete_audit_rows(fresh_world):
    store = fresh_world.store
    from geoservice import audit

    audit.record(store, "backup", "cli:test", "x", {"n": 1}, "local")
    if fresh_world.url.startswith("sqlite"):
        conn = sqlite3.connect(fresh_world.url.removeprefix("sqlite:///"))
        refused = (sqlite3.IntegrityError,)
    else:
        conn = psycopg.connect(fresh_world.url.split("?")[0], autocommit=True)
        conn.execute(f'SET search_path TO "{fresh_world.url.split("schema=")[1]}", public')
        refused = (psycopg.errors.RaiseException,)
    for statement in ("UPDATE audit SET actor = 'someone else'", "DELETE FROM audit",
                      *(["TRUNCATE audit"] if not fresh_world.url.startswith("sqlite") else [])):
        with pytest.raises(refused, match="append-only"):
            conn.execute(statement)
    conn.close()
    assert [r["actor"] for r in trail(store)][-1] == "cli:test"


def test_exports_for_administrators_with_formulas_neutralised(fresh_world):
    app, store = fresh_world.app, fresh_world.store
    client, admin = app.test_client(), key_headers(store, "admin")
    evil = '=HYPERLINK("http://evil.example","x")'
    client.post("/login", data={"username": evil, "password": "whatever 123",
                                "csrf_token": csrf_token(client)})
    client.post("/login", data={"username": "+cmd|' /C calc'!A0", "password": "x",
                                "csrf_token": csrf_token(client)})
    response = client.get("/admin/audit.csv?action=login_failed", headers=admin)
    assert response.mimetype == "text/csv" and "attachment" in \
        response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    targets = [r["target"] for r in rows]
    assert targets == ["'+cmd|' /C calc'!A0", "'" + evil]
    assert all(not r["target"].startswith(("=", "+", "-", "@")) for r in rows)
    exported = json.loads(client.get("/admin/audit.json?action=login_failed",
                                     headers=admin).get_data())
    assert [r["target"] for r in exported["audit"]] == ["+cmd|' /C calc'!A0", evil]
    page = client.get("/admin/audit?action=login_failed", headers=admin)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Nhật ký kiểm tra" in text
    assert "=HYPERLINK(&#34;http" in text or "=HYPERLINK(&quot;http" in text  # escaped
    exports = trail(store, "audit_export")
    assert [r["target"] for r in exports] == ["csv", "json"]
    for url in ("/admin/audit.csv?since=yesterday", "/admin/audit.json?action=rm",
                "/admin/audit?limit=0", "/admin/audit.json?colour=red"):
        assert_error(decode(client.get(url, headers=admin), 400), 400, "InvalidParameter")
    for headers in ({}, key_headers(store, "editor")):
        assert client.get("/admin/audit.json", headers=headers).status_code in (401, 403)
    since = exports[0]["at"][:10]
    dated = json.loads(client.get(f"/admin/audit.json?since={since}&action=audit_export",
                                  headers=admin).get_data())["audit"]
    assert len(dated) == 2
    cli_export = cli(fresh_world, "audit", "export", "--format", "json", "--action",
                     "login_failed")
    assert cli_export.exit_code == 0
    assert [r["target"] for r in json.loads(cli_export.stdout)["audit"]] == [
        "+cmd|' /C calc'!A0", evil]
