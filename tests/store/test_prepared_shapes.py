"""Tile-ready shapes kept in the store: a fresh process answers its first tile without
simplifying again, with the same bytes (both stores)."""

from __future__ import annotations

import mapbox_vector_tile
import mercantile
import pytest

from geoservice.boundaries.load import load_boundaries
from geoservice.layers.catalog import load_catalog
from geoservice.layers.source import TileSource, shape_key
from geoservice.layers.versions import shape_version
from geoservice.services import of as services_of
from geoservice.store import FeatureQuery, open_store

CATALOG = load_catalog()


@pytest.fixture
def unprepared_url(store_url, built):
    """A store of each backend with the fixture boundaries and no prepared shapes."""
    store = open_store(store_url)
    load_boundaries(store, built.gpkg, prepare=False)
    store.close()
    return store_url


@pytest.fixture
def simplified(monkeypatch):
    """The layers simplified in this test (every call of the preparation)."""
    calls = []
    original = TileSource.simplify

    def counted(source):
        calls.append(source.layer.id)
        return original(source)

    monkeypatch.setattr(TileSource, "simplify", counted)
    return calls


def _tiles(store):
    """A communes tile at z8 and z11 and a provinces tile at z5, over a fixture commune."""
    fid, _props, geometry = store.query("communes", FeatureQuery(limit=1)).features[0]
    point = geometry.representative_point()
    return fid, [(layer, *mercantile.tile(point.x, point.y, z))
                 for layer, z in (("provinces", 5), ("communes", 8), ("communes", 11))]


def _get(client, layer, tile):
    answer = client.get(f"/tiles/{layer}/{tile.z}/{tile.x}/{tile.y}.mvt")
    assert answer.status_code == 200
    return answer.data


def test_a_second_app_reads_the_shapes_the_first_prepared(make_app, unprepared_url,
                                                          simplified):
    first = make_app(None, DATABASE_URL=unprepared_url, TILE_CACHE="none")
    code, tiles = _tiles(services_of(first).store)
    drawn = [_get(first.test_client(), layer, tile) for layer, tile in
             ((layer, mercantile.Tile(x, y, z)) for layer, x, y, z in tiles)]
    assert sorted(set(simplified)) == ["communes", "provinces"]  # prepared once each
    codes = [f["properties"].get("code") for f in
             mapbox_vector_tile.decode(drawn[2])["communes"]["features"]]
    assert code in codes

    simplified.clear()
    second = make_app(None, DATABASE_URL=unprepared_url, TILE_CACHE="none")
    again = [_get(second.test_client(), layer, mercantile.Tile(x, y, z))
             for layer, x, y, z in tiles]
    assert simplified == []  # nothing simplified: the shapes came from the store
    assert again == drawn


def test_shapes_are_kept_when_boundaries_are_loaded(make_app, store_url, built, simplified):
    store = open_store(store_url)
    load_boundaries(store, built.gpkg)
    layer = CATALOG["communes"]
    kept = store.prepared_shapes(shape_key(layer), shape_version(store, layer))
    communes = store.extent("communes")[0]
    assert sorted(kept) == [0, 5, 7, 9, 11] and all(len(v) == communes for v in kept.values())
    store.close()
    simplified.clear()
    app = make_app(None, DATABASE_URL=store_url, TILE_CACHE="none")
    code, tiles = _tiles(services_of(app).store)
    layer_id, x, y, z = tiles[2]
    decoded = mapbox_vector_tile.decode(_get(app.test_client(), "certification-rate",
                                             mercantile.Tile(x, y, z)))
    assert code in [f["properties"]["code"]
                    for f in decoded["certification-rate"]["features"]]
    assert simplified == []  # the certification layer shares the communes' shapes


def test_shapes_of_another_version_are_not_used(store_url, built, simplified):
    store = open_store(store_url)
    load_boundaries(store, built.gpkg)
    layer = CATALOG["provinces"]
    before = shape_version(store, layer)
    store.set_meta("boundaries_loaded_at", "2099-01-01T00:00:00+00:00")  # new boundaries
    assert shape_version(store, layer) != before
    assert store.prepared_shapes(shape_key(layer), shape_version(store, layer)) == {}
    from geoservice.layers.source import prepare

    simplified.clear()
    prepare(store, layer)
    assert simplified == ["provinces"]
    assert store.prepared_shapes(shape_key(layer), before) == {}  # the old ones dropped
    store.close()
