"""Our MVT beside TiPg and the raw ST_AsMVT SQL, on the same PostGIS table, in one run.

The national instance is loaded into a PostGIS database (schema ``bench``; created when
missing, reloaded when its data is older than the instance's), our service is started on it
(PostGIS backend, tile cache off: once as configured by default, tiles made by the database
from zoom 10, and once with the database making every tile), TiPg is started from its own
venv on a view of the same rows (``bench.communes``: the communes of our features table
with the columns our communes layer publishes), and the same boundary tiles are timed
through all of them.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from pathlib import Path

from bench import measure
from bench.measure import percentiles
from bench.places import zoom_group

ROOT = Path(__file__).resolve().parents[1]
TIPG = ROOT / "bench" / ".venv-tipg" / "bin" / "uvicorn"
FIELDS = ["code", "name", "full_name", "name_ascii", "unit_type", "province_code",
          "province_name", "border_neighbors", "border_band", "distance_to_border_km"]
VIEW = f"""
CREATE OR REPLACE VIEW bench.communes AS
SELECT id AS code, {", ".join(f"properties->>'{f}' AS {f}" for f in FIELDS[1:])}, geom
FROM bench.features WHERE collection = 'communes'
"""
RAW_SQL = """
WITH bounds AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env),
mvtgeom AS (
  SELECT ST_AsMVTGeom(ST_Transform(c.geom, 3857), bounds.env, 4096, 64, true) AS geom,
         {fields}
  FROM bench.communes c, bounds
  WHERE c.geom && ST_Transform(bounds.env, 4326))
SELECT ST_AsMVT(mvtgeom.*, 'communes') FROM mvtgeom WHERE geom IS NOT NULL
""".format(fields=", ".join(FIELDS))


def compare(instance: Path, database: str, tiles: list) -> dict:
    """Time the communes tiles z 7–14 (the layer's zooms) through us, TiPg and raw SQL."""
    import psycopg

    tiles = [t for t in tiles if 7 <= t[0] <= 14]
    ensure_database(database)
    url = f"{database}?schema=bench"
    _load(instance, url)
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(VIEW)
        raw = _time_sql(conn, tiles)
    paths = [f"/tiles/communes/{z}/{x}/{y}.mvt" for z, x, y in tiles]
    with measure.server(instance, tile_cache="none", port=5073, database_url=url) as base:
        ours = _time_http(base, paths, tiles)  # database tiles from DATABASE_MVT_MIN_ZOOM
    with measure.server(instance, tile_cache="none", port=5074, database_url=url,
                        DATABASE_MVT_MIN_ZOOM=0) as base:
        database_only = _time_http(base, paths, tiles)  # ST_AsMVT at every zoom
    with _tipg(database) as base:
        theirs = _time_http(base, [f"/collections/bench.communes/tiles/WebMercatorQuad/"
                                   f"{z}/{x}/{y}" for z, x, y in tiles], tiles)
    out = {"ours_postgis": ours, "ours_database_only": database_only, "tipg": theirs,
           "raw_sql": raw, "ratios": {}}
    for group in ours:
        if group in theirs and group in raw:
            out["ratios"][group] = {
                "ours/tipg": round(ours[group]["p50"] / theirs[group]["p50"], 2),
                "ours/sql": round(ours[group]["p50"] / raw[group]["p50"], 2)}
    return out


def ensure_database(database: str) -> None:
    """Create the database (on a fresh machine it is not there yet) and PostGIS in it."""
    import psycopg

    admin = database.rsplit("/", 1)[0] + "/postgres"
    name = database.rsplit("/", 1)[1]
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")


def _load(instance: Path, url: str) -> None:
    """Load the instance's boundaries and demo data into the bench schema (once)."""
    env = {**os.environ, "GEOSERVICE_INSTANCE_PATH": str(instance),
           "GEOSERVICE_DATABASE_URL": url}
    geoservice = str(measure.BIN / "geoservice")
    subprocess.run([geoservice, "build-data", "--if-missing"], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run([geoservice, "demo-data", "--if-empty"], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _time_sql(conn, tiles) -> dict:
    samples: dict = {}
    for z, x, y in tiles[:3]:  # warm the plan and the buffers
        conn.execute(RAW_SQL, {"z": z, "x": x, "y": y}).fetchone()
    for z, x, y in tiles:
        start = time.perf_counter()
        conn.execute(RAW_SQL, {"z": z, "x": x, "y": y}).fetchone()
        samples.setdefault(zoom_group(z), []).append(time.perf_counter() - start)
    return {group: percentiles(times) for group, times in samples.items()}


def _time_http(base: str, paths: list[str], tiles) -> dict:
    conn = measure._client(base)
    for path in paths[:3] + paths[-3:]:
        measure.timed_get(conn, path, {})
    samples: dict = {}
    for path, (z, _x, _y) in zip(paths, tiles):
        seconds, status, _size = measure.timed_get(conn, path, {})
        if status >= 400:
            raise RuntimeError(f"{base}{path} answered {status}")
        samples.setdefault(zoom_group(z), []).append(seconds)
    return {group: percentiles(times) for group, times in samples.items()}


@contextlib.contextmanager
def _tipg(database: str, port: int = 8081):
    env = {**os.environ, "DATABASE_URL": database, "TIPG_DB_SCHEMAS": '["bench"]',
           "TIPG_MAX_FEATURES_PER_TILE": "20000"}
    with measure.running([str(TIPG), "tipg.main:app", "--host", "127.0.0.1", "--port",
                          str(port), "--workers", str(os.cpu_count() or 2)], env, port,
                         "/collections") as base:
        yield base
