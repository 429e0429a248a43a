"""The production store: PostgreSQL with PostGIS.

Geometry lives in a `geometry(Geometry, 4326)` column with a GiST index; bbox queries use
`&&` on the index and `ST_Intersects` for the exact test, in the database. The schema is
created and upgraded with Alembic on start. A `schema` query parameter in the URL
(`postgresql://host/db?schema=name`) keeps the tables in their own schema — how the tests
isolate themselves, and how several deployments can share one database.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterable
from importlib import resources
from urllib.parse import parse_qsl, urlencode, urlparse, urlunparse

import psycopg
import shapely

from geoservice.errors import ConfigError, DataConflict, StoreUnavailable
from geoservice.store import (
    FeaturePage,
    FeatureQuery,
    FeatureRow,
    Store,
    cql,
    postgis_records,
    postgis_tiles,
)
from geoservice.store.postgis_boundaries import PostgisBoundaries
from geoservice.store.postgis_prepared import PostgisPrepared
from geoservice.store.postgis_security import PostgisSecurity
from geoservice.store.records import ImportBatch, ImportOutcome, RecordQuery, apply_records

LOGGER = logging.getLogger(__name__)
SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def split_url(url: str) -> tuple[str, str | None]:
    """Return the connection URL without our `schema` parameter, and that schema."""
    parsed = urlparse(url)
    params = dict(parse_qsl(parsed.query))
    schema = params.pop("schema", None)
    if schema is not None and not SCHEMA_NAME.match(schema):
        raise ConfigError(f"invalid schema name {schema!r} in the database URL")
    scheme = "postgresql"  # also for postgis:// and postgresql+psycopg://
    return urlunparse(parsed._replace(scheme=scheme, query=urlencode(params))), schema


class PostgisStore(PostgisBoundaries, PostgisPrepared, PostgisSecurity, Store):
    """PostGIS backend; one connection per thread (reopened when the server dropped it)."""

    def __init__(self, url: str):
        self.url, self.schema = split_url(url)
        self._local = threading.local()
        self._years: dict[str, tuple[str, list[int]]] = {}
        self.migrate()

    def _connect(self) -> psycopg.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is not None and (conn.closed or conn.broken):
            self.close()
            conn = None
        if conn is None:
            try:
                conn = psycopg.connect(self.url, autocommit=True, connect_timeout=10)
            except psycopg.OperationalError as exc:
                raise StoreUnavailable("the PostGIS database cannot be reached",
                                       detail=str(exc)) from exc
            if self.schema:
                conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
                conn.execute(f'SET search_path TO "{self.schema}", public')
            self._local.conn = conn
        return conn

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        from alembic import command
        from alembic.config import Config
        from sqlalchemy import create_engine

        conn = self._connect()
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        engine = create_engine(self.url.replace("postgresql://", "postgresql+psycopg://", 1))
        config = Config()
        config.set_main_option("script_location",
                               str(resources.files("geoservice.store") / "migrations"))
        with engine.begin() as connection:
            if self.schema:
                connection.exec_driver_sql(f'SET search_path TO "{self.schema}", public')
            config.attributes["connection"] = connection
            config.attributes["schema"] = self.schema
            command.upgrade(config, "head")
        engine.dispose()

    def replace_collection(self, collection: str, rows: Iterable[FeatureRow]) -> int:
        """Replace a collection's features in one transaction."""
        conn = self._connect()
        try:
            return self._replace(conn, collection, rows)
        except psycopg.errors.UniqueViolation as exc:
            raise DataConflict(f"collection {collection!r} was given a duplicate id",
                               detail=str(exc)) from exc

    def _replace(self, conn, collection: str, rows: Iterable[FeatureRow]) -> int:
        count = 0
        with conn.transaction():
            conn.execute("DELETE FROM features WHERE collection = %s", (collection,))
            with conn.cursor().copy(
                "COPY features (collection, id, province_code, neighbors, search, properties, "
                "geom) FROM STDIN"
            ) as copy:
                for row in rows:
                    ewkb = (shapely.to_wkb(shapely.set_srid(row.geometry, 4326), hex=True,
                                           include_srid=True)
                            if row.geometry is not None else None)
                    copy.write_row((
                        collection, row.id, row.province_code, list(row.neighbors),
                        " " + row.search + " ", json.dumps(row.properties, ensure_ascii=False),
                        ewkb,
                    ))
                    count += 1
        return count

    def _where(self, collection: str, query: FeatureQuery):
        where, params = ["collection = %s"], [collection]
        if query.province_code:
            where.append("province_code = %s")
            params.append(query.province_code)
        if query.border_neighbor:
            where.append("%s = ANY(neighbors)")
            params.append(query.border_neighbor)
        if query.q:
            where.append("search LIKE %s")
            params.append(f"% {query.q}%")
        if query.bbox is not None:
            where.append("geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326) AND "
                         "ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))")
            params += [*query.bbox, *query.bbox]
        order = cql.apply(where, params, query, cql.POSTGIS_FEATURES)
        return " AND ".join(where), params, order

    def query(self, collection: str, query: FeatureQuery) -> FeaturePage:
        """Return one page of features, ordered by `sortby`, then id."""
        where, params, order = self._where(collection, query)
        conn = self._connect()
        total = conn.execute(f"SELECT count(*) FROM features WHERE {where}", params).fetchone()[0]
        geometry = "ST_AsBinary(geom)" if query.geometry else "NULL"
        rows = conn.execute(
            f"SELECT id, properties, {geometry} FROM features WHERE {where} "
            f"ORDER BY {order} LIMIT %s OFFSET %s", [*params, query.limit, query.offset],
        ).fetchall()
        return FeaturePage([_decode(r) for r in rows], total)

    def get(self, collection: str, feature_id: str):
        """Return one feature, or None."""
        row = self._connect().execute(
            "SELECT id, properties, ST_AsBinary(geom) FROM features "
            "WHERE collection = %s AND id = %s", (collection, feature_id),
        ).fetchone()
        return _decode(row) if row else None

    def extent(self, collection: str):
        """Return the number of features and their bounding box."""
        row = self._connect().execute(
            "SELECT n, ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
            "(SELECT count(*) AS n, ST_Extent(geom)::box3d AS e FROM features "
            "WHERE collection = %s) s", (collection,),
        ).fetchone()
        if not row:
            return 0, None
        count, *bounds = row
        return count, (tuple(bounds) if bounds[0] is not None else None)

    def apply_records(self, records: list, batch: ImportBatch, progress=None) -> ImportOutcome:
        """Apply one import's records in one transaction (all or nothing)."""
        conn = self._connect()
        with conn.transaction():
            conn.execute("LOCK TABLE records IN SHARE ROW EXCLUSIVE MODE")
            return apply_records(postgis_records.PostgisRecordTx(conn), records, batch,
                                 progress)

    def query_records(self, kind: str, query: RecordQuery) -> FeaturePage:
        """Return one page of a kind's records."""
        return postgis_records.query_records(self._connect(), kind, query)

    def record_history(self, kind: str, record_id: str) -> list[dict]:
        """Return every version of a record, oldest first."""
        rows = self._connect().execute(
            "SELECT version, action, properties, import_id, changed_by, changed_at "
            "FROM record_history WHERE kind = %s AND id = %s ORDER BY version",
            (kind, record_id)).fetchall()
        return [{"version": v, "action": a, "properties": p, "import_id": i,
                 "changed_by": by, "changed_at": at.isoformat(timespec="seconds")}
                for v, a, p, i, by, at in rows]

    def imports(self, kind: str | None = None) -> list[dict]:
        """Return the imports made, newest first."""
        sql = "SELECT * FROM imports" + (" WHERE kind = %s" if kind else "")
        cursor = self._connect().execute(sql + " ORDER BY imported_at DESC, seq DESC",
                                         (kind,) if kind else ())
        names = [d.name for d in cursor.description]
        rows = [dict(zip(names, row)) for row in cursor.fetchall()]
        for row in rows:
            row.pop("seq", None)
            row["imported_at"] = row["imported_at"].isoformat(timespec="seconds")
        return rows

    def record_years(self, kind: str) -> list[int]:
        """Return the years a kind has records for, ascending (kept per data version: every
        indicator page and report asks, and the scan reads the whole kind)."""
        version = self.data_version()
        kept = self._years.get(kind)
        if kept is None or kept[0] != version:
            rows = self._connect().execute(
                "SELECT DISTINCT year FROM records WHERE kind = %s AND year IS NOT NULL "
                "ORDER BY year", (kind,)).fetchall()
            kept = self._years[kind] = (version, [int(row[0]) for row in rows])
        return list(kept[1])

    def database_mvt(self, layer, z: int, x: int, y: int, area: str | None) -> bytes | None:
        """Tile z/x/y of `layer` made by PostGIS (`postgis_tiles`), or None where our encoder
        makes it (below `mvt_min_zoom`, or a layer joined or rebuilt in Python)."""
        if z < self.mvt_min_zoom or not postgis_tiles.can_tile(layer):
            return None
        try:
            return postgis_tiles.mvt(self._connect(), layer, z, x, y, area)
        except psycopg.OperationalError as exc:
            raise StoreUnavailable("the PostGIS database cannot be reached",
                                   detail=str(exc)) from exc

    def data_version(self) -> str:
        """Return a token that changes whenever boundaries or records change."""
        count, latest, loaded = self._connect().execute(
            "SELECT count(*), max(imported_at), "
            "(SELECT value FROM meta WHERE key = 'boundaries_loaded_at') FROM imports "
            "WHERE inserted + updated > 0").fetchone()
        stamp = latest.isoformat() if latest is not None else ""
        return f"{loaded}|{count}|{stamp}"

    def add_api_key(self, key: dict) -> None:
        """Store a new API key."""
        self._connect().execute(
            "INSERT INTO api_keys (id, name, secret_hash, role, province_code, layers, "
            "created_by, created_at) VALUES (%(id)s, %(name)s, %(secret_hash)s, %(role)s, "
            "%(province_code)s, %(layers)s, %(created_by)s, %(created_at)s)",
            {**key, "layers": None if key.get("layers") is None else list(key["layers"])})

    def api_keys(self, key_id: str | None = None) -> list[dict]:
        """Return the API keys (or the one with this id), oldest first."""
        cursor = self._connect().execute(
            "SELECT * FROM api_keys" + (" WHERE id = %s" if key_id else "")
            + " ORDER BY created_at, id", (key_id,) if key_id else ())
        names = [d.name for d in cursor.description]
        rows = [dict(zip(names, row)) for row in cursor.fetchall()]
        for row in rows:
            for stamp in ("created_at", "revoked_at"):
                if row[stamp] is not None:
                    row[stamp] = row[stamp].isoformat(timespec="seconds")
        return rows

    def revoke_api_key(self, key_id: str) -> bool:
        """Mark a key revoked."""
        cursor = self._connect().execute(
            "UPDATE api_keys SET revoked_at = now() WHERE id = %s AND revoked_at IS NULL",
            (key_id,))
        return cursor.rowcount == 1

    def set_meta(self, key: str, value: str) -> None:
        """Record a piece of metadata."""
        self._connect().execute(
            "INSERT INTO meta (key, value) VALUES (%s, %s) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))

    def get_meta(self, key: str) -> str | None:
        """Return a piece of metadata, or None."""
        row = self._connect().execute("SELECT value FROM meta WHERE key = %s",
                                      (key,)).fetchone()
        return row[0] if row else None

    def close(self) -> None:
        """Close this thread's connection."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


def _decode(row) -> tuple[str, dict, object]:
    fid, properties, wkb = row
    return fid, properties, shapely.from_wkb(bytes(wkb)) if wkb is not None else None
