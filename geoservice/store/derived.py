"""Values derived from a store's data (indicators, the demo-data notice, the search index,
a layer's values), kept with the store until the data they derive from changes.

Each store has one `Derived` (`Store.derived`): what is computed from its rows lives as long
as the store, and never beyond a change of its data, instead of in module globals. Each
value is asked for with the version of what it derives from — the store's data version, or
a layer's own (`geoservice.layers.versions.layer_data_version`) — so an import keeps the
values that do not derive from what it changed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any

from geoservice.singleflight import SingleFlight


class Derived:
    """Named values, each computed from the data of one version."""

    def __init__(self):
        self._latest: dict[Hashable, str] = {}  # the version last asked for, per key
        self._items: dict[Hashable, tuple[str, Any]] = {}  # key -> (version, value)
        self._lock = threading.Lock()
        self._computing = SingleFlight()  # a value asked for by many at once: computed once

    def get(self, key: Hashable, version: str, compute: Callable[[], Any]) -> Any:
        """The value of `key` for `version`, computed once by `compute()` when missing.

        A key's value of an older version is dropped once a newer one is asked for (a
        computation of an older version that ends late is answered but not kept); other
        keys keep their values; concurrent callers of the same key compute it once, other
        keys are not held up meanwhile.
        """
        with self._lock:
            if self._latest.get(key) != version:
                self._latest[key] = version
                self._items.pop(key, None)
            found = self._items.get(key)
            if found is not None:
                return found[1]

        def computed():
            with self._lock:
                found = self._items.get(key)
                if found is not None and found[0] == version:
                    return found[1]
            value = compute()
            with self._lock:
                if self._latest.get(key) == version:
                    self._items[key] = (version, value)
            return value

        return self._computing.run((version, key), computed)

    def clear(self) -> None:
        """Forget every value (tests, or a store reopened on other data)."""
        with self._lock:
            self._latest, self._items = {}, {}
