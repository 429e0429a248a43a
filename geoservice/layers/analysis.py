"""Analysis results as layers of the catalogue (``[source] analysis = "gistar"``).

A layer file names the analysis and may fix some of its parameters (``[source.params]``,
e.g. ``zones = "hex"``); a tile or legend request may give the others
(``?category=drugs&period=2024``). `resolve` validates them with the reader's area into
the layer's ``params`` (the canonical, non-default values, plus ``_area``: parameters
starting with ``_`` never appear in URLs), so tile caches and prepared sources are kept
apart per parameters and area. `result_for` finds the layer's result without waiting.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from geoservice.hotspots.params import ACCEPTED, AnalysisParams, parse

# The analyses a layer can show, and the properties their zones carry (name -> type).
ZONE_FIELDS = {"zone_id": "string", "name": "string", "province_code": "string",
               "count": "integer"}
ANALYSIS_FIELDS: dict[str, dict[str, str]] = {
    "gistar": {**ZONE_FIELDS, "border_neighbors": "string", "border_band": "string",
               "z": "number", "p": "number", "gi_bin": "integer"},
    "emerging": {**ZONE_FIELDS, "pattern": "string", "hot_steps": "integer",
                 "cold_steps": "integer", "final_bin": "integer", "trend": "string",
                 "trend_tau": "number", "trend_p": "number", "bins": "string"},
}
PARAMETER_NAMES = tuple(sorted({name for names in ACCEPTED.values() for name in names}))
NATIONAL = "national"


def accepted_parameters(layer) -> tuple[str, ...]:
    """The parameters a request may give an analysis layer (those its file does not fix)."""
    fixed = set(layer.source.params)
    return tuple(name for name in ACCEPTED[layer.source.analysis] if name not in fixed)


def check_fixed(analysis: str, fixed: Mapping[str, object]) -> str | None:
    """Why a layer file's fixed parameters are wrong (None when they are right)."""
    from geoservice.errors import GeoserviceError

    try:
        parse(analysis, {}, fixed={k: str(v) for k, v in fixed.items()})
    except GeoserviceError as error:
        return error.message
    return None


def resolve(layer, args: Mapping[str, str], area: str | None):
    """The layer for these request parameters and the reader's area (`area` None: national)."""
    fixed = dict(layer.source.params)
    params = parse(layer.source.analysis, args, area, fixed=fixed)
    return replace(layer, params={**params.query(), **fixed, "_area": area or NATIONAL})


def params_of(layer) -> tuple[AnalysisParams, str | None]:
    """The analysis parameters and area a (resolved or catalogue) layer stands for."""
    fixed = dict(layer.source.params)
    area = layer.params.get("_area", NATIONAL)
    area = None if area == NATIONAL else area
    given = {k: v for k, v in layer.params.items() if k not in fixed and not k.startswith("_")}
    return parse(layer.source.analysis, given, area, fixed=fixed), area


def result_for(runs, store, layer, wait: bool = False):
    """The layer's result in the app's run registry `runs` (`Services.analysis_runs`):
    current, else stale, else `AnalysisNotReady` (or wait)."""
    params, area = params_of(layer)
    return runs.layer_result(store, params, area, wait=wait)
