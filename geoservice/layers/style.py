"""MapLibre styles of layers: one vector source per layer, drawn as its `Style` says.

Every legend entry (class, category, 'other', 'no data') is a style layer of its own with a
filter and a constant colour, rather than one layer with a `match`/`step`/`case` colour
expression. MapLibre draws both the same, but desktop converters do not: QGIS 3.22's
`QgsMapBoxGlStyleConverter` skips `case` and `step` colours and turns `match` with single
labels into ``IN ()`` (every feature black), while it converts filters built of ``==``,
``<``, ``>=``, ``has``, ``!``, ``all``, ``any`` and ``match`` with a list of labels
(checked with QGIS 3.22.16 in tests/layers/test_qgis_style.py). Tiles never carry null
properties (`LayerDef.tile_properties` leaves them out), so 'no data' is ``!has``.
"""

from __future__ import annotations

from urllib.parse import urlencode

from geoservice.errors import NotFound
from geoservice.layers.definition import BACKGROUND, LayerDef
from geoservice.render.classify import Style, StyleClass, css_colour

POINT = ["==", ["geometry-type"], "Point"]


def entry_filters(style: Style) -> list[tuple[StyleClass, list]]:
    """Each legend entry of a classed or categorical style with the MapLibre filter of
    the features it draws (classes closed below, open above, as `Style.entry_for_value`)."""
    prop = style.property
    get = ["get", prop]
    out = []
    for entry in style.classes:
        if style.kind == "classed":
            parts = ([[">=", get, entry.lower]] if entry.lower is not None else []) + \
                    ([["<", get, entry.upper]] if entry.upper is not None else [])
            out.append((entry, parts[0] if len(parts) == 1 else ["all", *parts]))
        else:
            out.append((entry, ["==", get, entry.value]))
    if style.other is not None:
        values = [entry.value for entry in style.classes]
        out.append((style.other, ["all", ["has", prop], ["match", get, values, False, True]]))
    if style.no_data is not None:
        out.append((style.no_data, ["!", ["has", prop]]))
    return out


def keep_filter(style: Style) -> list | None:
    """The MapLibre filter of the features the style draws at all (None: every one)."""
    if style.kind == "single":
        return None
    prop = style.property
    if style.kind == "categorical" and style.other is None:
        known = ["match", ["get", prop], [e.value for e in style.classes], True, False]
        return ["any", ["!", ["has", prop]], known] if style.no_data else known
    return None if style.no_data else ["has", prop]


def _with(condition: list | None, extra: list | None) -> list | None:
    if condition is None or extra is None:
        return condition if extra is None else extra
    return ["all", condition, extra]


def _line_paint(style: Style, colour: str | None) -> dict:
    paint = {"line-color": colour, "line-width": style.stroke_width}
    if style.dash:  # MapLibre dashes are in line widths, Symbol dashes in pixels
        paint["line-dasharray"] = [d / style.stroke_width for d in style.dash]
    return paint


def _circle_paint(style: Style, colour: str | None) -> dict:
    paint = {"circle-color": colour, "circle-opacity": style.fill_opacity,
             "circle-radius": style.radius}
    stroke = css_colour(style.stroke)
    if stroke is not None and style.stroke_width > 0:
        paint.update({"circle-stroke-color": stroke, "circle-stroke-width": style.stroke_width})
    return paint


def maplibre_layers(layer: LayerDef, source_id: str, source_layer: str) -> list[dict]:
    """Return the MapLibre style layers drawing `layer` from a vector source."""
    style, layer_id = layer.style, layer.id
    base = {"source": source_id, "source-layer": source_layer, "minzoom": layer.minzoom,
            "metadata": {"geoservice:layer": layer_id}}
    stroke = css_colour(style.stroke)
    single = style.kind == "single"
    entries = ([(None, None)] if single else entry_filters(style))
    keep = keep_filter(style)

    def per_entry(kind: str, paint, geometry: list | None = None) -> list[dict]:
        out = []
        for index, (entry, condition) in enumerate(entries):
            colour = css_colour(entry.colour if entry else
                                (style.stroke if style.geometry == "line" else style.fill))
            item = {"id": f"{layer_id}-{kind}" + ("" if single else f"-{index}"),
                    "type": kind, "paint": paint(colour)}
            if kind == "line":
                item["layout"] = {"line-join": "round", "line-cap": "round"}
            where = _with(geometry, condition)
            if where is not None:
                item["filter"] = where
            out.append(item)
        return out

    layers = []
    if style.geometry == "polygon" and (not single or style.fill is not None):
        layers += per_entry("fill", lambda colour: {"fill-color": colour,
                                                    "fill-opacity": style.fill_opacity})
    if style.geometry == "line":
        layers += per_entry("line", lambda colour: _line_paint(style, colour))
    elif style.geometry == "polygon" and stroke is not None and style.stroke_width > 0:
        outline = {"id": f"{layer_id}-line", "type": "line", "paint": _line_paint(style, stroke),
                   "layout": {"line-join": "round", "line-cap": "round"}}
        if keep is not None:
            outline["filter"] = keep
        layers.append(outline)
    if style.geometry == "point" or (style.geometry == "polygon" and style.radius > 0):
        layers += per_entry("circle", lambda colour: _circle_paint(style, colour), POINT)
    for item in layers:
        item.update(base)
    return layers


def maplibre_style(catalog: dict[str, LayerDef], tiles_base_url: str,
                   layer_ids: list[str] | None = None, lang: str = "vi") -> dict:
    """Return a MapLibre style (spec v8) with one vector tile source per layer.

    Tiles are ``{tiles_base_url}/{layer}/{z}/{x}/{y}.mvt`` (plus the layer's parameters
    where they differ from its defaults); the layer inside each tile is named by the
    layer id. No glyphs or sprite are referenced, so nothing is fetched besides tiles.
    """
    ids = (list(layer_ids) if layer_ids is not None
           else sorted(catalog, key=lambda i: (catalog[i].order, i)))
    unknown = [i for i in ids if i not in catalog]
    if unknown:
        raise NotFound(f"There is no layer '{unknown[0]}'. Layers: {', '.join(catalog)}.",
                       parameter="layers")
    base = tiles_base_url.rstrip("/")
    sources, layers = {}, [{"id": "background", "type": "background",
                            "paint": {"background-color": BACKGROUND}}]
    for layer_id in ids:
        layer = catalog[layer_id]
        changed = {k: v for k, v in layer.params.items()
                   if not k.startswith("_") and layer.source.params.get(k) != v}
        query = f"?{urlencode(changed)}" if changed else ""
        sources[layer_id] = {"type": "vector",
                             "tiles": [f"{base}/{layer_id}/{{z}}/{{x}}/{{y}}.mvt{query}"],
                             "minzoom": layer.minzoom, "maxzoom": layer.maxzoom}
        layers += maplibre_layers(layer, layer_id, layer_id)
    return {"version": 8, "name": "geoservice", "sources": sources, "layers": layers,
            "metadata": {"geoservice:lang": lang,
                         "geoservice:legends": [catalog[i].legend(lang) for i in ids]}}


def desktop_rules(layer: LayerDef, lang: str = "vi") -> list[tuple[str, tuple | None, object]]:
    """The layer's style as rules for desktop styles (QGIS QML, SLD): (label, condition,
    Symbol) in legend order. A condition is None (every feature), ``("eq", value)``,
    ``("range", lower, upper)`` (closed below, open above; None: no bound),
    ``("other", values)`` (a value, none of these) or ``("missing",)``."""
    style = layer.style
    if style.kind == "single":
        return [(layer.legend_title.get(lang), None, style.symbol())]
    rules = []
    for entry in style.entries:
        if entry.role == "class":
            condition = ("range", entry.lower, entry.upper)
        elif entry.role == "category":
            condition = ("eq", entry.value)
        elif entry.role == "other":
            condition = ("other", tuple(e.value for e in style.classes))
        else:
            condition = ("missing",)
        rules.append((entry.label.get(lang), condition, style.symbol(entry.colour)))
    return rules


# The viewer's first view: the basemap and one thematic layer (the first of these present).
VIEWER_THEMATIC = ("certification-rate-province", "certification-rate", "provinces")
LABELS_SOURCE = "labels"


def viewer_defaults(catalog: dict[str, LayerDef], layer_ids: list[str]) -> set[str]:
    """The layers the viewer shows at first: the basemap's and one thematic layer."""
    shown = {i for i in layer_ids if catalog[i].theme == "basemap"}
    thematic = next((i for i in VIEWER_THEMATIC if i in layer_ids), None)
    return shown | ({thematic} if thematic else set())


def with_viewer_parts(style: dict, visible: set[str] | None, labels_tiles: str | None,
                      lang: str = "vi") -> dict:
    """The style with the layers outside `visible` hidden (None: every layer shown) and,
    when `labels_tiles` is given, the place names' PNG tiles (`geoservice.render.labels`)
    drawn over everything as a raster source: no glyphs are needed."""
    sources, layers = dict(style["sources"]), []
    if labels_tiles:  # the names' vector points (circles) give way to their PNG tiles
        sources.pop(LABELS_SOURCE, None)
    for item in style["layers"]:
        owner = item.get("metadata", {}).get("geoservice:layer")
        if labels_tiles and owner == LABELS_SOURCE:
            continue
        if visible is not None and owner is not None:
            item = {**item, "layout": {**item.get("layout", {}),
                                       "visibility": "visible" if owner in visible
                                       else "none"}}
        layers.append(item)
    if labels_tiles:
        sources[LABELS_SOURCE] = {"type": "raster", "tiles": [labels_tiles], "tileSize": 256,
                                  "minzoom": 0, "maxzoom": 22}
        layers.append({"id": LABELS_SOURCE, "type": "raster", "source": LABELS_SOURCE,
                       "paint": {"raster-fade-duration": 0},
                       "layout": {"visibility": "visible"},
                       "metadata": {"geoservice:layer": LABELS_SOURCE,
                                    "geoservice:title": {"vi": "Địa danh",
                                                         "en": "Place names"}[lang]}})
    return {**style, "sources": sources, "layers": layers}
