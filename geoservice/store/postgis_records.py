"""Records in the PostGIS store: the import primitives and queries."""

from __future__ import annotations

import json

import shapely
from psycopg.types.json import Jsonb

from geoservice.store import FeaturePage, cql
from geoservice.store.records import (
    ImportBatch,
    ImportOutcome,
    RecordQuery,
    RecordTx,
    RecordWrite,
    StoredRecord,
    canonical,
    output_properties,
)

_SET = ("commune_code = %s, province_code = %s, neighbors = %s, year = %s, date = %s, "
        "category = %s, properties = %s, geom = ST_GeomFromWKB(%s, 4326), synthetic = %s, "
        "version = %s, import_id = %s, source_file = %s, source_row = %s, imported_by = %s, "
        "imported_at = %s")


_INSERT = ("INSERT INTO records (kind, id, natural_key, commune_code, province_code, neighbors,"
           " year, date, category, properties, geom, synthetic, version, import_id, "
           "source_file, source_row, imported_by, imported_at) VALUES (%s, %s, %s, %s, %s, "
           "%s, %s, %s, %s, %s, ST_GeomFromWKB(%s, 4326), %s, %s, %s, %s, %s, %s, %s)")
_HISTORY = ("INSERT INTO record_history VALUES (%s, %s, %s, %s, %s, "
            "ST_GeomFromWKB(%s, 4326), %s, %s, %s)")


class PostgisRecordTx(RecordTx):
    """The import primitives on a psycopg connection inside a transaction.

    Writes are gathered and sent in bulk when the import is recorded (`add_import`, the
    last step of `apply_records`): psycopg pipelines `executemany`, so 30,000 records cost
    a few round trips instead of 60,000, and the transaction is short. Readers never wait
    on it (MVCC); it stays all or nothing, as one transaction."""

    def __init__(self, conn):
        self.conn = conn
        self._inserts: list[tuple] = []
        self._updates: list[tuple] = []
        self._history: list[tuple] = []

    def existing(self, kind, natural_keys):
        """Return stored records of `kind` with these natural keys."""
        self._flush()
        rows = self.conn.execute(
            "SELECT natural_key, id, version, properties, ST_AsBinary(geom) FROM records "
            "WHERE kind = %s AND natural_key = ANY(%s)", (kind, natural_keys)).fetchall()
        return {key: StoredRecord(rid, version, props, _wkb(wkb))
                for key, rid, version, props, wkb in rows}

    def insert(self, record: RecordWrite, batch: ImportBatch, wkb):
        """Insert a new record (sent with the others at the end)."""
        self._inserts.append((record.kind, record.id, record.natural_key,
                              *_values(record, batch, wkb, 1)))

    def update(self, record: RecordWrite, batch: ImportBatch, wkb, version: int):
        """Overwrite a record with a new version (sent with the others at the end)."""
        self._updates.append((*_values(record, batch, wkb, version), record.kind, record.id))

    def add_history(self, kind, record_id, version, properties, wkb, batch, action):
        """Append a version to the history."""
        self._history.append((kind, record_id, version, action, Jsonb(properties), wkb,
                              batch.id, batch.imported_by, batch.imported_at))

    def add_import(self, batch: ImportBatch, outcome: ImportOutcome):
        """Write the gathered records and history, then record the import."""
        self._flush()
        self.conn.execute(
            "INSERT INTO imports VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (batch.id, batch.kind, batch.filename, batch.sha256, batch.imported_by,
             batch.imported_at, outcome.inserted, outcome.updated, outcome.unchanged))

    def _flush(self) -> None:
        with self.conn.cursor() as cursor:
            for sql, rows in ((f"UPDATE records SET {_SET} WHERE kind = %s AND id = %s",
                               self._updates), (_INSERT, self._inserts),
                              (_HISTORY, self._history)):
                if rows:
                    cursor.executemany(sql, rows)
        self._inserts, self._updates, self._history = [], [], []


def _wkb(value) -> bytes | None:
    # Re-encode through shapely so that stored and incoming WKB compare byte for byte.
    return None if value is None else shapely.to_wkb(shapely.from_wkb(bytes(value)))


def _values(record: RecordWrite, batch: ImportBatch, wkb, version: int) -> tuple:
    return (
        record.commune_code, record.province_code, list(record.neighbors), record.year,
        record.date, record.category, Jsonb(json.loads(canonical(record.properties))), wkb,
        record.synthetic, version, batch.id, batch.filename, record.source_row,
        batch.imported_by, batch.imported_at,
    )


def query_records(conn, kind: str, query: RecordQuery) -> FeaturePage:
    """Return one page of records, ordered by id."""
    where, params = ["kind = %s"], [kind]
    for column, value in (("id", query.record_id), ("province_code", query.province_code),
                          ("commune_code", query.commune_code), ("year", query.year),
                          ("category", query.category), ("synthetic", query.synthetic)):
        if value is not None:
            where.append(f"{column} = %s")
            params.append(value)
    # datetime: on the record's date, or on its year when it has no date
    if query.date_from is not None:
        where.append("(date >= %s OR (date IS NULL AND year >= %s))")
        params += [query.date_from, query.date_from.year]
    if query.date_to is not None:
        where.append("(date <= %s OR (date IS NULL AND year <= %s))")
        params += [query.date_to, query.date_to.year]
    if query.border_neighbor:
        where.append("%s = ANY(neighbors)")
        params.append(query.border_neighbor)
    if query.bbox is not None:
        where.append("geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326) AND "
                     "ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))")
        params += [*query.bbox, *query.bbox]
    order = cql.apply(where, params, query, cql.POSTGIS_RECORDS)
    sql_where = " AND ".join(where)
    total = conn.execute(f"SELECT count(*) FROM records WHERE {sql_where}", params).fetchone()[0]
    geometry = "ST_AsBinary(geom)" if query.geometry else "NULL"
    rows = conn.execute(
        f"SELECT id, properties, {geometry}, commune_code, province_code, synthetic, "
        "version, source_file, source_row, imported_at FROM records "
        f"WHERE {sql_where} ORDER BY {order} LIMIT %s OFFSET %s",
        [*params, query.limit, query.offset]).fetchall()
    features = []
    for rid, props, wkb, *provenance in rows:
        *provenance, at = provenance
        properties = output_properties(props, [*provenance, at.isoformat(timespec="seconds")])
        features.append((rid, properties, shapely.from_wkb(bytes(wkb)) if wkb else None))
    return FeaturePage(features, total)
