"""Public tiles answered from their files, before the web framework (as nginx does).

A public layer's tile at its versioned URL (``/tiles/v/{version}/{layers}/{z}/{x}/{y}.mvt``,
`geoservice.api.tile_urls`) is immutable, and once drawn the service keeps it in
``<instance>/public-tiles/`` laid out as its URL, for the shipped nginx site to serve
without asking the service. Where no nginx stands in front (``make serve-prod`` alone, a
test), this WSGI middleware does the same: a GET or HEAD of such a URL with no query
string, whose file is there and whose layers are all public, is answered from the file,
without the request going through Flask's routing, sessions, access decision and rate
limits — none of which can change the answer, as nginx's serving the same file shows.
Everything else (a query string, an ``Origin`` header for CORS, a file not drawn yet, an
old version) goes on to the app, which draws, keeps, redirects or refuses.

The answer is the one the app gives for that URL: the same bytes, ETag (a digest of them:
304 on a match), ``Cache-Control: immutable``, security headers and request id; it is
counted in the metrics and written to the request log like any other request.
"""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path

from geoservice import services
from geoservice.api import tile_urls
from geoservice.logs import HEADER, REQUEST_LOGGER, request_id_from
from geoservice.metrics import request_answered
from geoservice.web.security import FIXED_HEADERS, NO_INLINE_POLICY

# As the nginx site's location (deploy/nginx/geoservice.conf) and PublicTiles.path.
PATH = re.compile(r"^/tiles/v/([0-9a-f]{16})/([a-z0-9,-]+)/"
                  r"([0-9]{1,2}/[0-9]{1,7}/[0-9]{1,7}(?:@2x)?\.(mvt|png))\Z")
ROUTE = "/tiles/v/<version>/<layer_id>/<z>/<x>/<name>"  # the app's route: one metric
MEDIA = {"mvt": "application/vnd.mapbox-vector-tile", "png": "image/png"}


class PublicTileFiles:
    """WSGI middleware answering kept public tiles from their files (see the module)."""

    def __init__(self, app, wsgi_app):
        self.app, self.wsgi_app = app, wsgi_app
        self._folder: Path | None | bool = False  # False: not looked up yet

    def folder(self) -> Path | None:
        """The public tile folder (None: tiles are not cached, nothing is kept)."""
        if self._folder is False:
            kept = tile_urls.public_tiles(services.of(self.app))
            self._folder = None if kept is None else kept.root
        return self._folder  # type: ignore[return-value]

    def __call__(self, environ, start_response):
        """Answer a kept public tile from its file; pass anything else to the app."""
        begun = time.perf_counter()
        method = environ.get("REQUEST_METHOD")
        match = (PATH.match(environ.get("PATH_INFO", ""))
                 if method in ("GET", "HEAD") and not environ.get("QUERY_STRING")
                 and "HTTP_ORIGIN" not in environ else None)
        data = self._kept(match) if match else None
        if data is None:
            return self.wsgi_app(environ, start_response)
        etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
        unchanged = environ.get("HTTP_IF_NONE_MATCH") == etag
        status = 304 if unchanged else 200
        request_id = request_id_from(environ.get("HTTP_X_REQUEST_ID"))
        headers = [("Cache-Control", tile_urls.IMMUTABLE), ("ETag", etag),
                   (HEADER, request_id), ("Content-Security-Policy", NO_INLINE_POLICY),
                   *FIXED_HEADERS]
        if not unchanged:
            headers += [("Content-Type", MEDIA[match.group(4)]),
                        ("Content-Length", str(len(data)))]
        allowed = self.app.config["GEOSERVICE_CORS_ORIGINS"].split()
        if allowed and "*" not in allowed:
            headers.append(("Vary", "Origin"))
        start_response("304 NOT MODIFIED" if unchanged else "200 OK", headers)
        seconds = time.perf_counter() - begun
        request_answered(ROUTE, method, status, seconds)
        if self.app.config["GEOSERVICE_REQUEST_LOG"]:
            path, duration = environ["PATH_INFO"], round(seconds * 1000, 1)
            REQUEST_LOGGER.info("%s %s %s %.1f ms %s", method, path, status, duration,
                                "unchecked", extra={
                                    "method": method, "path": path, "status": status,
                                    "duration_ms": duration, "principal": "unchecked",
                                    "request_id": request_id})
        return [] if unchanged or method == "HEAD" else [data]

    def _kept(self, match) -> bytes | None:
        """The kept file's bytes, when the URL's layers are all public and it is there."""
        folder = self.folder()
        if folder is None:
            return None
        catalog = services.of(self.app).catalog
        layers = match.group(2).split(",")
        if not all(i in catalog and tile_urls.versioned(catalog[i]) for i in layers):
            return None
        try:
            return (folder / match.group(2) / match.group(1) / match.group(3)).read_bytes()
        except OSError:  # not drawn yet (or being replaced): the app answers
            return None
