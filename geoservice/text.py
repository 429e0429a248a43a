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
