"""What parsing produces: the cells of a file, its column map, checked rows and row errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Table:
    """The cells of a file: header texts and the non-empty data rows with their row numbers."""

    headers: list[str]
    rows: list[tuple[int, list]]
    header_row: int = 1
    warnings: list[str] = field(default_factory=list)
    # Per data row, column index -> the header to name in messages, where it differs from
    # `headers` (the wide layout's columns: "Khu dân cư Đạt chuẩn"); None: `headers` for all.
    row_labels: list[dict[int, str]] | None = None
    # What was understood about the layout (header row, skipped total rows …): not problems.
    notes: list[str] = field(default_factory=list)


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

