"""Symbols and legends: each value gets its legend class's colour; no data gets its own."""

from __future__ import annotations

import json

import pytest

from geoservice.layers.catalog import load_catalog
from geoservice.render.classify import css_colour, tile_value
from geoservice.render.symbols import Symbol
from tests.layers.helpers import css_to_rgba

RATE_CLASSES = [  # (value in the class, label vi, colour)
    (0.0, "Dưới 50 %", "#ffffcc"), (0.4999, "Dưới 50 %", "#ffffcc"),
    (0.5, "50 – dưới 70 %", "#a1dab4"), (0.6999, "50 – dưới 70 %", "#a1dab4"),
    (0.7, "70 – dưới 85 %", "#41b6c4"), (0.84, "70 – dưới 85 %", "#41b6c4"),
    (0.85, "85 – dưới 95 %", "#2c7fb8"), (0.9499, "85 – dưới 95 %", "#2c7fb8"),
    (0.95, "Từ 95 % trở lên", "#253494"), (1, "Từ 95 % trở lên", "#253494"),
]


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def test_rate_classes_follow_the_breaks(catalog):
    layer = catalog["certification-rate"]
    bounds = [(entry.lower, entry.upper) for entry in layer.classes if entry.role == "class"]
    assert bounds == [(None, 0.5), (0.5, 0.7), (0.7, 0.85), (0.85, 0.95), (0.95, None)]
    labels = {entry.label.vi: entry for entry in layer.classes}
    for value, label, colour in RATE_CLASSES:
        symbol = layer.symbol_for({"certification_rate_residential": value})
        entry = labels[label]
        assert css_colour(entry.colour) == colour
        # fill = class colour with the layer's fill_opacity (0.85) applied; white outline
        assert symbol == Symbol(fill=(*entry.colour[:3], round(255 * 0.85)),
                                stroke=(255, 255, 255, 255), stroke_width=0.3)


def test_missing_indicator_gets_the_no_data_colour(catalog):
    for layer_id in ("certification-rate", "certification-rate-commune-unit", "model-coverage",
                     "awareness"):
        layer = catalog[layer_id]
        no_data = layer.style.no_data
        assert no_data is not None and layer.classes[-1] is no_data
        assert no_data.label.vi in ("Không có số liệu", "Không có báo cáo")
        class_colours = {entry.colour for entry in layer.classes if entry.role == "class"}
        assert no_data.colour not in class_colours
        for missing in ({}, {layer.style.property: None}, {layer.style.property: "n/a"},
                        {layer.style.property: float("nan")}):
            assert layer.symbol_for(missing).fill[:3] == no_data.colour[:3], missing


def test_awareness_and_model_coverage_classes(catalog):
    awareness = catalog["awareness"]
    colours = [awareness.symbol_for({"awareness_sessions": n}).fill[:3]
               for n in (0, 9, 10, 19, 20, 39, 40, 500)]
    assert [css_colour((*c, 255)) for c in colours] == [
        "#f2f0f7", "#f2f0f7", "#cbc9e2", "#cbc9e2", "#9e9ac8", "#756bb1", "#54278f",
        "#54278f"]
    coverage = catalog["model-coverage"]
    assert css_colour((*coverage.symbol_for({"model_coverage_any": 0.0}).fill[:3], 255)) \
        == "#fdb863"
    assert css_colour((*coverage.symbol_for({"model_coverage_any": 1.0}).fill[:3], 255)) \
        == "#5e3c99"


@pytest.mark.parametrize(("neighbours", "colour", "label"), [
    (["CN"], "#d55e00", "Giáp Trung Quốc"),
    (["LA"], "#0072b2", "Giáp Lào"),
    (["KH"], "#009e73", "Giáp Campuchia"),
    (["CN", "LA"], "#cc79a7", "Giáp Trung Quốc và Lào (ngã ba biên giới)"),
    (["LA", "CN"], "#cc79a7", "Giáp Trung Quốc và Lào (ngã ba biên giới)"),
    (["LA", "KH"], "#e69f00", "Giáp Lào và Campuchia (ngã ba biên giới)"),
])
def test_border_communes_by_neighbour_list(catalog, neighbours, colour, label):
    layer = catalog["border-communes"]
    symbol = layer.symbol_for({"border_neighbors": neighbours})
    entry = next(e for e in layer.classes if e.value == tile_value(neighbours))
    assert entry.label.vi == label
    assert symbol.fill == (*css_to_rgba(colour)[:3], round(255 * 0.75))
    assert symbol.stroke == css_to_rgba("#4d4d4d")


def test_features_outside_every_category_are_not_drawn(catalog):
    border = catalog["border-communes"]
    assert border.symbol_for({"border_neighbors": []}) is None
    assert border.symbol_for({"border_neighbors": ["CN", "KH", "LA"]}) is None
    incidents = catalog["incidents"]
    assert incidents.symbol_for({"category": "unknown"}) is None
    assert incidents.symbol_for({"category": "drugs"}).radius == 3.5
    hot_spots = catalog["hot-spots"]  # optional status: no-data colour, drawn
    assert css_colour(hot_spots.symbol_for({"status": None}).stroke) == "#3d3d3d"
    assert hot_spots.symbol_for({}).fill[:3] == hot_spots.style.no_data.colour[:3]


def test_lines_take_the_class_colour_as_stroke(catalog):
    lines = catalog["cooperation-lines"]
    symbol = lines.symbol_for({"partner_country": "LA"})
    assert symbol == Symbol(fill=None, stroke=css_to_rgba("#0072b2"), stroke_width=1.5,
                            dash=(4.0, 3.0))
    border = catalog["border-lines"].symbol_for({"neighbor": "KH"})
    assert border.stroke == css_to_rgba("#009e73") and border.stroke_width == 2.5


def test_single_symbol_layers(catalog):
    assert catalog["sea"].symbol_for({}) == Symbol(fill=css_to_rgba("#c6dbef"))
    communes = catalog["communes"].symbol_for({"code": "00004"})
    assert communes.fill is None and communes.stroke == css_to_rgba("#8c8c8c")
    assert catalog["legacy-communes"].symbol_for({}).dash == (3.0, 2.0)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_legend_is_json_with_every_entry(catalog, lang):
    for layer in catalog.values():
        legend = json.loads(json.dumps(layer.legend(lang), ensure_ascii=False))
        assert legend["layer"] == layer.id
        assert legend["title"] == layer.legend_title.get(lang)
        assert legend["geometry"] == layer.geometry
        kinds = {entry["geometry"] for entry in legend["entries"]}
        assert kinds == {layer.geometry}
        if layer.style.kind != "single":
            assert [e["label"] for e in legend["entries"]] == [
                c.label.get(lang) for c in layer.classes]
            assert [css_to_rgba(e["color"]) for e in legend["entries"]] == [
                c.colour for c in layer.classes]
    rate = catalog["certification-rate"].legend(lang)
    assert rate["entries"][0]["max"] == 0.5 and rate["entries"][0]["min"] is None
    assert rate["entries"][-1]["role"] == "no_data"
    assert rate["entries"][-1]["label"] == {"vi": "Không có số liệu", "en": "No data"}[lang]
    sea = catalog["sea"].legend(lang)
    assert sea["entries"] == [{
        "role": "single", "label": {"vi": "Biển", "en": "Sea"}[lang], "color": "#c6dbef",
        "fill": "#c6dbef", "stroke": None, "stroke_width": 1.0, "radius": 0.0, "dash": None,
        "geometry": "polygon"}]


def test_real_border_communes_are_all_drawn(built, catalog):
    """Every commune of the two-province fixture that faces a neighbour gets a category."""
    communes = built.layers["communes"]
    layer = catalog["border-communes"]
    seen = {}
    for neighbours, name in zip(communes["border_neighbors"], communes["name"]):
        neighbours = list(neighbours) if neighbours is not None else []
        symbol = layer.symbol_for({"border_neighbors": neighbours})
        assert (symbol is None) == (not neighbours), (name, neighbours)
        if symbol is not None:
            seen[tile_value(neighbours)] = symbol.fill
    assert set(seen) == {"CN", "LA", "CN,LA"}
    assert seen["CN,LA"][:3] == css_to_rgba("#cc79a7")[:3]
