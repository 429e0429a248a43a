"""Labels of the report map: placed in priority order, never over one another or over the
map's decorations (scale bar, north arrow, inset), and recorded so tests and the report
can say what the map names.

A label is a `Label`: the shape it names (in the map's CSS pixels), its text, size, weight
and ink. `place_labels` tries each in turn at a few points inside the shape's visible part
and keeps the first position whose box (with a small margin) meets nothing already taken;
a label that finds none is left out. Hot spots get numbered markers (`number_markers`),
placed before any name so that a number is never hidden.
"""

from __future__ import annotations

from dataclasses import dataclass

import shapely
from PIL import Image, ImageDraw

from geoservice.render.fonts import load_font
from geoservice.text import nfc

LABEL_HALO = (255, 255, 255, 230)
MARKER_RADIUS = 7.5  # CSS pixels: a hot spot's numbered disc
MARKER_INK = (255, 255, 255, 255)
MARKER_EDGE = (33, 33, 33, 255)
MARGIN = 3  # CSS pixels kept free around a label


@dataclass(frozen=True)
class Label:
    """A name to draw inside (or at) a shape."""

    shape: object  # shapely geometry in CSS pixels
    text: str
    size: float
    style: str = "regular"
    ink: tuple = (66, 66, 66, 255)
    kind: str = "other"  # "country", "province", "commune", "archipelago"


def _candidates(visible) -> list:
    """Points to try inside the visible shape: its label point, then around its centre."""
    first = visible.point_on_surface()
    points = [first]
    minx, miny, maxx, maxy = visible.bounds
    dx, dy = (maxx - minx) / 4, (maxy - miny) / 4
    for ox, oy in ((0, -dy), (0, dy), (-dx, 0), (dx, 0)):
        point = shapely.Point(first.x + ox, first.y + oy)
        if visible.contains(point):
            points.append(point)
    return points


def place_labels(image: Image.Image, labels: list[Label], scale: float, node_modules,
                 taken: list) -> list[dict]:
    """Draw the labels that fit, in the given order; return what was placed.

    `taken` holds boxes (CSS pixels) already occupied — decorations, markers — and grows
    with every label drawn. Each placed label is {text, kind, box}.
    """
    draw = ImageDraw.Draw(image)
    width, height = image.size[0] / scale, image.size[1] / scale
    view = shapely.box(0, 0, width, height)
    placed = []
    for label in labels:
        text = nfc(label.text or "")
        if not text or label.shape is None or label.shape.is_empty:
            continue
        visible = label.shape.intersection(view)
        if visible.is_empty:
            continue
        if visible.area and visible.area < (label.size * 2.5) ** 2:
            continue  # too small to hold a name
        font = load_font(label.size * scale, label.style, node_modules)
        left, top, right, bottom = font.getbbox(text, anchor="mm")
        for point in _candidates(visible):
            box = shapely.box(point.x + left / scale, point.y + top / scale,
                              point.x + right / scale, point.y + bottom / scale)
            padded = box.buffer(MARGIN, join_style="mitre")
            if not view.contains(padded) or any(padded.intersects(o) for o in taken):
                continue
            taken.append(padded)
            draw.text((point.x * scale, point.y * scale), text, font=font, fill=label.ink,
                      anchor="mm", stroke_width=max(1, round(1.5 * scale)),
                      stroke_fill=LABEL_HALO)
            placed.append({"text": text, "kind": label.kind, "box": box.bounds})
            break
    return placed


def number_markers(image: Image.Image, shapes: list, colours: list, scale: float,
                   node_modules, taken: list) -> list[dict]:
    """Draw a numbered disc (1, 2, …, in the order given) on each shape; return them.

    Discs are drawn even when they touch one another (a hot spot is never hidden); their
    boxes are added to `taken` so that no name covers them.
    """
    draw = ImageDraw.Draw(image)
    font = load_font(8.5 * scale, "bold", node_modules)
    out = []
    for number, (shape, colour) in enumerate(zip(shapes, colours), 1):
        if shape is None or shape.is_empty:
            continue
        point = shape.point_on_surface() if shape.area else shape.centroid
        r = MARKER_RADIUS
        x, y = point.x, point.y
        draw.ellipse([(x - r) * scale, (y - r) * scale, (x + r) * scale, (y + r) * scale],
                     fill=colour, outline=MARKER_EDGE, width=max(1, round(1.2 * scale)))
        draw.text((x * scale, y * scale), str(number), font=font, fill=MARKER_INK,
                  anchor="mm", stroke_width=max(1, round(0.8 * scale)),
                  stroke_fill=MARKER_EDGE)
        taken.append(shapely.box(x - r, y - r, x + r, y + r).buffer(1))
        out.append({"number": number, "xy": (x, y)})
    return out


def ranked_first(rows: list, key: str) -> list:
    """Rows ordered by importance for labelling: the ranking's ends first.

    The highest, the lowest, the second highest, the second lowest … of `key` (the rate
    the ranking chart sorts by), then the rows without a value — so the communes a
    reader looks for from the ranking are the ones named when space runs out.
    """
    valued = sorted((r for r in rows if r[0].get(key) is not None),
                    key=lambda r: -float(r[0][key]))
    order, low, high = [], 0, len(valued) - 1
    while low <= high:
        order.append(valued[low])
        if high != low:
            order.append(valued[high])
        low, high = low + 1, high - 1
    return order + [r for r in rows if r[0].get(key) is None]
