"""Vietnamese text: NFC normalisation, ASCII folding and name keys for matching and search.

Officials type names with or without diacritics, with or without the unit-type prefix
("Xã", "Phường", "Tỉnh", "Thành phố" …), and spreadsheets mix old-style and new-style
tone placement ("Hoà" / "Hòa"). Every comparison of names goes through `name_key`, so
"Xã Lũng Cú", "lung cu" and "LŨNG CÚ" meet on the same key.
"""

from __future__ import annotations

import re
import unicodedata

# Longest first, so "thanh pho" wins over a bare word; ASCII-folded, space-separated.
UNIT_TYPE_PREFIXES: tuple[str, ...] = (
    "thanh pho truc thuoc trung uong",
    "thanh pho",
    "thi tran",
    "thi xa",
    "dac khu",
    "phuong",
    "huyen",
    "quan",
    "tinh",
    "xa",
    "tp.",
    "tp",
    "tx.",
    "tx",
    "tt.",
    "tt",
    "p.",
    "q.",
    "h.",
)

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_NUMBER = re.compile(r"\d+")


def nfc(text: str) -> str:
    """Return `text` in Unicode NFC, trimmed, with runs of white space folded to one space."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def ascii_fold(text: str) -> str:
    """Strip Vietnamese diacritics: "Lũng Cú" -> "Lung Cu", "Đắk Lắk" -> "Dak Lak"."""
    decomposed = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def strip_unit_type(folded: str) -> str:
    """Remove one leading unit-type prefix from an ASCII-folded, lower-case name.

    A prefix is removed only when something remains after it, so the district
    "Huyện Xã Hội" keeps "xa hoi" and a unit named just "Phường" keeps its name.
    """
    for prefix in UNIT_TYPE_PREFIXES:
        if folded.startswith(prefix + " ") and len(folded) > len(prefix) + 1:
            return folded[len(prefix) + 1 :]
        if prefix.endswith(".") and folded.startswith(prefix) and len(folded) > len(prefix):
            return folded[len(prefix) :].lstrip()
    return folded


def name_key(name: str | None) -> str:
    """Return the matching key of a unit name: folded, lower case, no prefix, no separators.

    Numbers lose leading zeros ("Phường 01" = "Phường 1").
    """
    if not name:
        return ""
    folded = " ".join(ascii_fold(nfc(name)).lower().replace("-", " ").split())
    folded = strip_unit_type(folded)
    folded = _NUMBER.sub(lambda m: str(int(m.group())), folded)
    return _NON_ALNUM.sub("", folded)


def search_key(name: str | None) -> str:
    """Return the search form of a name: folded, lower case, prefix removed, words kept apart.

    Used for substring search, where word boundaries matter ("lung cu" must not match "hung cuong").
    """
    if not name:
        return ""
    folded = " ".join(ascii_fold(nfc(name)).lower().replace("-", " ").split())
    folded = _NON_ALNUM.sub(" ", strip_unit_type(folded)).strip()
    folded = _NUMBER.sub(lambda m: str(int(m.group())), folded)
    return " ".join(folded.split())



# The five tone marks; the other marks (circumflex, breve, horn) change the letter itself.
_TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")
_NOT_WORD = re.compile(r"[^\w]+")
# A prefix typed with diacritics must be the unit type itself: "Huyền Sơn" is no "Huyện".
_MARKED_PREFIXES = {
    "thanh pho truc thuoc trung uong": "thành phố trực thuộc trung ương",
    "thanh pho": "thành phố", "thi tran": "thị trấn", "thi xa": "thị xã",
    "dac khu": "đặc khu", "phuong": "phường", "huyen": "huyện", "quan": "quận",
    "tinh": "tỉnh", "xa": "xã",
}
_SHORT_TYPES = {"tp": "thanh pho", "tx": "thi xa", "tt": "thi tran", "p": "phuong",
                "q": "quan", "h": "huyen"}


def has_diacritics(text: str | None) -> bool:
    """True when `text` carries any Vietnamese diacritic (including "đ")."""
    return bool(text) and ascii_fold(nfc(text)) != nfc(text)


def plain_key(name: str | None) -> str:
    """`name_key` without removing a unit-type prefix (for names known to have none)."""
    if not name:
        return ""
    folded = " ".join(ascii_fold(nfc(name)).lower().replace("-", " ").split())
    folded = _NUMBER.sub(lambda m: str(int(m.group())), folded)
    return _NON_ALNUM.sub("", folded)


def unit_readings(name: str | None) -> list[tuple[str, str]]:
    """The ways to read a typed unit name as (unit type, bare name), most likely first.

    The type is ASCII-folded with abbreviations spelt out ("TP." -> "thanh pho"), "" if
    none. A name typed with diacritics has one reading, its prefix counting only when it
    is the unit type ("Huyện Sơn" has one, "Huyền Sơn" none); a name typed without them
    may be read both ways ("huyen son": the district Sơn, or Huyền Sơn).
    """
    text = " ".join(nfc(name or "").lower().replace("-", " ").split())
    folded = ascii_fold(text)  # one character for one: positions carry over
    marked = folded != text
    readings = []
    for prefix in UNIT_TYPE_PREFIXES:
        glued = prefix.endswith(".")
        cut = len(prefix) + (0 if glued else 1)
        if len(folded) > cut and folded.startswith(prefix if glued else prefix + " "):
            wanted = _MARKED_PREFIXES.get(prefix)
            if marked and wanted and text[:len(prefix)] != wanted:
                continue
            kind = prefix.rstrip(".")
            readings.append((_SHORT_TYPES.get(kind, kind), text[cut:].strip()))
            break
    if not readings or not marked:
        readings.append(("", text))
    return readings


def _tone_key(word: str) -> str:
    """A word with its tone moved to the end, so "hoà" and "hòa" (old and new style) agree."""
    decomposed = unicodedata.normalize("NFD", word)
    tones = "".join(ch for ch in decomposed if ch in _TONE_MARKS)
    letters = unicodedata.normalize("NFC", "".join(ch for ch in decomposed
                                                   if ch not in _TONE_MARKS))
    return letters + tones


def marks_agree(typed: str, official: str) -> bool:
    """Whether a typed bare name's diacritics fit an official one with the same `plain_key`.

    A name typed without diacritics fits any ("Tan Thanh" fits "Tân Thành"); one typed with
    them must carry the same letters and tones ("Thành" ≠ "Thanh", "Ân" ≠ "An"), wherever
    the tone mark sits ("Hoà" = "Hòa").
    """
    if not has_diacritics(typed):
        return True
    mine = _NOT_WORD.sub(" ", nfc(typed).lower()).split()
    theirs = _NOT_WORD.sub(" ", nfc(official).lower()).split()
    if len(mine) != len(theirs):
        mine, theirs = ["".join(mine)], ["".join(theirs)]
    return all(_tone_key(a) == _tone_key(b) for a, b in zip(mine, theirs))
