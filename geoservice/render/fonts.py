"""The font for text in legends and printed maps: DejaVu Sans, from the npm registry.

Vietnamese needs every precomposed letter with its tone mark (ặ, ự, ỡ, Đ ...). DejaVu Sans
covers the whole Vietnamese alphabet (the package's own langcover.txt: vi 100 %). The TTF
files come from the npm package `dejavu-fonts-ttf`, installed at build time into
node_modules (package.json), never committed.
"""

from __future__ import annotations

import functools
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from geoservice.errors import SourceMissing
from geoservice.text import nfc

FONT_PACKAGE = "dejavu-fonts-ttf"
FONT_VERSION = "2.37.3"
FONT_FILES = {"regular": "DejaVuSans.ttf", "bold": "DejaVuSans-Bold.ttf"}
TEXT_COLOUR = (33, 33, 33, 255)


def font_path(style: str = "regular", node_modules: Path | str | None = None) -> Path:
    """Return the TTF file of `style` ("regular" or "bold").

    Looked for in `node_modules` when given (the app's NODE_MODULES setting), else in
    ./node_modules and in the node_modules beside the source checkout.
    """
    if style not in FONT_FILES:
        raise ValueError(f"font style must be one of {', '.join(FONT_FILES)}, not {style!r}")
    if node_modules:
        folders = [Path(node_modules)]
    else:
        folders = [Path.cwd() / "node_modules",
                   Path(__file__).resolve().parents[2] / "node_modules"]
    for folder in folders:
        path = folder / FONT_PACKAGE / "ttf" / FONT_FILES[style]
        if path.is_file():
            return path
    raise SourceMissing(
        f"The map font is not installed: npm package {FONT_PACKAGE}@{FONT_VERSION} "
        f"(run `npm ci` in the project folder).",
        detail="looked for " + ", ".join(str(f / FONT_PACKAGE) for f in folders))


@functools.lru_cache(maxsize=32)
def load_font(size: float, style: str = "regular",
              node_modules: Path | str | None = None) -> ImageFont.FreeTypeFont:
    """Return the font at `size` pixels, loaded once per size and style."""
    return ImageFont.truetype(str(font_path(style, node_modules)), size=size)



def draw_text(image: Image.Image, xy: tuple[float, float], text: str, size: float, *,
              style: str = "regular", anchor: str = "la", fill=TEXT_COLOUR,
              node_modules: Path | str | None = None) -> None:
    """Draw `text` at `xy` (Pillow anchor, e.g. "la" left-ascender, "lm" left-middle).

    Text is drawn in NFC: each Vietnamese letter is then one precomposed glyph, where
    combining marks would be placed by the layout engine's rules rather than the font's.
    """
    font = load_font(size, style, node_modules)
    ImageDraw.Draw(image).text(xy, nfc(text), font=font, fill=fill, anchor=anchor)


def text_box(text: str, size: float, style: str = "regular",
             node_modules: Path | str | None = None) -> tuple[float, float]:
    """Return the width (advance) and height (ascender to descender) of drawn text."""
    font = load_font(size, style, node_modules)
    ascent, descent = font.getmetrics()
    return font.getlength(nfc(text)), float(ascent + descent)
