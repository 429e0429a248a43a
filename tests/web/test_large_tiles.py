"""512-pixel PNG tiles (``/tiles/{layer}/512/{z}/{x}/{y}.png``): tile z/x/y at twice the
side, showing what the four 256-pixel tiles of zoom z+1 beneath it show, pixel for pixel.
The map page draws its place names with them (a quarter of the label requests)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tests.web.helpers import assert_error, decode
from tests.web.test_tiles import demo_db, tile_of  # noqa: F401 - fixtures and helper


@pytest.fixture
def app(make_app, demo_db):  # noqa: F811 - the fixture imported above
    return make_app(demo_db)


def _pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))


def _quarters(client, path: str, z: int, x: int, y: int, query: str = "") -> np.ndarray:
    tiles = [[_pixels(client.get(f"{path}/{z + 1}/{2 * x + dx}/{2 * y + dy}.png{query}").data)
              for dx in (0, 1)] for dy in (0, 1)]
    return np.concatenate([np.concatenate(row, axis=1) for row in tiles], axis=0)


@pytest.mark.parametrize("layer_id", ["communes", "certification-rate", "labels"])
def test_a_512_pixel_tile_is_the_four_tiles_of_the_next_zoom(app, layer_id):
    client = app.test_client()
    # Zoom 9 beneath: communes drawn, commune names placed (labels name communes from 9).
    (z, x, y), *_ = tile_of("communes", app, 9)
    z, x, y = z - 1, x // 2, y // 2
    query = "?lang=vi" if layer_id == "labels" else ""
    answer = client.get(f"/tiles/{layer_id}/512/{z}/{x}/{y}.png{query}")
    assert answer.status_code == 200 and answer.mimetype == "image/png"
    assert answer.headers["Cache-Control"].startswith("public")
    large = _pixels(answer.data)
    assert large.shape == (512, 512, 4)
    assert large[..., 3].any(), "the tile is blank"
    assert np.array_equal(large, _quarters(client, f"/tiles/{layer_id}", z, x, y, query))
    again = client.get(f"/tiles/{layer_id}/512/{z}/{x}/{y}.png{query}",
                       headers={"If-None-Match": answer.headers["ETag"]})
    assert again.status_code == 304


def test_a_512_pixel_tile_at_twice_the_density(app):
    client = app.test_client()
    (z, x, y), *_ = tile_of("communes", app, 8)
    image = Image.open(io.BytesIO(client.get(f"/tiles/labels/512/{z - 1}/{x // 2}/"
                                             f"{y // 2}@2x.png").data))
    assert image.size == (1024, 1024)


@pytest.mark.parametrize("url, parameter", [
    ("/tiles/communes/512/7/101/56.mvt", "y"),
    ("/tiles/labels/512/7/101/56.mvt", "y"),
    ("/tiles/communes/512/7/999/56.png", None),
])
def test_bad_512_pixel_tiles_get_the_json_error_shape(app, url, parameter):
    answer = app.test_client().get(url)
    assert_error(decode(answer, 400), 400, parameter=parameter)
