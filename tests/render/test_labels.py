"""Place-name tiles: names placed once per zoom (no two over one another, consistent across
tile borders), drawn into transparent PNG tiles in DejaVu Sans with a halo, the
archipelagos named at every zoom with their islands marked at national zooms; and the
same names as MVT and GeoJSON through /tiles/labels/…, decoded here."""

from __future__ import annotations

import unicodedata

import mapbox_vector_tile
import mercantile
import numpy as np
import pytest
import shapely

from geoservice.render import labels as L
from tests.conftest import NODE_MODULES
from tests.render.helpers import decode
from tests.web.helpers import assert_error
from tests.web.helpers import decode as decode_json

BORDER_LON = -180 + 360 * 52 / 64


def _square(lon: float, lat: float, half: float):
    return shapely.box(lon - half, lat - half, lon + half, lat + half)


def _names():
    """Two provinces, two communes of the first, and the Hoàng Sa zone as five islets."""
    islets = shapely.MultiPolygon([_square(111.2 + 0.3 * i, 16.0 + 0.2 * i, 0.01)
                                   for i in range(5)])
    provinces = [("08", {"code": "08", "name": "Tuyên Quang"}, _square(105.0, 22.0, 0.8)),
                 ("11", {"code": "11", "name": "Điện Biên"}, _square(103.0, 21.6, 0.8)),
                 # centred on the border between tile columns 51 and 52 of zoom 6
                 ("20", {"code": "20", "name": "Lạng Sơn"}, _square(BORDER_LON, 21.0, 0.4))]
    communes = [("02263", {"code": "02263", "name": "Lũng Cú"}, _square(105.0, 22.0, 0.05)),
                ("02264", {"code": "02264", "name": "Đồng Văn"}, _square(105.01, 22.0, 0.05)),
                ("20333", {"code": "20333", "name": "Hoàng Sa"}, islets)]
    return L.Labels(L.candidates(provinces, communes), NODE_MODULES)


def _ink(pixels: np.ndarray, colour) -> np.ndarray:
    """Mask of the pixels drawn in (about) `colour`, fully opaque."""
    rgb = pixels[..., :3].astype(int)
    return (np.abs(rgb - np.array(colour[:3])).sum(axis=2) < 40) & (pixels[..., 3] > 200)


def _tile_of(lon: float, lat: float, z: int):
    t = mercantile.tile(lon, lat, z)
    return t.x, t.y


def test_candidates_are_ranked_archipelago_first_with_names_in_nfc():
    names = _names()
    kinds = [(item.kind, item.name) for item in names.items]
    assert kinds[0] == ("archipelago", "Quần đảo Hoàng Sa")
    assert [k for k, _n in kinds] == ["archipelago", "province", "province", "province",
                                      "commune", "commune"]
    assert all(unicodedata.is_normalized("NFC", item.name) for item in names.items)
    assert names.items[0].name_en == "Hoàng Sa Archipelago"
    assert len(names.items[0].islands) == 5
    # the anchor of a unit lies inside its polygon
    lungcu = next(i for i in names.items if i.code == "02263")
    lon, lat = mercantile.lnglat(lungcu.x, lungcu.y)
    assert _square(105.0, 22.0, 0.05).contains(shapely.Point(lon, lat))


def test_provinces_below_zoom_9_communes_from_9_archipelagos_everywhere():
    names = _names()
    for z in (3, 6, 8):
        kinds = {names.items[i].kind for i in names.placed(z).indices}
        assert kinds == {"archipelago", "province"}, z
    kinds = {names.items[i].kind for i in names.placed(10).indices}
    assert kinds == {"archipelago", "commune"}


def test_overlapping_names_keep_the_higher_ranked_one_only():
    names = _names()
    # At zoom 9 the two communes' anchors are ~1 km apart: their names would overlap.
    placed = [names.items[i].code for i in names.placed(9).indices]
    assert "02263" in placed and "02264" not in placed  # same area: code order decides
    # At zoom 13 they are ~200 px apart: both fit.
    placed = [names.items[i].code for i in names.placed(13).indices]
    assert {"02263", "02264"} <= set(placed)
    boxes = names.placed(13).boxes
    for a in range(len(boxes)):
        for b in range(a + 1, len(boxes)):
            assert not L._overlaps(boxes[a], boxes[b])


def test_png_tile_draws_the_name_at_its_place_and_nothing_elsewhere():
    names = _names()
    z = 6
    x, y = _tile_of(105.0, 22.0, z)
    pixels = decode(L.png_tile(names, z, x, y))
    assert pixels.shape == (256, 256, 4)
    province = next(i for i in names.items if i.code == "08")
    left, top, right, bottom = next(box for item, box in names.in_tile(z, x, y)
                                    if item is province)
    ink = _ink(pixels, L.LOOKS["province"][2])
    inside = ink[max(0, int(top)):int(bottom) + 1, max(0, int(left)):int(right) + 1]
    assert inside.sum() > 40  # the letters
    halo = _ink(pixels, (255, 255, 255))
    assert halo.sum() > inside.sum()  # a halo around them
    outside = ink.copy()
    outside[max(0, int(top) - 3):int(bottom) + 4, max(0, int(left) - 3):int(right) + 4] = False
    assert outside.sum() == 0
    # an empty sea tile far from every name is the transparent tile
    far = decode(L.png_tile(names, z, *_tile_of(90.0, 0.0, z)))
    assert far[..., 3].max() == 0


def test_a_name_across_a_tile_border_is_drawn_by_both_tiles_alike():
    names = _names()
    province = next(i for i in names.items if i.code == "20")
    z = 6
    px, py, _a = L.label_point(province, z)
    assert abs(px - 52 * 256) < 1  # the name is centred on the border
    x0, y0 = 51, int(py // 256)
    assert [item.code for item, _b in names.in_tile(z, x0, y0)].count("20") == 1
    assert [item.code for item, _b in names.in_tile(z, x0 + 1, y0)].count("20") == 1
    west, east = decode(L.png_tile(names, z, x0, y0)), decode(L.png_tile(names, z, x0 + 1, y0))
    ink = L.LOOKS["province"][2]
    assert _ink(west, ink)[:, -30:].sum() > 20 and _ink(east, ink)[:, :30].sum() > 20
    # the pixels on either side of the border continue one another (same placement)
    assert np.abs(west[:, -1, 3].astype(int) - east[:, 0, 3].astype(int)).mean() < 40


def test_archipelago_islands_are_marked_at_national_zooms_and_named_in_english():
    names = _names()
    hoang_sa = names.archipelagos()[0]
    z = 5
    ix, iy, _r = hoang_sa.islands[0]  # the southernmost islet
    px, py = L.world_pixels(ix, iy, z)
    x, y = int(px // 256), int(py // 256)
    pixels = decode(L.png_tile(names, z, x, y, lang="en"))
    cx, cy = int(px - x * 256), int(py - y * 256)
    assert _ink(pixels[cy - 1:cy + 2, cx - 1:cx + 2], L.ISLAND_INK).any()
    # the name is written under the islands: ink below the lowest marker
    name_ink = _ink(pixels, L.LOOKS["archipelago"][2])
    below = name_ink[cy + int(L.ISLAND_RADIUS) + 2:]
    assert below.sum() > 40
    # and nothing of it above the islands' top
    top = min(L.world_pixels(ix2, iy2, z)[1] for ix2, iy2, _r2 in hoang_sa.islands) - y * 256
    assert not name_ink[:max(0, int(top - L.ISLAND_RADIUS - 2))].any()
    # no markers from zoom 8 (the islands show as themselves there)
    z = 8
    px, py = L.world_pixels(ix, iy, z)
    image = L.draw_tile(names, z, int(px // 256), int(py // 256))
    if image is not None:
        marker = np.asarray(image)[int(py % 256), int(px % 256)]
        assert not _ink(marker[None, None, :], L.ISLAND_INK).any()


def test_english_and_vietnamese_archipelago_names_differ_in_the_tile():
    names = _names()
    hoang_sa = names.archipelagos()[0]
    z = 4
    px, py, _a = L.label_point(hoang_sa, z)
    x, y = int(px // 256), int(py // 256)
    assert L.png_tile(names, z, x, y, "vi") != L.png_tile(names, z, x, y, "en")
    boxes = {lang: next(b for item, b in names.in_tile(z, x, y, lang) if item is hoang_sa)
             for lang in ("vi", "en")}
    assert boxes["vi"][2] - boxes["vi"][0] != boxes["en"][2] - boxes["en"][0]


# --- served: the fixture's provinces 08 and 11 -------------------------------------------

@pytest.fixture
def label_client(make_app, loaded_db):
    return make_app(loaded_db, NODE_MODULES=str(NODE_MODULES)).test_client()


def test_served_png_tiles_name_the_fixture_provinces(label_client):
    features = decode_json(label_client.get("/tiles/labels/features.json?zoom=6"),
                           content_type="application/geo+json")["features"]
    names = {f["properties"]["name"] for f in features}
    assert names == {"Tuyên Quang", "Điện Biên"}
    assert {f["properties"]["kind"] for f in features} == {"province"}
    drawn = 0
    for feature in features:
        lon, lat = feature["geometry"]["coordinates"]
        x, y = _tile_of(lon, lat, 6)
        response = label_client.get(f"/tiles/labels/6/{x}/{y}.png")
        assert response.status_code == 200 and response.mimetype == "image/png"
        pixels = decode(response.data)
        drawn += _ink(pixels, L.LOOKS["province"][2]).sum()
        double = decode(label_client.get(f"/tiles/labels/6/{x}/{y}@2x.png").data)
        assert double.shape == (512, 512, 4)
    assert drawn > 80
    communes = decode_json(label_client.get("/tiles/labels/features.json?zoom=10"))
    kinds = {f["properties"]["kind"] for f in communes["features"]}
    assert kinds == {"commune"} and len(communes["features"]) > 20


def test_served_mvt_carries_the_names_once(label_client):
    features = decode_json(label_client.get("/tiles/labels/features.json?zoom=6"))["features"]
    lon, lat = features[0]["geometry"]["coordinates"]
    x, y = _tile_of(lon, lat, 6)
    response = label_client.get(f"/tiles/labels/6/{x}/{y}.mvt")
    assert response.mimetype == "application/vnd.mapbox-vector-tile"
    decoded = mapbox_vector_tile.decode(response.data)["labels"]["features"]
    names = [f["properties"]["name"] for f in decoded]
    assert features[0]["properties"]["name"] in names
    assert len(names) == len(set(names))
    assert {f["geometry"]["type"] for f in decoded} == {"Point"}


@pytest.mark.parametrize("url, parameter", [
    ("/tiles/labels/6/50/28.jpg", "y"),
    ("/tiles/labels/6/50/28@2x.mvt", "y"),
    ("/tiles/labels/6/99/28.png", "x"),
    ("/tiles/labels/6/50/28.png?lang=fr", "lang"),
    ("/tiles/labels/6/50/28.png?colour=red", "colour"),
    ("/tiles/labels/features.json?zoom=40", "zoom"),
])
def test_bad_label_requests_get_the_one_error_shape(label_client, url, parameter):
    response = label_client.get(url)
    assert response.status_code == 400
    assert_error(response.get_json(), 400, parameter=parameter)


def test_the_basemap_edge_fades_into_the_background_instead_of_a_hard_box():
    from geoservice.layers.definition import BACKGROUND
    from geoservice.render.symbols import parse_colour

    box = L.to_mercator(np.array([shapely.box(97.0, 5.0, 115.0, 26.0)]))[0].bounds
    names = L.Labels([], NODE_MODULES, box)
    z = 4
    # a row of tiles across the west edge (97° E) at 16° N
    _x, y = _tile_of(97.0, 16.0, z)
    row = np.hstack([decode(L.png_tile(names, z, x, y)) for x in range(10, 14)])
    west_px = L.world_pixels(box[0], 0, z)[0] - 10 * 256
    alpha = row[128, :, 3].astype(int)
    assert L.BACKGROUND == BACKGROUND
    background = parse_colour(BACKGROUND)
    outside = row[128, :int(west_px) - 1]
    assert (outside[:, 3] == 255).all() and (outside[:, :3] == background[:3]).all()
    band = alpha[int(west_px) + 1:int(west_px) + 20]
    assert 0 < band.min() < band.max() < 255  # fading, not a line
    middle_px = L.world_pixels(L.to_mercator(np.array([shapely.Point(106.0, 16.0)]))[0].x,
                               0, z)[0] - 10 * 256
    assert (np.diff(alpha[int(west_px):int(middle_px)]) <= 0).all()  # lighter inland
    assert alpha[int(middle_px)] == 0
    # deep inside the box nothing is drawn: the interior tiles stay the empty tile
    inner = L.png_tile(names, 7, *_tile_of(106.0, 16.0, 7))
    assert decode(inner)[..., 3].max() == 0


def test_the_faded_edge_never_covers_the_archipelagos_islands():
    names = _names()
    # a basemap ending west of Hoàng Sa: its islets lie in the background beyond it
    names.extent = L.to_mercator(np.array([shapely.box(97.0, 5.0, 110.0, 26.0)]))[0].bounds
    z = 9  # no markers at this zoom: only the islets' own polygons (another layer) show
    ix, iy, _r = names.archipelagos()[0].islands[2]
    px, py = L.world_pixels(ix, iy, z)
    x, y = int(px // 256), int(py // 256)
    pixels = decode(L.png_tile(names, z, x, y))
    cx, cy = int(px - 256 * x), int(py - 256 * y)
    assert pixels[cy, cx, 3] == 0  # the islet shows through
    far = (cx + 60) % 256, (cy + 60) % 256
    assert pixels[far[1], far[0], 3] == 255  # the background beyond the basemap
