"""The API's view of the request being served, for every blueprint."""

from __future__ import annotations

from flask import g, request

from geoservice import services
from geoservice.api.context import RequestContext


def base_url() -> str:
    """The service's base URL as the caller reached it (no trailing slash)."""
    return request.url_root.rstrip("/")


def context() -> RequestContext:
    """The app's services, the base URL and the caller of this request."""
    return RequestContext(services.current(), base_url(), g.principal)
