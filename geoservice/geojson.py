"""GeoJSON of geometries for response bodies, as GEOS writes it and kept for the next page.

Feature pages splice what GEOS wrote into the response (`orjson.Fragment`), never parsing it
into Python lists to print it again; each app keeps what it wrote (`Services.shapes`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import orjson
import shapely


class EncodedShapes:
    """GeoJSON text of recently written geometries, up to `limit` characters in all.

    Keyed by the geometry itself (shapely hashes its WKB and compares coordinates
    exactly), so an edited boundary is a new key and nothing stale is ever served. Writing a
    detailed commune's GeoJSON costs GEOS ~8 times what hashing it does; a province's
    officials paging the same communes then pay it once per process."""

    def __init__(self, limit: int = 64_000_000):
        self.limit, self.size = limit, 0
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def text(self, geometry) -> str:
        """The GeoJSON text of `geometry` (kept, or written by GEOS now)."""
        with self._lock:
            found = self._items.get(geometry)
            if found is not None:
                self._items.move_to_end(geometry)
                return found
        text = shapely.to_geojson(geometry)
        if len(text) > self.limit // 16:  # one huge shape would push out many
            return text
        with self._lock:
            if geometry not in self._items:
                self._items[geometry] = text
                self.size += len(text)
                while self.size > self.limit:
                    _old, dropped = self._items.popitem(last=False)
                    self.size -= len(dropped)
        return text

    def fragment(self, geometry) -> orjson.Fragment:
        """A geometry's GeoJSON for a response body, spliced in as GEOS wrote it."""
        return orjson.Fragment(self.text(geometry))
