"""One JSON error shape for every API route, from the one status table in `geoservice.errors`.

Shape: {"code": "InvalidParameter", "description": "…", "status": 400, "parameter": "bbox"}
(`parameter` only when one parameter is at fault). Unknown URLs and methods answer in the
same shape; an unexpected exception is logged with its trace and answered as a 500 that
reveals nothing of the internals. A database that cannot be reached or read (the PostGIS
server down or its connection dropped, the embedded file gone, locked or damaged) is a 503
StoreUnavailable; the broken connection is dropped so the next request connects afresh.
"""

from __future__ import annotations

import logging
import sqlite3

import psycopg
from flask import Flask, current_app, jsonify
from werkzeug.exceptions import HTTPException

from geoservice.errors import GeoserviceError, status_for

LOGGER = logging.getLogger(__name__)


def error_response(code: str, description: str, status: int, parameter: str | None = None):
    """Return the JSON error response."""
    body = {"code": code, "description": description, "status": status}
    if parameter:
        body["parameter"] = parameter
    response = jsonify(body)
    response.status_code = status
    return response


def register(app: Flask) -> None:
    """Install the error handlers on the app."""

    @app.errorhandler(GeoserviceError)
    def domain_error(error: GeoserviceError):
        status = status_for(error)
        if status >= 500:
            LOGGER.error("%s: %s (%s)", error.code, error.message, error.detail)
        response = error_response(error.code, error.message, status, error.parameter)
        if status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="geoservice"'
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        name = "".join(part.capitalize() for part in (error.name or "Error").split())
        response = error_response(name, error.description or error.name, error.code or 500)
        for header, value in error.get_headers():
            if header.lower() != "content-type":
                response.headers[header] = value
        return response

    @app.errorhandler(sqlite3.DatabaseError)
    @app.errorhandler(psycopg.OperationalError)
    @app.errorhandler(psycopg.InterfaceError)
    def store_error(error: Exception):
        if isinstance(error, sqlite3.IntegrityError | sqlite3.ProgrammingError):
            return unexpected(error)
        LOGGER.error("store unavailable: %s: %s", type(error).__name__, error)
        store = current_app.extensions.get("geoservice.store")
        if store is not None:
            try:
                store.close()
            except Exception:  # noqa: BLE001 - closing a broken connection may fail too
                LOGGER.debug("closing the broken store connection failed", exc_info=True)
        return error_response("StoreUnavailable", "The database is unavailable at the "
                              "moment; try again shortly.", 503)

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        LOGGER.exception("unexpected error")
        return error_response("InternalError", "The server met an unexpected error.", 500)
