"""The indicators of new data, computed in a short-lived process and kept in the store.

After an import over HTTP, the worker that took it does not compute the national indicators
itself: a national computation builds some 130 MB of short-lived Python objects, and a
long-running worker never gives all of that memory back to the system (the allocator keeps
the arenas a few long-lived objects stay in). So the worker starts ``python -m
geoservice.indicators.publish`` with its own settings (`published.publish_in_child`), which
computes the latest year's indicators, keeps them in the store's metadata
(`published.indicators`) and exits; every worker then reads them from there. Readers that
ask meanwhile wait for them (`published.PENDING_KEY`) instead of computing them a second
time.
"""

from __future__ import annotations

import json
import logging
import sys


def main() -> None:
    """Read the settings (JSON: DATABASE_URL, CATEGORIES) from standard input, compute,
    keep, exit."""
    from geoservice.indicators.published import warm
    from geoservice.records import catalogue
    from geoservice.store import open_store

    settings = json.load(sys.stdin)
    catalogue.install(settings.get("CATEGORIES") or None)
    store = open_store(settings["DATABASE_URL"])
    try:
        warm(store, wait=False)  # this process is the one the others wait for
    finally:
        store.close()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    main()
