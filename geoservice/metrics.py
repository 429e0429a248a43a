"""The service's Prometheus metrics (no Flask here: the core may count too).

Metrics belong to the process, as Prometheus scrapes processes: they are made on first use
(`metrics()`), never on import. Under gunicorn's several workers set
``PROMETHEUS_MULTIPROC_DIR`` to an empty folder writable by the service: every worker then
writes its values there (prometheus_client's multiprocess mode) and `exposition` adds up
all workers' values, whichever worker answers the scrape
(`geoservice/gunicorn_conf.py` empties the folder on start and marks exited workers).

Counter API for other modules:

    from geoservice.metrics import tile_cache_lookup
    tile_cache_lookup(layer_id, hit=data is not None)
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from typing import Any

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Seconds: cached tiles answer in milliseconds, first tiles and reports in seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
UNMATCHED = "unmatched"  # the route label of requests no route matched (404s of any path)


@dataclass(frozen=True)
class Metrics:
    """The metric objects of this process, on their own registry."""

    registry: Any
    requests: Any
    latency: Any
    tile_cache: Any
    imports: Any
    reports: Any


@functools.cache
def metrics() -> Metrics:
    """This process's metrics (made on first use)."""
    from prometheus_client import CollectorRegistry, Counter, Histogram

    registry = CollectorRegistry(auto_describe=True)
    return Metrics(
        registry=registry,
        requests=Counter("geoservice_http_requests", "HTTP requests answered, by route "
                         "template, method and status.", ("route", "method", "status"),
                         registry=registry),
        latency=Histogram("geoservice_http_request_duration_seconds", "Time to answer a "
                          "request, by route template.", ("route",),
                          buckets=LATENCY_BUCKETS, registry=registry),
        tile_cache=Counter("geoservice_tile_cache_lookups", "Tile cache lookups, by layer and "
                           "result (hit or miss).", ("layer", "result"), registry=registry),
        imports=Counter("geoservice_imports", "Record imports over HTTP, by kind and "
                        "status.", ("kind", "status"), registry=registry),
        reports=Counter("geoservice_reports", "Reports asked for over HTTP, by kind, format "
                        "and status.", ("kind", "format", "status"), registry=registry),
    )


def tile_cache_lookup(layer_id: str, hit: bool) -> None:
    """Count one lookup of a tile in the tile cache."""
    metrics().tile_cache.labels(layer_id, "hit" if hit else "miss").inc()


def request_answered(route: str | None, method: str, status: int,
                     seconds: float | None) -> None:
    """Count one answered request and its latency."""
    held = metrics()
    route = route or UNMATCHED
    held.requests.labels(route, method, str(status)).inc()
    if seconds is not None:
        held.latency.labels(route).observe(seconds)


def import_answered(kind: str, status: int) -> None:
    """Count one import request by its outcome."""
    metrics().imports.labels(kind, str(status)).inc()


def report_answered(kind: str, fmt: str, status: int) -> None:
    """Count one report request by its outcome."""
    metrics().reports.labels(kind, fmt, str(status)).inc()


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus's text format, and its content type: this process's, or
    every worker's in multiprocess mode."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        metrics()  # this worker's series exist (at zero) before its first request
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(metrics().registry), CONTENT_TYPE_LATEST


def worker_exited(pid: int) -> None:
    """Multiprocess mode: forget a worker's live values (gunicorn's ``child_exit``)."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


def clear_multiproc_dir() -> None:
    """Multiprocess mode: remove the values of a previous run (before workers start)."""
    folder = os.environ.get(MULTIPROC_ENV)
    if not folder:
        return
    os.makedirs(folder, exist_ok=True)
    for name in os.listdir(folder):
        if name.endswith(".db"):
            os.remove(os.path.join(folder, name))
