"""Progress bars for the library's ``progress(stage, done, total)`` calls (`geoservice.progress`).

`StageBars` draws one click progress bar per stage (an import: rows read, rows checked,
units checked, records written); `StepBar` one bar over the steps of a piece of work, its
label naming the step under way (a boundary build). Both write to stderr, so that what a
command prints on stdout stays as it was; when stderr is not a terminal click prints only
each bar's label, once. Use them as context managers: a bar left open by an error is
closed before the command reports the error, and a log line written to the terminal
while a bar is drawn starts on a line of its own.
"""

from __future__ import annotations

import logging
import sys

import click


class _Bars:
    def __init__(self, label: str) -> None:
        self.label = label
        self._bar, self._handlers, self._broken = None, [], None

    def __enter__(self):
        if _terminal(sys.stderr):
            self._handlers = [handler for handler in logging.getLogger().handlers
                              if _terminal(getattr(handler, "stream", None))]
        for handler in self._handlers:
            handler.addFilter(self._below_the_bar)
        return self

    def __exit__(self, *_exc) -> None:
        self._close()
        for handler in self._handlers:
            handler.removeFilter(self._below_the_bar)

    def _below_the_bar(self, _record: logging.LogRecord) -> bool:
        """A log line while a bar is drawn goes on a line of its own, not after the bar."""
        if self._bar is not None and self._broken != self._bar.pos:
            self._broken = self._bar.pos
            sys.stderr.write("\n")
            sys.stderr.flush()
        return True

    def _open(self, label: str, total: int) -> None:
        self._bar = click.progressbar(length=total, label=label, file=sys.stderr)
        self._broken = None
        self._bar.__enter__()

    def _advance(self, done: int, total: int) -> None:
        self._bar.length = total
        self._bar.update(done - self._bar.pos)
        if done >= total:
            self._close()

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


class StageBars(_Bars):
    """One bar per stage, labelled "`label`: stage"; a stage of nothing shows no bar."""

    def __init__(self, label: str) -> None:
        super().__init__(label)
        self._stage, self._finished = None, set()

    def __call__(self, stage: str, done: int, total: int) -> None:
        """Draw `done` of `total` of `stage` (a new stage closes the bar of the last)."""
        if total <= 0 or stage in self._finished:
            return
        if stage != self._stage or self._bar is None:
            self._close()
            self._stage = stage
            self._open(f"{self.label}: {stage}", total)
        if done >= total:
            self._finished.add(stage)
        self._advance(done, total)


class StepBar(_Bars):
    """One bar over the steps, labelled "`label`: the step under way" (then "done")."""

    WIDTH = 38  # a step's name is padded to this on a terminal: the bar keeps its place

    def __call__(self, step: str, done: int, total: int) -> None:
        """Draw `done` of `total` steps, `step` under way."""
        if total <= 0:
            return
        name = step.ljust(self.WIDTH) if _terminal(sys.stderr) else step
        if self._bar is None:
            self._open(f"{self.label}: {name}", total)
        self._bar.label = f"{self.label}: {name}"
        self._advance(done, total)


def _terminal(stream) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False
