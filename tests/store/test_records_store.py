"""Records in both store backends: insert, no-op re-import, corrections with history,
all-or-nothing imports, and the record filters."""

from __future__ import annotations

from datetime import date

import pytest
import shapely

from geoservice.store import open_store
from geoservice.store.records import ImportBatch, RecordQuery, RecordWrite


def incident(ref, when, category, lon, lat, province="08", commune="00715", neighbors=("CN",),
             severity="low", synthetic=False, row=2):
    return RecordWrite(
        kind="incidents", natural_key=ref, commune_code=commune, province_code=province,
        properties={"ref": ref, "date": when, "category": category, "severity": severity},
        geometry=shapely.Point(lon, lat), neighbors=neighbors, date=when, year=when.year,
        category=category, synthetic=synthetic, source_row=row,
    )


def batch(name="vu-viec.xlsx"):
    return ImportBatch(kind="incidents", filename=name, sha256="0" * 64, imported_by="tester")


FIRST = [
    incident("A-1", date(2024, 3, 5), "drugs", 105.30, 23.32, row=2),
    incident("A-2", date(2024, 7, 1), "smuggling", 105.31, 23.30, row=3),
    incident("B-1", date(2025, 1, 9), "drugs", 103.10, 21.40, province="11", commune="03127",
             neighbors=("LA",), synthetic=True, row=4),
]


@pytest.fixture
def store(store_url):
    store = open_store(store_url)
    yield store
    store.close()


def everything(store, **filters):
    page = store.query_records("incidents", RecordQuery(limit=100, **filters))
    return {fid: props for fid, props, _geom in page.features}, page


def test_first_import_inserts_with_provenance(store):
    outcome = store.apply_records(FIRST, batch())
    assert (outcome.inserted, outcome.updated, outcome.unchanged) == (3, 0, 0)
    found, page = everything(store)
    assert page.number_matched == 3
    record = found[FIRST[0].id]
    assert record["ref"] == "A-1" and record["date"] == "2024-03-05"
    assert record["commune_code"] == "00715" and record["province_code"] == "08"
    assert record["source_file"] == "vu-viec.xlsx" and record["source_row"] == 2
    assert record["version"] == 1 and record["synthetic"] is False
    geometry = dict((fid, geom) for fid, _p, geom in page.features)[FIRST[0].id]
    assert geometry.equals(shapely.Point(105.30, 23.32))


def test_reimport_changes_nothing(store):
    store.apply_records(FIRST, batch())
    again = store.apply_records(FIRST, batch())
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    assert [h["version"] for h in store.record_history("incidents", FIRST[0].id)] == [1]
    assert len(store.imports("incidents")) == 2


def test_correction_updates_and_keeps_history(store):
    store.apply_records(FIRST, batch())
    corrected = [incident("A-1", date(2024, 3, 5), "drugs", 105.30, 23.32, severity="high")]
    outcome = store.apply_records(corrected, batch("sua-loi.csv"))
    assert (outcome.inserted, outcome.updated, outcome.unchanged) == (0, 1, 0)
    found, _ = everything(store)
    assert found[FIRST[0].id]["severity"] == "high"
    assert found[FIRST[0].id]["version"] == 2
    assert found[FIRST[0].id]["source_file"] == "sua-loi.csv"
    history = store.record_history("incidents", FIRST[0].id)
    assert [(h["version"], h["action"], h["properties"]["severity"]) for h in history] == [
        (1, "insert", "low"), (2, "update", "high")]
    moved = [incident("A-1", date(2024, 3, 5), "drugs", 105.35, 23.32, severity="high")]
    assert store.apply_records(moved, batch()).updated == 1


def test_failed_import_leaves_the_store_as_it_was(store):
    store.apply_records(FIRST, batch())
    before, _ = everything(store)
    broken = [
        incident("C-1", date(2024, 5, 5), "drugs", 105.2, 23.2),
        incident("A-1", date(2024, 3, 5), "drugs", 105.30, 23.32, severity="high"),
        RecordWrite(kind="incidents", natural_key="C-2", commune_code="00715",
                    province_code="08", properties={"bad": object()}),
    ]
    with pytest.raises(TypeError):
        store.apply_records(broken, batch("hong.csv"))
    after, page = everything(store)
    assert after == before and page.number_matched == 3
    assert [i["filename"] for i in store.imports()] == ["vu-viec.xlsx"]
    assert store.record_history("incidents", broken[0].id) == []


@pytest.mark.parametrize("filters, expected", [
    ({"province_code": "08"}, {"A-1", "A-2"}),
    ({"commune_code": "03127"}, {"B-1"}),
    ({"year": 2024}, {"A-1", "A-2"}),
    ({"category": "drugs"}, {"A-1", "B-1"}),
    ({"date_from": date(2024, 6, 1)}, {"A-2", "B-1"}),
    ({"date_from": date(2024, 1, 1), "date_to": date(2024, 6, 30)}, {"A-1"}),
    ({"border_neighbor": "LA"}, {"B-1"}),
    ({"synthetic": True}, {"B-1"}),
    ({"bbox": (105.29, 23.31, 105.305, 23.33)}, {"A-1"}),
    ({"bbox": (100.0, 8.0, 110.0, 24.0), "category": "smuggling"}, {"A-2"}),
])
def test_filters(store, filters, expected):
    store.apply_records(FIRST, batch())
    found, page = everything(store, **filters)
    assert {props["ref"] for props in found.values()} == expected
    assert page.number_matched == len(expected)


def test_paging_is_ordered_and_counts_all(store):
    store.apply_records(FIRST, batch())
    ids = sorted(r.id for r in FIRST)
    first = store.query_records("incidents", RecordQuery(limit=2))
    second = store.query_records("incidents", RecordQuery(limit=2, offset=2))
    assert [f[0] for f in first.features] + [f[0] for f in second.features] == ids
    assert first.number_matched == second.number_matched == 3


def test_kinds_are_separate(store):
    store.apply_records(FIRST, batch())
    assert store.query_records("hot-spots", RecordQuery()).number_matched == 0
