"""The store as one report (or one batch of reports) reads it: each distinct read once.

The indicator functions read the same records several times (a year's certification rows
for its rates, again as the previous year of the year after; the models for two levels),
and the reports of a province's communes all need the province's frames. `ReportReads`
keeps the store's answers and the indicator functions' frames for as long as it lives;
everything else goes to the store. The functions themselves are unchanged: the figures are
theirs.
"""

from __future__ import annotations


class ReportReads:
    """The store, with its feature and record reads kept for the life of one report (or
    one batch of reports).

    The indicator functions read the same records several times (a year's certification
    rows for the rates, again for the year after's change; the models for two levels);
    here each distinct query reaches the store once. Everything else goes to the store.
    """

    def __init__(self, store):
        self.store = store
        self._pages: dict = {}

    def query_records(self, kind: str, query):
        """A page of records, read once per distinct query."""
        return self._remember(("records", kind, query), self.store.query_records, kind, query)

    def query(self, collection: str, query):
        """A page of features, read once per distinct query."""
        return self._remember(("features", collection, query), self.store.query, collection,
                              query)

    def result(self, function, args: tuple, kwargs: dict):
        """`function(store, *args, **kwargs)` of an indicator function, computed once."""
        key = ("result", function.__module__, function.__qualname__, args,
               tuple(sorted(kwargs.items())))
        return self._remember(key, function, self, *args, **kwargs)

    def _remember(self, key, read, *args, **kwargs):
        if key not in self._pages:
            self._pages[key] = read(*args, **kwargs)
        return self._pages[key]

    def __getattr__(self, name: str):
        return getattr(self.store, name)


def computed(store, function, *args, **kwargs):
    """An indicator function's frame for the store; kept for the batch by `ReportReads`.

    The frames it returns are shared: callers filter them into new frames, never change
    them.
    """
    if isinstance(store, ReportReads):
        return store.result(function, args, kwargs)
    return function(store, *args, **kwargs)


def plain_store(store):
    """The store behind `ReportReads` (published indicators keep their own cache per store)."""
    return store.store if isinstance(store, ReportReads) else store
