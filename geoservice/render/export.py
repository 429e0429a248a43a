"""Seeding the tile cache and exporting a layer's tiles for offline use.

`geoservice.tilemath.tile_range` lists the tiles of a bounding box; `seed` renders them
into the service's cache (so the first officials to open the map get cached tiles);
`export_mbtiles` and `export_pmtiles` write them into one file that other systems (or
nginx, for PMTiles) serve without us. Empty tiles are left out of the files.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

from geoservice.api.tiles import VIETNAM_BOUNDS, TileRequest, tile
from geoservice.errors import InvalidParameter


def parse_zooms(text: str) -> tuple[int, int]:
    """Parse 'a-b' or 'a' into a zoom range within 0-22."""
    parts = text.split("-")
    try:
        low, high = (int(parts[0]), int(parts[-1])) if len(parts) <= 2 else (None, None)
    except ValueError:
        low = high = None
    if low is None or not 0 <= low <= high <= 22:
        raise InvalidParameter("zooms must be 'a-b' with 0 <= a <= b <= 22, e.g. 5-10.",
                               parameter="zooms")
    return low, high


def render_all(store, sources, cache, layer, decision, tiles, fmt: str,
               progress: Callable[[int], None] | None = None
               ) -> Iterator[tuple[int, int, int, bytes]]:
    """Render (or take from the cache) each tile; yields (z, x, y, bytes)."""
    for z, x, y in tiles:
        request = TileRequest(layer, z, x, y, fmt, 1, None)
        yield z, x, y, tile(store, sources, cache, request, decision).data
        if progress:
            progress(1)


def export_mbtiles(path: Path, layer, fmt: str, bbox, low: int, high: int,
                   tiles: Iterator[tuple[int, int, int, bytes]]) -> int:
    """Write tiles into an MBTiles 1.3 file (written aside, then moved into place)."""
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    conn = sqlite3.connect(partial)
    conn.executescript("CREATE TABLE metadata (name TEXT, value TEXT);"
                       "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, "
                       "tile_row INTEGER, tile_data BLOB);"
                       "CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, "
                       "tile_row);")
    written = 0
    with conn:
        for z, x, y, data in tiles:
            if data:
                conn.execute("INSERT INTO tiles VALUES (?, ?, ?, ?)",
                             (z, x, 2**z - 1 - y, data))  # MBTiles rows count from the south
                written += 1
        meta = _metadata(layer, fmt, bbox, low, high)
        conn.executemany("INSERT INTO metadata VALUES (?, ?)", meta.items())
    conn.close()
    partial.replace(path)
    return written


def export_pmtiles(path: Path, layer, fmt: str, bbox, low: int, high: int,
                   tiles: Iterator[tuple[int, int, int, bytes]]) -> int:
    """Write tiles into a PMTiles v3 archive (ordered by tile id, as the format wants)."""
    from pmtiles.tile import Compression, TileType, zxy_to_tileid
    from pmtiles.writer import Writer

    collected = sorted((zxy_to_tileid(z, x, y), data) for z, x, y, data in tiles if data)
    partial = path.with_suffix(".partial")
    with open(partial, "wb") as out:
        writer = Writer(out)
        for tile_id, data in collected:
            writer.write_tile(tile_id, data)
        west, south, east, north = bbox
        writer.finalize({
            "tile_type": TileType.MVT if fmt == "mvt" else TileType.PNG,
            "tile_compression": Compression.NONE,
            "min_zoom": low, "max_zoom": high,
            "min_lon_e7": int(west * 1e7), "min_lat_e7": int(south * 1e7),
            "max_lon_e7": int(east * 1e7), "max_lat_e7": int(north * 1e7),
            "center_zoom": low, "center_lon_e7": int((west + east) / 2 * 1e7),
            "center_lat_e7": int((south + north) / 2 * 1e7),
        }, _metadata(layer, fmt, bbox, low, high))
    partial.replace(path)
    return len(collected)


def _metadata(layer, fmt: str, bbox, low: int, high: int) -> dict:
    meta = {"name": layer.id, "description": layer.title("vi"), "format":
            "pbf" if fmt == "mvt" else "png", "minzoom": str(low), "maxzoom": str(high),
            "bounds": ",".join(str(v) for v in bbox), "type": "overlay", "version": "1"}
    if fmt == "mvt":
        meta["json"] = json.dumps({"vector_layers": [{"id": layer.id, "fields": {
            name: "String" for name in layer.fields}}]}, ensure_ascii=False)
    return meta


DEFAULT_BBOX = VIETNAM_BOUNDS
