"""Values derived from a store's data (indicators, the demo-data notice, the search index),
kept with the store until its data version changes.

Each store has one `Derived` (`Store.derived`): what is computed from its rows lives as long
as the store, and never beyond a change of its data, instead of in module globals.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any

from geoservice.singleflight import SingleFlight


class Derived:
    """Named values computed from the data of one data version."""

    def __init__(self):
        self._latest: str | None = None  # the data version last asked for
        self._items: dict[tuple[str, Hashable], Any] = {}
        self._lock = threading.Lock()
        self._computing = SingleFlight()  # a value asked for by many at once: computed once

    def get(self, key: Hashable, version: str, compute: Callable[[], Any]) -> Any:
        """The value of `key` for `version`, computed once by `compute()` when missing.

        Values of older versions are dropped once a newer one is asked for (a computation
        of an older version that ends late is answered but not kept); concurrent callers of
        the same key compute it once, other keys are not held up meanwhile.
        """
        with self._lock:
            if version != self._latest:
                self._latest = version
                self._items = {k: v for k, v in self._items.items() if k[0] == version}
            if (version, key) in self._items:
                return self._items[version, key]

        def computed():
            with self._lock:
                if (version, key) in self._items:
                    return self._items[version, key]
            value = compute()
            with self._lock:
                if version == self._latest:
                    self._items[version, key] = value
            return value

        return self._computing.run((version, key), computed)

    def clear(self) -> None:
        """Forget every value (tests, or a store reopened on other data)."""
        with self._lock:
            self._latest, self._items = None, {}
