"""Vector tiles made in the database (PostGIS `ST_AsMVT`), for the PostGIS backend.

A layer drawn straight from a stored feature collection (boundaries, border communes,
border lines: no indicator joined in Python, no geometry rebuilt, no analysis) is tiled by
one SQL statement at the detail zooms, where the full-resolution shapes of a few communes
fill a tile: PostGIS clips and encodes them beside the data and sends only the tile. At
the overview zooms our own encoder on geometry simplified once per zoom band stays faster
(docs/benchmarks.md measures both), so `DATABASE_MVT_MIN_ZOOM` (default 10) sets where
the database takes over.

The tile is the one our encoder makes: one layer named like the catalogue layer, extent
4096, a 64-unit buffer, the layer's `fields` as properties with the same values (lists
sorted and joined by commas, missing values left out), the layer's source filter, and a
province reader's area applied in the query. Features carry no id (the MVT id is optional;
no client of ours uses it).
"""

from __future__ import annotations

from geoservice.collections import COLLECTIONS
from geoservice.layers.definition import LayerDef

EXTENT = 4096
BUFFER = 64


def can_tile(layer: LayerDef) -> bool:
    """True when the database can make this layer's vector tiles itself."""
    source = layer.source
    return (source.analysis is None and source.indicator is None
            and source.geometry_transform is None and source.collection in COLLECTIONS
            and COLLECTIONS[source.collection].source != "records")


def _value(field: str) -> str:
    """SQL for a field's tile value from the stored jsonb properties `p`
    (`geoservice.render.classify.tile_value`: lists sorted and joined by commas, objects
    as compact JSON with sorted keys, such as the border length per neighbour)."""
    item = f"p.properties -> '{field}'"
    return (f"CASE jsonb_typeof({item}) "
            f"WHEN 'array' THEN to_jsonb(nullif((SELECT string_agg(e, ',' ORDER BY e "
            f"COLLATE \"C\") FROM jsonb_array_elements_text({item}) AS e), '')) "
            f"WHEN 'object' THEN to_jsonb((SELECT '{{' || coalesce(string_agg(to_jsonb(k)::text "
            f"|| ':' || v::text, ',' ORDER BY k COLLATE \"C\"), '') || '}}' FROM jsonb_each("
            f"{item}) AS o(k, v))) "
            f"ELSE {item} END")


def _filter(layer: LayerDef) -> tuple[list[str], list]:
    """The layer's source filter (`LayerDef.accepts`) as SQL conditions and parameters."""
    where, params = [], []
    for name, wanted in layer.source.filter.items():
        if name == "border_neighbor":  # the neighbours column holds the codes
            if wanted == "any":
                where.append("cardinality(p.neighbors) > 0")
            else:
                where.append("%s = ANY(p.neighbors)")
                params.append(str(wanted))
        elif wanted == "any":
            where.append("coalesce(p.properties ->> %s, '') <> ''")
            params.append(name)
        else:
            where.append("p.properties ->> %s = %s")
            params += [name, str(wanted)]
    return where, params


def tile_sql(layer: LayerDef, area: str | None) -> tuple[str, list]:
    """The statement for one tile of `layer` (parameters z, x, y come first), and the
    parameters after them."""
    for name in layer.fields:
        if not name.replace("_", "").isalnum():  # field names are catalogue identifiers
            raise ValueError(f"layer {layer.id}: field {name!r} is not an identifier")
    properties = ", ".join(f"'{name}', {_value(name)}" for name in layer.fields)
    where, params = _filter(layer)
    if area is not None:
        where.append("p.province_code = %s")
        params.append(area)
    conditions = "".join(f" AND {condition}" for condition in where)
    sql = f"""
WITH bounds AS (
  SELECT ST_TileEnvelope(%s, %s, %s) AS envelope,
         ST_Transform(ST_TileEnvelope(%s, %s, %s, margin => {BUFFER / EXTENT}), 4326) AS area),
shapes AS (
  SELECT ST_AsMVTGeom(ST_Transform(p.geom, 3857), bounds.envelope, {EXTENT}, {BUFFER}, true)
           AS geom,
         jsonb_strip_nulls(jsonb_build_object({properties})) AS properties
  FROM features AS p, bounds
  WHERE p.collection = %s AND p.geom && bounds.area{conditions}
  ORDER BY p.id)
SELECT ST_AsMVT(shapes.*, %s, {EXTENT}, 'geom') FROM shapes WHERE geom IS NOT NULL
"""
    return sql, [layer.source.collection, *params, layer.id]


def mvt(conn, layer: LayerDef, z: int, x: int, y: int, area: str | None) -> bytes:
    """Return tile z/x/y of `layer` made by PostGIS (empty bytes for an empty tile)."""
    sql, params = tile_sql(layer, area)
    row = conn.execute(sql, [z, x, y, z, x, y, *params]).fetchone()
    return bytes(row[0]) if row and row[0] is not None else b""
