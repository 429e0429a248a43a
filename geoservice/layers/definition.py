"""What a published layer is: `LayerDef` (one per file of ``layers/``) and its `Source`.

A layer is its source collection filtered and joined the way its TOML file says
(`geoservice.layers.catalog` reads and checks the files), drawn with its `Style`, with the
fields its tiles and feature pages carry. Indicator layers take parameters (the year and,
for a family such as ``certification_rate``, the group: `geoservice.layers.params`);
analysis layers show the zones of an analysis of incidents (`geoservice.layers.analysis`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import shapely

from geoservice.indicators.names import ANY_MODEL, CERTIFICATION_GROUPS, INDICATOR_NAMES
from geoservice.records.kinds import KINDS, MODEL_TYPES
from geoservice.render import classify
from geoservice.render.classify import Style, StyleClass, tile_value
from geoservice.render.symbols import Symbol
from geoservice.render.toml_table import Text

ACCESS = ("public", "restricted")
# Themes group the layers in the map page's layer control and in the catalogue listings.
THEMES: dict[str, dict[str, str]] = {
    "basemap": {"vi": "Nền bản đồ", "en": "Base map"},
    "boundaries": {"vi": "Địa giới hành chính", "en": "Administrative boundaries"},
    "certification": {"vi": "Công nhận an toàn về ANTT", "en": "Security and order certification"},
    "models": {"vi": "Mô hình tự quản", "en": "Self-management models"},
    "hotspots": {"vi": "Điểm nóng, vụ việc", "en": "Hot spots and incidents"},
    "border": {"vi": "Biên giới và hợp tác", "en": "Border and cooperation"},
}
DEFAULT_ORDER = {"polygon": 100, "line": 200, "point": 300, None: 100}
BACKGROUND = "#f4f1ea"
NEIGHBOURS = ("CN", "LA", "KH")
UNIT_COLLECTIONS = ("communes", "provinces")
LAYER_GEOMETRIES = {"MultiPolygon": ("polygon",), "MultiLineString": ("line",),
                    "Point": ("point",), "Geometry": ("polygon", "point")}
# Indicator families: the parameter choosing the member, and its values.
INDICATOR_FAMILIES: dict[str, tuple[str, tuple[str, ...]] | None] = {
    "certification_rate": ("group", CERTIFICATION_GROUPS),
    "model_coverage": ("model_type", (*MODEL_TYPES, ANY_MODEL)),
    **{name: None for name in INDICATOR_NAMES
       if not name.startswith(("certification_rate_", "model_coverage_"))},
}
# How parameter values read in titles ({group_label}, {model_type_label}): (vi, en).
PARAM_LABELS = {
    "residential": ("khu dân cư", "residential areas"),
    "commune": ("xã, phường", "communes (commune-level unit)"),
    "agencies": ("cơ quan", "agencies"),
    "enterprises": ("doanh nghiệp", "enterprises"),
    "schools": ("cơ sở giáo dục", "educational institutions"),
    "agencies_enterprises_schools": ("cơ quan, doanh nghiệp, cơ sở giáo dục",
                                     "agencies, enterprises and schools"),
}
TRANSFORMS = {"line_to_partner": "cooperation", "label_points": "communes"}  # -> its collection
FIXED_ENUMS: dict[str, dict[str, tuple]] = {
    "communes": {"border_neighbors": NEIGHBOURS},
    "provinces": {"border_neighbors": NEIGHBOURS},
    "border-lines": {"neighbor": NEIGHBOURS},
}


def enums(collection: str) -> dict[str, tuple]:
    """Values each property of a collection may take (checked in filters and categories;
    lists as comma-joined items): a record kind's vocabularies as the categories catalogue
    in force has them (a deployment's own codes included), the neighbours of the units."""
    kind = KINDS.get(collection)
    if kind is not None:
        return {f.name: tuple(f.choices) for f in kind.fields if f.choices}
    return FIXED_ENUMS.get(collection, {})


@dataclass(frozen=True)
class Source:
    """Where a layer's features come from."""

    collection: str
    filter: dict = field(default_factory=dict)  # property (or border_neighbor) -> value
    indicator: str | None = None  # an INDICATOR_FAMILIES name joined onto units
    params: dict = field(default_factory=dict)  # default indicator parameters
    geometry_transform: str | None = None
    analysis: str | None = None  # zones of this analysis of incidents (ANALYSIS_FIELDS)


@dataclass(frozen=True)
class LayerDef:
    """A published layer, as its TOML file defines it (names resolved for `params`)."""

    id: str
    titles: Text
    description: Text
    access: str
    theme: str
    geometry: str
    minzoom: int
    maxzoom: int
    order: int
    fields: tuple[str, ...]
    popup: tuple[str, ...]
    source: Source
    style: Style
    legend_title: Text
    params: dict = field(default_factory=dict)
    templates: tuple = field(default=((), (), None, None, None), repr=False, compare=False)
    # Variants of this layer for other parameters, made on first use (every tile asks one).
    variants: dict = field(default_factory=dict, repr=False, compare=False, hash=False)

    @property
    def restricted(self) -> bool:
        """True when only users whose area covers the data may read the layer."""
        return self.access == "restricted"

    @property
    def classes(self) -> tuple[StyleClass, ...]:
        """The legend entries (classes or categories, other, no data) with their colours."""
        return self.style.entries

    @property
    def indicator_property(self) -> str | None:
        """The indicator property the layer's parameters select (None without indicator)."""
        family = self.source.indicator
        if family is None:
            return None
        member = INDICATOR_FAMILIES[family]
        return family if member is None else f"{family}_{self.params[member[0]]}"

    def title(self, lang: str = "vi") -> str:
        """Return the layer's title in `lang` ('vi' or 'en')."""
        return self.titles.get(lang)

    def field_types(self) -> dict[str, str]:
        """The JSON type of each of the layer's fields, as declared by its source."""
        from geoservice.layers.fields import source_fields

        known = source_fields(self.source)
        return {name: known[name] for name in self.fields}

    def accepts(self, properties: dict) -> bool:
        """True when a feature passes the layer's source filter."""
        for name, wanted in self.source.filter.items():
            if name == "border_neighbor":  # a list (communes) or one code (border lines)
                value = properties.get("border_neighbors", properties.get("neighbor"))
                have = set(str(tile_value(value) or "").split(",")) - {""}
            else:
                have = () if properties.get(name) in (None, "") else (properties[name],)
            if (wanted not in have) if wanted != "any" else not have:
                return False
        return True

    def symbol_for(self, properties: dict) -> Symbol | None:
        """Return the Symbol the style gives a feature (None: the feature is not drawn)."""
        if not self.accepts(properties):
            return None
        value = properties.get(self.style.property) if self.style.property else None
        return self.style.symbol_for_value(value)

    def tile_properties(self, properties: dict) -> dict:
        """Return the feature's `fields` as tile values (lists joined, None left out)."""
        values = {name: tile_value(properties.get(name)) for name in self.fields}
        return {name: value for name, value in values.items() if value is not None}

    def transform_geometry(self, geometry, properties: dict):
        """Apply ``source.geometry_transform`` (None: the feature has no such geometry)."""
        if self.source.geometry_transform != "line_to_partner":
            return geometry
        lon, lat = properties.get("partner_lon"), properties.get("partner_lat")
        if geometry is None or geometry.is_empty or lon is None or lat is None:
            return None
        start = geometry if geometry.geom_type == "Point" else geometry.representative_point()
        return shapely.LineString([(start.x, start.y), (float(lon), float(lat))])

    def legend(self, lang: str = "vi") -> dict:
        """Return the layer's legend as JSON-ready data."""
        return {
            "layer": self.id, "title": self.legend_title.get(lang),
            "layer_title": self.title(lang), "geometry": self.geometry,
            "kind": self.style.kind, "property": self.style.property,
            "access": self.access, "params": dict(self.params),
            "entries": classify.legend_entries(self.style, lang, self.legend_title),
        }
