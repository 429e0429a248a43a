"""The map view as an image to download: ``GET /map/image.png`` and ``/map/image.pdf``.

    /map/image.png?layer=certification-rate-province,border-lines&bbox=102,8,110,24
                   &year=2024&group=schools&lang=vi&width=1600&height=1200&title=…

The view is drawn on the server the way the report maps are: the layers' prepared
features with their own symbols (`layers.source`, the tiles' features) through the tile
renderer, fitted to `bbox` with the report maps' frame (`reports.map_frame`), over the sea
and neighbouring countries, with scale bar, north arrow and — where the frame leaves them
out — the Hoàng Sa / Trường Sa inset of the reports (`reports.map_inset`). Around it
(`render.mapimage`): the title (default the first layer's), the layers' legends, the
date, the data source and the synthetic-data mark when demo data is shown. The PDF is
the same sheet with its title and footer as text. Access is each layer's tiles' one: a
restricted layer needs a reader who may read it, and a province reader sees its province.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass, field
from datetime import date

import shapely
from flask import Blueprint, Response, request
from PIL import Image, ImageDraw

from geoservice import access, services
from geoservice import params as P
from geoservice.api.context import VIETNAM_BOUNDS, RequestContext
from geoservice.collections import COLLECTIONS
from geoservice.errors import InvalidParameter
from geoservice.indicators import published
from geoservice.indicators.names import CERTIFICATION_GROUPS
from geoservice.layers.definition import BACKGROUND
from geoservice.layers.params import accepted, layer_for, readable_layers
from geoservice.render import mapimage as sheet
from geoservice.render.fonts import load_font
from geoservice.render.legend import legend_image, style_entries
from geoservice.render.map_decorations import draw_north_arrow, draw_scale_bar
from geoservice.render.png import encode_png, render_image
from geoservice.render.symbols import parse_colour
from geoservice.reports.map_frame import fit_frame, to_pixels
from geoservice.reports.map_inset import (
    HALO,
    INSET_MARGIN,
    INSET_SIZE,
    ISLAND,
    ISLANDS,
    NAME_INK,
    draw_inset,
    in_frame,
    inset_image,
)
from geoservice.text import nfc
from geoservice.web.context import context

blueprint = Blueprint("mapimage", __name__)
MAX_SIDE = 4000
BASEMAP = ("sea", "countries")
LAYERS = P.Parameter("layer", P.names, {"type": "array", "items": {"type": "string"},
                                        "minItems": 1},
                     "Layer ids, comma-separated, drawn in the layers' order (see /tiles)")
GROUP = P.Parameter("group", P.choice(CERTIFICATION_GROUPS),
                    {"type": "string", "enum": list(CERTIFICATION_GROUPS)},
                    "Certification group of the certification layers")
WIDTH = P.Parameter("width", P.whole(300, MAX_SIDE), {"type": "integer", "minimum": 300,
                                                       "maximum": MAX_SIDE, "default": 1200},
                    f"Image width in pixels (300-{MAX_SIDE})")
HEIGHT = P.Parameter("height", P.whole(300, MAX_SIDE), {"type": "integer", "minimum": 300,
                                                         "maximum": MAX_SIDE, "default": 850},
                     f"Image height in pixels (300-{MAX_SIDE})")
TITLE = P.Parameter("title", P.text(200), {"type": "string", "maxLength": 200},
                    "Title printed on the map (default: the first layer's title)")
PARAMETERS = (LAYERS, P.BBOX, P.LAYER_YEAR, GROUP, P.LANG, WIDTH, HEIGHT, TITLE)
SCALE = P.Parameter("scale", P.whole(1, 3), {"type": "integer", "minimum": 1, "maximum": 3,
                                             "default": 1},
                    "Pixels per CSS pixel (2 for high-density screens)")
INSET_PARAMETERS = (P.LANG, SCALE)
WORDS = {
    "vi": {"date": "Ngày", "source": "Nguồn: ranh giới hành chính 2025 và số liệu của "
                                     "hệ thống (cập nhật {updated})", "year": "Năm số liệu",
           "mark": "DỮ LIỆU MINH HOẠ TỔNG HỢP, KHÔNG PHẢI SỐ LIỆU THẬT"},
    "en": {"date": "Date", "source": "Source: 2025 administrative boundaries and the "
                                     "service's records (updated {updated})",
           "year": "Data year", "mark": "SYNTHETIC DEMO DATA, NOT REAL FIGURES"},
}


@dataclass
class MapImage:
    """A drawn view: the sheet and what is on it."""

    image: Image.Image
    layout: sheet.Layout
    title: str
    footer: str
    mark: str | None
    lang: str = "vi"
    drawn: dict = field(default_factory=dict)  # layer id -> features drawn
    inset: bool = False


@dataclass(frozen=True)
class ImageRequest:
    """A validated map image request."""

    layers: tuple[str, ...]
    bbox: tuple[float, float, float, float]
    year: str | None
    group: str | None
    lang: str
    width: int
    height: int
    title: str | None


def parse(args) -> ImageRequest:
    """Validate the parameters (unknown ones refused)."""
    P.known(args, [p.name for p in PARAMETERS])
    layers = LAYERS.get(args)
    if not layers:
        raise InvalidParameter("layer is required: one or more layer ids, comma-separated.",
                               parameter="layer")
    P.LAYER_YEAR.get(args)
    title = TITLE.get(args)
    return ImageRequest(layers, P.BBOX.get(args, VIETNAM_BOUNDS), args.get("year"),
                        GROUP.get(args), P.LANG.get(args, "vi"), WIDTH.get(args, 1200),
                        HEIGHT.get(args, 850), title.strip() if title else None)


def _resolved(ctx: RequestContext, wanted: ImageRequest) -> list:
    """(layer, access decision, record year) of each layer, in drawing order."""
    given = {"year": wanted.year, "group": wanted.group}
    used, out = set(), []
    for position, layer_id in enumerate(wanted.layers):
        layer = ctx.catalog.get(layer_id)
        own = accepted(layer) if layer is not None else ()
        args = {k: v for k, v in given.items() if v is not None and k in own}
        used |= set(args)
        out.append((position, layer_for(ctx.catalog, layer_id, {**args, "lang": wanted.lang},
                                        ctx.principal)))
    unused = [k for k, v in given.items() if v is not None and k not in used]
    if unused:
        raise InvalidParameter(f"None of the layers takes '{unused[0]}'.", parameter=unused[0])
    return [resolved for _position, resolved in out]  # as asked: legends, title


def draw(ctx: RequestContext, wanted: ImageRequest) -> MapImage:
    """Draw the view of `wanted` for the reader of `ctx`."""
    from geoservice.reports.document import map_texts
    from geoservice.reports.format import Formatter

    resolved = _resolved(ctx, wanted)
    lang, node_modules = wanted.lang, ctx.services.node_modules
    scale = sheet.sheet_scale(wanted.width, wanted.height)
    legends = [_legend(layer, lang, scale, node_modules) for layer, _d, _y in resolved]
    parts = sheet.layout(wanted.width, wanted.height,
                         max((legend.width / scale for legend in legends), default=0), scale)
    map_w, map_h = (v / scale for v in parts.map_size)
    frame = fit_frame(shapely.box(*wanted.bbox), map_w, map_h, padding=0.0)
    readable = set(readable_layers(ctx.catalog, ctx.principal))
    basemap = [layer_for(ctx.catalog, i, {}, ctx.principal) for i in BASEMAP
               if i in readable and i not in wanted.layers]
    items, drawn = [], {}
    in_order = sorted(resolved, key=lambda item: item[0].order)  # stable: ties as asked
    for layer, decision, year in [*basemap, *in_order]:
        shown = _features(ctx, layer, decision, year, frame, scale)
        items += shown
        drawn[layer.id] = len(shown)
    picture = Image.new("RGBA", parts.map_size, _ground(ctx.catalog))
    picture.alpha_composite(render_image(items, map_w, map_h, scale))
    texts = map_texts("")
    shown_islands = [key for key in ISLANDS if _islands_in(key, frame.lonlat_bbox())]
    _archipelagos(picture, frame, scale, [(key, texts[key]) for key in shown_islands],
                  node_modules)
    mpp = frame.ground_metres_per_pixel() / scale
    draw_scale_bar(picture, mpp, (14 * scale, (map_h - 14) * scale), map_w * scale * 0.25,
                   scale, node_modules)
    draw_north_arrow(picture, ((map_w - 26) * scale, 12 * scale), scale=scale,
                     label=texts["north"], node_modules=node_modules)
    inset = (any(not in_frame(key, frame.lonlat_bbox()) for key in ISLANDS)
             and map_w >= INSET_SIZE[0] * 2 and map_h >= INSET_SIZE[1] + 2 * INSET_MARGIN + 40)
    if inset:
        draw_inset(ctx.store, ctx.catalog, picture, (map_w, map_h), scale, texts, node_modules)
    first = resolved[0][0]
    title = wanted.title or first.title(lang)
    footer = _footer(ctx.store, [layer for layer, _d, _y in resolved], lang, Formatter(lang))
    mark = WORDS[lang]["mark"] if _synthetic(ctx.store, resolved) else None
    image = sheet.compose(parts, picture, legends, title, footer, mark, node_modules)
    return MapImage(image, parts, title, footer, mark, lang, drawn, inset)


def _ground(catalog) -> tuple:
    """The open sea's colour beyond the basemap's extent (as the reports' inset has it)."""
    sea = catalog["sea"].symbol_for({}) if "sea" in catalog else None
    return (*sea.fill[:3], 255) if sea is not None and sea.fill else parse_colour(BACKGROUND)


def _islands_in(key: str, bbox) -> bool:
    """True when some island of the archipelago lies inside the (lon/lat) frame."""
    west, south, east, north = bbox
    return any(west <= lon <= east and south <= lat <= north for lon, lat in ISLANDS[key])


def _archipelagos(picture: Image.Image, frame, scale: float, names: list, node_modules
                  ) -> None:
    """The archipelagos inside the frame: their main islands as dots, and their names."""
    for key, name in names:
        points = [p for p in to_pixels([shapely.Point(p) for p in ISLANDS[key]], frame, scale)
                  if not p.is_empty]
        if not points:
            continue
        picture.alpha_composite(render_image([(p, ISLAND) for p in points],
                                             picture.width / scale, picture.height / scale,
                                             scale))
        group = shapely.MultiPoint(points)
        font = load_font(9 * scale, "bold", node_modules)
        half = font.getlength(nfc(name)) / 2 + 2 * scale
        x = min(max(group.centroid.x * scale, half), picture.width - half)
        y = min((group.bounds[3] + 8) * scale, picture.height - 14 * scale)
        ImageDraw.Draw(picture).text((x, y), nfc(name), font=font, fill=NAME_INK,
                                     anchor="ma", stroke_width=max(1, round(1.4 * scale)),
                                     stroke_fill=HALO)


def _features(ctx: RequestContext, layer, decision, year, frame, scale: float) -> list:
    """(pixel shape, symbol) of the layer's features in the frame the reader may see."""
    runs = ctx.services.analysis_runs if layer.source.analysis else None
    source = ctx.services.sources.get(ctx.store, layer, year, runs=runs)
    if not len(source):
        return []
    hits = source.lonlat_tree.query(shapely.box(*frame.lonlat_bbox()))
    hits = sorted(int(i) for i in hits
                  if decision.province_code in (None, source.provinces[i])
                  and source.symbols[i] is not None)
    if not hits:
        return []
    shapes = to_pixels([source.lonlat[i] for i in hits], frame, scale)
    return [(shape, source.symbols[i]) for i, shape in zip(hits, shapes)
            if shape is not None and not shape.is_empty]


def _legend(layer, lang: str, scale: float, node_modules) -> Image.Image:
    title = layer.legend_title.get(lang) if layer.legend_title else layer.title(lang)
    return legend_image(title, style_entries(layer.style, lang, layer.legend_title), scale,
                        node_modules)


def _shows_records(layer) -> bool:
    source = layer.source
    return bool(source.indicator or source.analysis
                or COLLECTIONS[source.collection].source == "records")


def _synthetic(store, resolved) -> bool:
    shown = any(_shows_records(layer) for layer, _d, _y in resolved)
    return shown and published.synthetic_notice(store) is not None


def _footer(store, layers, lang: str, fmt) -> str:
    """The date, the indicator year where there is one, and the data source."""
    words = WORDS[lang]
    updated = [entry["imported_at"] for entry in store.imports()[:1]]
    updated = updated or [store.get_meta("boundaries_loaded_at")]
    parts = [f"{words['date']} {fmt.date(date.today())}"]
    years = {layer.params.get("year") for layer in layers if layer.source.indicator}
    years = {published.indicator_year(store, None) if y in (None, "latest") else y
             for y in years}
    if len(years) == 1 and None not in years:
        parts.append(f"{words['year']} {years.pop()}")
    parts.append(words["source"].format(updated=fmt.date(updated[0])))
    return " · ".join(parts)


def pdf(drawn: MapImage, node_modules) -> bytes:
    """The sheet as a one-page PDF: its title and footer as text, the rest as the image."""
    from geoservice.reports.pdf import font_urls, layout, write_document

    parts, s = drawn.layout, drawn.layout.scale
    body = drawn.image.crop((0, parts.map[1], parts.width, parts.map[3])).convert("RGB")
    data = base64.b64encode(encode_png(body)).decode("ascii")
    fonts = font_urls(node_modules)
    width, height = parts.width / s, parts.height / s
    mark = (f'<span class="mark">{html.escape(drawn.mark)}</span>' if drawn.mark else "")
    title_px = sheet.title_size(drawn.title, width - 2 * sheet.MARGIN, 1.0, node_modules)
    page = f"""<!DOCTYPE html><html lang="{drawn.lang}"><head><meta charset="utf-8">
<title>{html.escape(drawn.title)}</title><style>
@font-face {{ font-family: DejaVu; src: url("{fonts['regular']}"); }}
@font-face {{ font-family: DejaVu; font-weight: bold; src: url("{fonts['bold']}"); }}
@page {{ size: {width:.2f}px {height:.2f}px; margin: 0; }}
html, body {{ margin: 0; width: {width:.2f}px; height: {height:.2f}px; overflow: hidden; }}
body {{ position: relative; font-family: DejaVu; color: #212121; }}
h1 {{ position: absolute; top: 0; left: 0; right: 0; margin: 0; padding: 0 {sheet.MARGIN}px;
      height: {sheet.TITLE_BAND}px; line-height: {sheet.TITLE_BAND}px;
      font-size: {title_px:.2f}px; white-space: nowrap; overflow: hidden; }}
img {{ position: absolute; top: {sheet.TITLE_BAND}px; left: 0; width: {width:.2f}px;
       height: {(body.height / s):.2f}px; }}
footer {{ position: absolute; bottom: 0; left: 0; right: 0; padding: 0 {sheet.MARGIN}px;
          height: {sheet.FOOTER_BAND}px; line-height: {sheet.FOOTER_BAND}px;
          font-size: {sheet.FOOTER_SIZE}px; white-space: nowrap; overflow: hidden; }}
.mark {{ float: right; font-weight: bold; color: #b71c1c; }}
</style></head><body><h1>{html.escape(drawn.title)}</h1>
<img src="data:image/png;base64,{data}" alt="{html.escape(drawn.title)}">
<footer>{mark}{html.escape(drawn.footer)}</footer></body></html>"""
    return write_document(layout(page, node_modules))


def _answer(data: bytes, mimetype: str, name: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"  # may hold restricted data
    return response


@blueprint.get("/map/image.png")
@access.public
@access.heavy
def image_png():
    """The map view as a PNG."""
    drawn = draw(context(), parse(request.args.to_dict()))
    out = io.BytesIO()
    drawn.image.convert("RGB").save(out, "PNG", optimize=False)
    return _answer(out.getvalue(), "image/png", "map.png")


@blueprint.get("/map/image.pdf")
@access.public
@access.heavy
def image_pdf():
    """The map view as a one-page PDF."""
    drawn = draw(context(), parse(request.args.to_dict()))
    return _answer(pdf(drawn, services.current().node_modules), "application/pdf",
                   "map.pdf")


@blueprint.get("/map/inset.png")
@access.public
def inset_png():
    """The Hoàng Sa / Trường Sa inset alone (the map page shows it where its view of the
    country leaves them out): the sea from the coast to both archipelagos, named."""
    from geoservice.layers.versions import layer_data_version
    from geoservice.reports.document import map_texts

    args = request.args.to_dict()
    P.known(args, [p.name for p in INSET_PARAMETERS])
    lang, scale = P.LANG.get(args, "vi"), SCALE.get(args, 1)
    ctx = context()
    # drawn once per language, scale and boundary data (every page view of the country asks)
    version = layer_data_version(ctx.store, ctx.catalog["provinces"])
    drawn = ctx.services.remembered("map_insets", dict)
    key = (lang, scale, version)
    if key not in drawn:
        image, _names = inset_image(ctx.store, ctx.catalog, scale, map_texts(""),
                                    ctx.services.node_modules)
        out = io.BytesIO()
        image.convert("RGB").save(out, "PNG")
        if len(drawn) >= 16:  # old boundary versions
            drawn.clear()
        drawn[key] = out.getvalue()
    response = Response(drawn[key], mimetype="image/png")
    response.headers["Cache-Control"] = "public, max-age=3600"  # public layers only
    return response


def openapi_paths() -> dict:
    """The map image paths for the OpenAPI document."""
    parameters = [p.openapi() for p in PARAMETERS]
    parameters[0] = {**parameters[0], "required": True}
    errors = {str(status): {"description": text, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"}}}}
        for status, text in ((400, "Invalid parameter"), (404, "Unknown layer"))}
    inset = {"/map/inset.png": {"get": {
        "summary": "The Hoàng Sa and Trường Sa archipelagos' inset, named",
        "operationId": "map_inset_png",
        "parameters": [p.openapi() for p in INSET_PARAMETERS],
        "responses": {"200": {"description": "PNG", "content": {
            "image/png": {"schema": {"type": "string", "format": "binary"}}}},
            "400": errors["400"]}}}}
    return inset | {f"/map/image.{ext}": {"get": {
        "summary": f"The map view drawn as {ext.upper()}: title, legends, scale bar, north "
                   "arrow, date, source, the archipelagos' inset",
        "operationId": f"map_image_{ext}", "parameters": parameters,
        "responses": {"200": {"description": ext.upper(), "content": {
            media: {"schema": {"type": "string", "format": "binary"}}}}, **errors}}}
        for ext, media in (("png", "image/png"), ("pdf", "application/pdf"))}
