"""Batches of commune reports made in the background: a job per batch, one at a time.

`BatchJobs.start` checks nothing itself (the caller has checked the batch, as for a batch
made at once) and queues the job on a pool of one thread, so a process makes one batch at
a time and the others wait their turn (at most `MAX_QUEUED` waiting). The job runs inside
a request context of the report's language, like the command line; its progress is the
number of communes done; it can be cancelled between two communes. The result is written
to ``<instance>/report-batches/<job id>.<zip|pdf>``; the oldest finished jobs beyond
`KEEP_FINISHED` are forgotten with their files.

A job belongs to whoever started it: a signed-in user or a key (by their identity), and
only they may read it. A job started anonymously holds public sections only; its
unguessable id is then what gives access to it.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from geoservice.access import Principal
from geoservice.errors import NotFound, RateLimited

LOGGER = logging.getLogger(__name__)
MAX_QUEUED = 5
KEEP_FINISHED = 20
RETRY_AFTER_SECONDS = 5
FINISHED = ("done", "failed", "cancelled")


class Cancelled(Exception):
    """The job was cancelled between two communes."""


def owner_of(principal: Principal) -> str | None:
    """Whose a job is: the signed-in user's or key's identity; None when anonymous."""
    if not principal.authenticated:
        return None
    return f"{principal.kind}:{principal.ident}"


@dataclass
class BatchJob:
    """One batch being made (or made): what it is, how far it got, where its file is."""

    id: str
    owner: str | None
    fmt: str  # "zip" or "pdf"
    filename: str  # the download's name
    total: int
    done: int = 0
    status: str = "queued"  # queued, running, done, failed, cancelled
    error: str | None = None
    path: Path | None = None
    created: float = field(default_factory=time.time)
    cancel_requested: bool = False

    @property
    def percent(self) -> int:
        """The share of communes done, 0-100."""
        return 100 if self.status == "done" else int(100 * self.done / max(self.total, 1))

    def describe(self) -> dict:
        """The job as its status resource shows it (links are added by the view)."""
        return {"id": self.id, "status": self.status, "format": self.fmt,
                "progress": {"done": self.done, "total": self.total,
                             "percent": self.percent}, "error": self.error}


class BatchJobs:
    """The app's background report batches (one thread: one batch at a time)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.jobs: dict[str, BatchJob] = {}
        self.lock = threading.Lock()
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="report-batch")

    def start(self, app, make, owner: str | None, fmt: str, filename: str,
              total: int, lang: str) -> BatchJob:
        """Queue a job; `make(progress, out)` writes the batch to the file `out`."""
        with self.lock:
            waiting = sum(job.status == "queued" for job in self.jobs.values())
            if waiting >= MAX_QUEUED:
                raise RateLimited(f"{MAX_QUEUED} report batches waiting",
                                  RETRY_AFTER_SECONDS * 6)
            job = BatchJob(uuid.uuid4().hex, owner, fmt, filename, total)
            self.jobs[job.id] = job
            self._forget_old()
        self.pool.submit(self._run, app, job, make, lang)
        return job

    def get(self, job_id: str, owner: str | None) -> BatchJob:
        """The job of that id, if `owner` may read it (else NotFound: nothing is said
        about other people's jobs)."""
        job = self.jobs.get(job_id)
        if job is None or (job.owner is not None and job.owner != owner):
            raise NotFound(f"There is no report batch '{job_id[:64]}'.", parameter="job")
        return job

    def cancel(self, job: BatchJob) -> None:
        """Ask the job to stop before its next commune (a finished job stays as it is)."""
        if job.status not in FINISHED:
            job.cancel_requested = True
            if job.status == "queued":
                job.status = "cancelled"

    def shutdown(self) -> None:
        """Cancel what waits and let the running job stop at its next commune."""
        for job in list(self.jobs.values()):
            self.cancel(job)
        self.pool.shutdown(wait=False, cancel_futures=True)

    def _run(self, app, job: BatchJob, make, lang: str) -> None:
        if job.cancel_requested:
            return
        job.status = "running"
        self.folder.mkdir(parents=True, exist_ok=True)
        out = self.folder / f"{job.id}.{job.fmt}"

        def progress(count: int) -> None:
            if job.cancel_requested:
                raise Cancelled
            job.done += count

        try:
            with app.test_request_context("/", query_string={"lang": lang}):
                make(progress, out)
        except Cancelled:
            out.unlink(missing_ok=True)
            job.status = "cancelled"
        except Exception as error:  # noqa: BLE001 - a failed batch is reported, not raised
            LOGGER.exception("report batch %s failed", job.id)
            out.unlink(missing_ok=True)
            job.status, job.error = "failed", str(error)[:300]
        else:
            job.path, job.status = out, "done"

    def _forget_old(self) -> None:
        finished = sorted((job for job in self.jobs.values() if job.status in FINISHED),
                          key=lambda job: job.created)
        for job in finished[:max(0, len(finished) - KEEP_FINISHED)]:
            if job.path is not None:
                job.path.unlink(missing_ok=True)
            del self.jobs[job.id]
