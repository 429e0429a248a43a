"""A page of features as a table: CSV (UTF-8 with a byte-order mark, so that Excel reads
Vietnamese right) or an Excel workbook (XLSX).

The rows are exactly the features the same items request answers as GeoJSON (its filters,
sorting, paging and `properties`); the columns are their property names, then `longitude`
and `latitude` for points. Lists are written comma-joined and objects as JSON text, the
way the tiles carry them; a missing value is an empty cell.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable

import orjson
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MEDIA_TYPES = {"csv": CSV, "xlsx": XLSX}
POSITION = ("longitude", "latitude")
SHEET_TITLE_CHARS = 31  # Excel's limit on a sheet name
NOTICE_SHEET = "Ghi chú"  # notes: the synthetic-data notice of demo data


def rows(body: dict, fallback: Iterable[str] = ()) -> tuple[list[str], list[list]]:
    """(header, rows) of a FeatureCollection as served; `fallback` names the columns of a
    page without features."""
    features = orjson.loads(orjson.dumps(body["features"]))  # geometries as served
    header = list(dict.fromkeys(k for f in features for k in (f["properties"] or {})))
    if not features:
        header = [name for name in fallback if name != "geometry"]
    points = any((f.get("geometry") or {}).get("type") == "Point" for f in features)
    out = []
    for f in features:
        props = f["properties"] or {}
        row = [cell(props.get(name)) for name in header]
        if points:
            geometry = f.get("geometry") or {}
            row += (geometry.get("coordinates")[:2] if geometry.get("type") == "Point"
                    else [None, None])
        out.append(row)
    return header + (list(POSITION) if points else []), out


def cell(value):
    """A property as a table cell: text, a number, a boolean or None (empty)."""
    if isinstance(value, list):
        return ",".join("" if v is None else str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return value


def to_csv(header: list[str], table: list[list]) -> bytes:
    """The table as CSV: UTF-8 with a byte-order mark, CRLF line ends (RFC 4180)."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([["" if v is None else _csv_text(v) for v in row] for row in table])
    return ("\ufeff" + text.getvalue()).encode("utf-8")


def _csv_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def to_xlsx(header: list[str], table: list[list], title: str,
            notice: str | None = None) -> bytes:
    """The table as an Excel workbook: a sheet named `title`, and the synthetic-data
    `notice` (when the page carries one) on a second sheet."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_sheet_title(title))
    sheet.append(header)
    for row in table:
        sheet.append([_xlsx_value(sheet, v) for v in row])
    if notice:
        book.create_sheet(NOTICE_SHEET).append([notice])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet_title(title: str) -> str:
    cleaned = "".join("_" if c in "[]:*?/\\" else c for c in title)
    return cleaned[:SHEET_TITLE_CHARS] or "features"


def _xlsx_value(sheet, value):
    """A cell's value; text starting with '=' stays text (never a formula from data)."""
    if isinstance(value, str) and value.startswith("="):
        literal = WriteOnlyCell(sheet, value=value)
        literal.data_type = "s"
        return literal
    return value


def table(body: dict, fmt: str, title: str, fallback: Iterable[str] = ()) -> bytes:
    """A FeatureCollection's page as `fmt` ('csv' or 'xlsx')."""
    header, table_rows = rows(body, fallback)
    if fmt == "csv":
        return to_csv(header, table_rows)
    return to_xlsx(header, table_rows, title, body.get("notice"))
