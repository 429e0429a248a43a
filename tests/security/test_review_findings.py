"""The small findings of the security and fault review (issue 21), one test each: a refused
oversized upload is in the audit trail, a file over the row limit is a 422, an offset past
every integer is refused by name, doubled slashes answer in the JSON shape (no HTML
redirect), and the hot-spot feature lists take the settings their tiles take.

Re-run: ``.venv/bin/python -m pytest -q -p no:cacheprovider tests/security/test_review_findings.py``
"""

from __future__ import annotations

import io

import pytest

from geoservice.errors import ContentRejected, InvalidParameter, status_for
from geoservice.store.security import AuditQuery
from tests.security.conftest import key_headers
from tests.web.helpers import assert_error, decode


def upload(client, headers, data: bytes, name: str = "vu-viec.csv"):
    return client.post("/imports/incidents", headers=headers, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(data), name)})


def audit_actions(store) -> list[dict]:
    return store.audit_rows(AuditQuery(limit=1000))[0]


def test_an_oversized_upload_is_a_413_in_the_audit_trail(fresh_world):
    store = fresh_world.store
    fresh_world.app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024  # MAX_UPLOAD_MB = 1
    client = fresh_world.app.test_client()
    editor = key_headers(store, "editor")
    before = len([r for r in audit_actions(store) if r["action"] == "import_rejected"])
    response = upload(client, editor, b"a" * (2 * 1024 * 1024))
    assert_error(decode(response, 413), 413, "RequestEntityTooLarge")
    refused = [r for r in audit_actions(store) if r["action"] == "import_rejected"]
    assert len(refused) == before + 1
    row = refused[0]  # newest first
    assert row["actor"].startswith("key:") and row["target"] == "incidents"
    assert "MAX_UPLOAD_MB" in str(row["detail"])
    # Nobody's body is read before the route admits them: anonymous is a 401, not recorded.
    assert_error(decode(upload(client, {}, b"a" * (2 * 1024 * 1024)), 401), 401)
    assert len([r for r in audit_actions(store) if r["action"] == "import_rejected"]) == \
        before + 1


def test_content_rejections_are_422_in_the_one_table():
    assert status_for(ContentRejected("too many rows", parameter="file")) == 422
    assert isinstance(ContentRejected("x"), InvalidParameter)  # callers catching it still do


def test_a_file_over_the_row_limit_is_a_422(make_app, loaded_db):
    from geoservice.services import of as services_of

    app = make_app(loaded_db)
    headers = key_headers(services_of(app).store, "editor")
    rows = "Mã vụ việc,Tỉnh\n" + "".join(f"X{i},08\n" for i in range(100_001))
    response = upload(app.test_client(), headers, rows.encode())
    body = decode(response, 422)
    assert_error(body, 422, parameter="file")
    assert "100,000" in body["description"]


def test_an_offset_past_every_integer_is_refused_by_name(world):
    client = world.app.test_client()
    for url in ("/collections/provinces/items?offset=9223372036854775807",
                "/collections/provinces/items?offset=99999999999999999999999",
                "/collections/provinces/items?limit=9223372036854775807"):
        body = decode(client.get(url), 400)
        name = url.rsplit("?", 1)[1].split("=")[0]
        assert_error(body, 400, "InvalidParameter", name)
        assert "must be at least" not in body["description"], body
    body = decode(client.get("/collections/provinces/items?offset=9223372036854775807"), 400)
    assert body["description"] == "offset must be a whole number from 0 to 1000000000."


@pytest.mark.parametrize("path", ["/collections//provinces", "/collections/provinces//items",
                                  "/static//app.js", "/tiles//", "/collections/provinces/"
                                  "items//"])
def test_doubled_slashes_answer_in_the_json_shape(world, path):
    response = world.app.test_client().get("/", environ_overrides={"PATH_INFO": path})
    assert "Location" not in response.headers
    assert_error(decode(response, 404), 404, "NotFound")


def test_leading_slashes_are_the_resource_itself(world):
    client = world.app.test_client()
    for path in ("//collections", "///collections"):
        response = client.get("/", environ_overrides={"PATH_INFO": path})
        assert "Location" not in response.headers
        assert {c["id"] for c in decode(response)["collections"]} >= {"provinces"}


def test_hot_spot_feature_lists_take_the_settings_their_tiles_take(world):
    client, national = world.app.test_client(), key_headers(world.store)
    for query in ("period=2024", "period=2024-Q1", "category=drugs&period=2024",
                  "province_code=08"):
        tile = client.get(f"/tiles/hotspots-gistar/5/25/14.mvt?{query}", headers=national)
        items = client.get(f"/collections/hotspots-gistar/items?{query}", headers=national)
        assert tile.status_code != 400, (query, tile.get_data()[:300])
        assert items.status_code != 400, (query, items.get_data()[:300])
        assert items.status_code in (200, 503), items.status_code  # 503: being computed
        if items.status_code == 503:
            assert_error(decode(items, 503), 503, "AnalysisNotReady")
    bad = client.get("/collections/hotspots-gistar/items?period=soon", headers=national)
    assert_error(decode(bad, 400), 400, "InvalidParameter", "period")
