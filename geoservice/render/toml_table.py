"""Reading a TOML table with typed getters that collect every problem as ``key: message``.

The layer catalogue and the ``[style]`` reader check a whole file in one pass: each getter
returns a value or records why not (missing, wrong type, out of range, unknown key) in a
shared list. `Text` is the ``{ vi = …, en = … }`` text the tables hold.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from geoservice import params as P
from geoservice.render.symbols import RGBA, parse_colour

LANGUAGES = ("vi", "en")


class Table:
    """One TOML table being read: typed getters that record problems as ``key: message``.

    Every key read is remembered; `done` reports the others as unknown keys. Problems
    are appended to the shared `problems` list so a whole file is checked in one pass.
    """

    def __init__(self, data: dict, path: str, problems: list[str]):
        self.data, self.path, self.problems = data, path, problems
        self.seen: set[str] = set()

    def key(self, name: str) -> str:
        """Return the dotted key of `name` in this table."""
        return f"{self.path}.{name}" if self.path else name

    def problem(self, name: str, message: str) -> None:
        """Record a problem with key `name`."""
        self.problems.append(f"{self.key(name)}: {message}")

    def value(self, name: str, types: tuple, required: bool = False, default=None):
        """Return the value of `name` if it has one of `types`; else record why and default."""
        self.seen.add(name)
        if name not in self.data:
            if required:
                self.problem(name, "missing")
            return default
        value = self.data[name]
        if isinstance(value, bool) and bool not in types or not isinstance(value, types):
            expected = " or ".join(t.__name__ for t in types)
            self.problem(name, f"expected {expected}, got {value!r}")
            return default
        return value

    def number(self, name: str, low: float, high: float, default: float) -> float:
        """Return a number within [low, high]."""
        value = self.value(name, (int, float), default=default)
        return float(self._check(name, value, low <= value <= high, default,
                                 f"must be between {low} and {high}"))

    def choice(self, name: str, choices: tuple, required: bool = True):
        """Return a text value that is one of `choices`."""
        value = self.value(name, (str,), required)
        return self._check(name, value, value is None or value in choices, None,
                           f"must be one of {', '.join(map(repr, choices))}")

    def _check(self, name: str, value, good: bool, default, message: str):
        if not good:
            self.problem(name, f"{message}, got {value!r}")
        return value if good else default

    def colour(self, name: str, required: bool = False) -> RGBA | None:
        """Return a colour ('#rrggbb', '#rgb' or '#rrggbbaa') as RGBA."""
        text = self.value(name, (str,), required)
        try:
            return None if text is None else parse_colour(text)
        except ValueError as error:
            self.problem(name, str(error))
            return None

    def table(self, name: str, required: bool = False) -> Table | None:
        """Return the sub-table `name` to read."""
        data = self.value(name, (dict,), required)
        return None if data is None else Table(data, self.key(name), self.problems)

    def tables(self, name: str) -> list[Table]:
        """Return the tables of the array of tables `name` (``name[i]`` in messages)."""
        items = self.value(name, (list,), default=[])
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                self.problems.append(f"{self.key(name)}[{index}]: expected a table")
        return [Table(item, f"{self.key(name)}[{index}]", self.problems)
                for index, item in enumerate(items) if isinstance(item, dict)]

    def text(self, name: str, required: bool = True) -> Text | None:
        """Return a ``{ vi = …, en = … }`` text; both languages, NFC, not blank."""
        table = self.table(name, required)
        if table is None:
            return None
        values = {lang: table.value(lang, (str,), required=True) for lang in LANGUAGES}
        table.done()
        for lang, value in values.items():
            if value is not None and unicodedata.normalize("NFC", value) != value:
                table.problem(lang, "not NFC-normalised (compose the diacritics)")
            elif value is not None and not value.strip():
                table.problem(lang, "empty")
        return Text(**values) if all(v and v.strip() for v in values.values()) else None

    def done(self) -> None:
        """Report the keys that were never read as unknown."""
        for name in self.data:
            if name not in self.seen:
                known = ", ".join(sorted(self.seen))
                self.problem(name, f"unknown key (known here: {known})")


@dataclass(frozen=True)
class Text:
    """A text in Vietnamese and English."""

    vi: str
    en: str

    def get(self, lang: str = "vi") -> str:
        """Return the text in `lang` ('vi' or 'en')."""
        P.LANG.parse(lang)
        return self.vi if lang == "vi" else self.en
