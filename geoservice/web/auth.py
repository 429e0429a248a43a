"""Signing in and out, who am I, and administrators' API keys over HTTP.

- `GET /login` the sign-in page (Vietnamese, `?lang=en` English); `POST /login` the form
  (username, password, csrf_token, next). Success rotates the session: the old session
  cookie content is dropped and a new random session id is issued. Wrong name, wrong
  password, disabled or locked account all get the same page (401), and every attempt is
  in the audit trail. Other errors of the form (an expired CSRF token, too many attempts)
  are the one HTML error page for a browser, the JSON error shape for a script.
- `POST /logout` (with the CSRF token) ends the session server-side.
- `GET /auth/session` who is asking (user, key or anonymous), and a CSRF token for scripts
  that call state-changing routes with the session cookie.
- `GET /admin/keys`, `POST /admin/keys` (JSON: name, role, area, layers), and
  `DELETE /admin/keys/{key_id}` — administrators only; the key text is shown once.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
)
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf

from geoservice import access, audit, services, users
from geoservice.auth import create_key
from geoservice.errors import InvalidParameter, NotFound
from geoservice.i18n import request_language
from geoservice.web.errors import html_errors, wants_html

blueprint = Blueprint("auth", __name__)
MAX_FIELD = 256
MAX_BODY = 64 * 1024  # a key request is a few hundred bytes


def safe_next(value: str | None) -> str:
    """A local path to return to after signing in ('/' for anything else)."""
    if not value or len(value) > 2000 or not value.startswith("/") or value.startswith("//") \
            or "\\" in value or any(ord(c) < 32 for c in value):
        return "/"
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else "/"


def login_page(error: str | None = None, status: int = 200, username: str = ""):
    """Render the sign-in page (`error` "failed": after a refused sign-in)."""
    messages = {
        "failed": _("The user name or password is wrong, or the account is locked or "
                    "disabled."),
    }
    lang = request_language()
    html = render_template("auth/login.html", lang=lang, error=messages.get(error),
                           username=username[:64],
                           next=safe_next(request.values.get("next")))
    return html, status, {"Cache-Control": "no-store"}


@blueprint.get("/login")
@access.anyone
@html_errors
def login():
    """The sign-in page."""
    if g.principal.kind == "user":
        return redirect(safe_next(request.args.get("next")), 303)
    return login_page()


@blueprint.post("/login")
@access.anyone
@html_errors(when=wants_html)
def login_submit():
    """Check the form; on success start a new session and return to `next`."""
    username = request.form.get("username", "")[:MAX_FIELD]
    password = request.form.get("password", "")[:MAX_FIELD]
    held = services.current()
    settings, store = held.settings, held.store
    result = users.authenticate(store, username, password,
                                settings["LOGIN_MAX_FAILURES"],
                                settings["LOGIN_LOCKOUT_MINUTES"])
    remote = request.remote_addr
    if result.user is None:
        audit.record(store, "login_failed", None, username[:100], {"reason": result.reason},
                     remote)
        if result.reason == "locked":
            audit.record(store, "lockout", None, username[:100],
                         {"locked_until": result.locked_until}, remote,
                         dedupe=f"lockout|{username[:100]}|{result.locked_until}")
        return login_page("failed", 401, username)
    old = session.get("sid")
    if old:
        users.close_session(store, old)
    session.clear()  # rotation: nothing of the old session survives
    name = result.user["username"]
    session["sid"] = users.open_session(store, name, settings["SESSION_HOURS"], remote)
    audit.record(store, "login", f"user:{name}", name, {}, remote)
    return redirect(safe_next(request.form.get("next")), 303)


@blueprint.post("/logout")
@access.anyone
def logout():
    """End the session (server-side too) and go to the sign-in page."""
    sid = session.get("sid")
    if sid:
        store = services.current().store
        users.close_session(store, sid)
        if g.principal.kind == "user":
            audit.record(store, "logout", g.principal.name, g.principal.ident, {},
                         request.remote_addr)
    session.clear()
    return redirect("/login", 303)


@blueprint.get("/auth/session")
@access.anyone
def who():
    """Who is asking, and a CSRF token for session-authenticated scripts."""
    principal = g.principal
    response = jsonify({
        "authenticated": principal.authenticated, "kind": principal.kind,
        "name": principal.ident, "role": principal.role if principal.authenticated else None,
        "area": (principal.province_code or users.NATIONAL) if principal.authenticated
        else None,
        "layers": list(principal.layers) if principal.layers is not None else None,
        "csrf_token": generate_csrf(),
    })
    response.headers["Cache-Control"] = "no-store"
    return response


# --- administrators: API keys ----------------------------------------------------------------

def _key_row(row: dict) -> dict:
    return {"id": row["id"], "name": row["name"], "role": row["role"],
            "area": row["province_code"] or users.NATIONAL, "layers": row.get("layers"),
            "created_by": row.get("created_by"), "created_at": row.get("created_at"),
            "revoked_at": row.get("revoked_at")}


@blueprint.get("/admin/keys")
@access.admin
def keys():
    """Every API key (never a secret)."""
    return jsonify({"keys": [_key_row(r) for r in services.current().store.api_keys()]})


@blueprint.post("/admin/keys")
@access.admin
def key_create():
    """Create a key from JSON {name, role, area, layers}; the key text is shown once."""
    body = _json_body()
    if not isinstance(body, dict):
        raise InvalidParameter("Send a JSON object: {\"name\", \"role\", \"area\", "
                               "\"layers\"}.", parameter="body")
    unknown = sorted(set(body) - {"name", "role", "area", "layers"})
    if unknown:
        raise InvalidParameter(f"Unknown field '{str(unknown[0])[:50]}'.", parameter="body")
    held = services.current()
    store, catalog = held.store, held.catalog
    from geoservice.collections import COLLECTIONS

    role, area = body.get("role", "viewer"), body.get("area", users.NATIONAL)
    if not isinstance(role, str) or not isinstance(area, str):
        raise InvalidParameter("role and area are text.", parameter="role")
    row, text = create_key(store, body.get("name"), role,
                           users.parse_area(area, store) or users.NATIONAL,
                           created_by=g.principal.name, layers=body.get("layers"),
                           known_layers=[*catalog, *COLLECTIONS])
    audit.record(store, "key_create", g.principal.name, row["id"],
                 {"name": row["name"], "role": role, "area": area,
                  "layers": row["layers"]}, request.remote_addr)
    response = jsonify({"key": _key_row(row), "secret": text,
                        "note": "Keep the key now: it is not shown again."})
    response.status_code = 201
    response.headers["Cache-Control"] = "no-store"
    return response


def _json_body():
    """The request's JSON body, or None when it is not JSON (too deep, broken, binary)."""
    if request.mimetype != "application/json" or (request.content_length or 0) > MAX_BODY:
        return None
    try:
        return json.loads(request.get_data(cache=False))
    except (ValueError, RecursionError):
        return None


@blueprint.delete("/admin/keys/<key_id>")
@access.admin
def key_revoke(key_id: str):
    """Revoke a key."""
    store = services.current().store
    if len(key_id) > 64 or not store.revoke_api_key(key_id):
        raise NotFound(f"There is no active key '{key_id[:64]}'.")
    audit.record(store, "key_revoke", g.principal.name, key_id, {}, request.remote_addr)
    return jsonify({"revoked": key_id})
