"""`give_back` returns freed memory to the system: when many 1 kB allocations are freed
around a few survivors, glibc keeps their pages; after `give_back` the process's resident
size falls back (Linux with glibc, as the service runs)."""

from __future__ import annotations

import sys
import threading

import pytest

from geoservice.memory import _trim, give_back


def _anonymous_mb() -> float:
    for line in open("/proc/self/status", encoding="ascii"):
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no RssAnon in /proc/self/status")


@pytest.mark.skipif(not sys.platform.startswith("linux") or _trim() is None,
                    reason="malloc_trim is glibc's (Linux)")
def test_freed_small_objects_are_given_back():
    held, kept = [], []

    def allocate():  # in a thread: its memory comes from a thread arena, as in a worker
        # ~200 MB of 1 kB strings: past Python's small-object allocator, from glibc's malloc
        held.append([f"{i:08d}" * 128 for i in range(200_000)])
        kept.extend(held[0][::200])  # a few survivors spread over the pages, as in a worker

    worker = threading.Thread(target=allocate)
    worker.start()
    worker.join()
    before = _anonymous_mb()
    held.clear()
    freed = _anonymous_mb()  # free pages between the survivors stay with the allocator
    give_back()
    after = _anonymous_mb()
    assert freed - after > 60, (before, freed, after)  # by the trim, not by the free
