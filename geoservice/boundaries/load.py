"""Loading the built boundaries (the GeoPackage) into a store, one collection per layer.

`load_boundaries` replaces every boundary collection (`SOURCES`: which GeoPackage layer
feeds which collection of `geoservice.collections`) and records when and from where it
was loaded, with the default successor of every split pre-reform commune; then it makes
the tile-ready shapes of the boundary layers and keeps them in the store
(`prepare_layers`), so that no process has to simplify them on its first tile.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from geoservice.boundaries.build import read_geopackage
from geoservice.collections import COLLECTIONS
from geoservice.progress import Progress, Steps
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


def load_boundaries(store: Store, gpkg: Path, catalog: dict | None = None,
                    prepare: bool = True, progress: Progress | None = None) -> dict[str, int]:
    """Load every boundary collection from the built GeoPackage into the store, then
    prepare the boundary layers of `catalog` (default: the shipped layers) unless
    `prepare` is False. `progress(step, steps done, steps in all)` hears as each step
    begins (reading, loading, preparing each layer's shapes), then ``("done", n, n)``."""
    chosen = layers_to_prepare(catalog) if prepare else []
    steps = Steps(progress, (f"reading {Path(gpkg).name}", "loading the collections",
                             *(_preparing(layer) for layer in chosen),
                             *((NAMING,) if prepare else ())))
    steps.start(steps.names[0])
    layers = read_geopackage(gpkg)
    steps.start("loading the collections")
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
    if prepare:
        from geoservice.render.labelstore import warm

        _prepare(store, chosen, lambda layer: steps.start(_preparing(layer)))
        steps.start(NAMING)
        warm(store)  # the place names' anchors, kept for every process to read
    steps.finish()
    return counts


NAMING = "placing the names"


def _preparing(layer) -> str:
    return f"preparing the {layer.id} shapes"


def prepare_layers(store: Store, catalog: dict | None = None) -> list[str]:
    """Make and keep the tile-ready shapes of the layers drawn from boundary collections
    (each set of shapes once, from a layer showing every feature of its collection where
    there is one); return the ids of the layers prepared."""
    return _prepare(store, layers_to_prepare(catalog))


def layers_to_prepare(catalog: dict | None = None) -> list:
    """The layers whose shapes `prepare_layers` makes: one per set of shapes."""
    from geoservice.layers.catalog import load_catalog
    from geoservice.layers.source import shape_key

    layers = (catalog or load_catalog()).values()
    chosen: dict[str, object] = {}
    for layer in sorted(layers, key=lambda each: (each.source.indicator is not None,
                                                  bool(each.source.filter), each.id)):
        key = shape_key(layer)
        if key is not None and layer.source.analysis is None \
                and COLLECTIONS[layer.source.collection].source != "records":
            chosen.setdefault(key, layer)
    return list(chosen.values())


def _prepare(store: Store, chosen: list, starting=None) -> list[str]:
    from geoservice.layers.source import prepare

    for layer in chosen:
        if starting is not None:
            starting(layer)
        prepare(store, layer)
    LOGGER.info("prepared the shapes of %s", ", ".join(layer.id for layer in chosen))
    return [layer.id for layer in chosen]


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
