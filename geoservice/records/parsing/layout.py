"""Finding the table in an official's sheet: the header row, merged headers, total rows.

Officials' report forms open with a title block ("CÔNG AN TỈNH …", "BÁO CÁO KẾT QUẢ …
NĂM 2024") and often have a two-row header whose upper cells are merged over several
columns ("Khu dân cư" over "Đăng ký | Được xét | Đạt chuẩn"). `arrange` turns the
non-empty rows of a sheet into a `Table`:

1. the header is the row, among the first `HEADER_SEARCH`, whose cells name the kind's
   fields best (ties: the first); a row below it that holds only text is a second header
   row when the two together name more fields: a merged upper cell (its text in the first
   column, blanks after it) is combined with each cell under it;
2. total and subtotal rows ("Tổng cộng", "Cộng", "Tổng", "Tổng số", "Cộng huyện …") are
   skipped and listed in the table's notes;
3. a certification sheet without a year column takes the year from its title ("NĂM 2024");
4. the one-row-per-commune certification form becomes one row per group (`wide.widen`).

Without a kind the first non-empty row is the header, as a plain table has it.
"""

from __future__ import annotations

import re
from typing import Any

from geoservice.errors import ContentRejected, InvalidParameter
from geoservice.records.kinds import KindDef
from geoservice.records.parsing.cells import cell_text, is_blank, quoted
from geoservice.records.parsing.headers import header_matcher
from geoservice.records.parsing.results import Table
from geoservice.records.parsing.wide import wide_column, widen, words
from geoservice.text import nfc

HEADER_SEARCH = 30  # rows of title block looked through for the header
_TOTAL = re.compile(r"(tong cong|tong so|tong|cong)"
                    r"( (toan|huyen|quan|thi xa|thanh pho|tp|tinh|xa|phuong|khu vuc|cum)\b.*)?")
_NUMBER_TEXT = re.compile(r"[\d.,\s%()-]+")
_TITLE_YEAR = re.compile(r"\bnam (\d{4})\b")


def _reject(message: str) -> InvalidParameter:
    return InvalidParameter(message, parameter="file")


def arrange(grid: list[tuple[int, list]], max_rows: int, kind: KindDef | None = None,
            columns: dict[str, str] | None = None, coordinates: str = "wgs84") -> Table:
    """Build the `Table` of a sheet's non-empty rows (row number, cells); see the module."""
    if not grid:
        raise _reject("The file is empty: it has no header row.")
    match = header_matcher(kind, coordinates, columns) if kind is not None else None
    start, headers, depth = (0, header_texts(grid[0][1]), 1) if match is None else \
        find_header(grid, match, kind.id == "certification")
    header_row, data = grid[start][0], grid[start + depth:]
    notes = []
    if start or depth > 1:
        rows = f"rows {header_row}-{grid[start + 1][0]}" if depth > 1 else f"row {header_row}"
        notes.append(f"the header is {rows}" + ("; the rows above it (the title) were not read"
                                                  if start else ""))
    if len(data) > max_rows:
        raise ContentRejected(f"The file has more than {max_rows:,} data rows. Split it into "
                              "smaller files and import them one by one.", parameter="file")
    rows, totals, overflow = [], [], []
    for number, cells in data:
        total = total_label(cells) if match is not None else None
        if total is not None:
            totals.append(f"{number} ({quoted(total)})")
            continue
        if len(cells) > len(headers) and any(not is_blank(c) for c in cells[len(headers):]):
            overflow.append(number)
        rows.append((number, (cells + [None] * len(headers))[: len(headers)]))
    if totals:
        notes.append(f"total rows skipped (their sums are not records): row "
                     f"{', row '.join(totals[:20])}" + (" …" if len(totals) > 20 else ""))
    if not rows:
        raise _reject("The file has a header row but no data rows.")
    warnings = []
    if overflow:
        warnings.append(f"{len(overflow)} row(s) (first: row {overflow[0]}) have values in "
                        "columns without a header; those values were ignored.")
    table = Table(headers, rows, header_row, warnings, notes=notes)
    if match is None:
        return table
    if kind.year_field and not any(match(h) == kind.year_field for h in headers):
        table = _year_from_title(table, grid[:start])
    return widen(table, match) if kind.id == "certification" else table


def find_header(grid: list[tuple[int, list]], match, wide: bool = False
                ) -> tuple[int, list[str], int]:
    """Return (index in `grid`, header texts, 1 or 2 rows) of the best header row."""
    best = (0, 0, header_texts(grid[0][1]), 1)
    scores = [_score(header_texts(cells), match, wide) for _n, cells in grid[:HEADER_SEARCH]]
    for i, score in enumerate(scores):
        if score > best[0]:
            best = (score, i, header_texts(grid[i][1]), 1)
        below = i + 1
        if below < len(scores) and grid[below][0] == grid[i][0] + 1 \
                and _text_only(grid[below][1]):
            texts = combine(header_texts(grid[i][1]), header_texts(grid[below][1]), match)
            together = _score(texts, match, wide)
            if together > max(best[0], scores[below]):  # the two rows name more together
                best = (together, i, texts, 2)
    return best[1], best[2], best[3]


def _score(texts: list[str], match, wide: bool) -> int:
    fields = {match(t) for t in texts if t} - {None}
    extra = len({wide_column(t) for t in texts if t} - {None}) if wide else 0
    return len(fields) + extra


def _text_only(cells: list) -> bool:
    """True for a row that could be a second header row: text only, no numbers or dates."""
    texts = [c for c in cells if not is_blank(c)]
    return bool(texts) and all(isinstance(c, str) and not _NUMBER_TEXT.fullmatch(c)
                               for c in texts)


def combine(upper: list[str], lower: list[str], match) -> list[str]:
    """Combine two header rows: a merged upper cell spans the blanks after it.

    "Khu dân cư", "", "" over "Đăng ký", "Được xét", "Đạt chuẩn" gives "Khu dân cư Đăng
    ký", "Khu dân cư Được xét", "Khu dân cư Đạt chuẩn"; an upper cell with nothing under it
    (merged down over both rows, like "Xã") stays as it is. Where the combined text names
    nothing and the lower cell alone names a field, the lower cell is used.
    """
    out, span = [], ""
    for i in range(max(len(upper), len(lower))):
        top = upper[i] if i < len(upper) else ""
        below = lower[i] if i < len(lower) else ""
        if not below:
            out.append(top)
            span = ""
            continue
        span = top or span
        joined = f"{span} {below}".strip()
        if span and match(joined) is None and wide_column(joined) is None and match(below):
            joined = below
        out.append(joined)
    while out and not out[-1]:
        out.pop()
    return out


def total_label(cells: list) -> str | None:
    """The text of a total row's label ("Tổng cộng", "Cộng huyện Đồng Văn"), else None.

    The label is looked for in the row's first two text cells (the number column of a form
    may hold "I" or be merged into the label).
    """
    texts = [cell_text(c) for c in cells if isinstance(c, str) and c.strip()][:2]
    return next((t for t in texts if _TOTAL.fullmatch(words(t))), None)


def _year_from_title(table: Table, title: list[tuple[int, list]]) -> Table:
    """Add a year column from the title block ("… NĂM 2024") when it names one year."""
    found = {}
    for number, cells in title:
        for cell in cells:
            for year in _TITLE_YEAR.findall(words(cell_text(cell))):
                found.setdefault(year, number)
    if len(found) != 1:
        return table
    (year, number), = found.items()
    table.headers = [*table.headers, "Năm"]
    table.rows = [(n, [*cells, year]) for n, cells in table.rows]
    table.notes.append(f"the file has no year column: the year {year} was taken from the "
                       f"title (row {number})")
    return table


def clean_cell(value: Any) -> Any:
    """A cell as read: text NFC-normalised, other values as they are."""
    return nfc(value) if isinstance(value, str) else value


def header_texts(cells: list) -> list[str]:
    """The header texts of a row (NFC, trailing empty cells removed)."""
    texts = [nfc(cell_text(c)) for c in cells]
    while texts and not texts[-1]:
        texts.pop()
    return texts
