"""Importing an official's file of records: validate everything, then write all or nothing.

1. read the CSV or Excel file and parse every row for the kind (`parsing`);
2. resolve each row's unit to a 2025 commune (`resolve`): by code, by 2025 name, or by
   pre-reform names and codes through the lineage — ambiguous or unknown units are errors;
3. build the records with their natural keys; two rows that turn out to be the same record
   (for example the old and the new name of one commune) are an error, and two pre-reform
   communes merged into one 2025 unit are told as such, with the advice to add them up;
4. a province editor's rows must lie in its province: a unit elsewhere, or a point more
   than `AREA_MARGIN_KM` outside the province, is an error;
5. if any row has an error, nothing is written and the report lists every error (row,
   column, value, reason, suggestion); otherwise the whole file is applied in one
   transaction, where unchanged records stay as they are (re-import is a no-op) and
   changed ones are updated with their history. A dry run stops before writing and says
   what would be written, row by row (`preview`).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from functools import partial

import shapely

from geoservice.errors import InvalidParameter
from geoservice.progress import Progress, counted
from geoservice.records.kinds import KINDS, UNIT_FIELDS, KindDef, natural_key
from geoservice.records.parsing.reading import read_table
from geoservice.records.parsing.results import RowError
from geoservice.records.parsing.rows import parse_rows
from geoservice.records.preview import preview
from geoservice.records.resolve import OK, UnitResolver
from geoservice.store import FeatureQuery, Store
from geoservice.store.records import ImportBatch, RecordWrite
from geoservice.text import name_key, nfc

LOGGER = logging.getLogger(__name__)
UNITS, WRITING = "checking units", "writing records"  # stages told to `run_import`'s progress


@dataclass
class ImportReport:
    """The outcome of one import, for the command line, the API and the error CSV.

    `status` is "applied", "rejected" or, for a dry run without errors, "preview" (then
    `preview` says what would be written, row by row). `notes` say how the file was read
    (header row, total rows skipped, wide layout); they are not problems.
    """

    kind: str
    filename: str
    rows: int
    status: str
    errors: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    outcome: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    dry_run: bool = False
    preview: dict | None = None

    def as_dict(self) -> dict:
        """Return the report as JSON-ready data."""
        data = {
            "kind": self.kind, "filename": self.filename, "rows": self.rows,
            "status": self.status, "written": self.outcome,
            "errors": [vars(e) for e in self.errors], "warnings": list(self.warnings),
            "notes": list(self.notes),
        }
        if self.dry_run:
            data |= {"dry_run": True, "preview": self.preview}
        return data


def run_import(store: Store, kind_id: str, data: bytes, filename: str, user: str,
               resolver: UnitResolver | None = None, synthetic: bool = False,
               area: str | None = None, columns: dict[str, str] | None = None,
               dry_run: bool = False, progress: Progress | None = None,
               **options) -> ImportReport:
    """Import one file of records of `kind_id` into the store (all rows, or none).

    `area` (a province code) limits the file to that province: a row of a unit elsewhere,
    or a point more than `AREA_MARGIN_KM` outside the province, is an error, so a province
    editor cannot place records in another province. `columns` (field -> header text)
    names columns whose header is not recognised. A `dry_run` checks everything and says
    what would be written (status "preview"), storing nothing. `progress(stage, done,
    total)` hears the rows read, checked, their units checked and the records written.
    """
    if kind_id not in KINDS:
        raise InvalidParameter(f"Unknown kind '{kind_id}'. Kinds: {', '.join(KINDS)}.",
                               parameter="kind")
    kind = KINDS[kind_id]
    check_columns(kind, columns)
    table = read_table(data, filename, kind=kind, columns=columns,
                       coordinates=options.get("coordinates") or "wgs84", progress=progress)
    parsed = parse_rows(table, kind, columns=columns, progress=progress, **options)
    errors = list(parsed.errors)
    if progress is not None:  # the units' index takes a moment: show the stage meanwhile
        progress(UNITS, 0, len(parsed.rows))
    resolver = resolver or UnitResolver.from_store(store, lineage_defaults(store))
    shapes = _communes(store)
    communes = {code: props for code, (props, _geometry) in shapes.items()}
    labels = _Labels(parsed.header_map)
    records = _records(kind, counted(progress, UNITS, parsed.rows), resolver, communes, errors,
                       synthetic, labels, area)
    errors.extend(_outside_area(kind_id, records, store, area, labels))
    failed = {e.row for e in errors}
    report = ImportReport(kind_id, filename, len(table.rows), "rejected",
                          sorted(errors, key=lambda e: (e.row, e.column or "")),
                          list(getattr(parsed, "warnings", []))
                          + _far_points(kind_id, [r for r in records
                                                  if r.source_row not in failed], shapes),
                          notes=list(table.notes), dry_run=dry_run)
    if report.errors:
        LOGGER.info("import of %s rejected: %d errors", filename, len(report.errors))
        return report
    if dry_run:
        report.status, report.preview = "preview", preview(store, records, communes)
        LOGGER.info("dry run of %s: %s", filename, report.preview["would_write"])
        return report
    batch = ImportBatch(kind_id, filename, hashlib.sha256(data).hexdigest(), user)
    writing = None if progress is None else partial(progress, WRITING)
    report.outcome = store.apply_records(records, batch, progress=writing).as_dict()
    report.status = "applied"
    LOGGER.info("import of %s applied: %s", filename, report.outcome)
    return report


class _Labels:
    """The file's header for a field (the field name where the file has none)."""

    def __init__(self, headers) -> None:
        self.headers = headers

    def __call__(self, name: str) -> str:
        return self.headers.label(name) if self.headers else name


def _records(kind: KindDef, rows, resolver, communes, errors, synthetic, label, area
             ) -> list[RecordWrite]:
    """The records of the checked rows; unit, area and same-record problems to `errors`."""
    records, seen = [], {}
    for row in rows:
        record = _record(kind, row, resolver, communes, errors, synthetic, label)
        if record is None:
            continue
        column = _unit_column(row)
        if area is not None and record.province_code != area:
            errors.append(RowError(
                row.row, label(column), str(row.values.get(column) or ""),
                f"commune {record.commune_code} is in province {record.province_code}, "
                f"outside your area (province {area})", None))
            continue
        if record.natural_key in seen:
            errors.append(_same_record(kind, row, seen[record.natural_key], record,
                                       communes, label))
            continue
        seen[record.natural_key] = row
        records.append(record)
    return records


def _named_unit(row, commune: dict) -> str:
    """What identifies the unit a row names: the 2025 unit's name key, or its own cells."""
    values = row.values
    if values.get("commune_code") and values["commune_code"] != commune.get("code"):
        return f"code {values['commune_code']}"
    if values.get("commune_code") or not values.get("district") and \
            name_key(values.get("commune")) == name_key(commune.get("name")):
        return name_key(commune.get("name"))
    return name_key(values.get("commune"))


def _unit_text(row) -> str:
    values = row.values
    if values.get("commune_code"):
        return str(values["commune_code"])
    return ", ".join(str(values[k]) for k in ("commune", "district", "province") if values.get(k))


def _same_record(kind: KindDef, row, first, record: RecordWrite, communes, label) -> RowError:
    """Two rows that are one record: the same unit twice, or two units merged in 2025."""
    column = _unit_column(row)
    commune = {**communes[record.commune_code], "code": record.commune_code}
    if _named_unit(row, commune) == _named_unit(first, commune):
        return RowError(row.row, label(column), "", f"the same record as row {first.row} "
                        "(same unit and key fields)", None)
    unit = f"{record.commune_code} {commune.get('full_name') or commune.get('name')}"
    counts = [f.name for f in kind.fields if f.type == "int" and f.name != kind.year_field]
    action = (f"add the counts of rows {first.row} and {row.row} up into one row for {unit}"
              if counts else f"keep one row for {unit}, or correct the unit of one of them")
    return RowError(row.row, label(column), _unit_text(row), (
        f"rows {first.row} and {row.row} name two units ({_unit_text(first)}; "
        f"{_unit_text(row)}) that were merged into one 2025 unit, {unit}: together they are "
        "one record of it, not two"), action)


AREA_MARGIN_KM = 2.0  # a province editor's point may lie this far outside the province


def _outside_area(kind_id: str, records: list[RecordWrite], store: Store, area: str | None,
                  label) -> list[RowError]:
    """Row errors for a province editor's points lying outside the province."""
    points = [r for r in records if r.geometry is not None and r.geometry.geom_type == "Point"]
    if area is None or kind_id not in POINT_KINDS or not points:
        return []
    province = store.get("provinces", area)
    if province is None or province[2] is None:
        return []
    _id, props, polygon = province
    inside = shapely.covers(polygon, [r.geometry for r in points])
    errors = []
    for record, covered in zip(points, inside, strict=True):
        km = 0.0 if covered else geodesic_km(polygon, record.geometry)
        if km > AREA_MARGIN_KM:
            point = record.geometry
            errors.append(RowError(
                record.source_row, label("lon"), f"{point.x:.6f}, {point.y:.6f}",
                f"the point lies {km:.1f} km outside province {area} "
                f"({props.get('full_name') or props.get('name')}), your area: a province "
                f"editor may place points only in its province (up to "
                f"{AREA_MARGIN_KM:g} km outside)",
                "check the coordinates (and the VN-2000 zone, if any); a record of "
                "another province is imported by that province or a national editor"))
    return errors


def check_columns(kind: KindDef, columns: dict[str, str] | None) -> None:
    """Refuse a column mapping naming a field the kind does not have."""
    names = [f.name for f in (*kind.fields, *UNIT_FIELDS)]
    for name, header in (columns or {}).items():
        if name not in names:
            raise InvalidParameter(f"column: {kind.id} records have no field '{name}'; "
                                   f"fields: {', '.join(names)}.", parameter="column")
        if not header.strip():
            raise InvalidParameter(f"column: give the header for {name}, e.g. "
                                   f"{name}=\"Số được xét\".", parameter="column")


def column_mapping(assignments) -> dict[str, str]:
    """Parse ``field=header`` texts (``reviewed=Số được xét``) into field -> header."""
    mapping = {}
    for text in assignments or ():
        name, sep, header = str(text).partition("=")
        header = nfc(header.strip().strip('"').strip())
        if not sep or not name.strip() or not header or len(text) > 300:
            raise InvalidParameter(f"column must be written field=header, e.g. "
                                   f"reviewed=\"Số được xét\" (got '{str(text)[:60]}').",
                                   parameter="column")
        mapping[name.strip()] = header
    return mapping


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
            label) -> RecordWrite | None:
    values = row.values
    found = resolver.resolve(code=values.get("commune_code"), name=values.get("commune"),
                             province=values.get("province"), district=values.get("district"))
    if found.status != OK:
        column = _unit_column(row)
        value = values.get(column) or ""
        errors.append(RowError(row.row, label(column), str(value), found.message,
                               found.suggestion))
        return None
    if values.get("commune_code") and values.get("commune"):
        by_name = resolver.resolve(name=values.get("commune"), province=values.get("province"),
                                   district=values.get("district"))
        if by_name.status == OK and by_name.code != found.code:
            errors.append(RowError(
                row.row, label("commune"), str(values["commune"]),
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


def audit_import(store: Store, actor: str | None, report: ImportReport, data: bytes,
                 remote_addr: str | None) -> None:
    """Record an import in the audit trail; a dry run as an ``import_preview`` row.

    A dry run writes no record and no import batch, so its row says what it would have
    written (``would_write``) or, with errors, how many there were: never an ``import``
    row, which would read as a write.
    """
    from geoservice import audit

    if not report.dry_run:
        audit.import_report(store, actor, report, data, remote_addr)
        return
    detail = {"kind": report.kind, "filename": report.filename, "rows": report.rows,
              "sha256": hashlib.sha256(data).hexdigest(), "dry_run": True,
              "errors": len(report.errors)}
    if report.status == "preview":
        detail["would_write"] = report.preview["would_write"]
    audit.record(store, "import_preview", actor, report.kind, detail, remote_addr)
