"""The demo data set as a whole: every kind generated for the communes, then imported.

`generate_demo` returns the records; `load_demo` generates them for the communes of a
store and imports them, one batch per kind, under `demo_filename` and `fingerprint`.
"""

from __future__ import annotations

import hashlib

from geoservice.demo.awareness import generate_awareness
from geoservice.demo.certification import generate_certification
from geoservice.demo.common import base_counts, province_arrays
from geoservice.demo.cooperation import generate_cooperation
from geoservice.demo.hot_spots import generate_hot_spots
from geoservice.demo.incidents import generate_incidents
from geoservice.demo.models import generate_models
from geoservice.demo.places import read_units
from geoservice.progress import Progress, counted
from geoservice.store import FeatureQuery
from geoservice.store.records import ImportBatch, RecordWrite

DEFAULT_SEED = 2025
DEFAULT_YEARS = range(2022, 2026)
IMPORTED_BY = "geoservice demo-data"
DEMO_VERSION = 1  # bump when the generator changes what a seed produces
KIND_ORDER = ("certification", "awareness", "models", "incidents", "hot-spots", "cooperation")
GENERATING, WRITING = "generating records", "writing records"  # stages told to `progress`


def demo_filename(seed: int = DEFAULT_SEED) -> str:
    """Return the file name the demo imports are recorded under."""
    return f"synthetic-demo-seed-{seed}"


def fingerprint(records: list[RecordWrite], seed: int = DEFAULT_SEED) -> str:
    """Return the SHA-256 recorded as the demo batch's file hash.

    There is no file: the hash covers the generator version, the seed and the records'
    natural keys (the content follows from those and the communes, deterministically).
    Hashing every record's properties would cost seconds on the national data set.
    """
    digest = hashlib.sha256(f"{DEMO_VERSION}|{seed}|".encode())
    digest.update("\n".join(r.natural_key for r in records).encode())
    return digest.hexdigest()


def generate_demo(communes, years=DEFAULT_YEARS, seed: int = DEFAULT_SEED,
                  border_lines: dict | None = None,
                  progress: Progress | None = None) -> dict[str, list[RecordWrite]]:
    """Return the synthetic records of every kind for these communes and years.

    `communes`: a DataFrame or a list of dicts with ``code``, ``name``, ``province_code``
    and either a ``geometry`` (preferred) or ``lon``/``lat``; optional ``full_name``,
    ``unit_type``, ``border_neighbors``, ``distance_to_border_km``, ``area_km2`` /
    ``official_area_km2``. `border_lines`: optional {neighbour: line geometry} used to place
    near-border points. Deterministic: the same inputs and seed give identical records.
    `progress` hears the kinds generated (stage `GENERATING`).
    """
    years = sorted(int(y) for y in years)
    if not years:
        raise ValueError("no years to generate")
    units = read_units(communes, border_lines)
    provinces = province_arrays(units, seed)
    counts = base_counts(units, seed)
    makers = {
        "certification": lambda: generate_certification(units, provinces, counts, years, seed),
        "awareness": lambda: generate_awareness(units, provinces, years, seed),
        "models": lambda: generate_models(units, provinces, counts, years, seed),
        "incidents": lambda: generate_incidents(units, provinces, years, seed),
        "hot-spots": lambda: generate_hot_spots(units, years, seed),
        "cooperation": lambda: generate_cooperation(units, provinces, years, seed),
    }
    told = counted(progress, GENERATING, list(makers.items()), every=1)
    return {kind: make() for kind, make in told}


def load_demo(store, seed: int = DEFAULT_SEED, years=DEFAULT_YEARS,
              progress: Progress | None = None) -> dict:
    """Generate the demo for the communes in `store` and import it, one batch per kind.

    Returns {kind: ImportOutcome}. Loading again with the same seed changes nothing.
    `progress` hears the kinds generated (`GENERATING`), then the records of all kinds
    written (`WRITING`).
    """
    page = store.query("communes", FeatureQuery(limit=10**6))
    communes = [{**props, "geometry": geometry} for _id, props, geometry in page.features]
    if not communes:
        raise ValueError("the store has no communes: load the boundaries first")
    lines = store.query("border-lines", FeatureQuery(limit=1000))
    border = {props.get("neighbor"): geometry for _id, props, geometry in lines.features
              if geometry is not None}
    generated = generate_demo(communes, years, seed, border_lines=border, progress=progress)
    outcomes, written, total = {}, 0, sum(len(records) for records in generated.values())
    for kind, records in generated.items():
        batch = ImportBatch(kind=kind, filename=demo_filename(seed),
                            sha256=fingerprint(records, seed), imported_by=IMPORTED_BY)
        told = None if progress is None else (
            lambda done, _of, before=written: progress(WRITING, before + done, total))
        outcomes[kind] = store.apply_records(records, batch, progress=told)
        written += len(records)
    return outcomes
