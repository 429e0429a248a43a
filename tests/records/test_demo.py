"""The synthetic demo data set: determinism, plausibility on the fixture, An Giang calibration."""

from __future__ import annotations

import math
import sqlite3
import unicodedata
from collections import defaultdict
from itertools import product

import numpy as np
import pytest
import shapely

from geoservice.demo.common import AN_GIANG_2024_PERCENT
from geoservice.demo.cooperation import PARTNER_LOCALITIES
from geoservice.demo.dataset import KIND_ORDER, generate_demo, load_demo
from geoservice.demo.planted import PLANTED_AREAS
from geoservice.indicators import compute as ind
from geoservice.records.kinds import GROUPS, KINDS, MODEL_TYPES, natural_key
from geoservice.store import open_store
from geoservice.store.records import ImportBatch, RecordQuery, canonical, geometry_wkb

YEARS = range(2022, 2026)


@pytest.fixture(scope="module")
def fixture_inputs(built):
    lines = {r.neighbor: r.geometry for r in built.layers["border_lines"].itertuples()}
    return built.layers["communes"], lines


@pytest.fixture(scope="module")
def generated(fixture_inputs):
    communes, lines = fixture_inputs
    return generate_demo(communes, YEARS, seed=2025, border_lines=lines)


def serialised(generated: dict) -> bytes:
    parts = []
    for kind, records in generated.items():
        for r in records:
            parts.append("\t".join([
                kind, r.natural_key, r.commune_code, r.province_code, ",".join(r.neighbors),
                str(r.year), str(r.date), str(r.category), str(r.synthetic),
                canonical(r.properties), (geometry_wkb(r.geometry) or b"").hex()]))
    return "\n".join(parts).encode()


def test_same_seed_same_records_byte_for_byte(fixture_inputs, generated):
    communes, lines = fixture_inputs
    again = generate_demo(communes.iloc[::-1], YEARS, seed=2025, border_lines=lines)
    assert serialised(again) == serialised(generated)
    other = generate_demo(communes, YEARS, seed=7, border_lines=lines)
    assert serialised(other) != serialised(generated)


def test_every_kind_generated_and_every_record_synthetic(generated):
    assert list(generated) == list(KIND_ORDER)
    assert set(generated) == set(KINDS)
    for kind, records in generated.items():
        assert records, kind
        assert all(r.synthetic and r.properties["synthetic"] is True for r in records)
        assert all(r.kind == kind for r in records)
        keys = [r.natural_key for r in records]
        assert len(set(keys)) == len(keys), f"duplicate natural keys in {kind}"
        for r in records[:50]:
            assert r.natural_key == natural_key(
                kind, {**r.properties, "commune_code": r.commune_code})
            assert set(r.properties) - {"synthetic"} <= {f.name for f in KINDS[kind].fields}
            for f in KINDS[kind].fields:
                if f.type == "enum" and f.name in r.properties:
                    assert r.properties[f.name] in f.choices, (kind, f.name)


def test_certification_rows_for_every_commune_year_and_group(generated, built):
    codes = set(built.layers["communes"]["code"])
    rows = {(r.commune_code, r.year, r.category) for r in generated["certification"]}
    assert rows == set(product(codes, YEARS, GROUPS))
    assert len(generated["certification"]) == len(rows)
    example = next(r for r in generated["certification"] if r.commune_code == "00715"
                   and r.year == 2024 and r.category == "residential")
    assert example.natural_key == "00715|2024|residential"
    for r in generated["certification"]:
        p = r.properties
        assert 0 <= p["certified"] <= p["reviewed"] <= p["registered"]
        assert p["registered"] >= 1
        if p["group"] == "commune":
            assert p["registered"] == p["reviewed"] == 1


def test_rates_improve_on_average_year_over_year(generated):
    rates = defaultdict(list)
    for r in generated["certification"]:
        if r.properties["reviewed"]:
            rates[r.year].append(r.properties["certified"] / r.properties["reviewed"])
    means = [np.mean(rates[y]) for y in YEARS]
    assert all(a < b for a, b in zip(means, means[1:])), means
    # and the two provinces differ (a province effect)
    by_province = defaultdict(lambda: [0, 0])
    for r in generated["certification"]:
        if r.year == 2024 and r.category == "residential":
            by_province[r.province_code][0] += r.properties["certified"]
            by_province[r.province_code][1] += r.properties["reviewed"]
    rates_2024 = {p: c / n for p, (c, n) in by_province.items()}
    assert abs(rates_2024["08"] - rates_2024["11"]) > 0.01


def test_cooperation_only_in_border_communes_facing_the_partner(generated, built):
    communes = built.layers["communes"].set_index("code")
    union = shapely.union_all(communes.geometry.values)
    assert generated["cooperation"]
    localities = {c: {name for name, _x, _y in places}
                  for c, places in PARTNER_LOCALITIES.items()}
    for r in generated["cooperation"]:
        facing = list(communes.at[r.commune_code, "border_neighbors"])
        assert facing, r.commune_code
        assert r.properties["partner_country"] in facing
        assert r.properties["partner_locality"] in localities[r.properties["partner_country"]]
        partner = shapely.Point(r.properties["partner_lon"], r.properties["partner_lat"])
        assert not union.contains(partner), "partner point inside Vietnam"
    tripoint = [r for r in generated["cooperation"] if r.commune_code == "03158"]
    assert {r.properties["partner_country"] for r in tripoint} == {"CN", "LA"}


def test_incidents_inside_the_fixture_and_planted_areas(generated, built):
    communes = built.layers["communes"].set_index("code")
    minx, miny, maxx, maxy = communes.total_bounds
    incidents = generated["incidents"]
    xy = np.array([(r.properties["lon"], r.properties["lat"]) for r in incidents])
    assert ((xy[:, 0] >= minx) & (xy[:, 0] <= maxx)).all()
    assert ((xy[:, 1] >= miny) & (xy[:, 1] <= maxy)).all()
    own = shapely.contains_xy(np.array([communes.geometry[r.commune_code] for r in incidents]),
                              xy[:, 0], xy[:, 1])
    assert own.mean() > 0.99
    planted = [a for a in PLANTED_AREAS if a.commune_code in communes.index]
    assert [a.key for a in planted] == ["H1", "H2", "H3", "H4"]
    for area in planted:
        for year in YEARS:
            near = [r for r in incidents if r.year == year and r.commune_code == area.commune_code
                    and _km(r.properties, area) <= 2 * area.radius_km]
            assert len(near) >= area.per_year, (area.key, year, len(near))
    spots = {r.properties["name"]: r for r in generated["hot-spots"]}
    assert all(unicodedata.normalize("NFC", a.name) in spots for a in planted)


def _km(properties, area) -> float:
    dx = (properties["lon"] - area.lon) * 111.32 * math.cos(math.radians(area.lat))
    dy = (properties["lat"] - area.lat) * 110.57
    return math.hypot(dx, dy)


def test_border_incidents_lie_nearer_the_border(generated, built):
    communes = built.layers["communes"].set_index("code")
    line = shapely.union_all(built.layers["border_lines"].geometry.values)
    border_codes = {c for c, n in communes["border_neighbors"].items() if len(n)}
    near, centre = [], []
    for r in generated["incidents"]:
        planted = r.properties["ref"].split("-")[2].startswith("H")
        if r.commune_code in border_codes and not planted:
            point = shapely.Point(r.properties["lon"], r.properties["lat"])
            near.append(line.distance(point))
            centre.append(line.distance(communes.geometry[r.commune_code].point_on_surface()))
    assert near and np.median(near) < 0.8 * np.median(centre)


def test_models_hot_spots_and_text(generated, built):
    communes = built.layers["communes"].set_index("code")
    types = {r.properties["model_type"] for r in generated["models"]}
    assert types == set(MODEL_TYPES)
    residential = {(r.commune_code, r.year): r.properties["registered"]
                   for r in generated["certification"] if r.category == "residential"}
    per_commune, every_model = defaultdict(int), defaultdict(int)
    for r in generated["models"]:
        every_model[r.commune_code] += 1
        assert r.properties["status"] in {"active", "suspended", "ended"}
        assert r.properties["start_date"].year <= max(YEARS)
        name = r.properties["name"]
        assert unicodedata.normalize("NFC", name) == name
        if r.properties["model_type"] == "self_management":
            per_commune[r.commune_code] += 1
            assert name.startswith("Tổ tự quản an ninh trật tự ")
    assert all(n <= residential[(code, 2024)] for code, n in per_commune.items())
    wards = communes["unit_type"] == "phường"
    ward_mean = np.mean([every_model[c] for c in communes.index[wards]])
    other_mean = np.mean([every_model[c] for c in communes.index[~wards]])
    assert ward_mean > other_mean  # more models in the (populous) wards
    assert len(generated["hot-spots"]) >= 2 * 2
    assert sum(1 for r in generated["hot-spots"] if "area_wkt" in r.properties) >= 1
    for r in generated["hot-spots"]:
        if "area_wkt" in r.properties:
            assert shapely.from_wkt(r.properties["area_wkt"]).equals(r.geometry)
            assert r.geometry.contains(shapely.Point(r.properties["lon"], r.properties["lat"]))


def fake_an_giang() -> list[dict]:
    """Fourteen made-up communes of An Giang (91) and three of Cần Thơ (92)."""
    communes = []
    for k in range(14):
        communes.append({
            "code": f"9{k:04d}", "name": f"Xã Thử {k}", "province_code": "91",
            "unit_type": "phường" if k < 3 else "xã", "lat": 10.4 + 0.03 * k,
            "lon": 105.0 + 0.02 * k, "border_neighbors": ["KH"] if k % 4 == 0 else [],
            "distance_to_border_km": 0.0 if k % 4 == 0 else 12.0, "area_km2": 40 + k})
    for k in range(3):
        communes.append({"code": f"92{k:03d}", "name": f"Phường Thử {k}",
                         "province_code": "92", "unit_type": "phường", "lat": 10.03,
                         "lon": 105.77 + 0.01 * k, "border_neighbors": [], "area_km2": 20})
    return communes


def test_an_giang_2024_matches_the_public_figures(tmp_path):
    generated = generate_demo(fake_an_giang(), YEARS, seed=2025)
    sums = defaultdict(lambda: [0, 0, 0])
    for r in generated["certification"]:
        if r.province_code == "91" and r.year == 2024:
            p = r.properties
            assert p["registered"] == p["reviewed"]
            total = sums[p["group"]]
            total[0] += p["certified"]
            total[1] += p["reviewed"]
    for group, percent in AN_GIANG_2024_PERCENT.items():
        certified, reviewed = sums[group][:2]
        assert certified / reviewed > percent / 100, group
        assert (certified - 1) / reviewed <= percent / 100, f"{group} not *just* over"
    awareness = [r.properties for r in generated["awareness"]
                 if r.province_code == "91" and r.year == 2024]
    assert sum(p["sessions"] for p in awareness) == 2228
    assert sum(p["participants"] for p in awareness) == 120_200
    assert sum(p["commended_collectives"] for p in awareness) == 15
    assert sum(p["commended_individuals"] for p in awareness) == 12
    # The same figures through the indicators, from a store.
    store = open_store(f"sqlite:///{tmp_path / 'an-giang.sqlite'}")
    for kind in ("certification", "awareness"):
        store.apply_records(generated[kind], ImportBatch(kind, "demo", "0" * 64, "test"))
    rates = ind.certification_rates(store, 2024, level="province", province_code="91")
    for group, percent in {**AN_GIANG_2024_PERCENT,
                           "agencies_enterprises_schools": 94}.items():
        found = rates[rates["group"] == group].iloc[0]
        assert found["rate_reviewed"] == found["rate_registered"] > percent / 100
        assert (found["certified"] - 1) / found["reviewed"] <= percent / 100 + 1e-9 or \
            group == "agencies_enterprises_schools"
    combined = rates[rates["group"] == "agencies_enterprises_schools"].iloc[0]
    assert 0.94 < combined["rate_reviewed"] < 0.96
    totals = ind.awareness_totals(store, 2024, level="province", province_code="91")
    assert totals.iloc[0]["sessions"] == 2228 and totals.iloc[0]["participants"] > 120_181
    store.close()


def _copy_of(loaded_db, tmp_path):
    """A store on a copy of the fixture database (the demo data is written into it)."""
    path = tmp_path / "demo.sqlite"
    with sqlite3.connect(loaded_db) as src, sqlite3.connect(path) as dst:
        src.backup(dst)
    src.close()
    dst.close()
    return open_store(f"sqlite:///{path}")


def test_load_demo_into_the_fixture_store(loaded_db, tmp_path):
    store = _copy_of(loaded_db, tmp_path)
    first = load_demo(store, seed=2025, years=YEARS)
    assert set(first) == set(KINDS)
    assert all(o.inserted > 0 and o.updated == o.unchanged == 0 for o in first.values())
    again = load_demo(store, seed=2025, years=YEARS)
    assert all(o.inserted == o.updated == 0 and o.unchanged == first[k].inserted
               for k, o in again.items())
    imports = store.imports("certification")
    assert {i["filename"] for i in imports} == {"synthetic-demo-seed-2025"}
    assert {i["imported_by"] for i in imports} == {"geoservice demo-data"}
    page = store.query_records("incidents", RecordQuery(limit=1, synthetic=False))
    assert page.number_matched == 0
    page = store.query_records("incidents", RecordQuery(limit=1, synthetic=True))
    assert page.number_matched == first["incidents"].inserted
    assert page.features[0][1]["synthetic"] is True
    store.close()


def test_load_demo_tells_the_kinds_generated_then_the_records_written(loaded_db, tmp_path):
    from geoservice.demo.dataset import GENERATING, WRITING

    store = _copy_of(loaded_db, tmp_path)
    heard = []
    outcomes = load_demo(store, seed=2025, years=YEARS, progress=lambda *c: heard.append(c))
    store.close()
    kinds = len(KIND_ORDER)
    assert [c for c in heard if c[0] == GENERATING] == [(GENERATING, done, kinds)
                                                        for done in range(kinds + 1)]
    writing = [(done, total) for stage, done, total in heard if stage == WRITING]
    assert heard.index((GENERATING, kinds, kinds)) < heard.index((WRITING, *writing[0]))
    total = sum(outcome.inserted for outcome in outcomes.values())
    assert writing[-1] == (total, total) and {t for _d, t in writing} == {total}
    assert [done for done, _ in writing] == sorted(done for done, _ in writing)
    assert len(writing) > kinds  # within each kind too, every 500 records
