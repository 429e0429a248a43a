"""Signing in costs the same whatever the name: an unknown name, a disabled account, a
locked account and a real account's wrong password each do one argon2 verification, so
the medians of their answer times (through the real form, on both stores) lie within 25 %
of each other and a timed attempt cannot tell which names exist.

Re-run: ``.venv/bin/python -m pytest -q -p no:cacheprovider -s
tests/security/test_login_timing.py`` (``-s`` prints the medians)."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta

import pytest

from geoservice import users
from tests.security.conftest import add_user, csrf_token, make_world

ROUNDS = 25  # per case, interleaved: about 4 s per store
TOLERANCE = 1.25


@pytest.mark.parametrize("backend_kind", ["sqlite", "postgis"])
def test_every_refused_sign_in_costs_the_same(request, tmp_path_factory, loaded_db, built,
                                               backend_kind):
    world, cleanup = make_world(backend_kind, tmp_path_factory, loaded_db, built,
                                LOGIN_RATE_LIMIT="100000 per minute",
                                LOGIN_MAX_FAILURES=10**6)
    request.addfinalizer(cleanup)
    request.addfinalizer(world.store.close)
    store = world.store
    real, disabled, locked = (add_user(store) for _ in range(3))
    users.set_enabled(store, disabled, False)
    until = (datetime.now(UTC) + timedelta(days=1)).isoformat(timespec="seconds")
    store.update_user(locked, {"locked_until": until})
    cases = {"unknown": "nobody-" + real, "disabled": disabled, "locked": locked,
             "wrong password": real}
    client = world.app.test_client()
    token = csrf_token(client)
    times: dict[str, list[float]] = {case: [] for case in cases}
    for round_ in range(ROUNDS + 2):
        for case, name in cases.items():
            started = time.perf_counter()
            response = client.post("/login", data={"username": name, "password": "wrong "
                                                   "password 123", "csrf_token": token})
            elapsed = time.perf_counter() - started
            assert response.status_code == 401, (case, response.status_code)
            if round_ >= 2:  # the first rounds warm caches (the dummy hash, statements)
                times[case].append(elapsed)
    medians = {case: statistics.median(values) * 1000 for case, values in times.items()}
    print(f"\nsign-in medians on {backend_kind} (ms):",
          ", ".join(f"{case} {ms:.1f}" for case, ms in medians.items()))
    assert max(medians.values()) <= TOLERANCE * min(medians.values()), medians
    # Nothing was locked or counted differently by the measurement itself.
    assert store.get_user(real)["locked_until"] is None
