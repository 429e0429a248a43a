"""The feature collections the service publishes: one `CollectionDef` each.

Each `CollectionDef` names the collection, its titles, its id field, the filters it accepts
and its properties with their types and meanings; the features API and the OpenAPI
document are generated from these definitions. The boundary collections are filled from
the built GeoPackage by `geoservice.boundaries.load`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

UNIT_FIELDS = {
    "code": ("string", "Official GSO code (2 digits province, 5 digits commune)"),
    "name": ("string", "Name in Vietnamese (NFC), without the unit-type prefix"),
    "full_name": ("string", "Name with its unit-type prefix, e.g. 'Xã Lũng Cú'"),
    "name_ascii": ("string", "Name without diacritics"),
    "unit_type": ("string", "xã / phường / đặc khu (communes); tỉnh / thành phố (provinces)"),
    "province_code": ("string", "Code of the province the unit belongs to"),
    "official_area_km2": ("number", "Official area (km²) from the 2025 unit list"),
    "area_km2": ("number", "Area computed from the geometry, equal-area projection (km²)"),
    "border_neighbors": ("array", "Neighbouring countries faced along the land border: CN, LA, KH"),
    "border_length_km": ("object", "Length of land border shared, per neighbour (km)"),
    "distance_to_border_km": ("number", "Distance to the nearest land border line (km)"),
    "border_band": ("string", "Distance band: 0, <=10, <=25, <=50, >50 (km)"),
}

# Sent as null where the source has no value (an official area missing from the unit list).
UNIT_NULLABLE = frozenset({"official_area_km2", "distance_to_border_km", "border_band"})

# Set on a commune once an official file touched it (`geoservice import-boundaries`,
# `geoservice import border-designation`: docs/importing.md, sections 8 and 9).
OFFICIAL_FIELDS = {
    "boundary_source": ("string", "Where the geometry comes from: the official file's name, "
                                  "or 'demo'"),
    "boundary_version": ("string", "The boundary version (import) that loaded the geometry"),
    "border_source": ("string", "Where border_neighbors comes from: 'derived' (geometry) "
                                "or 'official' (the official border-commune list)"),
    "border_neighbors_derived": ("array", "The neighbours derived from the geometry, kept "
                                          "beside an official designation"),
    "border_designation_reference": ("string", "The official list's reference for the unit"),
    "border_designation_file": ("string", "The official list's file name"),
}


@dataclass(frozen=True)
class CollectionDef:
    """A published feature collection."""

    id: str
    title: str
    title_en: str
    description: str
    geometry: str
    filters: tuple[str, ...]
    fields: dict
    source: str = "features"  # "features" (boundaries) or "records"
    restricted: bool = False  # readable only by users and keys whose area covers the data
    nullable: frozenset[str] = frozenset()  # properties that may be sent as null
    formats: dict = field(default_factory=dict)  # property -> JSON Schema format (date …)
    # (first day, last day) this boundary version is valid, None for an open end; None for
    # collections without time (the datetime parameter then keeps every feature)
    valid: tuple[date | None, date | None] | None = None

    def queryables(self) -> dict[str, str]:
        """The properties a filter or sortby may name, with their JSON types."""
        return {name: kind for name, (kind, _) in self.fields.items() if kind in SCALAR}


SCALAR = ("string", "number", "integer", "boolean")
REFORM = date(2025, 7, 1)  # the 2025 units are valid from here, the older ones until the eve
RECORD_FILTERS = ("province_code", "commune_code", "year", "datetime", "category",
                  "border_neighbor")
PROVENANCE_FIELDS = {
    "commune_code": ("string", "2025 commune the record belongs to"),
    "province_code": ("string", "2025 province of that commune"),
    "synthetic": ("boolean", "True for the synthetic demo data set"),
    "version": ("integer", "Version of the record (1 + corrections)"),
    "source_file": ("string", "File the record was imported from"),
    "source_row": ("integer", "Row of that file"),
    "imported_at": ("string", "When it was imported (UTC)"),
}
RECORD_GEOMETRY = {"models": "Point", "incidents": "Point", "hot-spots": "Geometry",
                   "cooperation": "Point"}
FIELD_TYPES = {"str": "string", "int": "integer", "date": "string", "enum": "string",
               "lon": "number", "lat": "number", "wkt": "string"}


def _record_collections() -> tuple[CollectionDef, ...]:
    from geoservice.records.kinds import KINDS

    return tuple(
        CollectionDef(
            kind.id, kind.title, kind.title_en,
            f"{kind.title_en} per 2025 commune"
            + (" (restricted: only users whose area covers the data)." if kind.restricted
               else "."),
            RECORD_GEOMETRY.get(kind.id, "None"), RECORD_FILTERS,
            {**{f.name: (FIELD_TYPES[f.type], f.description or f.name) for f in kind.fields},
             **PROVENANCE_FIELDS},
            source="records", restricted=kind.restricted,
            nullable=frozenset({*(f.name for f in kind.fields if not f.required),
                                "source_file", "source_row"}),
            formats={**{f.name: "date" for f in kind.fields if f.type == "date"},
                     "imported_at": "date-time"},
        )
        for kind in KINDS.values()
    )


COLLECTIONS: dict[str, CollectionDef] = {
    c.id: c
    for c in (
        CollectionDef(
            "provinces", "Tỉnh, thành phố (2025)", "Provinces (2025)",
            "The 34 provincial units since 1 July 2025, dissolved from their communes, with "
            "border properties aggregated from the communes.",
            "MultiPolygon", ("border_neighbor", "q"),
            {**{k: v for k, v in UNIT_FIELDS.items() if k != "province_code"},
             "commune_count": ("integer", "Number of commune-level units")},
            nullable=UNIT_NULLABLE, valid=(REFORM, None),
        ),
        CollectionDef(
            "communes", "Xã, phường, đặc khu (2025)", "Communes (2025)",
            "The 3,321 commune-level units since 1 July 2025 (demo geometry assembled from "
            "older polygons; see docs/data.md).",
            "MultiPolygon", ("province_code", "border_neighbor", "q"),
            {**UNIT_FIELDS,
             "province_name": ("string", "Province name with prefix"),
             "area_ratio": ("number", "area_km2 / official_area_km2"),
             "match": ("string", "Weakest way the unit's source polygons were matched: "
                                 "name, location, split or orphans"),
             "area_guided": ("boolean", "True where official areas steered part of the "
                                        "geometry (split shares, orphan pieces)"),
             **OFFICIAL_FIELDS},
            nullable=UNIT_NULLABLE | {"area_ratio"} | frozenset(OFFICIAL_FIELDS),
            valid=(REFORM, None),
        ),
        CollectionDef(
            "border-lines", "Đường biên giới đất liền", "Land border lines",
            "The national land border, one feature per neighbouring country.",
            "MultiLineString", (),
            {"neighbor": ("string", "CN, LA or KH"), "name": ("string", "Country (Vietnamese)"),
             "name_en": ("string", "Country (English)"),
             "length_km": ("number", "Length of the line (km)")},
        ),
        CollectionDef(
            "legacy-communes", "Xã, phường, thị trấn trước 2025", "Pre-reform communes",
            "The commune-level units before 1 July 2025 (second boundary version), with the "
            "2025 units they went into.",
            "MultiPolygon", ("province_code", "q"),
            {"code": ("string", "Pre-reform GSO code"), "name": ("string", "Name"),
             "full_name": ("string", "Name with prefix"), "name_ascii": ("string", "ASCII name"),
             "unit_type": ("string", "Xã / Phường / Thị trấn"),
             "district_code": ("string", "District code"),
             "district_name": ("string", "District name"),
             "province_code": ("string", "Pre-reform province code"),
             "province_name": ("string", "Pre-reform province name"),
             "successors": ("array", "2025 commune codes this unit went into"),
             "area_km2": ("number", "Area computed from the geometry (km²)")},
            nullable=frozenset({"area_km2", "district_code", "district_name"}),
            valid=(None, date(2025, 6, 30)),
        ),
        CollectionDef(
            "countries", "Các nước trong khu vực", "Countries of the region",
            "Basemap: Vietnam and the countries around it within the basemap region "
            "(Natural Earth 1:10m; Vietnam drawn from the 2025 communes; see docs/data.md).",
            "MultiPolygon", (),
            {"iso_a2": ("string", "ISO 3166-1 alpha-2 code, e.g. VN, CN, LA, KH"),
             "name": ("string", "Country (Vietnamese)"),
             "name_en": ("string", "Country (English)")},
        ),
        CollectionDef(
            "sea", "Biển", "Sea",
            "Basemap: the sea within the basemap region (the region less all land), as one "
            "feature.",
            "MultiPolygon", (),
            {"name": ("string", "Name (Vietnamese): Biển"),
             "name_en": ("string", "Name (English): Sea")},
        ),
        *_record_collections(),
    )
}
