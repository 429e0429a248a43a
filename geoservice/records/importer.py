"""Importing an official's file of records: validate everything, then write all or nothing.

1. read the CSV or Excel file and parse every row for the kind (`parsing`);
2. resolve each row's unit to a 2025 commune (`resolve`): by code, by 2025 name, or by
   pre-reform names and codes through the lineage — ambiguous or unknown units are errors;
3. build the records with their natural keys; two rows that turn out to be the same record
   (for example the old and the new name of one commune) are an error;
4. if any row has an error, nothing is written and the report lists every error (row,
   column, value, reason, suggestion); otherwise the whole file is applied in one
   transaction, where unchanged records stay as they are (re-import is a no-op) and
   changed ones are updated with their history.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field

import shapely

from geoservice.errors import InvalidParameter
from geoservice.records.kinds import KINDS, KindDef, natural_key
from geoservice.records.parsing.reading import read_table
from geoservice.records.parsing.results import RowError
from geoservice.records.parsing.rows import parse_rows
from geoservice.records.resolve import OK, UnitResolver
from geoservice.store import FeatureQuery, Store
from geoservice.store.records import ImportBatch, RecordWrite

LOGGER = logging.getLogger(__name__)

UNIT_COLUMNS = ("commune_code", "commune", "district", "province")


@dataclass
class ImportReport:
    """The outcome of one import, for the command line, the API and the error CSV."""

    kind: str
    filename: str
    rows: int
    status: str  # "applied" or "rejected"
    errors: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    outcome: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        """Return the report as JSON-ready data."""
        return {
            "kind": self.kind, "filename": self.filename, "rows": self.rows,
            "status": self.status, "written": self.outcome,
            "errors": [vars(e) for e in self.errors], "warnings": list(self.warnings),
        }


def run_import(store: Store, kind_id: str, data: bytes, filename: str, user: str,
               resolver: UnitResolver | None = None, synthetic: bool = False,
               area: str | None = None, **options) -> ImportReport:
    """Import one file of records of `kind_id` into the store (all rows, or none).

    `area` (a province code) limits the file to that province: a row of a unit elsewhere
    is an error, so a province editor cannot write another province's records.
    """
    if kind_id not in KINDS:
        raise InvalidParameter(f"Unknown kind '{kind_id}'. Kinds: {', '.join(KINDS)}.",
                               parameter="kind")
    kind = KINDS[kind_id]
    table = read_table(data, filename)
    parsed = parse_rows(table, kind, **options)
    errors = list(parsed.errors)
    resolver = resolver or UnitResolver.from_store(store, lineage_defaults(store))
    shapes = _communes(store)
    communes = {code: props for code, (props, _geometry) in shapes.items()}
    records, seen = [], {}
    for row in parsed.rows:
        record = _record(kind, row, resolver, communes, errors, synthetic, parsed.header_map)
        if record is None:
            continue
        if area is not None and record.province_code != area:
            label = _unit_column(row)
            errors.append(RowError(
                row.row, parsed.header_map.label(label) if parsed.header_map else label,
                str(row.values.get(label) or ""),
                f"commune {record.commune_code} is in province {record.province_code}, "
                f"outside your area (province {area})", None))
            continue
        if record.natural_key in seen:
            label = _unit_column(row)
            label = parsed.header_map.label(label) if parsed.header_map else label
            errors.append(RowError(
                row.row, label, "", f"the same record as row {seen[record.natural_key]} "
                "(same unit and key fields)", None))
            continue
        seen[record.natural_key] = row.row
        records.append(record)
    report = ImportReport(kind_id, filename, len(table.rows), "rejected",
                          sorted(errors, key=lambda e: (e.row, e.column or "")),
                          list(getattr(parsed, "warnings", []))
                          + _far_points(kind_id, records, shapes))
    if report.errors:
        LOGGER.info("import of %s rejected: %d errors", filename, len(report.errors))
        return report
    batch = ImportBatch(kind_id, filename, hashlib.sha256(data).hexdigest(), user)
    report.outcome = store.apply_records(records, batch).as_dict()
    report.status = "applied"
    LOGGER.info("import of %s applied: %s", filename, report.outcome)
    return report


def coordinate_options(central_meridian: float | None, utm_zone: int | None) -> dict:
    """Return the parsing options for a file's coordinates: WGS 84 unless a VN-2000 zone."""
    if central_meridian is None and utm_zone is None:
        return {}
    if utm_zone is not None and utm_zone not in (48, 49):
        raise InvalidParameter("utm_zone must be 48 or 49.", parameter="utm_zone")
    return {"coordinates": "vn2000", "central_meridian": central_meridian,
            "utm_zone": utm_zone}


def lineage_defaults(store: Store) -> dict[str, str]:
    """Return the default 2025 successor of each split pre-reform unit (from the store)."""
    import json

    text = store.get_meta("lineage_defaults")
    return json.loads(text) if text else {}


FAR_KM = 5.0  # a point further than this outside its commune is probably misplaced
POINT_KINDS = ("incidents", "models", "hot-spots")  # cooperation points are across the border


def _far_points(kind_id: str, records: list[RecordWrite], shapes: dict) -> list[str]:
    """Warnings for points lying well outside the commune their row names."""
    points = [r for r in records if r.geometry is not None and r.geometry.geom_type == "Point"]
    if kind_id not in POINT_KINDS or not points:
        return []
    warnings = []
    for record in points:
        props, polygon = shapes.get(record.commune_code, (None, None))
        if polygon is None:
            continue
        km = geodesic_km(polygon, record.geometry)
        if km > FAR_KM:
            warnings.append(f"row {record.source_row}: the point lies {km:.1f} km outside "
                            f"commune {record.commune_code} ({props.get('full_name')}); "
                            "check the coordinates (and the VN-2000 zone, if any)")
    return warnings


def geodesic_km(polygon, point) -> float:
    """Distance in km from a point to a polygon, both in degrees (0 inside)."""
    import math

    from shapely.ops import nearest_points

    if polygon.covers(point):
        return 0.0
    nearest = nearest_points(polygon, point)[0]
    dx = (point.x - nearest.x) * 111.32 * math.cos(math.radians(point.y))
    dy = (point.y - nearest.y) * 110.57
    return math.hypot(dx, dy)


def _communes(store: Store) -> dict[str, tuple[dict, object]]:
    page = store.query("communes", FeatureQuery(limit=10**6))
    return {fid: (props, geometry) for fid, props, geometry in page.features}


def _unit_column(row) -> str:
    return "commune_code" if row.values.get("commune_code") else "commune"


def _record(kind: KindDef, row, resolver, communes, errors, synthetic,
            headers) -> RecordWrite | None:
    values = row.values
    found = resolver.resolve(code=values.get("commune_code"), name=values.get("commune"),
                             province=values.get("province"), district=values.get("district"))
    if found.status != OK:
        column = _unit_column(row)
        value = values.get(column) or ""
        label = headers.label(column) if headers else column
        errors.append(RowError(row.row, label, str(value), found.message, found.suggestion))
        return None
    if values.get("commune_code") and values.get("commune"):
        by_name = resolver.resolve(name=values.get("commune"), province=values.get("province"),
                                   district=values.get("district"))
        if by_name.status == OK and by_name.code != found.code:
            label = headers.label("commune") if headers else "commune"
            errors.append(RowError(
                row.row, label, str(values["commune"]),
                f"the code {values['commune_code']} is commune {found.code} "
                f"({communes[found.code].get('full_name')}), but this name is commune "
                f"{by_name.code} ({communes[by_name.code].get('full_name')})",
                "correct the code or the name"))
            return None
    commune = communes[found.code]
    fields = {f.name: values.get(f.name) for f in kind.fields}
    properties = {k: v for k, v in fields.items() if v is not None}
    if synthetic:
        properties["synthetic"] = True
    return RecordWrite(
        kind=kind.id,
        natural_key=natural_key(kind.id, {**fields, "commune_code": found.code}),
        commune_code=found.code,
        province_code=commune["province_code"],
        properties=properties,
        geometry=_geometry(fields),
        neighbors=tuple(commune.get("border_neighbors") or ()),
        year=_year(kind, fields),
        date=fields.get(kind.date_field) if kind.date_field else None,
        category=fields.get(kind.category_field) if kind.category_field else None,
        synthetic=synthetic,
        source_row=row.row,
    )


def _year(kind: KindDef, fields: dict) -> int | None:
    if kind.year_field:
        return fields.get(kind.year_field)
    when = fields.get(kind.date_field) if kind.date_field else None
    return when.year if when is not None else None


def _geometry(fields: dict):
    if fields.get("area_wkt") is not None:
        value = fields["area_wkt"]
        return value if hasattr(value, "geom_type") else shapely.from_wkt(value)
    for lon, lat in (("lon", "lat"), ("partner_lon", "partner_lat")):
        if fields.get(lon) is not None and fields.get(lat) is not None:
            return shapely.Point(fields[lon], fields[lat])
    return None
