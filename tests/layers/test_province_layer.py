"""The province-level choropleth (layers/certification-rate-province.toml): each province's
rate is Σ certified ÷ Σ reviewed over its communes' records (never an average of rates),
for every group and year, in its features and its vector tiles, with the commune layer's
classes and legend."""

from __future__ import annotations

from collections import defaultdict

import mapbox_vector_tile
import pytest

from geoservice.indicators.names import (
    CERTIFICATION_GROUPS,
    COMBINED_GROUP,
    COMBINED_MEMBERS,
)
from geoservice.services import of as services_of
from geoservice.store.records import RecordQuery
from geoservice.tilemath import WORLD, to_mercator
from tests.web.helpers import get
from tests.web.test_tiles import demo_db  # noqa: F401 - the shared session fixture

LAYER = "certification-rate-province"


@pytest.fixture
def app(make_app, demo_db):  # noqa: F811
    return make_app(demo_db)


def summed_rates(store, year: int, group: str) -> dict[str, float | None]:
    """Σ certified ÷ Σ reviewed per province, from the stored commune records."""
    members = COMBINED_MEMBERS if group == COMBINED_GROUP else (group,)
    records = store.query_records("certification", RecordQuery(limit=10**6, year=year))
    certified, reviewed = defaultdict(int), defaultdict(int)
    for _fid, props, _geometry in records.features:
        if props["group"] in members and props["reviewed"] is not None:
            certified[props["province_code"]] += props["certified"]
            reviewed[props["province_code"]] += props["reviewed"]
    return {code: certified[code] / reviewed[code] if reviewed[code] else None
            for code in reviewed}


def commune_rate_mean(client, year: int, group: str, province: str) -> float:
    body = get(client, f"/collections/certification-rate/items?group={group}&year={year}"
                       f"&province_code={province}&limit=1000")
    rates = [f["properties"].get(f"certification_rate_{group}") for f in body["features"]]
    rates = [r for r in rates if r is not None]
    return sum(rates) / len(rates)


def test_province_rates_are_summed_counts_for_every_group_and_year(app):
    client, store = app.test_client(), services_of(app).store
    years = store.record_years("certification")
    assert len(years) >= 2
    averaged_differs = False
    for year in years[-2:]:
        for group in CERTIFICATION_GROUPS:
            expected = summed_rates(store, year, group)
            body = get(client, f"/collections/{LAYER}/items?group={group}&year={year}")
            assert body["numberMatched"] == 2  # the fixture's two provinces
            for feature in body["features"]:
                props = feature["properties"]
                assert props["indicator_year"] == year
                assert props[f"certification_rate_{group}"] == pytest.approx(
                    expected[feature["id"]], abs=5e-5), (year, group, feature["id"])
                assert props["commune_count"] > 0
                mean = commune_rate_mean(client, year, group, feature["id"])
                averaged_differs |= abs(mean - expected[feature["id"]]) > 1e-3
    assert averaged_differs  # the fixture tells a roll-up by counts from an average


def test_the_default_is_the_latest_year_and_residential_areas(app):
    client, store = app.test_client(), services_of(app).store
    latest = store.record_years("certification")[-1]
    body = get(client, f"/collections/{LAYER}/items")
    expected = summed_rates(store, latest, "residential")
    for feature in body["features"]:
        assert feature["properties"]["certification_rate_residential"] == pytest.approx(
            expected[feature["id"]], abs=5e-5)


@pytest.mark.parametrize("zoom", [0, 3, 6])
def test_vector_tiles_carry_the_rolled_up_rate(app, zoom):
    client, store = app.test_client(), services_of(app).store
    year = store.record_years("certification")[-1]
    expected = summed_rates(store, year, "schools")
    _fid, _props, outline = store.get("provinces", "11")
    anchor = to_mercator([outline.representative_point()])[0]
    size = WORLD / 2**zoom
    x, y = int((anchor.x + WORLD / 2) // size), int((WORLD / 2 - anchor.y) // size)
    response = client.get(f"/tiles/{LAYER}/{zoom}/{x}/{y}.mvt?group=schools&year={year}")
    assert response.status_code == 200
    features = mapbox_vector_tile.decode(response.data)[LAYER]["features"]
    by_code = {f["properties"]["code"]: f["properties"] for f in features}
    assert "11" in by_code
    for code, props in by_code.items():
        assert props["certification_rate_schools"] == pytest.approx(expected[code], abs=5e-5)
        assert props["indicator_year"] == year


def test_classes_and_legend_are_the_commune_layers(app):
    client = app.test_client()
    for lang in ("vi", "en"):
        for group in ("residential", COMBINED_GROUP):
            ours = get(client, f"/tiles/{LAYER}/legend.json?group={group}&lang={lang}")
            theirs = get(client, f"/tiles/certification-rate/legend.json?group={group}"
                                 f"&lang={lang}")
            assert ours["entries"] and len(ours["entries"]) == len(theirs["entries"])
            for mine, commune in zip(ours["entries"], theirs["entries"]):
                # the same classes, colours and labels; provinces have wider outlines
                assert {**mine, "stroke_width": None} == {**commune, "stroke_width": None}
            assert ours.get("title") == theirs.get("title")
    tilejson = get(client, f"/tiles/{LAYER}.json?group=agencies")
    assert tilejson["minzoom"] == 0
    fields = tilejson["vector_layers"][0]["fields"]
    assert "certification_rate_agencies" in fields and "commune_count" in fields
