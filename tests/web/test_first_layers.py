"""A worker prepares the map's first layers on start, so the first officials get tiles
at once; gunicorn's hook starts it for our app only."""

from __future__ import annotations

from types import SimpleNamespace

from geoservice.services import of as services_of
from geoservice.web.mappage import DEFAULT_INDICATOR, VISIBLE, prepare_first_layers
from tests.web.test_tiles import demo_db  # noqa: F401  (fixture)


def test_the_maps_first_layers_are_prepared_and_then_served_without_preparing(
        make_app, demo_db, monkeypatch):  # noqa: F811
    from geoservice.layers import sourcecache as tilesource

    app = make_app(demo_db, TILE_CACHE="none")
    assert prepare_first_layers(app) == [*VISIBLE, DEFAULT_INDICATOR]
    prepared = []
    monkeypatch.setattr(tilesource, "prepare", lambda *a, **k: prepared.append(a[1].id))
    year = services_of(app).store.record_years("certification")[-1]
    client = app.test_client()
    for path in ("/tiles/communes/9/404/226.mvt", "/tiles/provinces/6/50/28.mvt",
                 f"/tiles/{DEFAULT_INDICATOR}/6/50/28.mvt?year={year}"):
        assert client.get(path).status_code == 200, path
    assert prepared == []


def test_the_gunicorn_hook_prepares_our_app_and_leaves_other_apps_alone(
        make_app, demo_db):  # noqa: F811
    import threading

    from geoservice import gunicorn_conf

    def preparing():
        return [t for t in threading.enumerate() if t.name == "prepare-layers"]

    gunicorn_conf.post_worker_init(SimpleNamespace(wsgi=lambda environ, start: []))
    assert preparing() == []
    app = make_app(demo_db)
    gunicorn_conf.post_worker_init(SimpleNamespace(wsgi=app))
    threads = preparing()
    assert len(threads) == 1 and threads[0].daemon
    threads[0].join(120)
    prepared = {key[0] for key in services_of(app).sources._items}
    assert prepared == {*VISIBLE, DEFAULT_INDICATOR}
