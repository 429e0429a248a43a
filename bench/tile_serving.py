"""Cached public tiles by nginx and by the service, side by side (issue 20, item 4).

:func:`run` serves a private copy of the instance with gunicorn (as `make serve-prod`,
disk tile cache) behind the shipped nginx site (deploy/nginx/geoservice.conf, its folders
moved into a temporary one), asks once for every versioned public tile of the fixed tile
list (bench/places.py) so the service draws it, caches it and keeps it in the public tile
folder, then measures with wrk (the bench's load generator, `measure._wrk`), 8 keep-alive
connections each:

* ``nginx``: the versioned URLs through nginx, which answers from the public tile folder
  without the service — target ≥ 20,000 tiles/s;
* ``service``: the same URLs straight from gunicorn (the tile cache, immutable answers) —
  target ≥ 2,000 tiles/s with p99 ≤ 50 ms;
* ``service_plain``: the plain (unversioned) URLs from gunicorn, for comparison.

By hand: ``.venv/bin/python -m bench.tile_serving --instance instance`` (needs wrk and
nginx: ``apt-get install wrk nginx``).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from bench import measure
from bench.places import tile_list

LAYERS = ("provinces", "communes", "certification-rate", "border-communes")
SITE = measure.ROOT / "deploy" / "nginx" / "geoservice.conf"
TARGETS = {"nginx": 20_000, "service": 2_000}
TARGET_P99_MS = 50.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def nginx(folder: Path, upstream: int, public_tiles: Path, port: int):
    """The shipped site on 127.0.0.1:`port` in front of 127.0.0.1:`upstream`."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    site = SITE.read_text(encoding="utf-8")
    for shipped, local in (("/var/cache/nginx/geoservice", str(folder / "cache")),
                           ("/var/lib/geoservice/public-tiles", str(public_tiles)),
                           ("server 127.0.0.1:5000;", f"server 127.0.0.1:{upstream};"),
                           ("listen 80;", f"listen 127.0.0.1:{port};"),
                           ("listen 9464;", f"listen 127.0.0.1:{_free_port()};")):
        site = site.replace(shipped, local)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "site.conf").write_text(site)
    user = "user root;\n" if os.geteuid() == 0 else ""
    # As Debian's nginx.conf: a worker per core, sendfile, many connections per worker.
    (folder / "nginx.conf").write_text(
        f"{user}worker_processes auto;\npid {folder}/nginx.pid;\n"
        f"error_log {folder}/error.log;\ndaemon off;\n"
        "events { worker_connections 1024; }\n"
        "http {\n    access_log off;\n    sendfile on;\n    tcp_nopush on;\n"
        + "".join(f"    {kind}_temp_path {folder}/{kind};\n" for kind in (
            "client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        + f"    include {folder}/site.conf;\n}}\n")
    process = subprocess.Popen([binary, "-c", str(folder / "nginx.conf"), "-p", str(folder)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


def versioned_paths(base: str, tiles) -> tuple[list[str], list[str]]:
    """(versioned, plain) paths of the public layers' tiles: each layer's version is read
    from the redirect an unknown version gets."""
    from geoservice.layers.catalog import load_catalog

    catalog, conn = load_catalog(), measure._client(base)
    versioned, plain = [], []
    for layer in LAYERS:
        conn.request("GET", f"/tiles/v/{'0' * 16}/{layer}/6/0/0.mvt")
        answer = conn.getresponse()
        answer.read()
        version = re.search(r"/tiles/v/([0-9a-f]{16})/", answer.headers.get("Location", ""))
        if version is None:
            raise RuntimeError(f"{layer}: no versioned URL (HTTP {answer.status})")
        for z, x, y in tiles:
            if catalog[layer].minzoom <= z <= catalog[layer].maxzoom:
                versioned.append(f"/tiles/v/{version.group(1)}/{layer}/{z}/{x}/{y}.mvt")
                plain.append(f"/tiles/{layer}/{z}/{x}/{y}.mvt")
    return versioned, plain


def _prime(base: str, paths: list[str]) -> int:
    """GET every path once (drawn, cached, kept); the number not answered 200."""
    conn, failed = measure._client(base), 0
    for path in paths:
        try:
            conn.request("GET", path)
            answer = conn.getresponse()
            answer.read()
            failed += answer.status != 200
        except (OSError, http.client.HTTPException):
            failed += 1
            conn = measure._client(base)
    return failed


def _met(name: str, figures: dict) -> bool:
    rate = figures.get("requests_per_s", 0) >= TARGETS[name] and not figures.get("non_2xx")
    if name == "service":
        p99 = figures.get("p99") or "inf"
        value = float(re.sub(r"[a-z]+$", "", p99)) if p99 != "inf" else float("inf")
        ms = value * {"us": 0.001, "ms": 1, "s": 1000}.get(re.sub(r"[\d.]+", "", p99), 1)
        return rate and ms <= TARGET_P99_MS
    return rate


def run(instance: Path, seconds: int = 10, connections: int = 8, quick: bool = False,
        port: int = 5085) -> dict:
    """nginx-served and service-served cached public tiles (tiles/s, p50, p99)."""
    if not shutil.which("wrk"):
        return {"skipped": "wrk not installed"}
    if not (shutil.which("nginx") or os.access("/usr/sbin/nginx", os.X_OK)):
        return {"skipped": "nginx not installed"}
    out: dict = {"load_before": os.getloadavg()[0], "connections": connections}
    with tempfile.TemporaryDirectory(prefix="geoservice-tile-serving-") as tmp:
        copy = measure.copy_instance(instance, Path(tmp) / "instance")
        with measure.server(copy, tile_cache="", port=port) as service, \
                nginx(Path(tmp) / "nginx", port, copy / "public-tiles", _free_port()) as front:
            versioned, plain = versioned_paths(service, tile_list(quick=quick))
            out["tiles"] = len(versioned)
            out["not_200_priming"] = _prime(front, versioned) + _prime(service, plain)
            out["kept_for_nginx"] = sum(1 for _ in (copy / "public-tiles").rglob("*.mvt"))
            for name, base, paths in (("nginx", front, versioned),
                                      ("service", service, versioned),
                                      ("service_plain", service, plain)):
                out[name] = measure._wrk(base, paths, None, connections, seconds)
                out[name]["load"] = os.getloadavg()[0]
    for name in TARGETS:
        out[name]["target_per_s"] = TARGETS[name]
        out[name]["met"] = _met(name, out[name])
    out["service"]["target_p99_ms"] = TARGET_P99_MS
    return out


def main() -> None:
    """Run by hand and print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instance", type=Path, default=measure.ROOT / "instance")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    print(json.dumps(run(args.instance, args.seconds, quick=args.quick), indent=1))


if __name__ == "__main__":
    main()
