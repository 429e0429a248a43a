"""A map view as one sheet: the title on top, the map, its legends in a column on the right
and a footer with the date, the data source and — for demo data — the synthetic-data mark.

Only the layout and the words are drawn here; the map itself (features, scale bar, north
arrow, the archipelagos' inset) is drawn by the callers with the tile renderer
(`render.png`), its legends by `render.legend`, so the sheet looks like the report maps.
Sizes are CSS pixels times `scale` (image pixels per CSS pixel), as for the tiles.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

from geoservice.render.fonts import draw_text, text_box
from geoservice.text import nfc

TITLE_SIZE, FOOTER_SIZE = 17.0, 10.0
TITLE_BAND, FOOTER_BAND = 40.0, 24.0  # CSS pixels
MARGIN = 8.0
LEGEND_SHARE = 0.38  # the legend column takes at most this share of the width
PAPER = (255, 255, 255, 255)
RULE = (158, 158, 158, 255)
MARK_INK = (183, 28, 28, 255)
ELLIPSIS = "…"


def sheet_scale(width: int, height: int) -> float:
    """Image pixels per CSS pixel for a sheet of this size: 1 up to about 1000 px, then
    growing with the sheet so that words and symbols keep their share of it."""
    return max(1.0, min(width / 1000, height / 750))


@dataclass(frozen=True)
class Layout:
    """Where each part of the sheet goes, in image pixels (left, top, right, bottom)."""

    width: int
    height: int
    scale: float
    title: tuple[int, int, int, int]
    map: tuple[int, int, int, int]
    legend: tuple[int, int, int, int]
    footer: tuple[int, int, int, int]

    @property
    def map_size(self) -> tuple[int, int]:
        """The map's size in image pixels."""
        left, top, right, bottom = self.map
        return right - left, bottom - top


def layout(width: int, height: int, legend_width: float, scale: float) -> Layout:
    """The sheet's parts for legends `legend_width` CSS pixels wide (0: no legend)."""
    title_h, footer_h = round(TITLE_BAND * scale), round(FOOTER_BAND * scale)
    column = 0
    if legend_width > 0:
        column = min(round((legend_width + 2 * MARGIN) * scale), round(width * LEGEND_SHARE))
    map_box = (0, title_h, width - column, height - footer_h)
    return Layout(width, height, scale, (0, 0, width, title_h), map_box,
                  (width - column, title_h, width, height - footer_h),
                  (0, height - footer_h, width, height))


def compose(parts: Layout, map_image: Image.Image, legends: list[Image.Image], title: str,
            footer: str, mark: str | None, node_modules: Path | str | None = None
            ) -> Image.Image:
    """The sheet: `title`, the map, the legends stacked, `footer` and the `mark` (red, on
    the right of the footer; None: real data)."""
    sheet = Image.new("RGBA", (parts.width, parts.height), PAPER)
    sheet.alpha_composite(map_image.convert("RGBA"), dest=parts.map[:2])
    s = parts.scale
    left, top, right, bottom = parts.title
    room = right - left - 2 * MARGIN * s
    size = title_size(title, room, s, node_modules)
    fitted = fit_text(title, size, room, "bold", node_modules)
    draw_text(sheet, (left + MARGIN * s, (top + bottom) / 2), fitted, size, style="bold",
              anchor="lm", node_modules=node_modules)
    _legends(sheet, parts, legends)
    left, top, right, bottom = parts.footer
    size = FOOTER_SIZE * s
    middle = (top + bottom) / 2
    mark_width = 0.0
    if mark:
        mark = fit_text(mark, size, (right - left) * 0.45, "bold", node_modules)
        mark_width = text_box(mark, size, "bold", node_modules)[0]
        draw_text(sheet, (right - MARGIN * s, middle), mark, size, style="bold", anchor="rm",
                  fill=MARK_INK, node_modules=node_modules)
    room = right - left - 3 * MARGIN * s - mark_width
    draw_text(sheet, (left + MARGIN * s, middle), fit_text(footer, size, room,
                                                          node_modules=node_modules),
              size, anchor="lm", node_modules=node_modules)
    draw = ImageDraw.Draw(sheet)
    line = max(1, round(s))
    draw.line([(0, parts.map[1]), (parts.width, parts.map[1])], fill=RULE, width=line)
    draw.line([(0, parts.map[3]), (parts.width, parts.map[3])], fill=RULE, width=line)
    if parts.legend[2] > parts.legend[0]:
        draw.line([(parts.legend[0], parts.legend[1]), (parts.legend[0], parts.legend[3])],
                  fill=RULE, width=line)
    return sheet


def _legends(sheet: Image.Image, parts: Layout, legends: list[Image.Image]) -> None:
    """Stack the legends in their column, each shrunk to fit its width, while they fit."""
    left, top, right, bottom = parts.legend
    margin = round(MARGIN * parts.scale)
    room = right - left - 2 * margin
    y = top + margin
    for legend in legends:
        if room <= 0:
            return
        if legend.width > room:
            legend = legend.resize((room, max(1, round(legend.height * room / legend.width))),
                                   Image.LANCZOS)
        if y + legend.height > bottom - margin:
            return
        sheet.alpha_composite(legend.convert("RGBA"), dest=(left + margin, y))
        y += legend.height + margin


def title_size(title: str, room: float, scale: float,
               node_modules: Path | str | None = None) -> float:
    """The title's font size in pixels: a long title a little smaller (down to 70 %)
    before it is cut to `room` pixels."""
    size = TITLE_SIZE * scale
    while size > TITLE_SIZE * scale * 0.7 and text_box(title, size, "bold",
                                                       node_modules)[0] > room:
        size *= 0.92
    return size


def fit_text(text: str, size: float, room: float, style: str = "regular",
             node_modules: Path | str | None = None) -> str:
    """`text` (NFC), cut with an ellipsis where it would be wider than `room` pixels."""
    text = nfc(text)
    if text_box(text, size, style, node_modules)[0] <= room:
        return text
    while text and text_box(text + ELLIPSIS, size, style, node_modules)[0] > room:
        text = text[:-1]
    return text.rstrip() + ELLIPSIS

