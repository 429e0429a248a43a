"""The place names of a store's boundaries, kept with the store.

Finding each unit's anchor (`geoservice.render.labels.anchor`, a pole of inaccessibility)
reads every province and commune at full resolution: a second or two nationally. The
names and anchors are therefore kept in the store's metadata, keyed by the boundary version
(`geoservice.layers.versions.boundaries_version`), so that a process started later, or
another host on the same store, reads them instead of computing them, and a records import
(which leaves the boundaries as they are) keeps them and the label tiles drawn from them.
`warm` computes them ahead: `geoservice build-data` and `load-boundaries` call it.
"""

from __future__ import annotations

import json
import logging

import numpy as np
import shapely

from geoservice.layers.versions import boundaries_version
from geoservice.render.labels import Candidate, Labels, candidates
from geoservice.store import FeatureQuery
from geoservice.tilemath import to_mercator

LOGGER = logging.getLogger(__name__)

ALL = 10**7
META_KEY = "labels/candidates"


def labels_of(store, node_modules=None) -> Labels:
    """The store's names for its current boundaries (read, or computed and kept, once)."""
    version = boundaries_version(store)

    def compute() -> Labels:
        items, extent = kept(store, version)
        return Labels(items, node_modules, extent)

    return store.derived.get(("labels", str(node_modules or "")), version, compute)


def kept(store, version: str) -> tuple[list[Candidate], tuple | None]:
    """The names and the basemap's box of boundary `version`: from the store's metadata
    when kept for this version, else computed and kept."""
    stored = store.get_meta(META_KEY)
    payload = json.loads(stored) if stored else None
    if payload is not None and payload.get("version") == version:
        extent = payload["extent"]
        return ([_candidate(row) for row in payload["items"]],
                tuple(extent) if extent is not None else None)
    provinces = store.query("provinces", FeatureQuery(limit=ALL)).features
    communes = store.query("communes", FeatureQuery(limit=ALL)).features
    items = candidates(provinces, communes)
    extent = basemap_extent(store)
    LOGGER.info("labels: %d names (%d archipelagos)", len(items),
                sum(item.kind == "archipelago" for item in items))
    store.set_meta(META_KEY, json.dumps({"version": version, "extent": extent,
                                         "items": [_row(item) for item in items]},
                                        ensure_ascii=False))
    return items, extent


def warm(store) -> None:
    """Compute and keep the names of the current boundaries (unless kept already)."""
    kept(store, boundaries_version(store))


def basemap_extent(store) -> tuple[float, float, float, float] | None:
    """The box the basemap covers (Web Mercator): the sea's, the region less its land."""
    sea = [g for _f, _p, g in store.query("sea", FeatureQuery(limit=ALL)).features
           if g is not None and not g.is_empty]
    if not sea:
        return None
    return tuple(to_mercator(np.array([shapely.box(*shapely.total_bounds(sea))]))[0].bounds)


def _row(item: Candidate) -> list:
    return [item.code, item.name, item.name_en, item.kind, item.rank, item.x, item.y,
            [list(island) for island in item.islands]]


def _candidate(row: list) -> Candidate:
    code, name, name_en, kind, rank, x, y, islands = row
    return Candidate(code, name, name_en, kind, rank, x, y,
                     tuple(tuple(island) for island in islands))
