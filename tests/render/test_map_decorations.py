"""Scale bar and north arrow: round lengths, Vietnamese labels, pixel lengths on the image."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from geoservice.render.map_decorations import (
    draw_north_arrow,
    draw_scale_bar,
    format_km,
    nice_length_km,
    scale_bar_length,
)


@pytest.mark.parametrize(("longest", "nice"), [(2.5, 2), (7.9, 5), (0.7, 0.5), (10, 10),
                                                (1, 1), (0.013, 0.01), (199, 100)])
def test_nice_lengths_are_1_2_5_times_a_power_of_ten(longest, nice):
    assert nice_length_km(longest) == pytest.approx(nice)


def test_scale_bar_length_needs_a_positive_length():
    with pytest.raises(ValueError):
        nice_length_km(0)


@pytest.mark.parametrize(("km", "text"), [(0.5, "0,5 km"), (2, "2 km"), (1000, "1.000 km"),
                                          (0.05, "0,05 km"), (20, "20 km")])
def test_lengths_are_labelled_the_vietnamese_way(km, text):
    assert format_km(km) == text


def test_scale_bar_length_in_pixels_matches_metres_per_pixel():
    assert scale_bar_length(10.0, 250) == (pytest.approx(2.0), pytest.approx(200.0))
    km, pixels = scale_bar_length(37.0, 150)
    assert km == pytest.approx(5) and pixels == pytest.approx(5000 / 37)


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_drawn_scale_bar_spans_its_length(mode):
    image = Image.new(mode, (400, 200), "white")
    length = draw_scale_bar(image, 25.0, origin=(40, 180), longest_px=300)
    assert length == pytest.approx(200)  # 7.5 km fits, 5 km = 200 px
    row = np.asarray(image.convert("RGB"))[180].astype(int).sum(axis=-1)
    dark = np.flatnonzero(row < 200)
    assert abs(dark.min() - 40) <= 1 and abs(dark.max() - 240) <= 1
    label = np.asarray(image.convert("L"))[150:176, 120:160]
    assert label.min() < 100  # "5 km" is written over the middle of the bar


def test_north_arrow_is_drawn_below_its_label():
    image = Image.new("RGB", (100, 100), "white")
    draw_north_arrow(image, (50, 5), height=60)
    pixels = np.asarray(image.convert("L"))
    assert pixels[5:18, 40:60].min() < 100  # the "B"
    assert pixels[55:70, 44:49].max() < 100  # the dark half of the needle
    assert pixels[60:70, 52:56].min() > 200  # the white half
    assert pixels[:, :25].min() == 255  # nothing drawn far to the side
