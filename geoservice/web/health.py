"""Liveness and readiness, for load balancers and orchestrators (open to anyone).

- `GET /health` liveness: 200 ``{"status": "ok"}`` whenever the process answers; it looks
  at nothing else, so a database outage never gets a healthy process restarted.
- `GET /ready` readiness: ``{"status": "ok"|"degraded", "checks": {"store": …,
  "tile_cache": …, "rate_limits": …}}`` — 200 when the store answers a query, else 503
  (with ``Retry-After``: send no traffic here for now). Each check is ``"ok"``,
  ``"unavailable"``, or for the rate limits ``"fallback"`` (Redis down: counted per
  process in memory). A Redis that is down (tile cache or rate limits) makes the status
  ``degraded`` but still 200: tiles are drawn uncached and limits counted per process.
  Two checks of the data are added to ``checks`` when they fail (absent when they pass,
  so the answer of a healthy instance keeps its three keys): ``"boundaries": "missing"``
  (the store answers but no boundaries were loaded: `geoservice build-data`; 503, the
  map would be empty) and ``"layers"``: ``"empty"`` (no layer in the catalogue: 503) or
  ``"invalid"`` (a ``layers/*.toml`` file changed since the start no longer passes
  `geoservice check-layers`: the running catalogue still serves, so 200 ``degraded``,
  but the next start would fail; the problems are logged). The layer files are checked
  again only when one of them changes.
"""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify

from geoservice import access, services

LOGGER = logging.getLogger(__name__)
blueprint = Blueprint("health", __name__)
OK, UNAVAILABLE, FALLBACK = "ok", "unavailable", "fallback"
MISSING, EMPTY, INVALID = "missing", "empty", "invalid"
NOT_READY = {"store": (UNAVAILABLE,), "boundaries": (MISSING,), "layers": (EMPTY,)}
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
    """Readiness: the store, the tile cache, the rate-limit counters, and (listed when they
    fail) the boundaries and the layer catalogue."""
    held = services.current()
    store, loaded = _store(held)
    checks = {"store": store, "tile_cache": OK if held.tile_cache.healthy
              else UNAVAILABLE, "rate_limits": _rate_limits(held)}
    data = {"boundaries": OK if loaded or store != OK else MISSING, "layers": _layers(held)}
    checks.update({name: value for name, value in data.items() if value != OK})
    degraded = any(value != OK for value in checks.values())
    response = jsonify({"status": "degraded" if degraded else OK, "checks": checks})
    response.headers["Cache-Control"] = "no-store"
    if any(checks.get(name) in values for name, values in NOT_READY.items()):
        response.status_code = 503
        response.headers["Retry-After"] = RETRY_AFTER
    return response


def _store(held) -> tuple[str, bool]:
    """Whether the store answers a query (a broken connection is dropped, to reconnect),
    and whether boundaries were loaded into it."""
    try:
        loaded = held.store.get_meta("boundaries_loaded_at")
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        LOGGER.warning("readiness: the store does not answer: %s", exc)
        try:
            held.store.close()
        except Exception:  # noqa: BLE001 - closing a broken connection may fail too
            LOGGER.debug("closing the broken store connection failed", exc_info=True)
        return UNAVAILABLE, False
    return OK, bool(loaded)


def _layers(held) -> str:
    """Whether the catalogue holds layers and the layer files on disk still pass the
    catalogue's checks (checked again only when a file changes)."""
    if not held.catalog:
        return EMPTY
    from geoservice.layers.catalog import check_layers
    from geoservice.resources import LAYERS_FOLDER

    try:
        signature = tuple(sorted((path.name, path.stat().st_mtime_ns)
                                 for path in LAYERS_FOLDER.glob("*.toml")))
    except OSError:  # a file removed while listed: check on the next probe
        return OK
    known = held.remembered("readiness_layer_files", dict)
    if signature not in known:
        problems = check_layers(LAYERS_FOLDER)
        if problems:
            LOGGER.warning("readiness: the layer files no longer pass check-layers:\n%s",
                           "\n".join(problems))
        known.clear()
        known[signature] = INVALID if problems else OK
    return known[signature]


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
