"""Raster tiles: decode the PNG and check pixels (fills, holes, outlines, order, scale)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from shapely.geometry import (
    GeometryCollection,
    LineString,
    MultiPoint,
    MultiPolygon,
    Point,
    Polygon,
    box,
)

from geoservice.render.png import (
    EMPTY_PNG,
    dash_pieces,
    empty_png,
    encode_png,
    render_image,
    render_png,
)
from geoservice.render.symbols import Symbol
from tests.render.helpers import decode

RED = (215, 25, 28, 255)
BLUE = (43, 131, 186, 255)
INK = (33, 33, 33, 255)
TRANSLUCENT = [(200, 30, 10, 180), (12, 200, 99, 51), (255, 255, 191, 217), (65, 182, 196, 3)]


def pixel(pixels: np.ndarray, x: int, y: int) -> tuple[int, ...]:
    return tuple(int(v) for v in pixels[y, x])


def test_background_is_transparent_far_from_features():
    pixels = decode(render_png([(box(10, 10, 60, 60), Symbol(fill=RED))]))
    assert pixels.shape == (256, 256, 4)
    assert pixels[100:, :, 3].max() == 0
    assert pixel(pixels, 200, 30)[3] == 0


@pytest.mark.parametrize("colour", [RED, *TRANSLUCENT])
def test_interior_pixel_is_the_fill_colour_exactly(colour):
    pixels = decode(render_png([(box(10.3, 10.7, 90.2, 90.9), Symbol(fill=colour))]))
    assert pixel(pixels, 50, 50) == colour
    assert pixel(pixels, 11, 11) == colour


def test_background_stays_transparent_beside_a_nearly_invisible_fill():
    pixels = decode(render_png([(box(0, 0, 10, 10), Symbol(fill=(65, 182, 196, 1))),
                                (box(20, 0, 30, 10), Symbol(fill=RED))]))
    assert pixel(pixels, 100, 100)[3] == 0
    assert pixel(pixels, 25, 5) == RED


def test_every_class_colour_of_a_tile_maps_back_exactly():
    items = [(box(20 * i, 0, 20 * i + 18, 40), Symbol(fill=c, stroke=INK, stroke_width=0.5))
             for i, c in enumerate(TRANSLUCENT)]
    pixels = decode(render_png(items))
    assert [pixel(pixels, 20 * i + 9, 20) for i in range(len(TRANSLUCENT))] == TRANSLUCENT


def test_edges_are_anti_aliased():
    triangle = Polygon([(10, 10), (200, 10), (10, 200)])
    pixels = decode(render_png([(triangle, Symbol(fill=RED))]))
    diagonal = np.array([pixels[y, 209 - y, 3] for y in range(20, 190)])  # x + y = 210
    assert ((diagonal > 64) & (diagonal < 192)).all()
    assert pixel(pixels, 50, 50) == RED
    assert pixel(pixels, 150, 150)[3] == 0


def test_polygon_hole_is_transparent():
    ring = Polygon(box(20, 20, 120, 120).exterior, [box(50, 50, 90, 90).exterior.coords])
    pixels = decode(render_png([(ring, Symbol(fill=BLUE))]))
    assert pixel(pixels, 70, 70)[3] == 0
    assert pixel(pixels, 30, 70) == BLUE


def test_hole_wound_like_its_exterior_is_still_a_hole():
    exterior = [(20, 20), (120, 20), (120, 120), (20, 120)]
    hole = [(50, 50), (90, 50), (90, 90), (50, 90)]  # same orientation as the exterior
    pixels = decode(render_png([(Polygon(exterior, [hole]), Symbol(fill=BLUE))]))
    assert pixel(pixels, 70, 70)[3] == 0


def test_outline_has_the_stroke_colour():
    symbol = Symbol(fill=(255, 255, 191, 217), stroke=INK, stroke_width=3)
    pixels = decode(render_png([(box(100, 100, 200, 200), symbol)]))
    assert pixel(pixels, 100, 150) == INK  # on the left edge (covers x 98.5-101.5)
    assert pixel(pixels, 150, 100) == INK
    assert pixel(pixels, 150, 150) == symbol.fill
    assert pixel(pixels, 90, 150)[3] == 0


def test_dashed_outline_leaves_gaps():
    symbol = Symbol(stroke=INK, stroke_width=2, dash=(10, 10))
    pixels = decode(render_png([(box(100, 100, 200, 200), symbol)]))
    top = pixels[100, 100:200, 3]  # the top edge, drawn from x=100 rightwards
    assert top[2:8].min() == 255 and top[12:18].max() == 0


def test_point_marker_centre_has_its_fill_and_outline_outside_the_radius():
    symbol = Symbol(fill=RED, stroke=(255, 255, 255, 255), stroke_width=4, radius=6)
    pixels = decode(render_png([(Point(50.5, 50.5), symbol)]))
    assert pixel(pixels, 50, 50) == RED
    assert pixel(pixels, 58, 50) == (255, 255, 255, 255)  # 8 px out: within 6-10
    assert pixel(pixels, 62, 50)[3] == 0


def test_multipoint_draws_every_point():
    points = MultiPoint([(20.5, 20.5), (80.5, 80.5)])
    pixels = decode(render_png([(points, Symbol(fill=BLUE, radius=4))]))
    assert pixel(pixels, 20, 20) == BLUE and pixel(pixels, 80, 80) == BLUE


def test_lines_are_stroked_with_their_width():
    line = LineString([(10, 50), (240, 50)])
    pixels = decode(render_png([(line, Symbol(stroke=RED, stroke_width=4))]))
    column = pixels[:, 100, 3]
    assert list(np.flatnonzero(column)) == [48, 49, 50, 51]
    assert pixel(pixels, 100, 49) == RED


def test_dashed_line_alternates():
    line = LineString([(0, 20.5), (256, 20.5)])
    pixels = decode(render_png([(line, Symbol(stroke=RED, stroke_width=3, dash=(8, 4)))]))
    row = pixels[20, :, 3]
    assert row[1:7].min() == 255 and row[9:11].max() == 0 and row[13:19].min() == 255


def test_drawing_order_is_respected():
    first, second = box(10, 10, 60, 60), box(40, 40, 90, 90)
    red_then_blue = decode(render_png([(first, Symbol(fill=RED)), (second, Symbol(fill=BLUE))]))
    blue_then_red = decode(render_png([(second, Symbol(fill=BLUE)), (first, Symbol(fill=RED))]))
    assert pixel(red_then_blue, 50, 50) == BLUE
    assert pixel(blue_then_red, 50, 50) == RED


def test_translucent_fill_over_another_composites():
    below, above = (0, 0, 255, 255), (255, 0, 0, 128)
    pixels = decode(render_png([(box(0, 0, 50, 50), Symbol(fill=below)),
                                (box(0, 0, 50, 50), Symbol(fill=above))]))
    red, green, blue, alpha = pixel(pixels, 25, 25)
    assert alpha == 255 and abs(red - 128) <= 2 and green == 0 and abs(blue - 127) <= 2


def test_at_2x_the_tile_is_512_and_features_scale():
    items = [(box(10, 10, 30, 30), Symbol(fill=RED)),
             (LineString([(0, 100), (256, 100)]), Symbol(stroke=BLUE, stroke_width=2))]
    one, two = decode(render_png(items)), decode(render_png(items, scale=2))
    assert one.shape == (256, 256, 4) and two.shape == (512, 512, 4)
    assert pixel(one, 29, 29) == RED and pixel(one, 31, 31)[3] == 0
    assert pixel(two, 59, 59) == RED and pixel(two, 61, 61)[3] == 0
    assert np.count_nonzero(one[:, 128, 3]) == 2 and np.count_nonzero(two[:, 256, 3]) == 4


def test_multipolygon_and_collection_parts_are_drawn():
    parts = MultiPolygon([box(0, 0, 20, 20), box(40, 0, 60, 20)])
    collection = GeometryCollection([box(0, 100, 20, 120), LineString([(40, 110), (80, 110)])])
    symbol = Symbol(fill=RED, stroke=BLUE, stroke_width=2)
    pixels = decode(render_png([(parts, symbol), (collection, symbol)]))
    assert pixel(pixels, 10, 10) == RED and pixel(pixels, 50, 10) == RED
    assert pixel(pixels, 10, 110) == RED and pixel(pixels, 60, 110) == BLUE


def test_huge_geometry_is_clipped_and_still_drawn():
    huge = box(-5e7, -5e7, 5e7, 5e7)
    pixels = decode(render_png([(huge, Symbol(fill=TRANSLUCENT[0], stroke=INK))]))
    assert (pixels.reshape(-1, 4) == TRANSLUCENT[0]).all()


def test_render_image_is_rgba_of_the_scaled_size():
    image = render_image([(box(0, 0, 10, 10), Symbol(fill=RED))], 300, 200, scale=1.5)
    assert image.mode == "RGBA" and image.size == (450, 300)
    assert image.getpixel((5, 5)) == RED


def test_empty_png_is_a_transparent_256_tile():
    pixels = decode(EMPTY_PNG)
    assert pixels.shape == (256, 256, 4) and pixels[..., 3].max() == 0
    assert empty_png(256) is EMPTY_PNG
    assert decode(empty_png(512)).shape == (512, 512, 4)


@pytest.mark.parametrize("items", [
    [],
    [(box(300, 300, 400, 400), Symbol(fill=RED))],  # beyond the tile
    [(Polygon(), Symbol(fill=RED)), (None, Symbol(fill=RED))],
    [(box(0, 0, 50, 50), Symbol(fill=(255, 0, 0, 0)))],  # invisible colour
])
def test_nothing_to_draw_gives_the_empty_tile(items):
    assert render_png(items) == EMPTY_PNG
    assert render_png(items, scale=2) == empty_png(512)


def test_encode_png_round_trips_rgb_and_rgba():
    rgba = Image.new("RGBA", (5, 3), (1, 2, 3, 4))
    rgba.putpixel((4, 2), (250, 251, 252, 253))
    assert (decode(encode_png(rgba)) == np.asarray(rgba)).all()
    rgb = Image.new("RGB", (3, 5), (9, 8, 7))
    decoded = Image.open(io.BytesIO(encode_png(rgb)))
    assert decoded.mode == "RGB" and decoded.getpixel((2, 4)) == (9, 8, 7)


def test_dash_pieces_follow_the_pattern_around_corners():
    line = np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 10.0]])
    pieces = dash_pieces(line, (4.0, 3.0))
    lengths = [np.hypot(*np.diff(p, axis=0).T).sum() for p in pieces]
    assert lengths == pytest.approx([4, 4, 4])
    assert pieces[1].tolist() == [[7.0, 0.0], [10.0, 0.0], [10.0, 1.0]]  # turns the corner
    assert len(dash_pieces(line, (3.0,))) == 4  # odd patterns repeat: 3 on, 3 off
    assert dash_pieces(line, (0.0, 0.0))[0] is line
