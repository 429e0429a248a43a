"""Strict decoding of the API's responses."""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from urllib.parse import parse_qs, urlsplit

import shapely.geometry

from geoservice.services import of as services_of

BASE = "http://localhost"
ERROR_KEYS = {"code", "description", "status"}


def _no_constants(name):
    raise ValueError(f"non-standard JSON constant {name} in a response")


def decode(response, status: int = 200, content_type: str | None = None):
    """Assert the status, decode the body as strict JSON (no NaN/Infinity) and return it."""
    body = response.get_data()
    assert response.status_code == status, (response.status_code, body[:500])
    if content_type is not None:
        assert response.mimetype == content_type, response.content_type
    return json.loads(body.decode("utf-8"), parse_constant=_no_constants)


def get(client, url: str, status: int = 200, content_type: str | None = None):
    """GET `url` (absolute links of the API are accepted) and decode it."""
    parts = urlsplit(url)
    if parts.scheme:
        assert f"{parts.scheme}://{parts.netloc}" == BASE, url
        url = parts.path + (f"?{parts.query}" if parts.query else "")
    return decode(client.get(url), status, content_type)


def link(body: dict, rel: str) -> str | None:
    """Return the href of the link with `rel`, or None."""
    hrefs = [entry["href"] for entry in body.get("links", []) if entry["rel"] == rel]
    assert len(hrefs) <= 1, f"several '{rel}' links"
    return hrefs[0] if hrefs else None


def assert_error(body: dict, status: int, code: str | None = None, parameter: str | None = None):
    """Check the one JSON error shape."""
    assert ERROR_KEYS <= set(body) <= ERROR_KEYS | {"parameter"}, body
    assert body["status"] == status
    assert isinstance(body["code"], str) and body["code"]
    assert isinstance(body["description"], str) and body["description"]
    if code is not None:
        assert body["code"] == code, body
    if parameter is not None:
        assert body.get("parameter") == parameter, body


def geometry(feature: dict):
    """Parse a GeoJSON Feature's geometry with shapely and check it is valid."""
    geom = shapely.geometry.shape(feature["geometry"])
    assert geom.is_valid, feature["id"]
    assert not geom.is_empty, feature["id"]
    return geom


class Server:
    """The app behind werkzeug's threaded server, with a log of (method, path, query, status)."""

    def __init__(self, app):
        from werkzeug.serving import make_server

        self.requests: list[tuple[str, str, dict, int]] = []
        self._lock = threading.Lock()
        inner = app.wsgi_app

        def recording(environ, start_response):
            def start(status, headers, exc_info=None):
                with self._lock:
                    self.requests.append((environ["REQUEST_METHOD"], environ["PATH_INFO"],
                                          parse_qs(environ.get("QUERY_STRING", "")),
                                          int(status.split()[0])))
                return start_response(status, headers, exc_info)

            return inner(environ, start)

        app.wsgi_app = recording
        self.httpd = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def clear(self):
        with self._lock:
            self.requests.clear()

    def failures(self):
        return [r for r in self.requests if r[3] >= 400]


@contextlib.contextmanager
def serving(loaded_db, instance, **config):
    """The app on a copy of the fixture store, served on a loopback port while in use."""
    from geoservice import create_app

    quiet = logging.getLogger("werkzeug")
    level = quiet.level
    quiet.setLevel(logging.WARNING)  # one access-log line per request is just noise
    from tests.conftest import _copy_database

    _copy_database(loaded_db, instance / "geoservice.sqlite")
    app = create_app({"INSTANCE_PATH": str(instance), **config})
    running = Server(app)
    running.thread.start()
    try:
        yield running
    finally:
        running.httpd.shutdown()
        running.thread.join(10)
        services_of(app).store.close()
        quiet.setLevel(level)
