"""The tile cache: on disk in the instance folder (embedded default) or in Redis.

Keys carry the layer, its parameters, the reader's area, the layer's data version
(`geoservice.layers.versions`) and the tile, so an import invalidates the tiles of the
layers drawn from what it changed (and only those), and one area's tiles never serve
another. A previous version's tiles stay in the cache: `Revalidation` serves them while
the new version's low zooms are drawn in the background (stale-while-revalidate). Redis
entries expire on their own.

A cache that fails never fails a tile: the tile is drawn and answered uncached. A failing
cache is noted once (one warning, not one per request) and once more when it works again;
a Redis that does not answer is bypassed for `RETRY_SECONDS` before it is tried again,
so a stopped Redis costs no request a connection attempt. `healthy` says whether the
cache works (the readiness check, `/ready`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import queue
import shutil
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path

LOGGER = logging.getLogger(__name__)
REDIS_TTL_SECONDS = 7 * 24 * 3600
RETRY_SECONDS = 15.0  # a Redis found down is left alone this long
IDLE_SECONDS = 5.0  # the background drawing thread ends after this long without work


class Outage:
    """Whether a cache is failing: one warning when it starts, one note when it ends."""

    def __init__(self, what: str, retry_seconds: float = 0.0):
        self.what = what
        self.retry_seconds = retry_seconds
        self.down_since: float | None = None
        self._retry_at = 0.0
        self._lock = threading.Lock()

    @property
    def bypassed(self) -> bool:
        """True while a failed cache is left alone (until its retry time)."""
        return self.down_since is not None and time.monotonic() < self._retry_at

    def failed(self, exc: Exception) -> None:
        """Note a failure; log it only if the cache was working."""
        with self._lock:
            first = self.down_since is None
            if first:
                self.down_since = time.monotonic()
            self._retry_at = time.monotonic() + self.retry_seconds
        if first:
            LOGGER.warning("%s failed, tiles are served uncached until it works again: %s",
                           self.what, exc)

    def worked(self) -> None:
        """Note a success; log it if the cache was failing."""
        if self.down_since is None:
            return
        with self._lock:
            was, self.down_since = self.down_since, None
        if was is not None:
            LOGGER.warning("%s works again after %.0f s", self.what, time.monotonic() - was)


def cache_key(layer: str, params: dict, area: str | None, version: str,
              address: tuple[int, int, int], fmt: str) -> tuple[str, str]:
    """Return (the layer's version folder, the tile's name) for the tile at `address`
    (z, x, y)."""
    z, x, y = address
    variant = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    digest = hashlib.sha1(f"{variant}|{area or '*'}|{version}".encode()).hexdigest()[:16]
    return f"{layer}/{digest}", f"{z}/{x}/{y}.{fmt}"


class TileCache(ABC):
    """Where rendered tiles are kept."""

    kind = "cache"

    @property
    def healthy(self) -> bool:
        """True when the cache works (as far as its last use or a check tells)."""
        return True

    @abstractmethod
    def get(self, folder: str, name: str) -> bytes | None:
        """Return a cached tile, or None."""

    @abstractmethod
    def put(self, folder: str, name: str, data: bytes) -> None:
        """Keep a tile."""


class NoCache(TileCache):
    """No caching (every tile rendered)."""

    kind = "none"

    def get(self, folder: str, name: str) -> bytes | None:
        """Nothing is ever cached."""
        return None

    def put(self, folder: str, name: str, data: bytes) -> None:
        """Nothing is kept."""


class DiskCache(TileCache):
    """Tiles as files under a folder: <layer>/<variant>/<z>/<x>/<y>.<fmt>."""

    kind = "disk"

    def __init__(self, root: Path):
        self.root = Path(root)
        self.outage = Outage("the tile cache on disk")

    @property
    def healthy(self) -> bool:
        """False since a write failed (a full disk), until one succeeds."""
        return self.outage.down_since is None

    def get(self, folder: str, name: str) -> bytes | None:
        """Return a cached tile, or None."""
        try:
            return (self.root / folder / name).read_bytes()
        except OSError:
            return None

    def put(self, folder: str, name: str, data: bytes) -> None:
        """Write a tile atomically (a reader never sees half a file)."""
        target = self.root / folder / name
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, partial = tempfile.mkstemp(dir=target.parent, suffix=".partial")
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(data)
                os.replace(partial, target)
            finally:
                Path(partial).unlink(missing_ok=True)  # gone after the rename; else half
        except OSError as exc:  # a full disk must not break serving
            self.outage.failed(exc)
            return
        self.outage.worked()

    def prune(self, layer: str, keep: set[str]) -> None:
        """Remove a layer's variant folders other than `keep` (older data versions)."""
        folder = self.root / layer
        if folder.is_dir():
            for child in folder.iterdir():
                if child.name not in keep:
                    shutil.rmtree(child, ignore_errors=True)


class RedisCache(TileCache):
    """Tiles in Redis, shared by every process and host of a deployment."""

    kind = "redis"

    def __init__(self, url: str):
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        self.outage = Outage(f"the Redis tile cache ({_without_password(url)})",
                             RETRY_SECONDS)

    @property
    def healthy(self) -> bool:
        """True when Redis answers a PING now."""
        import redis

        try:
            self.client.ping()
        except redis.RedisError as exc:
            self.outage.failed(exc)
            return False
        self.outage.worked()
        return True

    def get(self, folder: str, name: str) -> bytes | None:
        """Return a cached tile, or None (also when Redis is unreachable)."""
        return self._call(self.client.get, f"tile:{folder}/{name}")

    def put(self, folder: str, name: str, data: bytes) -> None:
        """Keep a tile for a week (newer data versions use other keys)."""
        self._call(self.client.set, f"tile:{folder}/{name}", data, ex=REDIS_TTL_SECONDS)

    def _call(self, command, *args, **kwargs):
        """Run a Redis command unless Redis is bypassed; None when it fails."""
        import redis

        if self.outage.bypassed:
            return None
        try:
            answer = command(*args, **kwargs)
        except redis.RedisError as exc:
            self.outage.failed(exc)
            return None
        self.outage.worked()
        return answer


class Revalidation:
    """Stale-while-revalidate for one app: the data version each tile variant (layer,
    parameters, area, format) was last served at, and one background thread drawing the
    tiles of new versions from a bounded queue.

    `changed(variant, version)` notes the version a variant is served at now and answers
    the one it was served at before (None when never), whose tiles can be answered until
    the new ones are written, and whether the version has just changed.
    """

    def __init__(self, max_queued: int = 2048, max_variants: int = 512):
        self.max_variants = max_variants
        self._served: OrderedDict[Hashable, tuple[str, str | None]] = OrderedDict()
        self._jobs: queue.Queue = queue.Queue(max_queued)
        self._queued: set[Hashable] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def changed(self, variant: Hashable, version: str) -> tuple[str | None, bool]:
        """Note `version` for `variant`; return the version it was served at before this
        one (kept until the variant's version changes again) or None, and whether
        `version` is new for the variant."""
        with self._lock:
            current, previous = self._served.get(variant, (None, None))
            new = current != version
            if new:
                previous = current
                self._served[variant] = (version, previous)
            self._served.move_to_end(variant)
            while len(self._served) > self.max_variants:
                self._served.popitem(last=False)
            return previous, new

    def submit(self, key: Hashable, job: Callable[[], object]) -> bool:
        """Queue `job` (once per key until it ran); False when the queue is full."""
        with self._lock:
            if key in self._queued:
                return True
            try:
                self._jobs.put_nowait((key, job))
            except queue.Full:
                return False
            self._queued.add(key)
            if self._thread is None:  # started when there is work, ends when there is none
                self._thread = threading.Thread(target=self._work, daemon=True,
                                                name="tile-revalidation")
                self._thread.start()
            return True

    def pending(self) -> int:
        """How many jobs are queued or running."""
        with self._lock:
            return len(self._queued)

    def join(self) -> None:
        """Wait until every queued job has run (commands and tests)."""
        self._jobs.join()

    def _work(self) -> None:
        while True:
            try:
                key, job = self._jobs.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self._lock:  # submit puts under this lock: nothing is left behind
                    if self._jobs.empty():
                        self._thread = None
                        return
                continue
            try:
                job()
            except Exception:  # noqa: BLE001 - a failed redraw leaves the stale tile
                LOGGER.exception("drawing tile %s in the background failed", key)
            finally:
                with self._lock:
                    self._queued.discard(key)
                self._jobs.task_done()


def _without_password(url: str) -> str:
    """The URL as logs may show it."""
    head, at, tail = url.rpartition("@")
    return f"{head.split('//', 1)[0]}//…@{tail}" if at else url


def open_cache(url: str, instance_path: Path) -> TileCache:
    """Return the cache named by TILE_CACHE: '' (disk in the instance), 'none', redis://…"""
    if url in ("", "disk"):
        return DiskCache(instance_path / "tile-cache")
    if url == "none":
        return NoCache()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisCache(url)
    from geoservice.errors import ConfigError

    raise ConfigError(f"TILE_CACHE must be empty, 'none' or a redis:// URL, not {url!r}")
