"""The soak test (issue 21): the province load test for a long, bounded time, with imports
and reports beside it, watching the workers' memory and open files.

    .venv/bin/python -m bench.soak [--minutes 30] [--users 50]      # or: make soak

Serves a private copy of the national instance with the demo data (built into
bench/.soak/instance on first use, as `make data` builds instance/) with gunicorn as
`make serve-prod` does, on a free loopback port, and for `--minutes`:

* runs the province load test (bench/loadtest.py, locust, `--users` officials);
* every 5 minutes imports a generated CSV over HTTP as a national editor
  (`POST /imports/{kind}`), certification results and incidents in turn, for the communes
  of Tuyên Quang (08): a real change each time, so the data version moves and the caches
  are invalidated as officials' imports invalidate them;
* every minute asks for the province report (`GET /reports/province/08.pdf`);
* every 30 s reads each gunicorn worker's resident memory (VmRSS of /proc/<pid>/status)
  and open file descriptors (the entries of /proc/<pid>/fd).

At the end: the error count (locust's failures and unanswered requests, and every import
or report not answered 2xx), p50/p99 per request group (locust's, "import" and "report"),
each worker's memory after the warm-up (the last sample before the first import, when
the visits have filled the caches) and at the end (growth %), its fds min/max. Writes
bench/.soak/results.json and the gunicorn log bench/.soak/gunicorn.log (git-ignored), and
prints the section for docs/benchmarks.md. Stops by itself; its servers and locust are
ended on Ctrl-C too. The environment reaches gunicorn, e.g. ``MALLOC_ARENA_MAX=2 make soak``
(see docs/benchmarks.md, "Soak").
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import http.client
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

from bench import loadtest, measure, report

LOGGER = logging.getLogger("bench.soak")
ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / ".soak"
PROVINCE = "08"       # Tuyên Quang: one of the load test's provinces
REPORT_PATH = f"/reports/province/{PROVINCE}.pdf?year=2025"
MEMORY_TARGET_PCT = 10
EARLY_S = 120  # the start the soak took before 4 December: 2 minutes into the load


# --- the instance and its keys ---

def built_instance(folder: Path) -> Path:
    """The national instance with the demo data, built into `folder` when missing."""
    env = {**os.environ, "GEOSERVICE_INSTANCE_PATH": str(folder)}
    for command in (["build-data", "--if-missing"], ["demo-data", "--if-empty"]):
        subprocess.run([str(measure.BIN / "geoservice"), *command], env=env, check=True,
                       stdout=subprocess.DEVNULL)
    return folder


def editor_key(instance: Path) -> str:
    """Create a national editor key in the copy (imports need one)."""
    out = subprocess.run([str(measure.BIN / "geoservice"), "keys", "create", "soak-editor",
                          "--role", "editor", "--area", "national"],
                         env={**os.environ, "GEOSERVICE_INSTANCE_PATH": str(instance)},
                         capture_output=True, text=True, check=True).stdout
    return re.search(r"gsk_[\w.-]+", out).group(0)


def code_snapshot(target: Path) -> Path:
    """A copy of the service's code as it is now (package, layers, static files), which
    the workers run from: the working tree may change during a long run, and a module a
    worker imports late (the reports' are imported on the first report) would otherwise be
    whatever the tree holds at that moment."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for name in ("geoservice", "layers", "static"):
        shutil.copytree(ROOT / name, target / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("node_modules", "package.json"):
        if (ROOT / name).exists():
            (target / name).symlink_to(ROOT / name)
    return target


def server(code: Path, instance: Path, port: int, log: Path):
    """gunicorn as measure.server starts it (production settings, disk tile cache), but
    running the code snapshot: the settings file is read by its path (`-c python:…` would
    import the package from the working tree in the master, before `--chdir`, and the
    workers would inherit it), and --chdir puts the snapshot first on the workers' path.
    gunicorn's log and the workers' output (the app's log) go to `log`."""
    env = {**os.environ, "GEOSERVICE_INSTANCE_PATH": str(instance),
           "GEOSERVICE_TILE_CACHE": "", "GEOSERVICE_GUNICORN_BIND": f"127.0.0.1:{port}",
           "GEOSERVICE_DATABASE_URL": ""}
    return measure.running([str(measure.BIN / "gunicorn"), "-c",
                            str(code / "geoservice" / "gunicorn_conf.py"), "--chdir", str(code),
                            "--error-logfile", str(log), "--capture-output",
                            "geoservice.wsgi:app"], env, port, "/conformance")


def free_port() -> int:
    """A port nobody listens on (127.0.0.1)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the gunicorn workers ---

def _parent(pid: str) -> str | None:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]
    return None


def _children(pid: int, word: str = "") -> list[int]:
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        if _parent(entry.name) != str(pid):
            continue
        with contextlib.suppress(OSError):
            if word in entry.joinpath("cmdline").read_bytes().decode(errors="replace"):
                found.append(int(entry.name))
    return sorted(found)


def gunicorn_master() -> int:
    """The gunicorn master started by this process (measure.running)."""
    masters = _children(os.getpid(), "gunicorn")
    if len(masters) != 1:
        raise RuntimeError(f"expected one gunicorn child of this process, found {masters}")
    return masters[0]


def worker_sample(master: int) -> dict[str, dict]:
    """RSS (MB), open fds and CPU seconds used of each worker of `master`, by pid."""
    out = {}
    for pid in _children(master):
        with contextlib.suppress(OSError):  # a worker that just ended
            status = Path(f"/proc/{pid}/status").read_text()
            rss_kb = int(re.search(r"^VmRSS:\s+(\d+)", status, re.M).group(1))
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            out[str(pid)] = {"rss_mb": round(rss_kb / 1024, 1),
                             "fds": len(os.listdir(f"/proc/{pid}/fd")),
                             "cpu_s": round((int(fields[11]) + int(fields[12]))
                                            / os.sysconf("SC_CLK_TCK"), 1)}
    return out


# --- what runs beside the load ---

class Timed:
    """Requests of one kind (import, report): seconds, statuses, what went wrong."""

    def __init__(self, name: str, start: float):
        self.name, self.start, self.seconds, self.errors, self.log = name, start, [], [], []

    def record(self, started: float, status: int | None, detail: str = "") -> None:
        """One request's outcome (status None: no answer)."""
        seconds = time.perf_counter() - started
        at = round(time.monotonic() - seconds - self.start)  # s into the run it started
        self.log.append({"at_s": at, "seconds": round(seconds, 2), "status": status})
        if status is not None and 200 <= status < 300:
            self.seconds.append(seconds)
        else:
            self.errors.append({"at_s": at, "seconds": round(seconds, 1), "status": status,
                                "detail": detail[:300]})
            LOGGER.warning("%s failed: %s %s", self.name, status, detail[:300])

    def figures(self) -> dict:
        """Count, errors and p50/p99 (ms) of the answered ones."""
        p = measure.percentiles(self.seconds)
        return {"requests": len(self.seconds) + len(self.errors), "failures": len(self.errors),
                "unfinished": 0, "p50_ms": p.get("p50"), "p99_ms": p.get("p99"),
                "max_ms": round(max(self.seconds) * 1000, 1) if self.seconds else None,
                "errors": self.errors, "log": self.log}


def _request(base: str, method: str, path: str, headers: dict, body: bytes | None = None,
             timeout: float = 180) -> tuple[int, bytes]:
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def province_communes(base: str, key: str) -> list[dict]:
    """Code and an inner point of each commune of PROVINCE (from the feature API)."""
    import shapely.geometry

    status, body = _request(base, "GET", f"/collections/communes/items?limit=1000"
                            f"&province_code={PROVINCE}", {"X-API-Key": key})
    if status != 200:
        raise RuntimeError(f"communes of {PROVINCE}: HTTP {status}")
    out = []
    for feature in json.loads(body)["features"]:
        point = shapely.geometry.shape(feature["geometry"]).representative_point()
        out.append({"code": feature["id"], "lon": round(point.x, 6), "lat": round(point.y, 6)})
    return out


def import_file(number: int, communes: list[dict], run: str) -> tuple[str, str]:
    """The `number`th import's (kind, CSV text): certification results and incidents in
    turn, every row different from the previous import's."""
    if number % 2:
        rows = ["ref,date,category,lon,lat,severity,commune_code"]
        day = datetime.date(2025, 1, 1) + datetime.timedelta(days=number * 7)
        rows += [f"SOAK-{run}-{number}-{i},{day.isoformat()},drugs,{c['lon']},{c['lat']},"
                 f"medium,{c['code']}" for i, c in enumerate(communes[:60])]
        return "incidents", "\n".join(rows) + "\n"
    rows = ["commune_code,year,group,reviewed,certified"]
    for i, commune in enumerate(communes):
        reviewed = 20 + (i % 7)
        rows.append(f"{commune['code']},2025,residential,{reviewed},"
                    f"{reviewed - (number + i) % 9}")
    return "certification", "\n".join(rows) + "\n"


def post_import(base: str, key: str, kind: str, text: str, timed: Timed) -> None:
    """POST /imports/{kind} with the CSV as the multipart field `file`."""
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"soak-{kind}.csv\"\r\nContent-Type: text/csv\r\n\r\n{text}\r\n"
            f"--{boundary}--\r\n").encode()
    started = time.perf_counter()
    try:
        status, answer = _request(base, "POST", f"/imports/{kind}", {
            "X-API-Key": key, "Content-Type": f"multipart/form-data; boundary={boundary}"},
            body)
    except OSError as error:
        timed.record(started, None, f"{kind}: {type(error).__name__}: {error}")
        return
    timed.record(started, status, f"{kind}: {answer[:300].decode(errors='replace')}")
    if status == 201:
        LOGGER.info("import %s: %s", kind, answer[:200].decode(errors="replace"))


def get_report(base: str, key: str, timed: Timed) -> None:
    """GET the province report; a 2xx that is no PDF counts as an error."""
    started = time.perf_counter()
    try:
        status, body = _request(base, "GET", REPORT_PATH, {"X-API-Key": key})
    except OSError as error:
        timed.record(started, None, f"{type(error).__name__}: {error}")
        return
    if status == 200 and not body.startswith(b"%PDF"):
        status = -status
    timed.record(started, status, body[:200].decode(errors="replace"))


def every(period: float, stop: threading.Event, action, start: float, until: float) -> None:
    """Call `action(n)` at start + (n + 1) * period, before start + until, until `stop` is
    set. An import at the load's very end would be seen by no one (the officials are
    leaving) and its slow answers counted as unanswered: none starts on the last second."""
    n = 0
    while start + (n + 1) * period < start + until and not stop.wait(
            max(0.0, start + (n + 1) * period - time.monotonic())):
        action(n)
        n += 1


# --- the run ---

def soak(args) -> dict:
    """Run the soak; its figures."""
    source = built_instance(args.instance)
    OUT.mkdir(parents=True, exist_ok=True)
    log = OUT / "gunicorn.log"
    log.unlink(missing_ok=True)
    code = code_snapshot(OUT / "code")
    seconds = int(args.minutes * 60)
    results: dict = {"machine": report.machine(), "started": time.strftime("%Y-%m-%d %H:%M"),
                     "minutes": args.minutes, "users": args.users,
                     "import_every_s": args.import_every, "report_every_s": args.report_every,
                     "sample_every_s": args.sample_every, "warmup_s": args.warmup,
                     "code": _tree_state()}
    with tempfile.TemporaryDirectory(prefix="geoservice-soak-") as tmp:
        instance = measure.copy_instance(source, Path(tmp) / "instance")
        viewer, editor = measure.national_key(instance), editor_key(instance)
        port = free_port()
        with server(code, instance, port, log) as base:
            master = gunicorn_master()
            preflight = Timed("preflight", time.monotonic())
            get_report(base, viewer, preflight)  # also loads the report modules once
            if preflight.errors:
                raise RuntimeError(f"the report fails before the load: {preflight.errors}")
            communes = province_communes(base, viewer)
            results["idle"] = worker_sample(master)
            LOGGER.info("gunicorn %s on %s, workers %s; %d communes of %s", master, base,
                        results["idle"], len(communes), PROVINCE)
            stop, start, run = threading.Event(), time.monotonic(), uuid.uuid4().hex[:6]
            imports, reports, samples = Timed("import", start), Timed("report", start), []

            def sample(_n):
                samples.append({"t_s": round(time.monotonic() - start),
                                "workers": worker_sample(master)})
                LOGGER.info("t=%ss workers %s; imports %d (%d failed), reports %d "
                            "(%d failed)", samples[-1]["t_s"], samples[-1]["workers"],
                            len(imports.seconds) + len(imports.errors), len(imports.errors),
                            len(reports.seconds) + len(reports.errors), len(reports.errors))

            def do_import(n):
                post_import(base, editor, *import_file(n, communes, run), imports)

            threads = [threading.Thread(target=every, daemon=True, name=name,
                                        args=(period, stop, action, start,
                                              seconds + (60 if name == "sample" else 0)))
                       for name, period, action in (
                           ("sample", args.sample_every, sample),
                           ("import", args.import_every, do_import),
                           ("report", args.report_every,
                            lambda _n: get_report(base, viewer, reports)))]
            for thread in threads:
                thread.start()
            try:
                load = loadtest.run(base, users=args.users, seconds=seconds, key=viewer)
            finally:
                stop.set()
                for thread in threads:
                    thread.join(200)
            samples.append({"t_s": round(time.monotonic() - start), "after_load": True,
                            "workers": worker_sample(master)})
    results.update(finished=time.strftime("%Y-%m-%d %H:%M"), load=load, samples=samples,
                   imports=imports.figures(), reports=reports.figures(),
                   workers=workers_summary(samples, args.warmup, seconds))
    results["errors"] = (load.get("failures", 0) + load.get("unfinished", 0)
                         + len(imports.errors) + len(reports.errors)
                         + (1 if "error" in load else 0))
    results["log_problems"] = log_problems(log)
    return results


def _tree_state() -> str:
    """The commit and whether the tree had uncommitted changes (the snapshot's code)."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True,
                              text=True).stdout.strip()
    changed = len(git("status", "--porcelain", "geoservice", "layers", "static").splitlines())
    return f"{git('rev-parse', '--short', 'HEAD')}" + (f" + {changed} uncommitted files"
                                                       if changed else "")


def workers_summary(samples: list[dict], warmup: float, seconds: float,
                    early: float = EARLY_S) -> dict:
    """Per worker: RSS at the first sample after the warm-up and at the last during the
    load, growth %, the highest RSS, fds min/max (over the samples during the load); and
    the growth from the first sample after `early` seconds (the runs before 4 December
    took their start there, while the caches were still filling)."""
    during = [s for s in samples if not s.get("after_load") and s["t_s"] <= seconds + 5]
    out = {}
    for pid in dict.fromkeys(p for s in during for p in s["workers"]):
        series = [(s["t_s"], s["workers"][pid]) for s in during if pid in s["workers"]]
        warm = [(t, v) for t, v in series if t >= warmup] or series
        (t0, first), (t1, last) = warm[0], warm[-1]
        soon = next((v for t, v in series if t >= early), first)
        out[pid] = {"early_rss_mb": soon["rss_mb"],
                    "growth_from_early_pct": round(100 * (last["rss_mb"] / soon["rss_mb"] - 1),
                                                   1),
                    "start_t_s": t0, "start_rss_mb": first["rss_mb"], "end_t_s": t1,
                    "end_rss_mb": last["rss_mb"],
                    "growth_pct": round(100 * (last["rss_mb"] / first["rss_mb"] - 1), 1),
                    "max_rss_mb": max(v["rss_mb"] for _t, v in series),
                    "fds_min": min(v["fds"] for _t, v in series),
                    "fds_max": max(v["fds"] for _t, v in series),
                    "samples": len(series)}
    return out


def log_problems(log: Path) -> list[str]:
    """The gunicorn log's errors, tracebacks and worker restarts (first 20 lines)."""
    if not log.exists():
        return []
    pattern = re.compile(r"ERROR|CRITICAL|Traceback|WORKER TIMEOUT|Booting worker|exited")
    lines = [line for line in log.read_text(errors="replace").splitlines()
             if pattern.search(line)]
    return lines[:20]


def markdown(results: dict) -> str:
    """The soak's table for docs/benchmarks.md."""
    load = results["load"]
    groups = {**load.get("groups", {}), "import": results["imports"],
              "report": results["reports"]}
    lines = [f"- Errors: **{results['errors']}** (locust failures {load.get('failures')}, "
             f"unanswered {load.get('unfinished')}, imports {results['imports']['failures']} "
             f"of {results['imports']['requests']}, reports {results['reports']['failures']} "
             f"of {results['reports']['requests']}); {load.get('requests')} locust requests "
             f"({load.get('requests_per_s')}/s).", "",
             "| requests | count | failed | unanswered | p50 ms | p99 ms |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {name} | {g['requests']} | {g['failures']} | {g['unfinished']} | "
              f"{g.get('p50_ms', '–')} | {g.get('p99_ms', '–')} |" for name, g in groups.items()]
    lines += ["", f"| worker (pid) | RSS at {EARLY_S // 60} min MB | RSS after warm-up MB | "
              "RSS at the end MB | growth (from 2 min) | highest MB | open fds min–max | "
              "target |", "|---|---|---|---|---|---|---|---|"]
    for pid, w in results["workers"].items():
        ok = w["growth_pct"] < MEMORY_TARGET_PCT
        lines.append(f"| {pid} | {w['early_rss_mb']} | {w['start_rss_mb']} "
                     f"(t={w['start_t_s']} s) | {w['end_rss_mb']} (t={w['end_t_s']} s) | "
                     f"{w['growth_pct']} % ({w['growth_from_early_pct']} %) | "
                     f"{w['max_rss_mb']} | {w['fds_min']}–{w['fds_max']} | growth < "
                     f"{MEMORY_TARGET_PCT} %: {'met' if ok else '**not met**'} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    """Parse the options, run the soak, write and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--import-every", type=float, default=300, help="seconds")
    parser.add_argument("--report-every", type=float, default=60, help="seconds")
    parser.add_argument("--sample-every", type=float, default=30, help="seconds")
    parser.add_argument("--warmup", type=float, default=None,
                        help="seconds of load before the memory at start is taken (default: "
                        "the last sample before the first import: the officials' visits "
                        "have filled the caches by then)")
    parser.add_argument("--instance", type=Path, default=OUT / "instance",
                        help="the built instance to copy (built there when missing)")
    args = parser.parse_args()
    if args.warmup is None:
        args.warmup = args.import_every - args.sample_every
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    # SIGTERM as Ctrl-C: the finally blocks end gunicorn and locust
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    results = soak(args)
    (OUT / "results.json").write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    LOGGER.info("written %s", OUT / "results.json")
    print(markdown(results))  # noqa: T201 - the section for docs/benchmarks.md


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
