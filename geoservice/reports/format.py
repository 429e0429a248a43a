"""Numbers as printed in reports: Vietnamese (1.234,5; 78,3 %) or English (1,234.5; 78.3%).

Formatting goes through Babel's CLDR patterns, so the separators are those each language
expects. A missing value prints as an en dash.
"""

from __future__ import annotations

from babel.numbers import format_decimal, format_percent

MISSING = "–"
PERCENT_PATTERNS = {"vi": "#,##0.0 %", "en": "#,##0.0%"}


class Formatter:
    """Formats numbers for one report language ('vi' or 'en')."""

    def __init__(self, lang: str):
        self.lang = lang

    def count(self, value) -> str:
        """A whole number with thousands separators: 120.181 (vi), 120,181 (en)."""
        if value is None:
            return MISSING
        return format_decimal(int(value), format="#,##0", locale=self.lang)

    def rate(self, value) -> str:
        """A rate (fraction 0–1) as a percentage with one decimal: 78,3 %."""
        if value is None:
            return MISSING
        return format_percent(float(value), format=PERCENT_PATTERNS[self.lang],
                              locale=self.lang)

    def points(self, value, signed: bool = True) -> str:
        """Percentage points with one decimal, signed: +2,1 (a change) or 2,1 (a gap)."""
        if value is None:
            return MISSING
        text = format_decimal(abs(float(value)), format="#,##0.0", locale=self.lang)
        if not signed:
            return text if value >= 0 else f"−{text}"
        if round(float(value), 1) == 0:
            return f"±{text}"
        return f"+{text}" if value > 0 else f"−{text}"

    def decimal(self, value, digits: int = 1) -> str:
        """A number with `digits` decimals: 269,8 (vi)."""
        if value is None:
            return MISSING
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(float(value), format=pattern, locale=self.lang)
