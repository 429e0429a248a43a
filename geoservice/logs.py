"""Logs: one handler for the service's records, the request id and the request log.

`configure(fmt)` gives the root logger one handler of ours on standard error (unless the
host already configured logging, as pytest or an operator's logging config do), in
``text`` or ``json`` (one object per line, for a log collector: `LOG_FORMAT`). Every
record written while a request is handled carries that request's id.

`init_app(app)` gives every request an id — the incoming ``X-Request-Id`` when it is a
sane token (letters, digits, ``._:-``, at most 64), else a new one — echoed in the
response's ``X-Request-Id``, and, unless `REQUEST_LOG` is off, writes one line per
request on the ``geoservice.request`` logger: method, path, status, duration in ms,
request id and the kind of principal (anonymous, user or key). `started` and `finished`
are the two hooks; `geoservice.web.metrics` reads the same timing.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid

LOGGER = logging.getLogger(__name__)
REQUEST_LOGGER = logging.getLogger("geoservice.request")
HEADER = "X-Request-Id"
SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
MARK = "geoservice_handler"  # the attribute marking the handler `configure` installed
REQUEST_FIELDS = ("method", "path", "status", "duration_ms", "principal")


def request_id_from(header: str | None) -> str:
    """The incoming id when it is a sane token, else a new random one."""
    if header and SANE_ID.match(header):
        return header
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Add ``request_id`` ("-" outside a request) to every record passing the handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Annotate the record; never drop it."""
        if not hasattr(record, "request_id"):
            record.request_id = _current_request_id()
        return True


def _current_request_id() -> str:
    from flask import g, has_request_context

    if has_request_context():
        return g.get("request_id", "-")
    return "-"


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request id, and the
    request log's fields when the record has them."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        entry = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
                 "level": record.levelname, "logger": record.name,
                 "message": record.getMessage(),
                 "request_id": getattr(record, "request_id", "-")}
        entry.update({name: getattr(record, name) for name in REQUEST_FIELDS
                      if hasattr(record, name)})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def formatter(fmt: str) -> logging.Formatter:
    """The formatter of `fmt` ("text" or "json")."""
    return JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT)


def configure(fmt: str = "text", level: int | None = None) -> logging.Handler | None:
    """Install (once) or update our handler on the root logger; return it, or None when
    the host configured logging itself (its handlers are left alone, and still get the
    request id)."""
    root = logging.getLogger()
    ours = next((h for h in root.handlers if getattr(h, MARK, False)), None)
    if ours is None and not root.handlers:
        ours = logging.StreamHandler(sys.stderr)
        setattr(ours, MARK, True)
        root.addHandler(ours)
    for handler in root.handlers:
        if not any(isinstance(f, RequestIdFilter) for f in handler.filters):
            handler.addFilter(RequestIdFilter())
    if ours is not None:
        ours.setFormatter(formatter(fmt))
    if level is not None:
        root.setLevel(level)
    service = logging.getLogger("geoservice")
    if service.level == logging.NOTSET:  # our INFO lines (the request log) under gunicorn
        service.setLevel(logging.INFO)
    return ours


def init_app(app) -> None:
    """Configure the logs for `app`'s settings and register the request hooks."""
    configure(app.config["GEOSERVICE_LOG_FORMAT"])
    app.before_request(started)
    app.after_request(finished)


def started() -> None:
    """Note when the request began and its id (the first hook, before the guard)."""
    from flask import g, request

    g.request_started = time.perf_counter()
    g.request_id = request_id_from(request.headers.get(HEADER))


def elapsed_seconds() -> float | None:
    """Seconds since the request began (None outside a timed request)."""
    from flask import g

    begun = g.get("request_started")
    return None if begun is None else time.perf_counter() - begun


def finished(response):
    """Echo the request id and write the request's line."""
    from flask import current_app, g, request

    from geoservice.access import ANONYMOUS

    request_id = g.get("request_id") or request_id_from(None)
    response.headers[HEADER] = request_id
    seconds = elapsed_seconds()
    if current_app.config["GEOSERVICE_REQUEST_LOG"] and seconds is not None:
        duration = round(seconds * 1000, 1)
        kind = g.get("principal", ANONYMOUS).kind
        REQUEST_LOGGER.info("%s %s %s %.1f ms %s", request.method, request.path,
                            response.status_code, duration, kind,
                            extra={"method": request.method, "path": request.path,
                                   "status": response.status_code, "duration_ms": duration,
                                   "principal": kind, "request_id": request_id})
    return response
