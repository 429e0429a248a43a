"""The layer catalogue: ``layers/*.toml`` read and checked into frozen `LayerDef` objects.

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

Names in ``fields`` and ``style.property`` may use the parameters as ``{group}``
(`geoservice.layers.params.resolve` fills them).
"""

from __future__ import annotations

import logging
import re
import tomllib
from pathlib import Path

from geoservice.collections import COLLECTIONS
from geoservice.errors import CatalogError, InvalidParameter
from geoservice.indicators.names import INDICATOR_NAMES, RESTRICTED_INDICATORS
from geoservice.layers.analysis import ANALYSIS_FIELDS, check_fixed
from geoservice.layers.definition import (
    ACCESS,
    DEFAULT_ORDER,
    INDICATOR_FAMILIES,
    LAYER_GEOMETRIES,
    NEIGHBOURS,
    THEMES,
    TRANSFORMS,
    UNIT_COLLECTIONS,
    LayerDef,
    Source,
    enums,
)
from geoservice.layers.fields import collection_fields, source_fields
from geoservice.layers.params import layer_year, resolve
from geoservice.records import catalogue
from geoservice.render import classify
from geoservice.render.classify import GEOMETRIES
from geoservice.render.toml_table import Table
from geoservice.resources import LAYERS_FOLDER

LOGGER = logging.getLogger(__name__)

LAYER_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


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


# --- reading one file --------------------------------------------------------------------

def _read_layer(path: Path, problems: list[str]) -> LayerDef | None:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        problems.append(f"(file): not valid TOML: {error}")
        return None
    # `[style] categories = "<vocabulary>"`: the classes come from the categories catalogue
    # in force (the shipped file and the deployment's CATEGORIES file).
    data = catalogue.with_style_categories(data)
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
    layer = resolve(layer, dict(source.params), problems)
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


def _collection(name: str) -> tuple[str, dict[str, str]]:
    """Return a collection's geometry type and {property: type}."""
    return COLLECTIONS[name].geometry, collection_fields(name)


def _read_source(table: Table, geometry: str | None) -> Source | None:
    if "analysis" in table.data:
        return _read_analysis_source(table, geometry)
    before = len(table.problems)
    collection = table.choice("collection", tuple(COLLECTIONS))
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
        allowed = ("line",) if transform == "line_to_partner" else ("point",)
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
    values = {**enums(collection), "border_neighbor": NEIGHBOURS}
    for name, value in filters.items():
        key = f"filter.{name}"
        neighbours = name == "border_neighbor" and {"border_neighbors", "neighbor"} & set(fields)
        if not neighbours and name not in fields:
            table.problem(key, f"unknown property of {collection!r} to filter on")
        elif isinstance(value, bool) or not isinstance(value, str | int):
            table.problem(key, f"expected a text or a number, got {value!r}")
        elif name in values and value not in (*values[name], "any"):
            table.problem(key, f"must be one of {', '.join(values[name])} or any, got {value!r}")


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
                out["year"] = layer_year(value)
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
    known = source_fields(source)
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
               else enums(layer.source.collection).get(name))
    for index, entry in enumerate(style.classes if style.kind == "categorical" else ()):
        parts = str(entry.value).split(",")
        if choices and any(part not in choices for part in parts):
            problems.append(f"style.categories[{index}].value: {entry.value!r} is not a value "
                            f"of {name} ({', '.join(choices)}; lists as sorted items "
                            f"joined by commas)")
        elif len(parts) > 1 and parts != sorted(parts):
            problems.append(f"style.categories[{index}].value: list items must be sorted: "
                            f"{','.join(sorted(parts))!r}")
