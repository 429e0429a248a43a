"""A layer's style as an OGC Styled Layer Descriptor 1.1 with Symbology Encoding 1.1.

One ``se:Rule`` per rule of `geoservice.layers.style.desktop_rules` (classes, categories,
'other' as ``se:ElseFilter``, 'no data' as ``ogc:PropertyIsNull``), each with its title in
the requested language and the symbolizer of the layer's geometry. Sizes are pixels.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from geoservice.layers.definition import LayerDef
from geoservice.layers.style import desktop_rules
from geoservice.render.classify import css_colour
from geoservice.render.symbols import Symbol

SLD = "http://www.opengis.net/sld"
SE = "http://www.opengis.net/se"
OGC = "http://www.opengis.net/ogc"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XLINK = "http://www.w3.org/1999/xlink"
SCHEMA = f"{SLD} http://schemas.opengis.net/sld/1.1.0/StyledLayerDescriptor.xsd"


def sld(layer: LayerDef, lang: str = "vi") -> str:
    """Return the SLD 1.1 document styling `layer` (titles in `lang`)."""
    for prefix, uri in (("sld", SLD), ("se", SE), ("ogc", OGC), ("xsi", XSI),
                        ("xlink", XLINK)):
        ET.register_namespace(prefix, uri)
    root = ET.Element(f"{{{SLD}}}StyledLayerDescriptor",
                      {"version": "1.1.0", f"{{{XSI}}}schemaLocation": SCHEMA})
    named = ET.SubElement(root, f"{{{SLD}}}NamedLayer")
    ET.SubElement(named, f"{{{SE}}}Name").text = layer.id
    user = ET.SubElement(named, f"{{{SLD}}}UserStyle")
    ET.SubElement(user, f"{{{SE}}}Name").text = layer.id
    _description(user, layer.title(lang), layer.legend_title.get(lang))
    feature_style = ET.SubElement(user, f"{{{SE}}}FeatureTypeStyle")
    for index, (label, condition, symbol) in enumerate(desktop_rules(layer, lang)):
        rule = ET.SubElement(feature_style, f"{{{SE}}}Rule")
        ET.SubElement(rule, f"{{{SE}}}Name").text = f"{layer.id}-{index}"
        _description(rule, label)
        _filter(rule, layer.style.property, condition)
        _symbolizer(rule, layer.style.geometry, symbol)
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


def _description(parent: ET.Element, title: str, abstract: str | None = None) -> None:
    description = ET.SubElement(parent, f"{{{SE}}}Description")
    ET.SubElement(description, f"{{{SE}}}Title").text = title
    if abstract:
        ET.SubElement(description, f"{{{SE}}}Abstract").text = abstract


def _comparison(parent: ET.Element, operator: str, prop: str, value) -> None:
    element = ET.SubElement(parent, f"{{{OGC}}}{operator}")
    ET.SubElement(element, f"{{{OGC}}}PropertyName").text = prop
    ET.SubElement(element, f"{{{OGC}}}Literal").text = str(value)


def _filter(rule: ET.Element, prop: str | None, condition: tuple | None) -> None:
    if condition is None:
        return
    if condition[0] == "other":
        ET.SubElement(rule, f"{{{SE}}}ElseFilter")
        return
    where = ET.SubElement(rule, f"{{{OGC}}}Filter")
    if condition[0] == "eq":
        _comparison(where, "PropertyIsEqualTo", prop, condition[1])
    elif condition[0] == "missing":
        null = ET.SubElement(where, f"{{{OGC}}}PropertyIsNull")
        ET.SubElement(null, f"{{{OGC}}}PropertyName").text = prop
    else:
        _, lower, upper = condition
        parent = ET.SubElement(where, f"{{{OGC}}}And") if None not in (lower, upper) else where
        if lower is not None:
            _comparison(parent, "PropertyIsGreaterThanOrEqualTo", prop, lower)
        if upper is not None:
            _comparison(parent, "PropertyIsLessThan", prop, upper)


def _parameters(parent: ET.Element, tag: str, values: dict) -> None:
    element = ET.SubElement(parent, f"{{{SE}}}{tag}")
    for name, value in values.items():
        if value is not None:
            ET.SubElement(element, f"{{{SE}}}SvgParameter", name=name).text = str(value)


def _paint(symbol: Symbol) -> tuple[dict, dict | None]:
    fill = stroke = None
    if symbol.fill is not None:
        fill = {"fill": css_colour((*symbol.fill[:3], 255)),
                "fill-opacity": round(symbol.fill[3] / 255, 3)}
    if symbol.stroke is not None and symbol.stroke_width > 0:
        stroke = {"stroke": css_colour((*symbol.stroke[:3], 255)),
                  "stroke-opacity": round(symbol.stroke[3] / 255, 3),
                  "stroke-width": symbol.stroke_width, "stroke-linejoin": "round",
                  "stroke-linecap": "round",
                  "stroke-dasharray": " ".join(str(d) for d in symbol.dash)
                  if symbol.dash else None}
    return fill, stroke


def _symbolizer(rule: ET.Element, geometry: str, symbol: Symbol) -> None:
    fill, stroke = _paint(symbol)
    if geometry == "polygon":
        element = ET.SubElement(rule, f"{{{SE}}}PolygonSymbolizer")
    elif geometry == "line":
        element = ET.SubElement(rule, f"{{{SE}}}LineSymbolizer")
        fill = None
    else:
        element = ET.SubElement(rule, f"{{{SE}}}PointSymbolizer")
        graphic = ET.SubElement(element, f"{{{SE}}}Graphic")
        mark = ET.SubElement(graphic, f"{{{SE}}}Mark")
        ET.SubElement(mark, f"{{{SE}}}WellKnownName").text = "circle"
        element, size = mark, ET.Element(f"{{{SE}}}Size")
        size.text = str(2 * symbol.radius)
        if fill:
            _parameters(element, "Fill", fill)
        if stroke:
            _parameters(element, "Stroke", stroke)
        graphic.append(size)
        return
    if fill:
        _parameters(element, "Fill", fill)
    if stroke:
        _parameters(element, "Stroke", stroke)
