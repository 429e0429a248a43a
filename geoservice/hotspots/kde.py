"""Kernel density surfaces of incident points, written as Cloud-Optimised GeoTIFF.

Plain functions (no Flask): `density` turns incident points (lon, lat in WGS 84) into a grid
of incidents per km²; `write_cog` stores that grid as a COG with the metadata a reader needs
to interpret it; `bandwidth_km` is the default bandwidth rule.

Choices, and why:

* CRS: EPSG:32648 (WGS 84 / UTM zone 48N) by default. Cells must be square in metres, and
  the records are already WGS 84, so no datum shift is involved; zone 48 (102–108° E)
  covers all of Vietnam but the eastern coast, where the scale error stays under ~0.1 %.
  EPSG:3405 (VN-2000 / UTM 48N, the national standard) can be passed instead.
* Kernel: quartic (biweight), as ArcGIS Kernel Density uses:
  K(d) = 3 / (π h²) · (1 − d²/h²)² for d < h, 0 beyond — finite support, so a hot spot ends
  at one bandwidth from its last incident.
* Normalisation: the kernel, sampled at cell centres, is rescaled to sum to one, so each
  point adds exactly one incident to the grid (less only where its kernel crosses the grid
  edge); the surface divided by the cell area then integrates to the number of points.
* Speed: points are linearly binned to cell centres (each point's weight shared by its
  four nearest centres, which keeps positions to a fraction of a cell), and the binned
  counts are convolved with the sampled kernel by FFT (numpy; scipy is not a dependency).
* Nodata: none. Every cell has a density; 0 means no incident within one bandwidth.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import rasterio
import rasterio.shutil
from pyproj import CRS, Transformer
from rasterio.crs import CRS as RasterioCRS
from rasterio.io import MemoryFile
from rasterio.transform import Affine

LOGGER = logging.getLogger(__name__)

DEFAULT_CRS = "EPSG:32648"
KERNEL = "quartic"
UNITS = "incidents/km²"
BAND_DESCRIPTION = "incidents per km²"
BLOCK_SIZE = 256
# Without bounds the grid reaches one bandwidth and this many cells beyond the outermost
# points (binning moves weight up to a cell), so no kernel is cut by the grid edge and the
# surface integrates to the number of points.
PAD_CELLS = 2
MAX_CELLS = 50_000_000  # about 200 MB of float32: beyond this the caller asked for too much


def project_points(points_lonlat: Sequence[Sequence[float]] | np.ndarray,
                   crs: str | CRS = DEFAULT_CRS) -> np.ndarray:
    """Project (lon, lat) points in WGS 84 to an (n, 2) array of metres in `crs`."""
    lonlat = np.asarray(points_lonlat, dtype=float).reshape(-1, 2)
    transformer = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x, y = transformer.transform(lonlat[:, 0], lonlat[:, 1])
    return np.column_stack([x, y])


def bandwidth_km(points_xy_m: np.ndarray) -> float:
    """Return the default bandwidth (km) for projected points, by ArcGIS's rule of thumb.

    Silverman's rule adapted to 2-D point patterns (ArcGIS Kernel Density, "standard
    distance" rule)::

        h = 0.9 × min(SD, sqrt(1 / ln 2) × Dm) × n^(-0.2)

    where n is the number of points, SD the standard distance
    sqrt(mean((x − x̄)²) + mean((y − ȳ)²)) and Dm the median distance of the points from
    their mean centre (x̄, ȳ). The Dm term keeps a few far-away points from inflating the
    bandwidth. Raises ValueError for fewer than two points or points that all coincide:
    there the caller must give a bandwidth.
    """
    xy = np.asarray(points_xy_m, dtype=float).reshape(-1, 2)
    n = len(xy)
    if n < 2:
        raise ValueError(f"the bandwidth rule needs at least two points, got {n}")
    offsets = xy - xy.mean(axis=0)
    standard_distance = math.sqrt(float((offsets**2).sum(axis=1).mean()))
    median_distance = float(np.median(np.hypot(offsets[:, 0], offsets[:, 1])))
    spread = min(standard_distance, math.sqrt(1 / math.log(2)) * median_distance)
    if spread <= 0:
        raise ValueError("the points have no spread (mostly one location); give a bandwidth")
    return 0.9 * spread * n**-0.2 / 1000


_bandwidth_rule = bandwidth_km  # `density` takes a parameter of the same name


def density(points_lonlat: Sequence[Sequence[float]] | np.ndarray,
            bounds_lonlat: tuple[float, float, float, float] | None = None,
            cell_km: float = 1.0,
            bandwidth_km: float | None = None,
            crs: str | CRS = DEFAULT_CRS) -> tuple[np.ndarray, Affine, RasterioCRS]:
    """Return a quartic-kernel density surface of points, in incidents per km².

    `bounds_lonlat` is (west, south, east, north) in degrees; its projected extent is the
    grid, with the origin at its projected (min x, max y). Without bounds the grid covers
    the points plus one bandwidth and two cells. Cells are `cell_km` square in `crs`
    (metres). A given `bandwidth_km` overrides the rule in `bandwidth_km()`. Returns
    (float32 array, row 0 north; the grid's affine transform; its CRS); the sum of the
    array times the cell area (km²) equals the number of points, less what kernels lose
    beyond the grid edge.
    """
    if cell_km <= 0:
        raise ValueError(f"cell_km must be positive, got {cell_km}")
    target = CRS.from_user_input(crs)
    xy = project_points(points_lonlat, target)
    h_km = _bandwidth_rule(xy) if bandwidth_km is None else float(bandwidth_km)
    if h_km <= 0:
        raise ValueError(f"bandwidth_km must be positive, got {h_km}")
    cell_m, h_m = cell_km * 1000, h_km * 1000
    left, bottom, right, top = _grid_extent(xy, bounds_lonlat, target, h_m + PAD_CELLS * cell_m)
    width = max(1, math.ceil((right - left) / cell_m - 1e-9))
    height = max(1, math.ceil((top - bottom) / cell_m - 1e-9))
    if width * height > MAX_CELLS:
        raise ValueError(f"a {width} × {height} grid is too large; use larger cells or bounds")
    transform = Affine(cell_m, 0.0, left, 0.0, -cell_m, top)

    counts = _linear_bins(xy, transform, height, width)
    kernel = quartic_kernel(h_m / cell_m)
    surface = _convolve_same(counts, kernel) / (cell_km * cell_km)
    # FFT round-off leaves tiny negatives where the density is zero.
    surface[surface < 1e-9 * max(float(surface.max()), 1.0)] = 0.0
    LOGGER.debug("density: %d points, %d × %d cells of %.3f km, bandwidth %.3f km",
                 len(xy), width, height, cell_km, h_km)
    return surface.astype(np.float32), transform, RasterioCRS.from_wkt(target.to_wkt())


def quartic_kernel(radius_cells: float) -> np.ndarray:
    """Return the quartic kernel sampled at cell centres, summing to one (odd square)."""
    reach = max(0, math.ceil(radius_cells - 1e-9))
    offsets = np.arange(-reach, reach + 1, dtype=float)
    d2 = (offsets[None, :] ** 2 + offsets[:, None] ** 2) / max(radius_cells, 1e-9) ** 2
    kernel = np.where(d2 < 1, (1 - d2) ** 2, 0.0)
    if kernel.sum() == 0:  # bandwidth under half a cell: everything stays in its cell
        kernel[reach, reach] = 1.0
    return kernel / kernel.sum()


def write_cog(path: str | os.PathLike, array: np.ndarray, transform: Affine,
              crs: str | CRS | RasterioCRS, metadata: Mapping[str, object]) -> Path:
    """Write a density surface as a Cloud-Optimised GeoTIFF and return its path.

    One float32 band, 256 × 256 tiles, DEFLATE with the floating-point predictor, no nodata
    (0 is a real density), overviews by averaging (the mean density of the merged cells)
    down to one tile. GDAL's COG driver (GDAL ≥ 3.1, bundled with rasterio) lays it out, so
    `gdalinfo` reports LAYOUT=COG. The band carries the description "incidents per km²" and
    units; dataset tags hold KERNEL, UNITS, CELL_SIZE_M (from the transform) and every
    `metadata` item (keys upper-cased, e.g. bandwidth_km, period, category). The file is
    written next to `path` under a temporary name and moved into place, so readers never see
    a half-written surface.
    """
    target = Path(path)
    data = np.asarray(array, dtype=np.float32)
    if data.ndim != 2:
        raise ValueError(f"expected a 2-D array, got shape {data.shape}")
    tags = {"KERNEL": KERNEL, "UNITS": UNITS, "CELL_SIZE_M": f"{abs(transform.a):g}"}
    tags.update({str(key).upper(): str(value) for key, value in metadata.items()})
    crs_value = crs if isinstance(crs, RasterioCRS) else RasterioCRS.from_user_input(
        crs.to_wkt() if isinstance(crs, CRS) else crs)
    profile = {"driver": "GTiff", "width": data.shape[1], "height": data.shape[0], "count": 1,
               "dtype": "float32", "crs": crs_value, "transform": transform, "nodata": None}

    handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                         dir=target.parent)
    os.close(handle)
    try:
        with MemoryFile() as memory:
            with memory.open(**profile) as staging:
                staging.write(data, 1)
                staging.update_tags(**tags)
                staging.set_band_description(1, BAND_DESCRIPTION)
                staging.update_tags(1, UNITS=UNITS)
                staging.units = (UNITS,)
            with memory.open() as staging:
                rasterio.shutil.copy(
                    staging, temp_name, driver="COG", blocksize=BLOCK_SIZE, compress="DEFLATE",
                    predictor="YES", overviews="AUTO", overview_resampling="AVERAGE",
                    resampling="AVERAGE", bigtiff="IF_SAFER")
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    LOGGER.info("wrote density surface %s (%d × %d)", target, data.shape[1], data.shape[0])
    return target


def _grid_extent(xy: np.ndarray, bounds_lonlat: tuple[float, float, float, float] | None,
                 crs: CRS, pad_m: float) -> tuple[float, float, float, float]:
    """Return the grid's (left, bottom, right, top) in metres: the projected bounds or the
    points' extent padded by `pad_m` metres."""
    if bounds_lonlat is not None:
        west, south, east, north = bounds_lonlat
        if not (west < east and south < north):
            raise ValueError(f"bounds must be (west, south, east, north), got {bounds_lonlat}")
        transformer = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        # Densified edges: a lon/lat box is curved in UTM, its corners alone miss the bulge.
        return transformer.transform_bounds(west, south, east, north, densify_pts=21)
    if len(xy) == 0:
        raise ValueError("no points and no bounds: nothing to grid")
    (left, bottom), (right, top) = xy.min(axis=0) - pad_m, xy.max(axis=0) + pad_m
    return float(left), float(bottom), float(right), float(top)


def _linear_bins(xy: np.ndarray, transform: Affine, height: int, width: int) -> np.ndarray:
    """Share each point's unit weight among its four nearest cell centres (linear binning).

    Weight falling outside the grid is dropped, as the kernel's would be.
    """
    counts = np.zeros((height, width), dtype=float)
    if len(xy) == 0:
        return counts
    cols, rows = ~transform @ (xy[:, 0], xy[:, 1])
    # Continuous index relative to cell centres: centre of cell (r, c) is at (r, c).
    fc, fr = np.asarray(cols) - 0.5, np.asarray(rows) - 0.5
    c0, r0 = np.floor(fc).astype(int), np.floor(fr).astype(int)
    tc, tr = fc - c0, fr - r0
    for dr, dc, weight in ((0, 0, (1 - tr) * (1 - tc)), (0, 1, (1 - tr) * tc),
                           (1, 0, tr * (1 - tc)), (1, 1, tr * tc)):
        r, c = r0 + dr, c0 + dc
        inside = (r >= 0) & (r < height) & (c >= 0) & (c < width)
        np.add.at(counts, (r[inside], c[inside]), weight[inside])
    return counts


def _convolve_same(grid: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Convolve `grid` with an odd square `kernel` by FFT, keeping the grid's shape."""
    reach = kernel.shape[0] // 2
    shape = (grid.shape[0] + 2 * reach, grid.shape[1] + 2 * reach)
    fast = tuple(_fft_size(n) for n in shape)
    spectrum = np.fft.rfft2(grid, fast) * np.fft.rfft2(kernel, fast)
    full = np.fft.irfft2(spectrum, fast)
    return full[reach:reach + grid.shape[0], reach:reach + grid.shape[1]]


def _fft_size(n: int) -> int:
    """Return the smallest 2·3·5-smooth size ≥ n (numpy's FFT is quickest on those)."""
    size = n
    while True:
        m = size
        for factor in (2, 3, 5):
            while m % factor == 0:
                m //= factor
        if m == 1:
            return size
        size += 1
