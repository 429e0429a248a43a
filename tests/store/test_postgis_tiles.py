"""Vector tiles made by PostGIS (`ST_AsMVT`) are the tiles our encoder makes: the same
features with the same properties and nearly the same shapes, the layer's filter and a
province reader's area applied; layers joined in Python stay with our encoder."""

from __future__ import annotations

import collections

import mapbox_vector_tile
import pytest
import shapely
from shapely.geometry import shape

from geoservice.layers.catalog import load_catalog
from geoservice.layers.source import prepare
from geoservice.render.tiles import mvt_tile
from geoservice.services import of as services_of
from geoservice.store import open_store
from geoservice.store.postgis_tiles import can_tile
from geoservice.tilemath import WORLD

CATALOG = load_catalog()
DATABASE_LAYERS = sorted(layer_id for layer_id, layer in CATALOG.items() if can_tile(layer))
# Each layer at an overview and a detail zoom within its range; the two fixture provinces
# (08, 11) face China and Laos only, so the Cambodian border layer has nothing to compare.
COMPARED = [(layer_id, z) for layer_id in DATABASE_LAYERS if layer_id != "border-communes-kh"
            for z in sorted({max(CATALOG[layer_id].minzoom, min(z, CATALOG[layer_id].maxzoom))
                             for z in (8, 11)})]


@pytest.fixture(scope="module")
def store(loaded_postgis):
    opened = open_store(loaded_postgis)
    opened.mvt_min_zoom = 0
    yield opened
    opened.close()


def test_only_layers_read_straight_from_stored_features_are_made_by_the_database():
    assert {"communes", "provinces", "border-communes", "border-lines"} <= set(DATABASE_LAYERS)
    for layer_id in ("certification-rate", "incidents", "cooperation-lines",
                     "hotspots-gistar"):
        assert not can_tile(CATALOG[layer_id]), layer_id


def _tiles_over(source, z: int, count: int = 3):
    """Tiles at zoom z over the largest features of a prepared source."""
    order = sorted(range(len(source)), key=lambda i: -source.geometries[i].area)
    size = WORLD / 2**z
    tiles = []
    for i in order:
        point = source.geometries[i].representative_point()
        tile = (z, int((point.x + WORLD / 2) // size), int((WORLD / 2 - point.y) // size))
        if tile not in tiles:
            tiles.append(tile)
        if len(tiles) == count:
            break
    return tiles


def _features(data: bytes, layer_id: str) -> list[dict]:
    decoded = mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})
    assert set(decoded) <= {layer_id}
    return decoded.get(layer_id, {}).get("features", [])


def _key(properties: dict) -> tuple:
    return tuple(sorted((k, round(v, 6) if isinstance(v, float) else v)
                        for k, v in properties.items()))


@pytest.mark.parametrize(("layer_id", "z"), COMPARED)
def test_database_tiles_hold_what_our_encoder_draws(store, layer_id, z):
    layer = CATALOG[layer_id]
    source = prepare(store, layer)
    assert len(source), f"{layer_id} has no feature on the fixture"
    compared = 0
    for z_, x, y in _tiles_over(source, z):
        ours = _features(mvt_tile(source, z_, x, y), layer_id)
        database = _features(store.database_mvt(layer, z_, x, y, None), layer_id)
        assert ours, f"{layer_id} {z_}/{x}/{y}: our tile is empty over a feature"
        assert (collections.Counter(_key(f["properties"]) for f in database)
                == collections.Counter(_key(f["properties"]) for f in ours))
        if layer.geometry == "polygon":  # same shapes, up to the band simplification
            ours_area = {_key(f["properties"]): shape(f["geometry"]).area for f in ours}
            for feature in database:
                area = shape(feature["geometry"]).area
                assert area == pytest.approx(ours_area[_key(feature["properties"])],
                                             rel=0.03, abs=4096 * 4096 * 1e-4)
        for feature in database:
            geometry = shape(feature["geometry"])
            assert geometry.is_valid and not geometry.is_empty
            assert geometry.geom_type.removeprefix("Multi") == {
                "polygon": "Polygon", "line": "LineString", "point": "Point"}[layer.geometry]
        compared += len(database)
    assert compared


def test_database_tiles_keep_a_province_readers_area(store):
    layer = CATALOG["communes"]
    source = prepare(store, layer)
    for z, x, y in _tiles_over(source, 9, count=6):
        everyone = _features(store.database_mvt(layer, z, x, y, None), "communes")
        own = _features(store.database_mvt(layer, z, x, y, "08"), "communes")
        assert {f["properties"]["province_code"] for f in own} <= {"08"}
        assert len(own) == sum(f["properties"]["province_code"] == "08" for f in everyone)


def test_database_tiles_start_at_the_configured_zoom(store):
    layer = CATALOG["communes"]
    store.mvt_min_zoom = 10
    try:
        assert store.database_mvt(layer, 9, 403, 225, None) is None
        assert store.database_mvt(layer, 10, 806, 450, None) is not None
        assert store.database_mvt(CATALOG["certification-rate"], 12, 3224, 1800, None) is None
    finally:
        store.mvt_min_zoom = 0


def test_an_empty_database_tile_is_empty_bytes(store):
    assert store.database_mvt(CATALOG["communes"], 10, 0, 0, None) == b""


def test_the_service_answers_database_tiles(make_app, loaded_postgis):
    app = make_app(None, DATABASE_URL=loaded_postgis, DATABASE_MVT_MIN_ZOOM=0,
                   TILE_CACHE="none")
    store = services_of(app).store
    layer = CATALOG["border-communes"]
    (z, x, y), = _tiles_over(prepare(store, layer), 10, count=1)
    response = app.test_client().get(f"/tiles/border-communes/{z}/{x}/{y}.mvt")
    assert response.status_code == 200
    assert response.data == store.database_mvt(layer, z, x, y, None)
    features = _features(response.data, "border-communes")
    assert features and all(f["properties"]["border_neighbors"] for f in features)
    assert all(shapely.is_valid(shape(f["geometry"])) for f in features)
