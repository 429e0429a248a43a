"""The data version of one layer: what its tiles, prepared shapes and derived values
depend on.

The store keeps a token per source kind (`Store.source_versions`: ``boundaries`` and each
record kind). A layer depends on the kinds it is drawn from: its collection's (boundaries
or a record kind), the communes' for lines starting at a commune, and for indicator layers
the record kinds its indicator fields count (plus certification, whose latest year is the
default indicator year). A certification import so changes the certification layers'
version and leaves the boundary, basemap and incident layers' tiles cached.

`layer_data_version(store, layer)` answers the whole layer's version; `shape_version`
only what its geometry depends on (a new year of certification leaves the communes'
simplified shapes of the certification layers as they were).
"""

from __future__ import annotations

import hashlib

from geoservice.collections import COLLECTIONS
from geoservice.layers.definition import LayerDef
from geoservice.records.kinds import KINDS

BOUNDARIES = "boundaries"
# Which record kinds an indicator field is counted from (by the start of its name).
INDICATOR_KINDS = {
    "certification_rate": ("certification",),
    "model_coverage": ("models", "certification"),  # residential areas: certification rows
    "incidents": ("incidents",),
    "cooperation_activities": ("cooperation",),
    "awareness": ("awareness",),
}
INDICATOR_YEAR_KIND = "certification"  # "latest" is its latest year


def geometry_kinds(layer: LayerDef) -> tuple[str, ...]:
    """The source kinds a layer's geometries are made from."""
    collection = layer.source.collection
    if COLLECTIONS[collection].source != "records":
        return (BOUNDARIES,)
    if layer.source.geometry_transform or layer.source.analysis:  # from communes too
        return (BOUNDARIES, collection)
    return (collection,)


def layer_kinds(layer: LayerDef) -> tuple[str, ...]:
    """The source kinds a layer's tiles are made from (geometries and values)."""
    kinds = set(geometry_kinds(layer))
    if layer.source.indicator is not None:
        kinds.add(INDICATOR_YEAR_KIND)
        for name in (*layer.fields, layer.source.indicator):
            for prefix, counted in INDICATOR_KINDS.items():
                if name.startswith(prefix):
                    kinds.update(counted)
        if kinds == {*geometry_kinds(layer), INDICATOR_YEAR_KIND} and not \
                layer.source.indicator.startswith(tuple(INDICATOR_KINDS)):
            kinds.update(KINDS)  # an indicator not known here: every kind, to be safe
    return tuple(sorted(kinds))


def _token(store, kinds: tuple[str, ...]) -> str:
    versions = store.source_versions()
    text = ";".join(f"{kind}={versions.get(kind, '')}" for kind in kinds)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def boundaries_version(store) -> str:
    """Return a token that changes whenever the boundaries (units, basemap) change: what
    place names and other boundary-only values depend on."""
    return _token(store, (BOUNDARIES,))


def layer_data_version(store, layer: LayerDef) -> str:
    """Return a token that changes whenever the data `layer` is drawn from changes (16
    hex digits, fit for a URL path)."""
    return _token(store, layer_kinds(layer))


def shape_version(store, layer: LayerDef) -> str:
    """Return a token that changes whenever the data of `layer`'s geometries changes."""
    return _token(store, geometry_kinds(layer))
