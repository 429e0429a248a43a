"""Place names as a map layer: province names at national zooms, commune names from zoom
9, and the archipelagos "Quần đảo Hoàng Sa" and "Quần đảo Trường Sa" at every zoom.

Placement happens on the server, once per zoom and boundary version (the names and their
anchors are kept with the store: `geoservice.render.labelstore`), so that every tile of a
zoom agrees on which names are shown and where: each unit's anchor is a point inside its
polygon (`polylabel`, the pole of inaccessibility of its largest part); names are taken in
rank order (archipelagos, then provinces, then communes, larger units first) and a name
whose text box (with a margin) meets one already placed at that zoom is left out. A PNG tile
draws every placed name whose box touches it, so a name crossing a tile border is drawn,
whole, by both tiles. Below zoom 8 the islands of the two archipelagos are sub-pixel, so
their tiles also draw a marker on each island.

Text is DejaVu Sans (`geoservice.render.fonts`) in NFC, with a white halo.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import shapely
from PIL import Image, ImageDraw

from geoservice.render.fonts import load_font
from geoservice.render.png import EMPTY_PNG, TILE_SIZE, edge_fade, encode_png
from geoservice.render.symbols import parse_colour
from geoservice.text import nfc
from geoservice.tilemath import WORLD, tile_bounds, to_lonlat, to_mercator

LOGGER = logging.getLogger(__name__)

COMMUNE_ZOOM = 9  # communes named from here, provinces below
ISLAND_MARKER_ZOOM = 8  # island markers below this zoom (the islands are sub-pixel there)
LABEL_MAX_ZOOM = 16  # zooms above share this zoom's placement (every name fits there)
# The two archipelagos: the special zones (đặc khu) holding them, by GSO code.
ARCHIPELAGOS = {
    "20333": ("Quần đảo Hoàng Sa", "Hoàng Sa Archipelago"),
    "22736": ("Quần đảo Trường Sa", "Trường Sa Archipelago"),
}
KINDS = ("archipelago", "province", "commune")
# The properties of a name (its MVT and GeoJSON features) and their JSON types.
LABEL_FIELDS = {"code": "string", "name": "string", "name_en": "string", "kind": "string",
                "rank": "integer"}
# How each kind is written: size (CSS px), font style, ink (RGBA).
LOOKS = {
    "archipelago": (12.0, "bold", (13, 71, 161, 255)),
    "province": (12.5, "bold", (55, 55, 55, 255)),
    "commune": (10.5, "regular", (80, 80, 80, 255)),
}
HALO = (255, 255, 255, 235)
HALO_WIDTH = 2.0  # CSS px
MARGIN = 3.0  # CSS px kept free around a name
ISLAND_INK = (13, 71, 161, 255)
ISLAND_RADIUS = 2.2  # CSS px: the marker of an island at national zooms
NAME_GAP = 6.0  # CSS px between an archipelago's islands and its name below them
# The basemap covers a box (the sea's extent): its edge fades into the map's background
# over FADE_PIXELS inside it, at most FADE_MAX metres; the archipelagos' islands are
# never covered (some lie beyond the box).
FADE_PIXELS, FADE_MAX = 40.0, 250_000.0
BACKGROUND = "#f4f1ea"  # the map pages' background (layers.definition.BACKGROUND; tested)


@dataclass(frozen=True)
class Candidate:
    """A name that may be placed: its unit, texts, kind, rank and anchor (Web Mercator)."""

    code: str
    name: str
    name_en: str
    kind: str
    rank: int  # 0 first: the order names are placed in
    x: float
    y: float
    islands: tuple = ()  # archipelagos: (x, y, radius) Web Mercator of each island

    def text(self, lang: str) -> str:
        """The name in the page's language."""
        return self.name_en if lang == "en" else self.name

    def shown_at(self, z: int) -> bool:
        """True when this kind of name is shown at zoom `z`."""
        if self.kind == "archipelago":
            return True
        return (z < COMMUNE_ZOOM) == (self.kind == "province")

    def properties(self) -> dict:
        """The feature properties of this name (MVT, GeoJSON)."""
        return {"code": self.code, "name": self.name, "name_en": self.name_en,
                "kind": self.kind, "rank": self.rank}


@dataclass(frozen=True)
class Placed:
    """The names placed at one zoom: candidate positions and text boxes in world pixels."""

    zoom: int
    lang: str
    indices: np.ndarray  # positions in the candidate list
    boxes: np.ndarray  # (n, 4) left, top, right, bottom (world pixels at `zoom`, scale 1)
    tree: shapely.STRtree


def anchor(geometry) -> shapely.Point:
    """A point well inside a polygon: the pole of inaccessibility of its largest part."""
    import shapely.ops

    parts = shapely.get_parts(geometry)
    largest = parts[int(np.argmax(shapely.area(parts)))] if len(parts) else geometry
    if largest.geom_type != "Polygon" or largest.area == 0:
        return geometry.point_on_surface()
    tolerance = math.sqrt(largest.area) / 50
    point = shapely.ops.polylabel(largest, tolerance=tolerance)
    return point if largest.contains(point) else largest.point_on_surface()


def candidates(provinces: list, communes: list) -> list[Candidate]:
    """Every name that may be placed, in rank order, from (id, properties, geometry) rows
    of the provinces and communes (WGS 84). Units without geometry have no label."""
    rows = []
    for kind, features in (("province", provinces), ("commune", communes)):
        for fid, props, geometry in features:
            if geometry is None or geometry.is_empty:
                continue
            code = str(props.get("code") or fid)
            if code in ARCHIPELAGOS:
                rows.append(("archipelago", code, *ARCHIPELAGOS[code], geometry))
            else:
                name = nfc(props.get("name") or "")
                if name:
                    rows.append((kind, code, name, _english(props, name), geometry))
    projected = to_mercator(np.array([row[-1] for row in rows], dtype=object)) if rows else []
    areas = [shapely.area(g) for g in projected]
    order = sorted(range(len(rows)), key=lambda i: (KINDS.index(rows[i][0]), -areas[i],
                                                    rows[i][1]))
    out = []
    for rank, i in enumerate(order):
        kind, code, name, name_en, _geometry = rows[i]
        shape = projected[i]
        islands: tuple = ()
        if kind == "archipelago":  # the name goes under the group, not on one island
            parts = shapely.get_parts(shape)
            islands = tuple((p.centroid.x, p.centroid.y,
                             max(p.bounds[2] - p.bounds[0], p.bounds[3] - p.bounds[1]) / 2)
                            for p in parts)
            minx, miny, maxx, _maxy = shape.bounds
            point = shapely.Point((minx + maxx) / 2, miny)
        else:
            point = anchor(shape)
        out.append(Candidate(code, nfc(name), nfc(name_en), kind, rank, point.x, point.y,
                             islands))
    return out


def _english(props: dict, name: str) -> str:
    """The English name of a unit: its Vietnamese name (proper names are not translated;
    an English name, where the source has one, wins)."""
    return nfc(props.get("name_en") or name)


def world_pixels(x: float, y: float, z: int) -> tuple[float, float]:
    """Web Mercator metres to world pixels at zoom `z` (256 px tiles, y down)."""
    size = TILE_SIZE * 2**z
    return (x / WORLD + 0.5) * size, (0.5 - y / WORLD) * size


def text_box(text: str, kind: str, scale: float = 1.0, node_modules=None
             ) -> tuple[float, float, float, float]:
    """The box of a name drawn centred on (0, 0) (CSS px when `scale` is 1)."""
    size, style, _ink = LOOKS[kind]
    font = load_font(size * scale, style, node_modules)
    left, top, right, bottom = font.getbbox(nfc(text), anchor="mm")
    return left / scale, top / scale, right / scale, bottom / scale


def label_point(candidate: Candidate, z: int) -> tuple[float, float, str]:
    """Where a name is drawn at zoom `z` (world px) and its Pillow anchor: centred on the
    unit, or for an archipelago just under its islands ("mt": middle, top)."""
    px, py = world_pixels(candidate.x, candidate.y, z)
    if candidate.kind == "archipelago":
        return px, py + NAME_GAP, "mt"
    return px, py, "mm"


def place(items: list[Candidate], z: int, lang: str = "vi", node_modules=None) -> Placed:
    """Place the names shown at zoom `z`, greedily in rank order, none over another."""
    taken: dict[tuple[int, int], list] = {}
    cell = TILE_SIZE
    indices, boxes = [], []
    for index, item in enumerate(items):
        if not item.shown_at(z):
            continue
        text = item.text(lang)
        px, py, where = label_point(item, z)
        left, top, right, bottom = text_box(text, item.kind, 1.0, node_modules)
        if where == "mt":
            top, bottom = 0.0, bottom - top
        box = (px + left, py + top, px + right, py + bottom)
        padded = (box[0] - MARGIN, box[1] - MARGIN, box[2] + MARGIN, box[3] + MARGIN)
        cells = [(cx, cy) for cx in range(int(padded[0] // cell), int(padded[2] // cell) + 1)
                 for cy in range(int(padded[1] // cell), int(padded[3] // cell) + 1)]
        if item.kind != "archipelago" and any(
                _overlaps(padded, other) for c in cells for other in taken.get(c, ())):
            continue
        for c in cells:
            taken.setdefault(c, []).append(padded)
        indices.append(index)
        boxes.append(box)
    array = np.array(boxes, dtype=float).reshape(-1, 4)
    tree = shapely.STRtree(shapely.box(array[:, 0], array[:, 1], array[:, 2], array[:, 3]))
    return Placed(z, lang, np.array(indices, dtype=int), array, tree)


def _overlaps(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


class Labels:
    """The names of one data version, placed per zoom and language on first use."""

    def __init__(self, items: list[Candidate], node_modules=None, extent=None):
        self.items = items
        self.node_modules = node_modules
        self.extent = extent  # the basemap's box (Web Mercator), None without a basemap
        self._placed: dict[tuple[int, str], Placed] = {}

    def placed(self, z: int, lang: str = "vi") -> Placed:
        """The placement at zoom `z` (zooms above LABEL_MAX_ZOOM share its placement)."""
        z = min(z, LABEL_MAX_ZOOM)
        key = (z, lang)
        found = self._placed.get(key)
        if found is None:  # a race computes the same placement twice, harmlessly
            found = self._placed[key] = place(self.items, z, lang, self.node_modules)
        return found

    def in_tile(self, z: int, x: int, y: int, lang: str = "vi", margin: float = 0.0
                ) -> list[tuple[Candidate, tuple]]:
        """The names placed at zoom `z` whose text box touches tile x/y (with `margin`
        px around it), with their boxes in the tile's pixels."""
        placed = self.placed(z, lang)
        if z > LABEL_MAX_ZOOM:  # the placement of LABEL_MAX_ZOOM, in this zoom's pixels
            factor = 2 ** (z - LABEL_MAX_ZOOM)
            boxes = placed.boxes * factor
        else:
            factor, boxes = 1, placed.boxes
        left, top = x * TILE_SIZE - margin, y * TILE_SIZE - margin
        right, bottom = (x + 1) * TILE_SIZE + margin, (y + 1) * TILE_SIZE + margin
        hits = placed.tree.query(shapely.box(left / factor, top / factor, right / factor,
                                             bottom / factor))
        out = []
        for hit in sorted(hits.tolist()):
            box = boxes[hit]
            out.append((self.items[placed.indices[hit]],
                        (box[0] - x * TILE_SIZE, box[1] - y * TILE_SIZE,
                         box[2] - x * TILE_SIZE, box[3] - y * TILE_SIZE)))
        return out

    def rows(self) -> list[tuple[str, dict, shapely.Point]]:
        """Every name (all zooms) as (id, properties, WGS 84 point): the catalogue layer's
        features (`geoservice.layers.source.from_rows`)."""
        return [(item.code, item.properties(), shapely.Point(to_lonlat(item.x, item.y)))
                for item in self.items]

    def archipelagos(self) -> list[Candidate]:
        """The archipelagos among the names."""
        return [item for item in self.items if item.kind == "archipelago"]


def draw_tile(labels: Labels, z: int, x: int, y: int, lang: str = "vi", scale: int = 1
              ) -> Image.Image | None:
    """Tile z/x/y of the names as a transparent RGBA image (None when nothing shows):
    the basemap's fading edge, the islands' markers, then the names."""
    size = round(TILE_SIZE * scale)
    image = None
    if labels.extent is not None:
        width = min(FADE_PIXELS * WORLD / (TILE_SIZE * 2**z), FADE_MAX)
        image = edge_fade(tile_bounds(z, x, y), labels.extent, width,
                          parse_colour(BACKGROUND), size)
        if image is not None:
            _clear_islands(labels, image, z, x, y, scale)
    if z < ISLAND_MARKER_ZOOM:
        markers = _draw_islands(labels, z, x, y, scale, size)
        if markers is not None:
            image = markers if image is None else Image.alpha_composite(image, markers)
    names = labels.in_tile(z, x, y, lang, margin=HALO_WIDTH + 1)
    if names:
        image = image or Image.new("RGBA", (size, size), (0, 0, 0, 0))
        draw = ImageDraw.Draw(image)
        for item, _box in names:
            text_size, style, ink = LOOKS[item.kind]
            font = load_font(text_size * scale, style, labels.node_modules)
            px, py, where = label_point(item, z)
            origin = (px - x * TILE_SIZE) * scale, (py - y * TILE_SIZE) * scale
            draw.text(origin, item.text(lang), font=font, fill=ink, anchor=where,
                      stroke_width=max(1, round(HALO_WIDTH * scale)), stroke_fill=HALO)
    return image


def _clear_islands(labels: Labels, image: Image.Image, z: int, x: int, y: int,
                   scale: float) -> None:
    """Clear the faded edge over the archipelagos' islands (they show through it)."""
    draw = ImageDraw.Draw(image)
    for item in labels.archipelagos():
        for ix, iy, radius in item.islands:
            px, py = world_pixels(ix, iy, z)
            px, py = (px - x * TILE_SIZE) * scale, (py - y * TILE_SIZE) * scale
            r = (radius / WORLD * TILE_SIZE * 2**z + ISLAND_RADIUS + 2) * scale
            if -r <= px <= image.width + r and -r <= py <= image.height + r:
                draw.ellipse([px - r, py - r, px + r, py + r], fill=(0, 0, 0, 0))


def _draw_islands(labels: Labels, z: int, x: int, y: int, scale: float, size: int):
    """Markers on the archipelagos' islands touching tile z/x/y (None when none does)."""
    image, draw, r = None, None, ISLAND_RADIUS
    for item in labels.archipelagos():
        for ix, iy, _radius in item.islands:
            px, py = world_pixels(ix, iy, z)
            px, py = (px - x * TILE_SIZE) * scale, (py - y * TILE_SIZE) * scale
            if not (-r * scale <= px <= size + r * scale and -r * scale <= py <= size + r * scale):
                continue
            if draw is None:
                image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
                draw = ImageDraw.Draw(image)
            draw.ellipse([px - r * scale, py - r * scale, px + r * scale, py + r * scale],
                         fill=ISLAND_INK, outline=HALO, width=max(1, round(0.8 * scale)))
    return image


def png_tile(labels: Labels, z: int, x: int, y: int, lang: str = "vi", scale: int = 1
             ) -> bytes:
    """Tile z/x/y of the names as PNG bytes (the shared empty tile when nothing shows)."""
    image = draw_tile(labels, z, x, y, lang, scale)
    if image is None or image.getbbox() is None:
        return EMPTY_PNG if scale == 1 else encode_png(
            Image.new("RGBA", (TILE_SIZE * scale,) * 2, (0, 0, 0, 0)))
    return encode_png(image)


def mvt_tile(labels: Labels, z: int, x: int, y: int, lang: str = "vi",
             extent: int = 4096) -> bytes:
    """Tile z/x/y of the names as a Mapbox Vector Tile (layer ``labels``): one point per
    name placed at zoom `z` whose anchor lies in the tile (each name in one tile)."""
    from geoservice.render.mvt import PropertyTable, encode_layer, encode_tile

    found = [(item, label_point(item, z)) for item, _box in labels.in_tile(z, x, y, lang)]
    inside = [(item, (px - x * TILE_SIZE, py - y * TILE_SIZE)) for item, (px, py, _a) in found
              if x * TILE_SIZE <= px < (x + 1) * TILE_SIZE
              and y * TILE_SIZE <= py < (y + 1) * TILE_SIZE]
    if not inside:
        return b""
    factor = extent / TILE_SIZE
    points = np.array([shapely.Point(round(px * factor), round(py * factor))
                       for _item, (px, py) in inside], dtype=object)
    table = PropertyTable([item.properties() for item, _xy in inside])
    layer = encode_layer("labels", points, table, np.arange(len(inside)),
                         [item.rank + 1 for item, _xy in inside], extent)
    return encode_tile([layer]) if layer else b""


def features(labels: Labels, z: int, lang: str = "vi") -> dict:
    """The names placed at zoom `z` as a GeoJSON FeatureCollection (WGS 84 points)."""
    placed = labels.placed(z, lang)
    out = []
    for index in placed.indices.tolist():
        item = labels.items[index]
        lon, lat = to_lonlat(item.x, item.y)
        out.append({"type": "Feature", "id": item.code,
                    "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
                    "properties": {**item.properties(), "zoom": z}})
    return {"type": "FeatureCollection", "features": out, "numberMatched": len(out),
            "numberReturned": len(out)}
