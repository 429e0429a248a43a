"""PNG tiles from MapServer 8 (Debian's python3-mapscript), for bench/peer_mapserver.py.

Run with Debian's Python (``/usr/bin/python3 bench/mapserver_tiles.py MAPFILE PORT``): the
mapfile is loaded once and kept warm; ``GET /{layer}/{z}/{x}/{y}.png`` switches that layer
on, sets the tile's Web Mercator extent and draws 256 × 256 px. One request at a time, as the
benchmark asks. Standard library and mapscript only: it does not import the service.
"""

from __future__ import annotations

import math
import re
import sys
from wsgiref.simple_server import WSGIRequestHandler, make_server

import mapscript

HALF = math.pi * 6378137
TILE = re.compile(r"^/([\w-]+)/(\d+)/(\d+)/(\d+)\.png$")


def bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """The Web Mercator bounds (m) of tile z/x/y."""
    size = 2 * HALF / 2 ** z
    return -HALF + x * size, HALF - (y + 1) * size, -HALF + (x + 1) * size, HALF - y * size


def make_app(mapfile: str):
    """The WSGI app drawing the mapfile's layers as tiles."""
    drawing = mapscript.mapObj(mapfile)
    names = [drawing.getLayer(i).name for i in range(drawing.numlayers)]

    def app(environ, start_response):
        match = TILE.match(environ.get("PATH_INFO", ""))
        if environ.get("PATH_INFO") == "/":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok"]
        if not match or match.group(1) not in names:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        layer, z, x, y = match.group(1), *map(int, match.groups()[1:])
        for i, name in enumerate(names):
            drawing.getLayer(i).status = mapscript.MS_ON if name == layer else mapscript.MS_OFF
        drawing.setSize(256, 256)
        drawing.setExtent(*bounds(z, x, y))
        body = drawing.draw().getBytes()
        start_response("200 OK", [("Content-Type", "image/png"),
                                  ("Content-Length", str(len(body)))])
        return [body]

    return app


class Quiet(WSGIRequestHandler):
    """A request handler that logs nothing (one line per tile is noise)."""

    def log_message(self, *args):
        """Log nothing."""


if __name__ == "__main__":
    make_server("127.0.0.1", int(sys.argv[2]), make_app(sys.argv[1]),
                handler_class=Quiet).serve_forever()
