"""512-pixel PNG tiles: ``/tiles/{layer}/512/{z}/{x}/{y}.png``, as map services' 512-pixel
raster tiles are: tile z/x/y drawn at twice the side, showing what the four 256-pixel tiles
of zoom z+1 beneath it show. A map asks a quarter as many of them (Leaflet's
``tileSize: 512, zoomOffset: -1``); the map page draws its place names so.

Each quarter is the layer's own tile (drawn, cached and access-checked as such), so a
name placed across a tile border joins up; the pasted image is kept in the tile cache
under the layer's data version.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from geoservice.api.tiles import TileRequest, TileResult, _cache_key, _result, tile
from geoservice.errors import InvalidParameter
from geoservice.layers.versions import layer_data_version
from geoservice.render.png import stitch
from geoservice.tilemath import MAX_ZOOM

if TYPE_CHECKING:
    from geoservice.services import Services

LARGE_TILE = 512


def large_tile(request: TileRequest) -> TileRequest:
    """The request (a validated ``<y>.png`` tile) as a 512-pixel tile."""
    if request.fmt != "png":
        raise InvalidParameter("512-pixel tiles are PNG: <y>.png.", parameter="y")
    if request.z >= MAX_ZOOM:
        raise InvalidParameter(f"512-pixel tiles go up to zoom {MAX_ZOOM - 1}.",
                               parameter="z")
    return dataclasses.replace(request, size=LARGE_TILE)


def stitched(services: Services, request: TileRequest) -> TileResult:
    """A 512-pixel tile: the four tiles of zoom z+1 beneath it, pasted into one image
    (`geoservice.render.png.stitch`) and kept (not while a quarter is a previous data
    version's tile being drawn again, nor for analysis layers, whose results have their
    own versions)."""
    analysis = request.layer.source.analysis is not None
    key = None if analysis else _cache_key(
        request, layer_data_version(services.store, request.layer),
        {**request.layer.params, "record_year": request.record_year,
         "scale": request.scale, "size": LARGE_TILE})
    data = services.tile_cache.get(*key) if key else None
    if data is not None:
        return _result(request, data)
    small = dataclasses.replace(request, size=256, z=request.z + 1)
    results = [tile(services, dataclasses.replace(small, x=2 * request.x + dx,
                                                  y=2 * request.y + dy))
               for dy in (0, 1) for dx in (0, 1)]
    data = stitch([r.data for r in results])
    stale = any(r.stale for r in results)
    if key and not stale:
        services.tile_cache.put(*key, data)
    return _result(request, data, stale=stale)
