"""Legend images: each entry's swatch drawn by the tile renderer, its label in DejaVu Sans.

The swatches go through `render_image` with the entry's own `Symbol`, so the legend shows
exactly the colours, widths and dashes of the tiles and report maps. The background is
white with a thin grey border, so the legend reads on any map and on paper (a transparent
legend would take the colour of whatever lies under it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw
from shapely.geometry import LineString, Point, box

from geoservice.render.classify import Style
from geoservice.render.fonts import draw_text, text_box
from geoservice.render.png import DEFAULT_POINT_RADIUS, encode_png, render_image
from geoservice.render.symbols import Symbol
from geoservice.render.toml_table import Text

GEOMETRY_KINDS = ("polygon", "line", "point")
Entry = tuple[str, Symbol, str]  # label, symbol, geometry kind

# Layout in CSS pixels; everything is multiplied by `scale`.
PADDING = 8
TITLE_SIZE = 13
LABEL_SIZE = 12
SWATCH_WIDTH, SWATCH_HEIGHT = 24, 14
GAP = 8  # between swatch and label, and below the title
ROW_HEIGHT = 20
BACKGROUND = (255, 255, 255, 255)
BORDER = (189, 189, 189, 255)


def legend_png(title: str, entries: Sequence[Entry], scale: float = 1.0,
               node_modules: Path | str | None = None) -> bytes:
    """Return the legend as a PNG: title, then one row per (label, symbol, kind) entry."""
    return encode_png(legend_image(title, entries, scale, node_modules).convert("RGB"))


def legend_image(title: str, entries: Sequence[Entry], scale: float = 1.0,
                 node_modules: Path | str | None = None) -> Image.Image:
    """Return the legend as an RGBA image on white, sized to its content."""
    for _, _, kind in entries:
        if kind not in GEOMETRY_KINDS:
            raise ValueError(f"geometry kind must be one of {', '.join(GEOMETRY_KINDS)}, "
                             f"not {kind!r}")
    title_width, title_height = (text_box(title, TITLE_SIZE * scale, "bold", node_modules)
                                 if title else (0.0, 0.0))
    label_widths = [text_box(label, LABEL_SIZE * scale, node_modules=node_modules)[0]
                    for label, _, _ in entries]
    rows = [max(ROW_HEIGHT, _swatch_height(symbol, kind) + 4) for _, symbol, kind in entries]
    top = PADDING + (title_height / scale + GAP if title else 0)
    label_x = PADDING + SWATCH_WIDTH + GAP
    width = max(title_width / scale + 2 * PADDING,
                label_x + max(label_widths, default=0) / scale + PADDING)
    height = top + sum(rows) + PADDING - (GAP if title and not entries else 0)
    size = (math.ceil(width * scale), math.ceil(height * scale))

    swatches, middles, y = [], [], top
    for (_, symbol, kind), row in zip(entries, rows):
        middles.append(y + row / 2)
        swatches.append((_swatch(kind, PADDING, y + row / 2, scale), symbol))
        y += row
    image = Image.new("RGBA", size, BACKGROUND)
    image.alpha_composite(render_image(swatches, size[0] / scale, size[1] / scale, scale))
    if title:
        draw_text(image, (PADDING * scale, PADDING * scale), title, TITLE_SIZE * scale,
                  style="bold", node_modules=node_modules)
    for (label, _, _), middle in zip(entries, middles):
        draw_text(image, (label_x * scale, middle * scale), label, LABEL_SIZE * scale,
                  anchor="lm", node_modules=node_modules)
    ImageDraw.Draw(image).rectangle((0, 0, size[0] - 1, size[1] - 1), outline=BORDER,
                                    width=max(1, round(scale)))
    return image


def style_entries(style: Style, lang: str, single_label: Text) -> list[Entry]:
    """Return a layer style's legend entries, in the order and symbols of its tiles."""
    if style.kind == "single":
        return [(single_label.get(lang), style.symbol(), style.geometry)]
    return [(entry.label.get(lang), style.symbol(entry.colour), style.geometry)
            for entry in style.entries]


def _swatch_height(symbol: Symbol, kind: str) -> float:
    if kind == "point":
        return 2 * (symbol.radius or DEFAULT_POINT_RADIUS) + symbol.stroke_width * 2
    if kind == "line":
        return symbol.stroke_width
    return SWATCH_HEIGHT


def _swatch(kind: str, left: float, middle: float, scale: float):
    """Return the sample geometry of a legend row: a box, a line or a point."""
    if kind == "polygon":
        return box(left, middle - SWATCH_HEIGHT / 2, left + SWATCH_WIDTH,
                   middle + SWATCH_HEIGHT / 2)
    if kind == "line":
        y = (math.floor(middle * scale) + 0.5) / scale  # on a pixel centre: a crisp line
        return LineString([(left, y), (left + SWATCH_WIDTH, y)])
    return Point(left + SWATCH_WIDTH / 2, middle)
