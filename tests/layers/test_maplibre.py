"""MapLibre styles: sources and layers that draw exactly what `symbol_for` and legends say."""

from __future__ import annotations

import json

import pytest

from geoservice.errors import NotFound
from geoservice.layers.catalog import load_catalog
from geoservice.layers.params import with_params
from geoservice.layers.style import maplibre_layers, maplibre_style
from geoservice.render.classify import tile_value
from tests.layers.helpers import css_to_rgba, evaluate

BASE = "http://localhost:5000/tiles"
SAMPLES = [None, "", "n/a", True, 0, 0.3, 0.5, 0.7, 0.9, 0.95, 1, 1.0, 9, 10, 35, 40, 1000,
           ["CN"], ["LA", "KH"], ["CN", "LA"], ["CN", "KH", "LA"], [], "CN", "LA", "KH",
           "drugs", "other", "active", "resolved", "joint_patrol", "self_management",
           "training", "unknown"]
PAINT = {"fill": "fill-color", "line": "line-color", "circle": "circle-color"}
OPACITY = {"fill": "fill-opacity", "circle": "circle-opacity"}
GEOMETRY_TYPE = {"polygon": "Polygon", "line": "LineString", "point": "Point"}


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.fixture(scope="module")
def style(catalog):
    return json.loads(json.dumps(maplibre_style(catalog, BASE + "/")))


def test_style_document(style, catalog):
    assert style["version"] == 8
    assert "glyphs" not in style and "sprite" not in style
    assert set(style["sources"]) == set(catalog)
    for layer_id, source in style["sources"].items():
        assert source == {"type": "vector",
                          "tiles": [f"{BASE}/{layer_id}/{{z}}/{{x}}/{{y}}.mvt"],
                          "minzoom": catalog[layer_id].minzoom,
                          "maxzoom": catalog[layer_id].maxzoom}
    ids = [layer["id"] for layer in style["layers"]]
    assert len(ids) == len(set(ids)) and ids[0] == "background"
    for layer in style["layers"][1:]:
        assert layer["type"] in PAINT and layer["type"] != "symbol"
        assert layer["source"] in style["sources"]
        assert layer["source-layer"] == layer["source"]  # MVT layer name = layer id
        assert layer["metadata"]["geoservice:layer"] == layer["source"]
    drawn = [layer["source"] for layer in style["layers"][1:]]
    assert drawn.index("sea") < drawn.index("countries") < drawn.index("provinces") \
        < drawn.index("certification-rate") < drawn.index("communes") \
        < drawn.index("border-lines") < drawn.index("incidents")
    assert [legend["layer"] for legend in style["metadata"]["geoservice:legends"]] == \
        list(dict.fromkeys(drawn))


def test_classed_expression_stops_are_the_legend_colours(catalog):
    layer = catalog["certification-rate"]
    fill = maplibre_layers(layer, "src", "certification-rate")[0]
    assert fill["type"] == "fill" and fill["source-layer"] == "certification-rate"
    case = fill["paint"]["fill-color"]
    assert case[0] == "case" and ["!", ["has", "certification_rate_residential"]] in case[1]
    legend = layer.legend("vi")["entries"]
    assert case[2] == legend[-1]["color"] == "#bdbdbd"  # no data
    step = case[3]
    assert step[:2] == ["step", ["get", "certification_rate_residential"]]
    assert step[2::2] == [e["color"] for e in legend[:-1]]
    assert step[3::2] == [0.5, 0.7, 0.85, 0.95] == [e["min"] for e in legend[1:-1]]
    assert fill["paint"]["fill-opacity"] == 0.85


def test_categorical_expression_labels_are_the_legend_values(catalog):
    layer = catalog["border-communes"]
    fill, outline = maplibre_layers(layer, "b", "border-communes")
    match = fill["paint"]["fill-color"]
    entries = layer.legend("en")["entries"]
    assert match[:2] == ["match", ["get", "border_neighbors"]]
    assert match[2:-1:2] == [e["value"] for e in entries] == ["CN", "LA", "KH", "CN,LA",
                                                               "KH,LA"]
    assert match[3:-1:2] == [e["color"] for e in entries]
    assert fill["filter"] == ["match", ["get", "border_neighbors"],
                              ["CN", "LA", "KH", "CN,LA", "KH,LA"], True, False]
    assert outline["type"] == "line" and outline["paint"]["line-color"] == "#4d4d4d"


def test_hot_spot_points_are_circles_and_areas_are_fills(catalog):
    layers = maplibre_layers(catalog["hot-spots"], "h", "hot-spots")
    assert [layer["type"] for layer in layers] == ["fill", "line", "circle"]
    circle = layers[2]
    assert circle["filter"] == ["all", ["==", ["geometry-type"], "Point"], layers[0]["filter"]]
    assert evaluate(circle["filter"], {"status": "active"}, "Point")
    assert not evaluate(circle["filter"], {"status": "active"}, "Polygon")
    assert evaluate(circle["filter"], {}, "Point")  # no status: drawn in the no-data colour
    assert not evaluate(circle["filter"], {"status": "archived"}, "Point")
    assert circle["paint"]["circle-radius"] == 6
    assert circle["paint"]["circle-color"] == layers[0]["paint"]["fill-color"]


def test_dashes_are_in_line_widths(catalog):
    line = maplibre_layers(catalog["cooperation-lines"], "c", "cooperation-lines")[0]
    assert line["paint"]["line-dasharray"] == [4 / 1.5, 3 / 1.5]
    assert line["paint"]["line-width"] == 1.5


def test_expressions_give_the_colours_of_symbol_for(style, catalog):
    """Evaluate every paint expression on sample features as MapLibre would."""
    checked = 0
    for gl_layer in style["layers"][1:]:
        layer = catalog[gl_layer["source"]]
        for sample in SAMPLES:
            properties = {}
            if layer.style.property:
                properties[layer.style.property] = sample
            wanted = layer.source.filter.get("border_neighbor")
            if wanted:  # tiles carry only the features the source filter accepts
                properties.setdefault("border_neighbors", [] if wanted == "any" else [wanted])
                if not layer.accepts(properties):
                    properties["border_neighbors"] = ["CN" if wanted == "any" else wanted]
            tile = {k: tile_value(v) for k, v in properties.items() if tile_value(v) is not None}
            symbol = layer.symbol_for(properties)
            geometry = "Point" if gl_layer["type"] == "circle" else GEOMETRY_TYPE[layer.geometry]
            drawn = evaluate(gl_layer.get("filter", True), tile, geometry)
            assert drawn == (symbol is not None), (gl_layer["id"], sample)
            if not drawn:
                continue
            colour = css_to_rgba(evaluate(gl_layer["paint"][PAINT[gl_layer["type"]]], tile))
            opacity = gl_layer["paint"].get(OPACITY.get(gl_layer["type"]), 1)
            shown = (*colour[:3], round(colour[3] * opacity))
            expected = symbol.stroke if gl_layer["type"] == "line" else symbol.fill
            assert shown == expected, (gl_layer["id"], sample)
            checked += 1
    assert checked > 300


def test_layer_subset_parameters_and_unknown_layers(catalog):
    agencies = {**catalog, "certification-rate": with_params(catalog["certification-rate"],
        year=2024, group="agencies")}
    style = maplibre_style(agencies, BASE, ["certification-rate", "border-lines"], lang="en")
    assert list(style["sources"]) == ["certification-rate", "border-lines"]
    assert style["sources"]["certification-rate"]["tiles"] == [
        f"{BASE}/certification-rate/{{z}}/{{x}}/{{y}}.mvt?year=2024&group=agencies"]
    fill = style["layers"][1]["paint"]["fill-color"]
    assert fill[3][1] == ["get", "certification_rate_agencies"]
    legends = style["metadata"]["geoservice:legends"]
    assert legends[0]["title"] == "Certified / reviewed: agencies"
    assert legends[0]["params"] == {"year": 2024, "group": "agencies"}
    with pytest.raises(NotFound):
        maplibre_style(catalog, BASE, ["no-such-layer"])
