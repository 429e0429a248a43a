"""Broken layer files: every problem is reported with its file and key, all files together."""

from __future__ import annotations

import unicodedata

import pytest

from geoservice.errors import STATUS_CODES, CatalogError, ConfigError, status_for
from geoservice.layers.catalog import check_layers, load_catalog
from tests.layers.helpers import copy_folder, copy_layer

CASES = [
    # (layer file, edits, expected message after "layers/<file>.toml: ")
    ("certification-rate", [('#41b6c4', '#zz0000')],
     "style.classes[2].color: not a colour: '#zz0000'"),
    ("communes", [("order = 150", "order = 150\ncolour = \"red\"")], "colour: unknown key"),
    ("communes", [('[title]\nvi = "Xã, phường, đặc khu (2025)"\n'
                   'en = "Communes, wards and special zones (2025)"\n', "")], "title: missing"),
    ("communes", [('en = "Communes, wards and special zones (2025)"\n', "")],
     "title.en: missing"),
    ("communes", [('collection = "communes"', 'collection = "villages"')],
     "source.collection: must be one of"),
    ("communes", [('fields = ["code",', 'fields = ["code", "population",')],
     "fields[1]: unknown property 'population' of 'communes'"),
    ("communes", [("minzoom = 7", "minzoom = 15")], "minzoom: 15 is above maxzoom 14"),
    ("communes", [("maxzoom = 14", "maxzoom = 23")], "maxzoom: must be between 0 and 22, got 23"),
    ("communes", [("minzoom = 7", "minzoom = 7.5")], "minzoom: expected int, got 7.5"),
    ("certification-rate", [("min = 0.85", "min = 0.6")],
     "style.classes[3].min: class breaks must increase: 0.6 after 0.7"),
    ("certification-rate", [("min = 0.7", "min = 0.5")],
     "style.classes[2].min: class breaks must increase: 0.5 after 0.5"),
    ("communes", [('access = "public"', 'access = "secret"')], "access: must be one of"),
    ("communes", [('theme = "boundaries"\n', "")], "theme: missing"),
    ("communes", [('theme = "boundaries"', 'theme = "security"')], "theme: must be one of"),
    ("communes", [('popup = ["full_name"', 'popup = ["official_area_km2"')],
     "popup[0]: 'official_area_km2' is not in fields"),
    ("incidents", [('access = "restricted"', 'access = "public"')],
     "access: the layer shows restricted data"),
    ("border-communes", [('border_neighbor = "any"', 'border_neighbor = "TH"')],
     "source.filter.border_neighbor: must be one of CN, LA, KH or any, got 'TH'"),
    ("model-points", [("[source]\n", '[source]\nfilter = { colour = "red" }\n')],
     "source.filter.colour: unknown property of 'models'"),
    ("certification-rate", [('group = "residential"', 'group = "hamlets"')],
     "source.params.group: must be one of"),
    ("certification-rate", [('group = "residential"\n', "")], "source.params.group: missing"),
    ("communes", [('collection = "communes"', 'collection = "communes"\n'
                                             'indicator = "certification_rate_x"')],
     "source.indicator: must be one of"),
    ("model-points", [('collection = "models"', 'collection = "models"\n'
                                                'indicator = "awareness_sessions"')],
     "source.indicator: indicators are joined onto communes or provinces, not 'models'"),
    ("certification-rate", [('[style.no_data]\ncolor = "#bdbdbd"\n'
                             'label = { vi = "Không có số liệu", en = "No data" }\n', "")],
     "style.no_data: missing"),
    ("certification-rate", [('"certification_rate_{group}"]\npopup',
                             '"certification_rate_{grup}"]\npopup')],
     "fields[6]: placeholder 'grup' is not a parameter of the layer"),
    ("border-communes", [('value = "CN"\n', 'value = "CX"\n')],
     "style.categories[0].value: 'CX' is not a value of border_neighbors"),
    ("border-communes", [('value = "KH,LA"', 'value = "LA,KH"')],
     "style.categories[4].value: list items must be sorted: 'KH,LA'"),
    ("border-communes", [('value = "LA"', 'value = "CN"')],
     "style.categories[1].value: 'CN' is already the value of style.categories[0]"),
    ("incidents", [('geometry = "point"', 'geometry = "polygon"')],
     "source.collection: 'incidents' gives point, not a polygon layer"),
    ("awareness", [('property = "awareness_sessions"', 'property = "name"')],
     "style.property: 'name' is a string; classes need numbers"),
    ("communes", [('kind = "single"', 'kind = "categorical"\nproperty = "match"'),
                  ("[legend]", '[[style.categories]]\nvalue = "split"\ncolor = "#000"\n'
                               'label = { vi = "Xa biên giới", en = "Far" }\n\n[legend]')],
     "style.property: 'match' is not in fields (tiles would not carry it)"),
    ("cooperation", [('[source]\n', '[source]\ngeometry_transform = "line_to_partner"\n')],
     "source.collection: 'cooperation' gives line, not a point layer"),
    ("model-points", [("radius = 4", "radius = 0")], "style.radius: points need a radius > 0"),
    ("model-points", [("kind = \"categorical\"", "kind = \"classed\"")],
     "style.categories: not used by a 'classed' style"),
    ("certification-rate", [("[[style.classes]]\ncolor", "[[style.classes]]\nmin = 0\ncolor")],
     "style.classes[0].min: the first class has no lower bound"),
    ("legacy-communes", [("dash = [3, 2]", "dash = [3, -2]")],
     "style.dash: expected a list of positive numbers"),
    ("sea", [('[legend]\ntitle = { vi = "Biển", en = "Sea" }\n', "")], "legend: missing"),
    ("communes", [("stroke_width = 0.5", "stroke_width = 0.5\nfill_opacity = 1.5")],
     "style.fill_opacity: must be between 0 and 1, got 1.5"),
]


@pytest.mark.parametrize(("name", "edits", "expected"), CASES,
                         ids=[f"{i}-{case[2].split(':')[0]}" for i, case in enumerate(CASES)])
def test_each_problem_names_file_and_key(tmp_path, name, edits, expected):
    folder = copy_layer(tmp_path, name, *edits)
    with pytest.raises(CatalogError) as raised:
        load_catalog(folder)
    problems = raised.value.problems
    prefix = f"layers/{name}.toml: "
    assert any(p.startswith(prefix + expected) for p in problems), problems
    assert all(p.startswith(prefix) for p in problems)
    assert check_layers(folder) == list(problems)


def test_title_not_nfc_is_reported(tmp_path):
    decomposed = unicodedata.normalize("NFD", "Xã, phường, đặc khu (2025)")
    folder = copy_layer(tmp_path, "communes", ("Xã, phường, đặc khu (2025)", decomposed))
    assert check_layers(folder) == [
        "layers/communes.toml: title.vi: not NFC-normalised (compose the diacritics)"]


def test_broken_toml_and_bad_file_name(tmp_path):
    folder = copy_layer(tmp_path, "sea", as_name="Sea_Layer")
    (folder / "broken.toml").write_text('access = "public\n', encoding="utf-8")
    problems = check_layers(folder)
    assert problems[0].startswith("layers/Sea_Layer.toml: (file name): a layer id is lowercase")
    assert problems[1].startswith("layers/broken.toml: (file): not valid TOML:")
    assert len(problems) == 2


def test_all_problems_of_all_files_are_reported_together(tmp_path):
    folder = copy_folder(tmp_path)
    communes = folder / "communes.toml"
    communes.write_text(communes.read_text(encoding="utf-8")
                        .replace("minzoom = 7", "minzoom = 30")
                        .replace('stroke = "#8c8c8c"', 'stroke = "grey"'), encoding="utf-8")
    incidents = folder / "incidents.toml"
    incidents.write_text(incidents.read_text(encoding="utf-8")
                         .replace('access = "restricted"', 'access = "public"'),
                         encoding="utf-8")
    with pytest.raises(CatalogError) as raised:
        load_catalog(folder)
    assert raised.value.problems == (
        "layers/communes.toml: minzoom: must be between 0 and 22, got 30",
        "layers/communes.toml: style.stroke: not a colour: 'grey' (expected #rrggbb)",
        "layers/incidents.toml: access: the layer shows restricted data; it must be "
        "\"restricted\"",
    )
    assert str(raised.value) == "\n".join(raised.value.problems)
    assert isinstance(raised.value, ConfigError) and CatalogError not in STATUS_CODES
    assert status_for(raised.value) == 500


def test_missing_or_empty_folder(tmp_path):
    assert check_layers(tmp_path / "nowhere") == [f"{tmp_path / 'nowhere'}: no such folder "
                                                  "of layer files"]
    assert check_layers(tmp_path) == [f"{tmp_path}: no layer files (*.toml)"]
