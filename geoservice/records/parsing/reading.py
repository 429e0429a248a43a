"""Reading an uploaded ``.csv`` or ``.xlsx`` file into a `Table` of raw cells.

Files that cannot be read at all are rejected with `InvalidParameter`; nothing else in the
parsing package raises for bad data. Row numbers are those the official sees in the
spreadsheet.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable

from geoservice.errors import ContentRejected, InvalidParameter
from geoservice.progress import EVERY, Progress
from geoservice.records.kinds import KindDef
from geoservice.records.parsing.cells import is_blank, quoted
from geoservice.records.parsing.layout import HEADER_SEARCH, arrange, clean_cell
from geoservice.records.parsing.results import Table

READING = "reading rows"  # the stage `read_table` tells its progress of

MAX_XLSX_UNCOMPRESSED = 50 * 1024 * 1024
MAX_XLSX_MEMBERS = 10_000

_OLE_MAGIC = b"\xd0\xcf\x11\xe0"
_ZIP_MAGIC = b"PK\x03\x04"


def read_table(data: bytes, filename: str, max_rows: int = 100_000, *,
               kind: KindDef | None = None, columns: dict[str, str] | None = None,
               coordinates: str = "wgs84", progress: Progress | None = None) -> Table:
    """Read a ``.csv`` or ``.xlsx`` file into a `Table`; raise `InvalidParameter` if unreadable.

    Row numbers are those shown by a spreadsheet program: the header is normally row 1 and
    the first data row row 2 (leading empty rows and empty rows in between keep their
    numbers). Fully empty rows are skipped. Text is NFC-normalised. Given the `kind` (and
    the user's `columns`, field -> header), the header is found below a title block, a
    two-row header is combined, total rows are skipped and the one-row-per-commune
    certification form is read as the kind's rows (`layout.arrange`); without, the first
    non-empty row is the header. `progress` hears the rows read (stage `READING`) of
    those the file has by its lines (CSV) or declared size (Excel; none told without one).
    """
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension == "xls":
        raise InvalidParameter(
            "This is an old Excel 97-2003 (.xls) file. Open it in Excel and save it as "
            "Excel Workbook (.xlsx) or CSV, then upload it again.", parameter="file")
    if extension not in ("csv", "xlsx"):
        raise InvalidParameter(
            f"The file {quoted(filename)} is not a CSV (.csv) or Excel (.xlsx) file; only these "
            "two formats can be imported.", parameter="file")
    if not data:
        raise InvalidParameter("The file is empty.", parameter="file")
    limit = max_rows + 1 + HEADER_SEARCH
    read = _read_xlsx if extension == "xlsx" else _read_csv
    grid = read(data, limit, progress)
    return arrange(grid, max_rows, kind, columns, coordinates)


def _reject(message: str) -> InvalidParameter:
    return InvalidParameter(message, parameter="file")


def _read_csv(data: bytes, limit: int, progress: Progress | None = None
              ) -> list[tuple[int, list]]:
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
        return _collect(enumerate(reader, start=1), limit, progress,
                        text.count("\n") + (not text.endswith("\n")))
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
    """Pick the delimiter (``,`` ``;`` or tab) that splits the first records most consistently.

    The most frequent number of fields (above one) wins, so a title line above the table
    ("BÁO CÁO …", one field whatever the delimiter) does not decide.
    """
    sample = text[:16384]
    best, best_score = ",", (False, 0, 0)
    for delimiter in (",", ";", "\t"):
        records = []
        try:
            for record in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter):
                if any(cell.strip() for cell in record):
                    records.append(len(record))
                if len(records) >= 12:
                    break
        except csv.Error:
            continue
        several = [n for n in records if n > 1]
        if not several:
            continue
        width = max(set(several), key=lambda n: (several.count(n), n))
        score = (True, several.count(width), width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _read_xlsx(data: bytes, limit: int, progress: Progress | None = None
               ) -> list[tuple[int, list]]:
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
        declared = sheet.max_row or 0  # the stored size: only to tell the progress by
        sheet.reset_dimensions()  # do not trust the stored size: read what is there
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _collect(enumerate(sheet.iter_rows(values_only=True), start=1), limit,
                            progress, declared)
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


def _collect(numbered: Iterable[tuple[int, Iterable]], limit: int,
             progress: Progress | None = None, expected: int = 0) -> list[tuple[int, list]]:
    """The non-empty rows (row number, cells NFC-normalised), refusing more than `limit`;
    `progress` hears the rows read of the `expected` (0: not known, told at the end only)."""
    grid: list[tuple[int, list]] = []
    number = 0
    for number, cells in numbered:
        if progress is not None and expected and number % EVERY == 0:
            progress(READING, number, max(expected, number))
        cells = [clean_cell(c) for c in cells]
        if all(is_blank(c) for c in cells):
            continue
        if len(grid) >= limit:
            raise ContentRejected(f"The file has more than {limit - HEADER_SEARCH - 1:,} data "
                                  "rows. Split it into smaller files and import them one by "
                                  "one.", parameter="file")
        grid.append((number, cells))
    if progress is not None:
        progress(READING, number, number)
    return grid
