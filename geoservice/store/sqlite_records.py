"""Records in the embedded SQLite store: schema, the import primitives and queries."""

from __future__ import annotations

import json
import sqlite3

import shapely

from geoservice.store import FeaturePage, cql
from geoservice.store.records import (
    ImportBatch,
    ImportOutcome,
    RecordQuery,
    RecordTx,
    RecordWrite,
    StoredRecord,
    output_properties,
)

RECORDS_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    natural_key TEXT NOT NULL,
    commune_code TEXT NOT NULL,
    province_code TEXT NOT NULL,
    neighbors TEXT NOT NULL DEFAULT ',',
    year INTEGER,
    date TEXT,
    category TEXT,
    properties TEXT NOT NULL,
    geometry BLOB,
    synthetic INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL,
    import_id TEXT NOT NULL,
    source_file TEXT,
    source_row INTEGER,
    imported_by TEXT,
    imported_at TEXT NOT NULL,
    PRIMARY KEY (kind, id),
    UNIQUE (kind, natural_key)
);
CREATE INDEX IF NOT EXISTS records_filter ON records (kind, province_code, year);
CREATE VIRTUAL TABLE IF NOT EXISTS records_rtree USING rtree(rid, minx, maxx, miny, maxy);
CREATE TABLE IF NOT EXISTS record_history (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    version INTEGER NOT NULL,
    action TEXT NOT NULL,
    properties TEXT NOT NULL,
    geometry BLOB,
    import_id TEXT NOT NULL,
    changed_by TEXT,
    changed_at TEXT NOT NULL,
    PRIMARY KEY (kind, id, version)
);
CREATE TABLE IF NOT EXISTS imports (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    filename TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    imported_by TEXT,
    imported_at TEXT NOT NULL,
    inserted INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    unchanged INTEGER NOT NULL
);
"""

_COLUMNS = ("kind, id, natural_key, commune_code, province_code, neighbors, year, date, "
            "category, properties, geometry, synthetic, version, import_id, source_file, "
            "source_row, imported_by, imported_at")


class SqliteRecordTx(RecordTx):
    """The import primitives on an SQLite connection inside a transaction.

    Writes are gathered and sent in bulk (`executemany`) when the import is recorded
    (`add_import`, the last step of `apply_records`), so the transaction — and with it the
    database's write lock, which an API key's use or a sign-in must wait for — lasts as
    little as the writes themselves. Readers never wait in WAL mode; it stays all or
    nothing, as one transaction."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self._inserts: list[tuple] = []
        self._updates: list[tuple] = []
        self._history: list[tuple] = []
        self._shapes: dict[str, object] = {}  # id -> geometry of the records written

    def existing(self, kind, natural_keys):
        """Return stored records of `kind` with these natural keys."""
        self._flush()
        found = {}
        for start in range(0, len(natural_keys), 500):
            chunk = natural_keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for key, rid, version, props, wkb in self.conn.execute(
                f"SELECT natural_key, id, version, properties, geometry FROM records "
                f"WHERE kind = ? AND natural_key IN ({marks})", [kind, *chunk],
            ):
                found[key] = StoredRecord(rid, version, json.loads(props), wkb)
        return found

    def insert(self, record: RecordWrite, batch: ImportBatch, wkb):
        """Insert a new record (sent with the others at the end)."""
        self._inserts.append(_values(record, batch, wkb, 1))
        self._shapes[record.id] = record.geometry

    def update(self, record: RecordWrite, batch: ImportBatch, wkb, version: int):
        """Overwrite a record with a new version (sent with the others at the end)."""
        self._updates.append((*_values(record, batch, wkb, version)[3:], record.kind,
                              record.id))
        self._shapes[record.id] = record.geometry

    def add_history(self, kind, record_id, version, properties, wkb, batch, action):
        """Append a version to the history."""
        self._history.append(
            (kind, record_id, version, action, json.dumps(properties, ensure_ascii=False),
             wkb, batch.id, batch.imported_by, batch.imported_at))

    def add_import(self, batch: ImportBatch, outcome: ImportOutcome):
        """Write the gathered records and history, then record the import."""
        self._flush()
        self.conn.execute(
            "INSERT INTO imports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (batch.id, batch.kind, batch.filename, batch.sha256, batch.imported_by,
             batch.imported_at, outcome.inserted, outcome.updated, outcome.unchanged))

    def _flush(self) -> None:
        """Send what is gathered; the spatial index follows the records' rowids."""
        if not (self._inserts or self._updates or self._history):
            return
        conn, kinds = self.conn, {row[0] for row in self._inserts} | {
            row[-2] for row in self._updates}
        conn.executemany(
            "DELETE FROM records_rtree WHERE rid = "
            "(SELECT rowid FROM records WHERE kind = ? AND id = ?)",
            [row[-2:] for row in self._updates])
        conn.executemany(
            "UPDATE records SET commune_code = ?, province_code = ?, neighbors = ?, "
            "year = ?, date = ?, category = ?, properties = ?, geometry = ?, synthetic = ?, "
            "version = ?, import_id = ?, source_file = ?, source_row = ?, imported_by = ?, "
            "imported_at = ? WHERE kind = ? AND id = ?", self._updates)
        conn.executemany(f"INSERT INTO records ({_COLUMNS}) VALUES ({','.join('?' * 18)})",
                         self._inserts)
        conn.executemany("INSERT INTO record_history VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         self._history)
        shaped = [rid for rid, geometry in self._shapes.items()
                  if geometry is not None and not geometry.is_empty]
        boxes = []
        for kind in kinds:
            for start in range(0, len(shaped), 500):
                chunk = shaped[start : start + 500]
                for rowid, rid in conn.execute(
                        f"SELECT rowid, id FROM records WHERE kind = ? AND id IN "
                        f"({','.join('?' * len(chunk))})", [kind, *chunk]):
                    minx, miny, maxx, maxy = self._shapes[rid].bounds
                    boxes.append((rowid, minx, maxx, miny, maxy))
        conn.executemany("INSERT INTO records_rtree VALUES (?, ?, ?, ?, ?)", boxes)
        self._inserts, self._updates, self._history, self._shapes = [], [], [], {}


def _values(record: RecordWrite, batch: ImportBatch, wkb, version: int) -> tuple:
    return (
        record.kind, record.id, record.natural_key, record.commune_code, record.province_code,
        "," + ",".join(record.neighbors) + ",", record.year,
        record.date.isoformat() if record.date else None, record.category,
        json.dumps(record.properties, ensure_ascii=False, sort_keys=True, default=str), wkb,
        int(record.synthetic), version, batch.id, batch.filename, record.source_row,
        batch.imported_by, batch.imported_at,
    )


def record_where(kind: str, query: RecordQuery) -> tuple[list[str], list]:
    """Return the SQL conditions and parameters of a records query."""
    where, params = ["f.kind = ?"], [kind]
    for column, value in (("id", query.record_id), ("province_code", query.province_code),
                          ("commune_code", query.commune_code), ("year", query.year),
                          ("category", query.category)):
        if value is not None:
            where.append(f"f.{column} = ?")
            params.append(value)
    # datetime: on the record's date, or on its year when it has no date
    if query.date_from is not None:
        where.append("(f.date >= ? OR (f.date IS NULL AND f.year >= ?))")
        params += [query.date_from.isoformat(), query.date_from.year]
    if query.date_to is not None:
        where.append("(f.date <= ? OR (f.date IS NULL AND f.year <= ?))")
        params += [query.date_to.isoformat(), query.date_to.year]
    if query.border_neighbor:
        where.append("f.neighbors LIKE ?")
        params.append(f"%,{query.border_neighbor},%")
    if query.synthetic is not None:
        where.append("f.synthetic = ?")
        params.append(int(query.synthetic))
    return where, params


RECORD_SELECT = ("SELECT f.id, f.properties, f.geometry, f.commune_code, f.province_code, "
                 "f.synthetic, f.version, f.source_file, f.source_row, f.imported_at "
                 "FROM records f")


def decode_record(row) -> tuple[str, dict, object]:
    """Return (id, output properties, geometry) of a selected record row."""
    rid, props, wkb, commune, province, synthetic, *rest = row
    properties = output_properties(json.loads(props), [commune, province, bool(synthetic),
                                                       *rest])
    return rid, properties, shapely.from_wkb(wkb) if wkb is not None else None


def query_records(conn, kind: str, query: RecordQuery, ids_in_bbox,
                  with_filter) -> FeaturePage:
    """Return one page of records, ordered by `sortby`, then id."""
    where, params = record_where(kind, query)
    select = RECORD_SELECT if query.geometry else RECORD_SELECT.replace("f.geometry", "NULL")
    if query.filter is not None or query.sortby:
        order = with_filter(where, params, query, cql.SQLITE_RECORDS)
        sql_where = " AND ".join(where)
        total = conn.execute(f"SELECT count(*) FROM records f WHERE {sql_where}",
                             params).fetchone()[0]
        rows = conn.execute(f"{select} WHERE {sql_where} ORDER BY {order} "
                            "LIMIT ? OFFSET ?", [*params, query.limit, query.offset])
        return FeaturePage([decode_record(r) for r in rows.fetchall()], total)
    if query.bbox is not None:
        ids = ids_in_bbox(conn, "records", "kind", where, params, query.bbox)
        page = ids[query.offset : query.offset + query.limit]
        if not page:
            return FeaturePage([], len(ids))
        marks = ",".join("?" * len(page))
        rows = conn.execute(f"{select} WHERE f.kind = ? AND f.id IN ({marks}) "
                            "ORDER BY f.id", [kind, *page]).fetchall()
        return FeaturePage([decode_record(r) for r in rows], len(ids))
    sql_where = " AND ".join(where)
    total = conn.execute(f"SELECT count(*) FROM records f WHERE {sql_where}",
                         params).fetchone()[0]
    # With filters beyond the kind, `+f.id` stops SQLite from walking the whole kind in id
    # order and lets it use the filter index (a province-year page: 237 ms -> 3 ms).
    order = "+f.id" if len(where) > 1 else "f.id"
    rows = conn.execute(f"{select} WHERE {sql_where} ORDER BY {order} LIMIT ? OFFSET ?",
                        [*params, query.limit, query.offset]).fetchall()
    return FeaturePage([decode_record(r) for r in rows], total)
