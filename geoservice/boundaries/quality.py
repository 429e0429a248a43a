"""The quality report written with every boundary build (JSON and readable text).

It counts every 2025 unit in the build (`units_present`), those with a polygon, lists the
units without one (each with the note `NO_POLYGON_NOTE`) and where island geometry came
from (`islands`, see `geoservice.boundaries.islands`). `coast` gives every coastal unit's
area lying in the sea (outside Natural Earth land) and the sea removed from the source
rings' jumps; `reference_areas` lists the implausible reference (official) areas of units
and provinces, with the figures behind each.

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
                   seconds: float, islands: list[dict] | None = None, sea_km2=None,
                   references: pd.DataFrame | None = None) -> dict:
    """Return the report as a JSON-ready dict.

    `communes` holds every 2025 unit built, those without geometry (None) included;
    `islands` describes where island geometry came from (`islands.IslandSource` rows);
    `sea_km2` is each commune's area outside the land polygons (`polygons.sea_km2`),
    `references` the reference-area checks (`assemble.reference_checks`).
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
    if sea_km2 is not None:
        report["coast"] = coast_section(communes, sea_km2, stats)
    if references is not None:
        report["reference_areas"] = reference_section(communes, references)
    report["targets"] = _targets(report) if full_country else {}
    return report


# A coastal unit is one with more than this in the sea (km²): below, it is digitising noise.
COASTAL_MIN_KM2 = 0.01
# A province whose reference areas add up to more than this off its polygon is flagged.
PROVINCE_TOLERANCE = 0.10


def coast_section(communes, sea_km2, stats: dict) -> dict:
    """The part of each coastal unit lying in the sea (outside Natural Earth land)."""
    frame = communes[["code", "name", "province_name", "area_km2"]].copy()
    frame["sea_km2"] = np.round(np.asarray(sea_km2, dtype=float), 3)
    coastal = frame[frame["sea_km2"] > COASTAL_MIN_KM2].copy()
    coastal["sea_share"] = (coastal["sea_km2"] / coastal["area_km2"]).round(4)
    coastal = coastal.sort_values("sea_km2", ascending=False)
    return {
        "land_source": "Natural Earth 1:10m land (npm world-atlas, land-10m.json)",
        "sea_jumps_removed_km2": stats.get("sea_jumps_removed_km2"),
        "coastal_units": int(len(coastal)),
        "sea_km2_total": round(float(coastal["sea_km2"].sum()), 1),
        "sea_share_median": round(float(coastal["sea_share"].median()), 4)
        if len(coastal) else None,
        "units_over_half_in_sea": int((coastal["sea_share"] > 0.5).sum()),
        "units": [
            {"code": c, "name": n, "province": p, "area_km2": float(a), "sea_km2": float(k),
             "sea_share": float(r)}
            for c, n, p, a, k, r in coastal[["code", "name", "province_name", "area_km2",
                                             "sea_km2", "sea_share"]].itertuples(index=False)
        ],
    }


def reference_section(communes, references: pd.DataFrame) -> dict:
    """Implausible reference areas (units and provinces), with the figures behind each."""
    table = communes.set_index("code")
    refs = references.join(table[["name", "province_code", "province_name", "area_km2"]])
    flagged = refs[refs["flag"].notna()]
    rows = []
    for code, group in refs.groupby("province_code"):
        reference = float(group["official_area_km2"].sum())
        polygon = float(group["area_km2"].sum())
        usable = group["flag"].isna()
        checked = float(group.loc[usable, "official_area_km2"].fillna(
            group.loc[usable, "area_km2"]).sum() + group.loc[~usable, "area_km2"].sum())
        ratio = reference / polygon if polygon else None
        rows.append({
            "code": code, "name": group["province_name"].iat[0],
            "reference_sum_km2": round(reference, 1), "polygon_km2": round(polygon, 1),
            "ratio": round(ratio, 4) if ratio else None,
            "flagged": ratio is not None and abs(ratio - 1) > PROVINCE_TOLERANCE,
            "implausible_units": int((~usable).sum()),
            "sum_without_implausible_km2": round(checked, 1),
        })
    return {
        "rule": "a unit's reference area is implausible over 2× all the source polygons it "
                "can receive or under half those it receives whole; a province is flagged "
                f"when its units' reference areas add up more than {PROVINCE_TOLERANCE:.0%} "
                "off its polygon area. References implausible before the build steer no split or "
                "orphan; those the polygon then agrees with (within 2×) are not listed.",
        "units_flagged": int(len(flagged)),
        "units_not_steering": int((~refs["steered"]).sum()) if "steered" in refs else None,
        "units": [
            {"code": c, "name": r["name"], "province": r["province_name"],
             "reference_km2": float(r["official_area_km2"]),
             "polygon_km2": None if pd.isna(r["area_km2"]) else float(r["area_km2"]),
             "source_min_km2": float(r["source_min_km2"]),
             "source_max_km2": float(r["source_max_km2"]), "flag": r["flag"]}
            for c, r in flagged.iterrows()
        ],
        "provinces": rows,
        "provinces_flagged": [r["code"] for r in rows if r["flagged"]],
    }


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
    lines += _coast_lines(report.get("coast")) + _reference_lines(report.get("reference_areas"))
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


def _coast_lines(coast: dict | None) -> list[str]:
    if not coast:
        return []
    return [
        f"Coast: {coast['coastal_units']} units reach the sea (outside {coast['land_source']}):"
        f" {coast['sea_km2_total']} km² in all, median share {coast['sea_share_median']},"
        f" {coast['units_over_half_in_sea']} over half in the sea; sea crossed by the source"
        f" rings' jumps removed: {coast['sea_jumps_removed_km2']} km²",
        *[f"  {u['code']} {u['name']} ({u['province']}): {u['sea_km2']:.2f} of "
          f"{u['area_km2']:.2f} km² in the sea ({u['sea_share']:.1%})"
          for u in coast["units"][:20]],
    ]


def _reference_lines(refs: dict | None) -> list[str]:
    if not refs:
        return []
    lines = [f"Reference areas: {refs['units_flagged']} implausible ({refs['rule']})"]
    lines += [f"  {u['code']} {u['name']} ({u['province']}): reference {u['reference_km2']} "
              f"km², polygon {u['polygon_km2']} km², source polygons {u['source_min_km2']}–"
              f"{u['source_max_km2']} km²: {u['flag']}" for u in refs["units"]]
    lines += [f"  province {p['code']} {p['name']}: reference sum {p['reference_sum_km2']} km²,"
              f" polygon {p['polygon_km2']} km² (ratio {p['ratio']}), "
              f"{p['implausible_units']} implausible units; without them "
              f"{p['sum_without_implausible_km2']} km²"
              for p in refs["provinces"] if p["flagged"]]
    return lines


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value)}")
