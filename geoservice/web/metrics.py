"""`GET /metrics` in Prometheus's text format, and the hook counting every request.

What is counted (`geoservice.metrics`): requests by route template, method and status;
their latency per route (histogram); tile cache hits and misses per layer; imports by kind
and status; reports by kind, format and status. Routes are labelled by their template
(``/tiles/<layer>/<int:z>/…``), never by the path asked for, so a scan of random URLs
cannot make series without end.

Who may read it (`METRICS_ACCESS`): ``local`` (default) — a caller on this host's loopback
whose request came through no proxy (``X-Forwarded-For`` absent, or resolved by
`TRUSTED_PROXIES`), or a national administrator's API key (``Authorization: Bearer``) from
anywhere; ``admin`` — only such a key; ``anyone`` — everybody (when only the monitoring
network reaches the service's port). The route is declared ``anyone`` and the view makes
this decision, as restricted views call `access.decide`.
"""

from __future__ import annotations

import ipaddress
import logging

from flask import Blueprint, Response, current_app, g, request

from geoservice import access, logs
from geoservice import metrics as counts
from geoservice.access import ANONYMOUS
from geoservice.errors import Forbidden

LOGGER = logging.getLogger(__name__)
blueprint = Blueprint("metrics", __name__)
REPORT_FORMATS = ("pdf", "html", "zip")


@blueprint.get("/metrics")
@access.anyone
def scrape():
    """The process's (or, in multiprocess mode, every worker's) metrics."""
    allowed(current_app.config["GEOSERVICE_METRICS_ACCESS"], g.get("principal", ANONYMOUS))
    body, content_type = counts.exposition()
    response = Response(body, content_type=content_type)
    response.headers["Cache-Control"] = "no-store"
    return response


def allowed(setting: str, principal) -> None:
    """Raise Forbidden unless `setting` admits this request (see the module's docstring)."""
    if setting == "anyone" or principal.is_admin:
        return
    if setting == "local" and _from_loopback():
        return
    where = "from this host or " if setting == "local" else ""
    raise Forbidden(f"The metrics are readable {where}with a national administrator's key "
                    "only (METRICS_ACCESS).")


def _from_loopback() -> bool:
    """The caller is on this host and no proxy stands between (a proxy on the same host
    would make every client look local)."""
    trusted = current_app.config["GEOSERVICE_TRUSTED_PROXIES"]
    if not trusted and ("X-Forwarded-For" in request.headers
                        or "Forwarded" in request.headers):
        return False
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


def init_app(app) -> None:
    """Register the scrape route and the counting hook."""
    app.register_blueprint(blueprint)
    app.after_request(count)


def count(response):
    """Count the answered request (and imports and reports by their outcome)."""
    rule = request.url_rule.rule if request.url_rule is not None else None
    status = response.status_code
    counts.request_answered(rule, request.method, status, logs.elapsed_seconds())
    endpoint, args = request.endpoint, request.view_args or {}
    if endpoint == "imports.upload":
        from geoservice.records.kinds import KINDS

        counts.import_answered(args.get("kind") if args.get("kind") in KINDS else "other",
                               status)
    elif endpoint in ("reports.report", "reports.communes_zip"):
        from geoservice.reports.units import KINDS

        kind = args.get("kind", "province")
        fmt = args.get("fmt", "zip")
        counts.report_answered(kind if kind in KINDS else "other",
                               fmt if fmt in REPORT_FORMATS else "other", status)
    return response
