"""Faults of what stands beside the store: Redis (tile cache and rate-limit counters)
stopped while serving, a full disk under the tile cache, and the liveness and readiness
endpoints that report them.

The Redis tests start their own ``redis-server`` on a free loopback port and stop it
mid-test (never the machine's own Redis). Re-run:
``.venv/bin/python -m pytest -q -p no:cacheprovider tests/security/test_redis_faults.py``
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import socket
import sqlite3
import subprocess
import time
import types

import mapbox_vector_tile
import pytest

from geoservice.render import tilecache
from geoservice.services import of as services_of
from tests.security.conftest import PASSWORD, csrf_token, key_headers
from tests.web.helpers import assert_error, decode

TILES = [f"/tiles/provinces/{z}/{x}/{y}.mvt" for z, x, y in
         ((5, 25, 13), (6, 50, 27), (7, 101, 55), (7, 100, 55), (8, 202, 110), (8, 200, 111))]
CACHE_LOGGER = "geoservice.render.tilecache"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A redis-server of this test's own, on a free loopback port, without persistence."""

    def __init__(self, tmp_path):
        self.port, self.folder, self.process = free_port(), tmp_path, None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None

    def keys(self, db: int) -> list[bytes]:
        import redis

        return redis.Redis(port=self.port, db=db).keys("*")


@pytest.fixture
def redis_server(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is needed for the Redis fault tests (apt install redis)")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


def assert_tile(response) -> None:
    assert response.status_code == 200, response.get_data()[:300]
    assert "provinces" in mapbox_vector_tile.decode(response.data)


def ready(client) -> tuple[int, dict]:
    response = client.get("/ready")
    assert response.headers["Cache-Control"] == "no-store"
    return response.status_code, decode(response, response.status_code)


def sign_in_attempt(client, token) -> int:
    return client.post("/login", data={"username": "nobody-here", "password": PASSWORD,
                                       "csrf_token": token}).status_code


def cache_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == CACHE_LOGGER and r.levelno >= logging.WARNING]


def test_redis_stopped_while_serving(make_app, loaded_db, redis_server, caplog):
    app = make_app(loaded_db, TILE_CACHE=f"{redis_server.url}/0",
                   RATELIMIT_STORAGE=f"{redis_server.url}/1", LOGIN_RATE_LIMIT="3 per minute")
    held = services_of(app)
    held.tile_cache.outage.retry_seconds = 0.5  # try Redis again soon (15 s in service)
    client = app.test_client()
    assert ready(client) == (200, {"status": "ok", "checks": {
        "store": "ok", "tile_cache": "ok", "rate_limits": "ok"}})
    assert_tile(client.get(TILES[0]))
    assert redis_server.keys(0)  # the tile is in Redis
    token = csrf_token(client)
    assert sign_in_attempt(client, token) == 401
    assert redis_server.keys(1)  # the counter is in Redis

    redis_server.stop()
    caplog.set_level(logging.INFO)
    started = time.perf_counter()
    for url in TILES * 3:
        assert_tile(client.get(url))
    assert time.perf_counter() - started < 10  # no request waits for Redis
    assert len(cache_warnings(caplog)) == 1, cache_warnings(caplog)  # one, not eighteen
    assert ready(client) == (200, {"status": "degraded", "checks": {
        "store": "ok", "tile_cache": "unavailable", "rate_limits": "fallback"}})
    # Rate limits fall back to this process's own counters: still limited.
    statuses = [sign_in_attempt(client, token) for _ in range(4)]
    assert statuses == [401, 401, 401, 429], statuses

    redis_server.start()  # back (empty): the cache and counters are used again
    time.sleep(0.6)
    assert_tile(client.get(TILES[1]))
    assert_tile(client.get(TILES[1]))
    assert redis_server.keys(0), "tiles are cached in Redis again"
    assert any("works again" in m for m in cache_warnings(caplog))
    assert ready(client)[1]["checks"]["tile_cache"] == "ok"


def test_a_full_disk_under_the_tile_cache_still_answers_tiles(make_app, loaded_db,
                                                              monkeypatch, caplog):
    app = make_app(loaded_db)
    client, cache = app.test_client(), services_of(app).tile_cache
    assert isinstance(cache, tilecache.DiskCache)

    def full_disk_mkstemp(dir, suffix):  # noqa: A002 - tempfile's own argument name
        handle, path = tempfile_module.mkstemp(dir=dir, suffix=suffix)
        os.close(handle)
        return os.open("/dev/full", os.O_WRONLY), path  # every write: ENOSPC

    tempfile_module = tilecache.tempfile
    monkeypatch.setattr(tilecache, "tempfile",
                        types.SimpleNamespace(mkstemp=full_disk_mkstemp))
    caplog.set_level(logging.INFO)
    for url in TILES * 2:
        assert_tile(client.get(url))
    warnings = cache_warnings(caplog)
    assert len(warnings) == 1 and os.strerror(errno.ENOSPC) in warnings[0], warnings
    assert not list(cache.root.rglob("*.mvt")) and not list(cache.root.rglob("*.partial"))
    assert ready(client) == (200, {"status": "degraded", "checks": {
        "store": "ok", "tile_cache": "unavailable", "rate_limits": "ok"}})
    monkeypatch.setattr(tilecache, "tempfile", tempfile_module)  # space again
    assert_tile(client.get(TILES[0]))
    assert list(cache.root.rglob("*.mvt"))
    assert ready(client)[1]["status"] == "ok"


def test_liveness_always_readiness_only_with_a_store(make_app, loaded_db):
    app = make_app(loaded_db, PUBLIC_ACCESS=False)
    client, store = app.test_client(), services_of(app).store
    national = key_headers(store)
    assert decode(client.get("/health")) == {"status": "ok"}  # anyone, even not signed in
    assert ready(client)[0] == 200
    path = store.path
    store.close()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    moved = path.with_name("moved.sqlite")
    path.rename(moved)
    response = client.get("/ready")
    body = decode(response, 503)
    assert body == {"status": "degraded", "checks": {
        "store": "unavailable", "tile_cache": "ok", "rate_limits": "ok"}}
    assert int(response.headers["Retry-After"]) > 0
    assert decode(client.get("/health")) == {"status": "ok"}
    assert_error(decode(client.get("/collections/provinces/items", headers=national), 503),
                 503, "StoreUnavailable")
    moved.rename(path)
    assert ready(client) == (200, {"status": "ok", "checks": {
        "store": "ok", "tile_cache": "ok", "rate_limits": "ok"}})
