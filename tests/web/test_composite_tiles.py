"""Composite tiles: one MVT carrying several layers (basemap and boundaries), each its own
MVT layer holding exactly the features of that layer's own tile, each layer's access
checked; and the composite's TileJSON."""

from __future__ import annotations

import mapbox_vector_tile
import pytest

from geoservice.auth import create_key
from geoservice.services import of as services_of
from tests.web.helpers import assert_error, decode
from tests.web.test_tiles import demo_db, tile_of  # noqa: F401 - fixtures and helper

BOUNDARIES = ("countries", "provinces", "communes", "border-lines")


@pytest.fixture
def app(make_app, demo_db):  # noqa: F811 - the fixture imported above
    return make_app(demo_db)


def _features(data: bytes) -> dict[str, list]:
    return {name: layer["features"] for name, layer in mapbox_vector_tile.decode(data).items()}


@pytest.mark.parametrize("zoom", [7, 9])
def test_a_composite_tile_holds_each_layer_as_its_own_tile_does(app, zoom):
    client = app.test_client()
    (z, x, y), *_ = tile_of("communes", app, zoom)
    composite = client.get(f"/tiles/{','.join(BOUNDARIES)}/{z}/{x}/{y}.mvt")
    assert composite.status_code == 200 and composite.mimetype == \
        "application/vnd.mapbox-vector-tile"
    assert composite.headers["Cache-Control"].startswith("public")
    layers = _features(composite.data)
    singles = {}
    for layer_id in BOUNDARIES:
        single = client.get(f"/tiles/{layer_id}/{z}/{x}/{y}.mvt")
        singles.update(_features(single.data))
    assert set(layers) == {name for name, features in singles.items() if features}
    assert {"provinces", "communes"} <= set(layers)
    for name, features in layers.items():
        assert len(features) == len(singles[name]) > 0, name
        assert sorted(f["properties"].get("code", "") for f in features) == sorted(
            f["properties"].get("code", "") for f in singles[name])
    again = client.get(f"/tiles/{','.join(BOUNDARIES)}/{z}/{x}/{y}.mvt",
                       headers={"If-None-Match": composite.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_each_layer_of_a_composite_passes_its_own_access_decision(app):
    client, store = app.test_client(), services_of(app).store
    (z, x, y), *_ = tile_of("incidents", app, 9)
    url = f"/tiles/provinces,incidents/{z}/{x}/{y}.mvt"
    refused = client.get(url)
    assert_error(decode(refused, 401), 401)
    assert "incidents" in refused.get_json()["description"]
    scoped = {"X-API-Key": create_key(store, "s", "viewer", "national",
                                      layers=["provinces"])[1]}
    assert_error(decode(client.get(url, headers=scoped), 403), 403)
    national = {"X-API-Key": create_key(store, "n", "viewer", "national")[1]}
    answered = client.get(url, headers=national)
    assert answered.status_code == 200
    assert answered.headers["Cache-Control"].startswith("private")
    layers = _features(answered.data)
    alone = _features(client.get(f"/tiles/incidents/{z}/{x}/{y}.mvt", headers=national).data)
    assert len(layers["incidents"]) == len(alone["incidents"]) > 0


def test_composite_tilejson_lists_every_layer_and_leads_to_the_tile(app):
    client = app.test_client()
    doc = decode(client.get("/tiles/countries,provinces,communes.json"))
    assert [layer["id"] for layer in doc["vector_layers"]] == ["countries", "provinces",
                                                              "communes"]
    assert all(layer["fields"] for layer in doc["vector_layers"][1:])
    assert doc["geoservice:layers"] == ["countries", "provinces", "communes"]
    template = doc["tiles"][0]
    assert "/countries,provinces,communes/{z}/{x}/{y}.mvt" in template
    (z, x, y), *_ = tile_of("communes", app, 8)
    url = template.removeprefix("http://localhost").format(z=z, x=x, y=y)
    tile = client.get(url)
    assert tile.status_code == 200
    assert {"provinces", "communes"} <= set(_features(tile.data))


@pytest.mark.parametrize("url, status, parameter", [
    ("/tiles/provinces,provinces/6/50/28.mvt", 400, "layers"),
    ("/tiles/provinces,/6/50/28.mvt", 400, "layers"),
    ("/tiles/provinces,nope/6/50/28.mvt", 404, None),
    ("/tiles/provinces,communes/6/50/28.png", 400, "y"),
    ("/tiles/provinces,communes/6/50/28.mvt?year=2024", 400, None),
    ("/tiles/provinces,nope.json", 404, None),
])
def test_bad_composites_get_the_json_error_shape(app, url, status, parameter):
    assert_error(decode(app.test_client().get(url), status), status, parameter=parameter)


def test_a_thematic_part_takes_its_parameters_and_the_others_stay_default(app):
    client = app.test_client()
    (z, x, y), *_ = tile_of("communes", app, 9)
    names = "sea,certification-rate,communes"
    for year, group in ((2024, "schools"), (2025, "residential")):
        composite = _features(client.get(
            f"/tiles/{names}/{z}/{x}/{y}.mvt?year={year}&group={group}").data)
        thematic = _features(client.get(f"/tiles/certification-rate/{z}/{x}/{y}.mvt"
                                        f"?year={year}&group={group}").data)
        plain = _features(client.get(f"/tiles/communes/{z}/{x}/{y}.mvt").data)
        assert composite["certification-rate"] == thematic["certification-rate"]
        assert composite["communes"] == plain["communes"]
    # The two years' thematic parts differ (each its own tile), the communes' do not.
    first, second = (_features(client.get(f"/tiles/{names}/{z}/{x}/{y}.mvt?year={year}").data)
                     for year in (2024, 2025))
    assert first["communes"] == second["communes"]
    assert first["certification-rate"] != second["certification-rate"]
    refused = client.get(f"/tiles/{names}/{z}/{x}/{y}.mvt?model_type=any")
    assert_error(decode(refused, 400), 400, parameter="model_type")


def test_the_map_page_writes_the_composite_version_the_service_gives(app):
    """static/js/map.js combines its layers' versions (exclusive or) into the composite's
    URL: the service answers that URL, not a redirect to another version."""
    from geoservice.api import tile_urls

    current = services_of(app)
    ids = ["sea", "countries", "provinces", "border-lines"]
    parts = [tile_urls.tile_version(current, current.catalog[i]) for i in ids]
    combined = 0
    for part in parts:
        combined ^= int(part, 16)
    version = f"{combined:016x}"
    assert version not in parts
    with app.test_request_context():
        assert tile_urls.composite_version(current, [current.catalog[i] for i in ids]) == version
    answer = app.test_client().get(f"/tiles/v/{version}/{','.join(ids)}/6/50/28.mvt")
    assert answer.status_code == 200 and "immutable" in answer.headers["Cache-Control"]
    assert set(_features(answer.data)) >= {"provinces"}
