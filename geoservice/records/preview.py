"""A dry run's answer: what an import would apply, row by row, writing nothing.

Each checked record is listed with its spreadsheet row, the 2025 unit the row resolved to
and what applying it would do: ``insert`` (a new record), ``update`` (a stored record
with other values) or ``unchanged``. The store is only read.
"""

from __future__ import annotations

import shapely

from geoservice.store import Store
from geoservice.store.records import PROVENANCE_COLUMNS, RecordQuery, RecordWrite, canonical

PREVIEW_LIMIT = 1000  # rows listed (and compared with the store) in one answer


def preview(store: Store, records: list[RecordWrite], communes: dict[str, dict]) -> dict:
    """Return ``{"would_write": counts, "rows": [...], "listed": n, "records": n}``."""
    counts = {"insert": 0, "update": 0, "unchanged": 0}
    rows = []
    for record in records[:PREVIEW_LIMIT]:
        action = _action(store, record)
        counts[action] += 1
        unit = communes.get(record.commune_code, {})
        rows.append({"row": record.source_row, "action": action,
                     "commune_code": record.commune_code,
                     "commune": unit.get("full_name") or unit.get("name"),
                     "province_code": record.province_code,
                     "values": {k: _plain(v) for k, v in record.properties.items()}})
    return {"records": len(records), "listed": len(rows), "would_write": counts, "rows": rows}


def _action(store: Store, record: RecordWrite) -> str:
    page = store.query_records(record.kind, RecordQuery(record_id=record.id, limit=1))
    if not page.features:
        return "insert"
    _id, properties, geometry = page.features[0]
    own = {k: v for k, v in properties.items() if k not in PROVENANCE_COLUMNS}
    same_geometry = (geometry is None and record.geometry is None) or (
        geometry is not None and record.geometry is not None
        and shapely.equals_exact(geometry, record.geometry, 1e-9))
    if canonical(own) == canonical(record.properties) and same_geometry:
        return "unchanged"
    return "update"


def _plain(value):
    return value.isoformat() if hasattr(value, "isoformat") else value
