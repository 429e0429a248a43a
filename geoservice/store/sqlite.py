"""The embedded store: one SQLite file in the instance folder, nothing to install or start.

Geometry is kept as WKB with its bounding box in an R*Tree index; exact spatial tests are
done with shapely on the few candidates whose box straddles the query's edge.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import shapely

from geoservice.errors import DataConflict, StoreUnavailable
from geoservice.store import (
    FeaturePage,
    FeatureQuery,
    FeatureRow,
    Store,
    cql,
    sqlite_records,
)
from geoservice.store.records import (
    ImportBatch,
    ImportOutcome,
    RecordQuery,
    apply_records,
    utc_now,
)
from geoservice.store.sqlite_boundaries import SqliteBoundaries
from geoservice.store.sqlite_prepared import SqlitePrepared
from geoservice.store.sqlite_security import SqliteSecurity, migrate

LOGGER = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS features (
    collection TEXT NOT NULL,
    id TEXT NOT NULL,
    province_code TEXT,
    neighbors TEXT NOT NULL DEFAULT ',',
    search TEXT NOT NULL DEFAULT '',
    properties TEXT NOT NULL,
    geometry BLOB,
    PRIMARY KEY (collection, id)
);
CREATE INDEX IF NOT EXISTS features_province ON features (collection, province_code);
CREATE VIRTUAL TABLE IF NOT EXISTS features_rtree USING rtree(rid, minx, maxx, miny, maxy);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    province_code TEXT,
    created_by TEXT,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
"""


class SqliteStore(SqliteBoundaries, SqlitePrepared, SqliteSecurity, Store):
    """SQLite backend; one connection per thread.

    The file is created (with its schema) when the store is created; afterwards it is only
    opened, never created again, so a database file that disappears makes requests fail
    with StoreUnavailable (503) instead of silently starting an empty database, and serving
    resumes as soon as the file is back. A connection is reopened when the file it was
    opened on is no longer the one at the path.
    """

    def __init__(self, url: str):
        parsed = urlparse(url)
        self.path = Path(parsed.path if not parsed.netloc else parsed.netloc + parsed.path)
        self.path = self.path.resolve()
        self._local = threading.local()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        sqlite3.connect(self.path).close()  # create the file when it is not there yet
        conn = self._connect()
        with conn:
            conn.executescript(SCHEMA)
            conn.executescript(sqlite_records.RECORDS_SCHEMA)
        migrate(conn)

    def _connect(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        try:
            identity = os.stat(self.path).st_ino
        except OSError as exc:
            self.close()
            raise StoreUnavailable("the embedded database file is missing",
                                   detail=f"{self.path}: {exc}") from exc
        if conn is not None and getattr(self._local, "identity", None) != identity:
            self.close()
            conn = None
        if conn is None:
            try:
                conn = sqlite3.connect(f"{self.path.as_uri()}?mode=rw", uri=True, timeout=30)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.create_function("geo_intersects", 2, geo_intersects, deterministic=True)
            except sqlite3.Error as exc:
                raise StoreUnavailable("the embedded database cannot be opened",
                                       detail=str(exc)) from exc
            self._local.conn, self._local.identity = conn, identity
        return conn

    def replace_collection(self, collection: str, rows: Iterable[FeatureRow]) -> int:
        """Replace a collection's features in one transaction."""
        try:
            return self._replace(self._connect(), collection, rows)
        except sqlite3.IntegrityError as exc:
            raise DataConflict(f"collection {collection!r} was given a duplicate id",
                               detail=str(exc)) from exc

    def _replace(self, conn, collection: str, rows: Iterable[FeatureRow]) -> int:
        count = 0
        with conn:
            conn.execute(
                "DELETE FROM features_rtree WHERE rid IN "
                "(SELECT rowid FROM features WHERE collection = ?)", (collection,))
            conn.execute("DELETE FROM features WHERE collection = ?", (collection,))
            for row in rows:
                wkb = shapely.to_wkb(row.geometry) if row.geometry is not None else None
                cursor = conn.execute(
                    "INSERT INTO features (collection, id, province_code, neighbors, search, "
                    "properties, geometry) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (collection, row.id, row.province_code, "," + ",".join(row.neighbors) + ",",
                     " " + row.search + " ", json.dumps(row.properties, ensure_ascii=False), wkb),
                )
                if row.geometry is not None and not row.geometry.is_empty:
                    minx, miny, maxx, maxy = row.geometry.bounds
                    conn.execute("INSERT INTO features_rtree VALUES (?, ?, ?, ?, ?)",
                                 (cursor.lastrowid, minx, maxx, miny, maxy))
                count += 1
        return count

    def query(self, collection: str, query: FeatureQuery) -> FeaturePage:
        """Return one page of features, ordered by `sortby`, then id."""
        where, params = ["f.collection = ?"], [collection]
        if query.province_code:
            where.append("f.province_code = ?")
            params.append(query.province_code)
        if query.border_neighbor:
            where.append("f.neighbors LIKE ?")
            params.append(f"%,{query.border_neighbor},%")
        if query.q:
            where.append("f.search LIKE ?")
            params.append(f"% {query.q}%")
        conn = self._connect()
        order = "f.id"
        if query.filter is not None or query.sortby:
            order = with_filter(where, params, query, cql.SQLITE_FEATURES)
        if query.bbox is None or order != "f.id" or query.filter is not None:
            sql_where = " AND ".join(where)
            total = conn.execute(f"SELECT count(*) FROM features f WHERE {sql_where}",
                                 params).fetchone()[0]
            geometry = "f.geometry" if query.geometry else "NULL"
            rows = conn.execute(
                f"SELECT f.id, f.properties, {geometry} FROM features f WHERE {sql_where} "
                f"ORDER BY {order} LIMIT ? OFFSET ?", [*params, query.limit, query.offset],
            ).fetchall()
            return FeaturePage([_decode(r) for r in rows], total)
        ids = ids_in_bbox(conn, "features", "collection", where, params, query.bbox)
        page_ids = ids[query.offset : query.offset + query.limit]
        return FeaturePage(self._fetch(conn, collection, page_ids), len(ids))

    def _fetch(self, conn, collection: str, ids: list[str]) -> list:
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        rows = conn.execute(
            f"SELECT id, properties, geometry FROM features WHERE collection = ? "
            f"AND id IN ({marks}) ORDER BY id", [collection, *ids],
        ).fetchall()
        return [_decode(r) for r in rows]

    def get(self, collection: str, feature_id: str):
        """Return one feature, or None."""
        row = self._connect().execute(
            "SELECT id, properties, geometry FROM features WHERE collection = ? AND id = ?",
            (collection, feature_id),
        ).fetchone()
        return _decode(row) if row else None

    def extent(self, collection: str):
        """Return the number of features and their bounding box."""
        row = self._connect().execute(
            "SELECT count(*), min(r.minx), min(r.miny), max(r.maxx), max(r.maxy) "
            "FROM features f LEFT JOIN features_rtree r ON r.rid = f.rowid "
            "WHERE f.collection = ?", (collection,),
        ).fetchone()
        count, *bounds = row
        return count, (tuple(bounds) if count and bounds[0] is not None else None)

    def apply_records(self, records: list, batch: ImportBatch, progress=None) -> ImportOutcome:
        """Apply one import's records in one transaction (all or nothing)."""
        conn = self._connect()
        conn.execute("BEGIN IMMEDIATE")
        try:
            outcome = apply_records(sqlite_records.SqliteRecordTx(conn), records, batch, progress)
        except BaseException:
            conn.rollback()
            raise
        conn.commit()
        return outcome

    def query_records(self, kind: str, query: RecordQuery) -> FeaturePage:
        """Return one page of a kind's records."""
        return sqlite_records.query_records(self._connect(), kind, query, ids_in_bbox,
                                            with_filter)

    def record_history(self, kind: str, record_id: str) -> list[dict]:
        """Return every version of a record, oldest first."""
        rows = self._connect().execute(
            "SELECT version, action, properties, import_id, changed_by, changed_at "
            "FROM record_history WHERE kind = ? AND id = ? ORDER BY version",
            (kind, record_id)).fetchall()
        return [{"version": v, "action": a, "properties": json.loads(p), "import_id": i,
                 "changed_by": by, "changed_at": at} for v, a, p, i, by, at in rows]

    def imports(self, kind: str | None = None) -> list[dict]:
        """Return the imports made, newest first."""
        sql = "SELECT * FROM imports" + (" WHERE kind = ?" if kind else "")
        cursor = self._connect().execute(sql + " ORDER BY imported_at DESC, rowid DESC",
                                         (kind,) if kind else ())
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]

    def record_years(self, kind: str) -> list[int]:
        """Return the years a kind has records for, ascending (kept until the data
        changes: every indicator page and report asks, and the scan reads the whole kind)."""
        def read(conn) -> list[int]:
            rows = conn.execute(
                "SELECT DISTINCT year FROM records WHERE kind = ? AND year IS NOT NULL "
                "ORDER BY year", (kind,)).fetchall()
            return [int(row[0]) for row in rows]

        return list(self._while_unchanged(f"record years {kind}", read))

    def data_version(self) -> str:
        """Return a token that changes whenever boundaries or records change."""
        def read(conn) -> str:
            count, latest, loaded = conn.execute(
                "SELECT count(*), coalesce(max(imported_at), ''), "
                "(SELECT value FROM meta WHERE key = 'boundaries_loaded_at') FROM imports "
                "WHERE inserted + updated > 0").fetchone()
            return f"{loaded}|{count}|{latest}"

        return self._while_unchanged("data_version", read)

    def _while_unchanged(self, name: str, read):
        """Return `read(conn)`, kept per connection until the database changes.

        For what every request asks (the data version, an API key): SQLite's
        `PRAGMA data_version` counts the commits of other connections and processes,
        `total_changes` this connection's own, so a change anywhere is seen at once."""
        conn = self._connect()
        changes = (id(conn), conn.execute("PRAGMA data_version").fetchone()[0],
                   conn.total_changes)
        kept = getattr(self._local, "kept", None)
        if kept is None or kept["changes"] != changes or len(kept) > 1000:
            kept = self._local.kept = {"changes": changes, "conn": conn}
        if name not in kept:
            kept[name] = read(conn)
        return kept[name]

    def add_api_key(self, key: dict) -> None:
        """Store a new API key."""
        conn = self._connect()
        with conn:
            conn.execute(
                "INSERT INTO api_keys (id, name, secret_hash, role, province_code, layers, "
                "created_by, created_at) VALUES (:id, :name, :secret_hash, :role, "
                ":province_code, :layers, :created_by, :created_at)",
                {**key, "layers": None if key.get("layers") is None
                 else json.dumps(list(key["layers"]))})

    def api_keys(self, key_id: str | None = None) -> list[dict]:
        """Return the API keys (or the one with this id), oldest first."""
        def read(conn) -> list[dict]:
            cursor = conn.execute(
                "SELECT * FROM api_keys" + (" WHERE id = ?" if key_id else "")
                + " ORDER BY created_at, id", (key_id,) if key_id else ())
            names = [d[0] for d in cursor.description]
            rows = [dict(zip(names, row)) for row in cursor.fetchall()]
            for row in rows:
                row["layers"] = None if row["layers"] is None else json.loads(row["layers"])
            return rows

        if key_id is None:
            return read(self._connect())
        return [dict(row) for row in self._while_unchanged(f"api_key {key_id}", read)]

    def revoke_api_key(self, key_id: str) -> bool:
        """Mark a key revoked."""
        conn = self._connect()
        with conn:
            cursor = conn.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                (utc_now(), key_id))
        return cursor.rowcount == 1

    def set_meta(self, key: str, value: str) -> None:
        """Record a piece of metadata."""
        conn = self._connect()
        with conn:
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def get_meta(self, key: str) -> str | None:
        """Return a piece of metadata, or None."""
        row = self._connect().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def close(self) -> None:
        """Close this thread's connection."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


def with_filter(where: list, params: list, query, dialect) -> str:
    """Add `query`'s filter (and its bbox, as an exact condition) to `where`; return the
    ORDER BY of its `sortby`."""
    types = query.filter.types if query.filter is not None else {}
    condition = query.filter.condition if query.filter is not None else None
    if query.bbox is not None:
        box = shapely.box(*query.bbox)
        bbox = ("intersects", shapely.to_wkb(box), query.bbox)
        condition = bbox if condition is None else ("and", bbox, condition)
    if condition is not None:
        sql, values = cql.where_sql(condition, dialect, types)
        where.append(sql)
        params += values
    return cql.order_by(query.sortby, dialect, types)


@functools.lru_cache(maxsize=64)
def _shape(wkb: bytes):
    shape = shapely.from_wkb(wkb)
    shapely.prepare(shape)
    return shape


def geo_intersects(geometry: bytes | None, other: bytes) -> int:
    """SQL function geo_intersects(feature WKB, query WKB): GEOS's exact test."""
    if geometry is None:
        return 0
    return int(shapely.intersects(_shape(other), shapely.from_wkb(geometry)))


def ids_in_bbox(conn, table: str, group: str, where, params, bbox) -> list[str]:
    """Return ids (ordered) of `table` rows matching `where` whose geometry meets the bbox.

    The R*Tree answers by box; rows whose box straddles the query's edge are tested exactly
    with shapely. `params[0]` is the value of the `group` column (collection or kind).
    The R*Tree is read first (CROSS JOIN fixes SQLite's join order): left to itself SQLite
    walks every row of the kind in id order and probes the tree for each (a bbox page of
    incidents: 128 -> 24 ms).
    """
    minx, miny, maxx, maxy = bbox
    sql = (
        "SELECT f.id, (r.minx >= ? AND r.maxx <= ? AND r.miny >= ? AND r.maxy <= ?) "
        f"AS inside FROM {table}_rtree r CROSS JOIN {table} f ON f.rowid = r.rid "
        "WHERE r.minx <= ? AND r.maxx >= ? AND r.miny <= ? AND r.maxy >= ? AND "
        + " AND ".join(where) + " ORDER BY f.id"
    )
    rows = conn.execute(sql, [minx, maxx, miny, maxy, maxx, minx, maxy, miny, *params])
    rows = rows.fetchall()
    straddling = [fid for fid, inside in rows if not inside]
    keep = set(fid for fid, inside in rows if inside)
    if straddling:
        box = shapely.box(*bbox)
        shapely.prepare(box)
        for chunk_start in range(0, len(straddling), 500):
            chunk = straddling[chunk_start : chunk_start + 500]
            marks = ",".join("?" * len(chunk))
            found = conn.execute(
                f"SELECT id, geometry FROM {table} WHERE {group} = ? AND id IN ({marks})",
                [params[0], *chunk],
            ).fetchall()
            geoms = shapely.from_wkb([g for _, g in found])
            hits = shapely.intersects(box, geoms)
            keep.update(fid for (fid, _), hit in zip(found, np.atleast_1d(hits)) if hit)
    return [fid for fid, _ in rows if fid in keep]


def _decode(row) -> tuple[str, dict, object]:
    fid, properties, wkb = row
    return fid, json.loads(properties), shapely.from_wkb(wkb) if wkb is not None else None
