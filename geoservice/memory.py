"""Giving memory back to the system after a large, short-lived computation.

A worker computes some things rarely but with a large transient footprint: a year's
indicators from every record (about 130 MB of Python objects nationally), an analysis, a
report's layout. When they are done the memory is free but glibc's allocator keeps it in
its arenas, so a long-running worker's resident size steps up after each such computation
(the soak test, bench/soak.py, measured it: after each import the workers recompute).
`give_back` asks glibc to return the free pages of every arena (`malloc_trim(0)`);
elsewhere (another C library, or none) it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools


@functools.cache
def _trim():
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc
        return None


def give_back() -> None:
    """Return the allocator's free memory to the system (glibc only; a few milliseconds)."""
    trim = _trim()
    if trim is not None:
        trim(0)
