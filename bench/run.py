"""The benchmark suite (not tests): `make bench`, or ``.venv/bin/python -m bench.run``.

Serves the national instance (a private copy of ``instance/``) with gunicorn exactly as
`make serve-prod` does, then measures over loopback, on a fixed list of tiles over Vietnam
(zooms 5–14 around fixed places) and fixed requests:

* MVT and PNG tiles of the communes choropleth, border communes and incidents: cold (tile
  cache off, process warm: each layer prepared once before timing) and cached (disk cache,
  every tile requested once before) — p50/p99 latency one request at a time, and
  throughput with 8 connections (wrk);
* feature pages (limit 100, bbox and filters), a province report, the map page's first
  load (bytes, time to paint in headless Chromium), the full data build and the demo import;
* a load test (bench/loadtest.py, locust): 50 officials open the map on a fresh server with
  an empty disk tile cache, then pan and zoom in their province for 60 s — error rate and
  p50/p95/p99 latency by request group;
* the same boundary tiles from our PostGIS backend, from TiPg (PyPI) on the same PostGIS
  table and from the raw ``ST_AsMVT`` SQL, in the same run: the ratios our/TiPg, our/SQL;
  feature pages beside pygeoapi (bench/peer_features.py) and PNG tiles beside MapServer 8
  (bench/peer_mapserver.py), requests alternating;
* public tiles from nginx and through the service (bench/tile_serving.py), reads during a
  30,000-row import (bench/import_reads.py), the first national view after a fresh start
  and after an import with the workers' memory (bench/first_view.py), two hosts behind
  nginx sharing PostGIS and Redis (bench/many_hosts.py).

Every target, its measured value and ``met`` are listed under "targets" (bench/targets.py).

Writes bench/results.json and docs/benchmarks.md (a table with each target met or not and
the machine it ran on). Options: ``--quick`` (fewer tiles, no build, 10 officials for 20 s),
``--skip-build``, ``--skip-peers``, ``--skip-load``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from bench import (
    first_view,
    import_reads,
    loadtest,
    many_hosts,
    measure,
    peer_features,
    peer_mapserver,
    peers,
    report,
    report_speed,
    targets,
    tile_serving,
)
from bench.places import tile_list

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("certification-rate", "border-communes", "incidents")


def main() -> None:
    """Run every measurement and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instance", type=Path, default=ROOT / "instance")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--skip-build", action="store_true")
    parser.add_argument("--skip-peers", action="store_true")
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--postgis", default="postgresql://postgres@127.0.0.1:5432/geoservice_bench")
    args = parser.parse_args()
    results: dict = {"machine": report.machine(), "started": time.strftime("%Y-%m-%d %H:%M")}
    with tempfile.TemporaryDirectory(prefix="geoservice-bench-") as tmp:
        instance = measure.copy_instance(args.instance, Path(tmp) / "instance")
        key = measure.national_key(instance)
        tiles = tile_list(quick=args.quick)
        with measure.server(instance, tile_cache="none", port=5071) as base:
            results["cold"] = measure.tiles(base, LAYERS, tiles, key)
            results["cold_throughput"] = measure.throughput(base, LAYERS, tiles, key,
                                                            connections=8, seconds=10)
            results["features"] = measure.feature_pages(base, key)
            results["report"] = measure.report(base, key)
            results["map_page"] = measure.map_page(base)
        with measure.server(instance, tile_cache="", port=5072) as base:
            measure.tiles(base, LAYERS, tiles, key)  # fill the cache
            results["cached"] = measure.tiles(base, LAYERS, tiles, key)
            results["cached_throughput"] = measure.throughput(base, LAYERS, tiles, key,
                                                              connections=8, seconds=10)
        results["baseline_throughput"] = measure.baseline_throughput(5079, connections=8,
                                                                     seconds=10)
        if not args.skip_load:  # a province opening the map together: a fresh, empty cache
            shutil.rmtree(instance / "tile-cache", ignore_errors=True)
            with measure.server(instance, tile_cache="", port=5078) as base:
                results["load"] = loadtest.run(base, users=10 if args.quick else 50,
                                               seconds=20 if args.quick else 60, key=key)
            results["import_reads"] = import_reads.run(instance, args.postgis)
            results["tile_serving"] = tile_serving.run(instance, quick=args.quick)
            results["first_view"] = first_view.run(instance)
            results["memory"] = results["first_view"].get("memory", {})
            results["reports_cold"] = report_speed.run(instance, runs=1 if args.quick else 3)
        if not args.skip_peers:
            results["peers"] = peers.compare(instance, args.postgis, tiles)
            results["peer_features"] = peer_features.compare(instance)
            results["peer_png"] = peer_mapserver.compare(instance, tiles, key)
            results["many_hosts"] = many_hosts.run(instance, args.postgis,
                                                   users=10 if args.quick else 50,
                                                   seconds=20 if args.quick else 60)
        if not (args.skip_build or args.quick):
            results["build"] = measure.build(Path(tmp) / "build")
    results["finished"] = time.strftime("%Y-%m-%d %H:%M")
    results["targets"] = targets.targets(results)
    (ROOT / "bench" / "results.json").write_text(json.dumps(results, indent=1,
                                                            ensure_ascii=False) + "\n")
    target = ROOT / "docs" / "benchmarks.md"
    previous = target.read_text(encoding="utf-8") if target.exists() else ""
    target.write_text(report.with_findings(report.markdown(results), previous),
                      encoding="utf-8")
    print(report.markdown(results))


if __name__ == "__main__":
    os.chdir(ROOT)
    shutil.which("wrk") or print("note: wrk not found; throughput rows are skipped")
    main()
