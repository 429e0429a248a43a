"""Legend images and the Vietnamese font: decode the PNG, check swatches, size and glyphs."""

from __future__ import annotations

import unicodedata

import numpy as np
import pytest
from fontTools.ttLib import TTFont

from geoservice.errors import SourceMissing
from geoservice.layers.catalog import load_catalog
from geoservice.render.fonts import FONT_PACKAGE, font_path, load_font, text_box
from geoservice.render.legend import legend_image, legend_png, style_entries
from geoservice.render.symbols import Symbol
from tests.render.helpers import decode, over_white

GREEN = (26, 150, 65, 255)
MAGENTA = (197, 27, 125, 255)
BLUE = (43, 131, 186, 255)
PALE = (255, 255, 191, 217)

VIETNAMESE_SAMPLES = ["Chứng nhận an toàn về an ninh, trật tự", "Lũng Cú", "Đặc khu",
                      "Ừ ỡ ự ặ", "Tuyên Quang", "Điện Biên Phủ", "Thừa Thiên Huế",
                      "Phường Hòa Khánh, Bà Rịa – Vũng Tàu"]


def vietnamese_alphabet() -> str:
    """Every Vietnamese letter, upper and lower case: 12 vowels x 6 tones, đ, consonants."""
    vowels = "aăâeêioôơuưy"
    tones = ["", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"]
    letters = {unicodedata.normalize("NFC", v + t) for v in vowels for t in tones}
    letters |= set("bcdđghklmnpqrstvx")
    letters |= {c.upper() for c in letters}
    assert all(len(c) == 1 for c in letters)  # each has a precomposed code point
    return "".join(sorted(letters))


ENTRIES = [("Đạt chuẩn", Symbol(fill=GREEN, stroke=(140, 140, 140, 255), stroke_width=0.5),
            "polygon"),
           ("Biên giới", Symbol(stroke=MAGENTA, stroke_width=3, dash=(6, 3)), "line"),
           ("Vụ việc", Symbol(fill=BLUE, radius=6), "point"),
           ("Chưa đạt", Symbol(fill=PALE), "polygon")]


@pytest.mark.parametrize("style", ["regular", "bold"])
def test_font_covers_vietnamese(style):
    """Checked with fontTools: every character has an entry in the font's cmap."""
    cmap = TTFont(font_path(style))["cmap"].getBestCmap()
    text = vietnamese_alphabet() + "".join(VIETNAMESE_SAMPLES)
    missing = sorted({c for c in text if not c.isspace() and ord(c) not in cmap})
    assert missing == []
    assert len(vietnamese_alphabet()) == 2 * (12 * 6 + 17)


def test_missing_font_package_is_named(tmp_path):
    with pytest.raises(SourceMissing, match=FONT_PACKAGE):
        font_path(node_modules=tmp_path)
    with pytest.raises(ValueError, match="style"):
        font_path("italic")


def test_font_is_found_in_a_given_node_modules(tmp_path):
    target = tmp_path / FONT_PACKAGE / "ttf"
    target.mkdir(parents=True)
    (target / "DejaVuSans-Bold.ttf").write_bytes(font_path("bold").read_bytes())
    assert font_path("bold", tmp_path) == target / "DejaVuSans-Bold.ttf"
    assert load_font(12, "bold", str(tmp_path)).getname()[1] == "Bold"


def test_text_is_measured_as_nfc():
    nfd = unicodedata.normalize("NFD", "Lũng Cú")
    assert text_box(nfd, 12) == text_box("Lũng Cú", 12)


def test_legend_png_shows_each_swatch_colour_on_white():
    pixels = decode(legend_png("Tỷ lệ chứng nhận", ENTRIES))
    colours = {tuple(int(v) for v in p) for p in pixels.reshape(-1, 4)}
    for colour in (GREEN, MAGENTA, BLUE):
        assert colour in colours
    pale = np.abs(pixels[..., :3].astype(float) - over_white(PALE)).max(axis=-1)
    assert (pale <= 1).sum() > 100  # the translucent swatch, composited on white
    assert tuple(pixels[1, 1]) == (255, 255, 255, 255)  # white background
    assert tuple(pixels[0, 5]) == (189, 189, 189, 255)  # thin grey border


def test_legend_grows_with_longer_labels_and_scale():
    short = decode(legend_png("Chú giải", [("Xã", ENTRIES[0][1], "polygon")]))
    long = decode(legend_png("Chú giải", [("Chứng nhận an toàn về an ninh, trật tự",
                                            ENTRIES[0][1], "polygon")]))
    assert long.shape[1] > short.shape[1] + 100
    assert long.shape[0] == short.shape[0]
    double = decode(legend_png("Chú giải", [("Xã", ENTRIES[0][1], "polygon")], scale=2))
    assert abs(double.shape[1] - 2 * short.shape[1]) <= 2
    taller = decode(legend_png("Chú giải", ENTRIES))
    assert taller.shape[0] > short.shape[0] + 40


@pytest.mark.parametrize("scale", [0.75, 1.3, 1.5, 2.5])
def test_legend_renders_at_fractional_scales(scale):
    image = legend_image("Đặc khu", ENTRIES, scale=scale)
    assert image.size[0] == pytest.approx(legend_image("Đặc khu", ENTRIES).size[0] * scale,
                                          abs=3)


def test_legend_without_title_or_entries_still_renders():
    assert legend_image("", ENTRIES[:1]).size[1] < legend_image("Tiêu đề", ENTRIES[:1]).size[1]
    assert decode(legend_png("Chú giải", [])).shape[0] > 10


def test_legend_rejects_an_unknown_geometry_kind():
    with pytest.raises(ValueError, match="polygon"):
        legend_png("Chú giải", [("Xã", ENTRIES[0][1], "area")])


def test_every_layer_legend_renders_its_class_colours():
    for layer in load_catalog().values():
        entries = style_entries(layer.style, "vi", layer.titles)
        assert len(entries) == max(1, len(layer.style.entries))
        pixels = decode(legend_png(layer.legend_title.get("vi"), entries))
        opaque = [s.fill if k != "line" else s.stroke for _, s, k in entries]
        for colour in opaque:
            if colour is not None and colour[3] == 255:
                assert (pixels == colour).all(axis=-1).any(), (layer.id, colour)
