"""Measurements against a gunicorn-served copy of the national instance (loopback HTTP)."""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.places import zoom_group

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"


def copy_instance(source: Path, target: Path) -> Path:
    """A private copy of the instance (the store through SQLite's backup API)."""
    if not (source / "geoservice.sqlite").exists():
        sys.exit(f"{source} holds no built store: run `make data` first")
    target.mkdir(parents=True)
    with sqlite3.connect(source / "geoservice.sqlite") as src, \
            sqlite3.connect(target / "geoservice.sqlite") as dst:
        src.backup(dst)
    for name in ("boundaries.gpkg", "quality.json"):
        if (source / name).exists():
            shutil.copy2(source / name, target / name)
    return target


def national_key(instance: Path) -> str:
    """Create a national viewer key in the copy (incidents are restricted)."""
    out = subprocess.run([str(BIN / "geoservice"), "keys", "create", "benchmark",
                          "--role", "viewer", "--area", "national"],
                         env={**os.environ, "GEOSERVICE_INSTANCE_PATH": str(instance)},
                         capture_output=True, text=True, check=True).stdout
    return re.search(r"gsk_[\w.-]+", out).group(0)


@contextlib.contextmanager
def server(instance: Path, tile_cache: str, port: int, database_url: str = "", **settings):
    """gunicorn with the production settings (geoservice.gunicorn_conf) on 127.0.0.1:port;
    `settings` are further GEOSERVICE_* settings (docs/configuration.md)."""
    env = {**os.environ, "GEOSERVICE_INSTANCE_PATH": str(instance),
           "GEOSERVICE_TILE_CACHE": tile_cache, "GEOSERVICE_GUNICORN_BIND": f"127.0.0.1:{port}",
           "GEOSERVICE_DATABASE_URL": database_url,
           **{f"GEOSERVICE_{name}": str(value) for name, value in settings.items()}}
    with running([str(BIN / "gunicorn"), "-c", "python:geoservice.gunicorn_conf",
                  "geoservice.wsgi:app"], env, port, "/conformance") as base:
        yield base


@contextlib.contextmanager
def running(command: list[str], env: dict, port: int, probe: str):
    """Run a server process until the block ends; yield its base URL once `probe` answers.
    What it writes to standard error is kept in a temporary file, and its last lines are
    in the error when it does not start."""
    with tempfile.TemporaryFile(mode="w+") as errors:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                   stderr=errors)
        base = f"http://127.0.0.1:{port}"
        try:
            answered = False
            for _ in range(600):
                with contextlib.suppress(OSError):
                    urllib.request.urlopen(base + probe, timeout=2).read()
                    answered = True
                if answered or process.poll() is not None:
                    break
                time.sleep(0.2)
            if not answered:
                errors.seek(0)
                last = "\n".join(errors.read().splitlines()[-15:])
                raise RuntimeError(f"{command[0]} did not start on port {port} (exit "
                                   f"{process.returncode}):\n{last}")
            _wait_idle(process.pid)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system, s) of a process and its children (gunicorn's workers)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):  # fields[1]: parent pid
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _wait_idle(pid: int, limit: float = 180) -> None:
    """Wait until a started server is idle (below 5 % of a core for a second): its workers
    prepare the map's first layers in the background on start, and "process warm" means
    after that, not while it competes with what is measured."""
    deadline = time.monotonic() + limit
    used = _cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(1)
        now = _cpu_seconds(pid)
        if now - used < 0.05:
            return
        used = now


def _client(base: str) -> http.client.HTTPConnection:
    host, port = base.removeprefix("http://").split(":")
    return http.client.HTTPConnection(host, int(port), timeout=120)


def timed_get(conn, path: str, headers: dict) -> tuple[float, int, int]:
    """(seconds, status, body bytes) of one GET on a keep-alive connection."""
    start = time.perf_counter()
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    return time.perf_counter() - start, response.status, len(body)


def _paths(layers, tiles, fmt: str) -> list[tuple[str, str, int]]:
    from geoservice.layers.catalog import load_catalog

    catalog = load_catalog()
    return [(layer, f"/tiles/{layer}/{z}/{x}/{y}.{fmt}", z) for layer in layers
            for z, x, y in tiles if catalog[layer].minzoom <= z <= catalog[layer].maxzoom]


def tiles(base: str, layers, tile_list, key: str) -> dict:
    """p50/p99 per layer, format and zoom group; the largest tile; errors."""
    conn, headers, out = _client(base), {"X-API-Key": key}, {}
    for fmt in ("mvt", "png"):
        paths = _paths(layers, tile_list, fmt)
        for layer in layers:  # prepare each layer (and its zoom bands) before timing
            for z in (5, 7, 9, 11, 13):
                timed_get(conn, f"/tiles/{layer}/{z}/0/0.{fmt}", headers)
        samples: dict = {}
        for layer, path, z in paths:
            seconds, status, size = timed_get(conn, path, headers)
            group = samples.setdefault(f"{fmt} {layer} {zoom_group(z)}",
                                       {"t": [], "max_bytes": 0, "errors": 0})
            group["t"].append(seconds)
            group["max_bytes"] = max(group["max_bytes"], size)
            group["errors"] += status >= 400
        out.update({name: {**percentiles(g["t"]), "max_kb": round(g["max_bytes"] / 1024, 1),
                           "errors": g["errors"]} for name, g in samples.items()})
    return out


def throughput(base: str, layers, tile_list, key: str, connections: int, seconds: int) -> dict:
    """wrk over the tile list (MVT and PNG) with `connections` keep-alive connections."""
    if not shutil.which("wrk"):
        return {"skipped": "wrk not installed"}
    paths = [p for _l, p, _z in _paths(layers, tile_list, "mvt") + _paths(layers, tile_list,
                                                                           "png")]
    return _wrk(base, paths, key, connections, seconds)


def _wrk(base: str, paths: list[str], key: str | None, connections: int, seconds: int) -> dict:
    """wrk requesting `paths` round-robin (with the API key when given)."""
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    headers = f'{{["X-API-Key"]="{key}"}}' if key else "{}"
    script.write_text("paths = {" + ",".join(f'"{p}"' for p in paths) + "}\n"
                      "i = 0\nrequest = function()\n  i = i % #paths + 1\n"
                      f'  return wrk.format("GET", paths[i], {headers})\nend\n')
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency",
                          "-s", str(script), base], capture_output=True, text=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"connections": connections, "requests_per_s": rate, "p50": lat.get("50"),
            "p99": lat.get("99"), "non_2xx": int(errors.group(1)) if errors else 0,
            "tiles": len(paths)}


BASELINE_APP = """
BODY = b"x" * 5000  # about a cached tile's size


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/octet-stream"),
                              ("Content-Length", str(len(BODY)))])
    return [BODY]
"""


def baseline_throughput(port: int, connections: int, seconds: int) -> dict:
    """The floor under the cached-tile figure: the same gunicorn settings serving a constant
    5 KB answer with no application at all, measured the same way (wrk)."""
    if not shutil.which("wrk"):
        return {"skipped": "wrk not installed"}
    with tempfile.TemporaryDirectory(prefix="geoservice-baseline-") as folder:
        (Path(folder) / "baseline_app.py").write_text(BASELINE_APP)
        env = {**os.environ, "GEOSERVICE_GUNICORN_BIND": f"127.0.0.1:{port}",
               "PYTHONPATH": f"{folder}:{ROOT}"}
        with running([str(BIN / "gunicorn"), "-c", "python:geoservice.gunicorn_conf",
                      "--chdir", folder, "baseline_app:app"], env, port, "/") as base:
            return _wrk(base, ["/"], None, connections, seconds)


FEATURE_REQUESTS = {
    "communes, bbox (Hà Giang area), limit 100":
        "/collections/communes/items?limit=100&bbox=104.5,22.5,105.6,23.4",
    "communes of a province with year indicators, limit 100":
        "/collections/communes/items?limit=100&province_code=08&year=2025",
    "border communes facing Laos, limit 100":
        "/collections/communes/items?limit=100&border_neighbor=LA",
    "incidents, bbox + period, limit 100 (key)":
        "/collections/incidents/items?limit=100&bbox=102.0,20.5,106.0,23.5"
        "&datetime=2024-01-01/2024-12-31",
}


def feature_pages(base: str, key: str, runs: int = 40) -> dict:
    """p50/p99 of each fixed feature request (after one warm-up)."""
    conn, headers, out = _client(base), {"X-API-Key": key}, {}
    for name, path in FEATURE_REQUESTS.items():
        timed_get(conn, path, headers)
        times = [timed_get(conn, path, headers) for _ in range(runs)]
        out[name] = {**percentiles([t for t, _s, _b in times]),
                     "errors": sum(s >= 400 for _t, s, _b in times)}
    return out


def report(base: str, key: str, runs: int = 3) -> dict:
    """Seconds to render the province report of Tuyên Quang (08) with maps, as a PDF."""
    conn, headers = _client(base), {"X-API-Key": key}
    times = [timed_get(conn, "/reports/province/08.pdf?year=2025", headers)
             for _ in range(runs)]
    if any(status == 404 for _t, status, _b in times):
        return {"skipped": "no report endpoint"}
    return {"seconds": [round(t, 2) for t, _s, _b in times],
            "best": round(min(t for t, _s, _b in times), 2),
            "bytes": times[-1][2], "status": times[-1][1]}


def map_page(base: str, warmups: int = 3) -> dict:
    """The map page's first load in headless Chromium: bytes over the wire, time to paint.

    A new browser (empty cache) each time; the service's processes are warmed first by
    `warmups` loads (each gunicorn worker prepares the layers it is first asked for)."""
    import importlib.util

    if importlib.util.find_spec("playwright") is None:
        return {"skipped": "playwright not installed"}
    if not Path("/usr/bin/chromium").exists():
        return {"skipped": "no /usr/bin/chromium"}
    for _ in range(warmups):
        _load_map(base)
    return _load_map(base)


def _load_map(base: str) -> dict:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                    args=["--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        sizes: list[int] = []
        page.on("requestfinished", lambda r: sizes.append(r.sizes()["responseBodySize"]
                                                          + r.sizes()["responseHeadersSize"]))
        start = time.perf_counter()
        page.goto(base + "/", wait_until="load")
        painted = None
        with contextlib.suppress(Exception):
            page.wait_for_function("() => window.mapPainted === true", timeout=30000)
            painted = time.perf_counter() - start
        with contextlib.suppress(Exception):  # tiles still arriving count as first load
            page.wait_for_load_state("networkidle", timeout=10000)
        browser.close()
    return {"bytes": sum(sizes), "requests": len(sizes),
            "paint_s": round(painted, 2) if painted else None}


def build(folder: Path) -> dict:
    """Seconds of the full national build and of the demo import into a fresh instance."""
    env = {**os.environ, "GEOSERVICE_INSTANCE_PATH": str(folder)}
    out = {}
    for name, command in (("build-data", ["build-data"]), ("demo-data", ["demo-data"])):
        start = time.perf_counter()
        subprocess.run([str(BIN / "geoservice"), *command], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out[name] = round(time.perf_counter() - start, 1)
    return out


def percentiles(samples: list[float]) -> dict:
    """p50/p99 (ms) and count of a list of seconds."""
    ms = sorted(s * 1000 for s in samples)
    if not ms:
        return {"n": 0}
    p99 = ms[min(len(ms) - 1, int(round(0.99 * (len(ms) - 1))))]
    return {"n": len(ms), "p50": round(statistics.median(ms), 2), "p99": round(p99, 2)}
