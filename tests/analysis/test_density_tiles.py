"""Density surfaces as PNG tiles: a planted cluster shows in the legend's top colour where it
was planted, places far from any incident stay transparent; breaks and legends agree."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
import rasterio
from PIL import Image

from geoservice.hotspots import density_tiles, kde
from geoservice.render.legend import legend_png

BOUNDS = (105.0, 21.0, 106.0, 21.9)
CLUSTER = (105.3, 21.3)


def tile_of(lon, lat, z):
    """The tile holding a point, and the point's pixel in it."""
    n = 2**z
    fx = (lon + 180) / 360 * n
    fy = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    x, y = int(fx), int(fy)
    return (z, x, y), (int((fx - x) * 256), int((fy - y) * 256))


@pytest.fixture(scope="module")
def surface(tmp_path_factory):
    rng = np.random.default_rng(5)
    # ~2 km spread: 0.018° of latitude, 0.019° of longitude at 21° N.
    points = np.column_stack([rng.normal(CLUSTER[0], 0.019, 300),
                              rng.normal(CLUSTER[1], 0.018, 300)])
    array, transform, crs = kde.density(points, bounds_lonlat=BOUNDS, cell_km=0.5,
                                        bandwidth_km=3)
    path = tmp_path_factory.mktemp("density") / "surface.tif"
    kde.write_cog(path, array, transform, crs, {"bandwidth_km": "3"})
    return path, array, density_tiles.class_breaks(array)


def pixels(data):
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))


def test_breaks_rise_and_start_at_one_percent_of_the_peak(surface):
    _path, array, breaks = surface
    assert 2 <= len(breaks) <= 5 and breaks == sorted(set(breaks))
    assert breaks[0] <= 0.01 * array.max() and breaks[0] > 0.005 * array.max()
    assert density_tiles.class_breaks(np.zeros((4, 4))) == []


def test_the_cluster_is_coloured_and_far_places_are_transparent(surface):
    path, _array, breaks = surface
    top = density_tiles.colours(len(breaks))[-1]
    (z, x, y), (px, py) = tile_of(*CLUSTER, 11)
    image = pixels(density_tiles.render_tile(path, breaks, z, x, y))
    assert image.shape == (256, 256, 4)
    assert tuple(int(v) for v in image[py, px]) == top  # the peak is in the top class
    legend = {tuple(c) for c in density_tiles.colours(len(breaks))}
    drawn = {tuple(int(v) for v in p) for p in image.reshape(-1, 4) if p[3]}
    assert drawn <= legend  # every pixel is a legend colour, nothing in between
    # Inside the surface but 50 km from the cluster: nothing.
    (z, x, y), _pixel = tile_of(105.9, 21.8, 11)
    assert not pixels(density_tiles.render_tile(path, breaks, z, x, y))[..., 3].any()
    # Far outside the surface: an empty tile without reading anything.
    (z, x, y), _pixel = tile_of(108.0, 12.0, 11)
    assert not pixels(density_tiles.render_tile(path, breaks, z, x, y))[..., 3].any()
    big = pixels(density_tiles.render_tile(path, breaks, *tile_of(*CLUSTER, 11)[0], scale=2))
    assert big.shape == (512, 512, 4) and big[..., 3].any()


def test_tile_classes_match_the_surface_values(surface):
    path, array, breaks = surface
    (z, x, y), (px, py) = tile_of(CLUSTER[0] + 0.03, CLUSTER[1], 13)
    image = pixels(density_tiles.render_tile(path, breaks, z, x, y))
    with rasterio.open(path) as source:
        from pyproj import Transformer

        west = (x / 2**z) * 360 - 180 + (px + 0.5) / 256 * 360 / 2**z
        lat_n = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (y + (py + 0.5) / 256)
                                                            / 2**z))))
        cx, cy = Transformer.from_crs(4326, source.crs, always_xy=True).transform(west, lat_n)
        value = next(source.sample([(cx, cy)]))[0]
    index = int(np.searchsorted(breaks, value, side="right")) - 1
    got = tuple(int(v) for v in image[py, px])
    expected = density_tiles.colours(len(breaks))
    # Bilinear warping may cross a break at a class edge: the same or a neighbouring class.
    assert got in {tuple(expected[i]) for i in range(max(index - 1, 0),
                                                    min(index + 2, len(expected)))}


def test_legend_json_and_png(surface):
    _path, _array, breaks = surface
    legend = density_tiles.legend(breaks, "vi")
    assert [e["min"] for e in legend["entries"]] == breaks
    assert legend["entries"][-1]["max"] is None and "," in legend["entries"][0]["label"]
    assert legend["units"] == "incidents/km²" and "km²" in legend["title"]
    english = density_tiles.legend(breaks, "en")
    assert english["entries"][0]["label"].endswith(f"under {breaks[1]:.4g}")
    image = pixels(legend_png(legend["title"], density_tiles.legend_entries(breaks, "vi")))
    opaque = {tuple(int(v) for v in p[:3]) for p in image.reshape(-1, 4)}
    top = density_tiles.colours(len(breaks))[-1]
    # The swatch is the class colour drawn at its alpha over the legend's white background.
    blended = tuple(round(c * top[3] / 255 + 255 * (1 - top[3] / 255)) for c in top[:3])
    assert any(all(abs(a - b) <= 2 for a, b in zip(colour, blended)) for colour in opaque)
