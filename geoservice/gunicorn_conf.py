"""gunicorn settings for `make serve-prod` (``gunicorn -c python:geoservice.gunicorn_conf``).

Threaded workers: a tile request spends most of its time in numpy, GEOS and zlib, which
release the GIL, and waiting on the store or the cache; one process per core keeps the
prepared tile sources (a few hundred MB for the national layers) once per core. Every value
can be changed with the GEOSERVICE_GUNICORN_* variables named below.

Metrics: with several workers set ``PROMETHEUS_MULTIPROC_DIR`` to a folder of its own
(e.g. ``/run/geoservice/metrics``): each worker writes its values there and ``/metrics``
adds up every worker's (`geoservice.metrics`); the folder is emptied when gunicorn starts
and an exited worker's live values are dropped. The request log is the service's own
(``geoservice.request``, one line per request with its id; LOG_FORMAT=json for JSON), so
gunicorn's access log stays off unless asked for.
"""

import multiprocessing
import os

bind = os.environ.get("GEOSERVICE_GUNICORN_BIND", "127.0.0.1:5000")
workers = int(os.environ.get("GEOSERVICE_GUNICORN_WORKERS", multiprocessing.cpu_count()))
threads = int(os.environ.get("GEOSERVICE_GUNICORN_THREADS", 8))
worker_class = "gthread"
timeout = int(os.environ.get("GEOSERVICE_GUNICORN_TIMEOUT", 120))  # reports, first tiles
graceful_timeout = 30
# Seconds an idle keep-alive connection stays open. Browsers and load balancers reuse idle
# connections: with a short time the server closes one just as a client sends on it (the
# province load test saw 8 resets in 19,906 requests at 5 s, none at 30 s). Idle connections
# wait in the worker's poller, not in a thread.
keepalive = int(os.environ.get("GEOSERVICE_GUNICORN_KEEPALIVE", 30))
max_requests = int(os.environ.get("GEOSERVICE_GUNICORN_MAX_REQUESTS", 0))  # 0: never recycle
accesslog = os.environ.get("GEOSERVICE_GUNICORN_ACCESSLOG") or None
preload_app = False  # each worker opens its own store connections


def post_worker_init(worker):
    """Prepare the map's first layers in the background as soon as a worker has started
    (`geoservice.web.mappage.prepare_first_layers`): the officials opening the map right
    after a start or a deployment get tiles, not a wait of seconds per layer."""
    import threading

    from geoservice.services import EXTENSION
    from geoservice.web.mappage import prepare_first_layers

    app = worker.wsgi
    if EXTENSION not in getattr(app, "extensions", {}):  # another WSGI app
        return
    threading.Thread(target=prepare_first_layers, args=(app,), name="prepare-layers",
                     daemon=True).start()


def on_starting(server):
    """Empty the metrics folder of a previous run (multiprocess mode), before any worker."""
    from geoservice.metrics import clear_multiproc_dir

    clear_multiproc_dir()


def child_exit(server, worker):
    """Drop an exited worker's live metric values (multiprocess mode)."""
    from geoservice.metrics import worker_exited

    worker_exited(worker.pid)
