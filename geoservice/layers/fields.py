"""The fields a layer can carry and their types, declared by its source (never guessed).

A boundary or record collection declares its properties (`geoservice.collections`);
indicator layers add the indicators (`INDICATOR_FIELDS`); analysis layers carry their
zones' properties (`geoservice.layers.analysis.ANALYSIS_FIELDS`). Tiles write lists as
comma-joined text and objects as compact JSON text, so TileJSON declares those as String.
"""

from __future__ import annotations

from geoservice.collections import COLLECTIONS
from geoservice.indicators.names import INDICATOR_NAMES

# The one table of indicator properties and their types (features API, tiles, catalogue).
YEAR_FIELD = "indicator_year"
INDICATOR_FIELDS: dict[str, str] = {
    YEAR_FIELD: "integer",
    **{name: "number" if name.startswith(("certification_rate", "model_coverage"))
       else "integer" for name in INDICATOR_NAMES},
}
# JSON type of a property -> how a vector tile carries it (TileJSON `fields`).
TILE_TYPES = {"string": "String", "integer": "Number", "number": "Number",
              "boolean": "Boolean", "array": "String", "object": "String"}


def collection_fields(collection: str) -> dict[str, str]:
    """A collection's properties and their JSON types."""
    return {name: about[0] for name, about in COLLECTIONS[collection].fields.items()}


def source_fields(source) -> dict[str, str]:
    """Every property a layer with this `Source` may carry, with its JSON type."""
    if source.analysis is not None:
        from geoservice.layers.analysis import ANALYSIS_FIELDS

        return dict(ANALYSIS_FIELDS[source.analysis])
    if source.geometry_transform == "label_points":  # place names (render.labels)
        from geoservice.render.labels import LABEL_FIELDS

        return dict(LABEL_FIELDS)
    known = collection_fields(source.collection)
    if source.indicator:
        known.update(INDICATOR_FIELDS)
    return known


def tile_field_types(layer) -> dict[str, str]:
    """TileJSON's `fields` of a layer: each field's type as its tiles carry it."""
    return {name: TILE_TYPES[kind] for name, kind in layer.field_types().items()}
