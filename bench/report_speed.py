"""Reports when cold: what an official waits for the first report after the service starts.

    .venv/bin/python -m bench.report_speed [--instance instance] [--runs 3]

Each run starts a fresh service (gunicorn, production settings, as `make serve-prod`) on a
copy of the national instance and times, in a new process each:

* the first province report (`GET /reports/province/08.pdf`, Tuyên Quang);
* the first border-sector report (`GET /reports/border/CN.pdf`, and LA, KH), each after
  its own fresh start;
* the 38-commune batch of a province (`GET /reports/province/{code}/communes.zip?communes=…`,
  the first 38 communes of Tuyên Quang) after a fresh start;
* the CLI province report (`geoservice report province 08 -o …`), start-up included.

Targets (issue "Reports fit for a meeting", item 7): province ≤ 5 s, border sector ≤ 10 s,
38-commune batch ≤ 30 s, CLI ≤ 6 s. Prints the rows for docs/benchmarks.md and writes
bench/.reports/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
import zipfile
from io import BytesIO
from pathlib import Path
from urllib.request import Request, urlopen

from bench import measure

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / ".reports"
PROVINCE = "08"
YEAR = 2025
BATCH = 38
TARGETS = {"province": 5.0, "border": 10.0, "batch": 30.0, "cli": 6.0}
PORT = 5093


def timed(base: str, path: str, key: str, timeout: float = 600) -> tuple[float, bytes]:
    """(seconds, body) of one GET as the national viewer."""
    start = time.perf_counter()
    with urlopen(Request(base + path, headers={"X-API-Key": key}), timeout=timeout) as answer:
        body = answer.read()
        assert answer.status == 200, (path, answer.status)
    return time.perf_counter() - start, body


def first(instance: Path, path: str, check) -> float:
    """Seconds of `path` as the first request of a freshly started service."""
    key = measure.national_key(instance)
    with measure.server(instance, tile_cache="", port=PORT) as base:
        seconds, body = timed(base, path, key)
    check(body)
    return seconds


def is_pdf(body: bytes) -> None:
    """Fail unless `body` is a PDF."""
    assert body.startswith(b"%PDF-"), body[:20]


def communes_of(instance: Path, count: int) -> list[str]:
    """The first `count` commune codes of the province (the batch)."""
    key = measure.national_key(instance)
    with measure.server(instance, tile_cache="", port=PORT) as base:
        _s, body = timed(base, f"/collections/communes/items?province_code={PROVINCE}"
                               "&limit=1000&properties=code&sortby=code", key)
    return [f["id"] for f in json.loads(body)["features"]][:count]


def cli(instance: Path) -> float:
    """Seconds of the CLI province report, start-up included."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bao-cao.pdf"
        start = time.perf_counter()
        subprocess.run([str(measure.BIN / "geoservice"), "report", "province", PROVINCE,
                        "--year", str(YEAR), "-o", str(out)], check=True,
                       capture_output=True,
                       env={**os.environ, "GEOSERVICE_INSTANCE_PATH": str(instance)})
        seconds = time.perf_counter() - start
        is_pdf(out.read_bytes())
    return seconds


def run(source: Path, runs: int) -> dict:
    """Every case `runs` times on a copy of `source`: seconds, median, target, met."""
    with tempfile.TemporaryDirectory() as tmp:
        instance = measure.copy_instance(source, Path(tmp) / "instance")
        codes = communes_of(instance, BATCH)

        def whole_batch(body: bytes) -> None:
            names = zipfile.ZipFile(BytesIO(body)).namelist()
            assert len(names) == len(codes), (len(names), len(codes))

        cases = {
            "province": lambda: first(instance, f"/reports/province/{PROVINCE}.pdf?year={YEAR}",
                                      is_pdf),
            **{f"border {s}": (lambda s=s: first(instance, f"/reports/border/{s}.pdf?year={YEAR}",
                                                 is_pdf)) for s in ("CN", "LA", "KH")},
            "batch": lambda: first(instance, f"/reports/province/{PROVINCE}/communes.zip?"
                                             f"year={YEAR}&communes={','.join(codes)}",
                                   whole_batch),
            "cli": lambda: cli(instance),
        }
        samples: dict = {name: [] for name in cases}
        for _ in range(runs):
            for name, case in cases.items():
                samples[name].append(round(case(), 2))
    results = {}
    for name, values in samples.items():
        target = TARGETS[name.split()[0]]
        median = statistics.median(values)
        results[name] = {"seconds": values, "median": median, "target": target,
                         "met": median <= target}
    results["batch"]["communes"] = len(codes)
    return results


def markdown(results: dict) -> str:
    """The table for docs/benchmarks.md."""
    rows = ["| report, first request after a start | runs (s) | median | target | |",
            "|---|---|---|---|---|"]
    for name, r in results.items():
        mark = "met" if r["met"] else "**not met**"
        rows.append(f"| {name} | {', '.join(f'{v:.2f}' for v in r['seconds'])} | "
                    f"{r['median']:.2f} s | ≤ {r['target']:g} s | {mark} |")
    return "\n".join(rows)


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instance", type=Path, default=ROOT / "instance")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results = run(args.instance, args.runs)
    OUT.mkdir(exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    print(markdown(results))


if __name__ == "__main__":
    main()
