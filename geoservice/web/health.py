"""Liveness and readiness, for load balancers and orchestrators (open to anyone).

- `GET /health` liveness: 200 ``{"status": "ok"}`` whenever the process answers; it looks
  at nothing else, so a database outage never gets a healthy process restarted.
- `GET /ready` readiness: ``{"status": "ok"|"degraded", "checks": {"store": …,
  "tile_cache": …, "rate_limits": …}}`` — 200 when the store answers a query, else 503
  (with ``Retry-After``: send no traffic here for now). Each check is ``"ok"``,
  ``"unavailable"``, or for the rate limits ``"fallback"`` (Redis down: counted per
  process in memory). A Redis that is down (tile cache or rate limits) makes the status
  ``degraded`` but still 200: tiles are drawn uncached and limits counted per process.
"""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify

from geoservice import access, services

LOGGER = logging.getLogger(__name__)
blueprint = Blueprint("health", __name__)
OK, UNAVAILABLE, FALLBACK = "ok", "unavailable", "fallback"
RETRY_AFTER = "5"


@blueprint.get("/health")
@access.anyone
def health():
    """Liveness: the process answers."""
    response = jsonify({"status": OK})
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/ready")
@access.anyone
def ready():
    """Readiness: the store, the tile cache and the rate-limit counters."""
    held = services.current()
    checks = {"store": _store(held), "tile_cache": OK if held.tile_cache.healthy
              else UNAVAILABLE, "rate_limits": _rate_limits(held)}
    degraded = any(value != OK for value in checks.values())
    response = jsonify({"status": "degraded" if degraded else OK, "checks": checks})
    response.headers["Cache-Control"] = "no-store"
    if checks["store"] != OK:
        response.status_code = 503
        response.headers["Retry-After"] = RETRY_AFTER
    return response


def _store(held) -> str:
    """Whether the store answers a query (a broken connection is dropped, to reconnect)."""
    try:
        held.store.get_meta("boundaries_loaded_at")
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        LOGGER.warning("readiness: the store does not answer: %s", exc)
        try:
            held.store.close()
        except Exception:  # noqa: BLE001 - closing a broken connection may fail too
            LOGGER.debug("closing the broken store connection failed", exc_info=True)
        return UNAVAILABLE
    return OK


def _rate_limits(held) -> str:
    """Whether the rate-limit storage answers (memory always does)."""
    limiter = held.limiter
    if limiter is None:
        return OK
    try:
        working = limiter.storage.check()
    except Exception:  # noqa: BLE001 - a storage that cannot even be asked is down
        working = False
    return OK if working else FALLBACK
