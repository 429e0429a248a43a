"""What a report is about: a province, a commune or a border sector, validated at the edge.

A border sector is every commune facing one neighbouring country (CN, LA or KH) along the
land border, across provinces. `parse_request` turns the URL or command-line parts into a
`ReportRequest` (unknown unit: `NotFound`; bad year or language: `InvalidParameter`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from geoservice.boundaries.quality import NO_POLYGON_NOTE
from geoservice.errors import NotFound
from geoservice.reports.heading import ReportOptions
from geoservice.store import FeatureQuery

KINDS = ("province", "commune", "border")
NEIGHBOURS = ("CN", "LA", "KH")
LANGUAGES = ("vi", "en")
ALL = 10**6
# Unit types in English (the Vietnamese ones are the boundaries' own `unit_type`).
UNIT_TYPES_EN = {"tỉnh": "Province", "thành phố": "City", "xã": "Commune",
                 "phường": "Ward", "đặc khu": "Special zone"}
COMMUNE_FIELDS = ("code", "name", "full_name", "unit_type", "province_code", "province_name",
                  "border_neighbors", "border_length_km")


@dataclass(frozen=True)
class Unit:
    """The area a report covers, with its communes (properties only, in code order).

    Every 2025 unit counts, with or without geometry: a commune row says `has_geometry`
    and, without it, carries the note `NO_POLYGON_NOTE`.
    """

    kind: str
    code: str
    name: str  # 'Tuyên Quang', 'Lũng Cú'; the country code for a border sector
    full_name: str  # 'Tỉnh Tuyên Quang', 'Xã Lũng Cú'; the code for a border sector
    unit_type: str | None
    province_code: str | None  # None for a border sector (it spans provinces)
    province_name: str | None
    communes: tuple[dict, ...] = field(default=(), repr=False)

    @property
    def provinces(self) -> tuple[str, ...]:
        """The province codes the unit's communes belong to, sorted."""
        return tuple(sorted({c["province_code"] for c in self.communes}))

    @property
    def commune_codes(self) -> tuple[str, ...]:
        """The codes of the unit's communes."""
        return tuple(c["code"] for c in self.communes)

    @property
    def without_geometry(self) -> tuple[dict, ...]:
        """The unit's communes that have no boundary polygon yet (counted all the same)."""
        return tuple(c for c in self.communes if not c["has_geometry"])

    @property
    def neighbor(self) -> str | None:
        """The neighbouring country of a border sector (None for other units)."""
        return self.code if self.kind == "border" else None

    def english_name(self) -> str:
        """The name with its unit type in English: 'Tuyên Quang Province'."""
        kind = UNIT_TYPES_EN.get(self.unit_type or "")
        return f"{self.name} {kind}" if kind else self.full_name


@dataclass(frozen=True)
class ReportRequest:
    """A validated report request."""

    unit: Unit
    year: int
    lang: str
    options: ReportOptions = ReportOptions()  # number, signer, page format


def parse_request(store, kind: str, code: str, year: str | None,
                  lang: str | None, options: ReportOptions | None = None) -> ReportRequest:
    """Validate the parts of a report request; the unit is read from the store.

    `options` are already validated (`geoservice.reports.heading.parse_options`)."""
    from geoservice import params as P
    from geoservice.indicators import published

    language = "vi" if lang is None else P.LANG.parse(lang)

    unit = find_unit(store, kind, code)
    chosen = published.indicator_year(store, year)
    return ReportRequest(unit, chosen if chosen is not None else date.today().year, language,
                         options or ReportOptions())


def find_unit(store, kind: str, code: str) -> Unit:
    """Return the unit of a kind ('province', 'commune', 'border') and code, or NotFound."""
    if kind not in KINDS:
        raise NotFound(f"There is no report kind '{kind}'. Kinds: {', '.join(KINDS)}.",
                       parameter="kind")
    if kind == "border":
        neighbour = code.upper()
        if neighbour not in NEIGHBOURS:
            raise NotFound(f"A border sector is one of {', '.join(NEIGHBOURS)}, not '{code}'.",
                           parameter="code")
        page = store.query("communes", FeatureQuery(limit=ALL, border_neighbor=neighbour))
        return Unit("border", neighbour, neighbour, neighbour, None, None, None,
                    _communes(page.features))
    collection = "provinces" if kind == "province" else "communes"
    digits = 2 if kind == "province" else 5
    found = (store.get(collection, code) if code.isascii() and code.isdigit()
             and len(code) == digits else None)
    if found is None:
        raise NotFound(f"There is no {kind} with code '{code}' (a {kind} code has "
                       f"{digits} digits, e.g. {'08' if digits == 2 else '00715'}).",
                       parameter="code")
    _fid, props, _geometry = found
    if kind == "province":
        page = store.query("communes", FeatureQuery(limit=ALL, province_code=code))
        return Unit("province", code, props["name"], props["full_name"], props["unit_type"],
                    code, props["full_name"], _communes(page.features))
    return Unit("commune", code, props["name"], props["full_name"], props["unit_type"],
                props["province_code"], props.get("province_name"),
                _communes([found]))


def _communes(features) -> tuple[dict, ...]:
    rows = [{name: props.get(name) for name in COMMUNE_FIELDS}
            | {"code": fid, **_geometry_flag(geometry)}
            for fid, props, geometry in features]
    return tuple(sorted(rows, key=lambda row: row["code"]))


def _geometry_flag(geometry) -> dict:
    drawn = geometry is not None and not geometry.is_empty
    return {"has_geometry": drawn, "note": None if drawn else NO_POLYGON_NOTE}
