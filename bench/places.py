"""The fixed tiles the benchmark requests: zooms 5–14 around fixed places of Vietnam."""

from __future__ import annotations

import math

# Border, delta, capital and coast: dense and sparse communes, all three borders.
PLACES = {
    "Lũng Cú (CN border)": (105.316, 23.363),
    "Điện Biên Phủ (LA border)": (103.016, 21.386),
    "Móng Cái (CN border, coast)": (107.966, 21.524),
    "Hà Nội": (105.854, 21.029),
    "Huế": (107.585, 16.463),
    "Lao Bảo (LA border)": (106.592, 16.622),
    "TP Hồ Chí Minh": (106.700, 10.776),
    "Hà Tiên (KH border)": (104.488, 10.383),
}
ZOOMS = range(5, 15)


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The Web Mercator tile x, y holding a point at zoom z."""
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    lat_r = math.radians(lat)
    y = int((1 - math.log(math.tan(lat_r) + 1 / math.cos(lat_r)) / math.pi) / 2 * n)
    return x, y


def tile_list(quick: bool = False) -> list[tuple[int, int, int]]:
    """Every tile holding a place at each zoom, with its east and south neighbours."""
    tiles = set()
    places = list(PLACES.values())[: 4 if quick else None]
    for z in ZOOMS:
        for lon, lat in places:
            x, y = tile_of(lon, lat, z)
            tiles.update({(z, x, y), (z, x + 1, y), (z, x, y + 1)})
    return sorted(tiles)


def zoom_group(z: int) -> str:
    """The target's zoom groups: z ≤ 5, z 6–9, z ≥ 10."""
    return "z≤5" if z <= 5 else "z6–9" if z <= 9 else "z≥10"
