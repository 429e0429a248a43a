"""What one application holds: its settings, store, layer catalogue, caches and registries.

`create_app` builds one `Services` and keeps it on the app; views and commands reach it
with `current()` (the app of the request or command) and pass it, or what they need of it,
on. Nothing of an app lives in module globals, so two apps in one process (the tests make
one per test) never share a cache, a registry or a store.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geoservice.geojson import EncodedShapes
from geoservice.singleflight import SingleFlight

if TYPE_CHECKING:  # only for the annotations: importing this module stays cheap
    from flask import Flask
    from flask_limiter import Limiter
    from flask_wtf.csrf import CSRFProtect

    from geoservice.audit import KeyUseMemory
    from geoservice.hotspots.runs import Registry
    from geoservice.layers.definition import LayerDef
    from geoservice.layers.sourcecache import SourceCache
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
    csrf: CSRFProtect | None = None  # the request guard's CSRF check (geoservice.web.guard)
    limiter: Limiter | None = None  # the request guard's rate limits
    _kept: dict[str, Any] = field(default_factory=dict, init=False, repr=False)
    _keeping: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def node_modules(self) -> str | None:
        """The npm packages folder (fonts, basemap data), '' for the default."""
        return self.settings.get("NODE_MODULES") or None

    @property
    def analysis_runs(self) -> Registry:
        """The app's analysis runs and results (`geoservice.hotspots.runs`), kept under
        ``<instance>/analyses``; made on first use (its module needs geopandas)."""
        from geoservice.hotspots.runs import Registry

        return self.remembered("analysis_runs",
                               lambda: Registry(self.instance_path / "analyses"))

    @property
    def key_uses(self) -> KeyUseMemory:
        """The minutes in which this app has noted each key's use (`geoservice.audit`)."""
        from geoservice.audit import KeyUseMemory

        return self.remembered("key_uses", KeyUseMemory)

    @property
    def after_imports(self) -> ThreadPoolExecutor:
        """The one thread that does the work an HTTP import leaves behind (the indicators of
        the new data), after the import has answered; imports queue on it in order."""
        return self.remembered("after_imports", lambda: ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="after-import"))

    def remembered(self, name: str, factory):
        """The app's one object called `name`, made once by `factory()` on first use."""
        with self._keeping:
            value = self._kept.get(name)
            if value is None:
                value = self._kept[name] = factory()
            return value

    def close(self) -> None:
        """Close the store once the work after imports is done, and stop the analysis runs
        and report batches (the app is being discarded)."""
        after_imports = self._kept.get("after_imports")
        if after_imports is not None:  # the one under way finishes, those queued are dropped
            after_imports.shutdown(wait=True, cancel_futures=True)
        for name in ("analysis_runs", "report_batches"):
            pool = self._kept.get(name)
            if pool is not None and hasattr(pool, "shutdown"):
                pool.shutdown()
        self.store.close()


def of(app: Flask) -> Services:
    """The services of `app`."""
    return app.extensions[EXTENSION]


def current() -> Services:
    """The services of the app handling this request or command."""
    from flask import current_app

    return current_app.extensions[EXTENSION]
