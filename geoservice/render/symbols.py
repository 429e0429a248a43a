"""How one feature is drawn: the symbol a layer's style gives it.

The same `Symbol` drives the PNG tiles, the legend images, the printed report maps and
(translated into paint properties) the MapLibre styles, so screen and paper agree.
"""

from __future__ import annotations

from dataclasses import dataclass

RGBA = tuple[int, int, int, int]


@dataclass(frozen=True)
class Symbol:
    """Fill, outline and marker of one feature; colours are RGBA 0-255, sizes CSS pixels."""

    fill: RGBA | None = None
    stroke: RGBA | None = None
    stroke_width: float = 1.0
    radius: float = 0.0  # point marker radius; 0 for polygons and lines
    dash: tuple[float, ...] | None = None  # stroke dash pattern, CSS pixels


def parse_colour(text: str, opacity: float = 1.0) -> RGBA:
    """Return RGBA from '#rgb', '#rrggbb' or '#rrggbbaa' times an opacity (0-1)."""
    value = text.strip().lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    if len(value) not in (6, 8) or any(c not in "0123456789abcdefABCDEF" for c in value):
        raise ValueError(f"not a colour: {text!r} (expected #rrggbb)")
    channels = [int(value[i:i + 2], 16) for i in range(0, len(value), 2)]
    alpha = channels[3] if len(channels) == 4 else 255
    return (channels[0], channels[1], channels[2], round(alpha * opacity))
