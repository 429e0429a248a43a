"""The viewer blueprint: a MapLibre GL JS page that draws our styles and vector tiles.

`GET /viewer` draws `/styles/geoservice.json` (every layer this reader may see);
`?layers=provinces,communes` draws just those layers (their style is `GET /viewer/style.json`
with the same parameters) and `?lang=vi|en` picks the language of the page and the style.
MapLibre's URL hash (`#zoom/lat/lon`) opens the map elsewhere than the whole country.

MapLibre GL JS is the npm package `maplibre-gl` (package.json), installed into node_modules
at build time and served by this service under `/vendor/maplibre-gl/`, so the page loads
nothing from the internet; our styles reference no glyphs, sprites or fonts.

For browser tests and for whoever checks a deployment, the page sets `window.mapReady = true`
on the map's first 'idle' event and collects error messages in `window.mapErrors`.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import (
    Blueprint,
    current_app,
    g,
    jsonify,
    render_template,
    request,
    send_from_directory,
    url_for,
)

from geoservice import tileapi
from geoservice.errors import GeoserviceError, InvalidParameter, SourceMissing, status_for

LOGGER = logging.getLogger(__name__)
blueprint = Blueprint("viewer", __name__)
MAPLIBRE_PACKAGE = "maplibre-gl"
PAGE_TEXT = {
    "vi": {"title": "Bản đồ geoservice", "map": "Bản đồ", "error": "Không mở được bản đồ"},
    "en": {"title": "geoservice map", "map": "Map", "error": "The map cannot be opened"},
}


def maplibre_dist() -> Path:
    """Return the folder of MapLibre GL JS's built files, `<node_modules>/maplibre-gl/dist`.

    node_modules is the NODE_MODULES setting, else ./node_modules. The path is made
    absolute here: Flask resolves a relative folder against the package, not the cwd.
    """
    node_modules = current_app.config["GEOSERVICE_NODE_MODULES"] or "node_modules"
    return Path(node_modules).resolve() / MAPLIBRE_PACKAGE / "dist"


def parse_layers(value: str | None) -> list[str] | None:
    """Parse `layers=a,b` into layer ids (None when absent: every readable layer)."""
    if value is None:
        return None
    ids = [part.strip() for part in value.split(",")]
    if not all(ids) or len(set(ids)) != len(ids):
        raise InvalidParameter("layers is a comma-separated list of different layer ids, "
                               "e.g. layers=provinces,communes.", parameter="layers")
    return ids


def _style(args: dict) -> dict:
    """The MapLibre style for these query parameters (validates them all)."""
    layer_ids = parse_layers(args.pop("layers", None))
    if layer_ids is None:
        unknown = sorted(set(args) - {"lang"})
        if unknown:
            raise InvalidParameter(f"Unknown parameter '{unknown[0]}'. Accepted: layers, lang "
                                   "and, with layers, the layers' parameters.",
                                   parameter=unknown[0])
    return tileapi.style(current_app.extensions["geoservice.catalog"],
                         request.url_root.rstrip("/"), layer_ids, args, g.principal)


@blueprint.get("/viewer/style.json")
def style():
    """MapLibre style of the layers named by `layers` (all readable layers without it)."""
    return jsonify(_style(request.args.to_dict()))


@blueprint.get("/viewer")
def viewer():
    """The map page (HTML; its errors are HTML pages too)."""
    args = request.args.to_dict()
    lang = args["lang"] if args.get("lang") in PAGE_TEXT else "vi"
    text = PAGE_TEXT[lang]
    try:
        _style(dict(args))
        if not (maplibre_dist() / "maplibre-gl.js").is_file():
            raise SourceMissing(f"MapLibre GL JS is not installed: npm package "
                                f"{MAPLIBRE_PACKAGE} (run `npm ci` in the project folder).",
                                detail=f"looked in {maplibre_dist()}")
    except GeoserviceError as error:
        status = status_for(error)
        if status >= 500:
            LOGGER.error("%s: %s (%s)", error.code, error.message, error.detail)
        return render_template("viewer.html", lang=lang, text=text,
                               error=error.message), status
    if "layers" in args:
        style_url = url_for("viewer.style", **args)
    else:
        style_url = url_for("tiles.combined_style", lang=lang)
    settings = {"style": style_url, "bounds": list(tileapi.VIETNAM_BOUNDS), "lang": lang}
    return render_template("viewer.html", lang=lang, text=text, settings=settings)


@blueprint.get("/vendor/maplibre-gl/<path:filename>")
def maplibre_asset(filename: str):
    """A file of MapLibre GL JS's dist folder (script, CSS, source maps); nothing else."""
    return send_from_directory(maplibre_dist(), filename)
