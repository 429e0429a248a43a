"""Parsers of one cell's value by field type: text, counts, dates and choices.

Each returns an `Outcome` (see `geoservice.records.parsing.cells`): a bad cell never raises.
Coordinates and geometries are in `geoservice.records.parsing.coordinates`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import difflib
import math
import re
from functools import lru_cache
from typing import Any

from geoservice.params import FIRST_YEAR, LAST_YEAR
from geoservice.records.parsing.cells import (
    Outcome,
    cached_name_key,
    cell_text,
    invalid,
    is_blank,
    number_text,
    plain_key,
    quoted,
    valid,
)
from geoservice.text import ascii_fold, name_key, nfc

MAX_COUNT = 2**31 - 1

_EXCEL_EPOCH = dt.date(1899, 12, 30)
_SERIAL_RANGE = (18264, 73415)  # 1950-01-01 .. 2100-12-31 in Excel's 1900 date system
_YEAR_RANGE = (FIRST_YEAR, LAST_YEAR)  # the years every parameter takes
_EXAMPLE_DATE = "05/03/2024"


def parse_str(value: Any) -> Outcome:
    """Text: NFC, each line trimmed with inner white space folded; empty -> None."""
    if is_blank(value):
        return valid(None)
    text = "\n".join(nfc(line) for line in cell_text(value).splitlines()).strip("\n")
    return valid(text or None)


_GROUPED = re.compile(r"\d{1,3}(?:([.,\s])\d{3})(?:\1\d{3})*")
_DECIMAL = re.compile(r"(\d+)[.,](\d+)")


def parse_int(value: Any) -> Outcome:
    """A whole, non-negative count: "1234", "1.234", "1,234", "1 234", 1234.0 from Excel."""
    if is_blank(value):
        return valid(None)
    if isinstance(value, bool) or isinstance(value, dt.date | dt.time):
        return invalid(f"{quoted(cell_text(value))} is not a number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not math.isfinite(value):
            return invalid(f"{quoted(value)} is not a number")
        if not value.is_integer():
            return invalid(f"{number_text(value)} is not a whole number")
        number = int(value)
    else:
        number, *problem = _int_from_text(nfc(str(value)))
        if problem:
            return invalid(*problem)
    if number < 0:
        return invalid(f"a count cannot be negative: {number}")
    if number > MAX_COUNT:
        return invalid(f"the number {number} is too large for a count")
    return valid(number)


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
        return (None, f"{quoted(text)} is not a whole number", None)
    return (None, f"{quoted(text)} is not a number", None)


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
    if is_blank(value):
        return valid(None)
    if isinstance(value, dt.datetime):
        return valid(value.date())
    if isinstance(value, dt.date):
        return valid(value)
    if isinstance(value, bool) or isinstance(value, dt.time):
        return invalid(f"{quoted(cell_text(value))} is not a date")
    if isinstance(value, int | float):
        return _date_from_serial(value)
    return _date_from_text(nfc(str(value)))


def _date_from_serial(value: float) -> Outcome:
    if not math.isfinite(value):
        return invalid(f"{quoted(value)} is not a date")
    if _SERIAL_RANGE[0] <= value <= _SERIAL_RANGE[1]:
        return valid(_EXCEL_EPOCH + dt.timedelta(days=int(value)))
    if float(value).is_integer() and _YEAR_RANGE[0] <= value <= _YEAR_RANGE[1]:
        return invalid(f"{number_text(value)} is only a year, not a full date: give day, month and "
                       f"year (e.g. {_EXAMPLE_DATE})")
    return invalid(f"the number {number_text(value)} is not a date: write it as day/month/year "
                   f"(e.g. {_EXAMPLE_DATE})")


def _date_from_text(text: str) -> Outcome:
    folded = " ".join(ascii_fold(text).lower().replace(",", " ").split())
    if match := _DMY.fullmatch(folded):
        day, month, year = int(match.group(1)), int(match.group(3)), match.group(4)
        if len(year) == 2:
            full = _century(int(year))
            return invalid(f"{quoted(text)}: the year must have four digits",
                           f"{day:02d}/{month:02d}/{full}")
        return _make_date(int(year), month, day, text)
    if match := _YMD.fullmatch(folded):
        return _make_date(int(match.group(1)), int(match.group(3)), int(match.group(4)), text)
    if match := _VN_LONG.fullmatch(folded):
        return _make_date(int(match.group(3)), int(match.group(2)), int(match.group(1)), text)
    if any(p.fullmatch(folded) for p in _PARTIAL):
        return invalid(f"{quoted(text)} is not a full date: give day, month and year "
                       f"(e.g. {_EXAMPLE_DATE})")
    return invalid(f"{quoted(text)} is not a date: write it as day/month/year "
                   f"(e.g. {_EXAMPLE_DATE})")


def _century(two_digits: int) -> int:
    this_year = dt.date.today().year
    year = 2000 + two_digits
    return year if year <= this_year + 1 else year - 100


def _make_date(year: int, month: int, day: int, text: str) -> Outcome:
    if not 1 <= month <= 12:
        if 1 <= day <= 12 and month <= 31:
            return invalid(f"{quoted(text)}: {month} is not a month; dates are read as "
                           "day/month/year", f"{month:02d}/{day:02d}/{year}")
        return invalid(f"{quoted(text)}: month {month} does not exist")
    if not _YEAR_RANGE[0] <= year <= _YEAR_RANGE[1]:
        return invalid(f"{quoted(text)}: the year {year} is not plausible")
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        return invalid(f"{quoted(text)} is not a real date: month {month} of {year} has "
                       f"{last} days")
    return valid(dt.date(year, month, day))


@lru_cache(maxsize=64)
def _enum_index(items: tuple[tuple[str, tuple[str, ...]], ...]) -> dict[str, tuple[str, str]]:
    """Key of every spelling (with and without unit-type prefix) -> (choice, spelling)."""
    index: dict[str, tuple[str, str]] = {}
    for choice, spellings in items:
        for spelling in (choice, *spellings):
            index.setdefault(name_key(spelling), (choice, spelling))
            index.setdefault(plain_key(spelling), (choice, spelling))
    return index


def _choice_items(choices: dict[str, tuple[str, ...]]) -> tuple:
    return tuple((k, tuple(v)) for k, v in choices.items())


def parse_enum(value: Any, choices: dict[str, tuple[str, ...]]) -> Outcome:
    """One of `choices` (value -> spellings), matched by `name_key`; unknown -> nearest."""
    if is_blank(value):
        return valid(None)
    items = _choice_items(choices)
    index = _enum_index(items)
    text = cell_text(value)
    found = index.get(cached_name_key(text)) or index.get(plain_key(text))
    if found:
        return valid(found[0])
    accepted = ", ".join(
        f"{spellings[0]} ({choice})" if spellings and spellings[0] != choice else choice
        for choice, spellings in items)
    close = difflib.get_close_matches(name_key(text), list(index), n=1, cutoff=0.6)
    return invalid(f"{quoted(text)} is not an accepted value; accepted: {accepted}",
                   index[close[0]][1] if close else None)
