"""Queryables (OGC API - Features Part 3), `sortby` and `properties`, for every collection.

A collection's queryables are its declared scalar properties (`geoservice.collections`,
or for a layer `geoservice.layers.fields`) with their JSON types, and `geometry`; the same
table checks a `filter`, a `sortby` and — with every declared property — a `properties`
list, so the three answer alike.
"""

from __future__ import annotations

from collections.abc import Mapping

from geoservice import params as P
from geoservice.api.filters import GEOMETRY
from geoservice.errors import InvalidParameter

SCHEMA_JSON = "application/schema+json"
GEOMETRY_SCHEMA = {"format": "geometry-any", "title": "Geometry",
                   "description": "The feature's geometry (S_INTERSECTS)"}


def document(url: str, title: str, types: Mapping[str, str],
             descriptions: Mapping[str, str], formats: Mapping[str, str]) -> dict:
    """The queryables of a collection as a JSON Schema (draft 2020-12).

    Beside the schema's `properties`, `queryables` lists them in the shape of the Part 3
    draft (`[{"id", "type"}]`): GDAL up to 3.7 (Debian 12's 3.6 among them) reads only that
    list, and without it filters numbers (`ogr2ogr -where "area_km2 > 500"`) on the client,
    downloading every feature. JSON Schema ignores the unknown keyword."""
    properties = {}
    for name, kind in types.items():
        if name == GEOMETRY:
            properties[name] = dict(GEOMETRY_SCHEMA)
            continue
        entry = {"type": kind, "title": name}
        if descriptions.get(name):
            entry["description"] = descriptions[name]
        if formats.get(name):
            entry["format"] = formats[name]
        properties[name] = entry
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": url,
            "type": "object", "title": title, "properties": properties,
            "additionalProperties": False,
            "queryables": [{"id": name, "type": entry.get("type", "geometry")}
                           for name, entry in properties.items()]}


def sort_keys(args: Mapping[str, str], types: Mapping[str, str]) -> tuple:
    """The request's `sortby` on queryables (not the geometry): (property, descending,
    JSON type) triples."""
    keys = P.SORTBY.get(args, ())
    for prop, _ in keys:
        if prop not in types or prop == GEOMETRY:
            known = ", ".join(n for n in types if n != GEOMETRY)
            raise InvalidParameter(f"sortby: '{prop}' is not a queryable property. "
                                   f"Queryables: {known}.", parameter="sortby")
    return tuple((prop, descending, types[prop]) for prop, descending in keys)


def chosen(args: Mapping[str, str], known: set[str] | list[str]) -> tuple[str, ...] | None:
    """The request's `properties` (None: all), each one a property the collection has."""
    wanted = P.PROPERTIES.get(args)
    if wanted is None:
        return None
    for name in wanted:
        if name not in known:
            raise InvalidParameter(f"properties: '{name}' is not a property of this "
                                   f"collection. Properties: {', '.join(sorted(known))}.",
                                   parameter="properties")
    return wanted


def select(features: list[dict], wanted: tuple[str, ...] | None) -> list[dict]:
    """`features` with only the `wanted` properties (in place; all when None)."""
    if wanted is not None:
        for feature in features:
            props = feature["properties"] or {}
            feature["properties"] = {k: props[k] for k in wanted if k in props}
    return features


def in_time(valid: tuple | None, wanted: tuple | None) -> bool:
    """True when a `datetime` interval (start, end; None open) meets the validity
    (first, last day; None open) of a boundary version; no validity keeps everything."""
    if valid is None or wanted is None:
        return True
    (first, last), (start, end) = valid, wanted
    return (start is None or last is None or start <= last) and (
        end is None or first is None or end >= first)
