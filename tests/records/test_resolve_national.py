"""Resolution over the whole country, on a store loaded from the registry lists alone.

The store holds the 34 provinces, the 3,321 communes of 2025 and the 10,040 pre-reform
units with their successors from the official conversion (`lineage_table`, as the build
makes them), without polygons: the resolver is built from it with `from_store`, as the
importer builds it. Expectations come from the registry tables, never from output.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import shapely

from geoservice.boundaries import sources
from geoservice.boundaries.lineage import lineage_table
from geoservice.records.importer import lineage_defaults, run_import
from geoservice.records.names import PROVINCE_ALIASES
from geoservice.records.resolve import AMBIGUOUS, OK, UnitResolver
from geoservice.store import FeatureRow, open_store
from geoservice.store.records import RecordQuery
from geoservice.text import ascii_fold, name_key, search_key
from tests.conftest import NODE_MODULES
from tests.web.helpers import get

HEADER = "Tỉnh,Huyện,Xã,Ngày,Hình thức,Nước,Địa phương đối diện,Số người\n"
# The four rows found filed under the wrong unit (province as the official typed it).
REPORTED = [("Hà Nội", "Quận Hoàn Kiếm", "Phường Chương Dương"),
            ("Hà Giang", "Bắc Quang", "Xã Tân Thành"),
            ("Sơn La", "Mường La", "Xã Chiềng Ân"),
            ("Hà Giang", "Bắc Mê", "Yên Phú")]


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    """The registry tables and an SQLite store loaded from them (no geometry needed)."""
    paths = sources.SourcePaths.locate(NODE_MODULES)
    units = sources.read_units_2025(paths.admin_db)
    legacy = sources.read_units_legacy(paths.admin_db)
    lineage = lineage_table(sources.read_conversion(paths.converter), units, legacy)
    successors = lineage.groupby("legacy_code")["code"].agg(lambda s: sorted(set(s)))
    legacy["successors"] = legacy["code"].map(successors)
    path = tmp_path_factory.mktemp("registry-store") / "geoservice.sqlite"
    store = open_store(f"sqlite:///{path}")
    provinces = units.drop_duplicates("province_code")
    store.replace_collection("provinces", (
        FeatureRow(p.province_code, {"code": p.province_code, "name": p.province_short,
                                     "full_name": p.province_name},
                   None, p.province_code, search=search_key(p.province_short))
        for p in provinces.itertuples()))
    store.replace_collection("communes", (
        FeatureRow(c.code, {"code": c.code, "name": c.name, "full_name": c.full_name,
                            "unit_type": c.unit_type, "province_code": c.province_code,
                            "province_name": c.province_name},
                   shapely.Point(c.lon, c.lat), c.province_code, search=search_key(c.name))
        for c in units.itertuples()))
    store.replace_collection("legacy-communes", (
        FeatureRow(u.code, {"code": u.code, "name": u.name, "full_name": u.full_name,
                            "unit_type": u.unit_type, "district_code": u.district_code,
                            "district_name": u.district_name, "province_code": u.province_code,
                            "province_name": u.province_name, "successors": u.successors},
                   None, u.province_code, search=search_key(u.name))
        for u in legacy.itertuples()))
    split = lineage[(lineage["relation"] == "split") & lineage["is_default"]]
    store.set_meta("lineage_defaults", json.dumps(dict(zip(split["legacy_code"], split["code"]))))
    yield store, path, units, legacy
    store.close()


@pytest.fixture(scope="module")
def resolver(registry):
    store = registry[0]
    return UnitResolver.from_store(store, lineage_defaults(store))


def _old(legacy, province, district, commune):
    rows = legacy[(legacy["province_name"].map(name_key) == name_key(province))
                  & (legacy["district_name"].map(name_key) == name_key(district))
                  & ((legacy["full_name"] == commune) | (legacy["name"] == commune))]
    assert len(rows) == 1, (province, district, commune)
    return rows.iloc[0]


def test_every_pre_reform_commune_resolves_to_its_official_successor(registry, resolver):
    legacy = registry[3]
    assert len(legacy) == 10040
    wrong = []
    for unit in legacy.itertuples():
        result = resolver.resolve(name=unit.name, province=unit.province_name,
                                  district=unit.district_name)
        if len(unit.successors) == 1:
            good = (result.status, result.code) == (OK, unit.successors[0])
        else:
            good = (result.status == AMBIGUOUS
                    and sorted(result.candidates) == unit.successors
                    and all(code in result.message for code in unit.successors))
        if not good:
            wrong.append((unit.code, unit.full_name, unit.district_name, result))
    assert wrong == []


def test_the_full_names_resolve_too(registry, resolver):
    """Full names ("Xã …"), short district and province names give the same answers."""
    legacy = registry[3]
    for unit in legacy.iloc[::7].itertuples():
        # The registry tells "Kỳ Anh (Huyện)" from "Kỳ Anh (Thị xã)": officials write the type.
        district = unit.district_name if "(" in unit.district_short else unit.district_short
        result = resolver.resolve(name=unit.full_name, province=unit.province_short,
                                  district=district)
        expected = unit.successors
        assert (sorted(result.candidates) if result.status == AMBIGUOUS
                else [result.code]) == expected, (unit.code, result)


@pytest.mark.parametrize(("province", "district", "commune"), REPORTED)
def test_the_reported_rows_resolve_through_the_conversion(registry, resolver, province,
                                                          district, commune):
    legacy, units = registry[3], registry[2]
    old = _old(legacy, province, district, commune)
    assert len(old.successors) == 1
    # The 2025 unit that merely shares the folded name is not the official successor.
    namesakes = set(units.loc[units["name"].map(ascii_fold) == ascii_fold(old["name"]), "code"])
    assert namesakes - set(old.successors), "the case no longer has a misleading namesake"
    for typed in (commune, ascii_fold(commune)):
        result = resolver.resolve(name=typed, province=province, district=district)
        assert (result.status, result.code) == (OK, old.successors[0]), typed


def test_the_reported_rows_import_to_the_official_successors(registry):
    store, _path, _units, legacy = registry
    rows = "".join(f"{p},{d},{c},0{i + 1}/03/2024,tuan tra chung,Trung Quốc,Vân Nam,{i + 5}\n"
                   for i, (p, d, c) in enumerate(REPORTED))
    report = run_import(store, "cooperation", (HEADER + rows).encode(), "cu.csv", "tester")
    assert report.status == "applied", report.errors
    page = store.query_records("cooperation", RecordQuery(limit=100))
    got = sorted((p["participants"], p["commune_code"]) for _i, p, _g in page.features)
    assert got == [(i + 5, _old(legacy, *row).successors[0]) for i, row in enumerate(REPORTED)]


def test_a_split_unit_is_a_row_error_naming_every_candidate(registry):
    store, _path, _units, legacy = registry
    split = legacy[legacy["successors"].map(len) >= 3].iloc[0]
    row = (f"{split.province_name},{split.district_name},{split.full_name},"
           "05/03/2024,tuan tra chung,Trung Quốc,Vân Nam,3\n")
    report = run_import(store, "cooperation", (HEADER + row).encode(), "split.csv", "tester")
    assert report.status == "rejected" and len(report.errors) == 1
    error = report.errors[0]
    assert all(code in error.reason for code in split.successors)
    assert error.suggestion == lineage_defaults(store)[split.code]


ALIASES = [("Thừa Thiên Huế", "46"), ("TP HCM", "79"), ("TP.HCM", "79"), ("HCM", "79"),
           ("Sài Gòn", "79"), ("BR-VT", "79"), ("Bà Rịa - Vũng Tàu", "79"), ("HN", "01"),
           ("Hà Nội", "01")]


@pytest.mark.parametrize(("typed", "code"), ALIASES)
def test_province_names_officials_use(registry, resolver, typed, code):
    assert resolver.province_codes(typed) == {code}
    units = registry[2]
    commune = units[units["province_code"] == code].iloc[0]
    result = resolver.resolve(name=commune["name"], province=typed)
    assert (result.status, result.code) == (OK, commune["code"])


def test_province_aliases_import(registry):
    store, _path, units, _legacy = registry
    picked = [units[units["province_code"] == code].iloc[0] for _typed, code in ALIASES]
    rows = "".join(f"{typed},,{c['name']},0{i % 9 + 1}/04/2024,tuan tra chung,Trung Quốc,"
                   f"Vân Nam,{100 + i}\n" for i, ((typed, _code), c) in
                   enumerate(zip(ALIASES, picked)))
    report = run_import(store, "cooperation", (HEADER + rows).encode(), "alias.csv", "tester")
    assert report.status == "applied", report.errors
    page = store.query_records("cooperation", RecordQuery(limit=100))
    got = sorted((p["participants"], p["commune_code"]) for _i, p, _g in page.features
                 if p["participants"] >= 100)
    assert got == [(100 + i, c["code"]) for i, c in enumerate(picked)]


def test_every_alias_names_a_registry_province(resolver):
    for canonical, aliases in PROVINCE_ALIASES.items():
        assert resolver.province_codes(canonical), canonical
        for alias in aliases:
            assert resolver.province_codes(alias) == resolver.province_codes(canonical), alias


@pytest.mark.parametrize(("typed", "code"), [("Thừa Thiên Huế", "46"), ("thua thien hue", "46"),
                                             ("TP HCM", "79"), ("TP.HCM", "79"),
                                             ("BR-VT", "79"), ("HN", "01")])
def test_search_finds_the_province_an_alias_stands_for(registry, make_app, typed, code):
    app = make_app(Path(registry[1]))
    body = get(app.test_client(), f"/search?q={typed}")
    provinces = [m for m in body["matches"] if m["level"] == "province"]
    former = [m for m in body["matches"] if m["level"] == "former-province"]
    first = body["matches"][0]
    if first["level"] == "province":
        assert first["code"] == code
    else:
        assert [u["code"] for u in former[0]["now_in"]] == [code]
    assert provinces or former


def test_a_typed_unit_type_tells_the_old_ward_from_the_2025_commune(registry, resolver):
    """No district given: "Phường Chương Dương" is the old ward, not Xã Chương Dương."""
    old = _old(registry[3], "Hà Nội", "Quận Hoàn Kiếm", "Phường Chương Dương")
    result = resolver.resolve(name="Phường Chương Dương", province="Hà Nội")
    assert (result.status, result.code) == (OK, old.successors[0])
    commune = registry[2].set_index("code").loc[result.code]
    bare = resolver.resolve(name="Chương Dương", province="Hà Nội")
    assert bare.code != result.code and commune["name"] != "Chương Dương"
