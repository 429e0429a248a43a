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


def test_classed_layers_are_the_legend_classes(catalog):
    layer = catalog["certification-rate"]
    layers = maplibre_layers(layer, "src", "certification-rate")
    fills = [item for item in layers if item["type"] == "fill"]
    legend = layer.legend("vi")["entries"]
    assert [f["paint"]["fill-color"] for f in fills] == [e["color"] for e in legend]
    assert {f["paint"]["fill-opacity"] for f in fills} == {0.85}
    assert all(f["source-layer"] == "certification-rate" for f in fills)
    prop = ["get", "certification_rate_residential"]
    assert fills[0]["filter"] == ["<", prop, 0.5]
    assert fills[1]["filter"] == ["all", [">=", prop, 0.5], ["<", prop, 0.7]]
    assert fills[4]["filter"] == [">=", prop, 0.95]
    assert fills[5]["filter"] == ["!", ["has", "certification_rate_residential"]]  # no data
    # Classes are closed below and open above, every value in exactly one class.
    for value, wanted in ((0.4999, 0), (0.5, 1), (0.7, 2), (0.85, 3), (0.95, 4), (1.0, 4)):
        drawn = [i for i, f in enumerate(fills)
                 if evaluate(f["filter"], {"certification_rate_residential": value})]
        assert drawn == [wanted], value
    assert "case" not in json.dumps(layers) and "step" not in json.dumps(layers)


def test_categorical_layers_are_the_legend_values(catalog):
    layer = catalog["border-communes"]
    *fills, outline = maplibre_layers(layer, "b", "border-communes")
    entries = layer.legend("en")["entries"]
    assert [f["filter"] for f in fills] == [["==", ["get", "border_neighbors"], e["value"]]
                                            for e in entries]
    assert [e["value"] for e in entries] == ["CN", "LA", "KH", "CN,LA", "KH,LA"]
    assert [f["paint"]["fill-color"] for f in fills] == [e["color"] for e in entries]
    assert outline["filter"] == ["match", ["get", "border_neighbors"],
                                 ["CN", "LA", "KH", "CN,LA", "KH,LA"], True, False]
    assert outline["type"] == "line" and outline["paint"]["line-color"] == "#4d4d4d"


def test_hot_spot_points_are_circles_and_areas_are_fills(catalog):
    layers = maplibre_layers(catalog["hot-spots"], "h", "hot-spots")
    kinds = [layer["type"] for layer in layers]
    assert kinds == ["fill"] * 4 + ["line"] + ["circle"] * 4
    circles = layers[5:]
    for fill, circle in zip(layers[:4], circles, strict=True):
        assert circle["filter"] == ["all", ["==", ["geometry-type"], "Point"], fill["filter"]]
        assert circle["paint"]["circle-color"] == fill["paint"]["fill-color"]
        assert circle["paint"]["circle-radius"] == 6

    def drawn(properties, geometry):
        return [c["paint"]["circle-color"] for c in circles
                if evaluate(c["filter"], properties, geometry)]
    assert len(drawn({"status": "active"}, "Point")) == 1
    assert not drawn({"status": "active"}, "Polygon")
    assert len(drawn({}, "Point")) == 1  # no status: drawn in the no-data colour
    assert not drawn({"status": "archived"}, "Point")


def test_dashes_are_in_line_widths(catalog):
    line = maplibre_layers(catalog["cooperation-lines"], "c", "cooperation-lines")[0]
    assert line["paint"]["line-dasharray"] == [4 / 1.5, 3 / 1.5]
    assert line["paint"]["line-width"] == 1.5


def test_filters_give_the_colours_of_symbol_for(style, catalog):
    """Evaluate every filter and paint on sample features as MapLibre would: of the style
    layers of one layer and type, exactly the one of the feature's legend entry draws it,
    in the colour `symbol_for` gives (none when the feature is not drawn)."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for gl_layer in style["layers"][1:]:
        groups.setdefault((gl_layer["source"], gl_layer["type"]), []).append(gl_layer)
    checked = 0
    for (layer_id, kind), gl_layers in groups.items():
        layer = catalog[layer_id]
        for sample in _samples(layer):
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
            geometry = "Point" if kind == "circle" else GEOMETRY_TYPE[layer.geometry]
            drawn = [g for g in gl_layers if evaluate(g.get("filter", True), tile, geometry)]
            assert len(drawn) == (symbol is not None), (layer_id, kind, sample, drawn)
            if not drawn:
                continue
            colour = css_to_rgba(drawn[0]["paint"][PAINT[kind]])
            opacity = drawn[0]["paint"].get(OPACITY.get(kind), 1)
            shown = (*colour[:3], round(colour[3] * opacity))
            expected = symbol.stroke if kind == "line" else symbol.fill
            assert shown == expected, (drawn[0]["id"], sample)
            checked += 1
    assert checked > 300


def _samples(layer):
    """The sample values a layer's tiles may carry: a classed property is a declared
    number (`tile_field_types`), so its tiles hold numbers or nothing."""
    if layer.style.kind != "classed":
        return SAMPLES
    return [s for s in SAMPLES if s is None or (isinstance(s, int | float)
                                                 and not isinstance(s, bool))]


def test_layer_subset_parameters_and_unknown_layers(catalog):
    agencies = {**catalog, "certification-rate": with_params(catalog["certification-rate"],
        year=2024, group="agencies")}
    style = maplibre_style(agencies, BASE, ["certification-rate", "border-lines"], lang="en")
    assert list(style["sources"]) == ["certification-rate", "border-lines"]
    assert style["sources"]["certification-rate"]["tiles"] == [
        f"{BASE}/certification-rate/{{z}}/{{x}}/{{y}}.mvt?year=2024&group=agencies"]
    fill = style["layers"][1]
    assert fill["filter"] == ["<", ["get", "certification_rate_agencies"], 0.5]
    legends = style["metadata"]["geoservice:legends"]
    assert legends[0]["title"] == "Certified / reviewed: agencies"
    assert legends[0]["params"] == {"year": 2024, "group": "agencies"}
    with pytest.raises(NotFound):
        maplibre_style(catalog, BASE, ["no-such-layer"])
