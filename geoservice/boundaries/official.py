"""Loading official commune boundaries (`geoservice import-boundaries`, `POST
/imports/boundaries`): a new boundary version of the units the file holds.

1. read the file (`official_read`) and find its code and name columns;
2. check every feature: a known 2025 commune code (in `province`, when given), once, a
   name that fits the stored unit (diacritics count where the file has them), a polygon;
   invalid polygons are repaired (`shapely.make_valid`) and reported. Any row error and
   nothing is written;
3. the coordinate system: the file's own, or `crs`; a file without one is refused with
   the likely VN-2000 zones of its province (`official_crs`), and so is one whose units do
   not land where they are;
4. report the units of the scope missing from the file and overlapping units;
5. re-derive the border (`official_derive`) and write everything in one transaction: the
   communes (the new geometry, `boundary_source`, `boundary_version`), the provinces
   dissolved again, the border lines, the version with the previous geometry, the import.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely

from geoservice.boundaries import official_crs
from geoservice.boundaries.official_read import (
    BoundaryFile,
    commune_code,
    find_columns,
    read_boundary_file,
)
from geoservice.errors import ContentRejected
from geoservice.records.parsing.results import RowError
from geoservice.store import Store
from geoservice.store.records import utc_now
from geoservice.text import has_diacritics, marks_agree, name_key, nfc, unit_readings

LOGGER = logging.getLogger(__name__)

OVERLAP_KM2 = 0.001  # pairwise overlaps above 1,000 m² are reported (the build's tolerance)
OFF_KM = 1.0  # a unit lying this far from its current geometry is reported
# Where Vietnam's units can lie: the mainland and both archipelagos (Trường Sa's islands
# reach 117.8° E), with a margin.
REGION = (100.0, 5.0, 119.0, 25.0)


@dataclass
class BoundaryReport:
    """What a boundary import found and did ("applied", "rejected" or "preview")."""

    filename: str
    status: str
    units: int = 0
    crs: str = ""
    province_code: str | None = None
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    missing: list[dict] = field(default_factory=list)
    overlaps: list[dict] = field(default_factory=list)
    repaired: list[dict] = field(default_factory=list)
    border_changes: list[dict] = field(default_factory=list)
    version_id: str | None = None
    sha256: str = ""
    dry_run: bool = False

    def as_dict(self) -> dict:
        """The report as JSON-ready data."""
        data = {k: v for k, v in vars(self).items() if k != "errors"}
        data["errors"] = [vars(e) for e in self.errors]
        data["kind"] = "boundaries"
        return data


def import_boundaries(store: Store, path: Path, user: str, *, crs: str | None = None,
                      province: str | None = None, columns: dict[str, str] | None = None,
                      dry_run: bool = False, filename: str | None = None,
                      node_modules: Path | None = None) -> BoundaryReport:
    """Load one official boundary file as a new boundary version (all units, or none).

    Raises `ContentRejected`/`InvalidParameter` for a file refused as a whole (unreadable,
    no coordinate system, units that do not land where they are); row problems come back
    in the report with status "rejected". `node_modules` is where npm's world-atlas lies
    (the build's labels of the outline).
    """
    from geoservice.boundaries import official_derive

    source = read_boundary_file(path, filename)
    expected = store.boundaries_revision()
    communes = official_derive.stored(store, "communes")
    if province is not None and not any(p.get("province_code") == province
                                        for p, _g in communes.values()):
        raise ContentRejected(f"province: no 2025 province has the code '{province}'.",
                              parameter="province")
    report = BoundaryReport(source.name, "rejected", len(source.frame), province_code=province,
                            notes=list(source.notes), sha256=source.sha256, dry_run=dry_run)
    code_column, name_column = find_columns(source.frame, columns)
    if name_column is None:
        report.notes.append("no name column: names not checked against the units")
    codes = _checked_codes(source, code_column, name_column, communes, province, report)
    if report.errors:
        return report
    scope = {province} if province else {communes[c][0]["province_code"] for c in codes}
    system = _system(source, crs, store, scope, report, (codes, communes))
    geometries = _geometries(source, codes, system, report)
    if report.errors:
        return report
    _check_landing(source, geometries, codes, communes, system, store, scope, report)
    report.missing = [{"code": code, "name": props.get("full_name")}
                      for code, (props, _g) in sorted(communes.items())
                      if props.get("province_code") in scope and code not in codes]
    report.overlaps = overlaps(codes, geometries)
    for overlap in report.overlaps:
        report.warnings.append(f"units {overlap['codes'][0]} and {overlap['codes'][1]} "
                               f"overlap by {overlap['km2']:.4f} km²")
    _apply(store, source, codes, geometries, communes, report, user, system, dry_run,
           node_modules, expected)
    return report


def _checked_codes(source: BoundaryFile, code_column: str, name_column: str | None,
                   communes: dict, province: str | None, report: BoundaryReport) -> list[str]:
    """The 2025 code of each feature; problems as row errors (feature numbers from 1)."""
    codes, seen, bare = [], {}, 0
    names = source.frame[name_column] if name_column else [None] * len(source.frame)
    for number, (raw, name) in enumerate(zip(source.frame[code_column], names), start=1):
        code = commune_code(raw)
        codes.append(code)
        error = _row_problem(code, name, communes, province, seen, number)
        if error is not None:
            header = str(code_column) if error[0] == "code" else str(name_column)
            report.errors.append(RowError(number, header, *error[1:]))
            continue
        seen[code] = number
        if name is not None and not has_diacritics(str(name)) and \
                has_diacritics(communes[code][0].get("name")):
            bare += 1
    if bare:
        report.notes.append(f"{bare} names carry no diacritics: checked without them")
    return codes


def _row_problem(code, name, communes, province, seen, number):
    """(column, value, reason, suggestion) of a feature's unit problem, or None."""
    if code is None:
        return ("code", "", "no commune code", None)
    if code not in communes:
        guess = _by_name(name, communes, province)
        return ("code", code, f"{code} is not a 2025 commune code (extra: not in the store)",
                f"{guess[0]} {guess[1]}" if guess else None)
    props = communes[code][0]
    if province is not None and props.get("province_code") != province:
        return ("code", code, f"{code} {props.get('full_name')} is in province "
                f"{props.get('province_code')}, not in {province} (--province)", None)
    if code in seen:
        return ("code", code, f"{code} appears again (first as feature {seen[code]})", None)
    if name is not None and str(name).strip() and not _name_fits(str(name), props):
        return ("name", nfc(str(name)), f"the file names {code} '{nfc(str(name))}'; the store's "
                f"unit {code} is '{props.get('full_name')}'",
                "correct the code or the name")
    return None


def _name_fits(typed: str, props: dict) -> bool:
    official = props.get("name") or ""
    if name_key(typed) != name_key(official) and name_key(typed) != name_key(
            props.get("full_name")):
        return False
    return any(marks_agree(bare, official) for _kind, bare in unit_readings(typed))


def _by_name(name, communes, province) -> tuple[str, str] | None:
    if name is None:
        return None
    key = name_key(str(name))
    found = [(c, p.get("full_name")) for c, (p, _g) in communes.items()
             if name_key(p.get("name")) == key and (province is None
                                                    or p.get("province_code") == province)]
    return found[0] if len(found) == 1 else None


def _system(source: BoundaryFile, crs: str | None, store: Store, scope: set[str],
            report: BoundaryReport, units: tuple):
    """The coordinate system to read the file in; a file without one is refused."""
    if crs is not None:
        chosen = official_crs.parse_crs(crs)
        if source.crs is not None and not source.crs.equals(chosen):
            report.notes.append(f"the file declares {official_crs.crs_label(source.crs)}; "
                                f"read as {official_crs.crs_label(chosen)} (--crs)")
    else:
        chosen = source.crs
        kind = official_crs.coordinate_kind(tuple(source.frame.total_bounds))
        if chosen is not None and chosen.is_geographic and kind == "metres":
            raise ContentRejected(_no_system(source, store, scope, (
                f"{source.name} declares {official_crs.crs_label(chosen)} (degrees) but its "
                "coordinates are metres"), units), parameter="crs")
        if chosen is None:
            raise ContentRejected(_no_system(source, store, scope, (
                f"{source.name} has no coordinate system (no .prj beside the .shp)"
                if source.shapefile
                else f"{source.name} declares no coordinate system"), units), parameter="crs")
    report.crs = official_crs.crs_label(chosen)
    return chosen


def _no_system(source: BoundaryFile, store: Store, scope: set[str], why: str,
               units: tuple | None = None) -> str:
    """The refusal of a file without a (usable) coordinate system: why, and what to pass."""
    kind = official_crs.coordinate_kind(tuple(source.frame.total_bounds))
    minx, miny, maxx, maxy = source.frame.total_bounds
    looks = {"metres": f"its coordinates are metres (x {minx:,.0f} to {maxx:,.0f}, y "
                       f"{miny:,.0f} to {maxy:,.0f}): a projected grid such as VN-2000 TM-3 "
                       "or UTM",
             "degrees": f"its coordinates look like degrees (longitude {minx:.3f} to "
                        f"{maxx:.3f}, latitude {miny:.3f} to {maxy:.3f}): WGS 84 is likely",
             "unknown": "its coordinates are neither degrees nor a Vietnamese grid"}[kind]
    lines = [f"{why}; {looks}. Pass --crs (crs over HTTP) to name it."]
    for province in sorted(scope):
        zones, shape, label = province_zones(store, province)
        lines.append(f"Likely systems for province {province} ({label}):")
        sample = shapely.envelope(source.frame.geometry.to_numpy())
        for zone in zones:
            note = ""
            if kind == "metres":
                note = (_landing_note(source, zone, *units) if units
                        else official_crs.distance_note(sample, zone, shape))
            used = f", used by {', '.join(zone.provinces)}" if zone.provinces else ""
            lines.append(f"  --crs {zone.crs_text}  {zone.label}{used}"
                         + (f" - {note}" if note else ""))
    if kind == "degrees":
        lines.append("  --crs wgs84  WGS 84 degrees")
    return "\n".join(lines)


def _landing_note(source: BoundaryFile, zone, codes: list[str], communes: dict) -> str:
    """How many of the file's units land on their current geometry when read in `zone`."""
    points = shapely.point_on_surface(shapely.force_2d(source.frame.geometry.to_numpy()))
    moved = official_crs.to_wgs84(points, official_crs.parse_crs(zone.crs_text))
    pairs = [(communes[c][1], p) for c, p in zip(codes, moved)
             if c in communes and communes[c][1] is not None and p is not None]
    if not pairs:
        return ""
    landed = sum(bool(shape.covers(point)) for shape, point in pairs)
    return f"{landed} of {len(pairs)} units land on their current geometry"


def province_zones(store: Store, province: str):
    """The likely zones of a 2025 province (its own pre-reform province's first), its
    geometry and its name."""
    from geoservice.boundaries import official_derive

    legacy = official_derive.stored(store, "legacy-communes")
    communes = official_derive.stored(store, "communes")
    counts: dict[str, int] = {}
    names: dict[str, str] = {}
    for props, _g in legacy.values():
        if any(communes.get(s, ({}, None))[0].get("province_code") == province
               for s in props.get("successors") or ()):
            old = props.get("province_code")
            counts[old] = counts.get(old, 0) + 1
            names[old] = props.get("province_name") or old
    ordered = sorted(counts, key=lambda c: (c != province, -counts[c], c))
    if not ordered:
        ordered = [province]
    found = store.get("provinces", province)
    shape = found[2] if found else None
    label = (found[1].get("full_name") if found else province)
    merged = [f"{names.get(c, c)} {c}" for c in ordered]
    return official_crs.likely_zones(ordered), shape, f"{label}; from {', '.join(merged)}"


def _geometries(source: BoundaryFile, codes: list[str], system, report) -> np.ndarray:
    """The features' polygons in WGS 84, repaired where invalid; problems as row errors."""
    raw = shapely.force_2d(source.frame.geometry.to_numpy())
    moved = official_crs.to_wgs84(raw, system)
    out = np.empty(len(moved), dtype=object)
    for number, (code, geometry) in enumerate(zip(codes, moved), start=1):
        if geometry is None or geometry.is_empty:
            report.errors.append(RowError(number, "geometry", code, "no geometry", None))
            continue
        if geometry.geom_type not in ("Polygon", "MultiPolygon"):
            report.errors.append(RowError(number, "geometry", code, f"a {geometry.geom_type}, "
                                          "not a polygon", None))
            continue
        if not geometry.is_valid:
            reason = shapely.is_valid_reason(geometry)
            geometry = _polygonal(shapely.make_valid(geometry))
            report.repaired.append({"row": number, "code": code, "reason": reason})
            report.warnings.append(f"feature {number} ({code}): invalid polygon repaired "
                                   f"({reason})")
        out[number - 1] = shapely.MultiPolygon(shapely.get_parts(geometry))
    return out


def _polygonal(geometry):
    parts = [p for p in shapely.get_parts(geometry) if p.geom_type == "Polygon"]
    nested = [q for p in shapely.get_parts(geometry) if p.geom_type == "MultiPolygon"
              for q in shapely.get_parts(p)]
    return shapely.MultiPolygon(parts + nested)


def _check_landing(source, geometries, codes, communes, system, store, scope,
                   report) -> None:
    """Refuse a file whose units do not land where they are; note single strays."""
    from geoservice.geodesy import to_metric

    minx, miny, maxx, maxy = shapely.total_bounds(geometries)
    inside = REGION[0] <= minx and maxx <= REGION[2] and REGION[1] <= miny and maxy <= REGION[3]
    away = []
    for code, geometry in zip(codes, geometries):
        current = communes[code][1]
        if current is not None and inside:
            km = shapely.distance(to_metric(geometry), to_metric(current)) / 1e3
            if km > OFF_KM:
                away.append((code, km))
    compared = sum(communes[c][1] is not None for c in codes)
    if not inside or (compared and len(away) > compared / 2):
        where = ("outside Vietnam" if not inside else
                 f"{len(away)} of {compared} units away from their current geometry "
                 f"(median {np.median([km for _c, km in away]):,.1f} km)")
        raise ContentRejected(_no_system(
            source, store, scope, f"read as {official_crs.crs_label(system)}, the file lands "
            f"{where}: the coordinate system is probably not that one", (codes, communes)),
            parameter="crs")
    for code, km in away:
        report.warnings.append(f"unit {code} lies {km:.1f} km from its current geometry")


def overlaps(codes: list[str], geometries: np.ndarray) -> list[dict]:
    """Pairs of units overlapping by more than `OVERLAP_KM2` (km², equal-area)."""
    from geoservice.geodesy import to_metric

    metric = to_metric(geometries)
    tree = shapely.STRtree(metric)
    left, right = tree.query(metric, predicate="intersects")
    found = []
    for i, j in zip(left, right):
        if i < j:
            km2 = float(shapely.area(shapely.intersection(metric[i], metric[j]))) / 1e6
            if km2 > OVERLAP_KM2:
                found.append({"codes": [codes[i], codes[j]], "km2": round(km2, 6)})
    return found


def _apply(store, source, codes, geometries, communes, report, user, system, dry_run,
           node_modules, expected) -> None:
    """Re-derive the border and write the version (a dry run stops before writing)."""
    from geoservice.boundaries import official_derive
    from geoservice.geodesy import area_km2

    batch_id = uuid.uuid4().hex
    changed = dict(zip(codes, geometries))
    updated = {}
    for code, (props, geometry) in communes.items():
        props = {**props, "boundary_source": props.get("boundary_source", "demo")}
        if code in changed:
            geometry = changed[code]
            area = round(float(area_km2(geometry)), 3)
            official = props.get("official_area_km2")
            props |= {"area_km2": area, "match": "official", "area_guided": False,
                      "area_ratio": round(area / official, 4) if official else None,
                      "boundary_source": source.name, "boundary_version": batch_id}
        updated[code] = (props, geometry)
    lines, metrics, labelled_by = official_derive.derive_border(store, updated, node_modules)
    report.notes.append(f"border re-derived; the outline labelled with {labelled_by}")
    metrics = official_derive.metrics_by_code(metrics)
    designations = store.border_designations()
    for code, (props, geometry) in updated.items():
        before = list(props.get("border_neighbors_derived", props.get("border_neighbors")) or [])
        props = official_derive.with_border(props, metrics.get(code), designations.get(code))
        if props["border_neighbors_derived"] != before:
            report.border_changes.append({"code": code, "before": before,
                                          "after": props["border_neighbors_derived"]})
        updated[code] = (props, geometry)
    if dry_run:
        report.status = "preview"
        return
    provinces = official_derive.stored(store, "provinces")
    redraw = {communes[c][0]["province_code"] for c in codes}
    store.write_boundaries({
        "kind": "boundaries",
        "import": {"id": batch_id, "filename": source.name, "sha256": source.sha256,
                   "imported_by": user, "imported_at": utc_now(), "updated": len(codes)},
        "collections": {
            "communes": official_derive.commune_rows(updated),
            "provinces": official_derive.province_rows(provinces, updated, redraw),
            "border-lines": official_derive.border_line_rows(lines)},
        "version": {"crs": report.crs, "unit_count": len(codes),
                    "province_code": report.province_code},
        "previous": [(code, *communes[code]) for code in codes],
        "expected": expected,
    })
    report.status, report.version_id = "applied", batch_id
    LOGGER.info("boundary version %s from %s: %d units", batch_id, source.name, len(codes))
