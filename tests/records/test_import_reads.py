"""Readers never wait on an import, on both stores: while an import's transaction holds
every one of its rows written but not committed, another thread's reads answer at once
and see the data as it was; after the commit they see all of it (spatial index included);
an import failing at its very end leaves nothing behind."""

from __future__ import annotations

import threading
import time

import pytest

from geoservice.boundaries.load import load_boundaries
from geoservice.records.importer import run_import
from geoservice.store import open_store
from geoservice.store.postgis_records import PostgisRecordTx
from geoservice.store.records import RecordQuery
from geoservice.store.sqlite_records import SqliteRecordTx

HEADER = "Mã vụ việc,Mã xã,Ngày,Loại,Kinh độ,Vĩ độ,Mức độ\n"
ROWS = 200
READ_LIMIT_S = 0.5


@pytest.fixture
def store(store_url, built):
    store = open_store(store_url)
    load_boundaries(store, built.gpkg)
    yield store
    store.close()


def incidents(prefix: str, lon: float = 105.31, rows: int = ROWS) -> bytes:
    lines = [f"{prefix}-{i},00715,05/03/2024,ma tuý,{lon + i * 1e-5:.6f},23.33,cao"
             for i in range(rows)]
    return (HEADER + "\n".join(lines) + "\n").encode()


def count(store, bbox=None) -> int:
    return store.query_records("incidents", RecordQuery(limit=1, bbox=bbox)).number_matched


def held_open(monkeypatch, store):
    """Make the store's import wait, its rows written, before it commits: (written, go)."""
    tx = PostgisRecordTx if type(store).__name__.startswith("Postgis") else SqliteRecordTx
    original, written, go = tx.add_import, threading.Event(), threading.Event()

    def add_import(self, batch, outcome):
        original(self, batch, outcome)
        written.set()
        assert go.wait(60), "the test never let the import commit"

    monkeypatch.setattr(tx, add_import.__name__, add_import)
    return written, go


def test_reads_answer_at_once_while_an_import_is_being_written(store, monkeypatch):
    assert run_import(store, "incidents", incidents("A", rows=5), "a.csv", "t").status == \
        "applied"
    written, go = held_open(monkeypatch, store)
    outcome = {}
    writer = threading.Thread(target=lambda: outcome.update(report=run_import(
        store, "incidents", incidents("B"), "b.csv", "t")))
    writer.start()
    try:
        assert written.wait(120), "the import did not get to its writes"
        started = time.perf_counter()
        seen = count(store)
        page = store.query_records("incidents", RecordQuery(limit=100))
        took = time.perf_counter() - started
        assert seen == 5 and len(page.features) == 5  # the state before the import
        assert took < READ_LIMIT_S, f"a read waited {took:.2f} s on the import"
        assert store.imports("incidents")[0]["filename"] == "a.csv"
    finally:
        go.set()
        writer.join(120)
    assert outcome["report"].status == "applied"
    assert outcome["report"].outcome["inserted"] == ROWS
    assert count(store) == 5 + ROWS
    box = (105.31 + 10e-5 - 1e-6, 23.32, 105.31 + 19e-5 + 1e-6, 23.34)  # rows 10 to 19
    assert count(store, box) == 10  # the first import's 5 rows lie west of it


def test_an_update_moves_the_record_in_the_spatial_index(store):
    run_import(store, "incidents", incidents("C", rows=20), "c.csv", "t")
    assert count(store, (105.3099, 23.32, 105.3103, 23.34)) == 20
    moved = run_import(store, "incidents", incidents("C", lon=105.20, rows=20), "d.csv", "t")
    assert moved.outcome["updated"] == 20
    assert count(store, (105.3099, 23.32, 105.3103, 23.34)) == 0
    assert count(store, (105.1999, 23.32, 105.2003, 23.34)) == 20
    history = store.record_history("incidents", store.query_records(
        "incidents", RecordQuery(limit=1)).features[0][0])
    assert [h["action"] for h in history] == ["insert", "update"]


def test_an_import_failing_at_its_end_leaves_nothing(store, monkeypatch):
    tx = PostgisRecordTx if type(store).__name__.startswith("Postgis") else SqliteRecordTx
    original = tx.add_import

    def failing(self, batch, outcome):
        original(self, batch, outcome)  # every row written in the transaction
        raise OSError("the disk filled up")

    monkeypatch.setattr(tx, "add_import", failing)
    with pytest.raises(OSError):
        run_import(store, "incidents", incidents("E"), "e.csv", "t")
    monkeypatch.undo()
    assert count(store) == 0 and store.imports() == []
    assert count(store, (105.0, 23.0, 106.0, 24.0)) == 0
    again = run_import(store, "incidents", incidents("E"), "e.csv", "t")
    assert again.outcome["inserted"] == ROWS and count(store) == ROWS
