"""The benchmark's write-up: the machine, and each figure beside its target (met or not)."""

from __future__ import annotations

import os
import platform
import subprocess

MVT_TARGETS = {"z≤5": 30, "z6–9": 60, "z≥10": 15}  # cold p50, ms
LOAD_P99_TARGETS = {"page": 3000, "mvt tile": 1000, "png tile": 1000}  # under load, ms


def machine() -> dict:
    """What the figures were measured on."""
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    memory_kb = next(int(line.split()[1]) for line in open("/proc/meminfo")
                     if line.startswith("MemTotal"))
    postgres = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(memory_kb / 2**20, 1),
            "os": platform.platform(), "python": platform.python_version(),
            "postgresql": postgres.strip()}


def _mark(ok: bool | None) -> str:
    return "—" if ok is None else "met" if ok else "**not met**"


def _tile_rows(results: dict, kind: str) -> list[str]:
    rows = []
    for name, r in sorted(results.get(kind, {}).items()):
        fmt, layer, group = name.split(" ")
        if kind == "cold" and fmt == "mvt":
            target = f"p50 ≤ {MVT_TARGETS[group]} ms, ≤ 500 KB"
            ok = r["p50"] <= MVT_TARGETS[group] and r["max_kb"] <= 500
        elif kind == "cold":
            target, ok = "p50 ≤ 40 ms, p99 ≤ 150 ms", r["p50"] <= 40 and r["p99"] <= 150
        else:
            target, ok = "", None
        rows.append(f"| {fmt.upper()} | {layer} | {group} | {r['n']} | {r['p50']} | {r['p99']} "
                    f"| {r['max_kb']} | {r['errors']} | {target} | {_mark(ok)} |")
    return rows


FINDINGS = "<!-- Written by hand below this line; `make bench` keeps it. -->"


def with_findings(generated: str, previous: str) -> str:
    """The generated tables, then the hand-written findings of the previous file (what
    stands in the way of the targets not met), which `make bench` never overwrites."""
    if FINDINGS not in previous:
        return generated
    return generated + "\n" + FINDINGS + previous.split(FINDINGS, 1)[1]


def markdown(results: dict) -> str:
    """docs/benchmarks.md."""
    m = results["machine"]
    lines = [
        "# Benchmarks", "",
        "Written by `make bench` (bench/run.py); the raw figures are in bench/results.json. "
        "Not tests: speed is measured and written down here, not asserted. What stands in "
        "the way of the targets not met, and what was tried, is at the end: "
        "[What stands in the way](#what-stands-in-the-way).", "",
        f"Run {results['started']}–{results['finished']} on: {m['cpu']}, {m['cores']} cores, "
        f"{m['memory_gb']} GB, {m['os']}, Python {m['python']}, {m['postgresql']}. "
        "Service: gunicorn with geoservice/gunicorn_conf.py (gthread, one worker per core, "
        "8 threads), embedded SQLite store, loopback HTTP, keep-alive.", "",
        "## Tiles, cold (tile cache off, process warm), one request at a time", "",
        "| format | layer | zooms | tiles | p50 ms | p99 ms | max KB | errors | target | |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *_tile_rows(results, "cold"), "",
        "## Tiles from the cache (disk), one request at a time", "",
        "| format | layer | zooms | tiles | p50 ms | p99 ms | max KB | errors | target | |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *_tile_rows(results, "cached"), "",
        "## Throughput (wrk, 8 connections, the tile list round-robin, 10 s)", "",
        "| cache | tiles/s | p50 | p99 | non-2xx | target | |", "|---|---|---|---|---|---|---|"]
    for kind in ("cold_throughput", "cached_throughput"):
        r = results.get(kind, {})
        if "requests_per_s" not in r:
            continue
        p99 = _ms(r["p99"])
        ok = r["requests_per_s"] >= 1500 and p99 <= 20 if kind == "cached_throughput" else None
        target = "≥ 1,500 tiles/s, p99 ≤ 20 ms" if ok is not None else ""
        lines.append(f"| {kind.split('_')[0]} | {r['requests_per_s']:.0f} | {r['p50']} | "
                     f"{r['p99']} | {r['non_2xx']} | {target} | {_mark(ok)} |")
    baseline = results.get("baseline_throughput", {})
    if "requests_per_s" in baseline:
        lines.append(f"| no application (gunicorn answering a constant 5 KB) | "
                     f"{baseline['requests_per_s']:.0f} | {baseline['p50']} | "
                     f"{baseline['p99']} | {baseline['non_2xx']} | the floor | — |")
    lines += _load_section(results.get("load"))
    lines += ["", "## Feature pages (40 requests each)", "",
              "| request | p50 ms | p99 ms | errors | target | |", "|---|---|---|---|---|---|"]
    for name, r in results.get("features", {}).items():
        lines.append(f"| {name} | {r['p50']} | {r['p99']} | {r['errors']} | p50 ≤ 30 ms | "
                     f"{_mark(r['p50'] <= 30)} |")
    lines += ["", "## Pages, report, build", ""]
    page, report = results.get("map_page", {}), results.get("report", {})
    if "bytes" in page:
        ok = page["bytes"] <= 1.5 * 2**20 and (page["paint_s"] or 99) <= 3
        lines.append(f"- Map page first load: {page['bytes'] / 2**20:.2f} MB in "
                     f"{page['requests']} requests, painted in {page['paint_s']} s "
                     f"(target ≤ 1.5 MB, ≤ 3 s: {_mark(ok)}).")
    else:
        lines.append(f"- Map page: {page.get('skipped', 'not measured')}.")
    if "best" in report:
        lines.append(f"- Province report (Tuyên Quang, 2025, PDF with maps): "
                     f"{report['seconds']} s, {report['bytes'] / 1024:.0f} KB "
                     f"(target ≤ 5 s: {_mark(report['best'] <= 5)}).")
    else:
        lines.append(f"- Province report: {report.get('skipped', 'not measured')}.")
    build = results.get("build")
    if build:
        lines.append(f"- Full data build {build['build-data']} s; demo import "
                     f"{build['demo-data']} s (fresh instance).")
    peers = results.get("peers")
    if peers:
        lines += ["", "## Our MVT beside TiPg and raw SQL (communes, PostGIS, same rows)", "",
                  "Ours over HTTP as configured by default (PostGIS makes the tiles from zoom "
                  "10, our encoder on pre-simplified shapes below), and with the database "
                  "making every tile (`DATABASE_MVT_MIN_ZOOM=0`); the raw SQL is the bare "
                  "statement from a Python client, no HTTP.", "",
                  "| zooms | ours (PostGIS) p50 ms | ours, database only p50 ms | TiPg p50 ms | "
                  "raw ST_AsMVT p50 ms | ours/TiPg | ours/SQL | target | |",
                  "|---|---|---|---|---|---|---|---|---|"]
        database_only = peers.get("ours_database_only", {})
        for group, ratio in peers["ratios"].items():
            ok = ratio["ours/tipg"] <= 1.0 and ratio["ours/sql"] <= 1.5
            lines.append(f"| {group} | {peers['ours_postgis'][group]['p50']} | "
                         f"{database_only.get(group, {}).get('p50', '—')} | "
                         f"{peers['tipg'][group]['p50']} | {peers['raw_sql'][group]['p50']} | "
                         f"{ratio['ours/tipg']} | {ratio['ours/sql']} | ≤ 1.0, ≤ 1.5 | "
                         f"{_mark(ok)} |")
    from bench import targets

    lines += targets.markdown(results)
    return "\n".join(lines) + "\n"


def _load_section(load: dict | None) -> list[str]:
    """The province load test (bench/loadtest.py): each request group beside its target."""
    if not load:
        return []
    lines = ["", f"## Load test (locust: {load['users']} officials open the map on a fresh "
             f"server, empty tile cache, then pan and zoom in their province, "
             f"{load['seconds']} s)", ""]
    if "error" in load:
        return lines + [f"- Not measured: {load['error'].splitlines()[-1]}"]
    errors = load["failures"] + load["unfinished"]
    lines += [f"- {load['requests']} requests ({load['requests_per_s']:.0f}/s), "
              f"{load['failures']} failed, {load['unfinished']} unanswered at the end: error "
              f"rate {load['error_rate_pct']} % (target 0 %: {_mark(errors == 0)}); p50 "
              f"{load['p50_ms']} ms, p95 {load['p95_ms']} ms, p99 {load['p99_ms']} ms.",
              *[f"- Failed: {f['count']} × {f['request']}: {f['error']}"
                for f in load["failure_reasons"][:5]],
              *[f"- Locust warned: {warning}" for warning in load.get("warnings", [])], "",
              "| requests | count | failed | unanswered | p50 ms | p95 ms | p99 ms | target | |",
              "|---|---|---|---|---|---|---|---|---|"]
    for group, r in load["groups"].items():
        limit = LOAD_P99_TARGETS.get(group)
        ok = None if limit is None else (r["unfinished"] == 0  # unanswered: slower than any
                                         and r.get("p99_ms", float("inf")) <= limit)
        target = f"p99 ≤ {limit / 1000:g} s" if limit else ""
        lines.append(f"| {group} | {r['requests']} | {r['failures']} | {r['unfinished']} | "
                     f"{r.get('p50_ms', '–')} | {r.get('p95_ms', '–')} | "
                     f"{r.get('p99_ms', '–')} | {target} | {_mark(ok)} |")
    if "png tile" not in load["groups"]:
        lines += ["", "The map page asks for no PNG tile unless an official switches on the "
                  "incident density overlay (off by default): no PNG row."]
    return lines


def _ms(text: str | None) -> float:
    """wrk's latency text ('1.23ms', '850.00us', '1.02s') in milliseconds."""
    if not text:
        return float("inf")
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    return float(text)
