"""The map view drawn on the server (/map/image.png and .pdf): the requested size, the map in
the layers' colours, the legend, the title (read back from the PDF's text), the date, the
source and the synthetic-data mark, the archipelagos' inset, the tiles' access rule."""

from __future__ import annotations

import io
import re
from datetime import date

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader

from geoservice.auth import create_key
from geoservice.layers.catalog import load_catalog
from geoservice.render.mapimage import FOOTER_BAND, TITLE_BAND, layout, sheet_scale
from geoservice.render.mapimage import RULE as RULE_INK
from geoservice.services import of as services_of
from tests.web.helpers import assert_error
from tests.web.test_tiles import demo_db  # noqa: F401 - the shared session fixture

CATALOG = load_catalog()
VIEW = "bbox=102.1,20.8,106.0,23.5"  # both fixture provinces
PAPER = (255, 255, 255)


@pytest.fixture
def app(make_app, demo_db):  # noqa: F811
    return make_app(demo_db)


def key(app, area: str) -> dict:
    return {"X-API-Key": create_key(services_of(app).store, f"image {area}", "viewer",
                                    area)[1]}


def png(client, query: str, headers=None) -> np.ndarray:
    response = client.get(f"/map/image.png?{query}", headers=headers or {})
    assert response.status_code == 200, response.get_data()[:300]
    assert response.mimetype == "image/png"
    return np.asarray(Image.open(io.BytesIO(response.data)).convert("RGB"))


def region(image: np.ndarray, box) -> np.ndarray:
    left, top, right, bottom = box
    return image[top:bottom, left:right].reshape(-1, 3)


def inked(pixels: np.ndarray, background=PAPER) -> int:
    return int((np.abs(pixels.astype(int) - background).sum(axis=1) > 60).sum())


def colours(pixels: np.ndarray) -> set:
    return {tuple(int(v) for v in p) for p in pixels}


def blend(colour, opacity: float, ground) -> tuple:
    """A translucent fill's colour over `ground`."""
    return tuple(round(c * opacity + g * (1 - opacity)) for c, g in zip(colour[:3], ground))


def near(pixels: np.ndarray, palette, tolerance: int = 12) -> set:
    """The palette's colours some pixel shows (fills are drawn a little translucent)."""
    found = set()
    for colour in palette:
        distance = np.abs(pixels.astype(int) - np.array(colour[:3])).sum(axis=1)
        if (distance <= tolerance).sum() >= 4:
            found.add(tuple(colour[:3]))
    return found


def rules(image: np.ndarray) -> tuple[int, int, int]:
    """The sheet's grey rules found in the picture: under the title, above the footer,
    and left of the legend column (rows and columns wholly of the rule's colour)."""
    grey = (image == RULE_INK[:3]).all(axis=2)
    rows = np.flatnonzero(grey.all(axis=1))
    top, bottom = int(rows.min()), int(rows.max())
    columns = np.flatnonzero(grey[top + 1:bottom].all(axis=0))
    return top, bottom, int(columns.max())


@pytest.mark.parametrize("width,height", [(1200, 850), (640, 480), (2400, 1500)])
def test_png_has_the_size_the_title_the_legend_and_the_map(app, width, height):
    client = app.test_client()
    query = f"layer=certification-rate&{VIEW}&group=schools&width={width}&height={height}"
    image = png(client, query)
    assert image.shape == (height, width, 3)
    top, bottom, column = rules(image)
    scale = sheet_scale(width, height)
    assert abs(top - round(TITLE_BAND * scale)) <= 1  # the rules are a line wide
    assert abs(bottom - (height - round(FOOTER_BAND * scale))) <= 1
    assert width * 0.55 < column < width * 0.9  # the legend column on the right
    assert inked(region(image, (0, 0, width, top))) > 200  # the title's letters
    layer = CATALOG["certification-rate"]
    classes = {c.colour[:3] for c in layer.classes}
    legend = region(image, (column + 1, top + 1, width, bottom))
    on_paper = {blend(c, layer.style.fill_opacity, PAPER): c for c in classes}
    assert set(near(legend, on_paper)) == set(on_paper)  # a swatch of every class
    assert inked(legend) > 500  # and the labels
    shown = region(image, (0, top + 1, column, bottom))
    land = CATALOG["countries"].symbol_for({"iso_a2": "VN"}).fill
    on_land = {blend(c, layer.style.fill_opacity, blend(land, land[3] / 255, PAPER)): c
               for c in classes}
    assert len(near(shown, on_land)) >= 2  # the communes in their classes
    assert inked(region(image, (0, bottom + 1, width, height))) > 100  # date, source, mark


def test_pdf_text_holds_title_date_source_and_mark(app):
    client = app.test_client()
    title = "Bản đồ tỷ lệ đạt chuẩn của trường học — Tuyên Quang, Điện Biên"
    response = client.get(f"/map/image.pdf?layer=certification-rate-province,border-lines&"
                          f"{VIEW}&group=schools&width=1400&height=1000&title={title}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 1
    text = re.sub(r"\s+", " ", reader.pages[0].extract_text())
    assert title in text
    assert date.today().strftime("%d/%m/%Y") in text
    assert "Nguồn" in text and "DỮ LIỆU MINH HOẠ TỔNG HỢP" in text
    page = reader.pages[0].mediabox
    assert float(page.width) / float(page.height) == pytest.approx(1.4, rel=0.01)


def test_default_title_is_the_layers_own_in_the_language(app):
    client = app.test_client()
    for lang in ("vi", "en"):
        response = client.get(f"/map/image.pdf?layer=certification-rate&group=schools&"
                              f"lang={lang}&{VIEW}")
        text = re.sub(r"\s+", " ", PdfReader(io.BytesIO(response.data)).pages[0].extract_text())
        from geoservice.layers.params import with_params

        expected = with_params(CATALOG["certification-rate"], group="schools").title(lang)
        assert expected in text
        if lang == "en":
            assert "SYNTHETIC DEMO DATA" in text and "Source" in text


def test_the_archipelagos_inset_where_the_frame_leaves_them_out(app):
    client = app.test_client()
    query = "layer=provinces&width=1000&height=800"
    mainland = png(client, f"{query}&{VIEW}")
    whole = png(client, f"{query}&bbox=101,6,118,24")
    scale = sheet_scale(1000, 800)
    # the inset's frame sits in the map's bottom-right corner (above the footer)
    bottom = 800 - round(FOOTER_BAND * scale) - 12
    corner_mainland = region(mainland, (0, bottom - 170, 1000, bottom))
    corner_whole = region(whole, (0, bottom - 170, 1000, bottom))
    inset_ink = (97, 97, 97)
    assert inset_ink in colours(corner_mainland)
    assert inset_ink not in colours(corner_whole)


def test_restricted_layers_follow_the_tiles_access(app):
    client = app.test_client()
    refused = client.get(f"/map/image.png?layer=incidents&{VIEW}")
    assert refused.status_code == 401
    assert_error(refused.get_json(), 401)
    national = png(client, f"layer=incidents&{VIEW}", key(app, "national"))
    province = png(client, f"layer=incidents&{VIEW}", key(app, "11"))
    categories = [e.colour[:3] for e in CATALOG["incidents"].style.entries]
    parts = layout(1200, 850, 200, sheet_scale(1200, 850))
    left, top, right, bottom = parts.map
    map_national = region(national, (left, top, right - 260, bottom))
    map_province = region(province, (left, top, right - 260, bottom))
    def dots(pixels: np.ndarray) -> int:
        return sum(int((np.abs(pixels.astype(int) - np.array(c)).sum(axis=1) <= 30).sum())
                   for c in categories)

    assert dots(map_national) > dots(map_province) > 0


@pytest.mark.parametrize("query,status,parameter", [
    ("", 400, "layer"),
    ("layer=certification-rate&width=5000", 400, "width"),
    ("layer=certification-rate&height=10", 400, "height"),
    ("layer=certification-rate&bbox=1,2,3", 400, "bbox"),
    ("layer=certification-rate&group=bananas", 400, "group"),
    ("layer=provinces&group=schools", 400, "group"),
    ("layer=certification-rate&colour=red", 400, "colour"),
    ("layer=nothing", 404, "layer"),
    ("layer=certification-rate&year=02024", 400, "year"),
])
def test_bad_requests_get_the_one_error_shape(app, query, status, parameter):
    for ext in ("png", "pdf"):
        response = app.test_client().get(f"/map/image.{ext}?{query}")
        assert response.mimetype == "application/json"
        assert_error(response.get_json(), status, parameter=parameter)


def test_title_band_is_what_the_layout_says(app):
    image = png(app.test_client(), f"layer=communes&{VIEW}&width=900&height=600")
    band = round(TITLE_BAND * sheet_scale(900, 600))
    assert inked(region(image, (0, 0, 900, band))) > 100
