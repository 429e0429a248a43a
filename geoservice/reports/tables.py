"""A report's key-figure tables as a spreadsheet (XLSX) or CSV, beside its PDF.

The tables are made from the same template context as the PDF (`document.report_context`),
so they hold the same figures: counts as whole numbers, rates and percentage points as
numbers rounded exactly as the PDF prints them (once, half-up, with the extra decimals a
threshold asks for; the cell's number format shows those decimals). Labels are in the
report's language; the restricted sections are not part of these tables.
"""

from __future__ import annotations

import csv
import io

from flask_babel import gettext as _
from openpyxl import Workbook

from geoservice.reports import labels
from geoservice.reports.format import exact, round_half_up, rounded_for


def _percent(value, thresholds=()) -> tuple[float | None, int]:
    """A rate (0-1) as the percentage the PDF prints, and its decimals."""
    if value is None:
        return None, 1
    printed, digits = rounded_for(exact(value) * 100, 1, [exact(t) * 100 for t in thresholds])
    return float(printed), digits


def _points(value) -> float | None:
    return None if value is None else float(round_half_up(exact(value), 1))


def _count(value):
    return None if value is None or value != value else int(value)


def certification_rows(context: dict) -> tuple[list[str], list[list]]:
    """The certification table: a header and one row per group, as the PDF has them."""
    year = context["year"]
    header = [_("Group"), _("Registered"), _("Reviewed"), _("Certified"),
              _("Rate (certified ÷ reviewed)"),
              _("Change since %(year)s (points)", year=year - 1),
              _("Target counted against"), _("Certified of those"),
              _("Gap to the target (points)"), _("Units short of the target")]
    rows = []
    for row in context["public"].certification:
        rate = _percent(row["rate"], [row["target"]])
        basis_rate = _percent(row["basis_rate"], [row["target"]])
        rows.append([_(labels.GROUPS[row["group"]]), _count(row["registered"]),
                     _count(row["reviewed"]), _count(row["certified"]), rate,
                     _points(row["change_vs_previous_year"]),
                     _("registered") if row["basis"] == "registered" else _("reviewed"),
                     basis_rate, _points(row["gap_to_target"]), _count(row["units_short"])])
    return header, rows


def communes_rows(context: dict) -> tuple[list[str], list[list]]:
    """The commune table of a province or border sector (empty for a commune)."""
    if context["unit"].kind == "commune":
        return [], []
    groups = context["key_groups"]
    header = [_("Commune"), *(_(labels.GROUPS[g]) for g in groups), _("Active models"),
              _("Awareness sessions"), _("Participants")]
    limits = context["class_limits"]
    rows = [[row["full_name"], *(_percent(row.get("certification_rate_" + g), limits)
                                 for g in groups),
             _count(row.get("active_models")), _count(row.get("awareness_sessions")),
             _count(row.get("awareness_participants"))]
            for row in context["public"].communes]
    return header, rows


def tables(context: dict) -> list[tuple[str, list[str], list[list]]]:
    """(title, header, rows) of each table the spreadsheet holds."""
    out = [(_("Certification"), *certification_rows(context))]
    header, rows = communes_rows(context)
    if rows:
        out.append((_("Indicators by commune"), header, rows))
    return out


def _plain(value):
    """A cell's value (a percentage comes with its decimals)."""
    return value[0] if isinstance(value, tuple) else value


def to_xlsx(context: dict) -> bytes:
    """The tables as an XLSX workbook, one sheet each."""
    book = Workbook()
    book.remove(book.active)
    for title, header, rows in tables(context):
        sheet = book.create_sheet(title[:31])
        sheet.append(header)
        for row in rows:
            sheet.append([_plain(value) for value in row])
            for column, value in enumerate(row, 1):
                if isinstance(value, tuple) and value[0] is not None:
                    sheet.cell(sheet.max_row, column).number_format = (
                        "0." + "0" * value[1])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_csv(context: dict) -> bytes:
    """The tables as CSV (UTF-8 with a byte-order mark, for spreadsheet programs), each
    after a line naming it and separated by a blank line."""
    text = io.StringIO()
    writer = csv.writer(text)
    for number, (title, header, rows) in enumerate(tables(context)):
        if number:
            writer.writerow([])
        writer.writerow([title])
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if _plain(v) is None else _text(v) for v in row])
    return ("\ufeff" + text.getvalue()).encode("utf-8")


def _text(value) -> str:
    if isinstance(value, tuple):
        return f"{value[0]:.{value[1]}f}"  # already rounded: this only lays out its digits
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)
