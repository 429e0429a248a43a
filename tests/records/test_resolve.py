"""Resolving spreadsheet unit references to 2025 communes, on the two-province fixture."""

from __future__ import annotations

from collections import Counter

import pytest

from geoservice.records.resolve import AMBIGUOUS, OK, UNKNOWN, UnitResolver
from geoservice.store import open_store
from geoservice.text import ascii_fold, name_key


@pytest.fixture(scope="module")
def resolver(loaded_db, built):
    store = open_store(f"sqlite:///{loaded_db}")
    lineage = built.layers["lineage"]
    defaults = dict(zip(lineage.loc[lineage["is_default"] & (lineage["relation"] == "split"),
                                    "legacy_code"],
                        lineage.loc[lineage["is_default"] & (lineage["relation"] == "split"),
                                    "code"]))
    yield UnitResolver.from_store(store, defaults)
    store.close()


def test_2025_code(resolver):
    result = resolver.resolve(code="00715")
    assert (result.status, result.code, result.how) == (OK, "00715", "code")


@pytest.mark.parametrize("name", ["Lũng Cú", "lung cu", "Xã Lũng Cú", "XA LUNG CU", "xã lũng cú"])
def test_2025_name_with_and_without_diacritics(resolver, name):
    result = resolver.resolve(name=name, province="Tuyên Quang")
    assert (result.status, result.code) == (OK, "00715")


def test_old_province_name_is_accepted(resolver):
    # Hà Giang was merged into Tuyên Quang in 2025; officials still write the old name.
    result = resolver.resolve(name="Lung Cu", province="Tỉnh Hà Giang")
    assert (result.status, result.code) == (OK, "00715")


def test_renamed_pre_reform_commune_resolves_through_lineage(resolver, built):
    legacy = built.layers["legacy_communes"]
    communes = built.layers["communes"].set_index("code")
    names = Counter(legacy["name"].map(name_key))
    new_names = set(communes["name"].map(name_key))
    picked = None
    for row in legacy.itertuples():
        if (len(row.successors) == 1 and names[name_key(row.name)] == 1
                and name_key(row.name) not in new_names):
            picked = row
            break
    assert picked is not None, "the fixture has no merged-away commune with a unique name"
    result = resolver.resolve(name=ascii_fold(picked.name), province=picked.province_name,
                              district=picked.district_name)
    assert (result.status, result.code, result.how) == (OK, picked.successors[0],
                                                        "pre-reform name")


def test_split_pre_reform_unit_is_ambiguous_with_candidates(resolver, built):
    lineage = built.layers["lineage"]
    split = lineage[lineage["relation"] == "split"]
    old_code = split["legacy_code"].iloc[0]
    expected = set(split.loc[split["legacy_code"] == old_code, "code"])
    result = resolver.resolve(code=old_code)
    assert result.status == AMBIGUOUS
    assert set(result.candidates) == expected and len(expected) >= 2
    default = split.loc[(split["legacy_code"] == old_code) & split["is_default"], "code"]
    assert result.suggestion == default.iloc[0]
    assert "split" in result.message


def test_old_name_in_two_districts_is_ambiguous_until_the_district_is_given(resolver, built):
    legacy = built.layers["legacy_communes"]
    new_names = set(built.layers["communes"]["name"].map(name_key))
    legacy = legacy.assign(key=legacy["name"].map(name_key))
    groups = legacy[~legacy["key"].isin(new_names)].groupby(["province_code", "key"])
    for _, group in groups:
        successors = {tuple(s) for s in group["successors"]}
        if len(group) >= 2 and len(successors) >= 2 and all(len(s) == 1 for s in successors):
            break
    else:
        pytest.fail("the fixture has no pre-reform name used in two districts")
    first = group.iloc[0]
    result = resolver.resolve(name=first["name"], province=first["province_name"])
    assert result.status == AMBIGUOUS
    assert set(result.candidates) == {s[0] for s in successors}
    narrowed = resolver.resolve(name=first["name"], province=first["province_name"],
                                district=first["district_name"])
    assert (narrowed.status, narrowed.code) == (OK, first["successors"][0])


def test_unknown_name_gets_a_suggestion(resolver):
    result = resolver.resolve(name="Lũng Cúu", province="Tuyên Quang")
    assert result.status == UNKNOWN
    assert result.suggestion == "Lũng Cú"


def test_unknown_province_and_code(resolver):
    assert resolver.resolve(name="Lũng Cú", province="Atlantis").status == UNKNOWN
    assert resolver.resolve(code="99999").status == UNKNOWN
    assert resolver.resolve().status == UNKNOWN
