"""Matching a file's header texts with the fields of a record kind.

Headers match a field by its name or an alias, compared with `text.name_key` (and a plain
key that keeps unit-type prefixes), so diacritics, case, spacing and "Tỉnh/Thành phố"-style
slashes do not matter. In VN-2000 mode the coordinate columns are X (northing) and Y
(easting): see `geoservice.records.parsing.vn2000`.
"""

from __future__ import annotations

import dataclasses
import re

from geoservice.records.kinds import UNIT_FIELDS, FieldDef, KindDef
from geoservice.records.parsing.cells import plain_key, quoted
from geoservice.records.parsing.results import HeaderMap, RowError
from geoservice.text import name_key

_PARENTHESISED = re.compile(r"[(\[][^)\]]*[)\]]")

# In VN-2000 mode X is the northing (-> lat field) and Y the easting (-> lon field).
_VN2000_ALIASES = {
    "lon": ("y", "toa do y", "y vn2000", "easting", "kinh do", "longitude", "lon", "lng"),
    "lat": ("x", "toa do x", "x vn2000", "northing", "vi do", "latitude", "lat"),
}


def _header_keys(text: str) -> set[str]:
    keys = {name_key(text), plain_key(text)}
    bare = _PARENTHESISED.sub(" ", text)
    if bare != text:
        keys |= {name_key(bare), plain_key(bare)}
    keys.discard("")
    return keys


def field_defs(kind: KindDef, coordinates: str = "wgs84") -> dict[str, FieldDef]:
    """Return field name -> definition for `kind` and the unit fields, with VN-2000 aliases."""
    defs = {f.name: f for f in (*kind.fields, *UNIT_FIELDS)}
    if coordinates == "vn2000":
        for name, aliases in _VN2000_ALIASES.items():
            if name in defs:
                defs[name] = dataclasses.replace(defs[name], aliases=aliases)
    return defs


def _alias_index(defs: dict[str, FieldDef]) -> dict[str, str]:
    index: dict[str, str] = {}
    for f in defs.values():
        for alias in (f.name, *f.aliases):
            for key in (name_key(alias), plain_key(alias)):
                index.setdefault(key, f.name)
    return index


def _user_index(columns: dict[str, str] | None) -> dict[str, str]:
    """Header key -> field for the columns the user named (``--column reviewed="Số xét"``)."""
    return {key: name for name, header in (columns or {}).items()
            for key in _header_keys(header)}


def header_matcher(kind: KindDef, coordinates: str = "wgs84",
                   columns: dict[str, str] | None = None):
    """Return a function giving the field a header text names (None: none or several).

    The user's own column names (`columns`: field -> header) come before the aliases.
    """
    index, users = _alias_index(field_defs(kind, coordinates)), _user_index(columns)

    def match(header: str) -> str | None:
        keys = _header_keys(header or "")
        mine = {users[k] for k in keys if k in users}
        found = mine or {index[k] for k in keys if k in index}
        return found.pop() if len(found) == 1 else None

    return match


def map_headers(headers: list[str], kind: KindDef, *, coordinates: str = "wgs84",
                header_row: int = 1, columns: dict[str, str] | None = None) -> HeaderMap:
    """Map each column to a field of `kind` (or a unit field) by header name or alias.

    `columns` (field -> header text) are the user's own names for columns whose header is
    not recognised; they come before the aliases, and one not found in the file is an error.
    Unknown columns are ignored and listed in ``warnings``; two columns for one field,
    missing required columns and a missing unit column are ``errors`` (on the header row).
    """
    defs = field_defs(kind, coordinates)
    index, users = _alias_index(defs), _user_index(columns)
    result = HeaderMap(list(headers), {}, header_row=header_row)
    taken: dict[str, int] = {}
    for name, wanted in (columns or {}).items():
        if not any(_header_keys(wanted) & _header_keys(h) for h in headers if h):
            result.errors.append(RowError(header_row, wanted, "", (
                f"no column is headed {quoted(wanted)}, the column you gave for {name}"),
                "copy the header exactly as the file writes it"))
    for i, header in enumerate(headers):
        if not header:
            result.warnings.append(f"Column {_column_letter(i)} has no header; it was ignored.")
            continue
        keys = _header_keys(header)
        matches = ({users[k] for k in keys if k in users}
                   or {index[k] for k in keys if k in index})
        if not matches:
            result.warnings.append(f"Column {quoted(header)} is not a field of "
                                   f"{kind.title_en.lower()}; it was ignored.")
        elif len(matches) > 1:
            result.errors.append(RowError(header_row, header, "", (
                f"the header {quoted(header)} could mean several fields "
                f"({', '.join(sorted(matches))}); rename it")))
        elif (name := matches.pop()) in taken:
            result.errors.append(RowError(header_row, header, "", (
                f"the columns {quoted(headers[taken[name]])} and {quoted(header)} both give "
                f"{name}; keep only one of them")))
        else:
            taken[name] = i
            result.fields[i] = name
    result.errors.extend(_missing_columns(kind, defs, taken, result, coordinates))
    return result


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


_COLUMN_WORDS = {"lon": "longitude", "lat": "latitude", "partner_lon": "partner longitude",
                 "partner_lat": "partner latitude"}
_VN2000_COLUMN_WORDS = {**_COLUMN_WORDS, "lon": "Y (easting)", "lat": "X (northing)"}


def _missing_columns(kind: KindDef, defs: dict[str, FieldDef], taken: dict[str, int],
                     found: HeaderMap, coordinates: str) -> list[RowError]:
    words = _VN2000_COLUMN_WORDS if coordinates == "vn2000" else _COLUMN_WORDS

    def hint(name: str) -> str:
        aliases = defs[name].aliases
        label = words.get(name, name)
        return f"{label} (e.g. {quoted(aliases[0])})" if aliases else label

    errors = []
    header_row = found.header_row
    missing = [f.name for f in kind.fields if f.required and f.name not in taken]
    if missing:
        errors.append(RowError(header_row, "", "", "missing required column(s): "
                               + "; ".join(hint(m) for m in missing)))
    if "commune_code" not in taken and "commune" not in taken:
        errors.append(RowError(header_row, "", "", (
            "no column names the unit: add a commune code column (e.g. 'Mã xã') or a "
            "commune name column (e.g. 'Xã/Phường')")))
    for lon, lat in coordinate_pairs(defs):
        if (lon in taken) != (lat in taken):
            have, lack = (lon, lat) if lon in taken else (lat, lon)
            errors.append(RowError(header_row, found.headers[taken[have]], "", (
                f"there is a column for {words[have]} but none for {words[lack]}: give both "
                "or neither")))
    if "area_wkt" in defs and "lon" not in taken and "area_wkt" not in taken:
        errors.append(RowError(header_row, "", "", (
            "no location columns: add longitude and latitude columns ('Kinh độ', 'Vĩ độ') "
            "or an area column in WKT ('Vùng WKT')")))
    return errors


def coordinate_pairs(defs: dict[str, FieldDef]) -> list[tuple[str, str]]:
    """Return the (longitude, latitude) field pairs, e.g. ``("partner_lon", "partner_lat")``."""
    return [(lon, lon.replace("lon", "lat")) for lon in defs
            if defs[lon].type == "lon" and lon.replace("lon", "lat") in defs]

