"""Resolving the unit named in an official's spreadsheet row to a 2025 commune code.

Rows name their unit by 2025 code, by 2025 name (with its province), or by the pre-reform
(province, district, commune) names or codes still found in older files. Every old unit
resolves through the official conversion (its `successors`): never by a 2025 unit that
merely shares its name.

- A district, when given, means the row names a pre-reform unit: the commune is looked
  up in that district (a 2025 name is accepted there only for a 2025 unit that took in
  part of the district). So does an old province name that is no 2025 province
  ("Hà Giang"). Otherwise 2025 names come first, then pre-reform ones.
- Names match with or without diacritics and unit-type prefixes; when a name is typed with
  diacritics they must fit (`text.marks_agree`: "Tân Thành" is not "Tân Thanh"); a prefix
  typed ("Phường") prefers units of that type among namesakes.
- Province names: 2025 and pre-reform names and codes, and the aliases of `names`.
- The answer is never a silent guess: a name that fits several units, or an old unit split
  between several 2025 units, comes back `ambiguous` naming every candidate (a split unit
  suggests the source's default successor); a name that fits nothing comes back `unknown`
  with the nearest spelling as a suggestion.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from dataclasses import dataclass, field

from geoservice.records.names import province_aliases
from geoservice.store import FeatureQuery, Store
from geoservice.text import has_diacritics, marks_agree, nfc, plain_key, unit_readings

OK, AMBIGUOUS, UNKNOWN = "ok", "ambiguous", "unknown"
_QUALIFIER = re.compile(r"\s*\([^)]*\)$")


@dataclass(frozen=True)
class Resolution:
    """The outcome for one row: a code, or why there is none, with candidates."""

    status: str
    code: str | None = None
    how: str = ""
    candidates: tuple[str, ...] = ()
    suggestion: str | None = None
    message: str = ""


@dataclass
class _Unit:
    code: str
    name: str
    province_code: str
    province_name: str
    district_name: str = ""
    successors: tuple[str, ...] = ()
    default_successor: str | None = None
    full_name: str = ""
    district_code: str = ""
    kind: str = ""  # unit type, folded ("xa", "thi tran" …), from the full name
    district_bare: str = ""  # the district's name without its type
    bare: dict = field(default_factory=dict)  # key -> name ("Phường 1": "phuong1" and "1")


@dataclass(frozen=True)
class _Scope:
    """What a row's province cell allows: 2025 and pre-reform province codes."""

    new: frozenset
    old: frozenset
    old_only: bool = False  # a pre-reform province that is no 2025 province: an old row


@dataclass
class UnitResolver:
    """Holds the 2025 and pre-reform unit lists, indexed by name key."""

    communes: dict[str, _Unit]
    legacy: dict[str, _Unit]
    provinces: dict[str, str]  # 2025 province code -> name
    _by_name: dict = field(default_factory=lambda: defaultdict(list))
    _legacy_by_name: dict = field(default_factory=lambda: defaultdict(list))
    _new_provinces: dict = field(default_factory=lambda: defaultdict(set))
    _old_provinces: dict = field(default_factory=lambda: defaultdict(set))
    _old_to_new: dict = field(default_factory=lambda: defaultdict(set))
    _by_district: dict = field(default_factory=lambda: defaultdict(list))

    def __post_init__(self) -> None:
        for unit in self.communes.values():
            _index(unit, self._by_name)
        for code, name in self.provinces.items():
            self._new_provinces[_bare_key(name)].add(code)
        for unit in self.legacy.values():
            _index(unit, self._legacy_by_name)
            unit.district_bare = unit_readings(unit.district_name)[0][1]
            self._by_district[plain_key(unit.district_bare)].append(unit)
            self._by_district[unit.district_code].append(unit)
            self._old_provinces[_bare_key(unit.province_name)].add(unit.province_code)
            self._old_to_new[unit.province_code].update(
                self.communes[c].province_code for c in unit.successors if c in self.communes)
        for alias, canonical in province_aliases().items():
            for table in (self._new_provinces, self._old_provinces):
                if _bare_key(canonical) in table and alias not in table:
                    table[alias] = table[_bare_key(canonical)]

    @classmethod
    def from_store(cls, store: Store, lineage_defaults: dict[str, str] | None = None):
        """Build the resolver from the boundary collections in a store."""
        def every(collection):
            page = store.query(collection, FeatureQuery(limit=10**6))
            return [props for _fid, props, _geom in page.features]

        return cls.from_rows(every("provinces"), every("communes"), every("legacy-communes"),
                             lineage_defaults)

    @classmethod
    def from_rows(cls, provinces: list[dict], communes: list[dict], legacy: list[dict],
                  lineage_defaults: dict[str, str] | None = None):
        """Build the resolver from the properties of the three boundary collections."""
        names = {p["code"]: p["name"] for p in provinces}
        new = {c["code"]: _Unit(c["code"], c["name"], c["province_code"],
                                names.get(c["province_code"], ""),
                                full_name=c.get("full_name") or c["name"])
               for c in communes}
        old = {u["code"]: _Unit(u["code"], u["name"], u["province_code"], u["province_name"],
                                u.get("district_name") or "", tuple(u.get("successors") or ()),
                                (lineage_defaults or {}).get(u["code"]),
                                u.get("full_name") or u["name"], u.get("district_code") or "")
               for u in legacy}
        return cls(new, old, names)

    def province_codes(self, province: str | None) -> set[str]:
        """Return the 2025 province codes a province name or code may mean (old names too)."""
        scope = self._scope(province)
        return set(scope.new) if scope else set()

    def resolve(self, *, code: str | None = None, name: str | None = None,
                province: str | None = None, district: str | None = None) -> Resolution:
        """Resolve one row's unit reference."""
        district = nfc(str(district)) if district else None
        if code:
            return self._by_code(str(code).strip(), district)
        if not name:
            return Resolution(UNKNOWN, message="no unit code or name given")
        name = nfc(str(name))
        # Diacritics anywhere in the row mean the file has them: "Nga Thanh" ≠ "Nga Thành".
        marked = any(has_diacritics(str(v)) for v in (name, province, district) if v)
        scope = self._scope(province)
        if province and scope is None:
            keys = {**self._new_provinces, **self._old_provinces}
            return Resolution(UNKNOWN, message=f"unknown province {province!r}",
                              suggestion=self._closest(province, keys))
        if district:
            return self._in_district(name, district, province, scope, marked)
        new = _named(name, self._by_name,
                     lambda u: scope is None or u.province_code in scope.new, marked)
        old = _named(name, self._legacy_by_name, lambda u: self._in_scope(u, scope), marked)
        typed_kind = unit_readings(name)[0][0]
        if typed_kind and any(u.kind == typed_kind for u in new + old):
            # "Phường Chương Dương": the old ward, not the 2025 "Xã Chương Dương".
            new = [u for u in new if u.kind == typed_kind]
            old = [u for u in old if u.kind == typed_kind]
        if scope is not None and scope.old_only and old:
            return self._from_old(old, name, "pre-reform name")
        if len(new) == 1:
            return Resolution(OK, new[0].code, "name")
        if len(new) > 1:
            return self._ambiguous(new, f"{name!r} names several 2025 units; give the "
                                        "province or the code")
        if old:
            return self._from_old(old, name, "pre-reform name")
        return self._unknown(name, province)

    def _scope(self, province: str | None) -> _Scope | None:
        if not province or not str(province).strip():
            return None
        text = str(province).strip()
        if text.isdigit():
            code = text.zfill(2)
            old = {code} if code in self._old_to_new else set()
            new = {code} if code in self.provinces else set(self._old_to_new.get(code, ()))
            return _Scope(frozenset(new), frozenset(old), code not in self.provinces) \
                if new or old else None
        new, old = set(), set()
        for _kind, rest in unit_readings(text):
            key = plain_key(rest)
            new, old = set(self._new_provinces.get(key, ())), set(self._old_provinces.get(key, ()))
            if new or old:
                break
        if not new and not old:
            return None
        old_only = not new
        for code in old:
            new |= self._old_to_new.get(code, set())
        return _Scope(frozenset(new), frozenset(old), old_only)

    def _by_code(self, code: str, district: str | None) -> Resolution:
        old = self.legacy.get(code)
        if old is not None and district and old in _district_units(self._by_district, district):
            return self._successor(old, "legacy code")
        if code in self.communes:
            return Resolution(OK, code, "code")
        if old is not None:
            return self._successor(old, "legacy code")
        return Resolution(UNKNOWN, message=f"no 2025 or pre-reform unit has code {code!r}")

    def _in_scope(self, unit: _Unit, scope: _Scope | None) -> bool:
        """In the old province named, or gone into the 2025 province named."""
        if scope is None or unit.province_code in scope.old:
            return True
        return not scope.old_only and any(self.communes[c].province_code in scope.new
                                          for c in unit.successors if c in self.communes)

    def _in_district(self, name, district, province, scope, marked) -> Resolution:
        """A pre-reform row: the commune within the named district."""
        in_district = [u for u in _district_units(self._by_district, district)
                       if self._in_scope(u, scope)]
        # A name of both eras ("Vĩnh Long") with a district means the old province first.
        in_district = [u for u in in_district
                       if scope is not None and u.province_code in scope.old] or in_district
        if not in_district:
            districts = {k: units for k, units in self._by_district.items()
                         if not k.isdigit() and any(self._in_scope(u, scope) for u in units)}
            return Resolution(UNKNOWN, message=f"no pre-reform district {district!r}"
                              + (f" in {province}" if province else ""),
                              suggestion=self._closest(district, districts, "district_name"))
        old = _named(name, _keyed(in_district), lambda u: True, marked)
        if old:
            return self._from_old(old, name, "pre-reform name")
        took_in = {c for u in in_district for c in u.successors}
        new = _named(name, self._by_name, lambda u: u.code in took_in, marked)
        if len(new) == 1:
            return Resolution(OK, new[0].code, "2025 name in a pre-reform district")
        if len(new) > 1:
            return self._ambiguous(new, f"{name!r} names several 2025 units")
        return Resolution(UNKNOWN, message=f"no unit named {name!r} in district {district}",
                          suggestion=self._closest(name, _keyed(in_district)))

    def _from_old(self, units: list[_Unit], name: str, how: str) -> Resolution:
        if len(units) == 1:
            return self._successor(units[0], how)
        successors = sorted({c for u in units for c in u.successors})
        if len(successors) == 1:
            return Resolution(OK, successors[0], how)
        olds = "; ".join(f"{u.full_name or u.name} ({u.district_name}, {u.province_name}) "
                         f"-> {', '.join(self._label(c) for c in u.successors)}" for u in units)
        return Resolution(AMBIGUOUS, how=how, candidates=tuple(successors),
                          message=f"{name!r} names several pre-reform units; give the "
                                  f"district or the 2025 code: {olds}")

    def _successor(self, unit: _Unit, how: str) -> Resolution:
        if len(unit.successors) == 1:
            return Resolution(OK, unit.successors[0], how)
        if not unit.successors:
            return Resolution(UNKNOWN, message=f"pre-reform unit {unit.code} has no successor")
        default = (f"; the official default is {self._label(unit.default_successor)}"
                   if unit.default_successor else "")
        return Resolution(
            AMBIGUOUS, how=how, candidates=tuple(unit.successors),
            suggestion=unit.default_successor,
            message=f"pre-reform unit {unit.full_name or unit.name} ({unit.district_name}, "
                    f"{unit.province_name}; {unit.code}) was split between "
                    f"{len(unit.successors)} units of 2025: "
                    f"{'; '.join(self._label(c) for c in unit.successors)}. Give the 2025 "
                    f"code of the one meant{default}",
        )

    def _label(self, code: str) -> str:
        unit = self.communes.get(code)
        return f"{code} {unit.full_name or unit.name} ({unit.province_name})" if unit else code

    def _ambiguous(self, units: list[_Unit], message: str) -> Resolution:
        labels = "; ".join(self._label(u.code) for u in units)
        return Resolution(AMBIGUOUS, candidates=tuple(u.code for u in units),
                          message=f"{message}: {labels}")

    def _unknown(self, name: str, province: str | None) -> Resolution:
        pool = {**self._by_name, **self._legacy_by_name}
        return Resolution(UNKNOWN, message=f"no unit named {name!r}"
                          + (f" in {province}" if province else ""),
                          suggestion=self._closest(name, pool))

    @staticmethod
    def _closest(text: str, keyed: dict, attribute: str = "name") -> str | None:
        matches = difflib.get_close_matches(_bare_key(text), list(keyed), n=1, cutoff=0.75)
        if not matches:
            return None
        value = keyed[matches[0]]
        if isinstance(value, set):
            return matches[0]
        return getattr(value[0], attribute) if value else None


def _bare_key(name: str) -> str:
    """The key of an official name after its unit type ("Tỉnh Hà Giang" -> "hagiang")."""
    return plain_key(unit_readings(name)[0][1])


def _district_units(by_district: dict, typed: str) -> list[_Unit]:
    """The pre-reform units of the district typed (by code, or by name that fits)."""
    text = typed.strip()
    if text.isdigit():
        return list(by_district.get(text.zfill(3), []))
    found = []
    for _kind, rest in unit_readings(text):
        found += [u for u in by_district.get(plain_key(rest), [])
                  if marks_agree(rest, u.district_bare) and u not in found]
    return found


def _named(typed: str, index: dict, allowed, marked: bool) -> list[_Unit]:
    """The units whose name fits the typed one (diacritics, if typed, included).

    In a row typed with diacritics (`marked`) a name without any prefers a namesake without
    any ("Nga Thanh" over "Nga Thành"). A unit type typed with the name ("Phường Chương
    Dương") prefers units of that type among the namesakes that fit.
    """
    fits: list[tuple[str, _Unit]] = []
    for kind, rest in unit_readings(typed):
        found = [u for u in index.get(plain_key(rest), [])
                 if allowed(u) and marks_agree(rest, u.bare.get(plain_key(rest), ""))]
        if marked and not has_diacritics(rest):
            # A row typed with diacritics: an unmarked name prefers the unmarked namesake.
            found = [u for u in found if not has_diacritics(u.bare.get(plain_key(rest)))] \
                or found
        fits += [(kind, u) for u in found]
    units = list({id(u): u for _kind, u in fits}.values())
    same_type = list({id(u): u for kind, u in fits if kind and kind == u.kind}.values())
    return same_type or units


def _index(unit: _Unit, index: dict) -> None:
    """File a unit under each key its name may be typed as."""
    unit.kind = unit_readings(unit.full_name)[0][0]
    # The registry tells namesakes apart in brackets ("Định An (Xã)"); officials do not.
    names = {unit.name, _QUALIFIER.sub("", unit.name)}
    unit.bare = {plain_key(rest): rest for name in names for _kind, rest in unit_readings(name)}
    for name in names:
        unit.bare.setdefault(plain_key(name), name)
    for key in unit.bare:
        index[key].append(unit)


def _keyed(units: list[_Unit]) -> dict:
    keyed = defaultdict(list)
    for unit in units:
        for key in unit.bare:
            keyed[key].append(unit)
    return keyed
