"""Concurrent requests for the same layer or tile share one computation."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from geoservice.singleflight import SingleFlight


def test_concurrent_calls_with_one_key_share_one_computation():
    flight, calls = SingleFlight(), []
    started = threading.Event()

    def compute():
        calls.append(1)
        started.set()
        time.sleep(0.3)
        return object()

    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(flight.run, "layer", compute)
        started.wait(5)
        others = [pool.submit(flight.run, "layer", compute) for _ in range(7)]
        answers = {id(f.result(5)) for f in [first, *others]}
    assert len(calls) == 1 and len(answers) == 1
    assert len(flight) == 0
    assert flight.run("layer", lambda: "again") == "again"  # nothing kept after the call


def test_other_keys_run_side_by_side_and_errors_reach_every_waiter():
    flight = SingleFlight()
    started = threading.Event()

    def fail():
        started.set()
        time.sleep(0.2)
        raise ValueError("the store went away")

    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(flight.run, "a", fail)
        started.wait(5)
        waiter = pool.submit(flight.run, "a", lambda: "never")
        other = pool.submit(flight.run, "b", lambda: "b's own")
        assert other.result(5) == "b's own"
        for future in (first, waiter):
            with pytest.raises(ValueError, match="went away"):
                future.result(5)
    assert len(flight) == 0


def test_a_layer_asked_for_by_many_at_once_is_prepared_once(make_app, loaded_db, monkeypatch):
    from geoservice.layers import sourcecache as tilesource

    app = make_app(loaded_db, TILE_CACHE="none")
    prepared, real = [], tilesource.prepare

    def counted(*args, **kwargs):
        prepared.append(args[1].id)
        time.sleep(0.2)  # a slow preparation: the others arrive while it runs
        return real(*args, **kwargs)

    monkeypatch.setattr(tilesource, "prepare", counted)

    def get(i):  # eight different tiles: only the layer is shared
        with app.test_client() as client:
            return client.get(f"/tiles/communes/9/{400 + i}/226.mvt").status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(get, range(8)))
    assert statuses == [200] * 8
    assert prepared == ["communes"]
