"""Response JSON: geometries spliced in as GEOS writes them, kept for the next page by
the shape itself (an edited shape is never answered with its old text), within a bound."""

from __future__ import annotations

import json

import orjson
import shapely

from geoservice.geojson import EncodedShapes
from geoservice.web.jsonio import OPTIONS


def test_spliced_geometry_is_the_geojson_geos_writes():
    shape = shapely.Polygon([(104.5, 22.5), (105.6, 22.5), (105.6, 23.4), (104.5, 22.5)])
    body = json.loads(orjson.dumps({"geometry": EncodedShapes().fragment(shape), "name": "Lũng Cú"},
                                   option=OPTIONS))
    assert body["geometry"] == json.loads(shapely.to_geojson(shape))
    assert body["name"] == "Lũng Cú"


def test_kept_text_follows_the_shape_not_a_name():
    shapes = EncodedShapes()
    before = shapely.box(104.0, 22.0, 105.0, 23.0)
    edited = shapely.box(104.0, 22.0, 105.0, 23.000001)  # one vertex moved by 0.1 m
    assert shapes.text(before) == shapely.to_geojson(before)
    assert shapes.text(shapely.box(104.0, 22.0, 105.0, 23.0)) == shapely.to_geojson(before)
    assert shapes.text(edited) == shapely.to_geojson(edited) != shapely.to_geojson(before)
    assert len(shapes._items) == 2


def test_kept_text_stays_within_its_bound():
    shapes = EncodedShapes(limit=2_000)
    boxes = [shapely.box(i, 0, i + 1, 1) for i in range(100)]
    for box in boxes:
        assert json.loads(shapes.text(box)) == json.loads(shapely.to_geojson(box))
        assert shapes.size <= 2_000
    assert shapes.size == sum(len(text) for text in shapes._items.values())
    assert boxes[-1] in shapes._items and boxes[0] not in shapes._items  # oldest dropped
