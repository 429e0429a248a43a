"""A layer's style as a QGIS style file (QML), for the features API or the vector tiles.

The same rules as the MapLibre style and the PNG tiles (`geoservice.layers.style.
desktop_rules`): a single symbol, or one rule per class, category, 'other' and 'no data'
of QGIS's rule-based renderer, whose filters keep our bounds exactly (a class holds
lower <= value < upper; QGIS's graduated renderer would close ranges above). Sizes are in
pixels, as in our PNG tiles; symbol layers are written as ``<prop k= v=>``, which QGIS
3.x reads.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from geoservice.layers.definition import LayerDef
from geoservice.layers.style import desktop_rules
from geoservice.render.symbols import Symbol

QGIS_VERSION = "3.22.16"
SYMBOL_TYPES = {"polygon": "fill", "line": "line", "point": "marker"}


def qml(layer: LayerDef, lang: str = "vi") -> str:
    """Return the QML document styling `layer` (labels of the rules in `lang`)."""
    root = ET.Element("qgis", version=QGIS_VERSION, styleCategories="Symbology")
    rules = desktop_rules(layer, lang)
    symbols = ET.Element("symbols")
    for index, (_label, _condition, symbol) in enumerate(rules):
        symbols.append(_symbol(str(index), layer.style.geometry, symbol))
    if layer.style.kind == "single":
        renderer = ET.SubElement(root, "renderer-v2", type="singleSymbol", forceraster="0",
                                 symbollevels="0", enableorderby="0")
    else:
        renderer = ET.SubElement(root, "renderer-v2", type="RuleRenderer", forceraster="0",
                                 symbollevels="0", enableorderby="0")
        top = ET.SubElement(renderer, "rules", key="{root}")
        for index, (label, condition, _drawn) in enumerate(rules):
            ET.SubElement(top, "rule", key=f"{{rule-{index}}}", symbol=str(index),
                          label=label, filter=expression(layer.style.property, condition))
    renderer.append(symbols)
    ET.SubElement(root, "layerOpacity").text = "1"
    ET.SubElement(root, "blendMode").text = "0"
    ET.SubElement(root, "featureBlendMode").text = "0"
    body = ET.tostring(root, encoding="unicode")
    return f"<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n{body}\n"


def expression(prop: str | None, condition: tuple | None) -> str:
    """A rule's condition as a QGIS expression on property `prop`."""
    if condition is None:
        return "TRUE"
    field = '"' + str(prop).replace('"', '""') + '"'
    kind = condition[0]
    if kind == "eq":
        return f"{field} = {_literal(condition[1])}"
    if kind == "range":
        parts = ([f"{field} >= {condition[1]!r}"] if condition[1] is not None else []) + \
                ([f"{field} < {condition[2]!r}"] if condition[2] is not None else [])
        return " AND ".join(parts)
    if kind == "other":
        values = ", ".join(_literal(v) for v in condition[1])
        return f"{field} IS NOT NULL AND {field} NOT IN ({values})"
    return f"{field} IS NULL"


def _literal(value) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _colour(rgba) -> str:
    return ",".join(str(c) for c in rgba) if rgba is not None else "0,0,0,0"


def _symbol(name: str, geometry: str, symbol: Symbol) -> ET.Element:
    element = ET.Element("symbol", type=SYMBOL_TYPES[geometry], name=name, alpha="1",
                         clip_to_extent="1", force_rhr="0")
    stroke = symbol.stroke is not None and symbol.stroke_width > 0
    outline = {"outline_color": _colour(symbol.stroke),
               "outline_style": ("dash" if symbol.dash else "solid") if stroke else "no",
               "outline_width": str(symbol.stroke_width if stroke else 0),
               "outline_width_unit": "Pixel"}
    if geometry == "polygon":
        props = {"color": _colour(symbol.fill),
                 "style": "solid" if symbol.fill is not None else "no",
                 "joinstyle": "round", **outline}
        _layer(element, "SimpleFill", props)
    elif geometry == "line":
        props = {"line_color": _colour(symbol.stroke), "line_width": str(symbol.stroke_width),
                 "line_width_unit": "Pixel", "line_style": "solid", "capstyle": "round",
                 "joinstyle": "round", "use_custom_dash": "1" if symbol.dash else "0",
                 "customdash": ";".join(str(d) for d in symbol.dash or (5, 2)),
                 "customdash_unit": "Pixel"}
        _layer(element, "SimpleLine", props)
    else:
        props = {"name": "circle", "color": _colour(symbol.fill),
                 "size": str(2 * symbol.radius), "size_unit": "Pixel", **outline}
        _layer(element, "SimpleMarker", props)
    return element


def _layer(symbol: ET.Element, kind: str, props: dict[str, str]) -> None:
    layer = ET.SubElement(symbol, "layer", {"class": kind, "enabled": "1", "locked": "0",
                                            "pass": "0"})
    for key, value in props.items():
        ET.SubElement(layer, "prop", k=key, v=value)
