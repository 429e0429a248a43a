"""Server-side rendering: features drawn with their `Symbol` into RGBA images and PNG tiles.

The same renderer draws raster tiles, legend swatches and the printed report maps, so
screen and paper agree. Geometries arrive in pixel coordinates at scale 1 (x right, y down);
`scale` multiplies coordinates, widths, radii and dashes (2 for ``@2x`` tiles).

How it stays fast and exact: AGG (the `aggdraw` package) rasterises every shape with
exact-area anti-aliasing into one RGBA buffer, in the given order. AGG blends as
premultiplied "over", so the buffer is un-premultiplied once at the end. A pixel fully
covered by one semi-transparent colour over transparency is then set back to that colour
exactly (8-bit premultiplied values alone come back a few levels off), so interiors match
the legend while edges keep their intermediate alpha. No plotting library is involved.

Lines are drawn with butt caps and miter joins (AGG's stroker as `aggdraw` exposes it);
the web map's round caps and joins differ only at line ends and sharp corners.
"""

from __future__ import annotations

import base64
import functools
import io
import math
import struct
import sys
import zlib
from collections.abc import Iterable

import aggdraw
import numpy as np
import shapely
from PIL import Image
from shapely.geometry.base import BaseGeometry

from geoservice.render.symbols import RGBA, Symbol

TILE_SIZE = 256
# A point symbol without a radius still shows (3 px, MapLibre's circle-radius default is 5).
DEFAULT_POINT_RADIUS = 3.0
# zlib level for tiles: on map tiles 1 is ~2x faster than 6 for a few per cent more bytes.
PNG_COMPRESS_LEVEL = 1
_PNG_COLOUR_TYPES = {"RGB": 2, "RGBA": 6}
# Geometries reaching further than this beyond the canvas (pixels) are clipped first: AGG
# keeps coordinates as 24.8 fixed point, and clipping spares drawing what nobody sees.
CLIP_BEYOND = 4096.0

# A valid, fully transparent 256 x 256 RGBA PNG (what `empty_png(256)` encodes).
EMPTY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAQAAAAEACAYAAABccqhmAAABFUlEQVR42u3BMQEAAADCoPVP7WsIoAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAeAMB"
    "PAAB2ClDBAAAAABJRU5ErkJggg=="
)

# Passing a zero-width, invisible pen makes AGG fill the exact outline (with no pen it
# grows every fill by half a pixel).
_NO_OUTLINE = aggdraw.Pen(0, 0.0, 0)

Item = tuple[BaseGeometry, Symbol]


_POLYGON, _MULTIPOLYGON, _COLLECTION = 3, 6, 7  # shapely.get_type_id
_POINT, _MULTIPOINT = 0, 4
_ALPHA_SHIFT = 24 if sys.byteorder == "little" else 0  # where alpha sits in an RGBA uint32


def render_image(items: Iterable[Item], width: float, height: float,
                 scale: float = 1.0) -> Image.Image:
    """Draw `(geometry, symbol)` items in order on a transparent RGBA image.

    The image is ``round(width * scale)`` by ``round(height * scale)`` pixels; geometries
    are in pixels at scale 1. Polygons are filled then outlined, lines stroked, points
    drawn as circles of the symbol's radius (the outline outside it, as on the web map).
    """
    return _paint(items, width, height, scale).image()


def render_png(items: Iterable[Item], size: int = TILE_SIZE, scale: float = 1.0) -> bytes:
    """Return a square PNG tile of `size` pixels at scale 1 (`EMPTY_PNG` if nothing shows)."""
    painter = _paint(items, size, size, scale)
    if painter.draw is None:
        return empty_png(painter.size[0])
    image = painter.image()
    if image.getbbox() is None:
        return empty_png(painter.size[0])
    return encode_png(image)


def encode_png(image: Image.Image, compress_level: int = PNG_COMPRESS_LEVEL) -> bytes:
    """Return an RGBA or RGB image as PNG (lossless: class colours survive exactly).

    Written here rather than by Pillow: Pillow picks a filter per row, which on flat map
    colours costs twice the time and gives larger files than no filter at all.
    """
    if image.mode not in _PNG_COLOUR_TYPES:
        out = io.BytesIO()
        image.save(out, "PNG", compress_level=compress_level)
        return out.getvalue()
    width, height = image.size
    rows = np.asarray(image).reshape(height, -1)
    scanlines = np.hstack((np.zeros((height, 1), np.uint8), rows))  # filter 0 on each row
    header = struct.pack(">IIBBBBB", width, height, 8, _PNG_COLOUR_TYPES[image.mode], 0, 0, 0)
    return b"".join((b"\x89PNG\r\n\x1a\n", _chunk(b"IHDR", header),
                     _chunk(b"IDAT", zlib.compress(scanlines.tobytes(), compress_level)),
                     _chunk(b"IEND", b"")))


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data)))


def stitch(quarters: list[bytes]) -> bytes:
    """Four PNG tiles of one size (top-left, top-right, bottom-left, bottom-right) as one
    PNG of twice the side: a 512-pixel tile from the four 256-pixel tiles of the next zoom
    (`EMPTY_PNG`-sized when all four are empty)."""
    images = [Image.open(io.BytesIO(data)) for data in quarters]
    side = images[0].size[0]
    canvas = Image.new("RGBA", (2 * side, 2 * side), (0, 0, 0, 0))
    for index, image in enumerate(images):
        if image.getbbox() is not None:
            canvas.paste(image.convert("RGBA"), ((index % 2) * side, (index // 2) * side))
    if canvas.getbbox() is None:
        return empty_png(2 * side)
    return encode_png(canvas)


@functools.lru_cache(maxsize=8)
def empty_png(size: int = TILE_SIZE) -> bytes:
    """Return a fully transparent square PNG of `size` pixels."""
    if size == TILE_SIZE:
        return EMPTY_PNG
    return encode_png(Image.new("RGBA", (size, size), (0, 0, 0, 0)), compress_level=9)


def _paint(items: Iterable[Item], width: float, height: float, scale: float) -> _Painter:
    painter = _Painter((max(1, round(width * scale)), max(1, round(height * scale))), scale)
    pairs = list(items)
    geometries = np.empty(len(pairs), dtype=object)
    geometries[:] = [geometry for geometry, _ in pairs]
    painter.draw_all(geometries, [symbol for _, symbol in pairs])
    return painter


class _Painter:
    """One canvas: an AGG buffer, made when the first feature shows, and what it drew."""

    def __init__(self, size: tuple[int, int], scale: float):
        self.size, self.scale = size, scale
        self.draw: aggdraw.Draw | None = None
        self.translucent: set[RGBA] = set()  # colours to restore exactly (0 < alpha < 255)
        self.tools: dict[Symbol, tuple] = {}

    def image(self) -> Image.Image:
        """Return the canvas as a straight-alpha RGBA image."""
        if self.draw is None:
            return Image.new("RGBA", self.size, (0, 0, 0, 0))
        return _unpremultiply(self.draw.tobytes(), self.size, self.translucent)

    def draw_all(self, geometries: np.ndarray, symbols: list[Symbol]) -> None:
        """Draw geometries (an object array) with their symbols, in order."""
        geometries, symbols, kinds = _members(geometries, symbols)
        if len(geometries):
            geometries, symbols, kinds = self._visible(geometries, symbols, kinds)
        if not len(geometries):
            return
        self.draw = aggdraw.Draw("RGBA", self.size, (0, 0, 0, 0))
        if (kinds == _POINT).all():  # a point layer: thousands of markers, no pieces needed
            self._markers(shapely.get_coordinates(geometries) * self.scale, symbols)
            return
        for kind, pieces, symbol in zip(kinds, _pieces(geometries, self.scale), symbols):
            if kind in (_POLYGON, _MULTIPOLYGON):
                self._polygon(pieces, symbol)
            elif kind in (_POINT, _MULTIPOINT):
                self._points(pieces, symbol)
            else:
                self._lines(pieces, symbol)

    def _visible(self, geometries: np.ndarray, symbols: list[Symbol], kinds: np.ndarray):
        """Keep what shows on the canvas; clip what reaches far beyond it."""
        width, height = (side / self.scale for side in self.size)
        points = np.isin(kinds, (_POINT, _MULTIPOINT))
        reach = np.array([s.stroke_width * 2 + 1 for s in symbols], float)  # miters: 2 widths
        reach[points] += [symbols[i].radius or DEFAULT_POINT_RADIUS for i in np.flatnonzero(points)]
        minx, miny, maxx, maxy = shapely.bounds(geometries).T
        show = ((maxx >= -reach) & (maxy >= -reach)
                & (minx <= width + reach) & (miny <= height + reach))
        far = CLIP_BEYOND / self.scale
        beyond = show & ((minx < -far) | (miny < -far) | (maxx > width + far)
                         | (maxy > height + far))
        for i in np.flatnonzero(beyond):
            # The clip edges lie `reach` outside the canvas, so their outline never shows.
            geometries[i] = shapely.clip_by_rect(geometries[i], -reach[i], -reach[i],
                                                 width + reach[i], height + reach[i])
        keep = np.flatnonzero(show)
        symbols = [symbols[i] for i in keep]
        if beyond.any():  # clipping can make collections or empties
            return _members(geometries[keep], symbols)
        return geometries[keep], symbols, kinds[keep]

    def _tools(self, symbol: Symbol) -> tuple:
        """Return the AGG brush, pen and scaled dash pattern of a symbol (cached)."""
        if symbol not in self.tools:
            brush = pen = None
            if symbol.fill is not None and symbol.fill[3] > 0:
                brush = aggdraw.Brush(tuple(symbol.fill[:3]), symbol.fill[3])
            width = symbol.stroke_width * self.scale
            if symbol.stroke is not None and symbol.stroke[3] > 0 and width > 0:
                pen = aggdraw.Pen(tuple(symbol.stroke[:3]), width, symbol.stroke[3])
            for colour, tool in ((symbol.fill, brush), (symbol.stroke, pen)):
                if tool is not None and colour[3] < 255:
                    self.translucent.add(tuple(colour))
            dash = tuple(d * self.scale for d in symbol.dash) if symbol.dash else None
            self.tools[symbol] = (brush, pen, dash)
        return self.tools[symbol]

    def _polygon(self, rings: list[np.ndarray], symbol: Symbol) -> None:
        brush, pen, dash = self._tools(symbol)
        if len(rings) == 1:
            shape = rings[0].ravel().tolist()
        else:
            shape = aggdraw.Path()
            for ring in rings:
                shape.polygon(ring.ravel().tolist())
        if brush is not None and pen is not None and not dash and symbol.stroke[3] == 255:
            # One pass: AGG grows the fill to the outline's outer edge, under an opaque
            # outline; only its anti-aliased rim differs from the two passes below.
            self.draw.polygon(shape, pen, brush)
            return
        if brush is not None:
            self.draw.polygon(shape, _NO_OUTLINE, brush)
        if pen is not None and dash:
            self._dashed(rings, pen, dash)
        elif pen is not None:
            self.draw.polygon(shape, pen)

    def _lines(self, lines: list[np.ndarray], symbol: Symbol) -> None:
        _, pen, dash = self._tools(symbol)
        if pen is not None and dash:
            self._dashed(lines, pen, dash)
        elif pen is not None:
            for line in lines:
                self.draw.line(line.ravel().tolist(), pen)

    def _dashed(self, lines: list[np.ndarray], pen: aggdraw.Pen, dash: tuple) -> None:
        for line in lines:
            for piece in dash_pieces(line, dash):
                self.draw.line(piece.ravel().tolist(), pen)

    def _points(self, points: list[np.ndarray], symbol: Symbol) -> None:
        self._markers(np.concatenate(points), [symbol] * sum(len(p) for p in points))

    def _markers(self, coords: np.ndarray, symbols: list[Symbol]) -> None:
        """Draw a marker at each (x, y) of `coords` with its symbol, in order (each
        symbol object's tools looked up once: tile sources share equal symbols)."""
        seen: dict[int, tuple] = {}
        ellipse = self.draw.ellipse
        for (x, y), symbol in zip(coords.tolist(), symbols):
            how = seen.get(id(symbol))
            if how is None:
                brush, pen, _ = self._tools(symbol)
                radius = (symbol.radius or DEFAULT_POINT_RADIUS) * self.scale
                # Like MapLibre's circle-stroke, the outline lies outside the radius.
                outline = radius + symbol.stroke_width * self.scale / 2
                # One pass where the outline is opaque: the fill reaches under it (as for
                # polygons); only the anti-aliased rim differs from two passes.
                one_pass = brush is not None and pen is not None and symbol.stroke[3] == 255
                how = seen[id(symbol)] = (brush, pen, radius, outline, one_pass, symbol)
            brush, pen, radius, outline, one_pass, _symbol = how
            if one_pass:
                ellipse((x - outline, y - outline, x + outline, y + outline), pen, brush)
                continue
            if brush is not None:
                ellipse((x - radius, y - radius, x + radius, y + radius), _NO_OUTLINE, brush)
            if pen is not None:
                ellipse((x - outline, y - outline, x + outline, y + outline), pen)


def _members(geometries: np.ndarray, symbols: list[Symbol]):
    """Return geometries, symbols and type ids with collections split and empties dropped."""
    kinds = shapely.get_type_id(geometries)
    if (kinds == _COLLECTION).any():
        parts, owner = shapely.get_parts(geometries, return_index=True)
        return _members(parts, [symbols[i] for i in owner])
    keep = np.flatnonzero((kinds >= 0) & ~shapely.is_empty(geometries))
    return geometries[keep], [symbols[i] for i in keep], kinds[keep]


def _pieces(geometries: np.ndarray, scale: float) -> list[list[np.ndarray]]:
    """Per geometry, scaled coordinate arrays: its rings (polygons), lines or points.

    Done for all geometries at once: per-geometry shapely calls would cost more than
    drawing. Holes are made to wind against their exterior, as AGG's non-zero fill needs.
    """
    parts, part_owner = shapely.get_parts(shapely.orient_polygons(geometries),
                                          return_index=True)
    polygonal = shapely.get_type_id(parts) == _POLYGON
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    pieces = np.concatenate((rings, parts[~polygonal]))
    owner = np.concatenate((part_owner[ring_part], part_owner[~polygonal]))
    order = np.argsort(owner, kind="stable")  # keeps each polygon's exterior before its holes
    pieces, owner = pieces[order], owner[order]
    coords = shapely.get_coordinates(pieces) * scale
    arrays = np.split(coords, np.cumsum(shapely.get_num_coordinates(pieces))[:-1])
    bounds = np.searchsorted(owner, np.arange(len(geometries) + 1))
    return [arrays[start:end] for start, end in zip(bounds[:-1], bounds[1:])]


def dash_pieces(line: np.ndarray, pattern: tuple[float, ...]) -> list[np.ndarray]:
    """Split a polyline (n x 2 array) into the pieces a dash pattern draws.

    SVG semantics: lengths alternate dash and gap, an odd-length pattern is repeated, the
    first dash starts at the line's start. A pattern without length leaves the line whole.
    """
    if len(pattern) % 2:
        pattern = pattern * 2
    period = sum(pattern)
    along = np.concatenate(([0.0], np.cumsum(np.hypot(*np.diff(line, axis=0).T))))
    total = along[-1]
    if period <= 0 or total <= 0 or min(pattern) < 0:
        return [line]
    offsets = np.cumsum((0.0, *pattern))
    repeats = np.arange(math.ceil(total / period))[:, None] * period
    starts = (repeats + offsets[0:-1:2]).ravel()
    ends = np.minimum((repeats + offsets[1::2]).ravel(), total)
    keep = (starts < total) & (ends > starts)
    starts, ends = starts[keep], ends[keep]
    start_points = np.column_stack([np.interp(starts, along, line[:, i]) for i in (0, 1)])
    end_points = np.column_stack([np.interp(ends, along, line[:, i]) for i in (0, 1)])
    first = np.searchsorted(along, starts, side="right")
    last = np.searchsorted(along, ends, side="left")
    return [np.vstack((start, line[i:j], end))
            for start, i, j, end in zip(start_points, first, last, end_points)]


@functools.lru_cache(maxsize=4096)
def _agg_pixel(colour: RGBA) -> int:
    """The pixel AGG writes for `colour` fully covering a transparent one, as a uint32."""
    draw = aggdraw.Draw("RGBA", (3, 3), (0, 0, 0, 0))
    draw.rectangle((0, 0, 3, 3), _NO_OUTLINE, aggdraw.Brush(colour[:3], colour[3]))
    return int(np.frombuffer(draw.tobytes(), np.uint32)[4])


def _unpremultiply(buffer: bytes, size: tuple[int, int], exact: set[RGBA]) -> Image.Image:
    """Return straight RGBA from AGG's premultiplied buffer, `exact` colours restored."""
    image = Image.frombytes("RGBa", size, buffer).convert("RGBA")
    if not exact:
        return image
    premultiplied = np.frombuffer(buffer, np.uint32)
    straight = np.asarray(image).view(np.uint32).ravel().copy()
    for colour in exact:  # legends have a handful of colours: one pass each is cheapest
        key = _agg_pixel(colour)
        if key >> _ALPHA_SHIFT & 0xFF:  # AGG drew nothing for alpha 1: leave transparency
            straight[premultiplied == key] = np.array(colour, np.uint8).view(np.uint32)
    return Image.frombuffer("RGBA", size, straight, "raw", "RGBA", 0, 1)


def edge_fade(bounds: tuple[float, float, float, float],
              extent: tuple[float, float, float, float], width: float, colour: RGBA,
              size: int) -> Image.Image | None:
    """A `size`-pixel square image of the tile `bounds` (Web Mercator) where the data's
    `extent` fades out: `colour` outside it, turning transparent over `width` metres
    inside its edges; None when the tile lies wholly inside, clear of the band.

    Drawn over a basemap clipped to a box, it softens the box's edge into the map's
    background instead of a hard rectangle.
    """
    minx, miny, maxx, maxy = bounds
    west, south, east, north = extent
    if (west + width <= minx and maxx <= east - width
            and south + width <= miny and maxy <= north - width):
        return None
    step = (maxx - minx) / size
    xs = minx + (np.arange(size) + 0.5) * step
    ys = maxy - (np.arange(size) + 0.5) * step
    inside_x = np.minimum(xs - west, east - xs)
    inside_y = np.minimum(ys - south, north - ys)
    depth = np.minimum(inside_x[None, :], inside_y[:, None])
    alpha = np.clip(1.0 - depth / width, 0.0, 1.0)
    # smoothstep: no visible line where the fade begins
    alpha = alpha * alpha * (3 - 2 * alpha) * (colour[3] / 255)
    pixels = np.empty((size, size, 4), np.uint8)
    pixels[..., :3] = colour[:3]
    pixels[..., 3] = np.rint(alpha * 255).astype(np.uint8)
    return Image.fromarray(pixels, "RGBA")
