"""Numbers and dates as printed in reports: Vietnamese (1.234,5; 78,3 %; 02/12/2026) or
English (1,234.5; 78.3%; 2 December 2026).

Rounding happens once, here, half-up (71,05… % prints 71,1 %), on the exact value: a
rate given as counts (`share(27, 38)`) is a `Fraction`, a float is taken as the decimal
it prints as (``repr``), never rounded twice. Separators come from Babel's CLDR patterns.

A rate printed beside a threshold (the target, a map class boundary) never reads on the
wrong side of it: when the rounded value would land on the threshold or beyond it while
the exact value does not, more decimals are printed (99,96 % below a 100 % target, 74,02 %
above 74 %), up to `MAX_DIGITS`; past that the last digit is cut towards the exact value's
side (99,999 %). A missing value prints as an en dash.
"""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal
from fractions import Fraction

from babel.dates import format_date
from babel.numbers import format_decimal

MISSING = "–"
MAX_DIGITS = 3  # decimals of a percentage at most (one normally)
PERCENT_SIGN = {"vi": " %", "en": "%"}
DATE_FORMATS = {"vi": "dd/MM/y", "en": "d MMMM y"}


def exact(value) -> Fraction:
    """The exact value of a number: a Fraction as it is, a float as the decimal it prints."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, int):
        return Fraction(value)
    return Fraction(repr(float(value)))


def share(part, whole) -> Fraction | None:
    """`part` ÷ `whole` as an exact fraction (None when either is missing or whole is 0)."""
    if part is None or whole is None or not whole:
        return None
    return Fraction(int(part), int(whole))


def round_half_up(value: Fraction, digits: int) -> Fraction:
    """`value` rounded half away from zero to `digits` decimals (exact arithmetic)."""
    step = Fraction(10) ** digits
    magnitude = math.floor(abs(value) * step + Fraction(1, 2))
    return Fraction(magnitude if value >= 0 else -magnitude) / step


def _reads_wrong(exact_value: Fraction, printed: Fraction, threshold: Fraction) -> bool:
    """True when the printed value sits on the other side of `threshold` (or on it)."""
    if exact_value == threshold:
        return printed != threshold
    if exact_value < threshold:
        return printed >= threshold
    return printed <= threshold


def rounded_for(value, digits: int = 1, thresholds=()) -> tuple[Fraction, int]:
    """(printed value, decimals) of `value` so that no threshold reads the wrong way."""
    value = exact(value)
    limits = [exact(t) for t in thresholds]
    for places in range(digits, MAX_DIGITS + 1):
        printed = round_half_up(value, places)
        if not any(_reads_wrong(value, printed, t) for t in limits):
            return printed, places
    step = Fraction(10) ** MAX_DIGITS
    wrong = [t for t in limits if _reads_wrong(value, printed, t)]
    toward = math.floor if value < wrong[0] else math.ceil
    return Fraction(toward(value * step)) / step, MAX_DIGITS


class Formatter:
    """Formats numbers and dates for one report language ('vi' or 'en')."""

    def __init__(self, lang: str):
        self.lang = lang

    def _number(self, value: Fraction, digits: int) -> str:
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        # Babel rounds half-even: it gets the already rounded decimal and only lays it out.
        text = Decimal(value.numerator) / Decimal(value.denominator)
        return format_decimal(text, format=pattern, locale=self.lang,
                              decimal_quantization=True)

    def count(self, value) -> str:
        """A whole number with thousands separators: 120.181 (vi), 120,181 (en)."""
        if value is None:
            return MISSING
        return format_decimal(int(value), format="#,##0", locale=self.lang)

    def rate(self, value, thresholds=()) -> str:
        """A rate (fraction 0–1) as a percentage with one decimal: 78,3 %.

        `thresholds` (fractions 0–1) are values the rate is compared with where it is
        printed (the target, class boundaries): see the module's rule.
        """
        if value is None:
            return MISSING
        printed, digits = rounded_for(exact(value) * 100, 1,
                                      [exact(t) * 100 for t in thresholds])
        return self._number(printed, digits) + PERCENT_SIGN[self.lang]

    def points(self, value, signed: bool = True) -> str:
        """Percentage points with one decimal, signed: +2,1 (a change) or 2,1 (a gap)."""
        if value is None:
            return MISSING
        printed = round_half_up(exact(value), 1)
        text = self._number(abs(printed), 1)
        if not signed:
            return text if printed >= 0 else f"−{text}"
        if printed == 0:
            return f"±{text}"
        return f"+{text}" if printed > 0 else f"−{text}"

    def decimal(self, value, digits: int = 1) -> str:
        """A number with `digits` decimals: 269,8 (vi)."""
        if value is None:
            return MISSING
        return self._number(round_half_up(exact(value), digits), digits)

    def date(self, value) -> str:
        """A date in the report's one format: 02/12/2026 (vi), 2 December 2026 (en).

        Accepts a `date` or ISO text ('2026-12-02', '2026-12-02T08:00:00+00:00'); text
        that is not a date is printed as it is.
        """
        if not value:  # None, "", a missing template value
            return MISSING
        if not isinstance(value, date):
            value = str(value)
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value[:10])
            except ValueError:
                return value
        return format_date(value, DATE_FORMATS[self.lang], locale=self.lang)
