"""Kernel density surfaces: planted clusters found, mass kept, bandwidth rule, COG layout."""

from __future__ import annotations

import math
import re
import shutil
import subprocess

import numpy as np
import pytest
import rasterio
from pyproj import Transformer

from geoservice.demo.planted import PLANTED_AREAS
from geoservice.hotspots import kde

HA_GIANG = next(area for area in PLANTED_AREAS if area.key == "H2")  # 104.935, 22.8072
# A box of about 400 × 330 km around Hà Giang: wide enough that no kernel reaches its edge.
WIDE_BOUNDS = (103.0, 21.3, 106.9, 24.3)


def _cluster(n_cluster: int = 150, n_background: int = 100, seed: int = 7) -> np.ndarray:
    """A tight cluster (σ ≈ 1 km) at Hà Giang 1 plus a uniform scatter over a 1° box."""
    rng = np.random.default_rng(seed)
    sigma_deg = 1.0 / 111.0
    cluster = np.column_stack([rng.normal(HA_GIANG.lon, sigma_deg, n_cluster),
                               rng.normal(HA_GIANG.lat, sigma_deg, n_cluster)])
    background = np.column_stack([rng.uniform(104.4, 105.4, n_background),
                                  rng.uniform(22.3, 23.3, n_background)])
    return np.vstack([cluster, background])


def _cell_centre(transform, row: int, col: int) -> tuple[float, float]:
    return transform @ (col + 0.5, row + 0.5)


def test_maximum_lies_at_the_planted_cluster():
    surface, transform, crs = kde.density(_cluster(), cell_km=1.0, bandwidth_km=3.0)
    row, col = np.unravel_index(np.argmax(surface), surface.shape)
    (cx, cy), = kde.project_points([(HA_GIANG.lon, HA_GIANG.lat)])
    x, y = _cell_centre(transform, row, col)
    assert math.hypot(x - cx, y - cy) <= 2 * 1000.0
    assert crs.to_epsg() == 32648
    assert surface.dtype == np.float32
    assert surface.min() == 0.0  # far from every point, and never negative


def test_maximum_with_the_default_bandwidth_and_half_km_cells():
    surface, transform, _ = kde.density(_cluster(seed=11), cell_km=0.5)
    row, col = np.unravel_index(np.argmax(surface), surface.shape)
    (cx, cy), = kde.project_points([(HA_GIANG.lon, HA_GIANG.lat)])
    x, y = _cell_centre(transform, row, col)
    assert math.hypot(x - cx, y - cy) <= 2 * 500.0


@pytest.mark.parametrize("cell_km", [0.5, 1.0, 2.0])
def test_surface_integrates_to_the_number_of_points(cell_km):
    points = _cluster()
    surface, transform, _ = kde.density(points, WIDE_BOUNDS, cell_km=cell_km, bandwidth_km=4.0)
    assert abs(transform.a) == pytest.approx(cell_km * 1000)
    integral = float(surface.sum(dtype=np.float64)) * cell_km**2
    assert integral == pytest.approx(len(points), rel=0.02)


def test_surface_without_bounds_covers_every_kernel():
    points = _cluster()
    surface, _, _ = kde.density(points, cell_km=1.0)
    assert float(surface.sum(dtype=np.float64)) == pytest.approx(len(points), rel=1e-4)
    # The padding is a bandwidth and two cells, so the outermost rows and columns are empty.
    assert surface[0].max() == surface[-1].max() == 0.0
    assert surface[:, 0].max() == surface[:, -1].max() == 0.0


def test_bounds_that_cut_the_points_lose_their_mass():
    points = _cluster()
    east_half = (HA_GIANG.lon + 0.2, 22.0, 106.0, 24.0)  # leaves out the cluster
    surface, _, _ = kde.density(points, east_half, cell_km=1.0, bandwidth_km=3.0)
    integral = float(surface.sum(dtype=np.float64))
    inside = int((points[:, 0] > east_half[0]).sum())
    assert 0.8 * inside < integral < inside + 10


def test_single_point_is_the_quartic_kernel():
    h_km = 5.0
    surface, transform, _ = kde.density([(HA_GIANG.lon, HA_GIANG.lat)], cell_km=0.25,
                                        bandwidth_km=h_km)
    # Peak of the continuous quartic kernel: 3 / (π h²) incidents per km².
    assert surface.max() == pytest.approx(3 / (math.pi * h_km**2), rel=0.03)
    (px, py), = kde.project_points([(HA_GIANG.lon, HA_GIANG.lat)])
    rows, cols = np.nonzero(surface)
    xs, ys = transform @ (cols + 0.5, rows + 0.5)
    assert np.hypot(xs - px, ys - py).max() <= h_km * 1000 + 0.25 * 1000
    assert float(surface.sum(dtype=np.float64)) * 0.25**2 == pytest.approx(1.0, rel=1e-6)


def test_bandwidth_rule_on_a_square():
    # Four corners of a 2 km square: SD = Dm = √2 km, so h = 0.9 × √2 × 4^-0.2 km.
    square = np.array([(-1000.0, -1000.0), (1000.0, -1000.0), (1000.0, 1000.0),
                       (-1000.0, 1000.0)]) + (500_000.0, 2_500_000.0)
    assert kde.bandwidth_km(square) == pytest.approx(0.9 * math.sqrt(2) * 4**-0.2)
    assert kde.bandwidth_km(square) == pytest.approx(0.96460, abs=1e-5)


def test_bandwidth_rule_uses_the_median_distance_when_outliers_inflate_the_spread():
    rng = np.random.default_rng(3)
    xy = rng.normal(0, 2000.0, (200, 2))
    xy[:5] += 400_000.0  # five far-away records
    centre = xy.mean(axis=0)
    sd = math.sqrt(((xy - centre) ** 2).sum(axis=1).mean())
    dm = float(np.median(np.hypot(*(xy - centre).T)))
    assert math.sqrt(1 / math.log(2)) * dm < sd  # the Dm term is the one that applies
    expected = 0.9 * min(sd, math.sqrt(1 / math.log(2)) * dm) * 200**-0.2 / 1000
    assert kde.bandwidth_km(xy) == pytest.approx(expected)
    assert 0.5 < kde.bandwidth_km(xy) < 100  # driven by the 2 km cluster, not the outliers


def test_given_bandwidth_overrides_and_degenerate_points_need_one():
    with pytest.raises(ValueError, match="at least two points"):
        kde.density([(HA_GIANG.lon, HA_GIANG.lat)])
    with pytest.raises(ValueError, match="no spread"):
        kde.density([(HA_GIANG.lon, HA_GIANG.lat)] * 3)
    narrow, _, _ = kde.density(_cluster(), WIDE_BOUNDS, bandwidth_km=2.0)
    broad, _, _ = kde.density(_cluster(), WIDE_BOUNDS, bandwidth_km=8.0)
    assert narrow.max() > 4 * broad.max()


def test_vn2000_grid():
    surface, transform, crs = kde.density(_cluster(), WIDE_BOUNDS, crs="EPSG:3405")
    assert crs.to_epsg() == 3405
    assert surface.shape[0] > 300


@pytest.fixture(scope="module")
def cog(tmp_path_factory):
    surface, transform, crs = kde.density(_cluster(), WIDE_BOUNDS, cell_km=1.0,
                                          bandwidth_km=4.0)
    folder = tmp_path_factory.mktemp("kde")
    path = kde.write_cog(folder / "incidents.tif", surface, transform, crs,
                         {"bandwidth_km": 4.0, "period": "2024-01-01/2024-12-31",
                          "category": "drugs"})
    return path, surface


def test_cog_opens_with_grid_metadata_and_data(cog):
    path, surface = cog
    left, _, _, top = Transformer.from_crs("EPSG:4326", "EPSG:32648", always_xy=True) \
        .transform_bounds(*WIDE_BOUNDS, densify_pts=21)
    with rasterio.open(path) as src:
        assert src.crs.to_epsg() == 32648
        assert (src.transform.a, src.transform.e) == (1000.0, -1000.0)
        assert (src.transform.c, src.transform.f) == pytest.approx((left, top), abs=1e-6)
        assert src.dtypes == ("float32",)
        assert src.nodata is None
        assert src.descriptions == ("incidents per km²",)
        assert src.units == ("incidents/km²",)
        assert src.tags(1)["UNITS"] == "incidents/km²"
        tags = src.tags()
        assert tags["KERNEL"] == "quartic"
        assert tags["BANDWIDTH_KM"] == "4.0"
        assert tags["CELL_SIZE_M"] == "1000"
        assert tags["PERIOD"] == "2024-01-01/2024-12-31"
        assert tags["CATEGORY"] == "drugs"
        assert src.block_shapes == [(256, 256)]
        assert src.compression.name == "deflate"
        assert src.overviews(1) == [2]  # 405 × 334 cells: one level brings it under a tile
        np.testing.assert_array_equal(src.read(1), surface)
        # Overviews average the density, so their total mass matches at 4× the cell area.
        overview = src.read(1, out_shape=(src.height // 2, src.width // 2))
        assert float(overview.sum(dtype=np.float64)) * 4 == pytest.approx(
            float(surface.sum(dtype=np.float64)), rel=0.02)
    assert [p.name for p in path.parent.iterdir()] == ["incidents.tif"]  # no temp left


def test_cog_replaces_an_existing_file(cog, tmp_path):
    path, surface = cog
    target = tmp_path / "surface.tif"
    target.write_bytes(b"old")
    transform = rasterio.transform.Affine(1000, 0, 500_000, 0, -1000, 2_500_000)
    kde.write_cog(target, surface[:10, :10], transform, "EPSG:32648", {})
    with rasterio.open(target) as src:
        assert src.shape == (10, 10)
        assert src.tags()["CELL_SIZE_M"] == "1000"


def test_gdalinfo_reports_crs_and_cog_layout(cog):
    gdalinfo = shutil.which("gdalinfo")
    if gdalinfo is None:
        pytest.skip("gdalinfo (Debian gdal-bin) is not installed")
    path, _ = cog
    out = subprocess.run([gdalinfo, str(path)], check=True, capture_output=True,
                         text=True).stdout
    assert 'ID["EPSG",32648]' in out
    assert "Pixel Size = (1000.000000000000000,-1000.000000000000000)" in out
    assert "COMPRESSION=DEFLATE" in out
    assert "Overviews: 202x167" in out
    version = subprocess.run([gdalinfo, "--version"], capture_output=True, text=True).stdout
    major, minor = map(int, re.match(r"GDAL (\d+)\.(\d+)", version).groups())
    if (major, minor) >= (3, 1):  # the COG driver and its LAYOUT item arrived in GDAL 3.1
        assert "LAYOUT=COG" in out
