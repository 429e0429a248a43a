"""One JSON error shape for every API route, from the one status table in `geoservice.errors`.

Shape: {"code": "InvalidParameter", "description": "…", "status": 400, "parameter": "bbox"}
(`parameter` only when one parameter is at fault). Unknown URLs and methods answer in the
same shape; an unexpected exception is logged with its trace and answered as a 500 that
reveals nothing of the internals.
"""

from __future__ import annotations

import logging

from flask import Flask, jsonify
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

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        LOGGER.exception("unexpected error")
        return error_response("InternalError", "The server met an unexpected error.", 500)
