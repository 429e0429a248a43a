"""What every parser shares: the outcome of a value parser, a cell read as text, name keys.

A value parser returns ``(value, None)`` on success (``value`` is None for an empty cell) or
``(None, reason, suggestion)`` where ``suggestion`` may be None: `valid` and `invalid` build
them.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from typing import Any

from geoservice.text import ascii_fold, name_key, nfc

Outcome = tuple  # (value, None) or (None, reason, suggestion | None)


def valid(value: Any) -> Outcome:
    """Return the outcome of a cell that holds `value` (None for an empty cell)."""
    return (value, None)


def invalid(reason: str, suggestion: str | None = None) -> Outcome:
    """Return the outcome of a cell that is wrong: why, and what might fit."""
    return (None, reason, suggestion)


def is_blank(value: Any) -> bool:
    """True for an empty cell: None, or text of white space only."""
    return value is None or (isinstance(value, str) and not value.strip())


def cell_text(value: Any) -> str:
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


def quoted(text: Any) -> str:
    """Quote a value in a message."""
    return f"'{text}'"


def number_text(value: float) -> str:
    """Write a number in a message: whole numbers without ".0", others to 7 decimals."""
    return str(int(value)) if float(value).is_integer() else str(round(value, 7))


@lru_cache(maxsize=65536)
def cached_name_key(text: str | None) -> str:
    """`text.name_key`, cached: the same names and enum values repeat on many rows."""
    return name_key(text)


@lru_cache(maxsize=65536)
def plain_key(text: str) -> str:
    """Folded, lower case, separators removed, unit-type prefixes kept ("Tỉnh/Thành phố")."""
    return re.sub(r"[^a-z0-9]+", "", ascii_fold(nfc(text)).lower())
