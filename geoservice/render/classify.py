"""Layer styles: reading the ``[style]`` table, classifying features, legends, MapLibre paint.

One `Style` answers three questions the same way, so screen, tiles and paper agree:
which `Symbol` a feature gets (`Style.symbol_for_value`), what the legend shows
(`Style.entries`) and which MapLibre paint expressions draw it (`maplibre_layers`).

A feature's value is first made a tile value (`tile_value`): a list such as
``border_neighbors = ["LA", "KH"]`` becomes the text ``"KH,LA"`` (items sorted, joined by
commas), which is what vector tiles carry and what categorical styles match. A commune at
a tripoint is thus its own category ("KH,LA"), not hidden under one of its neighbours.

The ``[style]`` table is read with `geoservice.render.toml_table.Table`, which collects every
problem as ``key: message``.

Classes are closed below and open above: a class with ``min = 0.5`` followed by one with
``min = 0.7`` holds 0.5 <= value < 0.7 (MapLibre's ``step``).
"""

from __future__ import annotations

import bisect
import json
import math
from dataclasses import dataclass, replace

from geoservice.render.symbols import RGBA, Symbol
from geoservice.render.toml_table import Table, Text

GEOMETRIES = ("polygon", "line", "point")
STYLE_KINDS = ("single", "classed", "categorical")
TRANSPARENT = "rgba(0, 0, 0, 0)"


# --- styles ------------------------------------------------------------------------------

@dataclass(frozen=True)
class StyleClass:
    """One legend entry: a class (classed), a category, 'other' or 'no data'."""

    role: str  # "class", "category", "other", "no_data"
    label: Text
    colour: RGBA  # before the style's fill_opacity; fill of polygons/points, stroke of lines
    lower: float | None = None  # classed: inclusive lower bound (None: no bound)
    upper: float | None = None  # classed: exclusive upper bound (None: no bound)
    value: str | int | None = None  # categorical: the tile value matched


@dataclass(frozen=True)
class Style:
    """How a layer draws its features."""

    kind: str
    geometry: str
    property: str | None
    fill: RGBA | None
    fill_opacity: float
    stroke: RGBA | None
    stroke_width: float
    radius: float
    dash: tuple[float, ...] | None
    classes: tuple[StyleClass, ...] = ()  # the classes (classed) or categories
    other: StyleClass | None = None
    no_data: StyleClass | None = None

    @property
    def entries(self) -> tuple[StyleClass, ...]:
        """Every legend entry in legend order: classes or categories, other, no data."""
        return (*self.classes, *(e for e in (self.other, self.no_data) if e is not None))

    def symbol(self, colour: RGBA | None = None) -> Symbol:
        """Return the symbol with `colour` as the fill (polygons, points) or stroke (lines)."""
        fill, stroke = self.fill, self.stroke
        if colour is not None and self.geometry == "line":
            stroke = colour
        elif colour is not None:
            fill = colour
        if fill is not None:
            fill = (*fill[:3], round(fill[3] * self.fill_opacity))
        return Symbol(fill=fill, stroke=stroke, stroke_width=self.stroke_width,
                      radius=self.radius, dash=self.dash)

    def entry_for_value(self, value) -> StyleClass | None:
        """Return the class, category, other or no-data entry of a property value."""
        key = tile_value(value)
        if self.kind == "classed":
            if not _is_number(key):
                return self.no_data
            lowers = [c.lower for c in self.classes[1:]]
            return self.classes[bisect.bisect_right(lowers, key)]
        if key is None:
            return self.no_data
        return next((c for c in self.classes if c.value == key), self.other)

    def symbol_for_value(self, value) -> Symbol | None:
        """Return the symbol of a property value (None: the feature is not drawn)."""
        if self.kind == "single":
            return self.symbol()
        entry = self.entry_for_value(value)
        return None if entry is None else self.symbol(entry.colour)

    def with_property(self, name: str | None) -> Style:
        """Return this style classifying property `name`."""
        return replace(self, property=name)


def tile_value(value):
    """Return the scalar a property value becomes in tiles and classification.

    None, NaN and empty lists become None; lists become their items sorted and joined by
    commas; objects become compact JSON; other values stay as they are.
    """
    if value is None or isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, list | tuple):
        return ",".join(sorted(str(v) for v in value)) or None
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return value


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def css_colour(rgba: RGBA | None) -> str | None:
    """Return '#rrggbb' for an opaque colour, 'rgba(r, g, b, a)' otherwise."""
    if rgba is None:
        return None
    red, green, blue, alpha = rgba
    if alpha == 255:
        return f"#{red:02x}{green:02x}{blue:02x}"
    return f"rgba({red}, {green}, {blue}, {round(alpha / 255, 3)})"


def read_style(table: Table, geometry: str) -> Style | None:
    """Read and check a ``[style]`` table; None when it has problems (they are recorded)."""
    before = len(table.problems)
    kind = table.choice("kind", STYLE_KINDS)
    prop = table.value("property", (str,), required=kind in ("classed", "categorical"))
    style = Style(
        kind=kind, geometry=geometry, property=prop,
        fill=table.colour("fill"), fill_opacity=table.number("fill_opacity", 0, 1, 1.0),
        stroke=table.colour("stroke"), stroke_width=table.number("stroke_width", 0, 50, 1.0),
        radius=table.number("radius", 0, 100, 0.0), dash=_read_dash(table),
        classes=tuple(_read_classes(table) if kind == "classed" else ()),
        no_data=_read_entry(table, "no_data", "no_data"),
    )
    if kind == "categorical":
        style = replace(style, classes=tuple(_read_categories(table)),
                        other=_read_entry(table, "other", "other"))
    _check_unused(table, kind)
    _check_geometry(table, style)
    table.done()
    return style if len(table.problems) == before else None


def _read_dash(table: Table) -> tuple[float, ...] | None:
    dash = table.value("dash", (list,))
    if dash is None:
        return None
    if not dash or not all(_is_number(d) and d > 0 for d in dash):
        table.problem("dash", f"expected a list of positive numbers, got {dash!r}")
        return None
    return tuple(float(d) for d in dash)


def _read_entry(table: Table, name: str, role: str) -> StyleClass | None:
    sub = table.table(name)
    return None if sub is None else _entry(sub, role)


def _entry(sub: Table, role: str, **extra) -> StyleClass | None:
    colour, label = sub.colour("color", required=True), sub.text("label")
    sub.done()
    if colour is None or label is None:
        return None
    return StyleClass(role=role, label=label, colour=colour, **extra)


def _read_classes(table: Table) -> list[StyleClass]:
    items = table.tables("classes")
    if len(items) < 2:
        table.problem("classes", "a classed style needs at least two [[style.classes]]")
    lowers = []
    for index, sub in enumerate(items):
        lower = sub.value("min", (int, float), required=index > 0)
        if index == 0 and lower is not None:
            sub.problem("min", "the first class has no lower bound; leave min out")
        lowers.append(None if index == 0 else lower)
    for index in range(2, len(lowers)):
        if None not in lowers[index - 1:index + 1] and lowers[index] <= lowers[index - 1]:
            items[index].problem("min", f"class breaks must increase: {lowers[index]!r} "
                                        f"after {lowers[index - 1]!r}")
    out = []
    for index, sub in enumerate(items):
        upper = lowers[index + 1] if index + 1 < len(lowers) else None
        out.append(_entry(sub, "class", lower=lowers[index], upper=upper))
    return [e for e in out if e is not None]


def _read_categories(table: Table) -> list[StyleClass]:
    items = table.tables("categories")
    if not items:
        table.problem("categories", "a categorical style needs [[style.categories]]")
    out, seen = [], {}
    for sub in items:
        value = sub.value("value", (str, int), required=True)
        if value in seen:
            sub.problem("value", f"{value!r} is already the value of {seen[value]}")
        elif value is not None:
            seen[value] = sub.path
        out.append(_entry(sub, "category", value=value))
    if len({type(v) for v in seen}) > 1:
        table.problem("categories", "values must be all texts or all integers")
    return [e for e in out if e is not None]


def _check_unused(table: Table, kind: str) -> None:
    wrong = {"classes": kind != "classed", "categories": kind != "categorical",
             "other": kind != "categorical", "no_data": kind == "single"}
    for name, unused in wrong.items():
        table.seen.add(name)
        if unused and kind is not None and name in table.data:
            table.problem(name, f"not used by a {kind!r} style")


def _check_geometry(table: Table, style: Style) -> None:
    if style.geometry == "point" and style.radius <= 0:
        table.problem("radius", "points need a radius > 0")
    if style.geometry == "line" and style.stroke_width <= 0:
        table.problem("stroke_width", "lines need a stroke_width > 0")
    given = table.data  # a colour given but invalid is reported once, by Table.colour
    if style.kind == "single" and style.geometry == "line" and "stroke" not in given:
        table.problem("stroke", "a single-symbol line layer needs a stroke colour")
    if style.kind == "single" and "fill" not in given and (
            "stroke" not in given or style.geometry == "point"):
        table.problem("fill", "a single-symbol layer needs a fill colour (or, for polygons, "
                              "a stroke colour)")
    if style.dash and style.stroke_width <= 0:
        table.problem("dash", "a dashed stroke needs a stroke_width > 0")


# --- MapLibre ----------------------------------------------------------------------------

def colour_expression(style: Style):
    """Return the MapLibre colour of the style: a colour, or `case`/`step`/`match`."""
    if style.kind == "single":
        return css_colour(style.stroke if style.geometry == "line" else style.fill)
    get = ["get", style.property]
    if style.kind == "classed":
        core = ["step", get, css_colour(style.classes[0].colour)]
        for entry in style.classes[1:]:
            core += [entry.lower, css_colour(entry.colour)]
    else:
        core = ["match", get]
        for entry in style.classes:
            core += [entry.value, css_colour(entry.colour)]
        core.append(css_colour(style.other.colour) if style.other else TRANSPARENT)
    if style.no_data is None:
        return core
    return ["case", _missing(style), css_colour(style.no_data.colour), core]


def _missing(style: Style) -> list:
    get = ["get", style.property]
    if style.kind == "classed":
        return ["any", ["!", ["has", style.property]], ["==", get, None],
                ["!=", ["typeof", get], "number"]]
    return ["any", ["!", ["has", style.property]], ["==", get, None]]


def feature_filter(style: Style) -> list | None:
    """Return the MapLibre filter keeping the features `symbol_for_value` draws."""
    if style.kind == "single":
        return None
    missing = _missing(style)
    if style.kind == "categorical" and style.other is None:
        values = [entry.value for entry in style.classes]
        known = ["match", ["get", style.property], values, True, False]
        return ["any", missing, known] if style.no_data else known
    return None if style.no_data else ["!", missing]


def maplibre_layers(style: Style, layer_id: str, source_id: str, source_layer: str,
                    minzoom: int = 0) -> list[dict]:
    """Return the MapLibre style layers (fill, line, circle) that draw a style."""
    colour = colour_expression(style)
    base = {"source": source_id, "source-layer": source_layer, "minzoom": minzoom,
            "metadata": {"geoservice:layer": layer_id}}
    stroke = css_colour(style.stroke)
    line_paint = {"line-color": colour if style.geometry == "line" else stroke,
                  "line-width": style.stroke_width}
    if style.dash:  # MapLibre dashes are in line widths, Symbol dashes in pixels
        line_paint["line-dasharray"] = [d / style.stroke_width for d in style.dash]
    circle_paint = {"circle-color": colour, "circle-opacity": style.fill_opacity,
                    "circle-radius": style.radius}
    if stroke is not None and style.stroke_width > 0:
        circle_paint.update({"circle-stroke-color": stroke,
                             "circle-stroke-width": style.stroke_width})
    layers = []
    draws_fill = style.kind != "single" or style.fill is not None
    if style.geometry == "polygon" and draws_fill:
        layers.append({"id": f"{layer_id}-fill", "type": "fill",
                       "paint": {"fill-color": colour, "fill-opacity": style.fill_opacity}})
    if style.geometry == "line" or (style.geometry == "polygon" and stroke is not None
                                    and style.stroke_width > 0):
        layers.append({"id": f"{layer_id}-line", "type": "line", "paint": line_paint,
                       "layout": {"line-join": "round", "line-cap": "round"}})
    if style.geometry == "point" or (style.geometry == "polygon" and style.radius > 0):
        layers.append({"id": f"{layer_id}-circle", "type": "circle", "paint": circle_paint,
                       "filter": ["==", ["geometry-type"], "Point"]})
    keep = feature_filter(style)
    for layer in layers:
        if keep is not None:
            layer["filter"] = ["all", layer["filter"], keep] if "filter" in layer else keep
        layer.update(base)
    return layers


def legend_entries(style: Style, lang: str, single_label: Text) -> list[dict]:
    """Return JSON-ready legend entries (label, colours, geometry, bounds or value)."""
    if style.kind == "single":
        entries = [StyleClass("single", single_label, style.fill or style.stroke)]
    else:
        entries = list(style.entries)
    out = []
    for entry in entries:
        symbol = style.symbol(None if entry.role == "single" else entry.colour)
        item = {"role": entry.role, "label": entry.label.get(lang),
                "color": css_colour(entry.colour), "fill": css_colour(symbol.fill),
                "stroke": css_colour(symbol.stroke), "stroke_width": symbol.stroke_width,
                "radius": symbol.radius, "dash": list(symbol.dash) if symbol.dash else None,
                "geometry": style.geometry}
        if entry.role == "class":
            item.update({"min": entry.lower, "max": entry.upper})
        elif entry.role == "category":
            item["value"] = entry.value
        out.append(item)
    return out
