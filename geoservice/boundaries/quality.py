"""The quality report written with every boundary build (JSON and readable text).

It counts every 2025 unit in the build (`units_present`), those with a polygon, lists the
units without one (each with the note `NO_POLYGON_NOTE`) and where island geometry came
from (`islands`, see `geoservice.boundaries.islands`).

Targets (the build reports each as met or not):
- at least 3,310 of the 3,321 units with a polygon;
- computed area within ±10% of the official area for at least 85% of units;
- median ratio computed/official within 1 ± 0.02.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

# Said wherever a unit without geometry is listed (quality report, unit reports).
NO_POLYGON_NOTE = "no boundary polygon yet"
TARGETS = {
    "units_with_polygon_min": 3310,
    "share_within_10pct_min": 0.85,
    "median_ratio_tolerance": 0.02,
}


def quality_report(communes, units, stats: dict, lines, topology: dict, full_country: bool,
                   seconds: float, islands: list[dict] | None = None) -> dict:
    """Return the report as a JSON-ready dict.

    `communes` holds every 2025 unit built, those without geometry (None) included;
    `islands` describes where island geometry came from (`islands.IslandSource` rows).
    """
    drawn = communes.geometry.notna().to_numpy()
    ratio = communes.set_index("code")["area_ratio"].dropna()
    within = (ratio - 1).abs() <= 0.10
    by_match = (
        pd.DataFrame({"match": communes.set_index("code")["match"], "within": within})
        .dropna()
        .groupby("match")["within"]
        .agg(["size", "mean"])
    )
    guided = communes.set_index("code")["area_guided"].reindex(ratio.index).fillna(False)
    independent = within[~guided.astype(bool)]
    worst = (ratio - 1).abs().sort_values(ascending=False).head(20).index
    table = communes.set_index("code")
    report = {
        "units_total": int(len(units)),
        "units_present": int(len(communes)),
        "units_with_polygon": int(drawn.sum()),
        "units_without_polygon": sorted(set(units["code"]) - set(communes.loc[drawn, "code"])),
        "units_without_polygon_detail": [
            {"code": c, "name": n, "province": p, "unit_type": t, "note": NO_POLYGON_NOTE}
            for c, n, p, t in communes.loc[~drawn, ["code", "name", "province_name",
                                                    "unit_type"]].itertuples(index=False)
        ],
        "missing_from_store": sorted(set(units["code"]) - set(communes["code"])),
        "islands": list(islands or []),
        "matching": stats,
        "units_by_match": {k: int(v) for k, v in communes["match"].value_counts().items()},
        "area_ratio": {
            "units_with_official_area": int(len(ratio)),
            "median": round(float(ratio.median()), 4) if len(ratio) else None,
            "share_within_10pct": round(float(within.mean()), 4) if len(ratio) else None,
            "quantiles": {q: round(float(ratio.quantile(float(q))), 4)
                          for q in ("0.05", "0.25", "0.5", "0.75", "0.95")} if len(ratio) else {},
            "independent_units": int(len(independent)),
            "share_within_10pct_independent": round(float(independent.mean()), 4)
            if len(independent) else None,
            "share_within_10pct_by_match": {
                m: {"units": int(r["size"]), "share": round(float(r["mean"]), 4)}
                for m, r in by_match.iterrows()
            },
            "worst_20": [
                {"code": c, "name": table.at[c, "name"], "province": table.at[c, "province_name"],
                 "official_km2": float(table.at[c, "official_area_km2"]),
                 "computed_km2": float(table.at[c, "area_km2"]), "ratio": float(ratio[c])}
                for c in worst
            ],
        },
        "border_length_km": {n: float(km) for n, km in zip(lines["neighbor"], lines["length_km"])},
        "border_communes": {
            n: int(communes["border_neighbors"].map(lambda v, n=n: n in v).sum())
            for n in lines["neighbor"]
        },
        "topology": topology,
        "build_seconds": round(seconds, 1),
    }
    report["targets"] = _targets(report) if full_country else {}
    return report


def _targets(report: dict) -> dict:
    ratio = report["area_ratio"]
    return {
        "units_with_polygon": {
            "target": f">= {TARGETS['units_with_polygon_min']}",
            "value": report["units_with_polygon"],
            "met": report["units_with_polygon"] >= TARGETS["units_with_polygon_min"],
        },
        "share_within_10pct": {
            "target": f">= {TARGETS['share_within_10pct_min']}",
            "value": ratio["share_within_10pct"],
            "met": (ratio["share_within_10pct"] or 0) >= TARGETS["share_within_10pct_min"],
        },
        "median_ratio": {
            "target": f"1 ± {TARGETS['median_ratio_tolerance']}",
            "value": ratio["median"],
            "met": ratio["median"] is not None
            and abs(ratio["median"] - 1) <= TARGETS["median_ratio_tolerance"],
        },
    }


def write_report(report: dict, folder: Path) -> tuple[Path, Path]:
    """Write quality.json and quality.txt into `folder`; return both paths."""
    folder.mkdir(parents=True, exist_ok=True)
    json_path = folder / "quality.json"
    text_path = folder / "quality.txt"
    json_path.write_text(json.dumps(report, ensure_ascii=False, indent=2, default=_plain),
                         encoding="utf-8")
    text_path.write_text(render_text(report), encoding="utf-8")
    return json_path, text_path


def render_text(report: dict) -> str:
    """Return the report as plain text for people."""
    ratio = report["area_ratio"]
    lines = [
        "Boundary build quality report",
        "=============================",
        f"Units in the store: {report['units_present']} of {report['units_total']}",
        f"Units with a polygon: {report['units_with_polygon']} of {report['units_total']}",
        "Without a polygon: " + (", ".join(
            f"{u['code']} {u['name']} ({u['province']}): {u['note']}"
            for u in report["units_without_polygon_detail"]) or "none"),
        *_island_lines(report["islands"]),
        "Source polygons: {source_polygons}; matched by name {matched_by_name}, by location "
        "{matched_by_location}; orphans (merged away before 2025) {orphan_polygons}; gaps "
        "filled {gap_polygons} ({gap_area_km2} km²); overlap removed {overlap_removed_km2} km²"
        .format(**report["matching"]),
        f"Units by weakest match: {report['units_by_match']}",
        "",
        f"Computed / official area: median {ratio['median']}, within ±10%: "
        f"{ratio['share_within_10pct']} of {ratio['units_with_official_area']} units",
        f"Quantiles: {ratio['quantiles']}",
        f"Units whose geometry official areas did not steer: {ratio['independent_units']}, "
        f"within ±10%: {ratio['share_within_10pct_independent']}",
        f"Within ±10% by match: {ratio['share_within_10pct_by_match']}",
        "Worst 20:",
    ]
    lines += [
        f"  {w['code']} {w['name']} ({w['province']}): official {w['official_km2']} km², "
        f"computed {w['computed_km2']:.2f} km², ratio {w['ratio']:.3f}"
        for w in ratio["worst_20"]
    ]
    lines += ["", "Land border length (km): " + ", ".join(
        f"{k} {v:.1f}" for k, v in report["border_length_km"].items())]
    lines.append("Border communes: " + ", ".join(
        f"{k} {v}" for k, v in report["border_communes"].items()))
    lines.append(f"Topology: {report['topology']}")
    lines.append(f"Build time: {report['build_seconds']} s")
    if report["targets"]:
        lines.append("")
        lines.append("Targets:")
        lines += [f"  {name}: {t['value']} (target {t['target']}) -> "
                  f"{'met' if t['met'] else 'NOT MET'}" for name, t in report["targets"].items()]
    return "\n".join(lines) + "\n"


def _island_lines(islands: list[dict]) -> list[str]:
    return [f"Island geometry: {i['code']} {i['name']} ({i['province_name']}): {i['parts']} "
            f"parts, {i['area_km2']} km² (official {i['official_area_km2']} km²) from "
            f"{i['source']}, {i['rule']}" for i in islands]


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value)}")
