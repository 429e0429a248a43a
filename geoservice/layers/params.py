"""A layer's parameters: which layer a request means, for which year, group or analysis.

Indicator layers take ``year`` ("latest" or a year), and the member of their family
(``group`` for ``certification_rate``, ``model_type`` for ``model_coverage``); record
layers take ``year`` as a filter on their records; analysis layers take the analysis's
own parameters (`geoservice.layers.analysis`). `layer_for` turns a request's arguments and
the reader into the resolved layer and the one access decision, the same for tiles,
TileJSON, styles, legends and the layer's feature pages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from urllib.parse import urlencode

from geoservice import params as P
from geoservice.access import ANONYMOUS, AccessDecision, Principal, decide
from geoservice.errors import GeoserviceError, InvalidParameter, NotFound
from geoservice.layers.definition import INDICATOR_FAMILIES, PARAM_LABELS, LayerDef
from geoservice.render.toml_table import Text

LAYER_PARAMETERS = ("year", "group", "model_type")
MEMBERS = ("group", "model_type")
MAX_VARIANTS = 256  # resolved variants kept per layer (years × groups, analysis settings)


def layer_year(value: int | str) -> int | str:
    """A layer file's or a request's year: 'latest' or a year (an int from a TOML file)."""
    if value == "latest":
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise InvalidParameter("year must be 'latest' or a four-digit year from "
                               f"{P.FIRST_YEAR} to {P.LAST_YEAR}, e.g. 2024.",
                               parameter="year")
    return P.year_or_latest(value) or "latest"


def indicator_params(layer: LayerDef, year: int | str | None = None, **overrides) -> dict:
    """The indicator parameters of `layer`: its defaults, `year` and `overrides` applied.

    ``year`` is an int or "latest" (None keeps the default, which may be "latest" for the
    caller to resolve). Unknown names or values raise `InvalidParameter`. Layers without
    an indicator have no parameters ({}).
    """
    if layer.source.indicator is None:
        given = [name for name, value in overrides.items() if value is not None]
        if given:
            raise InvalidParameter(f"Layer '{layer.id}' has no parameter '{given[0]}'.",
                                   parameter=given[0])
        return {}
    values = dict(layer.params)
    if year is not None:
        values["year"] = layer_year(year)
    member = INDICATOR_FAMILIES[layer.source.indicator]
    for name, value in overrides.items():
        if value is None:
            continue
        if member is None or name != member[0]:
            raise InvalidParameter(f"Layer '{layer.id}' has no parameter '{name}'.",
                                   parameter=name)
        values[name] = P.choice(member[1])(value, name)
    return values


def with_params(layer: LayerDef, year: int | str | None = None, **overrides) -> LayerDef:
    """`layer` for other indicator parameters (see `indicator_params`); the few variants
    (years × groups) are kept on the layer, since every tile asks for one."""
    values = indicator_params(layer, year, **overrides)
    key = tuple(sorted(values.items()))
    kept = layer.variants.get(key)
    if kept is None:
        if len(layer.variants) >= MAX_VARIANTS:
            layer.variants.clear()
        kept = layer.variants[key] = resolve(layer, values)
    return kept


def resolve(layer: LayerDef, values: dict, problems: list[str] | None = None) -> LayerDef:
    """Fill the ``{param}`` placeholders of fields, popup and style property, and the
    ``{group_label}`` / ``{model_type_label}`` placeholders of the titles."""
    fields, popup, prop, title, legend_title = layer.templates
    problems = [] if problems is None else problems

    def label(key: str, lang: str) -> str | None:
        if key is None:
            return None
        names = {f"{name}_label": PARAM_LABELS[value][lang == "en"]
                 for name, value in values.items() if value in PARAM_LABELS}
        try:
            return key.format(**names)
        except (KeyError, IndexError, ValueError) as error:
            problems.append(f"title: placeholder {error} is not a parameter of the layer")
            return key

    def text(template: Text | None) -> Text | None:
        return template and Text(label(template.vi, "vi"), label(template.en, "en"))

    def fill(key: str, template: str) -> str:
        try:
            return template.format(**values)
        except (KeyError, IndexError, ValueError) as error:
            problems.append(f"{key}: placeholder {error} is not a parameter of the layer")
            return template

    return replace(
        layer, params=values, titles=text(title) or layer.titles,
        legend_title=text(legend_title) or layer.legend_title,
        fields=tuple(fill(f"fields[{i}]", n) for i, n in enumerate(fields)),
        popup=tuple(fill(f"popup[{i}]", n) for i, n in enumerate(popup)),
        style=layer.style.with_property(prop and fill("style.property", prop)),
        variants={},
    )


def readable_layers(catalog: Mapping[str, LayerDef], principal: Principal) -> list[str]:
    """Ids of the layers this principal may read, in drawing order."""
    ids = []
    for layer_id, layer in catalog.items():
        try:
            decide(principal, layer)
        except GeoserviceError:
            continue
        ids.append(layer_id)
    return sorted(ids, key=lambda i: (catalog[i].order, i))


def find(catalog: Mapping[str, LayerDef], layer_id: str,
         principal: Principal = ANONYMOUS) -> LayerDef:
    """The catalogue's layer `layer_id`, or `NotFound` listing the layers the reader has."""
    layer = catalog.get(layer_id)
    if layer is None:
        known = ", ".join(readable_layers(catalog, principal))
        raise NotFound(f"There is no layer '{layer_id}'. Layers: {known}.", parameter="layer")
    return layer


def layer_for(catalog: Mapping[str, LayerDef], layer_id: str, args: Mapping[str, str],
              principal: Principal = ANONYMOUS
              ) -> tuple[LayerDef, AccessDecision, int | None]:
    """The layer for these parameters, the access decision and a record-year filter.

    `args` holds the layer's parameters and ``lang`` (the route has taken its others, such
    as ``bbox``, out); an unknown one is refused.
    """
    layer = find(catalog, layer_id, principal)
    decision = decide(principal, layer)
    if layer.source.analysis is not None:  # the analysis's own parameters, and the area
        from geoservice.layers.analysis import resolve as resolve_analysis

        analysis_args = {k: v for k, v in args.items() if k != "lang"}
        return resolve_analysis(layer, analysis_args, decision.province_code), decision, None
    P.known(args, (*LAYER_PARAMETERS, "lang"))
    year = P.LAYER_YEAR.get(args)
    if layer.source.indicator is None:
        extra = [name for name in MEMBERS if args.get(name) is not None]
        if extra:
            raise InvalidParameter(f"Layer '{layer_id}' has no parameter '{extra[0]}'.",
                                   parameter=extra[0])
        return layer, decision, year
    resolved = with_params(layer, year, **{k: args[k] for k in MEMBERS if k in args})
    return resolved, decision, None


def accepted(layer: LayerDef) -> tuple[str, ...]:
    """The parameter names `layer` takes."""
    if layer.source.analysis is not None:
        from geoservice.layers.analysis import accepted_parameters

        return accepted_parameters(layer)
    if layer.source.indicator is None:
        return ("year",)
    member = INDICATOR_FAMILIES[layer.source.indicator]
    return ("year",) if member is None else ("year", member[0])


def query_string(args: Mapping[str, str]) -> str:
    """``?…`` with the layer parameters among `args` (for tile URLs), '' for none."""
    from geoservice.layers.analysis import PARAMETER_NAMES

    kept = {k: v for k, v in args.items() if k in LAYER_PARAMETERS or k in PARAMETER_NAMES}
    return f"?{urlencode(kept)}" if kept else ""
