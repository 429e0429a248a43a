"""Writing records: the one import transaction both backends share.

`apply_records` compares each incoming record with what is stored under the same natural
key and inserts it, updates it (keeping the previous version in the history), or leaves it
alone when nothing changed — so re-importing a file is a no-op and a correction file
updates what it corrects. Everything happens in one transaction with the import's own
row: a failure anywhere leaves the store as it was.

Backends provide the primitives (`RecordTx`) inside their own transaction.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import shapely

from geoservice.progress import EVERY


@dataclass(frozen=True)
class RecordWrite:
    """One record to store, keyed by its kind and natural key."""

    kind: str
    natural_key: str
    commune_code: str
    province_code: str
    properties: dict
    geometry: object = None
    neighbors: tuple[str, ...] = ()
    year: int | None = None
    date: date | None = None
    category: str | None = None
    synthetic: bool = False
    source_row: int | None = None

    @property
    def id(self) -> str:
        """Stable id of the record: the same in every backend and every import."""
        return hashlib.sha1(f"{self.kind}|{self.natural_key}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class RecordQuery:
    """Validated filters of a records request."""

    limit: int = 10
    offset: int = 0
    bbox: tuple[float, float, float, float] | None = None
    province_code: str | None = None
    commune_code: str | None = None
    year: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    category: str | None = None
    border_neighbor: str | None = None
    synthetic: bool | None = None
    record_id: str | None = None
    filter: object = None  # a `geoservice.store.cql.Filter`, or None
    sortby: tuple = ()  # (property, descending, JSON type); then ordered by id
    geometry: bool = True  # False: geometries are not read (None in the page)


# The columns every backend stores beside a record's own properties, in this order.
PROVENANCE_COLUMNS = ("commune_code", "province_code", "synthetic", "version", "source_file",
                      "source_row", "imported_at")


def output_properties(properties: dict, provenance: Sequence) -> dict:
    """Return a record's properties as served: its fields, then its unit and provenance
    (the values of `PROVENANCE_COLUMNS`, in that order)."""
    return {**properties, **dict(zip(PROVENANCE_COLUMNS, provenance, strict=True))}


@dataclass
class ImportBatch:
    """Provenance shared by every record of one import."""

    kind: str
    filename: str
    sha256: str
    imported_by: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    imported_at: str = field(default_factory=lambda: utc_now())


@dataclass
class ImportOutcome:
    """What an import did."""

    import_id: str
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def as_dict(self) -> dict:
        """Return the counts as a plain dict."""
        return {"import_id": self.import_id, "inserted": self.inserted,
                "updated": self.updated, "unchanged": self.unchanged}


@dataclass(frozen=True)
class StoredRecord:
    """A record as stored (the parts the import compares)."""

    id: str
    version: int
    properties: dict
    wkb: bytes | None


class RecordTx(ABC):
    """The primitives a backend gives `apply_records` inside one transaction."""

    @abstractmethod
    def existing(self, kind: str, natural_keys: list[str]) -> dict[str, StoredRecord]:
        """Return the stored records of `kind` with these natural keys."""

    @abstractmethod
    def insert(self, record: RecordWrite, batch: ImportBatch, wkb: bytes | None) -> None:
        """Insert a new record (version 1)."""

    @abstractmethod
    def update(self, record: RecordWrite, batch: ImportBatch, wkb: bytes | None,
               version: int) -> None:
        """Overwrite a record with a new version."""

    @abstractmethod
    def add_history(self, kind: str, record_id: str, version: int, properties: dict,
                    wkb: bytes | None, batch: ImportBatch, action: str) -> None:
        """Append a version to the record's history."""

    @abstractmethod
    def add_import(self, batch: ImportBatch, outcome: ImportOutcome) -> None:
        """Record the import itself."""


def utc_now() -> str:
    """Return the current UTC time as ISO 8601 to the second (how the stores record times)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def canonical(properties: dict) -> str:
    """Return the JSON text two equal property sets share (sorted keys, dates as ISO)."""
    return json.dumps(properties, ensure_ascii=False, sort_keys=True, default=_plain)


def geometry_wkb(geometry) -> bytes | None:
    """Return WKB of a geometry (None stays None)."""
    return None if geometry is None else shapely.to_wkb(geometry)


def apply_records(tx: RecordTx, records: list[RecordWrite], batch: ImportBatch,
                  progress: Callable[[int, int], None] | None = None) -> ImportOutcome:
    """Insert, update or leave each record; write history and the import row.
    `progress(done, total)` hears the records gone through, every `EVERY`, and (total,
    total) once the writes are sent (what the backend gathered goes at the end)."""
    outcome = ImportOutcome(batch.id)
    found = tx.existing(batch.kind, [r.natural_key for r in records])
    for done, record in enumerate(records):
        if progress is not None and done % EVERY == 0:
            progress(done, len(records))
        properties = json.loads(canonical(record.properties))
        wkb = geometry_wkb(record.geometry)
        stored = found.get(record.natural_key)
        if stored is None:
            tx.insert(record, batch, wkb)
            tx.add_history(record.kind, record.id, 1, properties, wkb, batch, "insert")
            outcome.inserted += 1
        elif canonical(stored.properties) != canonical(properties) or stored.wkb != wkb:
            version = stored.version + 1
            tx.update(record, batch, wkb, version)
            tx.add_history(record.kind, record.id, version, properties, wkb, batch, "update")
            outcome.updated += 1
        else:
            outcome.unchanged += 1
    tx.add_import(batch, outcome)
    if progress is not None:
        progress(len(records), len(records))
    return outcome


def _plain(value):
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value)}")
