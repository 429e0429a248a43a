"""The layer catalogue: ``layers/*.toml`` loaded into frozen `LayerDef` objects.

One TOML file per published layer; the layer id is the file name. `load_catalog` checks
every key of every file against the feature collections (`geoservice.collections`), the
record kinds and the indicators, and raises one `CatalogError` listing every problem as
``layers/<file>.toml: <key>: <message>``. Keys of a file (``?`` = optional):

    access = "public" | "restricted"; theme = one of THEMES (the map's layer-control group);
    geometry = "polygon" | "line" | "point";
    minzoom, maxzoom = 0-22; order? = draw order (default by geometry);
    fields = [properties in tiles]; popup? = [some of fields]
    [title], [description]: vi, en          [legend] title = { vi, en }
    [source] collection; filter? = { property or border_neighbor = value | "any" };
             indicator? (onto communes/provinces); geometry_transform? = "line_to_partner"
             — or analysis = "gistar" | "emerging" (zones of an analysis of incidents,
             `geoservice.layers.analysis`; [source.params] then fixes some of its parameters)
    [source.params] year = "latest" | 2024; group / model_type (per indicator family)
    [style] kind = "single" | "classed" | "categorical"; property; fill, fill_opacity,
            stroke, stroke_width, radius, dash; [[style.classes]] min?, color, label;
            [[style.categories]] value, color, label; [style.other], [style.no_data]

Indicator layers take parameters (``[source.params]``: the year and, for a family such as
``certification_rate``, the group); names in ``fields`` and ``style.property`` may use
them as ``{group}``. `LayerDef.with_params` gives the same layer for other parameters.
"""

from __future__ import annotations

import logging
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlencode

import shapely

from geoservice.collections import COLLECTIONS
from geoservice.errors import CatalogError, InvalidParameter, NotFound
from geoservice.indicators.compute import (
    ANY_MODEL,
    CERTIFICATION_GROUPS,
    INDICATOR_NAMES,
    RESTRICTED_INDICATORS,
)
from geoservice.layers.analysis import ANALYSIS_FIELDS, check_fixed
from geoservice.records.kinds import KINDS, MODEL_TYPES
from geoservice.render import classify
from geoservice.render.classify import GEOMETRIES, Style, StyleClass, Table, Text, tile_value
from geoservice.render.symbols import Symbol

LOGGER = logging.getLogger(__name__)

LAYERS_FOLDER = Path(__file__).resolve().parents[2] / "layers"
LAYER_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
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
# Collections the lead adds to the build; not (yet) in COLLECTIONS. name -> (geometry, fields)
BASEMAP_COLLECTIONS = {
    "countries": ("MultiPolygon", {"iso_a2": "string", "name": "string", "name_en": "string"}),
    "sea": ("MultiPolygon", {}),
}
LAYER_GEOMETRIES = {"MultiPolygon": ("polygon",), "MultiLineString": ("line",),
                    "Point": ("point",), "Geometry": ("polygon", "point")}
# Indicator families: the parameter choosing the member, and its values.
INDICATOR_FAMILIES: dict[str, tuple[str, tuple[str, ...]] | None] = {
    "certification_rate": ("group", CERTIFICATION_GROUPS),
    "model_coverage": ("model_type", (*MODEL_TYPES, ANY_MODEL)),
    **{name: None for name in INDICATOR_NAMES
       if not name.startswith(("certification_rate_", "model_coverage_"))},
}
INDICATOR_FIELDS = {"indicator_year": "integer",
                    **{name: "number" if name.startswith(("certification_rate_",
                                                          "model_coverage_")) else "integer"
                       for name in INDICATOR_NAMES}}
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
TRANSFORMS = {"line_to_partner": "cooperation"}  # transform -> the collection it applies to
# Values a property may take (checked in filters and categories); lists as comma-joined items.
ENUMS: dict[str, dict[str, tuple]] = {
    **{kind.id: {f.name: tuple(f.choices) for f in kind.fields if f.choices}
       for kind in KINDS.values()},
    "communes": {"border_neighbors": NEIGHBOURS},
    "provinces": {"border_neighbors": NEIGHBOURS},
    "border-lines": {"neighbor": NEIGHBOURS},
}


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

    def indicator_params(self, year: int | str | None = None, **overrides) -> dict:
        """Return the indicator parameters: the defaults, `year` and `overrides` applied.

        ``year`` is an int or "latest" (None keeps the default, which may be "latest" for
        the caller to resolve). Unknown names or values raise `InvalidParameter`. Layers
        without an indicator have no parameters ({}).
        """
        if self.source.indicator is None:
            if any(v is not None for v in overrides.values()):
                raise InvalidParameter(f"Layer '{self.id}' takes no parameters.")
            return {}
        params = dict(self.params)
        if year is not None:
            params["year"] = _year(year)
        member = INDICATOR_FAMILIES[self.source.indicator]
        for name, value in overrides.items():
            if value is None:
                continue
            if member is None or name != member[0]:
                raise InvalidParameter(f"Layer '{self.id}' has no parameter '{name}'.",
                                       parameter=name)
            if value not in member[1]:
                raise InvalidParameter(f"{name} must be one of {', '.join(member[1])}.",
                                       parameter=name)
            params[name] = value
        return params

    def with_params(self, year: int | str | None = None, **overrides) -> LayerDef:
        """Return this layer for other indicator parameters (see `indicator_params`); the
        few resolved variants (years × groups) are kept, since every tile asks for one."""
        params = self.indicator_params(year, **overrides)
        key = (id(self), tuple(sorted(params.items())))
        kept = _RESOLVED.get(key)
        if kept is None or kept[0] is not self:
            if len(_RESOLVED) > 4096:
                _RESOLVED.clear()
            kept = _RESOLVED[key] = (self, _resolve(self, params))
        return kept[1]

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


def load_catalog(folder: Path | str | None = None) -> dict[str, LayerDef]:
    """Load and check every ``*.toml`` of `folder` (default: the repository's layers/).

    Raises `CatalogError` listing every problem of every file.
    """
    folder = Path(folder) if folder is not None else LAYERS_FOLDER
    if not folder.is_dir():
        raise CatalogError([f"{folder}: no such folder of layer files"])
    paths = sorted(folder.glob("*.toml"))
    if not paths:
        raise CatalogError([f"{folder}: no layer files (*.toml)"])
    catalog, problems = {}, []
    for path in paths:
        own: list[str] = []
        layer = _read_layer(path, own)
        problems += [f"{folder.name}/{path.name}: {message}" for message in own]
        if layer is not None and not own:
            catalog[layer.id] = layer
    if problems:
        raise CatalogError(problems)
    LOGGER.info("layer catalogue: %d layers from %s", len(catalog), folder)
    return catalog


def check_layers(folder: Path | str | None = None) -> list[str]:
    """Return every problem of the layer files (an empty list when they are all valid)."""
    try:
        load_catalog(folder)
    except CatalogError as error:
        return list(error.problems)
    return []


def maplibre_layers(layer: LayerDef, source_id: str, source_layer: str) -> list[dict]:
    """Return the MapLibre style layers drawing `layer` from a vector source."""
    return classify.maplibre_layers(layer.style, layer.id, source_id, source_layer,
                                    layer.minzoom)


def maplibre_style(catalog: dict[str, LayerDef], tiles_base_url: str,
                   layer_ids: list[str] | None = None, lang: str = "vi") -> dict:
    """Return a MapLibre style (spec v8) with one vector tile source per layer.

    Tiles are ``{tiles_base_url}/{layer}/{z}/{x}/{y}.mvt`` (plus the layer's parameters
    where they differ from its defaults); the layer inside each tile is named by the
    layer id. No glyphs or sprite are referenced, so nothing is fetched besides tiles.
    """
    ids = (list(layer_ids) if layer_ids is not None
           else sorted(catalog, key=lambda i: (catalog[i].order, i)))
    unknown = [i for i in ids if i not in catalog]
    if unknown:
        raise NotFound(f"There is no layer '{unknown[0]}'. Layers: {', '.join(catalog)}.",
                       parameter="layers")
    base = tiles_base_url.rstrip("/")
    sources, layers = {}, [{"id": "background", "type": "background",
                            "paint": {"background-color": BACKGROUND}}]
    for layer_id in ids:
        layer = catalog[layer_id]
        changed = {k: v for k, v in layer.params.items()
                   if not k.startswith("_") and layer.source.params.get(k) != v}
        query = f"?{urlencode(changed)}" if changed else ""
        sources[layer_id] = {"type": "vector",
                             "tiles": [f"{base}/{layer_id}/{{z}}/{{x}}/{{y}}.mvt{query}"],
                             "minzoom": layer.minzoom, "maxzoom": layer.maxzoom}
        layers += maplibre_layers(layer, layer_id, layer_id)
    return {"version": 8, "name": "geoservice", "sources": sources, "layers": layers,
            "metadata": {"geoservice:lang": lang,
                         "geoservice:legends": [catalog[i].legend(lang) for i in ids]}}


# --- reading one file --------------------------------------------------------------------

def _read_layer(path: Path, problems: list[str]) -> LayerDef | None:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        problems.append(f"(file): not valid TOML: {error}")
        return None
    if not LAYER_ID.match(path.stem):
        problems.append(f"(file name): a layer id is lowercase letters, digits and hyphens, "
                        f"got {path.stem!r}")
    top = Table(data, "", problems)
    texts = {name: top.text(name) for name in ("title", "description")}
    access, geometry = top.choice("access", ACCESS), top.choice("geometry", GEOMETRIES)
    theme = top.choice("theme", tuple(THEMES))
    minzoom, maxzoom = _zoom(top, "minzoom"), _zoom(top, "maxzoom")
    if minzoom is not None and maxzoom is not None and minzoom > maxzoom:
        top.problem("minzoom", f"{minzoom} is above maxzoom {maxzoom}")
    order = top.value("order", (int,), default=DEFAULT_ORDER[geometry])
    fields, popup = _names(top, "fields", required=True), _names(top, "popup")
    source_table, style_table = top.table("source", True), top.table("style", True)
    source = _read_source(source_table, geometry) if source_table else None
    style = classify.read_style(style_table, geometry) if style_table and geometry else None
    legend = top.table("legend", True)
    legend_title = legend.text("title") if legend else None
    if legend:
        legend.done()
    top.done()
    if problems:
        return None
    layer = LayerDef(path.stem, texts["title"], texts["description"], access, theme, geometry,
                     minzoom, maxzoom, order, (), (), source, style, legend_title,
                     templates=(fields, popup, style.property, texts["title"], legend_title))
    layer = _resolve(layer, dict(source.params), problems)
    if not problems:
        _check_properties(layer, problems)
    return None if problems else layer


def _zoom(table: Table, name: str) -> int | None:
    zoom = table.value(name, (int,), required=True)
    if zoom is not None and not 0 <= zoom <= 22:
        table.problem(name, f"must be between 0 and 22, got {zoom}")
        return None
    return zoom


def _names(table: Table, name: str, required: bool = False) -> tuple[str, ...]:
    names = table.value(name, (list,), required, default=[])
    if not all(isinstance(n, str) for n in names):
        table.problem(name, f"expected a list of property names, got {names!r}")
        return ()
    if len(set(names)) != len(names):
        table.problem(name, "a property is listed twice")
    return tuple(names)


def _year(value) -> int | str:
    if value == "latest":
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1900 <= value <= 2100:
        raise InvalidParameter("year must be 'latest' or a year between 1900 and 2100.",
                               parameter="year")
    return value


_RESOLVED: dict[tuple, tuple[LayerDef, LayerDef]] = {}


def _resolve(layer: LayerDef, params: dict, problems: list[str] | None = None) -> LayerDef:
    """Fill the ``{param}`` placeholders of fields, popup and style property, and the
    ``{group_label}`` / ``{model_type_label}`` placeholders of the titles."""
    fields, popup, prop, title, legend_title = layer.templates
    problems = [] if problems is None else problems

    def label(key: str, lang: str) -> Text | None:
        if key is None:
            return None
        names = {f"{name}_label": PARAM_LABELS[value][lang == "en"]
                 for name, value in params.items() if value in PARAM_LABELS}
        try:
            return key.format(**names)
        except (KeyError, IndexError, ValueError) as error:
            problems.append(f"title: placeholder {error} is not a parameter of the layer")
            return key

    def text(template: Text | None) -> Text | None:
        return template and Text(label(template.vi, "vi"), label(template.en, "en"))

    def fill(key: str, template: str) -> str:
        try:
            return template.format(**params)
        except (KeyError, IndexError, ValueError) as error:
            problems.append(f"{key}: placeholder {error} is not a parameter of the layer")
            return template

    return replace(
        layer, params=params, titles=text(title) or layer.titles,
        legend_title=text(legend_title) or layer.legend_title,
        fields=tuple(fill(f"fields[{i}]", n) for i, n in enumerate(fields)),
        popup=tuple(fill(f"popup[{i}]", n) for i, n in enumerate(popup)),
        style=layer.style.with_property(prop and fill("style.property", prop)),
    )


def _collection(name: str) -> tuple[str, dict[str, str]]:
    """Return a collection's geometry type and {property: type}."""
    if name in COLLECTIONS:
        spec = COLLECTIONS[name]
        return spec.geometry, {field: about[0] for field, about in spec.fields.items()}
    geometry, fields = BASEMAP_COLLECTIONS[name]
    return geometry, dict(fields)


def _read_source(table: Table, geometry: str | None) -> Source | None:
    if "analysis" in table.data:
        return _read_analysis_source(table, geometry)
    before = len(table.problems)
    collection = table.choice("collection", (*COLLECTIONS, *BASEMAP_COLLECTIONS))
    filters = table.value("filter", (dict,), default={})
    indicator = table.choice("indicator", tuple(INDICATOR_FAMILIES), required=False)
    params = table.value("params", (dict,), default={})
    transform = table.choice("geometry_transform", tuple(TRANSFORMS), required=False)
    table.done()
    if collection is None:
        return None
    if indicator and collection not in UNIT_COLLECTIONS:
        table.problem("indicator", f"indicators are joined onto {' or '.join(UNIT_COLLECTIONS)}"
                                   f", not {collection!r}")
    _check_filter(table, collection, filters)
    params = _check_params(table, indicator, params)
    allowed = LAYER_GEOMETRIES.get(_collection(collection)[0], ())
    if transform:
        allowed = ("line",)
        if TRANSFORMS[transform] != collection:
            table.problem("geometry_transform",
                          f"{transform!r} applies to {TRANSFORMS[transform]!r} only")
    if geometry and geometry not in allowed:
        hint = (f"{' or '.join(allowed)}" if allowed
                else "nothing (no geometry: join it onto communes with an indicator)")
        table.problem("collection", f"{collection!r} gives {hint}, not a {geometry} layer")
    if len(table.problems) > before:
        return None
    return Source(collection, filters, indicator, params, transform)


def _read_analysis_source(table: Table, geometry: str | None) -> Source | None:
    before = len(table.problems)
    analysis = table.choice("analysis", tuple(ANALYSIS_FIELDS))
    params = table.value("params", (dict,), default={})
    table.done()
    if analysis is not None and (problem := check_fixed(analysis, params)):
        table.problem("params", problem)
    if geometry not in (None, "polygon"):
        table.problem("analysis", f"analysis zones are polygons, not a {geometry} layer")
    if len(table.problems) > before:
        return None
    return Source("incidents", {}, None, {k: str(v) for k, v in params.items()}, None,
                  analysis)


def _check_filter(table: Table, collection: str, filters: dict) -> None:
    fields = _collection(collection)[1]
    enums = {**ENUMS.get(collection, {}), "border_neighbor": NEIGHBOURS}
    for name, value in filters.items():
        key = f"filter.{name}"
        neighbours = name == "border_neighbor" and {"border_neighbors", "neighbor"} & set(fields)
        if not neighbours and name not in fields:
            table.problem(key, f"unknown property of {collection!r} to filter on")
        elif isinstance(value, bool) or not isinstance(value, str | int):
            table.problem(key, f"expected a text or a number, got {value!r}")
        elif name in enums and value not in (*enums[name], "any"):
            table.problem(key, f"must be one of {', '.join(enums[name])} or any, got {value!r}")


def _check_params(table: Table, indicator: str | None, params: dict) -> dict:
    if params and indicator is None:
        table.problem("params", "parameters need a source.indicator")
        return {}
    if indicator is None:
        return {}
    member = INDICATOR_FAMILIES[indicator]
    out = {"year": "latest"}
    for name, value in params.items():
        key = f"params.{name}"
        if name == "year":
            try:
                out["year"] = _year(value)
            except InvalidParameter as error:
                table.problem(key, error.message)
        elif member is None or name != member[0]:
            table.problem(key, f"not a parameter of indicator {indicator!r}")
        elif value not in member[1]:
            table.problem(key, f"must be one of {', '.join(member[1])}, got {value!r}")
        else:
            out[name] = value
    if member is not None and member[0] not in params:
        table.problem(f"params.{member[0]}", f"missing (one of {', '.join(member[1])})")
    return out


def _check_properties(layer: LayerDef, problems: list[str]) -> None:
    """Check the resolved names against what the collection (and indicator) carry."""
    source, style = layer.source, layer.style
    known = (dict(ANALYSIS_FIELDS[source.analysis]) if source.analysis
             else _collection(source.collection)[1])
    if source.indicator:
        known.update(INDICATOR_FIELDS)
    for index, name in enumerate(layer.fields):
        if name not in known:
            problems.append(f"fields[{index}]: unknown property {name!r} of "
                            f"{source.collection!r} (known: {', '.join(known)})")
    for index, name in enumerate(layer.popup):
        if name not in layer.fields:
            problems.append(f"popup[{index}]: {name!r} is not in fields")
    restricted = (source.analysis is not None or source.collection in COLLECTIONS
                  and COLLECTIONS[source.collection].restricted
                  or source.indicator in RESTRICTED_INDICATORS
                  or any(name in RESTRICTED_INDICATORS for name in layer.fields))
    if restricted and not layer.restricted:
        problems.append("access: the layer shows restricted data; it must be \"restricted\"")
    if style.property is not None:
        _check_style_property(layer, known, problems)


def _check_style_property(layer: LayerDef, known: dict, problems: list[str]) -> None:
    style, name = layer.style, layer.style.property
    if name not in known:
        problems.append(f"style.property: unknown property {name!r} of "
                        f"{layer.source.collection!r}")
        return
    if name not in layer.fields:
        problems.append(f"style.property: {name!r} is not in fields (tiles would not carry it)")
    if style.kind == "classed" and known[name] not in ("number", "integer"):
        problems.append(f"style.property: {name!r} is a {known[name]}; classes need numbers")
    if name in INDICATOR_NAMES and style.no_data is None:
        problems.append("style.no_data: missing; indicators are missing where nothing "
                        "was reported")
    choices = (None if layer.source.analysis
               else ENUMS.get(layer.source.collection, {}).get(name))
    for index, entry in enumerate(style.classes if style.kind == "categorical" else ()):
        parts = str(entry.value).split(",")
        if choices and any(part not in choices for part in parts):
            problems.append(f"style.categories[{index}].value: {entry.value!r} is not a value "
                            f"of {name} ({', '.join(choices)}; lists as sorted items "
                            f"joined by commas)")
        elif len(parts) > 1 and parts != sorted(parts):
            problems.append(f"style.categories[{index}].value: list items must be sorted: "
                            f"{','.join(sorted(parts))!r}")
