"""Domain exceptions (no HTTP here) and the one table that maps them to HTTP statuses.

Views never pick status codes by hand: they raise these, and `geoservice.web.errors`
turns any of them into the one JSON error shape (API) or an HTML page (UI) using
`STATUS_CODES`. The message given to the exception is written for the user; details
for the log go in `detail`; `headers` are what the client needs to act on it besides the
message (when to try again: ``Retry-After``), added to the answer as they are.

Errors of the libraries the web layer uses (Flask-WTF's CSRF check, Flask-Limiter's
limits) are translated into `CsrfRejected` and `RateLimited` in one place
(`geoservice.web.guard`), so they too are answered from this table.
"""

from __future__ import annotations

from collections.abc import Mapping


class GeoserviceError(Exception):
    """Base of every error the service reports on purpose."""

    code = "error"

    def __init__(self, message: str, *, detail: str | None = None, parameter: str | None = None,
                 headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.parameter = parameter
        self.headers: dict[str, str] = dict(headers or {})


class InvalidParameter(GeoserviceError):
    """A request or command parameter is malformed or out of range."""

    code = "InvalidParameter"


class ContentRejected(InvalidParameter):
    """The request is well formed but what it carries cannot be accepted: an uploaded file
    with more rows than are read, a workbook over the unpacked-size limit (a row-level
    error report is the importer's own 422)."""

    code = "UnprocessableContent"


class Unauthorized(GeoserviceError):
    """The request needs an authenticated user or API key."""

    code = "Unauthorized"


class Forbidden(GeoserviceError):
    """The principal may not read this."""

    code = "Forbidden"


class NotFound(GeoserviceError):
    """The named collection, feature or unit does not exist."""

    code = "NotFound"


class CollectionNotFound(NotFound):
    """No collection has that id."""

    code = "CollectionNotFound"


class FeatureNotFound(NotFound):
    """The collection has no feature with that id."""

    code = "FeatureNotFound"


class DataConflict(GeoserviceError):
    """What was to be written clashes with itself or with what is stored (e.g. a duplicate id)."""

    code = "DataConflict"


class DataNotBuilt(GeoserviceError):
    """The boundary data has not been built into the instance folder yet."""

    code = "DataNotBuilt"


class SourceMissing(GeoserviceError):
    """A registry package that the data build reads is not installed."""

    code = "SourceMissing"


class ConfigError(GeoserviceError):
    """A configuration value is missing or invalid."""

    code = "ConfigError"


class StoreUnavailable(GeoserviceError):
    """The database behind the store cannot be reached."""

    code = "StoreUnavailable"


class CsrfRejected(GeoserviceError):
    """A state-changing request from a browser session carries no valid CSRF token."""

    code = "CSRFError"


class RateLimited(GeoserviceError):
    """The caller has used up a rate limit; `Retry-After` says when to try again."""

    code = "TooManyRequests"

    def __init__(self, limit: str, retry_after: int):
        super().__init__(f"Too many requests: at most {limit}. Wait a little and try again.",
                         headers={"Retry-After": str(max(1, retry_after))})


class AnalysisNotReady(GeoserviceError):
    """The analysis a request needs is still being computed (or failed) and none is older.

    Raised by `geoservice.hotspots.runs` (which re-exports it) with the run to follow.
    """

    code = "AnalysisNotReady"

    def __init__(self, run, retry_after: int):  # run: a geoservice.hotspots.runs.Run
        state = (f"failed: {run.error}" if run.status == "failed"
                 else f"{run.status} ({run.percent} %, {run.stage})")
        super().__init__(f"The analysis is not ready: {state}. Follow it at "
                         f"/analyses/runs/{run.id}.",
                         headers={"Retry-After": str(retry_after),
                                  "X-Analysis-Status": run.status})
        self.run = run


STATUS_CODES: dict[type[GeoserviceError], int] = {
    InvalidParameter: 400,
    ContentRejected: 422,
    Unauthorized: 401,
    Forbidden: 403,
    CollectionNotFound: 404,
    FeatureNotFound: 404,
    NotFound: 404,
    CsrfRejected: 400,
    DataConflict: 409,
    RateLimited: 429,
    DataNotBuilt: 503,
    StoreUnavailable: 503,
    AnalysisNotReady: 503,
    SourceMissing: 500,
    ConfigError: 500,
    GeoserviceError: 500,
}


def status_for(error: GeoserviceError) -> int:
    """Return the HTTP status for a domain error: the entry of its nearest class."""
    for cls in type(error).__mro__:
        if cls in STATUS_CODES:
            return STATUS_CODES[cls]
    return 500


class CatalogError(ConfigError):
    """The layer files in layers/ are invalid; `problems` lists every message (file: key: ...)."""

    code = "CatalogError"

    def __init__(self, problems: list[str] | tuple[str, ...]):
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))
