"""Our feature pages beside pygeoapi's on the same communes, in one run.

pygeoapi (PyPI, its own venv: bench/.venv-pygeoapi, pinned in
bench/requirements-pygeoapi.txt) serves the instance's ``boundaries.gpkg`` with its
SQLite/GeoPackage provider (SpatiaLite from Debian's ``libsqlite3-mod-spatialite``; the venv
is made from Debian's Python, whose sqlite3 may load extensions — pyenv's builds cannot); our
service serves the same communes from its store. Both run under gunicorn with the same
number of workers; each fixed request goes to one and then the other, alternately, so a
busy machine slows both alike, and the figure kept is the ratio of the medians (ours /
pygeoapi's; below 1 is faster).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from bench import measure
from bench.measure import percentiles

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / "bench" / ".venv-pygeoapi"
REQUIREMENTS = ROOT / "bench" / "requirements-pygeoapi.txt"
TARGET = 0.2  # issue: ours ≤ 0.2 × pygeoapi's p50
# The same request to both: the features API's parameters are OGC API - Features Part 1's.
REQUESTS = {
    "bbox (Hà Giang area), limit 100":
        "/collections/communes/items?limit=100&bbox=104.5,22.5,105.6,23.4",
    "one commune by id": "/collections/communes/items/00715",
    "province_code = 08, limit 100": "/collections/communes/items?limit=100&province_code=08",
    "paging: offset 2000, limit 100": "/collections/communes/items?limit=100&offset=2000",
    "1,000 communes": "/collections/communes/items?limit=1000",
}
CONFIG = """\
server:
  bind: {{host: 127.0.0.1, port: {port}}}
  url: http://127.0.0.1:{port}
  mimetype: application/json; charset=UTF-8
  encoding: utf-8
  language: en-US
  limits: {{default_items: 10, max_items: 10000}}
  map: {{url: "http://127.0.0.1/{{z}}/{{x}}/{{y}}.png", attribution: none}}
logging: {{level: ERROR}}
metadata:
  identification: {{title: bench, description: bench, keywords: [bench],
                    keywords_type: theme, terms_of_service: none, url: "http://127.0.0.1"}}
  license: {{name: none, url: "http://127.0.0.1"}}
  provider: {{name: bench, url: "http://127.0.0.1"}}
  contact: {{name: bench, position: bench, address: none, city: none,
            stateorprovince: none, postalcode: "0", country: VN, phone: "0", fax: "0",
            email: none@example.org, url: "http://127.0.0.1", hours: none,
            instructions: none, role: pointOfContact}}
resources:
  communes:
    type: collection
    title: communes
    description: the 2025 communes
    keywords: [communes]
    extents:
      spatial: {{bbox: [102.1, 8.3, 117.9, 23.4],
                crs: "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}}
    providers:
      - type: feature
        name: SQLiteGPKG
        data: {gpkg}
        id_field: {id_field}
        table: communes
"""


def available() -> str | None:
    """Why the comparison cannot run here (None when it can)."""
    if not (VENV / "bin" / "gunicorn").exists():
        return (f"pygeoapi's venv is missing: /usr/bin/python3 -m venv {VENV} && "
                f"{VENV}/bin/pip install -r {REQUIREMENTS}")
    if not any(Path(p).glob("mod_spatialite*") for p in ("/usr/lib/x86_64-linux-gnu",
                                                          "/usr/lib/aarch64-linux-gnu")):
        return "SpatiaLite is missing: apt-get install libsqlite3-mod-spatialite"
    return None


def compare(instance: Path, runs: int = 30) -> dict:
    """p50/p99 per request through us and pygeoapi, alternating, with the ratios."""
    missing = available()
    if missing:
        return {"skipped": missing}
    gpkg = instance / "boundaries.gpkg"
    with tempfile.TemporaryDirectory(prefix="bench-pygeoapi-") as tmp, \
            measure.server(instance, tile_cache="none", port=5075) as ours, \
            _pygeoapi(gpkg, Path(tmp), port=5076) as theirs:
        a, b = measure._client(ours), measure._client(theirs)
        out = {}
        for name, path in REQUESTS.items():
            for conn in (a, b):  # warm-up, and both must answer
                _seconds, status, _size = measure.timed_get(conn, path, {})
                if status != 200:
                    raise RuntimeError(f"{path} answered {status}")
            mine, peer = [], []
            for _ in range(runs):
                mine.append(measure.timed_get(a, path, {})[0])
                peer.append(measure.timed_get(b, path, {})[0])
            ours_p, theirs_p = percentiles(mine), percentiles(peer)
            ratio = round(ours_p["p50"] / theirs_p["p50"], 3)
            out[name] = {"ours": ours_p, "pygeoapi": theirs_p, "ratio": ratio,
                         "met": ratio <= TARGET}
        out["_about"] = {"pygeoapi": _version(), "target_ratio": TARGET,
                         "cql2": "not compared: pygeoapi's GeoPackage provider has no CQL2"}
        return out


def _version() -> str:
    done = subprocess.run([str(VENV / "bin" / "pygeoapi"), "--version"], capture_output=True,
                          text=True, check=False)
    return done.stdout.strip().split()[-1] if done.returncode == 0 else "unknown"


@contextlib.contextmanager
def _pygeoapi(gpkg: Path, folder: Path, port: int):
    config = folder / "pygeoapi.yml"
    config.write_text(CONFIG.format(port=port, gpkg=gpkg, id_field="code"), encoding="utf-8")
    openapi = folder / "openapi.yml"
    subprocess.run([str(VENV / "bin" / "pygeoapi"), "openapi", "generate", str(config),
                    "--output-file", str(openapi)], check=True, capture_output=True,
                   env={**os.environ, "PYGEOAPI_CONFIG": str(config)})
    env = {**os.environ, "PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)}
    workers = str(os.cpu_count() or 2)
    with measure.running([str(VENV / "bin" / "gunicorn"), "-b", f"127.0.0.1:{port}",
                          "-w", workers, "pygeoapi.flask_app:APP"], env, port,
                         "/collections/communes") as base:
        yield base


if __name__ == "__main__":
    import json

    os.chdir(ROOT)
    shutil.which("gunicorn")
    print(json.dumps(compare(ROOT / "instance"), indent=1, ensure_ascii=False))
