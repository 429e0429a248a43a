"""The one-row-per-commune certification form, turned into the kind's long rows.

Officials' forms give each certification group its own columns: "Khu dân cư" over
"Đăng ký | Được xét | Đạt chuẩn" (combined into "Khu dân cư Đăng ký" … by `layout`), or
one-row headers such as "Số khu dân cư đạt chuẩn". The wording of Circular 124/2021/TT-BCA
is understood: "đăng ký" is registered; "xét công nhận", "được xét", "đánh giá" reviewed;
"đạt chuẩn", "được công nhận", "đạt" certified. Rates ("Tỷ lệ đạt (%)") are not counts
and are left alone (the rate is computed, never imported).

`widen` turns such a table into one row per commune and group, with the columns
``group``, ``registered``, ``reviewed`` and ``certified`` (the field names themselves), and
per-row labels so that a message names the official's own column ("Khu dân cư Đạt chuẩn").
"""

from __future__ import annotations

import re
from collections.abc import Callable

from geoservice.records.parsing.cells import is_blank, quoted
from geoservice.records.parsing.results import Table
from geoservice.text import ascii_fold, nfc

MEASURES = ("registered", "reviewed", "certified")
GROUP_WORDS = {
    "residential": ("khu dan cu", "thon to dan pho", "to dan pho", "thon ban", "thon"),
    "commune": ("xa phuong", "cap xa", "don vi cap xa", "dac khu", "xa", "phuong"),
    "agencies": ("co quan",),
    "enterprises": ("doanh nghiep",),
    "schools": ("co so giao duc", "nha truong", "truong hoc", "truong"),
}
GROUP_TITLES = {"residential": "Khu dân cư", "commune": "Xã, phường, đặc khu",
                "agencies": "Cơ quan", "enterprises": "Doanh nghiệp",
                "schools": "Cơ sở giáo dục"}
_NOT_COUNTS = ("ty le", "phan tram", "%")


def words(text: str) -> str:
    """Folded, lower-case words separated by one space ("Đạt chuẩn" -> "dat chuan")."""
    folded = ascii_fold(nfc(text or "")).lower().replace("%", " % ")
    return " ".join(re.sub(r"[^a-z0-9%]+", " ", folded).split())


def _has(text: str, phrase: str) -> bool:
    return f" {phrase} " in f" {text} "


def _measure(text: str) -> str | None:
    if any(_has(text, w) for w in _NOT_COUNTS):
        return None
    if _has(text, "dang ky"):
        return "registered"
    if _has(text, "xet") or _has(text, "danh gia"):
        return "reviewed"
    if _has(text, "dat") or _has(text, "cong nhan"):
        return "certified"
    return None


def groups_named(text: str) -> list[str]:
    """The certification groups a header names (several for "Cơ quan, doanh nghiệp")."""
    text = words(text)
    return [group for group, phrases in GROUP_WORDS.items()
            if any(_has(text, p) for p in phrases)]


def wide_column(text: str) -> tuple[str, str] | None:
    """``(group, measure)`` of a wide-layout header, e.g. ("residential", "certified")."""
    measure, groups = _measure(words(text)), groups_named(text)
    return (groups[0], measure) if measure and len(groups) == 1 else None


def widen(table: Table, match: Callable[[str], str | None]) -> Table:
    """Return `table` with one row per data row and group, when it is a wide form.

    Columns that name a field (`match`) are kept on every row; the group's count columns
    become ``registered``, ``reviewed``, ``certified``. A table that is not a wide form (it
    has a group column, or no group's count column) is returned as it is.
    """
    headers = table.headers
    if any(match(h) == "group" for h in headers):
        return table
    counts: dict[tuple[str, str], int] = {}
    shared, warnings = [], []
    for i, header in enumerate(headers):
        found = None if match(header) else wide_column(header)
        if found is None:
            shared.append(i)
        elif found in counts:
            warnings.append(f"Columns {quoted(headers[counts[found]])} and {quoted(header)} "
                            f"both give {found[1]} of {GROUP_TITLES[found[0]]}; only the "
                            "first was read.")
        else:
            counts[found] = i
    groups = list(dict.fromkeys(group for group, _m in counts))
    if not groups:
        return table
    for group in groups:
        lacking = [m for m in ("reviewed", "certified") if (group, m) not in counts]
        if lacking:
            warnings.append(f"The columns of {GROUP_TITLES[group]} give no "
                            f"{' and no '.join(lacking)} count.")
    rows, labels = [], []
    width = len(shared)
    for number, cells in table.rows:
        made = 0
        for group in groups:
            values = [cells[counts[(group, m)]] if (group, m) in counts else None
                      for m in MEASURES]
            if all(is_blank(v) for v in values) and (made or group != groups[-1]):
                continue
            rows.append((number, [cells[i] for i in shared] + [group, *values]))
            labels.append({width: GROUP_TITLES[group],
                           **{width + 1 + k: headers[counts[(group, m)]]
                              for k, m in enumerate(MEASURES) if (group, m) in counts}})
            made += 1
    notes = [*table.notes, (
        f"one row per commune: {len(table.rows)} rows read as {len(rows)} records, one per "
        f"commune and group ({', '.join(GROUP_TITLES[g] for g in groups)})")]
    return Table([headers[i] for i in shared] + ["group", *MEASURES], rows, table.header_row,
                 [*table.warnings, *warnings], labels, notes)
