"""Prepared layer sources by (layer, parameters, year), for each layer's current data
version only: what every tile, feature page and legend of a layer is drawn from."""

from __future__ import annotations

import threading
from collections import OrderedDict

from geoservice.layers.definition import LayerDef
from geoservice.layers.source import TileSource, from_rows, prepare
from geoservice.layers.versions import layer_data_version
from geoservice.singleflight import SingleFlight


class SourceCache:
    """Prepared sources by (layer, parameters, year), for the layer's current data
    version only."""

    def __init__(self, size: int = 64):
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self._preparing = SingleFlight()  # a layer asked for by many at once: prepared once

    def get(self, store, layer: LayerDef, year: int | None = None,
            version: str | None = None, runs=None) -> TileSource:
        """Return the prepared source, preparing it when absent or out of date.

        `version` is the layer's data version (`layer_data_version`) when the caller has
        already read it.
        Analysis layers answer their current result in `runs` (the app's run registry),
        else the previous one, else raise `AnalysisNotReady` at once
        (`geoservice.layers.analysis.result_for`).
        """
        if layer.source.analysis is not None:
            return self._analysis(store, layer, runs)
        key = (layer.id, tuple(sorted(layer.params.items())), year)
        version = version or layer_data_version(store, layer)
        with self._lock:
            found = self._items.get(key)
            if found is not None and found.version == version:
                self._items.move_to_end(key)
                return found
        return self._preparing.run((key, version), lambda: self._prepare(store, layer, year,
                                                                          key, version))

    def _prepare(self, store, layer: LayerDef, year: int | None, key: tuple,
                 version: str) -> TileSource:
        with self._lock:  # prepared by another request since this one looked
            found = self._items.get(key)
            if found is not None and found.version == version:
                return found
        source = prepare(store, layer, year, previous=found)  # its shapes may be reused
        with self._lock:
            self._items[key] = source
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return source

    def _analysis(self, store, layer: LayerDef, runs) -> TileSource:
        from geoservice.layers.analysis import result_for

        result = result_for(runs, store, layer)
        key = (layer.id, "analysis", result.token)
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        source = from_rows(layer, result.token, result.features())
        with self._lock:
            for older in [k for k in self._items if k[:2] == key[:2]]:  # earlier results
                del self._items[older]
            self._items[key] = source
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return source
