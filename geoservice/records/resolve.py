"""Resolving the unit named in an official's spreadsheet row to a 2025 commune code.

Rows name their unit by 2025 code, by 2025 name (with its province), or by the pre-reform
(province, district, commune) names or codes still found in older files. Names match with
or without diacritics and unit-type prefixes. The answer is never a silent guess: a name
that fits several units, or an old unit split between several 2025 units, comes back as
`ambiguous` with the candidates (and the source's default successor as a suggestion); a
name that fits nothing comes back as `unknown` with the nearest spellings as suggestions.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from dataclasses import dataclass, field

from geoservice.store import FeatureQuery, Store
from geoservice.text import name_key

OK, AMBIGUOUS, UNKNOWN = "ok", "ambiguous", "unknown"


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


@dataclass
class UnitResolver:
    """Holds the 2025 and pre-reform unit lists, indexed by name key."""

    communes: dict[str, _Unit]
    legacy: dict[str, _Unit]
    provinces: dict[str, str]  # 2025 province code -> name
    _by_name: dict = field(default_factory=lambda: defaultdict(list))
    _legacy_by_name: dict = field(default_factory=lambda: defaultdict(list))
    _province_keys: dict = field(default_factory=lambda: defaultdict(set))

    def __post_init__(self) -> None:
        for unit in self.communes.values():
            self._by_name[name_key(unit.name)].append(unit)
        for code, name in self.provinces.items():
            self._province_keys[name_key(name)].add(code)
        for unit in self.legacy.values():
            self._legacy_by_name[name_key(unit.name)].append(unit)
            # An old province name points at the 2025 provinces its communes went into.
            self._province_keys[name_key(unit.province_name)].update(
                self.communes[c].province_code for c in unit.successors if c in self.communes)

    @classmethod
    def from_store(cls, store: Store, lineage_defaults: dict[str, str] | None = None):
        """Build the resolver from the boundary collections in a store."""
        def every(collection):
            page = store.query(collection, FeatureQuery(limit=10**6))
            return [props for _fid, props, _geom in page.features]

        provinces = {p["code"]: p["name"] for p in every("provinces")}
        communes = {
            c["code"]: _Unit(c["code"], c["name"], c["province_code"],
                             provinces.get(c["province_code"], ""))
            for c in every("communes")
        }
        legacy = {
            u["code"]: _Unit(u["code"], u["name"], u["province_code"], u["province_name"],
                             u.get("district_name") or "", tuple(u.get("successors") or ()),
                             (lineage_defaults or {}).get(u["code"]))
            for u in every("legacy-communes")
        }
        return cls(communes, legacy, provinces)

    def province_codes(self, province: str | None) -> set[str]:
        """Return the 2025 province codes a province name or code may mean (old names too)."""
        if not province:
            return set()
        text = province.strip()
        if text.isdigit():
            return {text.zfill(2)} if text.zfill(2) in self.provinces else set()
        return set(self._province_keys.get(name_key(text), set()))

    def resolve(self, *, code: str | None = None, name: str | None = None,
                province: str | None = None, district: str | None = None) -> Resolution:
        """Resolve one row's unit reference."""
        if code:
            return self._by_code(code.strip())
        if not name:
            return Resolution(UNKNOWN, message="no unit code or name given")
        in_provinces = self.province_codes(province)
        if province and not in_provinces:
            return Resolution(UNKNOWN, message=f"unknown province {province!r}",
                              suggestion=self._closest(province, self._province_keys))
        found = self._new_by_name(name, in_provinces)
        if len(found) == 1:
            return Resolution(OK, found[0].code, "name")
        if len(found) > 1:
            return self._ambiguous(found, f"{name!r} names several 2025 units")
        return self._old_by_name(name, province, district, in_provinces)

    def _by_code(self, code: str) -> Resolution:
        if code in self.communes:
            return Resolution(OK, code, "code")
        if code in self.legacy:
            return self._successor(self.legacy[code], "legacy code")
        return Resolution(UNKNOWN, message=f"no 2025 or pre-reform unit has code {code!r}")

    def _new_by_name(self, name: str, provinces: set[str]) -> list[_Unit]:
        units = self._by_name.get(name_key(name), [])
        return [u for u in units if not provinces or u.province_code in provinces]

    def _old_by_name(self, name, province, district, provinces) -> Resolution:
        units = self._legacy_by_name.get(name_key(name), [])
        if province:
            units = [u for u in units if name_key(u.province_name) == name_key(province)
                     or any(self.communes[c].province_code in provinces
                            for c in u.successors if c in self.communes)]
        if district:
            units = [u for u in units if name_key(u.district_name) == name_key(district)]
        if len(units) == 1:
            return self._successor(units[0], "pre-reform name")
        successors = {c for u in units for c in u.successors}
        if len(successors) == 1:
            return Resolution(OK, successors.pop(), "pre-reform name")
        if units:
            return self._ambiguous([self.communes[c] for c in sorted(successors)
                                    if c in self.communes],
                                   f"{name!r} names several pre-reform units; give the district")
        pool = {**self._by_name, **self._legacy_by_name}
        return Resolution(UNKNOWN, message=f"no unit named {name!r}"
                          + (f" in {province}" if province else ""),
                          suggestion=self._closest(name, pool))

    def _successor(self, unit: _Unit, how: str) -> Resolution:
        if len(unit.successors) == 1:
            return Resolution(OK, unit.successors[0], how)
        if not unit.successors:
            return Resolution(UNKNOWN, message=f"pre-reform unit {unit.code} has no successor")
        return Resolution(
            AMBIGUOUS, how=how, candidates=tuple(unit.successors),
            suggestion=unit.default_successor,
            message=f"pre-reform unit {unit.name} ({unit.code}) was split between "
                    f"{len(unit.successors)} units of 2025; name the 2025 unit",
        )

    def _ambiguous(self, units: list[_Unit], message: str) -> Resolution:
        labels = tuple(f"{u.code} {u.name} ({u.province_name})" for u in units)
        return Resolution(AMBIGUOUS, candidates=tuple(u.code for u in units),
                          message=f"{message}: {'; '.join(labels)}")

    @staticmethod
    def _closest(text: str, keyed: dict) -> str | None:
        matches = difflib.get_close_matches(name_key(text), list(keyed), n=1, cutoff=0.75)
        if not matches:
            return None
        value = keyed[matches[0]]
        if isinstance(value, set):
            return matches[0]
        return value[0].name if value else None
