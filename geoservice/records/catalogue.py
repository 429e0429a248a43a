"""The vocabularies of the records: incident categories, model types, activity types,
severities and statuses, read from one catalogue file instead of constants in code.

The shipped file is ``layers/vocabularies/categories.toml`` (in a wheel,
``geoservice/_data/layers/vocabularies``: `geoservice.resources`). A deployment extends it
with its own file (the CATEGORIES setting): the same tables, adding codes or overriding
the labels, aliases, colour or phrase of shipped ones. Both are checked at start; every
problem of every file is reported at once as ``<file>: <key>: <message>`` (a
`CatalogError`): unknown vocabulary, a code given twice in one file, a new code without
both labels, a spelling two codes share, a bad colour, an unknown key.

One catalogue serves the process: `install` (the app factory calls it through the
catalogue blueprint, `geoservice.web.catalogue`) makes the shipped file plus the
deployment's the active one; until then `active` is the shipped file alone. Record kinds
(`geoservice.records.kinds`) take their choices from it through `Choices`, a live view, so
the importer, the validation and the feature API follow the installed catalogue.

    vocabulary("incident_category") -> [Term, ...]
    label("incident_category", "drugs", "en") -> "Drugs"
    resolve("incident_category", "Ma tuý") -> "drugs"   (None: not a spelling of any code)

Light on purpose (no pandas, no Flask): imported by the record kinds and the layer
definitions.
"""

from __future__ import annotations

import logging
import re
import threading
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from geoservice.errors import CatalogError, NotFound
from geoservice.resources import LAYERS_FOLDER
from geoservice.text import name_key, nfc, plain_key

LOGGER = logging.getLogger(__name__)

SHIPPED_FILE = LAYERS_FOLDER / "vocabularies" / "categories.toml"
LANGUAGES = ("vi", "en")
# The vocabularies a catalogue may hold, and the record fields each one gives the values of.
VOCABULARIES: dict[str, tuple[str, ...]] = {
    "incident_category": ("incidents.category", "hot-spots.category"),
    "model_type": ("models.model_type",),
    "model_status": ("models.status",),
    "severity": ("incidents.severity",),
    "hot_spot_status": ("hot-spots.status",),
    "activity_type": ("cooperation.activity_type",),
}
CODE = re.compile(r"^[a-z][a-z0-9_]*$")
COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
TERM_KEYS = ("code", "label", "aliases", "color", "phrase")


@dataclass(frozen=True)
class Term:
    """One value of a vocabulary: its stored code, labels, officials' spellings, colour."""

    code: str
    labels: dict[str, str]  # lang -> label
    aliases: tuple[str, ...] = ()
    colour: str | None = None  # "#rrggbb" where the map draws the vocabulary by colour
    phrases: dict[str, str] = field(default_factory=dict)  # lang -> in running text

    def label(self, lang: str = "vi") -> str:
        """The label in `lang` ('vi' or 'en'; Vietnamese when another is asked)."""
        return self.labels.get(lang) or self.labels["vi"]

    def phrase(self, lang: str = "vi") -> str:
        """How running text names the term ("Vụ việc về {phrase}"): the phrase, else the
        label with a lower-case first letter."""
        if lang in self.phrases:
            return self.phrases[lang]
        text = self.label(lang)
        return text[:1].lower() + text[1:]

    @property
    def spellings(self) -> tuple[str, ...]:
        """Every text that means this term: Vietnamese and English labels, then aliases."""
        return tuple(dict.fromkeys((*(self.labels[lang] for lang in LANGUAGES),
                                    *self.aliases)))

    def as_json(self) -> dict:
        """The term as JSON-ready data (both languages)."""
        return {"code": self.code, "label": dict(self.labels), "aliases": list(self.aliases),
                "color": self.colour,
                "phrase": {lang: self.phrase(lang) for lang in LANGUAGES}}


@dataclass(frozen=True, eq=False)  # compared (and cached) by identity
class Catalogue:
    """Every vocabulary: name -> (title by language, terms in order); from `files`."""

    titles: dict[str, dict[str, str]]
    terms: dict[str, tuple[Term, ...]]
    files: tuple[str, ...] = ()

    def vocabulary(self, name: str) -> tuple[Term, ...]:
        """The terms of vocabulary `name` in catalogue order (NotFound: no such one)."""
        if name not in self.terms:
            raise NotFound(f"There is no vocabulary '{name}'. Vocabularies: "
                           f"{', '.join(self.terms)}.", parameter="vocabulary")
        return self.terms[name]

    def term(self, name: str, code: str) -> Term | None:
        """The term `code` of vocabulary `name` (None: not one of its codes)."""
        return next((t for t in self.vocabulary(name) if t.code == code), None)

    def choices(self, name: str) -> dict[str, tuple[str, ...]]:
        """Code -> spellings, as the record fields and the cell parser take them."""
        return _choices(self, name)

    def resolve(self, name: str, text: str | None) -> str | None:
        """The code `text` means in vocabulary `name` (a code, a label or an alias,
        compared without case, diacritics or punctuation); None: none."""
        if not text:
            return None
        index = _index(self, name)
        return index.get(name_key(text)) or index.get(plain_key(text))

    def as_json(self) -> dict:
        """Every vocabulary as JSON-ready data: title, the fields it serves, its terms."""
        return {"vocabularies": {
            name: {"title": dict(self.titles[name]), "fields": list(VOCABULARIES[name]),
                   "terms": [t.as_json() for t in terms]}
            for name, terms in self.terms.items()}}


@lru_cache(maxsize=32)
def _choices(catalogue: Catalogue, name: str) -> dict[str, tuple[str, ...]]:
    return {t.code: t.spellings for t in catalogue.vocabulary(name)}


@lru_cache(maxsize=32)
def _index(catalogue: Catalogue, name: str) -> dict[str, str]:
    index: dict[str, str] = {}
    for term in catalogue.vocabulary(name):
        for spelling in (term.code, *term.spellings):
            for key in (name_key(spelling), plain_key(spelling)):
                index.setdefault(key, term.code)
    return index


# --- reading and checking ------------------------------------------------------------------

def load(extension: Path | str | None = None) -> Catalogue:
    """The shipped catalogue with `extension` (a deployment's file) applied.

    Raises `CatalogError` listing every problem of both files.
    """
    problems: list[str] = []
    titles: dict[str, dict[str, str]] = {}
    terms: dict[str, dict[str, Term]] = {}
    files = [SHIPPED_FILE, *([Path(extension)] if extension else [])]
    for index, path in enumerate(files):
        _apply(path, index > 0, titles, terms, problems)
    missing = [name for name in VOCABULARIES if not terms.get(name)]
    if not problems and missing:
        problems.append(f"{SHIPPED_FILE.name}: {', '.join(missing)}: no terms")
    if problems:
        raise CatalogError(problems)
    catalogue = Catalogue({n: titles[n] for n in VOCABULARIES},
                          {n: tuple(terms[n].values()) for n in VOCABULARIES},
                          tuple(str(p) for p in files))
    if extension:  # the shipped file's spellings are checked by its tests
        problems = spelling_problems(catalogue, files[-1].name)
        if problems:
            raise CatalogError(problems)
    return catalogue


def check(extension: Path | str | None = None) -> list[str]:
    """Every problem of the catalogue files (an empty list when they are valid)."""
    try:
        load(extension)
    except CatalogError as error:
        return list(error.problems)
    return []


def _apply(path: Path, extending: bool, titles: dict, terms: dict, problems: list) -> None:
    """Read one file into `titles` and `terms` (an extension adds and overrides)."""
    name = path.name
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        problems.append(f"{path}: (file): cannot be read: {error.strerror or error}")
        return
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        problems.append(f"{name}: (file): not valid TOML: {error}")
        return
    for vocab, table in data.items():
        if vocab not in VOCABULARIES or not isinstance(table, dict):
            problems.append(f"{name}: {vocab}: " + (
                "expected a table with title and [[terms]]" if vocab in VOCABULARIES else
                f"unknown vocabulary (known: {', '.join(VOCABULARIES)})"))
            continue
        unknown = sorted(set(table) - {"title", "terms"})
        if unknown:
            problems.append(f"{name}: {vocab}.{unknown[0]}: unknown key (known: title, terms)")
        if "title" in table or not extending:
            title = _text(table.get("title"), f"{name}: {vocab}.title", problems)
            if title is not None:
                titles[vocab] = {**titles.get(vocab, {}), **title}
        _apply_terms(table.get("terms", []), f"{name}: {vocab}",
                     terms.setdefault(vocab, {}), problems)


def _apply_terms(entries, where: str, have: dict, problems: list) -> None:
    """Read a vocabulary's ``[[terms]]`` into `have` (code -> Term; "other" stays last)."""
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        problems.append(f"{where}.terms: expected [[terms]] tables")
        return
    seen: set[str] = set()
    for position, entry in enumerate(entries):
        term = _read_term(entry, f"{where}.terms[{position}]", have, seen, problems)
        if term is not None and term.code not in have and "other" in have:
            rest = {c: have.pop(c) for c in list(have)[list(have).index("other"):]}
            have.update({term.code: term, **rest})
        elif term is not None:
            have[term.code] = term


def _read_term(entry: dict, where: str, have: dict, seen: set, problems: list) -> Term | None:
    """One ``[[terms]]`` entry: a new term, or changes to one already in `have`."""
    before = len(problems)
    for key in sorted(set(entry) - set(TERM_KEYS)):
        problems.append(f"{where}.{key}: unknown key (known: {', '.join(TERM_KEYS)})")
    code = entry.get("code")
    if not isinstance(code, str) or not CODE.match(code):
        problems.append(f"{where}.code: {'missing' if code is None else repr(code) + ' is not'}"
                        f"{'' if code is None else ' a code'} (lowercase letters, digits "
                        "and underscores, starting with a letter)")
        return None
    where = f"{where} ({code})"
    if code in seen:
        problems.append(f"{where}.code: {code!r} is given twice in this file")
        return None
    seen.add(code)
    old = have.get(code)
    labels = _text(entry.get("label"), f"{where}.label", problems, complete=old is None)
    phrases = _text(entry.get("phrase"), f"{where}.phrase", problems, complete=False) \
        if "phrase" in entry else {}
    aliases = entry.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip()
                                                for a in aliases):
        problems.append(f"{where}.aliases: expected a list of texts, got {aliases!r}")
        aliases = []
    colour = entry.get("color")
    if colour is not None and not (isinstance(colour, str) and COLOUR.match(colour)):
        problems.append(f"{where}.color: expected \"#rrggbb\", got {colour!r}")
    if len(problems) > before or labels is None:
        return None
    aliases = tuple(nfc(" ".join(a.split())) for a in aliases)
    if old is None:
        return Term(code, labels, tuple(dict.fromkeys(aliases)), colour, phrases or {})
    return replace(old, labels={**old.labels, **labels},
                   aliases=tuple(dict.fromkeys((*old.aliases, *aliases))),
                   colour=colour or old.colour, phrases={**old.phrases, **(phrases or {})})


def _text(value, where: str, problems: list, complete: bool = True) -> dict | None:
    """A ``{ vi = …, en = … }`` text (NFC); `complete`: both languages needed."""
    if value is None:
        if complete:
            problems.append(f"{where}: missing (give {{ vi = \"…\", en = \"…\" }})")
            return None
        return {}
    if not isinstance(value, dict):
        problems.append(f"{where}: expected {{ vi = \"…\", en = \"…\" }}, got {value!r}")
        return None
    before = len(problems)
    for lang in sorted(set(value) - set(LANGUAGES)):
        problems.append(f"{where}.{lang}: unknown language (vi, en)")
    for lang in LANGUAGES:
        text = value.get(lang)
        if text is None and complete:
            problems.append(f"{where}.{lang}: missing")
        elif text is not None and not (isinstance(text, str) and text.strip()):
            problems.append(f"{where}.{lang}: expected a text, got {text!r}")
    if len(problems) > before:
        return None
    return {lang: nfc(" ".join(value[lang].split())) for lang in LANGUAGES if lang in value}


def spelling_problems(catalogue: Catalogue, file: str) -> list[str]:
    """Each spelling (code, label or alias) that means two codes of one vocabulary."""
    problems = []
    for name, terms in catalogue.terms.items():
        owner: dict[str, tuple[str, str]] = {}
        for term in terms:
            for spelling in (term.code, *term.spellings):
                for key in {name_key(spelling), plain_key(spelling)} - {""}:
                    first = owner.setdefault(key, (term.code, spelling))
                    if first[0] != term.code:
                        problems.append(f"{file}: {name} ({term.code}): {spelling!r} is "
                                        f"already a spelling of {first[0]!r} ({first[1]!r})")
    return problems


# --- the process's catalogue ---------------------------------------------------------------

_lock = threading.Lock()
_installed: dict[str, Catalogue] = {}


def install(extension: Path | str | None = None) -> Catalogue:
    """Load (and check) the shipped catalogue with `extension` and make it the active one."""
    catalogue = load(extension)
    with _lock:
        _installed["active"] = catalogue
    LOGGER.debug("categories: %s", " + ".join(catalogue.files))
    return catalogue


def active() -> Catalogue:
    """The installed catalogue (the shipped file alone until `install` is called)."""
    with _lock:
        found = _installed.get("active")
        if found is None:
            found = _installed["active"] = load()
        return found


def vocabulary(name: str) -> tuple[Term, ...]:
    """The terms of vocabulary `name` in the active catalogue."""
    return active().vocabulary(name)


def codes(name: str) -> tuple[str, ...]:
    """The codes of vocabulary `name` in the active catalogue, in order."""
    return tuple(t.code for t in vocabulary(name))


def label(name: str, code: str, lang: str = "vi") -> str:
    """The label of `code` in vocabulary `name` (the code itself when it is not one)."""
    term = active().term(name, code)
    return term.label(lang) if term is not None else code


def resolve(name: str, text: str | None) -> str | None:
    """The code `text` means in vocabulary `name` (None: none)."""
    return active().resolve(name, text)


def style_categories(name: str) -> list[dict]:
    """The vocabulary's coloured terms as a layer file's ``[[style.categories]]`` entries
    (value, color, label in both languages), in catalogue order."""
    return [{"value": t.code, "color": t.colour, "label": dict(t.labels)}
            for t in vocabulary(name) if t.colour is not None]


def with_style_categories(layer: dict) -> dict:
    """A layer file's data with ``[style] categories = "<vocabulary>"`` replaced by that
    vocabulary's entries (`style_categories`); anything else is returned as it is, and an
    unknown vocabulary is left for the layer check to report."""
    style = layer.get("style")
    name = style.get("categories") if isinstance(style, dict) else None
    if not isinstance(name, str) or name not in VOCABULARIES:
        return layer
    return {**layer, "style": {**style, "categories": style_categories(name)}}


class Choices(Mapping):
    """Code -> spellings of one vocabulary of the active catalogue, read on each use.

    Record fields hold one (`FieldDef.choices`), so the parser, validation, filters and
    OpenAPI enums always see the installed catalogue.
    """

    def __init__(self, name: str):
        if name not in VOCABULARIES:
            raise KeyError(name)
        self.name = name

    def _current(self) -> dict[str, tuple[str, ...]]:
        return active().choices(self.name)

    def __getitem__(self, code: str) -> tuple[str, ...]:
        return self._current()[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._current())

    def __len__(self) -> int:
        return len(self._current())

    def __repr__(self) -> str:
        return f"Choices({self.name!r})"
