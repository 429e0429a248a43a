"""The map page's scripts and styles as three files instead of thirteen.

A browser opening the map asks for Leaflet, its two plugins, their three style sheets and
our six scripts and one style sheet. Each is small, but each is a request before the map
can start. Here they are joined into bundles, served as ``/assets/{name}-{digest}.{ext}``:

* ``map-vendor.js``: Leaflet, Leaflet.VectorGrid, Leaflet.markercluster (npm packages in
  node_modules, as `geoservice.web.viewer` serves them one by one under ``/vendor/``);
* ``map.css``: their style sheets and ours (``static/css/map.css``), with the images the
  vendor sheets name pointed at their ``/vendor/…`` URLs;
* ``map.js``: our scripts (``static/js/``) in the order the page runs them.

The digest is of the bundle's bytes, so a bundle's URL changes whenever a file in it does
and the answer may be kept for a year (``immutable``). A bundle is joined once per process,
when first asked; an unknown name or an old digest is 404.
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Response, current_app, request, url_for

from geoservice import access, services
from geoservice.errors import NotFound
from geoservice.web.viewer import VENDOR_FOLDERS, node_modules

blueprint = Blueprint("bundles", __name__)
MAX_AGE = 365 * 24 * 3600
# name -> its files: ("vendor", package, file) from node_modules or ("static", path).
BUNDLES = {
    "map-vendor.js": (("vendor", "leaflet", "leaflet.js"),
                      ("vendor", "leaflet.vectorgrid", "Leaflet.VectorGrid.bundled.min.js"),
                      ("vendor", "leaflet.markercluster", "leaflet.markercluster.js")),
    "map.css": (("vendor", "leaflet", "leaflet.css"),
                ("vendor", "leaflet.markercluster", "MarkerCluster.css"),
                ("vendor", "leaflet.markercluster", "MarkerCluster.Default.css"),
                ("static", "css/map.css")),
    "map.js": tuple(("static", f"js/{name}.js") for name in (
        "map-format", "map-url", "map", "map-table", "map-compare", "map-inset")),
}
MEDIA = {"js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8"}
_LOCK = threading.Lock()  # one joining of a bundle at a time
_NAME = re.compile(r"^([a-z-]+)-([0-9a-f]{16})\.(js|css)\Z")
# url(...) in a vendor style sheet relative to its file (not data:, #fragment, absolute).
_RELATIVE_URL = re.compile(r"""url\(\s*(['"]?)(?!data:|/|#|[a-z]+:)([^'")]+)\1\s*\)""")


@dataclass(frozen=True)
class Bundle:
    """A bundle's bytes and its digest."""

    data: bytes
    digest: str


def _read(part: tuple) -> str:
    if part[0] == "static":
        return (Path(current_app.static_folder) / part[1]).read_text(encoding="utf-8")
    _kind, package, name = part
    text = (node_modules() / package / VENDOR_FOLDERS[package] / name).read_text(
        encoding="utf-8")
    if name.endswith(".css"):  # its images stay where /vendor/ serves them
        prefix = url_for("viewer.vendor_asset", package=package, filename="")
        text = _RELATIVE_URL.sub(lambda m: f"url({m.group(1)}{prefix}{m.group(2)}{m.group(1)})",
                                 text)
    return text


def bundle(name: str) -> Bundle:
    """The bundle `name` (a key of `BUNDLES`), joined once per app."""
    kept = {} if current_app.debug else services.current().remembered("asset_bundles", dict)
    found = kept.get(name)  # in debug mode (`make run`), joined afresh: edits show at once
    if found is None:
        with _LOCK:
            found = kept.get(name)
            if found is None:
                # A file ends without a newline or a semicolon: keep the next one apart.
                joiner = "\n;\n" if name.endswith(".js") else "\n"
                data = joiner.join(_read(part) for part in BUNDLES[name]).encode("utf-8")
                found = kept[name] = Bundle(data, hashlib.sha256(data).hexdigest()[:16])
    return found


def bundle_url(name: str) -> str:
    """The URL of bundle `name` at its current digest."""
    stem, ext = name.rsplit(".", 1)
    return url_for("bundles.asset", filename=f"{stem}-{bundle(name).digest}.{ext}")


@blueprint.get("/assets/<filename>")
@access.anyone  # code and styles, not data
def asset(filename: str):
    """A bundle at its digest (kept for a year); any other name is 404."""
    match = _NAME.match(filename)
    name = f"{match.group(1)}.{match.group(3)}" if match else None
    if name not in BUNDLES:
        raise NotFound(f"No asset '{filename}'.")
    found = bundle(name)
    if found.digest != match.group(2):
        raise NotFound(f"No asset '{filename}' (this bundle's current name is "
                       f"{bundle_url(name).rsplit('/', 1)[-1]}).")
    response = Response(found.data, mimetype=MEDIA[match.group(3)].split(";")[0])
    response.headers["Content-Type"] = MEDIA[match.group(3)]
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}, immutable"
    response.set_etag(found.digest)
    return response.make_conditional(request)
