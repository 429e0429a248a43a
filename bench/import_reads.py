"""Reads during an import (issue 20, item 5): does an official's 30,000-row upload make the
others wait?

:func:`run` (called by bench/run.py) serves a private copy of the instance with gunicorn
(as `make serve-prod`), on the embedded SQLite store and on PostGIS (a fresh schema of the
`postgis` database, loaded from the instance's boundaries.gpkg), and on each:

1. `READERS` readers ask without pause, each on its own keep-alive connection, for what
   the map and the feature API ask for in the provinces imported into: feature pages of
   communes and of incidents (a national viewer's key: the incidents table is the one
   being written), cached boundary and choropleth tiles;
2. after `WARM_S` seconds a national editor uploads a CSV of `ROWS` new incidents
   (`POST /imports/incidents`, as the import page does) and the readers go on until
   `AFTER_S` seconds after its answer.

Reported per backend: p50/p99/max read latency and reads per second before the import and
while it runs (reads started between the upload and its answer), the import's seconds
and status, and read errors. Target: p99 during the import ≤ 0.5 s. By hand:

    .venv/bin/python -m bench.import_reads --instance instance \\
        --postgis postgresql://postgres@127.0.0.1:5432/geoservice_bench
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import http.client
import json
import os
import re
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

from bench import measure
from bench.places import PLACES, tile_of

ROWS = 30_000
READERS = 4
WARM_S = 8
AFTER_S = 3
TARGET_P99_S = 0.5
PROVINCES = ("08", "11")  # Tuyên Quang (with the former Hà Giang) and Điện Biên
PLACES_READ = ("Lũng Cú (CN border)", "Điện Biên Phủ (LA border)")


def read_paths() -> list[str]:
    """What the readers ask for, in turn (every reader starts elsewhere in the list)."""
    paths = []
    for place in PLACES_READ:
        lon, lat = PLACES[place]
        bbox = f"{lon - 0.3:.3f},{lat - 0.3:.3f},{lon + 0.3:.3f},{lat + 0.3:.3f}"
        paths += [f"/collections/communes/items?limit=100&bbox={bbox}",
                  f"/collections/incidents/items?limit=100&bbox={bbox}"]
        for layer, z in (("provinces", 6), ("communes", 9), ("certification-rate", 8),
                         ("border-communes", 10)):
            x, y = tile_of(lon, lat, z)
            paths.append(f"/tiles/{layer}/{z}/{x}/{y}.mvt")
    return paths


def key(instance: Path, database_url: str, role: str) -> str:
    """A national key of `role` in the instance's store."""
    out = subprocess.run([str(measure.BIN / "geoservice"), "keys", "create",
                          f"import-reads-{role}", "--role", role, "--area", "national"],
                         env={**os.environ, "GEOSERVICE_INSTANCE_PATH": str(instance),
                              "GEOSERVICE_DATABASE_URL": database_url},
                         capture_output=True, text=True, check=True).stdout
    return re.search(r"gsk_[\w.-]+", out).group(0)


def _get(conn, path: str, headers: dict) -> tuple[int, bytes]:
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


def communes(base: str, viewer: str) -> list[tuple[str, float, float]]:
    """(code, lon, lat) of an inner point of every commune of PROVINCES."""
    import shapely.geometry

    conn, out = measure._client(base), []
    for province in PROVINCES:
        status, body = _get(conn, f"/collections/communes/items?limit=1000"
                            f"&province_code={province}", {"X-API-Key": viewer})
        if status != 200:
            raise RuntimeError(f"communes of {province}: HTTP {status}")
        for feature in json.loads(body)["features"]:
            point = shapely.geometry.shape(feature["geometry"]).representative_point()
            out.append((feature["id"], round(point.x, 6), round(point.y, 6)))
    return out


def incidents_csv(units: list[tuple[str, float, float]], rows: int) -> str:
    """`rows` new incidents spread over `units` (new references every run)."""
    run = uuid.uuid4().hex[:8]
    lines = ["ref,date,category,lon,lat,severity,commune_code"]
    start = datetime.date(2025, 1, 1)
    for i in range(rows):
        code, lon, lat = units[i % len(units)]
        day = start + datetime.timedelta(days=i % 300)
        lines.append(f"IR-{run}-{i},{day.isoformat()},drugs,{lon},{lat},medium,{code}")
    return "\n".join(lines) + "\n"


def upload(base: str, editor: str, text: str) -> tuple[float, int, str]:
    """POST the CSV as the import page does: (seconds, status, answer's start)."""
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"vu-viec.csv\"\r\nContent-Type: text/csv\r\n\r\n{text}\r\n"
            f"--{boundary}--\r\n").encode()
    conn = measure._client(base)
    conn.timeout = 900
    started = time.perf_counter()
    conn.request("POST", "/imports/incidents", body=body, headers={
        "X-API-Key": editor, "Content-Type": f"multipart/form-data; boundary={boundary}"})
    response = conn.getresponse()
    answer = response.read()
    return time.perf_counter() - started, response.status, answer[:300].decode(
        errors="replace")


class Readers:
    """Threads reading without pause; every read as (start, seconds, status, path)."""

    def __init__(self, base: str, viewer: str, count: int = READERS):
        self.base, self.headers, self.count = base, {"X-API-Key": viewer}, count
        self.samples: list[tuple[float, float, int, str]] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._read, args=(i,), daemon=True)
                         for i in range(count)]

    def _read(self, number: int) -> None:
        paths = read_paths()
        conn, i = measure._client(self.base), number * 3
        while not self._stop.is_set():
            path = paths[i % len(paths)]
            i += 1
            started = time.perf_counter()
            try:
                status, _body = _get(conn, path, self.headers)
            except (OSError, http.client.HTTPException):
                status = 0
                conn.close()
                conn = measure._client(self.base)
            with self._lock:
                self.samples.append((started, time.perf_counter() - started, status, path))

    def __enter__(self) -> Readers:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(120)

    def between(self, start: float, end: float) -> dict:
        """p50/p99/max (ms), reads per second, errors and the slowest reads (ms, path) of
        reads started in [start, end)."""
        chosen = [(t, s, p) for begun, t, s, p in self.samples if start <= begun < end]
        stats = measure.percentiles([t for t, _s, _p in chosen])
        if chosen:
            stats["max"] = round(max(t for t, _s, _p in chosen) * 1000, 1)
        slowest = sorted(chosen, reverse=True)[:3]
        return {**stats, "reads_per_s": round(len(chosen) / max(end - start, 1e-9), 1),
                "errors": sum(not 200 <= s < 300 for _t, s, _p in chosen),
                "slowest": [[round(t * 1000), p] for t, _s, p in slowest]}


def scenario(instance: Path, database_url: str, port: int, rows: int = ROWS) -> dict:
    """Reads before and during one import of `rows` incidents on one backend."""
    viewer, editor = key(instance, database_url, "viewer"), key(instance, database_url,
                                                                "editor")
    with measure.server(instance, tile_cache="", port=port, database_url=database_url) as base:
        text = incidents_csv(communes(base, viewer), rows)
        warm = measure._client(base)
        for path in read_paths():  # every tile drawn and cached, every layer prepared
            _get(warm, path, {"X-API-Key": viewer})
        with Readers(base, viewer) as readers:
            time.sleep(WARM_S)
            began = time.perf_counter()
            seconds, status, answer = upload(base, editor, text)
            ended = began + seconds
            time.sleep(AFTER_S)
        during = readers.between(began, ended)
        return {"backend": "postgis" if database_url else "sqlite", "rows": rows,
                "readers": readers.count, "import_s": round(seconds, 2),
                "import_status": status, **({} if status == 201 else {"answer": answer}),
                "before": readers.between(began - WARM_S + 2, began), "during": during,
                "after": readers.between(ended, ended + AFTER_S),
                "target_p99_s": TARGET_P99_S,
                "met": status == 201 and during.get("p99", 1e9) / 1000 <= TARGET_P99_S
                and during["errors"] == 0}


def postgis_copy(instance: Path, url: str) -> str | None:
    """A fresh schema of `url` holding the instance's boundaries and demo records (its
    URL), or None when that database cannot be used."""
    try:
        from bench.peers import ensure_database

        ensure_database(url)
    except Exception:  # noqa: BLE001 - no usable PostGIS: the PostGIS half is skipped
        return None
    schema_url = f"{url}{'&' if '?' in url else '?'}schema=ir_{uuid.uuid4().hex[:10]}"
    env = {**os.environ, "GEOSERVICE_INSTANCE_PATH": str(instance),
           "GEOSERVICE_DATABASE_URL": schema_url}
    for command in (["build-data", "--if-missing"], ["demo-data", "--if-empty"]):
        subprocess.run([str(measure.BIN / "geoservice"), *command], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return schema_url


def drop_schema(schema_url: str) -> None:
    """Remove the schema `postgis_copy` made."""
    import psycopg

    url, schema = schema_url.rsplit("schema=", 1)
    with psycopg.connect(url.rstrip("?&"), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def run(instance: Path, postgis: str | None, rows: int = ROWS, port: int = 5090) -> dict:
    """Both backends' figures (PostGIS skipped, with the reason, when unusable)."""
    out = {"load": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory(prefix="geoservice-import-reads-") as tmp:
        copy = measure.copy_instance(instance, Path(tmp) / "sqlite")
        out["sqlite"] = scenario(copy, "", port, rows)
        schema_url = postgis_copy(measure.copy_instance(instance, Path(tmp) / "postgis"),
                                  postgis) if postgis else None
        if schema_url is None:
            out["postgis"] = {"skipped": f"PostGIS at {postgis} is not usable"}
        else:
            try:
                out["postgis"] = scenario(Path(tmp) / "postgis", schema_url, port + 1, rows)
            finally:
                with contextlib.suppress(Exception):
                    drop_schema(schema_url)
    return out


def main() -> None:
    """Run by hand (see the module's docstring) and print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instance", type=Path, default=measure.ROOT / "instance")
    parser.add_argument("--postgis", default=None)
    parser.add_argument("--rows", type=int, default=ROWS)
    args = parser.parse_args()
    print(json.dumps(run(args.instance, args.postgis, args.rows), indent=1,
                     ensure_ascii=False))


if __name__ == "__main__":
    main()
