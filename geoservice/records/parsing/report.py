"""The downloadable error report: every `RowError` of a file as CSV for a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from geoservice.records.parsing.results import RowError

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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
