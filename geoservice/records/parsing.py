"""Reading an official's CSV or Excel file into validated values of one record kind.

Three steps, all plain functions (no Flask, no database):

1. `read_table` turns the uploaded bytes (``.csv`` or ``.xlsx``) into a `Table`: the header
   texts and, for every non-empty data row, its row number *as the official sees it in the
   spreadsheet* and the raw cell values. Files that cannot be read at all are rejected with
   `InvalidParameter`; nothing else in this module raises for bad data.
2. `map_headers` matches the header texts with the kind's fields (by name or alias, compared
   with `text.name_key`, so diacritics, case, spacing and "Tỉnh/Thành phố"-style slashes do
   not matter).
3. `parse_rows` parses every cell with the parser of its field type (`parse_int`,
   `parse_date`, `parse_enum`, `parse_lon`/`parse_lat`, `parse_str`, `parse_wkt`), applies
   the kind's cross-field checks and finds rows repeated within the file. Every problem
   becomes a `RowError` (row, column header, value, reason, suggestion); `errors_csv` turns
   them into the downloadable report.

Each value parser returns ``(value, None)`` on success (``value`` is None for an empty cell)
or ``(None, reason, suggestion)`` where ``suggestion`` may be None.

Coordinates
-----------
By default a file's coordinates are WGS 84 decimal degrees (or degrees-minutes-seconds).
``parse_rows(..., coordinates="vn2000", central_meridian=105.5)`` (VN-2000 TM-3, k = 0.9999,
false easting 500 000 m) or ``coordinates="vn2000", utm_zone=48`` (VN-2000 / UTM 48N,
EPSG:3405; 49 -> EPSG:3406) reads metres instead and converts them to WGS 84 with pyproj,
through the VN-2000 datum as EPSG defines it (EPSG:4756 and its transformation to WGS 84).
Vietnamese surveying follows the geodetic convention: **X is the northing and Y the
easting**. In VN-2000 mode a column headed "X" / "Tọa độ X" / "Northing" / "Vĩ độ" is read as
the northing and "Y" / "Tọa độ Y" / "Easting" / "Kinh độ" as the easting; the converted
values land in the ``lat`` and ``lon`` fields. A WKT area (hot spots) in VN-2000 mode is read
in GIS axis order (easting northing), as GIS software writes it. The partner coordinates of
cross-border cooperation always stay in degrees: they lie outside Vietnam's grids.
"""

from __future__ import annotations

import calendar
import csv
import dataclasses
import datetime as dt
import difflib
import io
import math
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.crs import ProjectedCRS
from pyproj.crs.coordinate_operation import TransverseMercatorConversion

from geoservice.errors import InvalidParameter
from geoservice.records.kinds import UNIT_FIELDS, FieldDef, KindDef
from geoservice.text import ascii_fold, name_key, nfc

MAX_XLSX_UNCOMPRESSED = 50 * 1024 * 1024
MAX_XLSX_MEMBERS = 10_000
LON_RANGE = (100.0, 118.0)
LAT_RANGE = (6.0, 25.0)
MAX_COUNT = 2**31 - 1
TM3_SCALE = 0.9999
TM3_FALSE_EASTING = 500_000.0
VN2000_UTM_EPSG = {48: 3405, 49: 3406}
VN2000_GEOGRAPHIC_EPSG = 4756

_OLE_MAGIC = b"\xd0\xcf\x11\xe0"
_ZIP_MAGIC = b"PK\x03\x04"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_SERIAL_RANGE = (18264, 73415)  # 1950-01-01 .. 2100-12-31 in Excel's 1900 date system
_YEAR_RANGE = (1900, 2100)
_EXAMPLE_DATE = "05/03/2024"

Outcome = tuple  # (value, None) or (None, reason, suggestion | None)


# ---------------------------------------------------------------------------------------------
# Results


@dataclass
class Table:
    """The cells of a file: header texts and the non-empty data rows with their row numbers."""

    headers: list[str]
    rows: list[tuple[int, list]]
    header_row: int = 1
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RowError:
    """One problem in the file: where it is, what was there, why it is wrong, what might fit."""

    row: int
    column: str
    value: str
    reason: str
    suggestion: str | None = None


@dataclass
class HeaderMap:
    """Which column holds which field; unknown columns (warnings) and header errors."""

    headers: list[str]
    fields: dict[int, str]  # column index -> field name
    warnings: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    header_row: int = 1

    def column(self, name: str) -> int | None:
        """Return the index of the column holding field `name`, or None."""
        return next((i for i, f in self.fields.items() if f == name), None)

    def label(self, name: str) -> str:
        """Return the header text of field `name` as in the file (the field name if absent)."""
        index = self.column(name)
        return self.headers[index] if index is not None else name


@dataclass
class ParsedRow:
    """A row that passed every check: its row number and field -> typed value.

    Every field of the kind and the unit fields (``commune_code``, ``commune``, ``district``,
    ``province``, raw text for later resolution) are present; empty ones are None.
    """

    row: int
    values: dict[str, Any]


@dataclass
class ParseResult:
    """The rows without problems, every problem found, and warnings (e.g. ignored columns)."""

    rows: list[ParsedRow]
    errors: list[RowError]
    warnings: list[str] = field(default_factory=list)
    header_map: HeaderMap | None = None

    @property
    def ok(self) -> bool:
        """True when the file has no errors at all."""
        return not self.errors


# ---------------------------------------------------------------------------------------------
# Reading files


def read_table(data: bytes, filename: str, max_rows: int = 100_000) -> Table:
    """Read a ``.csv`` or ``.xlsx`` file into a `Table`; raise `InvalidParameter` if unreadable.

    Row numbers are those shown by a spreadsheet program: the header is normally row 1 and
    the first data row row 2 (leading empty rows and empty rows in between keep their
    numbers). Fully empty rows are skipped. Text is NFC-normalised.
    """
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension == "xls":
        raise InvalidParameter(
            "This is an old Excel 97-2003 (.xls) file. Open it in Excel and save it as "
            "Excel Workbook (.xlsx) or CSV, then upload it again.", parameter="file")
    if extension not in ("csv", "xlsx"):
        raise InvalidParameter(
            f"The file {_q(filename)} is not a CSV (.csv) or Excel (.xlsx) file; only these two "
            "formats can be imported.", parameter="file")
    if not data:
        raise InvalidParameter("The file is empty.", parameter="file")
    if extension == "xlsx":
        return _read_xlsx(data, max_rows)
    return _read_csv(data, max_rows)


def _reject(message: str) -> InvalidParameter:
    return InvalidParameter(message, parameter="file")


def _read_csv(data: bytes, max_rows: int) -> Table:
    if data.startswith(_ZIP_MAGIC):
        raise _reject("This file is an Excel workbook, not a CSV text file: rename it to .xlsx "
                      "or save it from Excel as CSV.")
    if data.startswith(_OLE_MAGIC):
        raise _reject("This file is an old Excel (.xls) workbook, not a CSV text file: save it "
                      "from Excel as .xlsx or CSV.")
    text = unicodedata.normalize("NFC", _decode(data))
    if "\x00" in text:
        raise _reject("This file is not a text CSV file (it contains binary data).")
    if not text.strip():
        raise _reject("The file is empty.")
    text, delimiter = _excel_sep_line(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter or _sniff(text))
    try:
        return _collect(enumerate(reader, start=1), max_rows)
    except csv.Error as exc:
        raise _reject(f"The CSV file could not be read near row {reader.line_num}: {exc}. "
                      "Save it again from Excel as CSV UTF-8.") from exc


def _decode(data: bytes) -> str:
    """Decode CSV bytes: UTF-16 with BOM, UTF-8 (with or without BOM), cp1258, latin-1."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    for encoding in ("utf-8-sig", "utf-8", "cp1258"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _excel_sep_line(text: str) -> tuple[str, str | None]:
    """Honour Excel's ``sep=;`` first line (Excel hides it, so rows are counted after it)."""
    first, _, rest = text.partition("\n")
    match = re.fullmatch(r"sep=(.)\r?", first.strip("\ufeff"))
    if match and match.group(1) in ",;\t|":
        return rest, match.group(1)
    return text, None


def _sniff(text: str) -> str:
    """Pick the delimiter (``,`` ``;`` or tab) that splits the first records most consistently."""
    sample = text[:16384]
    best, best_score = ",", (False, 0, 0)
    for delimiter in (",", ";", "\t"):
        records = []
        try:
            for record in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter):
                if any(cell.strip() for cell in record):
                    records.append(len(record))
                if len(records) >= 10:
                    break
        except csv.Error:
            continue
        if not records:
            continue
        score = (records[0] > 1, sum(1 for n in records if n == records[0]), records[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _read_xlsx(data: bytes, max_rows: int) -> Table:
    if data.startswith(_OLE_MAGIC):
        raise _reject("This file is an old Excel 97-2003 workbook or a password-protected "
                      "workbook. Save it from Excel as .xlsx without a password, or as CSV.")
    _check_zip(data)
    import openpyxl  # imported here: only Excel uploads need it

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for broken files
        raise _reject("The file could not be read as an Excel (.xlsx) workbook. Open it in "
                      "Excel, save it again as .xlsx, and upload it again.") from exc
    try:
        if not book.worksheets:
            raise _reject("The workbook has no worksheet.")
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # do not trust the stored size: read what is there
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _collect(enumerate(sheet.iter_rows(values_only=True), start=1), max_rows)
    except InvalidParameter:
        raise
    except Exception as exc:
        raise _reject("The first worksheet of the workbook could not be read. Open it in "
                      "Excel, save it again as .xlsx, and upload it again.") from exc
    finally:
        book.close()


def _check_zip(data: bytes) -> None:
    """Refuse what is not a zip, and zips that would expand past `MAX_XLSX_UNCOMPRESSED`.

    Only the central directory is read: nothing is decompressed. The declared sizes bound
    what `zipfile` (and so openpyxl) will ever inflate, so the check is sound.
    """
    not_xlsx = ("The file is not a valid Excel (.xlsx) workbook. Open it in Excel, save it "
                "again as .xlsx, and upload it again.")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise _reject(not_xlsx) from exc
    if len(members) > MAX_XLSX_MEMBERS:
        raise _reject(not_xlsx)
    if sum(m.file_size for m in members) > MAX_XLSX_UNCOMPRESSED:
        raise _reject(f"The workbook is too large: its contents exceed "
                      f"{MAX_XLSX_UNCOMPRESSED // (1024 * 1024)} MB once unpacked. Split it "
                      "into smaller files, or remove pictures and other sheets.")
    if "[Content_Types].xml" not in {m.filename for m in members}:
        raise _reject(not_xlsx)


def _collect(numbered: Iterable[tuple[int, Iterable]], max_rows: int) -> Table:
    """Build a `Table` from (row number, cells): skip empty rows, the first other is the header."""
    headers: list[str] | None = None
    header_row = 0
    rows: list[tuple[int, list]] = []
    overflow: list[int] = []
    for number, cells in numbered:
        cells = [_clean_cell(c) for c in cells]
        if all(_blank(c) for c in cells):
            continue
        if headers is None:
            headers, header_row = _header_texts(cells), number
            continue
        if len(cells) > len(headers) and any(not _blank(c) for c in cells[len(headers):]):
            overflow.append(number)
        cells = (cells + [None] * len(headers))[: len(headers)]
        if len(rows) >= max_rows:
            raise _reject(f"The file has more than {max_rows:,} data rows. Split it into "
                          "smaller files and import them one by one.")
        rows.append((number, cells))
    if headers is None:
        raise _reject("The file is empty: it has no header row.")
    if not rows:
        raise _reject("The file has a header row but no data rows.")
    notes = []
    if overflow:
        notes.append(f"{len(overflow)} row(s) (first: row {overflow[0]}) have values in columns "
                     "without a header; those values were ignored.")
    return Table(headers, rows, header_row, notes)


def _clean_cell(value: Any) -> Any:
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    return value


def _header_texts(cells: list) -> list[str]:
    texts = [nfc(_cell_text(c)) for c in cells]
    while texts and not texts[-1]:
        texts.pop()
    return texts


# ---------------------------------------------------------------------------------------------
# Headers

_PARENTHESISED = re.compile(r"[(\[][^)\]]*[)\]]")

# In VN-2000 mode X is the northing (-> lat field) and Y the easting (-> lon field).
_VN2000_ALIASES = {
    "lon": ("y", "toa do y", "y vn2000", "easting", "kinh do", "longitude", "lon", "lng"),
    "lat": ("x", "toa do x", "x vn2000", "northing", "vi do", "latitude", "lat"),
}


@lru_cache(maxsize=65536)
def _name_key(text: str | None) -> str:
    """`text.name_key`, cached: the same names and enum values repeat on many rows."""
    return name_key(text)


@lru_cache(maxsize=65536)
def _plain_key(text: str) -> str:
    """Folded, lower case, separators removed, unit-type prefixes kept ("Tỉnh/Thành phố")."""
    return re.sub(r"[^a-z0-9]+", "", ascii_fold(nfc(text)).lower())


def _header_keys(text: str) -> set[str]:
    keys = {name_key(text), _plain_key(text)}
    bare = _PARENTHESISED.sub(" ", text)
    if bare != text:
        keys |= {name_key(bare), _plain_key(bare)}
    keys.discard("")
    return keys


def _field_defs(kind: KindDef, coordinates: str = "wgs84") -> dict[str, FieldDef]:
    defs = {f.name: f for f in (*kind.fields, *UNIT_FIELDS)}
    if coordinates == "vn2000":
        for name, aliases in _VN2000_ALIASES.items():
            if name in defs:
                defs[name] = dataclasses.replace(defs[name], aliases=aliases)
    return defs


def _alias_index(defs: dict[str, FieldDef]) -> dict[str, str]:
    index: dict[str, str] = {}
    for f in defs.values():
        for alias in (f.name, *f.aliases):
            for key in (name_key(alias), _plain_key(alias)):
                index.setdefault(key, f.name)
    return index


def map_headers(headers: list[str], kind: KindDef, *, coordinates: str = "wgs84",
                header_row: int = 1) -> HeaderMap:
    """Map each column to a field of `kind` (or a unit field) by header name or alias.

    Unknown columns are ignored and listed in ``warnings``; two columns for one field,
    missing required columns and a missing unit column are ``errors`` (on the header row).
    """
    defs = _field_defs(kind, coordinates)
    index = _alias_index(defs)
    result = HeaderMap(list(headers), {}, header_row=header_row)
    taken: dict[str, int] = {}
    for i, header in enumerate(headers):
        if not header:
            result.warnings.append(f"Column {_column_letter(i)} has no header; it was ignored.")
            continue
        matches = {index[k] for k in _header_keys(header) if k in index}
        if not matches:
            result.warnings.append(f"Column {_q(header)} is not a field of "
                                   f"{kind.title_en.lower()}; it was ignored.")
        elif len(matches) > 1:
            result.errors.append(RowError(header_row, header, "", (
                f"the header {_q(header)} could mean several fields "
                f"({', '.join(sorted(matches))}); rename it")))
        elif (name := matches.pop()) in taken:
            result.errors.append(RowError(header_row, header, "", (
                f"the columns {_q(headers[taken[name]])} and {_q(header)} both give "
                f"{name}; keep only one of them")))
        else:
            taken[name] = i
            result.fields[i] = name
    result.errors.extend(_missing_columns(kind, defs, taken, result, coordinates))
    return result


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


_COLUMN_WORDS = {"lon": "longitude", "lat": "latitude", "partner_lon": "partner longitude",
                 "partner_lat": "partner latitude"}
_VN2000_COLUMN_WORDS = {**_COLUMN_WORDS, "lon": "Y (easting)", "lat": "X (northing)"}


def _missing_columns(kind: KindDef, defs: dict[str, FieldDef], taken: dict[str, int],
                     found: HeaderMap, coordinates: str) -> list[RowError]:
    words = _VN2000_COLUMN_WORDS if coordinates == "vn2000" else _COLUMN_WORDS

    def hint(name: str) -> str:
        aliases = defs[name].aliases
        label = words.get(name, name)
        return f"{label} (e.g. {_q(aliases[0])})" if aliases else label

    errors = []
    header_row = found.header_row
    missing = [f.name for f in kind.fields if f.required and f.name not in taken]
    if missing:
        errors.append(RowError(header_row, "", "", "missing required column(s): "
                               + "; ".join(hint(m) for m in missing)))
    if "commune_code" not in taken and "commune" not in taken:
        errors.append(RowError(header_row, "", "", (
            "no column names the unit: add a commune code column (e.g. 'Mã xã') or a "
            "commune name column (e.g. 'Xã/Phường')")))
    for lon, lat in _pairs(defs):
        if (lon in taken) != (lat in taken):
            have, lack = (lon, lat) if lon in taken else (lat, lon)
            errors.append(RowError(header_row, found.headers[taken[have]], "", (
                f"there is a column for {words[have]} but none for {words[lack]}: give both "
                "or neither")))
    if "area_wkt" in defs and "lon" not in taken and "area_wkt" not in taken:
        errors.append(RowError(header_row, "", "", (
            "no location columns: add longitude and latitude columns ('Kinh độ', 'Vĩ độ') "
            "or an area column in WKT ('Vùng WKT')")))
    return errors


def _pairs(defs: dict[str, FieldDef]) -> list[tuple[str, str]]:
    return [(lon, lon.replace("lon", "lat")) for lon in defs
            if defs[lon].type == "lon" and lon.replace("lon", "lat") in defs]


# ---------------------------------------------------------------------------------------------
# Value parsers


def _ok(value: Any) -> Outcome:
    return (value, None)


def _bad(reason: str, suggestion: str | None = None) -> Outcome:
    return (None, reason, suggestion)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _cell_text(value: Any) -> str:
    """Return a cell as text, the way the official would read it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return f"{value:%d/%m/%Y}"
        return f"{value:%d/%m/%Y %H:%M}"
    if isinstance(value, dt.date):
        return f"{value:%d/%m/%Y}"
    if isinstance(value, dt.time):
        return value.isoformat()
    return str(value).strip()


def _q(text: Any) -> str:
    """Quote a value in a message."""
    return f"'{text}'"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(round(value, 7))


def parse_str(value: Any) -> Outcome:
    """Text: NFC, each line trimmed with inner white space folded; empty -> None."""
    if _blank(value):
        return _ok(None)
    text = "\n".join(nfc(line) for line in _cell_text(value).splitlines()).strip("\n")
    return _ok(text or None)


_GROUPED = re.compile(r"\d{1,3}(?:([.,\s])\d{3})(?:\1\d{3})*")
_DECIMAL = re.compile(r"(\d+)[.,](\d+)")


def parse_int(value: Any) -> Outcome:
    """A whole, non-negative count: "1234", "1.234", "1,234", "1 234", 1234.0 from Excel."""
    if _blank(value):
        return _ok(None)
    if isinstance(value, bool) or isinstance(value, dt.date | dt.time):
        return _bad(f"{_q(_cell_text(value))} is not a number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not math.isfinite(value):
            return _bad(f"{_q(value)} is not a number")
        if not value.is_integer():
            return _bad(f"{_number(value)} is not a whole number")
        number = int(value)
    else:
        number, *problem = _int_from_text(nfc(str(value)))
        if problem:
            return _bad(*problem)
    if number < 0:
        return _bad(f"a count cannot be negative: {number}")
    if number > MAX_COUNT:
        return _bad(f"the number {number} is too large for a count")
    return _ok(number)


def _int_from_text(text: str) -> tuple:
    """Return (number,) or (None, reason, suggestion) for a count written as text."""
    sign = -1 if text[:1] in ("-", "\u2212") else 1
    body = text.lstrip("+-\u2212").strip()
    if re.fullmatch(r"\d+", body):
        return (sign * int(body),)
    if _GROUPED.fullmatch(body):
        return (sign * int(re.sub(r"\D", "", body)),)
    decimal = _DECIMAL.fullmatch(body)
    if decimal and not decimal.group(2).strip("0"):
        return (sign * int(decimal.group(1)),)
    if decimal:
        return (None, f"{_q(text)} is not a whole number", None)
    return (None, f"{_q(text)} is not a number", None)


_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_DMY = re.compile(r"(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})" + _TIME)
_YMD = re.compile(r"(\d{4})([/.\-])(\d{1,2})\2(\d{1,2})" + _TIME)
_VN_LONG = re.compile(r"(?:ngay )?(\d{1,2}) thang (\d{1,2}) nam (\d{4})")
_PARTIAL = (
    re.compile(r"(?:thang )?\d{1,2} ?(?:[/.\-]|nam) ?\d{4}"),
    re.compile(r"\d{4} ?[/.\-] ?\d{1,2}"),
    re.compile(r"(?:nam )?\d{4}"),
    re.compile(r"(?:quy|q) ?\w+ ?(?:[/.\-]|nam)? ?\d{4}"),
)


def parse_date(value: Any) -> Outcome:
    """A calendar date, always read day/month/year (never month first).

    Accepts Excel dates, Excel serial numbers (1950-2100), "05/03/2024", "5/3/2024",
    "05-03-2024", "05.03.2024", "2024-03-05" and "ngày 5 tháng 3 năm 2024". Partial dates
    ("03/2024", "tháng 3/2024", "2024") and impossible dates ("31/02/2024") are refused.
    """
    if _blank(value):
        return _ok(None)
    if isinstance(value, dt.datetime):
        return _ok(value.date())
    if isinstance(value, dt.date):
        return _ok(value)
    if isinstance(value, bool) or isinstance(value, dt.time):
        return _bad(f"{_q(_cell_text(value))} is not a date")
    if isinstance(value, int | float):
        return _date_from_serial(value)
    return _date_from_text(nfc(str(value)))


def _date_from_serial(value: float) -> Outcome:
    if not math.isfinite(value):
        return _bad(f"{_q(value)} is not a date")
    if _SERIAL_RANGE[0] <= value <= _SERIAL_RANGE[1]:
        return _ok(_EXCEL_EPOCH + dt.timedelta(days=int(value)))
    if float(value).is_integer() and _YEAR_RANGE[0] <= value <= _YEAR_RANGE[1]:
        return _bad(f"{_number(value)} is only a year, not a full date: give day, month and "
                    f"year (e.g. {_EXAMPLE_DATE})")
    return _bad(f"the number {_number(value)} is not a date: write it as day/month/year "
                f"(e.g. {_EXAMPLE_DATE})")


def _date_from_text(text: str) -> Outcome:
    folded = " ".join(ascii_fold(text).lower().replace(",", " ").split())
    if match := _DMY.fullmatch(folded):
        day, month, year = int(match.group(1)), int(match.group(3)), match.group(4)
        if len(year) == 2:
            full = _century(int(year))
            return _bad(f"{_q(text)}: the year must have four digits",
                        f"{day:02d}/{month:02d}/{full}")
        return _make_date(int(year), month, day, text)
    if match := _YMD.fullmatch(folded):
        return _make_date(int(match.group(1)), int(match.group(3)), int(match.group(4)), text)
    if match := _VN_LONG.fullmatch(folded):
        return _make_date(int(match.group(3)), int(match.group(2)), int(match.group(1)), text)
    if any(p.fullmatch(folded) for p in _PARTIAL):
        return _bad(f"{_q(text)} is not a full date: give day, month and year "
                    f"(e.g. {_EXAMPLE_DATE})")
    return _bad(f"{_q(text)} is not a date: write it as day/month/year (e.g. {_EXAMPLE_DATE})")


def _century(two_digits: int) -> int:
    this_year = dt.date.today().year
    year = 2000 + two_digits
    return year if year <= this_year + 1 else year - 100


def _make_date(year: int, month: int, day: int, text: str) -> Outcome:
    if not 1 <= month <= 12:
        if 1 <= day <= 12 and month <= 31:
            return _bad(f"{_q(text)}: {month} is not a month; dates are read as day/month/year",
                        f"{month:02d}/{day:02d}/{year}")
        return _bad(f"{_q(text)}: month {month} does not exist")
    if not _YEAR_RANGE[0] <= year <= _YEAR_RANGE[1]:
        return _bad(f"{_q(text)}: the year {year} is not plausible")
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        return _bad(f"{_q(text)} is not a real date: month {month} of {year} has {last} days")
    return _ok(dt.date(year, month, day))


@lru_cache(maxsize=64)
def _enum_index(items: tuple[tuple[str, tuple[str, ...]], ...]) -> dict[str, tuple[str, str]]:
    """Key of every spelling (with and without unit-type prefix) -> (choice, spelling)."""
    index: dict[str, tuple[str, str]] = {}
    for choice, spellings in items:
        for spelling in (choice, *spellings):
            index.setdefault(name_key(spelling), (choice, spelling))
            index.setdefault(_plain_key(spelling), (choice, spelling))
    return index


def _choice_items(choices: dict[str, tuple[str, ...]]) -> tuple:
    return tuple((k, tuple(v)) for k, v in choices.items())


def parse_enum(value: Any, choices: dict[str, tuple[str, ...]]) -> Outcome:
    """One of `choices` (value -> spellings), matched by `name_key`; unknown -> nearest."""
    if _blank(value):
        return _ok(None)
    items = _choice_items(choices)
    index = _enum_index(items)
    text = _cell_text(value)
    found = index.get(_name_key(text)) or index.get(_plain_key(text))
    if found:
        return _ok(found[0])
    accepted = ", ".join(
        f"{spellings[0]} ({choice})" if spellings and spellings[0] != choice else choice
        for choice, spellings in items)
    close = difflib.get_close_matches(name_key(text), list(index), n=1, cutoff=0.6)
    return _bad(f"{_q(text)} is not an accepted value; accepted: {accepted}",
                index[close[0]][1] if close else None)


_HEMISPHERES = {"N": 1, "B": 1, "S": -1, "E": 1, "Đ": 1, "D": 1, "W": -1, "T": -1}
_AXIS_OF_HEMISPHERE = {"N": "lat", "B": "lat", "S": "lat",
                       "E": "lon", "Đ": "lon", "D": "lon", "W": "lon", "T": "lon"}
_DMS_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_AXIS_NAMES = {"lon": "longitude", "lat": "latitude"}


def _degrees(value: Any, axis: str) -> Outcome:
    """Decimal degrees or degrees-minutes-seconds, without the range check."""
    if _blank(value):
        return _ok(None)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return _bad(f"{_q(_cell_text(value))} is not a coordinate")
    if isinstance(value, int | float):
        return _ok(float(value)) if math.isfinite(value) else _bad(f"{_q(value)} is not a number")
    text = nfc(value)
    body, sign, hemisphere = _split_hemisphere(text.upper())
    if hemisphere and _AXIS_OF_HEMISPHERE[hemisphere] != axis:
        other = _AXIS_NAMES["lat" if axis == "lon" else "lon"]
        return _bad(f"{_q(text)} is a {other} (it ends in {hemisphere}) but this column is the "
                    f"{_AXIS_NAMES[axis]}", "swap longitude and latitude?")
    body = body.replace("\u2212", "-").strip()
    if re.fullmatch(r"[+-]?\d+(?:[.,]\d+)?", body):
        return _ok(sign * float(body.replace(",", ".")))
    degrees = _dms(body)
    if degrees is None:
        return _bad(f"{_q(text)} is not a coordinate: give decimal degrees (e.g. 105.3021) or "
                    f"degrees, minutes and seconds (e.g. 105°18'07\"E)")
    if isinstance(degrees, str):
        return _bad(f"{_q(text)}: {degrees}")
    return _ok(sign * degrees)


def _split_hemisphere(text: str) -> tuple[str, int, str | None]:
    text = text.strip()
    for letter, sign in _HEMISPHERES.items():
        if len(text) > 1 and text.endswith(letter):
            return text[:-1].strip(), sign, letter
        if len(text) > 1 and text.startswith(letter):
            return text[1:].strip(), sign, letter
    return text, 1, None


def _dms(body: str) -> float | str | None:
    """Degrees from 22°45'30" (° required); a reason string when a part is out of range."""
    normalised = (body.replace("º", "°").replace("˚", "°").replace("′", "'")
                  .replace("’", "'").replace("‘", "'").replace("″", '"').replace("''", '"')
                  .replace("”", '"').replace("“", '"'))
    if "°" not in normalised:
        return None
    numbers = _DMS_NUMBER.findall(normalised)
    rest = _DMS_NUMBER.sub("", normalised)
    if not 1 <= len(numbers) <= 3 or set(rest) - set("°'\" ") or rest.count("°") != 1:
        return None
    parts = [float(n.replace(",", ".")) for n in numbers]
    if any(not p.is_integer() for p in parts[:-1]):
        return None
    if any(p >= 60 for p in parts[1:]):
        return "minutes and seconds must be below 60"
    return sum(p / 60**i for i, p in enumerate(parts))


def _in(value: float, bounds: tuple[float, float]) -> bool:
    return bounds[0] <= value <= bounds[1]


def _range_reason(value: float, axis: str) -> str:
    bounds = LON_RANGE if axis == "lon" else LAT_RANGE
    return (f"{_AXIS_NAMES[axis]} {_number(value)} is outside Vietnam and its neighbourhood "
            f"({_number(bounds[0])} to {_number(bounds[1])})")


def _parse_axis(value: Any, axis: str) -> Outcome:
    parsed = _degrees(value, axis)
    if parsed[1] is not None or parsed[0] is None:
        return parsed
    degrees = parsed[0]
    own, other = (LON_RANGE, LAT_RANGE) if axis == "lon" else (LAT_RANGE, LON_RANGE)
    if _in(degrees, own):
        return _ok(degrees)
    return _bad(_range_reason(degrees, axis),
                "swap longitude and latitude?" if _in(degrees, other) else None)


def parse_lon(value: Any) -> Outcome:
    """Longitude in degrees ("105.3021", "105,3021", 105°18'07"E), within 100-118° E."""
    return _parse_axis(value, "lon")


def parse_lat(value: Any) -> Outcome:
    """Latitude in degrees ("21.03", "21,03", 22°45'30"N), within 6-25° N."""
    return _parse_axis(value, "lat")


def _lon_lat_problems(lon: float, lat: float) -> list[tuple[str, str, str | None]]:
    """Range problems of a pair as (axis, reason, suggestion); one problem if swapped."""
    if _in(lon, LON_RANGE) and _in(lat, LAT_RANGE):
        return []
    if _in(lon, LAT_RANGE) and _in(lat, LON_RANGE):
        return [("lon", f"longitude {_number(lon)} and latitude {_number(lat)} look swapped: "
                        f"longitude must be {_number(LON_RANGE[0])} to {_number(LON_RANGE[1])}"
                        f" and latitude {_number(LAT_RANGE[0])} to {_number(LAT_RANGE[1])}",
                 f"swap longitude and latitude (longitude {_number(lat)}, "
                 f"latitude {_number(lon)})")]
    problems = []
    if not _in(lon, LON_RANGE):
        problems.append(("lon", _range_reason(lon, "lon"), None))
    if not _in(lat, LAT_RANGE):
        problems.append(("lat", _range_reason(lat, "lat"), None))
    return problems


def parse_wkt(value: Any) -> Outcome:
    """A WGS 84 Polygon, MultiPolygon or Point in WKT (longitude first), valid, in range."""
    return _parse_wkt(value, None)


def _parse_wkt(value: Any, to_wgs84: Callable | None) -> Outcome:
    if _blank(value):
        return _ok(None)
    text = _cell_text(value)
    try:
        geometry = shapely.from_wkt(text)
    except (shapely.errors.ShapelyError, ValueError, TypeError):
        return _bad("this is not valid WKT", "write it like POLYGON((105.1 21.0, 105.2 21.0, "
                                             "105.2 21.1, 105.1 21.0))")
    if geometry is None or geometry.is_empty:
        return _bad("the geometry is empty")
    if geometry.geom_type not in ("Polygon", "MultiPolygon", "Point"):
        return _bad(f"a {geometry.geom_type} is not accepted: give a Polygon, MultiPolygon "
                    "or Point")
    geometry = shapely.force_2d(geometry)
    if to_wgs84 is not None:
        geometry = to_wgs84(geometry)
    if not geometry.is_valid:
        geometry, *problem = _repair(geometry)
        if problem:
            return _bad(*problem)
    return _wkt_in_range(geometry)


def _repair(geometry) -> tuple:
    reason = shapely.is_valid_reason(geometry)
    fixed = shapely.make_valid(geometry)
    parts = [p for p in shapely.get_parts(fixed) if p.geom_type in ("Polygon", "MultiPolygon")]
    if parts:
        fixed = shapely.union_all(parts)
        before, after = abs(geometry.area), fixed.area
        if math.isclose(before, after, rel_tol=1e-6, abs_tol=1e-15):
            return (fixed,)
    return (None, f"the polygon is not valid ({reason}): its edges cross or touch; draw it "
                  "again without crossing edges", None)


def _wkt_in_range(geometry) -> Outcome:
    minx, miny, maxx, maxy = geometry.bounds
    lon_ok = _in(minx, LON_RANGE) and _in(maxx, LON_RANGE)
    lat_ok = _in(miny, LAT_RANGE) and _in(maxy, LAT_RANGE)
    if lon_ok and lat_ok:
        return _ok(geometry)
    swapped = (_in(minx, LAT_RANGE) and _in(maxx, LAT_RANGE) and _in(miny, LON_RANGE)
               and _in(maxy, LON_RANGE))
    return _bad(f"the geometry lies outside Vietnam and its neighbourhood (longitude "
                f"{_number(LON_RANGE[0])} to {_number(LON_RANGE[1])}, latitude "
                f"{_number(LAT_RANGE[0])} to {_number(LAT_RANGE[1])})",
                "WKT puts longitude first: swap the numbers of each point" if swapped else None)


def _parse_metres(value: Any) -> Outcome:
    """A VN-2000 grid coordinate in metres ("2326314.34", "2.326.314,34", "2326314,34")."""
    if _blank(value):
        return _ok(None)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return _bad(f"{_q(_cell_text(value))} is not a coordinate in metres")
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = "".join(nfc(value).split())
        if not re.fullmatch(r"\d[\d.,]*", text):
            return _bad(f"{_q(nfc(value))} is not a coordinate in metres")
        number = float(_normalise_separators(text))
    if not math.isfinite(number) or number <= 0:
        return _bad(f"{_q(_cell_text(value))} is not a VN-2000 coordinate in metres")
    return _ok(number)


def _normalise_separators(text: str) -> str:
    """The last of "." and "," is the decimal mark when both occur; a repeated one groups."""
    if "." in text and "," in text:
        decimal = "." if text.rfind(".") > text.rfind(",") else ","
        group = "," if decimal == "." else "."
        return text.replace(group, "").replace(decimal, ".")
    for mark in (".", ","):
        if text.count(mark) > 1:
            return text.replace(mark, "")
    return text.replace(",", ".")


# ---------------------------------------------------------------------------------------------
# VN-2000


def _check_vn2000_options(central_meridian: float | None, utm_zone: int | None) -> None:
    if (central_meridian is None) == (utm_zone is None):
        raise InvalidParameter(
            "VN-2000 coordinates need either the TM-3 central meridian (e.g. 105.5 for "
            "105°30') or the UTM zone (48 or 49), not both and not neither.",
            parameter="central_meridian")
    if utm_zone is not None and utm_zone not in VN2000_UTM_EPSG:
        raise InvalidParameter(f"UTM zone {utm_zone} is not used in Vietnam: give 48 or 49.",
                               parameter="utm_zone")
    if central_meridian is not None:
        cm = float(central_meridian)
        if not (math.isfinite(cm) and _in(cm, LON_RANGE) and (cm * 4).is_integer()):
            raise InvalidParameter(
                f"{central_meridian} is not a VN-2000 TM-3 central meridian: they are whole or "
                "quarter degrees between 100 and 118 (e.g. 105.5 for 105°30', 106.25 for "
                "106°15', 107.75 for 107°45').", parameter="central_meridian")


@lru_cache(maxsize=32)
def vn2000_crs(central_meridian: float | None = None, utm_zone: int | None = None) -> CRS:
    """Return the VN-2000 TM-3 CRS of a central meridian, or VN-2000 / UTM 48N or 49N.

    TM-3 is built as a projected CRS on the EPSG:4756 VN-2000 datum (Transverse Mercator,
    k = 0.9999, false easting 500 000 m), so pyproj uses the EPSG transformation from
    VN-2000 to WGS 84, the same as for EPSG:3405/3406.
    """
    _check_vn2000_options(central_meridian, utm_zone)
    if utm_zone is not None:
        return CRS.from_epsg(VN2000_UTM_EPSG[utm_zone])
    cm = float(central_meridian)
    degrees, minutes = int(cm), round((cm - int(cm)) * 60)
    conversion = TransverseMercatorConversion(
        latitude_natural_origin=0.0, longitude_natural_origin=cm,
        false_easting=TM3_FALSE_EASTING, false_northing=0.0,
        scale_factor_natural_origin=TM3_SCALE)
    crs = ProjectedCRS(conversion=conversion, geodetic_crs=CRS.from_epsg(VN2000_GEOGRAPHIC_EPSG),
                       name=f"VN-2000 / TM-3 {degrees}-{minutes:02d}")
    described = crs.to_json_dict()
    described["conversion"]["name"] = f"TM-3 central meridian {degrees}°{minutes:02d}'"
    return CRS.from_json_dict(described)


@lru_cache(maxsize=32)
def _to_wgs84(central_meridian: float | None, utm_zone: int | None) -> Transformer:
    return Transformer.from_crs(vn2000_crs(central_meridian, utm_zone), "EPSG:4326",
                                always_xy=True, only_best=True)


def to_wgs84_from_vn2000(x: float, y: float, central_meridian: float | None = None,
                         utm_zone: int | None = None) -> tuple[float, float]:
    """Convert VN-2000 grid coordinates to WGS 84 and return ``(lon, lat)`` in degrees.

    `x` is the **northing** and `y` the **easting**, in metres, as in Vietnamese survey
    files (X points north). Give either `central_meridian` (VN-2000 TM-3, k = 0.9999, false
    easting 500 000 m) or `utm_zone` (48 or 49: EPSG:3405 / 3406). Raises
    `InvalidParameter` for a missing or impossible system.
    """
    lon, lat = _to_wgs84(central_meridian, utm_zone).transform(y, x)
    return float(lon), float(lat)


def _vn2000_geometry(central_meridian, utm_zone) -> Callable:
    transformer = _to_wgs84(central_meridian, utm_zone)

    def convert(geometry):
        return shapely.transform(
            geometry, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))

    return convert


# ---------------------------------------------------------------------------------------------
# Rows


@dataclass
class _Options:
    kind: KindDef
    headers: HeaderMap
    defs: dict[str, FieldDef]
    coordinates: str
    central_meridian: float | None
    utm_zone: int | None
    today: dt.date
    wkt_transform: Callable | None = None


class _Row:
    """One row being parsed: its cells by field, typed values and errors."""

    def __init__(self, options: _Options, number: int, cells: list):
        self.options = options
        self.number = number
        self.raw = {name: cells[i] if i < len(cells) else None
                    for i, name in options.headers.fields.items()}
        self.values: dict[str, Any] = dict.fromkeys(options.defs)
        self.errors: list[RowError] = []
        self.failed: set[str] = set()

    def given(self, name: str) -> bool:
        return not _blank(self.raw.get(name))

    def error(self, name: str, reason: str, suggestion: str | None = None) -> None:
        self.failed.add(name)
        self.errors.append(RowError(self.number, self.options.headers.label(name),
                                    _short(_cell_text(self.raw.get(name))), reason, suggestion))


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_rows(table: Table, kind: KindDef, *, coordinates: str = "wgs84",
               central_meridian: float | None = None, utm_zone: int | None = None,
               today: dt.date | None = None, max_errors: int = 10_000) -> ParseResult:
    """Parse and check every row of `table` as records of `kind`.

    `coordinates` is "wgs84" (degrees) or "vn2000" (metres; then give `central_meridian`
    for TM-3 or `utm_zone`; see the module notes for which column is X and which Y).
    `today` (default: the current date) is the limit for dates that may not lie in the
    future. Bad cells never raise: they become errors. Only rows without any error are
    returned in ``rows``. After `max_errors` errors the check stops with a final note.
    """
    options = _options(table, kind, coordinates, central_meridian, utm_zone, today)
    headers = options.headers
    result = ParseResult([], list(headers.errors), [*table.warnings, *headers.warnings],
                         headers)
    if headers.errors:
        return result
    seen: dict[tuple, int] = {}
    for number, cells in table.rows:
        row = _parse_row(options, number, cells)
        _check_duplicate(row, seen)
        if row.errors:
            result.errors.extend(row.errors)
        else:
            result.rows.append(ParsedRow(number, row.values))
        if len(result.errors) >= max_errors:
            result.errors.append(RowError(number, "", "", (
                f"more than {max_errors} errors: checking stopped at row {number}; correct "
                "these and upload the file again")))
            break
    return result


def _options(table, kind, coordinates, central_meridian, utm_zone, today) -> _Options:
    if coordinates not in ("wgs84", "vn2000"):
        raise InvalidParameter(f"unknown coordinate system {_q(coordinates)}: use 'wgs84' or "
                               "'vn2000'", parameter="coordinates")
    wkt_transform = None
    if coordinates == "vn2000":
        _check_vn2000_options(central_meridian, utm_zone)
        wkt_transform = _vn2000_geometry(central_meridian, utm_zone)
    headers = map_headers(table.headers, kind, coordinates=coordinates,
                          header_row=table.header_row)
    return _Options(kind, headers, _field_defs(kind, coordinates), coordinates,
                    central_meridian, utm_zone, today or dt.date.today(), wkt_transform)


def _parse_row(options: _Options, number: int, cells: list) -> _Row:
    row = _Row(options, number, cells)
    pairs = _pairs(options.defs)
    paired = {name for pair in pairs for name in pair}
    for name in options.headers.fields.values():
        if name not in paired and row.given(name):
            _parse_cell(row, options.defs[name])
    _check_required(row)
    for lon, lat in pairs:
        _parse_pair(row, lon, lat)
    _check_unit(row)
    _KIND_CHECKS.get(options.kind.id, lambda r: None)(row)
    _check_year(row)
    return row


def _parse_cell(row: _Row, fdef: FieldDef) -> None:
    raw = row.raw[fdef.name]
    if fdef.type == "int":
        outcome = parse_int(raw)
    elif fdef.type == "date":
        outcome = parse_date(raw)
    elif fdef.type == "enum":
        outcome = parse_enum(raw, fdef.choices)
    elif fdef.type == "wkt":
        outcome = _parse_wkt(raw, row.options.wkt_transform)
    else:
        outcome = parse_str(raw)
    if outcome[1] is None:
        value = outcome[0]
        if fdef.name == "commune_code" and value.isascii() and value.isdigit():
            value = value.zfill(5)  # Excel turns "00715" into the number 715
        row.values[fdef.name] = value
    else:
        row.error(fdef.name, outcome[1], outcome[2])


def _check_required(row: _Row) -> None:
    for fdef in row.options.kind.fields:
        if fdef.required and not row.given(fdef.name):
            row.error(fdef.name, "this value is required but the cell is empty")


def _parse_pair(row: _Row, lon: str, lat: str) -> None:
    if not row.given(lon) and not row.given(lat):
        return
    if not (row.given(lon) and row.given(lat)):
        missing = lat if row.given(lon) else lon
        if not row.options.defs[missing].required:  # a required one is reported already
            row.error(missing, f"{row.options.headers.label(lon if missing == lat else lat)} "
                               "is given without this one: give both coordinates or neither")
        return
    if row.options.coordinates == "vn2000" and lon == "lon":
        _parse_vn2000_pair(row)
        return
    parsed = {name: _degrees(row.raw[name], name.rsplit("_", 1)[-1]) for name in (lon, lat)}
    for name, outcome in parsed.items():
        if outcome[1] is not None:
            row.error(name, outcome[1], outcome[2])
    if row.failed & {lon, lat}:
        return
    names = {"lon": lon, "lat": lat}
    for axis, reason, suggestion in _lon_lat_problems(parsed[lon][0], parsed[lat][0]):
        row.error(names[axis], reason, suggestion)
    if not row.failed & {lon, lat}:
        row.values[lon], row.values[lat] = parsed[lon][0], parsed[lat][0]


def _parse_vn2000_pair(row: _Row) -> None:
    northing, easting = _parse_metres(row.raw["lat"]), _parse_metres(row.raw["lon"])
    for name, outcome in (("lat", northing), ("lon", easting)):
        if outcome[1] is not None:
            row.error(name, outcome[1], outcome[2])
    if row.failed & {"lon", "lat"}:
        return
    options = row.options
    x, y = northing[0], easting[0]
    lon, lat = to_wgs84_from_vn2000(x, y, options.central_meridian, options.utm_zone)
    if _finite_in_range(lon, lat):
        row.values["lon"], row.values["lat"] = round(lon, 8), round(lat, 8)
        return
    swapped = to_wgs84_from_vn2000(y, x, options.central_meridian, options.utm_zone)
    system = (f"TM-3 central meridian {_number(options.central_meridian)}"
              if options.central_meridian is not None else f"UTM zone {options.utm_zone}N")
    headers = options.headers
    if _finite_in_range(*swapped):
        row.error("lat", f"X={_number(x)}, Y={_number(y)} fall outside Vietnam in VN-2000 "
                         f"{system}, but fit with X and Y exchanged; X is the northing (the "
                         "larger number) and Y the easting",
                  f"swap the {headers.label('lat')} and {headers.label('lon')} values")
    else:
        row.error("lat", f"X={_number(x)}, Y={_number(y)} fall outside Vietnam in VN-2000 "
                         f"{system}: check the coordinate system and its central meridian")


def _finite_in_range(lon: float, lat: float) -> bool:
    return (math.isfinite(lon) and math.isfinite(lat) and _in(lon, LON_RANGE)
            and _in(lat, LAT_RANGE))


def _check_unit(row: _Row) -> None:
    if row.given("commune_code") or row.given("commune"):
        return
    name = "commune_code" if row.options.headers.column("commune_code") is not None else "commune"
    row.error(name, "no unit given: fill in the commune code or the commune name")


def _check_year(row: _Row) -> None:
    name = row.options.kind.year_field
    year = row.values.get(name) if name else None
    if year is not None and not 1975 <= year <= row.options.today.year + 1:
        row.error(name, f"{year} is not a plausible year")


def _check_certification(row: _Row) -> None:
    values, label = row.values, row.options.headers.label
    registered, reviewed, certified = (values["registered"], values["reviewed"],
                                       values["certified"])
    if certified is not None and reviewed is not None and certified > reviewed:
        row.error("certified", f"{label('certified')} ({certified}) is more than "
                               f"{label('reviewed')} ({reviewed}): only reviewed units can be "
                               "certified")
    if reviewed is not None and registered is not None and reviewed > registered:
        row.error("reviewed", f"{label('reviewed')} ({reviewed}) is more than "
                              f"{label('registered')} ({registered}): only registered units "
                              "can be reviewed")


def _check_incident(row: _Row) -> None:
    day = row.values["date"]
    if day is not None and day > row.options.today:
        row.error("date", f"the date {day:%d/%m/%Y} is in the future")


def _check_hot_spot(row: _Row) -> None:
    values, label = row.values, row.options.headers.label
    location_failed = row.failed & {"lon", "lat", "area_wkt"}
    has_point = values["lon"] is not None and values["lat"] is not None
    if not location_failed and not has_point and values["area_wkt"] is None:
        row.error("lon" if row.options.headers.column("lon") is not None else "area_wkt",
                  f"no location: give {label('lon')} and {label('lat')}, or the area as WKT")
    designated, resolved = values["designated_on"], values["resolved_on"]
    if designated is not None and resolved is not None and resolved < designated:
        row.error("resolved_on", f"{label('resolved_on')} ({resolved:%d/%m/%Y}) is before "
                                 f"{label('designated_on')} ({designated:%d/%m/%Y})")


_KIND_CHECKS: dict[str, Callable[[_Row], None]] = {
    "certification": _check_certification,
    "incidents": _check_incident,
    "hot-spots": _check_hot_spot,
}


def _key_part(row: _Row, name: str) -> Any:
    """The comparable form of one natural-key field; None when empty."""
    if name == "commune_code":
        if row.given("commune_code"):
            return ("code", _name_key(row.values["commune_code"]))
        if row.given("commune"):
            return ("name", *(_name_key(row.values[n]) for n in ("province", "district",
                                                                "commune")))
        return None
    value = row.values.get(name)
    if isinstance(value, str):
        return _name_key(value) or None
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _row_key(row: _Row) -> tuple[tuple, tuple[str, ...]] | None:
    kind = row.options.kind
    for fields in (kind.natural_key, kind.fallback_key):
        if not fields or row.failed & set(fields):
            return None
        parts = tuple(_key_part(row, name) for name in fields)
        if all(part is not None for part in parts):
            return (fields, parts), fields
    return None


def _check_duplicate(row: _Row, seen: dict[tuple, int]) -> None:
    found = _row_key(row)
    if found is None:
        return
    key, fields = found
    if key not in seen:
        seen[key] = row.number
        return
    headers = row.options.headers
    unit = "commune_code" if row.given("commune_code") else "commune"
    shown = [unit if f == "commune_code" else f for f in fields]
    row.error(shown[0], (f"duplicate of row {seen[key]}: same "
                         f"{', '.join(headers.label(f) for f in shown)}; each record may "
                         "appear only once in a file"),
              f"delete this row or merge it with row {seen[key]}")


# ---------------------------------------------------------------------------------------------
# The error report


def _neutralise(text: Any) -> Any:
    """Prefix a quote to text a spreadsheet would run as a formula."""
    if isinstance(text, str) and text.startswith(_FORMULA_START):
        return "'" + text
    return text


def errors_csv(errors: Iterable[RowError]) -> bytes:
    """Return the error report as CSV (UTF-8 with BOM, so Excel shows Vietnamese correctly).

    Columns: row, column, value, reason, suggestion. Cells starting with = + - @ (or a tab or
    carriage return) get a leading single quote so a spreadsheet never runs them.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["row", "column", "value", "reason", "suggestion"])
    for error in errors:
        writer.writerow([error.row, *(_neutralise(t) for t in (
            error.column, error.value, error.reason, error.suggestion or ""))])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
