"""The vectorised MVT encoder, read back with the reference decoder (mapbox-vector-tile)."""

from __future__ import annotations

import mapbox_vector_tile
import numpy as np
import shapely
from shapely.geometry import shape

from geoservice.render.mvt import PropertyTable, encode_layer, encode_tile


def _decode(geometries, geometry, properties, ids=None):
    ids = ids or list(range(1, len(geometries) + 1))
    table = PropertyTable(properties)
    layer = encode_layer("t", np.array(geometries, dtype=object), table,
                         np.arange(len(geometries)), ids)
    decoded = mapbox_vector_tile.decode(encode_tile([layer]),
                                        default_options={"y_coord_down": True})
    return decoded["t"]


def _signed_area(ring) -> float:
    x, y = np.asarray(ring, float).T
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def test_polygons_with_holes_and_parts_round_trip_with_mvt_winding():
    square_with_hole = shapely.Polygon([(0, 0), (0, 100), (100, 100), (100, 0)],
                                       [[(20, 20), (80, 20), (80, 80), (20, 80)]])
    two_parts = shapely.MultiPolygon([shapely.box(200, 200, 300, 260),
                                      shapely.box(400, 10, 410, 40)])
    layer = _decode([square_with_hole, two_parts], "polygon",
                    [{"name": "Lũng Cú"}, {"name": "Đồng Văn"}])
    assert layer["extent"] == 4096
    first, second = layer["features"]
    assert shape(first["geometry"]).equals(square_with_hole)
    assert shape(second["geometry"]).equals(two_parts)
    exterior, hole = first["geometry"]["coordinates"]
    # MVT 2.1: exterior rings have positive area in tile coordinates (y down), holes negative.
    assert _signed_area(exterior) > 0 > _signed_area(hole)
    assert [f["properties"]["name"] for f in layer["features"]] == ["Lũng Cú", "Đồng Văn"]


def test_lines_points_and_ids():
    lines = _decode([shapely.LineString([(0, 0), (10, 5), (10, 5), (30, 40)]),
                     shapely.MultiLineString([[(1, 1), (2, 9)], [(50, 50), (60, 70)]])],
                    "line", [{}, {}], ids=[7, 12])
    assert [f["id"] for f in lines["features"]] == [7, 12]
    assert shape(lines["features"][0]["geometry"]).equals(
        shapely.LineString([(0, 0), (10, 5), (30, 40)]))  # the repeated point is dropped
    assert lines["features"][1]["geometry"]["type"] == "MultiLineString"
    points = _decode([shapely.Point(5, 6), shapely.MultiPoint([(1, 2), (3000, 4000)])],
                     "point", [{}, {}])
    assert shape(points["features"][0]["geometry"]).equals(shapely.Point(5, 6))
    assert shape(points["features"][1]["geometry"]).equals(
        shapely.MultiPoint([(1, 2), (3000, 4000)]))


def test_property_types_and_shared_values():
    properties = [{"s": "xã", "i": 3, "neg": -5, "f": 0.25, "b": True, "none": None},
                  {"s": "xã", "i": 3, "neg": -5, "f": 1.0, "b": False},
                  {"i": 1, "f": 1.0}]
    boxes = [shapely.box(0, 0, 10, 10), shapely.box(20, 0, 30, 10), shapely.box(40, 0, 50, 10)]
    layer = _decode(boxes, "polygon", properties)
    got = [f["properties"] for f in layer["features"]]
    assert got[0] == {"s": "xã", "i": 3, "neg": -5, "f": 0.25, "b": True}
    assert got[1] == {"s": "xã", "i": 3, "neg": -5, "f": 1.0, "b": False}
    assert got[2] == {"i": 1, "f": 1.0}
    assert type(got[2]["i"]) is int and type(got[2]["f"]) is float  # 1 and 1.0 stay apart


def test_features_collapsed_by_snapping_are_left_out():
    sliver = shapely.Polygon([(0, 0), (0, 0.2), (0.3, 0.2), (0.3, 0)])
    assert encode_layer("t", np.array([sliver], dtype=object), PropertyTable([{}]),
                        np.arange(1), [1]) == b""
    layer = _decode([sliver, shapely.box(0, 0, 5, 5)], "polygon", [{"a": 1}, {"a": 2}])
    assert [f["properties"]["a"] for f in layer["features"]] == [2]


def test_a_layer_may_mix_areas_and_points():
    # Designated hot spots: an area where one is known, else a point.
    layer = _decode([shapely.box(0, 0, 50, 50), shapely.Point(70, 80),
                     shapely.LineString([(0, 0), (9, 9)])], "polygon", [{}, {}, {}])
    assert [f["geometry"]["type"] for f in layer["features"]] == ["Polygon", "Point",
                                                                  "LineString"]
