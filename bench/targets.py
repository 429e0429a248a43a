"""Every benchmark target with its measured value and whether it is met.

`targets(results)` reads bench/results.json's figures and lists each target of the
performance issue once: what, the target, the value measured, ``met`` (true, false, or null
when not measured in this run, with the reason). `markdown(results)` gives the sections of
docs/benchmarks.md for the peers (pygeoapi, MapServer), the two hosts and this list.
"""

from __future__ import annotations


def _row(name: str, target: str, value, met) -> dict:
    return {"name": name, "target": target, "value": value, "met": met}


def _missing(name: str, target: str, part: dict | None) -> dict:
    reason = (part or {}).get("skipped", "not measured in this run")
    return _row(name, target, reason, None)


def targets(results: dict) -> list[dict]:
    """The list written to results.json under "targets"."""
    rows = []
    first = results.get("first_view") or {}
    for moment in ("after_start", "after_import"):
        name = f"first national view {moment.replace('_', ' ')} (1440×900, Chromium)"
        view = first.get(moment)
        if not view or view.get("seconds") is None:
            rows.append(_missing(name, "≤ 3 s, ≤ 40 requests", first or None))
            continue
        rows.append(_row(name, "≤ 3 s, ≤ 40 requests",
                         f"{view['seconds']} s, {view['requests']} requests", view["met"]))
    cached = results.get("cached_throughput") or {}
    if "requests_per_s" in cached:
        from bench.report import _ms

        p99 = _ms(cached.get("p99"))
        rows.append(_row("cached tiles through the service, 8 connections",
                         "≥ 2,000 tiles/s, p99 ≤ 50 ms",
                         f"{cached['requests_per_s']:.0f} tiles/s, p99 {cached.get('p99')}",
                         cached["requests_per_s"] >= 2000 and p99 <= 50))
    serving = results.get("tile_serving") or {}
    for part, name, target in (
            ("nginx", "public versioned tiles from nginx (kept folder), 8 connections",
             "≥ 20,000 tiles/s"),
            ("service", "versioned tiles through the service, 8 connections",
             "≥ 2,000 tiles/s, p99 ≤ 50 ms")):
        figures = serving.get(part) if isinstance(serving, dict) else None
        if isinstance(figures, dict) and "requests_per_s" in figures:
            rows.append(_row(name, target, f"{figures['requests_per_s']:.0f} tiles/s, "
                             f"p99 {figures.get('p99')}", figures.get("met")))
        else:
            rows.append(_missing(name, target, serving or None))
    reads = results.get("import_reads") or {}
    for store in ("sqlite", "postgis"):
        part = reads.get(store) if isinstance(reads, dict) else None
        name = f"p99 read during a 30,000-row import ({store})"
        if isinstance(part, dict) and "p99" in part.get("during", {}):
            rows.append(_row(name, "≤ 0.5 s", f"{part['during']['p99']} ms", part["met"]))
        else:
            rows.append(_missing(name, "≤ 0.5 s", part if isinstance(part, dict) else None))
    rows += _peer_rows(results)
    memory = results.get("memory") or {}
    if "max_worker_mb" in memory:
        rows.append(_row("resident memory per worker, national layers prepared", "≤ 1 GB",
                         f"{memory['max_worker_mb']} MB", memory["max_worker_mb"] <= 1024))
    else:
        rows.append(_missing("resident memory per worker", "≤ 1 GB", memory or None))
    hosts = results.get("many_hosts") or {}
    if "load" in hosts:
        load = hosts["load"]
        errors = load.get("failures", 0) + load.get("unfinished", 0) if "error" not in load \
            else None
        shared = hosts["shared_cache"]["b_served_a_tile"]
        rows.append(_row("two hosts behind nginx, shared PostGIS and Redis",
                         "0 errors; host B serves host A's cached tiles",
                         f"{errors} errors; B served A's tile: {shared}",
                         errors == 0 and shared))
    else:
        rows.append(_missing("two hosts behind nginx", "0 errors, shared cache", hosts or None))
    for name, found in (results.get("reports_cold") or {}).items():
        if isinstance(found, dict) and "median" in found:
            rows.append(_row(f"{name} report, first request after a start",
                             f"≤ {found['target']:g} s", f"{found['median']} s", found["met"]))
    return rows


def _peer_rows(results: dict) -> list[dict]:
    rows = []
    tipg = (results.get("peers") or {}).get("ratios", {})
    for group, ratio in tipg.items():
        rows.append(_row(f"MVT communes {group}: ours / TiPg", "≤ 1.0", ratio["ours/tipg"],
                         ratio["ours/tipg"] <= 1.0))
    features = results.get("peer_features") or {}
    for name, r in features.items():
        if not name.startswith("_") and "ratio" in r:
            rows.append(_row(f"feature page, {name}: ours / pygeoapi", "≤ 0.2", r["ratio"],
                             r["met"]))
    if "skipped" in features:
        rows.append(_missing("feature pages: ours / pygeoapi", "≤ 0.2", features))
    png = results.get("peer_png") or {}
    for layer, groups in png.items():
        if layer.startswith("_") or not isinstance(groups, dict):
            continue
        for group, r in groups.items():
            rows.append(_row(f"PNG {layer} {group}: ours / MapServer", "≤ 0.8", r["ratio"],
                             r["met"]))
    if "skipped" in png:
        rows.append(_missing("PNG tiles: ours / MapServer", "≤ 0.8", png))
    return rows


def _mark(met) -> str:
    return "—" if met is None else "met" if met else "**not met**"


def markdown(results: dict) -> list[str]:
    """The peers', the hosts' and the targets' sections of docs/benchmarks.md."""
    lines = []
    features = results.get("peer_features") or {}
    if any("ratio" in r for r in features.values() if isinstance(r, dict)):
        about = features.get("_about", {})
        lines += ["", f"## Feature pages beside pygeoapi {about.get('pygeoapi', '')} "
                  "(same communes, its GeoPackage provider; requests alternate)", "",
                  "| request | ours p50 ms | pygeoapi p50 ms | ours / pygeoapi | target | |",
                  "|---|---|---|---|---|---|"]
        for name, r in features.items():
            if "ratio" in r:
                lines.append(f"| {name} | {r['ours']['p50']} | {r['pygeoapi']['p50']} | "
                             f"{r['ratio']} | ≤ 0.2 | {_mark(r['met'])} |")
        if about.get("cql2"):
            lines.append(f"\nCQL2 filters: {about['cql2']}.")
    png = results.get("peer_png") or {}
    if any(not k.startswith("_") for k in png):
        lines += ["", "## PNG tiles beside MapServer 8 (same features and classes, "
                  "mapscript kept warm; requests alternate)", "",
                  "| layer | zooms | ours p50 ms | MapServer p50 ms | ours / MapServer | "
                  "target | |", "|---|---|---|---|---|---|---|"]
        for layer, groups in png.items():
            if layer.startswith("_"):
                continue
            for group, r in groups.items():
                lines.append(f"| {layer} | {group} | {r['ours']['p50']} | "
                             f"{r['mapserver']['p50']} | {r['ratio']} | ≤ 0.8 | "
                             f"{_mark(r['met'])} |")
        painted = png.get("_painted_pixels", {})
        if painted:
            lines.append("\nPainted pixels over the same tiles (both drew the same map): " +
                         "; ".join(f"{layer} ours {c['ours']:,}, MapServer {c['mapserver']:,}"
                                   for layer, c in painted.items()) + ".")
    lines += ["", "## Every target", "", "| what | target | measured | |", "|---|---|---|---|"]
    for row in targets(results):
        lines.append(f"| {row['name']} | {row['target']} | {row['value']} | "
                     f"{_mark(row['met'])} |")
    return lines
