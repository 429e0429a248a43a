"""The tile cache: on disk in the instance folder (embedded default) or in Redis.

Keys carry the layer, its parameters, the reader's area, the store's data version and the
tile, so an import (which changes the data version) invalidates every tile of the layers
it touches at once, and one area's tiles never serve another. Old versions on disk are
removed when a newer one is first written; Redis entries expire on their own.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path

LOGGER = logging.getLogger(__name__)
REDIS_TTL_SECONDS = 7 * 24 * 3600


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

    @abstractmethod
    def get(self, folder: str, name: str) -> bytes | None:
        """Return a cached tile, or None."""

    @abstractmethod
    def put(self, folder: str, name: str, data: bytes) -> None:
        """Keep a tile."""


class NoCache(TileCache):
    """No caching (every tile rendered)."""

    def get(self, folder: str, name: str) -> bytes | None:
        """Nothing is ever cached."""
        return None

    def put(self, folder: str, name: str, data: bytes) -> None:
        """Nothing is kept."""


class DiskCache(TileCache):
    """Tiles as files under a folder: <layer>/<variant>/<z>/<x>/<y>.<fmt>."""

    def __init__(self, root: Path):
        self.root = Path(root)

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
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(partial, target)
        except OSError as exc:  # a full disk must not break serving
            LOGGER.warning("tile cache write failed: %s", exc)

    def prune(self, layer: str, keep: set[str]) -> None:
        """Remove a layer's variant folders other than `keep` (older data versions)."""
        folder = self.root / layer
        if folder.is_dir():
            for child in folder.iterdir():
                if child.name not in keep:
                    shutil.rmtree(child, ignore_errors=True)


class RedisCache(TileCache):
    """Tiles in Redis, shared by every process and host of a deployment."""

    def __init__(self, url: str):
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=2)

    def get(self, folder: str, name: str) -> bytes | None:
        """Return a cached tile, or None (also when Redis is unreachable)."""
        import redis

        try:
            return self.client.get(f"tile:{folder}/{name}")
        except redis.RedisError as exc:
            LOGGER.warning("tile cache read failed: %s", exc)
            return None

    def put(self, folder: str, name: str, data: bytes) -> None:
        """Keep a tile for a week (newer data versions use other keys)."""
        import redis

        try:
            self.client.set(f"tile:{folder}/{name}", data, ex=REDIS_TTL_SECONDS)
        except redis.RedisError as exc:
            LOGGER.warning("tile cache write failed: %s", exc)


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
