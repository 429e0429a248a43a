"""What a process reads instead of computing after a start or an import (both stores): the
place names kept with the boundaries, and the latest year's indicators kept by the import
that changed them."""

from __future__ import annotations

import io
import json
import time

import mercantile

from geoservice.auth import create_key
from geoservice.indicators.published import indicators
from geoservice.layers.versions import boundaries_version
from geoservice.render import labelstore
from geoservice.services import of as services_of
from geoservice.store import open_store
from tests.render.helpers import decode
from tests.render.test_versions import _certify, _commune

CERTIFICATION = ("Mã xã,Năm,Nhóm,Số đánh giá,Số đạt\n"
                 "00715,2025,Khu dân cư,28,25\n"
                 "00733,2025,Khu dân cư,30,29\n")


def _no_computing(monkeypatch):
    def refuse(*_args):
        raise AssertionError("the names were computed again")

    monkeypatch.setattr(labelstore, "candidates", refuse)


def test_loading_boundaries_keeps_the_names_for_every_process(loaded_url, monkeypatch):
    store = open_store(loaded_url)
    kept = json.loads(store.get_meta(labelstore.META_KEY))
    assert kept["version"] == boundaries_version(store)
    assert any(row[3] == "province" for row in kept["items"])
    store.close()

    _no_computing(monkeypatch)
    fresh = open_store(loaded_url)  # another process: nothing derived in memory yet
    names = labelstore.labels_of(fresh)
    assert [item.code for item in names.items] == [row[0] for row in kept["items"]]
    assert names.items[0].x == kept["items"][0][5]
    assert names.placed(6).indices.size > 0
    fresh.close()


def test_names_follow_the_boundaries_not_the_records(loaded_url, monkeypatch):
    store = open_store(loaded_url)
    before, version = labelstore.labels_of(store), boundaries_version(store)
    code, province, _point = _commune(store)
    _certify(store, code, province, 7)
    assert boundaries_version(store) == version
    _no_computing(monkeypatch)
    assert labelstore.labels_of(store) is before
    store.close()


def test_a_certification_import_keeps_the_label_tiles(make_app, loaded_url, monkeypatch):
    app = make_app(None, DATABASE_URL=loaded_url)
    client = app.test_client()
    t = mercantile.tile(105.3, 23.3, 6)
    first = client.get(f"/tiles/labels/6/{t.x}/{t.y}.png")
    assert first.status_code == 200 and (decode(first.data)[..., 3] > 0).any()

    store = services_of(app).store
    code, province, _point = _commune(store)
    _certify(store, code, province, 9)

    from geoservice.render import labels

    def refuse(*_args, **_kwargs):
        raise AssertionError("the label tile was drawn again")

    monkeypatch.setattr(labels, "png_tile", refuse)
    again = client.get(f"/tiles/labels/6/{t.x}/{t.y}.png")
    assert again.status_code == 200 and again.data == first.data


def test_an_import_keeps_the_latest_indicators_for_the_other_processes(make_app, loaded_url):
    app = make_app(None, DATABASE_URL=loaded_url)
    store = services_of(app).store
    editor = {"X-API-Key": create_key(store, "test", "editor", "national")[1]}
    response = app.test_client().post(
        "/imports/certification", headers=editor, content_type="multipart/form-data",
        data={"file": (io.BytesIO(CERTIFICATION.encode()), "ket-qua.csv")})
    assert response.status_code == 201, response.get_data(as_text=True)
    version = store.data_version()
    for level in ("commune", "province"):  # computed beside the answer, in this worker
        deadline = time.monotonic() + 60
        while True:
            kept = json.loads(store.get_meta(f"indicators/{level}/2025") or "{}")
            if kept.get("version") == version or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert kept.get("version") == version

    other = open_store(loaded_url)  # another worker: reads them, does not compute them
    import geoservice.indicators.published as published

    computed = []
    original = published.unit_indicators
    published.unit_indicators = lambda *a, **k: computed.append(a) or original(*a, **k)
    try:
        values = indicators(other, "commune", 2025)
    finally:
        published.unit_indicators = original
    assert computed == []
    assert values["00715"]["certification_rate_residential"] == round(25 / 28, 4)
    other.close()
