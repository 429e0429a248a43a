"""Density surfaces (COG, incidents per km²) as Web Mercator PNG tiles with a legend.

A tile is warped from the GeoTIFF by GDAL (`rasterio.warp.reproject`, bilinear) into the
tile's EPSG:3857 grid, then each pixel gets the colour of its class: five classes on a
yellow-to-red ramp, transparent below the first break, so places without incidents show
the map underneath. Breaks are chosen per surface (`class_breaks`) and written with the
result, so its tiles and its legend always agree.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import rasterio
from PIL import Image
from rasterio.enums import Resampling
from rasterio.transform import Affine
from rasterio.warp import reproject, transform_bounds

from geoservice.render.png import TILE_SIZE, empty_png, encode_png
from geoservice.render.symbols import Symbol
from geoservice.tilemath import tile_bounds

# ColorBrewer YlOrRd, 5 classes; drawn at ALPHA so the base map still reads underneath.
RAMP = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
ALPHA = 210
FLOOR_SHARE = 0.01  # below 1 % of the peak the surface is the fading edge of kernels
QUANTILES = (0.0, 0.5, 0.75, 0.9, 0.975)
TITLE = {"vi": "Mật độ vụ việc (vụ/km²)", "en": "Incident density (incidents per km²)"}


def class_breaks(array: np.ndarray) -> list[float]:
    """Lower bounds of the colour classes of a density surface (ascending, at most 5).

    The first is 1 % of the peak; the others are the 50, 75, 90 and 97.5 % quantiles of
    the cells above it, rounded to two significant digits. An empty surface has none.
    """
    values = np.asarray(array, dtype=float)
    values = values[np.isfinite(values) & (values > 0)]
    if not values.size:
        return []
    floor = _round(float(values.max()) * FLOOR_SHARE)
    kept = values[values >= floor]
    breaks = [floor]
    for q in QUANTILES[1:]:
        value = _round(float(np.quantile(kept, q)))
        if value > breaks[-1]:
            breaks.append(value)
    return breaks


def _round(value: float) -> float:
    """Round down to two significant digits (never to zero)."""
    if value <= 0:
        return value
    digits = 1 - math.floor(math.log10(value))
    rounded = math.floor(value * 10**digits) / 10**digits
    return rounded if rounded > 0 else value


def colours(count: int) -> list[tuple[int, int, int, int]]:
    """The RGBA colours of `count` classes, spread over the ramp (darkest last)."""
    if count <= 0:
        return []
    picks = np.linspace(len(RAMP) - count, len(RAMP) - 1, count).round().astype(int)
    return [_rgba(RAMP[i]) for i in picks]


def _rgba(text: str) -> tuple[int, int, int, int]:
    value = text.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16), ALPHA


def render_tile(path: Path, breaks: list[float], z: int, x: int, y: int,
                scale: int = 1) -> bytes:
    """Tile z/x/y of the surface at `path` as a PNG (transparent below the first break)."""
    size = TILE_SIZE * scale
    if not breaks:
        return empty_png(size)
    west, south, east, north = tile_bounds(z, x, y)
    with rasterio.open(path) as source:
        left, bottom, right, top = transform_bounds(source.crs, "EPSG:3857", *source.bounds,
                                                    densify_pts=21)
        if west >= right or east <= left or south >= top or north <= bottom:
            return empty_png(size)
        surface = np.zeros((size, size), dtype=np.float32)
        grid = Affine((east - west) / size, 0, west, 0, (south - north) / size, north)
        reproject(source=rasterio.band(source, 1), destination=surface, dst_transform=grid,
                  dst_crs="EPSG:3857", resampling=Resampling.bilinear, src_nodata=None,
                  dst_nodata=0)
    return encode_tile(surface, breaks)


def encode_tile(surface: np.ndarray, breaks: list[float]) -> bytes:
    """Colour a grid of densities by class and encode it as PNG."""
    classes = np.searchsorted(np.asarray(breaks, dtype=float), surface, side="right") - 1
    if not (classes >= 0).any():
        return empty_png(surface.shape[0])
    palette = np.array([(0, 0, 0, 0), *colours(len(breaks))], dtype=np.uint8)
    rgba = palette[classes + 1]
    return encode_png(Image.fromarray(rgba, "RGBA"))


def legend(breaks: list[float], lang: str = "vi") -> dict:
    """The legend of a surface as JSON-ready data (the shape of the layers' legends)."""
    entries = []
    for index, (lower, colour) in enumerate(zip(breaks, colours(len(breaks)))):
        upper = breaks[index + 1] if index + 1 < len(breaks) else None
        entries.append({"role": "class", "label": _label(lower, upper, lang),
                        "color": "#{:02x}{:02x}{:02x}".format(*colour[:3]),
                        "fill": f"rgba({colour[0]}, {colour[1]}, {colour[2]}, "
                                f"{round(colour[3] / 255, 3)})",
                        "min": lower, "max": upper, "geometry": "polygon"})
    return {"layer": "density", "title": TITLE[lang], "kind": "classed",
            "units": "incidents/km²", "geometry": "polygon", "entries": entries}


def legend_entries(breaks: list[float], lang: str = "vi") -> list[tuple[str, Symbol, str]]:
    """The legend rows for `geoservice.render.legend.legend_png`."""
    return [(entry["label"], Symbol(fill=colour), "polygon")
            for entry, colour in zip(legend(breaks, lang)["entries"], colours(len(breaks)))]


def _label(lower: float, upper: float | None, lang: str) -> str:
    low = _number(lower, lang)
    if upper is None:
        return f"từ {low} trở lên" if lang == "vi" else f"{low} and above"
    return f"{low} – dưới {_number(upper, lang)}" if lang == "vi" else \
        f"{low} to under {_number(upper, lang)}"


def _number(value: float, lang: str) -> str:
    text = f"{value:.4g}"
    return text.replace(".", ",") if lang == "vi" else text
