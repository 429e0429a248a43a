"""One computation for concurrent requests of the same thing.

When a province's officials open the map together, dozens of requests ask at once for the
same layer to be prepared (seconds of work) or the same tile to be drawn. Without this,
each request does the whole work itself and all of them finish late; with it, the first
does the work and the others wait for its answer (as Go's singleflight does).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")


class _Call:
    def __init__(self):
        self.done = threading.Event()
        self.value = None
        self.error: BaseException | None = None


class SingleFlight:
    """Concurrent `run` calls with equal keys share one call of `compute`."""

    def __init__(self):
        self._lock = threading.Lock()
        self._calls: dict[Hashable, _Call] = {}

    def run(self, key: Hashable, compute: Callable[[], T]) -> T:
        """Return `compute()`, or the answer of the call with this key already under way
        (its exception is raised in every waiting caller too)."""
        with self._lock:
            call = self._calls.get(key)
            leader = call is None
            if leader:
                call = self._calls[key] = _Call()
        if not leader:
            call.done.wait()
            if call.error is not None:
                raise call.error
            return call.value
        try:
            call.value = compute()
        except BaseException as error:
            call.error = error
            raise
        finally:
            with self._lock:
                del self._calls[key]
            call.done.set()
        return call.value

    def __len__(self) -> int:
        return len(self._calls)
