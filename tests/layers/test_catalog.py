"""The real layers/*.toml: every file loads, with the layers, titles and access expected."""

from __future__ import annotations

import unicodedata

import pytest
import shapely

from geoservice.collections import COLLECTIONS
from geoservice.errors import InvalidParameter
from geoservice.layers.catalog import LAYERS_FOLDER, check_layers, load_catalog
from geoservice.layers.params import indicator_params, with_params

REQUIRED = {
    "provinces", "communes", "border-lines", "border-communes", "border-communes-cn",
    "border-communes-la", "border-communes-kh", "certification-rate",
    "certification-rate-commune-unit", "model-coverage", "model-points", "incidents",
    "hot-spots", "cooperation", "cooperation-lines", "awareness", "countries", "sea",
}
RESTRICTED = {"incidents", "hot-spots", "cooperation", "cooperation-lines",
              "hotspots-gistar", "hotspots-gistar-hex", "hotspots-emerging"}


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def test_every_layer_file_loads_under_its_file_name(catalog):
    files = {path.stem for path in LAYERS_FOLDER.glob("*.toml")}
    assert set(catalog) == files
    assert REQUIRED <= files
    assert check_layers(LAYERS_FOLDER) == []
    for layer_id, layer in catalog.items():
        assert layer.id == layer_id
        assert 0 <= layer.minzoom <= layer.maxzoom <= 22
        assert set(layer.popup) <= set(layer.fields)


def test_titles_and_labels_are_nfc_vietnamese_and_english(catalog):
    for layer in catalog.values():
        texts = [layer.titles, layer.description, layer.legend_title,
                 *(entry.label for entry in layer.classes)]
        for text in texts:
            for value in (text.vi, text.en):
                assert value.strip() and unicodedata.normalize("NFC", value) == value
        assert layer.title("vi") != layer.title("en")
    assert catalog["border-communes"].title("vi") == "Xã biên giới đất liền"
    assert catalog["provinces"].title("en") == "Provinces (2025)"
    assert catalog["hot-spots"].title() == "Địa bàn, điểm nóng về an ninh, trật tự"
    with pytest.raises(InvalidParameter):
        catalog["sea"].title("fr")


def test_restricted_data_is_only_in_restricted_layers(catalog):
    restricted = {layer_id for layer_id, layer in catalog.items() if layer.restricted}
    assert restricted == RESTRICTED
    for layer in catalog.values():
        spec = COLLECTIONS.get(layer.source.collection)
        if spec is not None and spec.restricted:
            assert layer.access == "restricted"


def test_indicator_parameters_and_variants(catalog):
    layer = catalog["certification-rate"]
    assert layer.params == {"year": "latest", "group": "residential"}
    assert layer.style.property == "certification_rate_residential"
    assert layer.indicator_property == "certification_rate_residential"
    assert indicator_params(layer, year=2024) == {"year": 2024, "group": "residential"}
    variant = with_params(layer, year="2023", group="agencies")
    assert variant.params == {"year": 2023, "group": "agencies"}
    assert variant.style.property == "certification_rate_agencies"
    assert "certification_rate_agencies" in variant.fields
    assert "certification_rate_residential" not in variant.fields
    assert variant.popup[-1] == "certification_rate_agencies"
    assert layer.style.property == "certification_rate_residential"  # unchanged
    commune_unit = catalog["certification-rate-commune-unit"]
    assert commune_unit.style.property == "certification_rate_commune"
    assert catalog["model-coverage"].style.property == "model_coverage_any"
    assert indicator_params(catalog["awareness"]) == {"year": "latest"}
    assert indicator_params(catalog["communes"], year=2024) == {}
    for bad in ({"group": "hamlets"}, {"model_type": "any"}, {"year": 1800},
                {"year": "last"}):
        with pytest.raises(InvalidParameter):
            indicator_params(layer, **bad)
    with pytest.raises(InvalidParameter):
        indicator_params(catalog["communes"], group="residential")


def test_source_filters_accept_the_right_communes(catalog):
    tripoint = {"border_neighbors": ["CN", "LA"]}
    inland = {"border_neighbors": []}
    facing_kh = {"border_neighbors": ["KH"]}
    assert catalog["border-communes"].accepts(tripoint)
    assert not catalog["border-communes"].accepts(inland)
    assert catalog["border-communes-cn"].accepts(tripoint)
    assert catalog["border-communes-la"].accepts(tripoint)
    assert not catalog["border-communes-kh"].accepts(tripoint)
    assert catalog["border-communes-kh"].accepts(facing_kh)
    assert catalog["border-communes-cn"].symbol_for(facing_kh) is None
    assert catalog["border-communes-kh"].symbol_for(facing_kh).fill[:3] == (0, 158, 115)
    assert catalog["communes"].accepts(inland)


def test_tile_properties_are_the_fields_as_scalars(catalog):
    layer = catalog["border-communes"]
    properties = {"code": "03158", "name": "Sín Thầu", "full_name": "Xã Sín Thầu",
                  "province_code": "11", "province_name": "Tỉnh Điện Biên",
                  "border_neighbors": ["LA", "CN"], "border_length_km": {"CN": 20.5, "LA": 31},
                  "area_km2": 250.0}
    assert layer.tile_properties(properties) == {
        "code": "03158", "name": "Sín Thầu", "full_name": "Xã Sín Thầu",
        "province_code": "11", "province_name": "Tỉnh Điện Biên",
        "border_neighbors": "CN,LA", "border_length_km": '{"CN":20.5,"LA":31}',
    }


def test_cooperation_lines_run_to_the_partner_locality(catalog):
    layer = catalog["cooperation-lines"]
    assert layer.geometry == "line" and layer.source.geometry_transform == "line_to_partner"
    point = shapely.Point(105.3, 23.3)
    line = layer.transform_geometry(point, {"partner_lon": 105.58, "partner_lat": 23.14})
    assert list(line.coords) == [(105.3, 23.3), (105.58, 23.14)]
    assert layer.transform_geometry(point, {"partner_locality": "Yunnan"}) is None
    assert catalog["cooperation"].transform_geometry(point, {}) is point


def test_titles_follow_the_group_parameter():
    from geoservice.layers.catalog import load_catalog

    layer = load_catalog()["certification-rate"]
    schools = with_params(layer, group="schools")
    assert schools.title("vi") == "Tỷ lệ cơ sở giáo dục đạt chuẩn An toàn về ANTT"
    assert "educational institutions" in schools.title("en")
    assert schools.legend("en")["title"] == "Certified / reviewed: educational institutions"
    assert "khu dân cư" in layer.title("vi")  # the default group
