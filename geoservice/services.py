"""What one application holds: its settings, store, layer catalogue, caches and registries.

`create_app` builds one `Services` and keeps it on the app; views and commands reach it
with `current()` (the app of the request or command) and pass it, or what they need of it,
on. Nothing of an app lives in module globals, so two apps in one process (the tests make
one per test) never share a cache, a registry or a store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geoservice.geojson import EncodedShapes
from geoservice.singleflight import SingleFlight

if TYPE_CHECKING:  # only for the annotations: importing this module stays cheap
    from flask import Flask

    from geoservice.layers.definition import LayerDef
    from geoservice.layers.source import SourceCache
    from geoservice.render.tilecache import TileCache
    from geoservice.store import Store

EXTENSION = "geoservice"


@dataclass
class Services:
    """The per-app objects every part of the service works with."""

    settings: dict[str, Any]  # the validated configuration (geoservice.config), no prefix
    instance_path: Path
    store: Store
    catalog: dict[str, LayerDef]
    sources: SourceCache  # prepared layer sources, per data version
    tile_cache: TileCache
    drawing: SingleFlight = field(default_factory=SingleFlight)  # tiles being made now
    shapes: EncodedShapes = field(default_factory=EncodedShapes)  # GeoJSON GEOS wrote
    memo: dict[str, Any] = field(default_factory=dict)  # derived values, per data version

    def remembered(self, name: str, factory):
        """The app's one object called `name`, made by `factory()` on first use."""
        value = self.memo.get(name)
        if value is None:
            value = self.memo.setdefault(name, factory())
        return value

    @property
    def node_modules(self) -> str | None:
        """The npm packages folder (fonts, basemap data), '' for the default."""
        return self.settings.get("NODE_MODULES") or None

    def close(self) -> None:
        """Close the store (the app is being discarded)."""
        self.store.close()


def of(app: Flask) -> Services:
    """The services of `app`."""
    return app.extensions[EXTENSION]


def current() -> Services:
    """The services of the app handling this request or command."""
    from flask import current_app

    return current_app.extensions[EXTENSION]
