"""The official list of land border communes (`geoservice import border-designation`,
`POST /imports/border-designation`): it overrides the border communes derived from
geometry.

A CSV or Excel file, one row per border commune: the commune (2025 code, or name with its
province; old names resolve as in every import), the neighbouring country or countries it
faces (CN / LA / KH or "Trung Quốc", "Lào", "Campuchia"; several separated by commas) and
an optional reference (the decision that designates it). The list is complete for the
provinces it covers: there, a commune on the list faces what it says, and one missing from
it faces nothing (`border_source: official` on both); elsewhere the derived values stay
(`border_source: derived`). The derived value is kept on every commune
(`border_neighbors_derived`). Any row error and nothing is written.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import uuid
from dataclasses import dataclass, field

from geoservice.errors import ContentRejected
from geoservice.records.parsing.results import RowError
from geoservice.store import Store
from geoservice.store.records import utc_now
from geoservice.text import ascii_fold, nfc, plain_key

LOGGER = logging.getLogger(__name__)

NEIGHBOURS = ("CN", "LA", "KH")  # in `geoservice.boundaries.border.NEIGHBOURS` order

HEADERS = {
    "code": ("maxa", "maxa2025", "communecode", "code", "ma", "madvhc"),
    "commune": ("tenxa", "xa", "xaphuong", "commune", "name", "ten", "tendvhc"),
    "province": ("tinh", "tentinh", "province", "tinhthanhpho", "tinhthanh"),
    "neighbor": ("nuocgiapbien", "giapbien", "quocgia", "nuoc", "neighbor", "neighbour",
                 "country", "biengioi", "giap"),
    "reference": ("cancu", "quyetdinh", "soquyetdinh", "vanban", "reference", "ghichu"),
}
COUNTRY_NAMES = {plain_key(text): code for code, texts in {
    "CN": ("CN", "Trung Quốc", "China", "Trung Hoa"),
    "LA": ("LA", "Lào", "Laos", "Lao"),
    "KH": ("KH", "Campuchia", "Cambodia", "Cam-pu-chia"),
}.items() for text in texts}


@dataclass
class DesignationReport:
    """What a border-designation import found and did ("applied", "rejected", "preview")."""

    filename: str
    status: str
    rows: int = 0
    provinces: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    designated: int = 0
    not_derived: list[str] = field(default_factory=list)  # official, not derived
    not_listed: list[str] = field(default_factory=list)  # derived, not on the list
    notes: list[str] = field(default_factory=list)
    import_id: str | None = None
    dry_run: bool = False

    def as_dict(self) -> dict:
        """The report as JSON-ready data."""
        data = {k: v for k, v in vars(self).items() if k != "errors"}
        data["errors"] = [vars(e) for e in self.errors]
        data["kind"] = "border-designation"
        return data


def import_designation(store: Store, data: bytes, filename: str, user: str,
                       province: str | None = None, dry_run: bool = False
                       ) -> DesignationReport:
    """Load an official border-commune list (all rows, or none)."""
    from geoservice.boundaries import official_derive
    from geoservice.records.importer import lineage_defaults
    from geoservice.records.resolve import UnitResolver

    headers, rows = _read(data, filename)
    columns = _columns(headers)
    report = DesignationReport(filename, "rejected", len(rows), dry_run=dry_run)
    resolver = UnitResolver.from_store(store, lineage_defaults(store))
    expected = store.boundaries_revision()
    communes = official_derive.stored(store, "communes")
    listed: dict[str, dict] = {}
    for number, cells in rows:
        entry = _row(number, cells, columns, headers, resolver, communes, province, report)
        if entry is None:
            continue
        if entry["commune_code"] in listed:
            report.errors.append(RowError(number, headers[columns.get("code", columns.get(
                "commune"))], entry["commune_code"], f"commune {entry['commune_code']} is "
                f"listed again (first in row {listed[entry['commune_code']]['row']})", None))
            continue
        listed[entry["commune_code"]] = entry
    if report.errors:
        return report
    scope = {province} if province else {e["province_code"] for e in listed.values()}
    report.provinces = sorted(scope)
    _apply(store, communes, listed, scope, report, data, user, expected)
    return report


def _read(data: bytes, filename: str) -> tuple[list[str], list[tuple[int, list]]]:
    """Header texts and the non-empty rows (with their row numbers) of a CSV or XLSX."""
    if filename.lower().endswith((".xlsx", ".xlsm")):
        import openpyxl

        try:
            sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True,
                                           data_only=True).worksheets[0]
        except Exception as exc:  # noqa: BLE001 - any unreadable workbook is one refusal
            raise ContentRejected(f"{filename}: not a readable Excel workbook ({exc}).",
                                  parameter="file") from None
        table = [["" if v is None else str(v) for v in row]
                 for row in sheet.iter_rows(values_only=True)]
    elif filename.lower().endswith((".csv", ".txt")):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ContentRejected(f"{filename}: not UTF-8 text; save the CSV as UTF-8.",
                                  parameter="file") from None
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t") if text.strip() else None
        table = list(csv.reader(io.StringIO(text), dialect or csv.excel))
    else:
        raise ContentRejected(f"{filename}: give a CSV or Excel (.xlsx) file.",
                              parameter="file")
    numbered = [(n, [nfc(c) for c in row]) for n, row in enumerate(table, start=1)
                if any(str(c).strip() for c in row)]
    if not numbered:
        raise ContentRejected(f"{filename}: the file is empty.", parameter="file")
    (_n, headers), *rows = numbered
    return headers, rows


def _fold(text: str) -> str:
    return "".join(ch for ch in ascii_fold(nfc(str(text))).lower() if ch.isalnum())


def _columns(headers: list[str]) -> dict[str, int]:
    folded = [_fold(h) for h in headers]
    found = {}
    for name, spellings in HEADERS.items():
        for spelling in spellings:
            if spelling in folded and folded.index(spelling) not in found.values():
                found[name] = folded.index(spelling)
                break
    if "neighbor" not in found or not ({"code", "commune"} & set(found)):
        raise ContentRejected(
            "the list needs a commune column (Mã xã, or Xã with Tỉnh) and a neighbouring "
            f"country column (Nước giáp biên); the file's columns: {', '.join(headers)}.",
            parameter="file")
    return found


def _row(number, cells, columns, headers, resolver, communes, province, report):
    from geoservice.records.resolve import OK

    def cell(name: str) -> str:
        index = columns.get(name)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    found = resolver.resolve(code=cell("code") or None, name=cell("commune") or None,
                             province=cell("province") or None)
    unit_column = headers[columns["code"] if cell("code") else columns["commune"]]
    if found.status != OK:
        report.errors.append(RowError(number, unit_column, cell("code") or cell("commune"),
                                      found.message, found.suggestion))
        return None
    unit_province = communes[found.code][0].get("province_code")
    if province is not None and unit_province != province:
        report.errors.append(RowError(number, unit_column, cell("code") or cell("commune"),
                                      f"commune {found.code} is in province {unit_province}, "
                                      f"not in {province} (--province)", None))
        return None
    neighbours, unknown = set(), []
    for part in cell("neighbor").replace(";", ",").replace("/", ",").split(","):
        if part.strip():
            code = COUNTRY_NAMES.get(plain_key(part))
            if code:
                neighbours.add(code)
            else:
                unknown.append(part.strip())
    if unknown or not neighbours:
        report.errors.append(RowError(
            number, headers[columns["neighbor"]], cell("neighbor"),
            f"not a land neighbour: {', '.join(unknown)}" if unknown else "no neighbour given",
            "CN (Trung Quốc), LA (Lào) or KH (Campuchia)"))
        return None
    return {"row": number, "commune_code": found.code, "province_code": unit_province,
            "neighbors": [n for n in NEIGHBOURS if n in neighbours],
            "reference": cell("reference") or None}


def _apply(store: Store, communes: dict, listed: dict, scope: set[str],
           report: DesignationReport, data: bytes, user: str, expected) -> None:
    """Every commune of the scope designated (listed or facing nothing); write it all."""
    from geoservice.boundaries import official_derive

    import_id, filename = uuid.uuid4().hex, report.filename
    designations = {code: entry for code, entry in store.border_designations().items()
                    if entry["province_code"] not in scope}
    rows = []
    for code, (props, _geometry) in sorted(communes.items()):
        if props.get("province_code") not in scope:
            continue
        entry = listed.get(code, {"commune_code": code, "neighbors": [], "reference": None,
                                  "province_code": props.get("province_code")})
        rows.append(entry)
        designations[code] = {**entry, "filename": filename}
    updated = {}
    for code, (props, geometry) in communes.items():
        new = official_derive.with_border(props, None, designations.get(code))
        derived = new["border_neighbors_derived"]
        if code in listed and not derived:
            report.not_derived.append(code)
        if props.get("province_code") in scope and derived and code not in listed:
            report.not_listed.append(code)
        updated[code] = (new, geometry)
    report.designated = len(listed)
    if report.not_listed:
        report.notes.append(f"{len(report.not_listed)} communes derived as border communes "
                            "are not on the list: officially they face nothing")
    if report.dry_run:
        report.status = "preview"
        return
    provinces = official_derive.stored(store, "provinces")
    store.write_boundaries({
        "kind": "border-designation",
        "import": {"id": import_id, "filename": filename,
                   "sha256": hashlib.sha256(data).hexdigest(), "imported_by": user,
                   "imported_at": utc_now(), "updated": len(rows)},
        "collections": {"communes": official_derive.commune_rows(updated),
                        "provinces": official_derive.province_rows(provinces, updated, set())},
        "designations": {"scope": sorted(scope), "rows": rows},
        "expected": expected,
    })
    report.status, report.import_id = "applied", import_id
    LOGGER.info("border designation %s from %s: %d communes", import_id, filename, len(rows))
