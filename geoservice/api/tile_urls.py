"""Tile URLs as the service hands them out: versioned public tiles.

**Versioned tiles.** A public layer's tiles have an immutable address carrying the layer's
tile version: ``/tiles/v/{version}/{layer}/{z}/{x}/{y}.{fmt}``. The version is a digest of
the layer's data version (`geoservice.layers.versions.layer_data_version`), the layer's
definition and the service's release, so any change to what a tile shows gives new URLs
and a browser or proxy may keep every answer for a year (`IMMUTABLE`). An old version's
URL redirects to the current one. Restricted and analysis layers keep their plain URLs:
their tiles depend on the reader (and an analysis result on its run), so they always go
through the access decision.

**The public tile folder.** Each versioned public tile the service answers without
layer parameters is also written to ``<instance>/public-tiles/{layer}/{version}/{z}/{x}/
{name}`` — the URL's own parts — so nginx serves it from disk next time without asking the
service (deploy/nginx/geoservice.conf). The folder holds public layers only, by
construction; a layer made restricted since has its folder removed when an app first uses
the folder.

A composite of layers (`geoservice.api.composite_tiles`) is named by its layer ids joined
with commas, here as in the URL. Nothing here draws a tile, so every URL builder may use
this module.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from geoservice.errors import InvalidParameter
from geoservice.layers.definition import LayerDef
from geoservice.layers.versions import layer_data_version

if TYPE_CHECKING:
    from geoservice.api.tiles import TileRequest
    from geoservice.services import Services
    from geoservice.store import Store

LOGGER = logging.getLogger(__name__)
IMMUTABLE = "public, max-age=31536000, immutable"
VERSION = re.compile(r"^[0-9a-f]{16}\Z")
PUBLIC_FOLDER = "public-tiles"
KEPT_MEMORY = 100_000  # tiles a process remembers having kept for nginx


def release() -> str:
    """The service's release (part of every tile version: a new encoder, new URLs)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("geoservice")
    except PackageNotFoundError:  # pragma: no cover - a checkout without installing
        return "0"


def _fingerprint(services: Services, layer: LayerDef) -> str:
    """A digest of the layer's definition (style, fields, source), made once per app."""
    kept = services.remembered("tile_url_fingerprints", dict)
    value = kept.get(layer.id)
    if value is None:
        value = kept[layer.id] = hashlib.sha1(
            f"{release()}|{layer!r}".encode()).hexdigest()
    return value


def versioned(layer: LayerDef) -> bool:
    """True when the layer's tiles get versioned URLs (public, not an analysis)."""
    return not layer.restricted and layer.source.analysis is None


def tile_version(services: Services, layer: LayerDef, store: Store | None = None
                 ) -> str | None:
    """The current tile version of a public layer (None: the layer has plain URLs).
    `layer` is the catalogue's layer (its parameters travel in the query string)."""
    if not versioned(layer):
        return None
    base = services.catalog.get(layer.id, layer)
    data = layer_data_version(store or services.store, base)
    return hashlib.sha1(f"{data}|{_fingerprint(services, base)}".encode()).hexdigest()[:16]


def composite_version(services: Services, layers: list[LayerDef]) -> str | None:
    """The version of a composite of `layers` (None when one of them has plain URLs): its
    parts' versions combined by exclusive or, so that the map page, which has each layer's
    version, writes the composite's URL itself (static/js/map.js `compositeVersion`)."""
    parts = [tile_version(services, layer) for layer in layers]
    if any(part is None for part in parts):
        return None
    combined = 0
    for part in parts:
        combined ^= int(part, 16)  # type: ignore[arg-type]
    return f"{combined:016x}"


def tile_template(services: Services, base: str, layers: list[LayerDef], fmt: str = "mvt",
                  query: str = "") -> str:
    """The XYZ URL template of a layer's (or a composite's) tiles: versioned for public
    layers, plain otherwise. `base` is the service's base URL, `query` '' or '?…'."""
    name = ",".join(layer.id for layer in layers)
    version = (tile_version(services, layers[0]) if len(layers) == 1
               else composite_version(services, layers))
    prefix = f"{base}/tiles/v/{version}" if version else f"{base}/tiles"
    return f"{prefix}/{name}/{{z}}/{{x}}/{{y}}.{fmt}{query}"


def tiles_base(services: Services, base: str, layer: LayerDef) -> str:
    """What goes before ``/{layer}/{z}/{x}/{y}.mvt`` for `layer`: ``{base}/tiles/v/{version}``
    for a public layer, ``{base}/tiles`` otherwise (for builders that add the rest)."""
    version = tile_version(services, layer)
    return f"{base}/tiles/v/{version}" if version else f"{base}/tiles"


def check_version(text: str) -> str:
    """Validate a version segment of a URL."""
    if not VERSION.match(text):
        raise InvalidParameter("The version in a tile URL is 16 hexadecimal digits "
                               "(as the TileJSON gives it).", parameter="version")
    return text


# --- the public tile folder nginx serves ------------------------------------------------------

class PublicTiles:
    """``<instance>/public-tiles``: versioned public tiles laid out as their URLs."""

    def __init__(self, root: Path, catalog: Mapping[str, LayerDef]):
        self.root = Path(root)
        self._kept: set[tuple] = set()  # written (or found) lately: no file check per tile
        self._forget_unpublished(catalog)

    def _forget_unpublished(self, catalog: Mapping[str, LayerDef]) -> None:
        """Remove folders of layers no longer public (or gone): nginx must never find a
        restricted layer's tile here."""
        if not self.root.is_dir():
            return
        for child in self.root.iterdir():
            ids = child.name.split(",")
            if not all(i in catalog and versioned(catalog[i]) for i in ids):
                LOGGER.info("removing %s from the public tiles: not a public layer", child)
                shutil.rmtree(child, ignore_errors=True)

    def path(self, layers: str, version: str, request: TileRequest) -> Path:
        """Where nginx looks for this tile (the URL's parts under the folder)."""
        scale = "@2x" if request.scale == 2 else ""
        return (self.root / layers / check_version(version) / str(request.z) / str(request.x)
                / f"{request.y}{scale}.{request.fmt}")

    def put(self, layers: str, version: str, request: TileRequest, data: bytes) -> None:
        """Keep a public tile for nginx (atomically); a new version removes the older ones
        of the same layer (their URLs redirect to this one)."""
        known = (layers, version, request.z, request.x, request.y, request.scale, request.fmt)
        if known in self._kept:
            return
        if len(self._kept) > KEPT_MEMORY:
            self._kept.clear()
        target = self.path(layers, version, request)
        if target.exists():
            self._kept.add(known)
            return
        folder = self.root / layers / version
        new_version = not folder.exists()
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, partial = tempfile.mkstemp(dir=target.parent, suffix=".partial")
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(data)
                os.chmod(partial, 0o644)  # nginx runs as another user
                os.replace(partial, target)
            finally:
                Path(partial).unlink(missing_ok=True)
        except OSError as exc:  # a full disk: the service still answers the tile
            LOGGER.warning("public tile %s not kept: %s", target, exc)
            return
        self._kept.add(known)
        if new_version:
            for older in (self.root / layers).iterdir():
                if older.name != version:
                    shutil.rmtree(older, ignore_errors=True)


def public_tiles(services: Services) -> PublicTiles | None:
    """The app's public tile folder (None when tiles are not cached at all)."""
    if services.tile_cache.kind == "none":
        return None
    return services.remembered("public_tiles", lambda: PublicTiles(
        services.instance_path / PUBLIC_FOLDER, services.catalog))
