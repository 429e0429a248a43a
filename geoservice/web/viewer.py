"""The viewer blueprint: a MapLibre GL JS page that draws our styles and vector tiles.

`GET /viewer` draws `GET /viewer/style.json`: every layer this reader may see, the basemap
and one thematic layer shown at first (`geoservice.layers.style.viewer_defaults`), the others
a click away in the page's layer switcher, with the legend of each layer shown;
`?layers=provinces,communes` draws just those layers and `?lang=vi|en` picks the language of
the page and the style.
MapLibre's URL hash (`#zoom/lat/lon`) opens the map elsewhere than the whole country.

MapLibre GL JS is the npm package `maplibre-gl` (package.json), installed into node_modules
at build time and served by this service under `/vendor/maplibre-gl/`, so the page loads
nothing from the internet; our styles reference no glyphs, sprites or fonts. The same
route serves the files of the other front-end packages the pages use (`VENDOR_FOLDERS`:
Leaflet and its plugins, the DejaVu fonts) as `/vendor/<package>/<path>`.

The place names (`geoservice.render.labels`) are served here too, in the tiles' URL shape:
``/tiles/labels/{z}/{x}/{y}.png`` (or ``@2x.png``, ``.mvt``; ``?lang=en``), as 512-pixel
tiles ``/tiles/labels/512/{z}/{x}/{y}.png`` (the map page's: a quarter of the requests)
and, as GeoJSON, ``/tiles/labels/features.json?zoom=7``. The viewer draws the PNG tiles
as a raster source over the thematic layers, so no glyphs are needed.

For browser tests and for whoever checks a deployment, the page sets `window.mapReady = true`
on the map's first 'idle' event and collects error messages in `window.mapErrors`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    jsonify,
    render_template,
    request,
    send_from_directory,
    url_for,
)

from geoservice import access, services
from geoservice import params as P
from geoservice.api import tiles as tileapi
from geoservice.api.context import VIETNAM_BOUNDS
from geoservice.errors import (
    InvalidParameter,
    NotFound,
    SourceMissing,
)
from geoservice.layers.style import viewer_defaults, with_viewer_parts
from geoservice.render.tilecache import cache_key
from geoservice.tilemath import MAX_ZOOM
from geoservice.web.context import context

LOGGER = logging.getLogger(__name__)
blueprint = Blueprint("viewer", __name__)
MAPLIBRE_PACKAGE = "maplibre-gl"
# npm packages whose files are served under /vendor/<package>/<path>: package -> its folder.
VENDOR_FOLDERS = {
    MAPLIBRE_PACKAGE: "dist",
    "leaflet": "dist",
    "leaflet.vectorgrid": "dist",
    "leaflet.markercluster": "dist",
    "dejavu-fonts-ttf": "ttf",
}
VENDOR_MAX_AGE = 365 * 24 * 3600
LABELS_MAX_AGE = 300
# The first view: the mainland and both archipelagos (Hoàng Sa, Trường Sa) east to 117° E.
VIEWER_BOUNDS = (VIETNAM_BOUNDS[0], 6.5, 117.0, VIETNAM_BOUNDS[3])
PAGE_TEXT = {
    "vi": {"title": "Bản đồ geoservice", "map": "Bản đồ", "layers": "Lớp bản đồ",
           "legend": "Chú giải"},
    "en": {"title": "geoservice map", "map": "Map", "layers": "Map layers",
           "legend": "Legend"},
}


def maplibre_dist() -> Path:
    """Return the folder of MapLibre GL JS's built files, `<node_modules>/maplibre-gl/dist`.

    node_modules is the NODE_MODULES setting, else ./node_modules. The path is made
    absolute here: Flask resolves a relative folder against the package, not the cwd.
    """
    return node_modules() / MAPLIBRE_PACKAGE / VENDOR_FOLDERS[MAPLIBRE_PACKAGE]


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
    """The viewer's MapLibre style for these query parameters (validates them all): the
    chosen layers all shown, or without `layers` every readable layer with only the
    basemap and one thematic layer shown at first; the place names on top."""
    layer_ids = parse_layers(args.pop("layers", None))
    if layer_ids is None:
        P.known(args, ("layers", "lang"))
    ctx = context()
    style = tileapi.style(ctx, layer_ids, args)
    lang = P.LANG.get(args, "vi")
    visible = None
    if layer_ids is None:
        visible = viewer_defaults(ctx.catalog, list(style["sources"]))
    labels = ctx.url("/tiles/labels") + "/{z}/{x}/{y}.png" + ("?lang=en" if lang == "en"
                                                               else "")
    return with_viewer_parts(style, visible, labels, lang)


@blueprint.get("/viewer/style.json")
def style():
    """The viewer's style of the layers named by `layers` (all readable layers without
    it, most of them hidden at first), with the place names."""
    return jsonify(_style(request.args.to_dict()))


@blueprint.get("/viewer")
def viewer():
    """The map page (HTML; its errors are the HTML error page, `geoservice.web.errors`)."""
    args = request.args.to_dict()
    _style(dict(args))
    lang = P.LANG.get(args, "vi")
    if not (maplibre_dist() / "maplibre-gl.js").is_file():
        raise SourceMissing(f"MapLibre GL JS is not installed: npm package "
                            f"{MAPLIBRE_PACKAGE} (run `npm ci` in the project folder).",
                            detail=f"looked in {maplibre_dist()}")
    text = PAGE_TEXT[lang]
    settings = {"style": url_for("viewer.style", **args), "bounds": list(VIEWER_BOUNDS),
                "lang": lang, "text": text}
    return render_template("viewer.html", lang=lang, text=text, settings=settings)


@blueprint.get("/tiles/labels/<z>/<x>/<name>")
@access.public
def label_tile(z: str, x: str, name: str):
    """A tile of the place names: transparent PNG (``<y>.png``, ``<y>@2x.png``) or MVT."""
    zoom, column, row, fmt, scale, lang = _label_address(z, x, name, MAX_ZOOM)
    return _label_answer(_label_tile(zoom, column, row, fmt, lang, scale), fmt)


@blueprint.get("/tiles/labels/512/<z>/<x>/<name>")
@access.public
def large_label_tile(z: str, x: str, name: str):
    """A 512-pixel PNG tile of the place names (``<y>.png``, ``<y>@2x.png``): z/x/y at twice
    the side, showing the names of zoom z+1 (as `geoservice.api.large_tiles` for layers)."""
    zoom, column, row, fmt, scale, lang = _label_address(z, x, name, MAX_ZOOM - 1)
    if fmt != "png":
        raise InvalidParameter("512-pixel tiles are PNG: <y>.png or <y>@2x.png.",
                               parameter="y")
    return _label_answer(_label_tile(zoom, column, row, fmt, lang, scale, size=512), fmt)


def _label_address(z: str, x: str, name: str, max_zoom: int) -> tuple:
    """A label tile's (zoom, column, row, format, scale, language) from its URL."""
    args = request.args.to_dict()
    P.known(args, ("lang",))
    lang = P.LANG.get(args, "vi")
    match = tileapi.TILE_NAME.match(name)
    if not match or (match.group(2) and match.group(3) != "png"):
        raise InvalidParameter("A tile is <y>.mvt, <y>.png or <y>@2x.png.", parameter="y")
    zoom, column, row = P.tile_address(z, x, match.group(1), max_zoom)
    fmt = "png" if match.group(3) == "png" else "mvt"
    return zoom, column, row, fmt, 2 if match.group(2) else 1, lang


def _label_tile(zoom: int, column: int, row: int, fmt: str, lang: str, scale: int,
                size: int = 256) -> bytes:
    """A place-name tile's bytes, from the tile cache or drawn and kept; at `size` 512,
    the four tiles of zoom+1 beneath it pasted (`geoservice.render.png.stitch`)."""
    from geoservice.layers.versions import boundaries_version
    from geoservice.render import labels as place_names
    from geoservice.render.labelstore import labels_of
    from geoservice.render.png import stitch

    found = services.current()
    store = found.store
    version = boundaries_version(store)  # names change with the boundaries only
    key = cache_key("labels", {"lang": lang, "scale": scale,
                               **({"size": size} if size != 256 else {})},
                    None, version, (zoom, column, row), fmt)
    data = found.tile_cache.get(*key)
    if data is None:
        if size != 256:
            data = stitch([_label_tile(zoom + 1, 2 * column + dx, 2 * row + dy, fmt, lang,
                                       scale) for dy in (0, 1) for dx in (0, 1)])
        elif fmt == "png":
            data = place_names.png_tile(labels_of(store, found.node_modules),
                                        zoom, column, row, lang, scale)
        else:
            data = place_names.mvt_tile(labels_of(store, found.node_modules),
                                        zoom, column, row, lang)
        found.tile_cache.put(*key, data)
    return data


def _label_answer(data: bytes, fmt: str) -> Response:
    response = Response(data, mimetype=tileapi.PNG if fmt == "png" else tileapi.MVT)
    response.set_etag(_etag(data))
    response.headers["Cache-Control"] = f"public, max-age={LABELS_MAX_AGE}"
    return response.make_conditional(request)


@blueprint.get("/tiles/labels/features.json")
@access.public
def label_features():
    """The place names placed at `zoom` (default 6) as GeoJSON points."""
    from geoservice.render import labels as place_names
    from geoservice.render.labelstore import labels_of

    args = request.args.to_dict()
    P.known(args, ("lang", "zoom"))
    zoom = P.ZOOM.get(args, 6)
    found = services.current()
    names = labels_of(found.store, found.node_modules)
    response = jsonify(place_names.features(names, zoom, P.LANG.get(args, "vi")))
    response.mimetype = "application/geo+json"
    return response


def _etag(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:32]


@blueprint.get("/vendor/maplibre-gl/<path:filename>")
def maplibre_asset(filename: str):
    """A file of MapLibre GL JS's dist folder (script, CSS, source maps); nothing else."""
    return vendor_asset(MAPLIBRE_PACKAGE, filename)


@blueprint.get("/vendor/<package>/<path:filename>")
@access.anyone  # code and fonts, not data
def vendor_asset(package: str, filename: str):
    """A file of an allowed npm package's served folder (`VENDOR_FOLDERS`); nothing else.

    `send_from_directory` refuses paths leaving the folder (404). A URL carrying the
    installed version (`?v=`, as `vendor_url` writes it) may be cached for a year.
    """
    folder = VENDOR_FOLDERS.get(package)
    if folder is None:
        raise NotFound(f"No package '{package}' is served under /vendor/.")
    response = send_from_directory(node_modules() / package / folder, filename)
    if request.args.get("v") and request.args.get("v") == package_version(package):
        response.headers["Cache-Control"] = f"public, max-age={VENDOR_MAX_AGE}, immutable"
    else:
        response.headers["Cache-Control"] = "public, max-age=3600"
    return response


def node_modules() -> Path:
    """The node_modules folder (NODE_MODULES setting, else ./node_modules), absolute."""
    return Path(services.current().node_modules or "node_modules").resolve()


def package_version(package: str) -> str | None:
    """The installed version of an npm package (its package.json), or None."""
    return _version(str(node_modules() / package / "package.json"))


@functools.lru_cache(maxsize=64)
def _version(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as file:
            return str(json.load(file)["version"])
    except (OSError, ValueError, KeyError):
        return None


def vendor_url(package: str, filename: str) -> str:
    """URL of a vendored file, carrying the installed version so it can be cached long."""
    return url_for("viewer.vendor_asset", package=package, filename=filename,
                   v=package_version(package) or "0")
