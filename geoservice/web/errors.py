"""Every error answered in one place, from the one status table in `geoservice.errors`.

API routes answer the one JSON error shape:
{"code": "InvalidParameter", "description": "…", "status": 400, "parameter": "bbox"}
(`parameter` only when one parameter is at fault). Routes that draw an HTML page answer
the one HTML error page instead (``templates/error.html``): the same message and status,
in the page's language. Which routes those are is declared, as access is: a view marked
`@html_errors` (optionally only `when` a test on the request holds, e.g. a report's
``.html`` preview), or one line in `PAGE_ENDPOINTS` for views declared here centrally.
Every other route, and every URL that matches no route, answers JSON whatever the client
accepts (scripts, GDAL and QGIS send ``Accept: */*`` or nothing).

The error's `headers` (``Retry-After`` …) are added to the answer; a 401 says how to
authenticate. Unknown URLs and methods answer in the same shapes; an unexpected exception
is logged with its trace and answered as a 500 that reveals nothing of the internals. A
database that cannot be reached or read (the PostGIS server down or its connection
dropped, the embedded file gone, locked or damaged) is a 503 StoreUnavailable with
``Retry-After``; the broken connection is dropped so the next request connects afresh.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Mapping

import psycopg
from flask import Flask, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from geoservice import services
from geoservice.errors import GeoserviceError, StoreUnavailable, status_for
from geoservice.i18n import request_language

LOGGER = logging.getLogger(__name__)
ATTRIBUTE = "geoservice_html_errors"
TEMPLATE = "error.html"
# What the page could not show, by blueprint: the heading of its error page.
STORE_RETRY_AFTER = "5"  # seconds: the next request connects afresh
PAGE_KINDS = {"mappage": "map", "viewer": "map", "features": "map", "reports": "report",
              "auth": "sign-in"}


def wants_html() -> bool:
    """True when the client prefers an HTML page to JSON (a browser, not a script)."""
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) \
        == "text/html"


def _landing_is_the_map() -> bool:
    """`/` draws the map page for `?f=html` or a browser (`geoservice.web.features`)."""
    fmt = request.args.get("f")
    return fmt == "html" or (fmt is None and wants_html())


def _report_preview() -> bool:
    return (request.view_args or {}).get("fmt") == "html"


def _always() -> bool:
    return True


# Page routes of modules that do not declare it themselves (yet): endpoint -> when.
PAGE_ENDPOINTS: dict[str, Callable[[], bool]] = {
    "mappage.map_view": _always,
    "features.landing": _landing_is_the_map,
    "viewer.viewer": _always,
    "reports.report": _report_preview,
}


def html_errors(view: Callable | None = None, *, when: Callable[[], bool] | None = None):
    """Declare that a route draws an HTML page, so its errors are the HTML error page
    (always, or only `when` the test holds for the request). Use as `@html_errors` or
    `@html_errors(when=wants_html)`."""
    def mark(func: Callable) -> Callable:
        setattr(func, ATTRIBUTE, when or _always)
        return func

    return mark(view) if view is not None else mark


def answers_html() -> bool:
    """The one rule: does the route of this request answer its errors as an HTML page?"""
    endpoint = request.endpoint
    if endpoint is None:  # no route matched: unknown URL or method
        return False
    view = current_app.view_functions.get(endpoint)
    when = getattr(view, ATTRIBUTE, None) or PAGE_ENDPOINTS.get(endpoint)
    return when is not None and when()


def error_response(code: str, description: str, status: int, parameter: str | None = None):
    """Return the JSON error response."""
    body = {"code": code, "description": description, "status": status}
    if parameter:
        body["parameter"] = parameter
    response = jsonify(body)
    response.status_code = status
    return response


def error_page(code: str, message: str, status: int) -> Response:
    """Return the HTML error page (the route's kind of page decides its heading)."""
    html = render_template(TEMPLATE, lang=request_language(), status=status, code=code,
                           message=message, page=PAGE_KINDS.get(request.blueprint or ""),
                           next=_return_to())
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def _return_to() -> str | None:
    """Where the sign-in link of the page returns to: the form's `next`, else the page."""
    try:
        given = request.values.get("next")
    except HTTPException:  # the body itself is the error (too large): not read again
        given = None
    return given or (request.full_path.rstrip("?") if request.method == "GET" else None)


def answer(code: str, message: str, status: int, parameter: str | None = None,
           headers: Mapping[str, str] | None = None) -> Response:
    """The answer to an error: the HTML page on page routes, else the JSON shape."""
    if answers_html():
        response = error_page(code, message, status)
    else:
        response = error_response(code, message, status, parameter)
    for header, value in (headers or {}).items():
        response.headers[header] = value
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="geoservice"'
    return response


def answer_error(error: GeoserviceError) -> Response:
    """The answer to a domain error: its status from the table, its message and headers."""
    status = status_for(error)
    if status >= 500:  # an answer saying when to try again is expected, not a fault
        LOGGER.log(logging.INFO if "Retry-After" in error.headers else logging.ERROR,
                   "%s: %s (%s)", error.code, error.message, error.detail)
    return answer(error.code, error.message, status, error.parameter, error.headers)


def answer_http(error: HTTPException) -> Response:
    """The answer to werkzeug's own errors (404, 405, 413 …), in the same shapes."""
    name = "".join(part.capitalize() for part in (error.name or "Error").split())
    headers = {header: value for header, value in error.get_headers()
               if header.lower() != "content-type"}
    return answer(name, error.description or error.name, error.code or 500, headers=headers)


def store_unavailable(error: StoreUnavailable) -> Response:
    """A store that cannot be reached (raised by a store or found by `register`'s handler):
    503 with ``Retry-After``, since the next request connects afresh."""
    error.headers.setdefault("Retry-After", STORE_RETRY_AFTER)
    return answer_error(error)


def register(app: Flask) -> None:
    """Install the error handlers on the app."""
    app.register_error_handler(GeoserviceError, answer_error)
    app.register_error_handler(StoreUnavailable, store_unavailable)

    app.register_error_handler(HTTPException, answer_http)

    @app.errorhandler(sqlite3.DatabaseError)
    @app.errorhandler(psycopg.OperationalError)
    @app.errorhandler(psycopg.InterfaceError)
    def store_error(error: Exception):
        if isinstance(error, sqlite3.IntegrityError | sqlite3.ProgrammingError):
            return unexpected(error)
        _drop_connection()
        LOGGER.warning("the store failed, connection dropped: %s: %s",
                       type(error).__name__, error)
        return store_unavailable(StoreUnavailable(
            "The database is unavailable at the moment; try again shortly.",
            detail=f"{type(error).__name__}: {error}"))

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        LOGGER.exception("unexpected error")
        return answer("InternalError", "The server met an unexpected error.", 500)


def _drop_connection() -> None:
    """Close the store's broken connection, so that the next request connects afresh."""
    found = current_app.extensions.get(services.EXTENSION)
    if found is None:
        return
    try:
        found.store.close()
    except Exception:  # noqa: BLE001 - closing a broken connection may fail too
        LOGGER.debug("closing the broken store connection failed", exc_info=True)
