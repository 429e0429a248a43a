"""Progress of long work (an import, a boundary build, the demo data), for whoever shows it.

The work takes an optional callback ``progress(stage, done, total)``: `done` of the
`total` units of `stage` are done (rows, records, steps: the function says which). Within a
stage `done` only grows and its last call has ``done == total``; the stages come one after
the other. The command line draws the calls as progress bars (`geoservice.cli.progress`);
the library knows nothing of how they are shown, and without a callback nothing is told.
Work going over many items tells every `EVERY` items, not every item.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TypeVar

Progress = Callable[[str, int, int], None]
EVERY = 500  # items between two calls of a callback over many items

T = TypeVar("T")


def counted(progress: Progress | None, stage: str, items: Sequence[T],
            every: int = EVERY) -> Iterable[T]:
    """Return `items` to go over, telling `progress` of `stage` every `every` items and at
    the end; without a callback, `items` themselves (nothing is added to the loop)."""
    return items if progress is None else _counting(progress, stage, items, every)


def _counting(progress: Progress, stage: str, items: Sequence[T], every: int) -> Iterator[T]:
    total = len(items)
    for done, item in enumerate(items):
        if done % every == 0:
            progress(stage, done, total)
        yield item
    progress(stage, total, total)


class Steps:
    """A piece of work made of named steps, in order: `start` tells `progress` that the
    step begins (``progress(name, steps done, steps in all)``), `finish` that all are done
    (``progress("done", n, n)``)."""

    def __init__(self, progress: Progress | None, names: Sequence[str]) -> None:
        self.progress, self.names = progress, tuple(names)

    def start(self, name: str) -> None:
        """Step `name` (one of `names`) begins."""
        done = self.names.index(name)
        if self.progress is not None:
            self.progress(name, done, len(self.names))

    def finish(self) -> None:
        """Every step is done."""
        if self.progress is not None:
            self.progress("done", len(self.names), len(self.names))
