"""The request guard: who is asking, may they use this route, CSRF, rate limits.

Before every request:

0. refuse NUL characters in the path, query and form (no name, code or id has one);
1. identify the principal — an API key (header X-API-Key or Authorization: Bearer), else
   the signed-in user of the session cookie (checked against the store: the session
   exists, has not expired and its user is still enabled), else anonymous;
2. enforce the route's declared access level (`geoservice.access`); a browser asking for a
   page it may not see without signing in is sent to /login instead of a JSON 401;
3. require a CSRF token on every state-changing request not authenticated by an API key
   (forms carry it as `csrf_token`, scripts send the X-CSRFToken header; /auth/session
   gives it); keys are exempt because a browser never sends them on its own;
4. note the use of an API key in the audit trail (once per key, route kind and minute);
5. count rate limits (sign-in attempts per address; heavy routes per caller) — in Redis
   when RATELIMIT_STORAGE names one, falling back to per-process counters while it is
   down.

Paths are matched as they are (``/a//b`` is no route: the JSON 404, not werkzeug's HTML
redirect). The body is read (NUL check, CSRF token) only once the route admits the caller;
a body over MAX_UPLOAD_MB is a 413, recorded as `import_rejected` on the upload route.

A failed CSRF check and a used-up rate limit are errors of the libraries that find them
(Flask-WTF, Flask-Limiter); `TRANSLATIONS` turns them into `CsrfRejected` (400) and
`RateLimited` (429, with Retry-After), answered by the one error handler
(`geoservice.web.errors`) like every other error: the JSON shape, or the HTML error page
on page routes.
"""

from __future__ import annotations

import functools
import logging
import os
import secrets
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

from flask import Flask, Response, current_app, g, redirect, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter, RateLimitExceeded
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import RequestEntityTooLarge

from geoservice import access, audit, services
from geoservice.access import ANONYMOUS
from geoservice.auth import principal_for
from geoservice.errors import (
    CsrfRejected,
    GeoserviceError,
    InvalidParameter,
    RateLimited,
    Unauthorized,
)
from geoservice.users import session_principal
from geoservice.web.errors import answer_error, answer_http, wants_html

LOGGER = logging.getLogger(__name__)
SESSION_COOKIE = "geoservice_session"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
LOGIN_ENDPOINT = "auth.login_submit"  # POST /login
UPLOAD_ENDPOINTS = ("imports.upload", "imports.upload_boundaries",  # a refused file is recorded
                    "imports.upload_designation")
# A Redis that does not answer must not hold a request: give up after a second.
REDIS_OPTIONS = {"socket_timeout": 1, "socket_connect_timeout": 1}


def init_app(app: Flask) -> None:
    """Configure sessions, CSRF protection and rate limits (after the request identity)."""
    config = app.config
    config["SECRET_KEY"] = config["GEOSERVICE_SECRET_KEY"] or _instance_secret(
        Path(app.instance_path))
    config.update(
        SESSION_COOKIE_NAME=SESSION_COOKIE, SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config["GEOSERVICE_SESSION_COOKIE_SECURE"],
        SESSION_REFRESH_EACH_REQUEST=False,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=config["GEOSERVICE_SESSION_HOURS"]),
        WTF_CSRF_CHECK_DEFAULT=False,  # checked in `identify`, after the principal is known
        WTF_CSRF_TIME_LIMIT=config["GEOSERVICE_SESSION_HOURS"] * 3600,
    )
    app.session_interface = CookieSessions()
    _no_slash_merging(app)
    held = services.of(app)
    held.csrf = CSRFProtect(app)
    for library_error in TRANSLATIONS:
        app.register_error_handler(library_error, _translated)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    storage = config["GEOSERVICE_RATELIMIT_STORAGE"]
    limiter = Limiter(
        key_func=_caller, app=app, storage_uri=storage,
        storage_options=REDIS_OPTIONS if storage.startswith(("redis", "rediss")) else {},
        default_limits=[_limit_for_request], default_limits_exempt_when=_not_limited,
        headers_enabled=True, strategy="fixed-window", key_prefix="geoservice",
        # Redis down: count per process in memory (one warning), and go back to Redis
        # once it answers again (the library retries with a growing interval).
        in_memory_fallback_enabled=True,
    )
    held.limiter = limiter
    _check_limited_routes_only(app, limiter)


def _no_slash_merging(app: Flask) -> None:
    """Match paths as they are: werkzeug would answer ``//x`` or ``/a//b`` with an HTML
    redirect (308) to the merged path, outside the error handlers — and ``//host`` is read
    as another site by a browser. Unmerged, such a path matches no route: the JSON 404."""
    app.url_map.merge_slashes = False  # the rules added from now on
    for rule in app.url_map.iter_rules():  # those added already (Flask's static files)
        rule.merge_slashes = False


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, opened without building a signer when the request
    carries no session cookie (every tile and API call of a script or anonymous map)."""

    def open_session(self, app, request):
        """An empty session when the request has no session cookie, else Flask's own."""
        if not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


def _check_limited_routes_only(app: Flask, limiter: Limiter) -> None:
    """Run the limiter's per-request hooks (check, rate headers, clean-up) only on the
    routes that have a limit (sign-in and heavy routes): on every other route (tiles above
    all) they would find nothing to count, at the cost of resolving limits each time."""
    def only_if_limited(hook):
        def hook_if_limited(*args):
            if request.endpoint is not None and not _not_limited():
                return hook(*args)
            return args[0] if args and isinstance(args[0], Response) else None
        return hook_if_limited

    def ours(hook) -> bool:
        return getattr(hook, "__self__", None) is limiter or (
            isinstance(hook, functools.partial) and limiter in hook.args)

    for hooks in (app.before_request_funcs, app.after_request_funcs,
                  app.teardown_request_funcs):
        found = hooks.get(None, [])
        found[:] = [only_if_limited(hook) if ours(hook) else hook for hook in found]


def _instance_secret(instance: Path) -> str:
    """The instance's own secret key: generated once (mode 600), then read by every process."""
    path = instance / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    try:
        instance.mkdir(parents=True, exist_ok=True)
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process wrote it meanwhile
        return path.read_text().strip()
    except OSError as exc:  # a read-only instance folder
        LOGGER.warning("cannot keep a secret key in %s (%s): sessions will not outlive this "
                       "process; set SECRET_KEY", path, exc)
        return secrets.token_urlsafe(48)
    with os.fdopen(handle, "w") as out:
        out.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def identify():
    """Set g.principal, enforce the route's access level, CSRF, and note key use."""
    app = current_app
    held = services.current()
    store = held.store
    g.principal = ANONYMOUS
    _refuse_nul(request.args.items(multi=True), in_path=True)
    principal = principal_for(store, request.headers)
    if principal is ANONYMOUS and SESSION_COOKIE in request.cookies:
        found = session_principal(store, session.get("sid"))
        if found is None and "sid" in session:
            session.pop("sid")  # expired, ended, or its user disabled
        principal = found or ANONYMOUS
    g.principal = principal
    if request.endpoint is None or request.method == "OPTIONS":
        return None  # routing answers unknown URLs and methods; a CORS preflight has no data
    level = access.level_of(app.view_functions, request.endpoint)
    if level is None:
        LOGGER.error("route %s declares no access level: refused", request.endpoint)
    try:
        access.admit(level, principal, app.config["GEOSERVICE_PUBLIC_ACCESS"],
                     request.endpoint)
    except Unauthorized:
        if request.method == "GET" and wants_html():
            return redirect(f"/login?next={quote(request.full_path.rstrip('?'), safe='/')}",
                            303)
        raise
    # The body is read only now, for a caller the route admits (too large: 413, recorded
    # for an upload by `_too_large` with who sent it).
    if request.method not in SAFE_METHODS and request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        _refuse_nul(request.form.items(multi=True))
    if request.method not in SAFE_METHODS and principal.kind != "key":
        held.csrf.protect()
    if principal.kind == "key":
        audit.key_use(store, principal, request.blueprint or request.endpoint, request.path,
                      request.remote_addr, seen=held.key_uses)
    return None


def _refuse_nul(fields, in_path: bool = False) -> None:
    """Refuse NUL characters in the path, query and form: no name, code or id has one, and
    databases refuse them (PostgreSQL text cannot hold them)."""
    if in_path and "\x00" in request.path:
        raise InvalidParameter("The address contains a NUL character.")
    for name, value in fields:
        if "\x00" in str(name) or "\x00" in str(value):
            label = str(name).replace("\x00", "")[:50] or None
            raise InvalidParameter("The request contains a NUL character.", parameter=label)


def _too_large(error: RequestEntityTooLarge):
    """A body over MAX_UPLOAD_MB (413, raised by werkzeug when the body is read): answered
    by the one handler; a refused upload is recorded like every other refused import
    (`import_rejected`, without reading the body)."""
    if request.endpoint in UPLOAD_ENDPOINTS and g.get("principal", ANONYMOUS).authenticated:
        kind = str((request.view_args or {}).get("kind", ""))[:50]
        try:
            audit.record(services.current().store, "import_rejected", g.principal.name, kind,
                         {"kind": kind, "bytes": request.content_length,
                          "reason": f"larger than MAX_UPLOAD_MB ({error.code})"},
                         request.remote_addr)
        except Exception:  # noqa: BLE001 - the 413 is answered even if the note fails
            LOGGER.exception("could not record the refused upload")
    return answer_http(error)


def _csrf_rejected(error: CSRFError) -> CsrfRejected:
    return CsrfRejected("The form or request carries no valid CSRF token: reload the page "
                        "(scripts send the X-CSRFToken header; GET /auth/session gives it).",
                        detail=error.description)


def _rate_limited(error: RateLimitExceeded) -> RateLimited:
    limit = services.current().limiter.current_limit
    seconds = int(limit.reset_at - time.time()) if limit is not None else 60
    return RateLimited(str(error.description), seconds)


# The libraries' errors, and the domain error each one is answered as.
TRANSLATIONS: dict[type[Exception], Callable[..., GeoserviceError]] = {
    CSRFError: _csrf_rejected,
    RateLimitExceeded: _rate_limited,
}


def _translated(error: Exception):
    """Answer a library's error as its domain error (`TRANSLATIONS`), by the one handler."""
    translate = next(func for cls, func in TRANSLATIONS.items() if isinstance(error, cls))
    return answer_error(translate(error))


def _caller() -> str:
    """Whom a rate limit counts: the user or key, else the client address."""
    principal = g.get("principal", ANONYMOUS)
    if principal.authenticated and request.endpoint != LOGIN_ENDPOINT:
        return principal.name
    return request.remote_addr or "unknown"


def _limit_for_request() -> str:
    config = current_app.config
    if request.endpoint == LOGIN_ENDPOINT:
        return config["GEOSERVICE_LOGIN_RATE_LIMIT"]
    return config["GEOSERVICE_HEAVY_RATE_LIMIT"]


def _not_limited() -> bool:
    if request.endpoint == LOGIN_ENDPOINT:
        return request.method != "POST"
    return not access.is_heavy(current_app.view_functions, request.endpoint)
