"""The report map: the unit's communes classified by certification rate, drawn by our tile
renderer with the layers' own styles, with neighbouring units, scale bar and north arrow.

Every feature gets its `Symbol` from the layer that draws it on screen (`layers/*.toml`:
sea, countries, provinces, certification-rate, border-lines, hot-spots), so paper and
screen agree. The map is in Web Mercator like the tiles, fitted to the unit with a margin;
geometries are simplified to half a pixel of the printed image. Labels (neighbouring
provinces and countries, nearby communes on a commune map) are DejaVu Sans with a white
halo. Legends are separate images drawn by `render.legend`, so that the map image itself
holds only the map.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import shapely
from PIL import Image

from geoservice.access import Area
from geoservice.indicators import published
from geoservice.layers.definition import BACKGROUND
from geoservice.layers.params import with_params
from geoservice.render.legend import legend_image, style_entries
from geoservice.render.map_decorations import (
    draw_north_arrow,
    draw_scale_bar,
    north_arrow_box,
    scale_bar_box,
)
from geoservice.render.png import encode_png, render_image
from geoservice.render.symbols import Symbol, parse_colour
from geoservice.reports.map_frame import PADDING, Frame, fit_frame, to_pixels
from geoservice.reports.map_inset import archipelagos_for, draw_inset, in_frame
from geoservice.reports.map_labels import Label, number_markers, place_labels, ranked_first
from geoservice.reports.units import Unit
from geoservice.store import FeatureQuery

__all__ = ["PADDING", "Frame", "MapSpec", "ReportMap", "fit_frame", "to_pixels", "unit_map"]
ALL = 10**6
UNIT_OUTLINE = Symbol(stroke=(33, 33, 33, 255), stroke_width=2.2)
RANK_KEY = "certification_rate_residential"  # what the ranking chart sorts communes by
LABEL_INK = (66, 66, 66, 255)
COUNTRY_INK = (120, 110, 95, 255)
SIZES = {"landscape": (760.0, 560.0), "portrait": (680.0, 560.0)}  # CSS pixels


@dataclass
class ReportMap:
    """The map image (PNG) with its size in CSS pixels, its legends and what it drew."""

    png: bytes
    width: float
    height: float
    legends: list[tuple[bytes, float, float]] = field(default_factory=list)  # PNG, CSS size
    drawn: dict = field(default_factory=dict)  # layer id -> number of features drawn
    labels: list[dict] = field(default_factory=list)  # placed names: text, kind, box
    insets: list[str] = field(default_factory=list)  # archipelagos shown in an inset
    markers: list[dict] = field(default_factory=list)  # numbered hot spots: number, xy

    def names(self, kind: str | None = None) -> list[str]:
        """The names the map prints (of one kind: 'commune', 'archipelago' …)."""
        return [label["text"] for label in self.labels if kind in (None, label["kind"])]


def unit_geometry(store, unit: Unit):
    """The unit's outline in lon/lat (a border sector: the union of its communes)."""
    if unit.kind == "province":
        return store.get("provinces", unit.code)[2]
    if unit.kind == "commune":
        return store.get("communes", unit.code)[2]
    page = store.query("communes", FeatureQuery(limit=ALL, border_neighbor=unit.code))
    shapes = [g for _fid, _props, g in page.features if g is not None]
    return shapely.union_all(shapes) if shapes else None


@dataclass(frozen=True)
class MapSpec:
    """What a report map shows and how it is printed."""

    unit: Unit
    year: int
    lang: str = "vi"
    orientation: str = "landscape"
    scale: float = 2.0  # image pixels per CSS pixel
    classify: bool = True  # False (a year without records): no indicators computed
    node_modules: str | None = None
    magnify: float = 1.0  # printed this many times wider than on A4 (reports.pages)


def unit_map(store, catalog: dict, spec: MapSpec, hot_spots: list,
             texts: dict) -> ReportMap | None:
    """Draw the unit's map; None when the unit has no geometry.

    `hot_spots` are (properties, geometry) pairs the reader may see (empty otherwise);
    `texts` holds the translated words the map needs: ``north``, ``boundaries``,
    ``province_boundary`` and ``unit``. `spec.classify` False draws every commune as
    having no data, without computing indicators.
    """
    outline = unit_geometry(store, spec.unit)
    if outline is None or outline.is_empty:
        return None
    width, height = SIZES[spec.orientation]
    frame = fit_frame(outline, width * spec.magnify, height * spec.magnify)
    items, labels, drawn, spots = _layers(store, catalog, spec, frame, outline, hot_spots)
    scale, node_modules = spec.scale, spec.node_modules
    background = Image.new("RGBA", (round(frame.width * scale), round(frame.height * scale)),
                           parse_colour(BACKGROUND))
    background.alpha_composite(render_image(items, frame.width, frame.height, scale))
    # Decorations first: their boxes are kept free of names.
    mpp = frame.ground_metres_per_pixel() / scale
    bar = ((14 * scale, (frame.height - 14) * scale), frame.width * scale * 0.25)
    arrow = ((frame.width - 26) * scale, 12 * scale)
    taken = [shapely.box(*(v / scale for v in scale_bar_box(mpp, *bar, scale, node_modules))),
             shapely.box(*(v / scale for v in north_arrow_box(
                 arrow, scale=scale, label=texts["north"], node_modules=node_modules)))]
    draw_scale_bar(background, mpp, *bar, scale, node_modules)
    draw_north_arrow(background, arrow, scale=scale, label=texts["north"],
                     node_modules=node_modules)
    placed, insets = [], []
    shown = archipelagos_for(spec.unit, frame.lonlat_bbox())
    if any(not in_frame(key, frame.lonlat_bbox()) for key in shown):
        inset = draw_inset(store, catalog, background, (frame.width, frame.height), scale,
                           texts, node_modules)
        taken.append(shapely.box(*inset.box).buffer(2))
        placed += [{"text": name, "kind": "archipelago", "box": inset.box}
                   for name in inset.names]
        insets = list(shown)
    markers = number_markers(background, [shape for _props, shape in spots],
                             [_marker_colour(catalog, props) for props, _shape in spots],
                             scale, node_modules, taken)
    placed += place_labels(background, labels, scale, node_modules, taken)
    legends = _legends(catalog, spec, drawn, texts)
    return ReportMap(encode_png(background.convert("RGB")), frame.width, frame.height,
                     legends, {k: len(v) for k, v in drawn.items()}, placed, insets, markers)


def _marker_colour(catalog, props: dict) -> tuple:
    """A hot spot's marker colour: its status colour in the hot-spot layer, opaque."""
    symbol = catalog["hot-spots"].symbol_for(props)
    colour = (symbol.fill or symbol.stroke) if symbol is not None else None
    return (*colour[:3], 255) if colour else (183, 28, 28, 255)


def _query(store, collection: str, bbox) -> list:
    return store.query(collection, FeatureQuery(limit=ALL, bbox=bbox)).features


def _layers(store, catalog, spec: MapSpec, frame: Frame, outline, hot_spots):
    """(pixel geometry, symbol) items in drawing order, labels, and what each layer drew."""
    unit, year, scale, lang = spec.unit, spec.year, spec.scale, spec.lang
    bbox = frame.lonlat_bbox()
    drawn: dict[str, list] = {}
    items: list = []

    def add(layer_id: str, features, symbol_of=None) -> list:
        rows = [(props, geometry) for props, geometry in features if geometry is not None]
        symbols = [symbol_of(props) if symbol_of else catalog[layer_id].symbol_for(props)
                   for props, _geometry in rows]
        keep = [i for i, s in enumerate(symbols) if s is not None]
        if not keep:
            return []
        shapes = to_pixels([rows[i][1] for i in keep], frame, scale)
        shown = [(rows[i][0], shape, symbols[i]) for i, shape in zip(keep, shapes)
                 if not shape.is_empty]  # what lies outside the frame is not on the map
        items.extend((shape, symbol) for _props, shape, symbol in shown)
        if shown:
            drawn.setdefault(layer_id, []).extend(props for props, _shape, _symbol in shown)
        return [(props, shape) for props, shape, _symbol in shown]

    add("sea", [(p, g) for _f, p, g in _query(store, "sea", bbox)])
    countries = add("countries", [(p, g) for _f, p, g in _query(store, "countries", bbox)])
    provinces = add("provinces", [({**p, "code": f}, g)
                                  for f, p, g in _query(store, "provinces", bbox)])
    communes = _query(store, "communes", bbox)
    layer = with_params(catalog["certification-rate"], year=year)
    if spec.classify:
        communes = published.decorate(store, "communes", communes, year, Area.national())
    members = set(unit.commune_codes)
    placed = add("certification-rate", [({**p, "code": f}, g) for f, p, g in communes
                                        if unit.kind == "commune" or f in members],
                 layer.symbol_for)
    # Provincial boundaries stay visible over the classified communes.
    edge = replace(catalog["provinces"].style.symbol(), fill=None)
    items.extend((shape, edge) for _props, shape in provinces)
    if unit.kind != "border":
        add("unit-outline", [({}, outline)], lambda _props: UNIT_OUTLINE)
    add("border-lines", [(p, g) for _f, p, g in
                         store.query("border-lines", FeatureQuery(limit=ALL)).features])
    spots = add("hot-spots", hot_spots)  # in the table's order: numbered 1, 2, …
    labels = _country_labels(countries, lang) + _province_labels(provinces, unit)
    labels += _commune_labels(placed, unit)
    return items, labels, drawn, spots


def _country_labels(countries, lang: str) -> list[Label]:
    name = "name" if lang == "vi" else "name_en"
    return [Label(shape, (props.get(name) or "").upper(), 13, "bold", COUNTRY_INK, "country")
            for props, shape in countries if props.get("iso_a2") != "VN"]


def _province_labels(provinces, unit: Unit) -> list[Label]:
    out = []
    for props, shape in provinces:
        own = props.get("code") == unit.province_code
        if own and unit.kind != "border":
            continue  # the title names it; its communes fill it
        out.append(Label(shape, props.get("name") or "", 11, "bold" if own else "regular",
                         LABEL_INK, "province"))
    return out


def _commune_labels(placed, unit: Unit) -> list[Label]:
    """Commune names: on a commune map the unit first, then its neighbours; on a province
    or sector map the unit's communes, the ends of the ranking first."""
    if unit.kind == "commune":
        rows = sorted(placed, key=lambda row: row[0]["code"] != unit.code)
        return [Label(shape, props.get("name") or "", 11 if props["code"] == unit.code else 9,
                      "bold" if props["code"] == unit.code else "regular", LABEL_INK,
                      "commune") for props, shape in rows]
    return [Label(shape, props.get("name") or "", 7, "regular", LABEL_INK, "commune")
            for props, shape in ranked_first(placed, RANK_KEY)]


def _legends(catalog, spec: MapSpec, drawn: dict, texts: dict) -> list[tuple]:
    """Legend images: certification classes, boundaries, border lines, hot spots."""
    lang, scale, node_modules = spec.lang, spec.scale, spec.node_modules
    layer = with_params(catalog["certification-rate"], year=spec.year)
    images = [legend_image(layer.legend_title.get(lang),
                           style_entries(layer.style, lang, layer.legend_title), scale,
                           node_modules)]
    edge = catalog["provinces"].style.symbol()
    boundaries = [(texts["province_boundary"], replace(edge, fill=None), "line")]
    if "unit-outline" in drawn:
        boundaries.append((texts["unit"], UNIT_OUTLINE, "line"))
    images.append(legend_image(texts["boundaries"], boundaries, scale, node_modules))
    for layer_id, key in (("border-lines", "neighbor"), ("hot-spots", "status")):
        if layer_id not in drawn:
            continue
        shown = catalog[layer_id]
        present = {props.get(key) for props in drawn[layer_id]}
        entries = [(e.label.get(lang), shown.style.symbol(e.colour), shown.geometry)
                   for e in shown.style.entries
                   if (e.value if e.role == "category" else None) in present]
        images.append(legend_image(shown.legend_title.get(lang), entries, scale,
                                   node_modules))
    return [(encode_png(image.convert("RGB")), image.width / scale, image.height / scale)
            for image in images]
