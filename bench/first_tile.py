"""The first tile after a fresh process start (issue 20, item 1): with the tile-ready
shapes made again by the process ("before": none kept in the store) and read from the
store ("after": kept by the load step or by an earlier process).

:func:`run` copies the instance (`measure.copy_instance`), then for each (layer, zoom) of
`CASES`, over Hà Nội: drops the kept shapes and times the first tile of a fresh process,
then times the first tile of another fresh process (which finds the shapes the first one
kept), each with the tile cache off; the second request of each process is its
"hundredth". By hand:

    .venv/bin/python -m bench.first_tile --instance instance
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import tempfile
from pathlib import Path

from bench import measure

CASES = (("certification-rate", 5), ("communes", 8), ("communes", 11))
PLACE = (105.85, 21.03)  # Hà Nội
PROCESS = """
import json, sys, time
import mercantile
from geoservice import create_app
layer, z = sys.argv[1], int(sys.argv[2])
app = create_app({"INSTANCE_PATH": sys.argv[3], "TILE_CACHE": "none"})
client = app.test_client()
t = mercantile.tile(float(sys.argv[4]), float(sys.argv[5]), z)
url = f"/tiles/{layer}/{t.z}/{t.x}/{t.y}.mvt"
start = time.perf_counter(); first = client.get(url); middle = time.perf_counter()
again = client.get(url); end = time.perf_counter()
print(json.dumps({"status": first.status_code, "same": first.data == again.data,
                  "first_ms": round((middle - start) * 1000),
                  "again_ms": round((end - middle) * 1000)}))
"""


def _first_tile(instance: Path, layer: str, z: int) -> dict:
    out = subprocess.run([str(measure.BIN / "python"), "-c", PROCESS, layer, str(z),
                          str(instance), *map(str, PLACE)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def run(instance: Path) -> dict:
    """Time the first tiles, before (shapes made by the process) and after (read)."""
    with tempfile.TemporaryDirectory() as folder:
        copy = measure.copy_instance(instance, Path(folder) / "instance")
        results = {}
        for layer, z in CASES:
            with sqlite3.connect(copy / "geoservice.sqlite") as conn:
                conn.execute("DROP TABLE IF EXISTS prepared_shapes")
            before = _first_tile(copy, layer, z)
            after = _first_tile(copy, layer, z)
            results[f"{layer} z{z}"] = {"before": before, "after": after}
    return results


def main() -> None:
    """Print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instance", type=Path, default=measure.ROOT / "instance")
    print(json.dumps(run(parser.parse_args().instance), indent=2))


if __name__ == "__main__":
    main()
