"""Administrators' pages: the audit trail (a readable page, JSON and CSV) and the users.

- `GET /admin/audit` the trail as an HTML table, newest first, filtered by `action`, `actor`,
  `since`, `until`, paged with `limit`/`offset`;
- `GET /admin/audit.json` and `GET /admin/audit.csv` the same filters, every matching row
  (up to 100,000) as a download; CSV cells a spreadsheet would run as formulas are
  neutralised. Each export is itself recorded in the trail;
- `GET /admin/users` the users (never a password hash).

The page's errors are the one HTML error page for a browser, the JSON shape for a script.

There is no route that changes or deletes audit rows, and the database refuses it anyway.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, g, jsonify, render_template, request

from geoservice import access, audit, services, users
from geoservice.i18n import request_language
from geoservice.web.errors import html_errors, wants_html

blueprint = Blueprint("admin", __name__)


@blueprint.get("/admin/audit")
@access.admin
@html_errors(when=wants_html)
def audit_page():
    """The audit trail as a readable page."""
    query = audit.parse_query(request.args.to_dict())
    rows, total = services.current().store.audit_rows(query)
    kept = {k: v for k, v in request.args.items() if k not in ("offset",)}
    html = render_template("auth/audit.html", lang=request_language(), rows=rows, total=total,
                           query=query, actions=audit.ACTIONS, args=kept)
    return html, 200, {"Cache-Control": "no-store"}


def _export(fmt: str):
    store = services.current().store
    query = audit.parse_query(request.args.to_dict())
    rows = audit.rows_for_export(store, query)
    audit.record(store, "audit_export", g.principal.name, fmt,
                 {"rows": len(rows), "action": query.action, "actor": query.actor,
                  "since": query.since, "until": query.until}, request.remote_addr)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    if fmt == "csv":
        body, mimetype = audit.to_csv(rows), "text/csv"
    else:
        body, mimetype = audit.to_json(rows), "application/json"
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="audit-{stamp}.{fmt}"',
        "Cache-Control": "no-store"})


@blueprint.get("/admin/audit.json")
@access.admin
def audit_json():
    """The audit trail as JSON (a download)."""
    return _export("json")


@blueprint.get("/admin/audit.csv")
@access.admin
def audit_csv():
    """The audit trail as CSV (a download, formulas neutralised)."""
    return _export("csv")


@blueprint.get("/admin/users")
@access.admin
def user_list():
    """The users, their roles, areas and state."""
    return jsonify({"users": [users.public(u) for u in services.current().store.list_users()]})
