"""Seeding the tile cache and exporting a layer's tiles for offline use.

`geoservice.tilemath.tile_range` lists the tiles of a bounding box; `seed` renders them
into the service's cache (so the first officials to open the map get cached tiles);
`export_mbtiles` and `export_pmtiles` write them into one file that other systems (or
nginx, for PMTiles) serve without us. Empty tiles are left out of the files.
"""

from __future__ import annotations

import gzip
import json
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from geoservice import params as P
from geoservice.api.context import VIETNAM_BOUNDS, RequestContext
from geoservice.api.tiles import TileRequest, tile
from geoservice.errors import InvalidParameter
from geoservice.layers.definition import LayerDef
from geoservice.layers.fields import tile_field_types
from geoservice.layers.params import layer_for
from geoservice.tilemath import MAX_ZOOM, count_tiles, tile_range

if TYPE_CHECKING:
    from geoservice.services import Services


@dataclass(frozen=True)
class TileJob:
    """The tiles of one layer to seed or export: an area of the map at some zooms."""

    layer: LayerDef
    fmt: str  # "mvt" or "png"
    bbox: tuple[float, float, float, float]
    low: int
    high: int
    area: str | None = None  # a province reader's province

    def tiles(self) -> Iterator[tuple[int, int, int]]:
        """Every tile (z, x, y) of the job."""
        return tile_range(self.bbox, self.low, self.high)

    def count(self) -> int:
        """How many tiles `tiles` yields."""
        return count_tiles(self.bbox, self.low, self.high)


def parse_zooms(text: str) -> tuple[int, int]:
    """Parse 'a-b' or 'a' into a zoom range within 0-22."""
    parts = text.split("-")
    try:
        low, high = (int(parts[0]), int(parts[-1])) if len(parts) <= 2 else (None, None)
    except ValueError:
        low = high = None
    if low is None or not 0 <= low <= high <= MAX_ZOOM:
        raise InvalidParameter("zooms must be 'a-b' with 0 <= a <= b <= 22, e.g. 5-10.",
                               parameter="zooms")
    return low, high


def tile_job(ctx: RequestContext, layer_id: str, args: Mapping[str, str], zooms: str,
             bbox: str | None, fmt: str) -> TileJob:
    """The job of seeding or exporting `layer_id` (for the layer parameters `args`)."""
    layer, decision, _year = layer_for(ctx.catalog, layer_id, args, ctx.principal)
    box = P.bbox(bbox) if bbox else DEFAULT_BBOX
    low, high = parse_zooms(zooms)
    return TileJob(layer, fmt, box, max(low, layer.minzoom), min(high, layer.maxzoom),
                   decision.province_code)


def render_all(services: Services, job: TileJob,
               progress: Callable[[int], None] | None = None
               ) -> Iterator[tuple[int, int, int, bytes]]:
    """Render (or take from the cache) each tile; yields (z, x, y, bytes)."""
    for z, x, y in job.tiles():
        request = TileRequest(job.layer, z, x, y, job.fmt, area=job.area)
        yield z, x, y, tile(services, request).data
        if progress:
            progress(1)


def export_mbtiles(path: Path, job: TileJob,
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
        meta = _metadata(job)
        conn.executemany("INSERT INTO metadata VALUES (?, ?)", meta.items())
    conn.close()
    partial.replace(path)
    return written


def export_pmtiles(path: Path, job: TileJob,
                   tiles: Iterator[tuple[int, int, int, bytes]]) -> int:
    """Write tiles into a PMTiles v3 archive as the specification asks: ordered by tile id,
    vector tiles gzip-compressed (and the header saying so), the metadata a JSON object
    whose `vector_layers` lists the layer and its fields."""
    from pmtiles.tile import Compression, TileType, zxy_to_tileid
    from pmtiles.writer import Writer

    vector = job.fmt == "mvt"
    collected = sorted((zxy_to_tileid(z, x, y), gzip.compress(data, mtime=0) if vector
                        else data) for z, x, y, data in tiles if data)
    partial = path.with_suffix(".partial")
    with open(partial, "wb") as out:
        writer = Writer(out)
        for tile_id, data in collected:
            writer.write_tile(tile_id, data)
        west, south, east, north = job.bbox
        low, high = job.low, job.high
        writer.finalize({
            "tile_type": TileType.MVT if vector else TileType.PNG,
            "tile_compression": Compression.GZIP if vector else Compression.NONE,
            "min_zoom": low, "max_zoom": high,
            "min_lon_e7": int(west * 1e7), "min_lat_e7": int(south * 1e7),
            "max_lon_e7": int(east * 1e7), "max_lat_e7": int(north * 1e7),
            "center_zoom": low, "center_lon_e7": int((west + east) / 2 * 1e7),
            "center_lat_e7": int((south + north) / 2 * 1e7),
        }, _pmtiles_metadata(job))
    partial.replace(path)
    return len(collected)


def _metadata(job: TileJob) -> dict:
    layer, fmt, low, high, bbox = job.layer, job.fmt, job.low, job.high, job.bbox
    meta = {"name": layer.id, "description": layer.title("vi"), "format":
            "pbf" if fmt == "mvt" else "png", "minzoom": str(low), "maxzoom": str(high),
            "bounds": ",".join(str(v) for v in bbox), "type": "overlay", "version": "1"}
    if fmt == "mvt":  # MBTiles keeps the vector layers as a JSON text
        meta["json"] = json.dumps({"vector_layers": _vector_layers(job)}, ensure_ascii=False)
    return meta


def _pmtiles_metadata(job: TileJob) -> dict:
    """PMTiles metadata: one JSON object, `vector_layers` as an array (not a text)."""
    layer = job.layer
    meta = {"name": layer.id, "description": layer.title("vi"), "type": "overlay",
            "version": "1", "attribution": "geoservice"}
    if job.fmt == "mvt":
        meta["vector_layers"] = _vector_layers(job)
    return meta


def _vector_layers(job: TileJob) -> list[dict]:
    layer = job.layer
    return [{"id": layer.id, "description": layer.title("en"), "minzoom": job.low,
             "maxzoom": job.high, "fields": tile_field_types(layer)}]


DEFAULT_BBOX = VIETNAM_BOUNDS
