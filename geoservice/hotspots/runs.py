"""Analysis runs: a registry of runs and results, a background thread pool, progress.

An analysis is named by its parameters (`AnalysisParams`), the reader's area (national or
a province: one area's results never serve another) and the store's data version (every
import changes it). `Registry.request` answers at once: the finished result when one
exists for that name (in memory or in the instance folder, ``analyses/<method>/…``),
the run already under way for it, or a new run queued on the pool. `layer_result` is what
maps use: the current result, else the previous one for the same parameters and area
(stale, while the new one is computed), else `AnalysisNotReady`. It never waits.

Files: ``<folder>/<method>/<parameters and area digest>/<data version digest>.json`` (the
run's summary) beside the result (``.tif`` or ``.geojson``); older versions beyond the
newest two are removed when a new result is written.

`STATUS` (a context variable) tells the web layer what the current request was answered
from, so it can add ``X-Analysis-Status`` and ``Retry-After`` headers.

Each app has one registry (`geoservice.services.Services.analysis_runs`, results under
``<instance>/analyses``); code that needs it is given it, or the services holding it.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd

from geoservice.errors import AnalysisNotReady
from geoservice.hotspots.compute import COMPUTE, RESULT_SUFFIX, write_json
from geoservice.hotspots.params import AnalysisParams, describe
from geoservice.memory import give_back
from geoservice.store.records import utc_now

LOGGER = logging.getLogger(__name__)

WORKERS = 2
KEEP_VERSIONS = 2
MAX_RUNS = 2000
RETRY_AFTER_SECONDS = 5
STATUS: contextvars.ContextVar = contextvars.ContextVar("geoservice_analysis_status",
                                                        default=None)


@dataclass
class Result:
    """A finished analysis: its files and summary."""

    method: str
    token: str
    data_version: str
    path: Path  # the summary (.json); the result file sits beside it
    summary: dict
    _frame: gpd.GeoDataFrame | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def file(self) -> Path | None:
        """The result file (GeoTIFF or GeoJSON), None for summary-only methods."""
        suffix = RESULT_SUFFIX[self.method]
        return None if suffix is None else self.path.with_suffix(suffix)

    def frame(self) -> gpd.GeoDataFrame:
        """The zones (GeoJSON result) as a GeoDataFrame indexed by ``zone_id``."""
        with self._lock:
            if self._frame is None:
                frame = gpd.read_file(self.file)
                self._frame = frame.set_index(frame["zone_id"].astype(str), drop=False)
            return self._frame

    def features(self) -> list[tuple[str, dict, object]]:
        """The zones as (id, properties, geometry), properties as plain Python values."""
        frame = self.frame()
        columns = [c for c in frame.columns if c != "geometry"]
        rows = frame[columns].astype(object).where(frame[columns].notna(), None)
        return [(str(fid), {k: _plain(v) for k, v in zip(columns, values)}, geometry)
                for fid, values, geometry in zip(frame.index, rows.itertuples(index=False),
                                                 frame.geometry)]


def _plain(value):
    return value.item() if hasattr(value, "item") else value


@dataclass
class Run:
    """One computation of an analysis, with its progress."""

    id: str
    params: AnalysisParams
    area: str | None
    data_version: str
    token: str
    status: str = "queued"  # queued, running, done, failed
    percent: int = 0
    stage: str = "queued"
    created: str = field(default_factory=utc_now)
    started: str | None = None
    finished: str | None = None
    error: str | None = None
    result: Result | None = None
    claimed: bool = False  # a thread has taken it (the pool's or a waiting caller's)
    seconds: float | None = None  # how long the computation took
    done: threading.Event = field(default_factory=threading.Event, repr=False)

    def update(self, percent: float, stage: str) -> None:
        """Record progress (called by the computation)."""
        self.percent, self.stage = max(self.percent, min(99, int(percent))), stage

    def as_dict(self) -> dict:
        """The run as JSON-ready data (without links)."""
        return {"id": self.id, "method": self.params.method, "status": self.status,
                "progress": {"percent": self.percent, "stage": self.stage},
                "params": describe(self.params), "area": self.area or "national",
                "data_version": self.data_version, "created": self.created,
                "started": self.started, "finished": self.finished, "seconds": self.seconds,
                "error": self.error,
                "result": self.result.summary if self.result else None}


class Registry:
    """Runs and results of one store, computed on a small thread pool."""

    def __init__(self, folder: Path, workers: int = WORKERS):
        self.folder = Path(folder)
        self.workers = workers
        self._lock = threading.Lock()
        self._runs: dict[str, Run] = {}
        self._by_token: dict[str, Run] = {}
        self._pool: ThreadPoolExecutor | None = None

    # --- asking -------------------------------------------------------------------------

    def request(self, store, params: AnalysisParams, area: str | None,
                wait: bool = False) -> Run:
        """The run for these parameters at the current data version (started if needed).

        With `wait` the call returns when the run has finished (computing it in this
        thread when nobody else is); otherwise at once.
        """
        version = store.data_version()
        token = _digest(params.key(), area or "national", version)
        with self._lock:
            run = self._by_token.get(token)
            if run is None:
                run = self._new_run(params, area, version, token)
                found = self._load(run)
                if found is not None:
                    self._finish(run, found)
                elif not wait:
                    run.claimed = True
                    self._executor().submit(self._execute, run, store)
            start_here = wait and not run.claimed
            if start_here:
                run.claimed = True
        if start_here:
            self._execute(run, store)
        elif wait:
            run.done.wait()
        return run

    def run(self, run_id: str) -> Run | None:
        """A run by its id (None when unknown)."""
        with self._lock:
            return self._runs.get(run_id)

    def available(self, store, params: AnalysisParams,
                  area: str | None) -> tuple[Result | None, bool, Run]:
        """(the current result, else the previous one, or None; whether it is current; run)."""
        run = self.request(store, params, area)
        if run.status == "done":
            return run.result, True, run
        return self.previous(params, area), False, run

    def previous(self, params: AnalysisParams, area: str | None) -> Result | None:
        """The newest finished result for these parameters and area, any data version."""
        folder = self._base_folder(params, area)
        summaries = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime,
                           reverse=True) if folder.is_dir() else []
        for path in summaries:
            result = self._read(path, params.method)
            if result is not None:
                with self._lock:
                    known = self._by_token.get(result.token)
                return known.result if known is not None and known.result else result
        return None

    def layer_result(self, store, params: AnalysisParams, area: str | None,
                     wait: bool = False) -> Result:
        """The result a map shows: current, else previous (stale), else AnalysisNotReady.

        Sets `STATUS` to (state, run) for the web layer: state is "current", "stale",
        "queued", "running" or "failed".
        """
        run = self.request(store, params, area, wait=wait)
        if run.status == "done":
            STATUS.set(("current", run))
            return run.result
        older = self.previous(params, area)
        if older is not None:
            STATUS.set(("stale", run))
            return older
        STATUS.set((run.status, run))
        raise AnalysisNotReady(run, RETRY_AFTER_SECONDS)

    # --- computing ----------------------------------------------------------------------

    def _execute(self, run: Run, store) -> None:
        run.status, run.stage = "running", "starting"
        run.started = run.started or utc_now()
        clock = time.perf_counter()
        summary_path = self._base_folder(run.params, run.area) / f"{_digest(run.data_version)}.json"
        try:
            summary_path.parent.mkdir(parents=True, exist_ok=True)
            summary = COMPUTE[run.params.method](store, run.params, summary_path.with_suffix(""),
                                                 run.update)
            document = {"method": run.params.method, "token": run.token,
                        "params": run.params.canonical(), "area": run.area or "national",
                        "data_version": run.data_version, "finished": utc_now(),
                        "summary": summary}
            write_json(summary_path, document)
            result = Result(run.params.method, run.token, run.data_version, summary_path,
                            summary)
            run.seconds = round(time.perf_counter() - clock, 2)
            with self._lock:
                self._finish(run, result)
            self._prune(summary_path.parent)
            give_back()  # the analysis's arrays and frames are freed
        except ValueError as error:
            self._fail(run, str(error))
        except Exception:  # noqa: BLE001 - a failed run must not take the pool down
            LOGGER.exception("analysis run %s (%s) failed", run.id, run.params.method)
            self._fail(run, "the analysis failed unexpectedly; see the server log")

    def _finish(self, run: Run, result: Result) -> None:
        run.result, run.status, run.percent, run.stage = result, "done", 100, "done"
        run.started = run.started or utc_now()
        run.finished = utc_now()
        run.done.set()
        LOGGER.info("analysis %s %s ready (%s)", run.params.method, run.params.key(), run.id)

    def _fail(self, run: Run, message: str) -> None:
        run.status, run.error, run.finished = "failed", message, utc_now()
        run.done.set()
        LOGGER.warning("analysis run %s failed: %s", run.id, message)

    def _new_run(self, params: AnalysisParams, area: str | None, version: str,
                 token: str) -> Run:
        run = Run(uuid.uuid4().hex[:16], params, area, version, token)
        self._runs[run.id] = run
        self._by_token[token] = run
        if len(self._runs) > MAX_RUNS:  # forget the oldest finished runs
            for old in [r for r in self._runs.values() if r.done.is_set()][:MAX_RUNS // 10]:
                self._runs.pop(old.id, None)
                if self._by_token.get(old.token) is old:
                    del self._by_token[old.token]
        return run

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="analysis")
        return self._pool

    def shutdown(self) -> None:
        """Stop the pool after the runs under way (used when an app is torn down)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    # --- files --------------------------------------------------------------------------

    def _base_folder(self, params: AnalysisParams, area: str | None) -> Path:
        return self.folder / params.method / _digest(params.key(), area or "national")

    def _load(self, run: Run) -> Result | None:
        path = self._base_folder(run.params, run.area) / f"{_digest(run.data_version)}.json"
        result = self._read(path, run.params.method)
        return result if result is not None and result.token == run.token else None

    def _read(self, path: Path, method: str) -> Result | None:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        result = Result(method, document["token"], document["data_version"], path,
                        document["summary"])
        if result.file is not None and not result.file.exists():
            return None
        return result

    def _prune(self, folder: Path) -> None:
        summaries = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime,
                           reverse=True)
        for old in summaries[KEEP_VERSIONS:]:
            for path in (old, old.with_suffix(".tif"), old.with_suffix(".geojson")):
                path.unlink(missing_ok=True)


def _digest(*parts: str) -> str:
    return hashlib.sha1("|".join(parts).encode()).hexdigest()[:16]
