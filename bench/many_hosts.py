"""Two service hosts behind nginx, sharing one PostGIS database and one Redis tile cache.

What an operator with two machines gets (docs/scaling.md): host A and host B are two
gunicorn services on different ports (here on one machine), the same PostGIS schema as
store (bench/peers.py loads it) and the same Redis database as tile cache; nginx spreads the
officials over both (``upstream``, keep-alive). Measured: the province load test through
nginx (errors, p99), and whether B answers from the cache a tile only A has drawn (B's
``/metrics`` count a cache hit for it, and the bytes are A's).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
import urllib.request
from pathlib import Path

from bench import loadtest, measure, peers

REDIS = "redis://127.0.0.1:6379/7"
PORTS = {"a": 5081, "b": 5082, "nginx": 5083}
TILE = "/tiles/certification-rate/9/405/221.mvt"  # Lũng Cú, a public layer
NGINX = """
worker_processes 2;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {folder}/body; proxy_temp_path {folder}/proxy;
  fastcgi_temp_path {folder}/fastcgi; uwsgi_temp_path {folder}/uwsgi;
  scgi_temp_path {folder}/scgi;
  upstream geoservice {{ server 127.0.0.1:{a}; server 127.0.0.1:{b}; keepalive 32; }}
  server {{
    listen 127.0.0.1:{nginx};
    location / {{
      proxy_pass http://geoservice;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
    }}
  }}
}}
"""


def available() -> str | None:
    """Why the scenario cannot run here (None when it can)."""
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        return "nginx is missing: apt-get install nginx"
    try:
        import redis

        redis.Redis.from_url(REDIS).ping()
    except Exception as error:  # noqa: BLE001 - any failure means: no Redis here
        return f"Redis at {REDIS} cannot be reached: {error}"
    return None


def run(instance: Path, database: str, users: int, seconds: int) -> dict:
    """The load test through nginx over two hosts, and the shared cache check."""
    missing = available()
    if missing:
        return {"skipped": missing}
    import redis

    peers.ensure_database(database)
    url = f"{database}?schema=bench"
    peers._load(instance, url)
    key = _key(instance, url)
    redis.Redis.from_url(REDIS).flushdb()
    settings = {"database_url": url, "tile_cache": REDIS}
    with tempfile.TemporaryDirectory(prefix="bench-hosts-") as tmp, \
            measure.server(instance, port=PORTS["a"], **settings) as host_a, \
            measure.server(instance, port=PORTS["b"], GUNICORN_WORKERS=1, **settings) as host_b, \
            _nginx(Path(tmp)) as front:
        first = _get(host_a, TILE)
        before = _hits(host_b)
        second = _get(host_b, TILE)
        shared = {"a_bytes": len(first), "b_bytes": len(second), "same": first == second,
                  "b_cache_hits_before": before, "b_cache_hits_after": _hits(host_b)}
        shared["b_served_a_tile"] = (shared["same"]
                                     and shared["b_cache_hits_after"] > before)
        load = loadtest.run(front, users=users, seconds=seconds, key=key)
    return {"hosts": 2, "store": "PostGIS (shared)", "tile_cache": "Redis (shared)",
            "shared_cache": shared, "load": load}


def _key(instance: Path, url: str) -> str:
    out = subprocess.run([str(measure.BIN / "geoservice"), "keys", "create", "bench-hosts",
                          "--role", "viewer", "--area", "national"],
                         env={**os.environ, "GEOSERVICE_INSTANCE_PATH": str(instance),
                              "GEOSERVICE_DATABASE_URL": url},
                         capture_output=True, text=True, check=True).stdout
    return re.search(r"gsk_[\w.-]+", out).group(0)


def _get(base: str, path: str) -> bytes:
    with urllib.request.urlopen(base + path, timeout=120) as response:
        return response.read()


def _hits(base: str) -> float:
    """Tile cache hits of the certification layer in a host's /metrics."""
    text = _get(base, "/metrics").decode()
    pattern = (r'geoservice_tile_cache_lookups_total\{layer="certification-rate",'
               r'result="hit"\} (\S+)')
    return sum(float(v) for v in re.findall(pattern, text))


@contextlib.contextmanager
def _nginx(folder: Path):
    conf = folder / "nginx.conf"
    conf.write_text(NGINX.format(folder=folder, **PORTS), encoding="utf-8")
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    with measure.running([binary, "-c", str(conf), "-p", str(folder), "-g", "daemon off;"],
                         {}, PORTS["nginx"], "/health") as base:
        yield base
