"""Scale bar and north arrow for the printed report maps, drawn onto a PIL image.

Both are drawn by the tile renderer (anti-aliased like the map) on a small overlay that is
composited where asked. Positions and metres per pixel are in the image's own pixels;
`scale` multiplies the sizes given in CSS pixels (line widths, fonts), as for tiles.
Lengths are labelled the Vietnamese way: decimal comma, "0,5 km".
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image
from shapely import affinity
from shapely.geometry import LineString, Polygon, box

from geoservice.render.fonts import TEXT_COLOUR, draw_text, text_box
from geoservice.render.png import render_image
from geoservice.render.symbols import Symbol

INK = TEXT_COLOUR  # lines in the same dark grey as the text
HALO = (255, 255, 255, 217)  # the box behind the scale bar: the map shows faintly through
LABEL_SIZE = 11
NICE_STEPS = (5, 2, 1)


def nice_length_km(longest_km: float) -> float:
    """Return the longest 1, 2 or 5 x 10^n km that is at most `longest_km`."""
    if not longest_km > 0:
        raise ValueError(f"a scale bar needs a positive length, not {longest_km!r}")
    power = 10.0 ** math.floor(math.log10(longest_km))
    for step in NICE_STEPS:
        if step * power <= longest_km * (1 + 1e-9):
            return step * power
    return power  # not reached: 1 x 10^floor(log10(x)) <= x


def format_km(km: float) -> str:
    """Return a length in km as Vietnamese text: "0,5 km", "20 km", "1.000 km"."""
    decimals = max(0, -math.floor(math.log10(km))) if km > 0 else 0
    text = f"{km:,.{decimals}f}".translate(str.maketrans(",.", ".,"))
    return f"{text} km"


def scale_bar_length(metres_per_pixel: float, longest_px: float) -> tuple[float, float]:
    """Return (km, pixels) of the longest round scale bar fitting in `longest_px`."""
    km = nice_length_km(metres_per_pixel * longest_px / 1000)
    return km, km * 1000 / metres_per_pixel


def scale_bar_box(metres_per_pixel: float, origin: tuple[float, float], longest_px: float,
                  scale: float = 1.0, node_modules: Path | str | None = None
                  ) -> tuple[float, float, float, float]:
    """The (left, top, right, bottom) box, in image pixels, `draw_scale_bar` covers with
    the same arguments: labels are kept out of it."""
    km, length = scale_bar_length(metres_per_pixel, longest_px)
    label_width, label_height = text_box(format_km(km), LABEL_SIZE * scale,
                                         node_modules=node_modules)
    pad, tick = 4 * scale, 5 * scale
    x0, y0 = math.floor(origin[0]) + 0.5 - pad, math.floor(origin[1]) + 0.5 - tick \
        - label_height - 2 * pad
    return (x0, y0, x0 + max(length, label_width) + 2 * pad,
            y0 + tick + label_height + 3 * pad)


def north_arrow_box(top_centre: tuple[float, float], height: float = 36, scale: float = 1.0,
                    label: str = "B", node_modules: Path | str | None = None
                    ) -> tuple[float, float, float, float]:
    """The box, in image pixels, `draw_north_arrow` covers with the same arguments."""
    label_width, label_height = text_box(label, LABEL_SIZE * 1.2 * scale, "bold",
                                         node_modules)
    half = max(height * scale * 0.3 + 2 * scale, label_width / 2)
    return (top_centre[0] - half, top_centre[1],
            top_centre[0] + half, top_centre[1] + label_height + (height + 4) * scale)


def draw_scale_bar(image: Image.Image, metres_per_pixel: float, origin: tuple[float, float],
                   longest_px: float, scale: float = 1.0,
                   node_modules: Path | str | None = None) -> float:
    """Draw a scale bar whose left end is pixel `origin`; return its length in pixels.

    `metres_per_pixel` is the ground distance of one image pixel at the map's centre; the
    bar is the longest 1/2/5 x 10^n km length that fits in `longest_px`.
    """
    km, length = scale_bar_length(metres_per_pixel, longest_px)
    origin = (math.floor(origin[0]) + 0.5, math.floor(origin[1]) + 0.5)  # crisp lines
    label = format_km(km)
    size = LABEL_SIZE * scale
    label_width, label_height = text_box(label, size, node_modules=node_modules)
    pad, tick, width = 4 * scale, 5 * scale, 1.5 * scale
    x0, y0 = origin[0] - pad, origin[1] - tick - label_height - 2 * pad
    w, h = max(length, label_width) + 2 * pad, tick + label_height + 3 * pad
    left, right, bottom = pad, pad + length, h - pad
    pen = Symbol(stroke=INK, stroke_width=width)
    items = [(box(0, 0, w, h), Symbol(fill=HALO)),
             (LineString([(left, bottom - tick), (left, bottom), (right, bottom),
                          (right, bottom - tick)]), pen)]
    _overlay(image, items, (x0, y0), (w, h))
    draw_text(image, (x0 + left + length / 2, y0 + bottom - tick - pad / 2), label, size,
              anchor="md", node_modules=node_modules)
    return length


def draw_north_arrow(image: Image.Image, top_centre: tuple[float, float], height: float = 36,
                     scale: float = 1.0, label: str = "B",
                     node_modules: Path | str | None = None) -> None:
    """Draw a north arrow: `label` ("B", Bắc, by default) over a half-filled needle.

    `top_centre` is the centre of the label's top edge; `height` (CSS pixels) is the
    needle's length.
    """
    size = LABEL_SIZE * 1.2 * scale
    label_height = text_box(label, size, "bold", node_modules)[1]
    draw_text(image, top_centre, label, size, style="bold", anchor="mt",
              node_modules=node_modules)
    length = height * scale
    half = length * 0.3
    w, h = 2 * half + 4 * scale, length + 4 * scale
    apex, notch = (w / 2, 2 * scale), (w / 2, 2 * scale + length * 0.75)
    base_left, base_right = (w / 2 - half, 2 * scale + length), (w / 2 + half, 2 * scale + length)
    outline = {"stroke": INK, "stroke_width": 1 * scale}
    items = [(Polygon([apex, base_left, notch]), Symbol(fill=INK, **outline)),
             (Polygon([apex, notch, base_right]), Symbol(fill=(255, 255, 255, 255), **outline))]
    _overlay(image, items, (top_centre[0] - w / 2, top_centre[1] + label_height), (w, h))


def _overlay(image: Image.Image, items: list, origin: tuple[float, float],
             size: tuple[float, float]) -> None:
    """Render items (in overlay pixels) and composite them onto `image` at `origin`."""
    x, y = math.floor(origin[0]), math.floor(origin[1])
    dx, dy = origin[0] - x, origin[1] - y
    shifted = [(affinity.translate(geometry, dx, dy), symbol) for geometry, symbol in items]
    overlay = render_image(shifted, math.ceil(size[0] + dx), math.ceil(size[1] + dy))
    if image.mode == "RGBA":
        image.alpha_composite(overlay, dest=(x, y))
    else:
        image.paste(overlay, (x, y), overlay)

