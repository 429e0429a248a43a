"""Loading the built boundaries (the GeoPackage) into a store, one collection per layer.

`load_boundaries` replaces every boundary collection (`SOURCES`: which GeoPackage layer
feeds which collection of `geoservice.collections`) and records when and from where it
was loaded, with the default successor of every split pre-reform commune.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from geoservice.boundaries.build import read_geopackage
from geoservice.collections import COLLECTIONS
from geoservice.store import FeatureRow, Store
from geoservice.text import search_key

LOGGER = logging.getLogger(__name__)

# Which GeoPackage layer feeds which collection, and the column holding the feature id.
SOURCES = {
    "provinces": ("provinces", "code"),
    "communes": ("communes", "code"),
    "border-lines": ("border_lines", "neighbor"),
    "legacy-communes": ("legacy_communes", "code"),
    "countries": ("countries", "iso_a2"),
    "sea": ("sea", "id"),
}


def load_boundaries(store: Store, gpkg: Path) -> dict[str, int]:
    """Load every boundary collection from the built GeoPackage into the store."""
    layers = read_geopackage(gpkg)
    counts = {}
    for collection, (layer, key) in SOURCES.items():
        counts[collection] = store.replace_collection(
            collection, _rows(layers[layer], key, collection))
    store.set_meta("boundaries_loaded_at", datetime.now(UTC).isoformat(timespec="seconds"))
    store.set_meta("boundaries_source", str(gpkg))
    store.set_meta("boundaries_counts", json.dumps(counts))
    lineage = layers["lineage"]
    split = lineage[(lineage["relation"] == "split") & lineage["is_default"].astype(bool)]
    store.set_meta("lineage_defaults", json.dumps(dict(zip(split["legacy_code"], split["code"]))))
    LOGGER.info("loaded boundaries: %s", counts)
    return counts


def _rows(frame, key: str, collection: str):
    fields = COLLECTIONS[collection].fields
    columns = [c for c in fields if c in frame.columns]
    records = frame[columns].to_dict("records")
    for fid, record, geometry in zip(frame[key], records, frame.geometry):
        properties = {k: _plain(v) for k, v in record.items()}
        if collection == "communes":
            properties["province_name"] = record.get("province_name")
        neighbours = tuple(properties.get("border_neighbors") or ())
        if collection == "border-lines":
            neighbours = (properties["neighbor"],)
        yield FeatureRow(
            id=str(fid),
            properties=properties,
            geometry=geometry,
            province_code=properties.get("province_code") if collection != "provinces"
            else properties.get("code"),
            neighbors=neighbours,
            search=search_key(properties.get("name")),
        )


def _plain(value):
    if isinstance(value, float) and pd.isna(value):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value
