"""Helpers for the renderer tests: decode what the renderer returns into pixel arrays."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def decode(png: bytes) -> np.ndarray:
    """Decode PNG bytes (checking the signature) into an RGBA array indexed [y, x]."""
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(png))
    image.load()
    return np.asarray(image.convert("RGBA"))


def over_white(colour: tuple[int, int, int, int]) -> np.ndarray:
    """Return what `colour` looks like composited over white (RGB, 0-255 floats)."""
    rgb, alpha = np.array(colour[:3], float), colour[3] / 255
    return rgb * alpha + 255 * (1 - alpha)
