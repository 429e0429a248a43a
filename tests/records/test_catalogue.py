"""The categories catalogue: the shipped file, a deployment's extension, and every use of it.

The shipped file loads with both labels for every code (the non-traditional threats of the
provincial plans among them), keeps the codes stored data holds, and resolves officials'
spellings; the demo data uses only its codes; the layer styles draw its colours and labels.
A deployment's file (CATEGORIES) adds a category that a CSV row then names by a Vietnamese
alias, the features API filters on and the catalogue API labels; a bad file stops the
start with every problem listed.
"""

from __future__ import annotations

import io
import tomllib
import unicodedata

import pytest

from geoservice.boundaries.load import load_boundaries
from geoservice.errors import CatalogError, ConfigError
from geoservice.layers.catalog import load_catalog
from geoservice.records import catalogue
from geoservice.records.kinds import KINDS
from geoservice.render.classify import css_colour, read_style
from geoservice.render.toml_table import Table
from geoservice.resources import LAYERS_FOLDER
from geoservice.services import of as services_of
from geoservice.text import ascii_fold, has_diacritics
from tests.web.helpers import assert_error, decode

# Codes records were stored with before the catalogue existed: they must stay valid.
STORED_CODES = {
    "incident_category": {"drugs", "smuggling", "illegal_border_crossing", "human_trafficking",
                          "disputes_petitions", "public_order", "other"},
    "model_type": {"self_management", "self_prevention", "self_protection",
                   "self_reconciliation", "security_cameras", "school_gate_traffic",
                   "school_drug_prevention", "enterprise_security_team"},
    "model_status": {"active", "suspended", "ended"},
    "severity": {"low", "medium", "high"},
    "hot_spot_status": {"active", "monitoring", "resolved"},
    "activity_type": {"joint_patrol", "village_twinning", "information_exchange",
                      "joint_operation", "handover", "training", "other"},
}
# The non-traditional security threats the provincial plans name.
THREATS = ("cyber_crime", "environmental_crime", "natural_disasters", "epidemics", "terrorism",
           "transnational_crime")
# Layers drawn by a vocabulary: layer id -> (styled property, vocabulary).
STYLED = {"incidents": ("category", "incident_category"),
          "model-points": ("model_type", "model_type"),
          "hot-spots": ("status", "hot_spot_status"),
          "cooperation": ("activity_type", "activity_type")}
EXTENSION = """
[incident_category]

[[incident_category.terms]]
code = "wildlife_trafficking"
label = { vi = "Buôn bán động vật hoang dã", en = "Wildlife trafficking" }
aliases = ["buôn bán ĐVHD", "ĐVHD", "động vật hoang dã"]
color = "#1b7837"

[[incident_category.terms]]
code = "drugs"
label = { en = "Narcotics" }
aliases = ["chất cấm"]
"""
INCIDENT_CSV = ("Mã vụ việc,Tỉnh,Xã,Ngày,Loại,Kinh độ,Vĩ độ\n"
                "TQ-9,Tuyên Quang,Lũng Cú,05/03/2024,buon ban dong vat hoang da,105.31,23.33\n"
                "TQ-10,Tuyên Quang,Lũng Cú,06/03/2024,Chất cấm,105.31,23.33\n")


@pytest.fixture(autouse=True)
def _shipped_catalogue_afterwards():
    """Every test leaves the shipped catalogue installed, whatever app it made."""
    yield
    catalogue.install(None)


def test_shipped_catalogue_loads_with_both_labels_in_nfc():
    shipped = catalogue.load()
    assert set(shipped.terms) == set(catalogue.VOCABULARIES)
    for name, terms in shipped.terms.items():
        assert set(shipped.titles[name]) == {"vi", "en"}
        assert STORED_CODES[name] <= {t.code for t in terms}, name
        for term in terms:
            assert set(term.labels) == {"vi", "en"}, term.code
            for text in (*term.labels.values(), *term.aliases, term.phrase("vi")):
                assert text == unicodedata.normalize("NFC", text) and text.strip(), text
    assert catalogue.spelling_problems(shipped, "categories.toml") == []
    drawn = {name for _prop, name in STYLED.values()}
    assert all(t.colour for name in drawn for t in shipped.terms[name])


def test_the_non_traditional_threats_are_incident_categories_with_both_labels():
    terms = {t.code: t for t in catalogue.vocabulary("incident_category")}
    for code in THREATS:
        term = terms[code]
        assert has_diacritics(term.label("vi")) and term.label("en").isascii(), term
        assert term.label("vi") != term.label("en")
        # an official's spelling without diacritics names it too
        assert catalogue.resolve("incident_category", ascii_fold(term.label("vi"))) == code
    assert catalogue.label("incident_category", "cyber_crime", "en").startswith("Cyber")
    assert len({t.colour for t in terms.values()}) == len(terms)  # one colour each


def test_every_spelling_resolves_to_its_own_code_whatever_the_diacritics_and_case():
    for name, terms in catalogue.load().terms.items():
        for term in terms:
            for spelling in (term.code, *term.spellings):
                for variant in (spelling, ascii_fold(spelling), spelling.upper()):
                    assert catalogue.resolve(name, variant) == term.code, (name, variant)
    assert catalogue.resolve("incident_category", "không có lĩnh vực này") is None
    assert catalogue.resolve("incident_category", "") is None


def test_record_fields_take_their_choices_from_the_catalogue():
    for name, fields in catalogue.VOCABULARIES.items():
        for qualified in fields:
            kind, field = qualified.split(".")
            choices = KINDS[kind].field(field).choices
            assert list(choices) == list(catalogue.codes(name)), qualified
            assert dict(choices) == catalogue.active().choices(name)


def test_every_code_of_the_demo_data_is_in_the_catalogue(built):
    from geoservice.demo.dataset import generate_demo

    lines = {r.neighbor: r.geometry for r in built.layers["border_lines"].itertuples()}
    generated = generate_demo(built.layers["communes"], [2024], seed=2025, border_lines=lines)
    shipped = catalogue.load()
    used: dict[str, set] = {}
    for name, fields in catalogue.VOCABULARIES.items():
        for qualified in fields:
            kind, field = qualified.split(".")
            values = {r.properties.get(field) for r in generated[kind]} - {None}
            assert values, qualified  # the demo exercises every vocabulary
            used.setdefault(name, set()).update(values)
    for name, values in used.items():
        assert values <= {t.code for t in shipped.terms[name]}, (name, values)


def test_layer_styles_draw_the_catalogue_colours_and_labels():
    layers = load_catalog()
    for layer_id, (prop, name) in STYLED.items():
        style = layers[layer_id].style
        assert style.property == prop
        drawn = [(e.value, {lang: e.label.get(lang) for lang in ("vi", "en")})
                 for e in style.classes]
        expected = catalogue.style_categories(name)
        assert drawn == [(e["value"], e["label"]) for e in expected], layer_id
        assert [css_colour(e.colour) for e in style.classes] == [
            e["color"].lower() for e in expected], layer_id
        # The layer file names the vocabulary; it holds no copy of the catalogue's entries.
        raw = tomllib.loads((LAYERS_FOLDER / f"{layer_id}.toml").read_text(encoding="utf-8"))
        assert raw["style"]["categories"] == name, layer_id


def test_a_style_naming_a_vocabulary_reads_as_its_categories():
    data = {"style": {"kind": "categorical", "property": "category", "radius": 3,
                      "categories": "incident_category"}}
    expanded = catalogue.with_style_categories(data)
    problems: list[str] = []
    style = read_style(Table(expanded["style"], "style", problems), "point")
    assert problems == [] and style is not None
    assert [e.value for e in style.classes] == list(catalogue.codes("incident_category"))
    assert style.classes[0].label.get("en") == catalogue.label(
        "incident_category", style.classes[0].value, "en")
    assert catalogue.with_style_categories({"style": {"categories": []}}) == {
        "style": {"categories": []}}


# --- a deployment's extension ----------------------------------------------------------------

@pytest.fixture
def extended_app(make_app, built, tmp_path, store_url):
    path = tmp_path / "ours.toml"
    path.write_text(EXTENSION, encoding="utf-8")
    app = make_app(None, CATEGORIES=str(path), DATABASE_URL=store_url)
    load_boundaries(services_of(app).store, built.gpkg)
    return app


def _key(app, role):
    from geoservice.auth import create_key

    return {"X-API-Key": create_key(services_of(app).store, "test", role, "national")[1]}


def test_an_extension_category_imports_by_its_alias_and_is_served_with_its_label(extended_app):
    client = extended_app.test_client()
    editor = _key(extended_app, "editor")
    response = client.post("/imports/incidents", headers=editor, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(INCIDENT_CSV.encode()), "vu-viec.csv")})
    body = decode(response, 201)
    assert body["status"] == "applied" and body["written"]["inserted"] == 2, body
    found = decode(client.get("/collections/incidents/items?category=wildlife_trafficking",
                              headers=editor), content_type="application/geo+json")
    assert [f["properties"]["ref"] for f in found["features"]] == ["TQ-9"]
    drugs = decode(client.get("/collections/incidents/items?category=drugs", headers=editor),
                   content_type="application/geo+json")
    assert [f["properties"]["ref"] for f in drugs["features"]] == ["TQ-10"]  # added alias
    listed = decode(client.get("/catalogue/categories"))["vocabularies"]["incident_category"]
    terms = {t["code"]: t for t in listed["terms"]}
    assert terms["wildlife_trafficking"]["label"] == {"vi": "Buôn bán động vật hoang dã",
                                                      "en": "Wildlife trafficking"}
    assert terms["wildlife_trafficking"]["color"] == "#1b7837"
    assert terms["drugs"]["label"] == {"vi": "Ma túy", "en": "Narcotics"}  # vi kept
    assert "chất cấm" in terms["drugs"]["aliases"] and "ma tuy" in terms["drugs"]["aliases"]
    assert set(THREATS) <= set(terms)
    assert list(terms)[-2:] == ["wildlife_trafficking", "other"]  # additions before "other"
    one = decode(client.get("/catalogue/categories/incident_category"))
    assert one["vocabulary"] == "incident_category" and one["terms"] == listed["terms"]
    document = decode(client.get("/api"))
    parameters = document["paths"]["/collections/incidents/items"]["get"]["parameters"]
    category = next(p for p in parameters if p.get("name") == "category")
    assert "wildlife_trafficking" in category["schema"]["enum"]


def test_without_the_extension_the_category_is_unknown(make_app):
    app = make_app(None)
    client = app.test_client()
    codes = [t["code"] for t in decode(client.get(
        "/catalogue/categories/incident_category"))["terms"]]
    assert "wildlife_trafficking" not in codes and codes == list(
        catalogue.codes("incident_category"))
    body = decode(client.get("/collections/incidents/items?category=wildlife_trafficking",
                             headers=_key(app, "viewer")), 400)
    assert_error(body, 400, parameter="category")
    assert_error(decode(client.get("/catalogue/categories/colours"), 404), 404)


def test_a_bad_extension_stops_the_start_with_every_problem(make_app, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("""
[incident_categories]
title = { vi = "Sai tên", en = "Wrong name" }

[incident_category]

[[incident_category.terms]]
code = "wildlife_trafficking"
label = { vi = "Buôn bán động vật hoang dã" }

[[incident_category.terms]]
code = "wildlife_trafficking"
label = { vi = "Lặp lại", en = "Repeated" }

[[incident_category.terms]]
code = "fraud"
label = { vi = "Lừa đảo", en = "Fraud" }
aliases = ["ma tuý"]
color = "red"
""", encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        make_app(None, CATEGORIES=str(bad))
    message = str(raised.value)
    assert message.startswith("CATEGORIES: ")
    for expected in ("bad.toml: incident_categories: unknown vocabulary",
                     "incident_category.terms[0] (wildlife_trafficking).label.en: missing",
                     "incident_category.terms[1] (wildlife_trafficking).code: "
                     "'wildlife_trafficking' is given twice in this file",
                     "incident_category.terms[2] (fraud).color: expected \"#rrggbb\""):
        assert expected in message, message
    bad.write_text('[severity]\n[[severity.terms]]\ncode = "critical"\n'
                   'label = { vi = "Rất cao", en = "Critical" }\naliases = ["cao"]\n',
                   encoding="utf-8")
    with pytest.raises(CatalogError) as raised:
        catalogue.load(bad)
    assert raised.value.problems == (
        "bad.toml: severity (critical): 'cao' is already a spelling of 'high' ('Cao')",)
    with pytest.raises(ConfigError, match="no categories file"):
        make_app(None, CATEGORIES=str(tmp_path / "missing.toml"))
    assert catalogue.codes("severity") == ("low", "medium", "high")  # nothing installed
