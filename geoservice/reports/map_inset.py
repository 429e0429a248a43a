"""The Hoàng Sa and Trường Sa archipelagos on report maps: Vietnamese territory that every
map of the country or a region, and the map of the province holding them, must show
and name ("Quần đảo Hoàng Sa", "Quần đảo Trường Sa").

Where the map's frame leaves them out (always, for a border sector or a coastal province
framed on its mainland), an inset in the bottom-right corner shows the sea from the coast
to both archipelagos, their main islands as dots and their names. The island positions are
approximate public coordinates (degrees), enough for a locator inset, not for measuring.
"""

from __future__ import annotations

from dataclasses import dataclass

import shapely
from PIL import Image, ImageDraw

from geoservice.layers.definition import BACKGROUND
from geoservice.render.fonts import load_font
from geoservice.render.png import render_image
from geoservice.render.symbols import Symbol, parse_colour
from geoservice.reports.map_frame import fit_frame, to_pixels
from geoservice.store import FeatureQuery
from geoservice.text import nfc

ALL = 10**6
# Main islands (lon, lat), approximate.
ISLANDS = {
    "hoang_sa": ((112.34, 16.83), (111.61, 16.53), (111.20, 15.78), (112.73, 16.67),
                 (111.51, 16.45), (112.26, 16.97), (111.75, 16.45)),
    "truong_sa": ((111.92, 8.64), (114.33, 11.43), (114.36, 10.18), (114.33, 9.88),
                  (114.48, 10.38), (112.92, 7.87), (113.30, 8.10), (115.00, 10.70),
                  (113.80, 9.20), (114.65, 11.05)),
}
# The provinces holding them: the special zone (đặc khu) of the same name is a unit of it.
HOLDERS = {"hoang_sa": "Hoàng Sa", "truong_sa": "Trường Sa"}
INSET_AREA = shapely.box(105.6, 6.6, 117.4, 17.8)  # the coast to both archipelagos
INSET_SIZE = (150.0, 178.0)  # CSS pixels
INSET_MARGIN = 8.0
ISLAND = Symbol(fill=(69, 90, 100, 255), stroke=(255, 255, 255, 255), stroke_width=0.6,
                radius=2.2)
FRAME_INK = (97, 97, 97, 255)
NAME_INK = (21, 101, 192, 255)
HALO = (255, 255, 255, 230)


@dataclass
class Inset:
    """What the inset drew: its box on the map (CSS pixels) and the names it printed."""

    box: tuple[float, float, float, float]
    names: list[str]


def archipelagos_for(unit, frame_bbox) -> list[str]:
    """The archipelagos a unit's map must show: all for a border sector (a regional map),
    and for a province those it holds (its special zone of the same name)."""
    if unit.kind == "border":
        return list(ISLANDS)
    if unit.kind != "province":
        return []
    names = {c.get("name") for c in unit.communes}
    return [key for key, zone in HOLDERS.items() if zone in names]


def in_frame(key: str, frame_bbox) -> bool:
    """True when every island of the archipelago lies inside the (lon/lat) frame."""
    west, south, east, north = frame_bbox
    return all(west <= lon <= east and south <= lat <= north for lon, lat in ISLANDS[key])


def draw_inset(store, catalog, image: Image.Image, map_size: tuple[float, float],
               scale: float, texts: dict, node_modules) -> Inset:
    """Draw the inset in the map's bottom-right corner; return its box and names."""
    inset, names = inset_image(store, catalog, scale, texts, node_modules)
    width, height = INSET_SIZE
    map_width, map_height = map_size
    left, top = map_width - width - INSET_MARGIN, map_height - height - INSET_MARGIN
    image.alpha_composite(inset, dest=(round(left * scale), round(top * scale)))
    return Inset((left, top, left + width, top + height), names)


def inset_image(store, catalog, scale: float, texts: dict, node_modules
                ) -> tuple[Image.Image, list[str]]:
    """The inset alone (`INSET_SIZE` CSS pixels at `scale`), framed, and the names on it:
    the sea from the coast to both archipelagos, their islands and names."""
    width, height = INSET_SIZE
    frame = fit_frame(INSET_AREA, width, height, padding=0.0)
    bbox = frame.lonlat_bbox()
    items: list = []
    for layer_id in ("sea", "countries", "provinces"):
        features = store.query(layer_id, FeatureQuery(limit=ALL, bbox=bbox)).features
        rows = [(props, g) for _f, props, g in features if g is not None]
        if not rows:
            continue
        shapes = to_pixels([g for _p, g in rows], frame, scale)
        for (props, _g), shape in zip(rows, shapes):
            symbol = catalog[layer_id].symbol_for(props)
            if symbol is not None and not shape.is_empty:
                items.append((shape, symbol))
    groups = {}
    for key, islands in ISLANDS.items():
        points = to_pixels([shapely.Point(p) for p in islands], frame, scale)
        items.extend((point, ISLAND) for point in points if not point.is_empty)
        groups[key] = shapely.MultiPoint([p for p in points if not p.is_empty])
    sea = catalog["sea"].symbol_for({})  # open sea beyond the sea layer's extent
    ground = (*sea.fill[:3], 255) if sea is not None and sea.fill else parse_colour(BACKGROUND)
    inset = Image.new("RGBA", (round(width * scale), round(height * scale)), ground)
    inset.alpha_composite(render_image(items, width, height, scale))
    names = [nfc(texts[key]) for key in ISLANDS]
    for (key, group), name in zip(groups.items(), names):
        _name(inset, group, name, scale, node_modules, above=key == "truong_sa")
    ImageDraw.Draw(inset).rectangle([0, 0, inset.width - 1, inset.height - 1],
                                    outline=FRAME_INK, width=max(1, round(0.8 * scale)))
    return inset, names


def _name(image: Image.Image, group, text: str, scale: float, node_modules,
          above: bool) -> None:
    """Write an archipelago's name (on two lines if long) above or below its islands."""
    font = load_font(7.5 * scale, "bold", node_modules)
    words = text.split()
    lines = [text] if font.getlength(text) < image.width - 8 * scale else [
        " ".join(words[:len(words) // 2]), " ".join(words[len(words) // 2:])]
    minx, miny, maxx, maxy = group.bounds
    half = max(font.getlength(line) for line in lines) / 2 + 3 * scale
    x = min(max((minx + maxx) / 2 * scale, half), image.width - half)
    step = 9.5 * scale
    y = (miny - 5) * scale - step * (len(lines) - 1) if above else (maxy + 4) * scale
    draw = ImageDraw.Draw(image)
    for line in lines:
        draw.text((x, y), line, font=font, fill=NAME_INK, anchor="md" if above else "ma",
                  stroke_width=max(1, round(1.4 * scale)), stroke_fill=HALO)
        y += step
