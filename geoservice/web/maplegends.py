"""The legends of the map page's first view, written into the page.

static/js/map.js asks each layer's legend at ``/tiles/{layer}/legend.json?…`` before it
draws the layer; for the layers the page opens with, the answers come in the page itself
(`config.legends`, keyed by the URL map.js would ask: its `legendUrl`), so the first view
needs no request for them. Any other legend is asked as before.
"""

from __future__ import annotations

from urllib.parse import urlencode

from geoservice.api import tiles as tileapi
from geoservice.errors import GeoserviceError
from geoservice.web.context import context

DEFAULT_GROUP = "residential"  # map.js `state.group` on opening


def first_legends(layers: list[dict], lang: str, year: int | None, tiles: str,
                  indicators: tuple[str, ...]) -> dict:
    """The legends the map draws on opening, by the URL static/js/map.js would ask them at:
    the visible vector layers' and the `indicators`' (the default indicator and its province
    roll-up) for the year shown. `layers` are the page's layer settings
    (`geoservice.web.mappage._layer`), `tiles` the tiles' base URL."""
    ids = {layer["id"]: layer for layer in layers}
    first = [i for i in ids if ids[i]["visible"] and ids[i]["kind"] == "vector"]
    first += [i for i in indicators if i in ids]
    found, ctx = {}, context()
    for layer_id in first:
        args = _legend_args(ids, ids[layer_id], year)
        args["lang"] = lang
        try:
            found[f"{tiles}/{layer_id}/legend.json?{urlencode(args)}"] = tileapi.legend(
                ctx, layer_id, args, "json")
        except GeoserviceError:  # the page asks for it, and says what went wrong
            continue
    return found


def _legend_args(ids: dict, layer: dict, year: int | None) -> dict:
    """map.js `params` on opening: an indicator's year, then the group it shows."""
    args: dict = {}
    if layer["kind"] != "indicator":
        return args
    if year is not None:
        args["year"] = str(year)
    if "group" in layer["params"]:
        own = ids[layer["base"]] if layer["base"] in ids else layer
        args["group"] = (DEFAULT_GROUP if "group" in own["choosable"]
                         else layer["params"]["group"])
    return args
