"""The audit trail: who did what, when, from where — appended, never changed.

Recorded: every import (applied, with the records inserted and the corrections — records
updated — it made; or rejected), sign-ins, failed sign-ins, lock-outs and sign-outs, use of
API keys, the creation and revocation of keys, every change to users, backups, restores
and exports of the trail itself. Each row holds the time (UTC), the actor (`user:<name>`,
`key:<id> (<name>)`, `cli:<system user>` or `anonymous`), the action, its target, details
(JSON) and the remote address (`local` for the command line).

Key use is recorded without a row per request: at most one row per key, per route kind
(the blueprint: features, tiles, imports …) and per UTC minute, with the first path used in
that minute. The database enforces it (a unique `dedupe` value per key, kind and minute),
so several processes together still write one row; each app also remembers the minutes it
has already written (its `KeyUseMemory`, kept by `geoservice.services`), so a tile storm
costs no database writes.

The table is append-only in the database (see geoservice.store.security). Exports are
JSON or CSV; CSV cells that a spreadsheet would run as a formula are neutralised.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime

from geoservice import params as P
from geoservice.errors import InvalidParameter
from geoservice.store.records import utc_now
from geoservice.store.security import AUDIT_FIELDS, AuditQuery

LOGGER = logging.getLogger(__name__)

ACTIONS = (
    "login", "login_failed", "lockout", "logout",
    "import", "import_rejected", "import_preview",
    "key_use", "key_create", "key_revoke",
    "user_create", "user_disable", "user_enable", "user_set_role", "user_set_password",
    "backup", "restore", "audit_export",
)
MAX_EXPORT = 100_000
MAX_PAGE = 1000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def record(store, action: str, actor: str | None, target: str | None = None,
           detail: Mapping | None = None, remote_addr: str | None = None,
           dedupe: str | None = None) -> bool:
    """Append one row to the trail; False when a row with this `dedupe` exists already."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    return store.add_audit(_storable({
        "at": utc_now(), "actor": actor or "anonymous", "action": action, "target": target,
        "detail": dict(detail or {}), "remote_addr": remote_addr, "dedupe": dedupe}))


def _storable(value):
    """The value with NUL characters written out (databases refuse them in text)."""
    if isinstance(value, str):
        return value.replace("\x00", "\\x00")
    if isinstance(value, dict):
        return {_storable(k): _storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_storable(v) for v in value]
    return value


class KeyUseMemory:
    """The minute in which one app last noted each key's use of each kind of route."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._minutes: dict[tuple[str | None, str], str] = {}

    def first_in_minute(self, ident: str | None, route_kind: str, minute: str) -> bool:
        """True (and remembered) the first time this key and kind are seen in `minute`."""
        with self._lock:
            if self._minutes.get((ident, route_kind)) == minute:
                return False
            self._minutes[(ident, route_kind)] = minute
            return True

    def forget(self) -> None:
        """Forget every minute (as a fresh process would)."""
        with self._lock:
            self._minutes.clear()


def key_use(store, principal, route_kind: str, path: str, remote_addr: str | None, *,
            seen: KeyUseMemory) -> None:
    """Record that a key was used for a kind of route, once per key, kind and minute
    (`seen`: the app's memory of the minutes already written)."""
    minute = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M")
    if not seen.first_in_minute(principal.ident, route_kind, minute):
        return
    token = f"key_use|{principal.ident}|{route_kind}|{minute}"
    try:
        record(store, "key_use", principal.name, route_kind, {"path": path[:300]},
               remote_addr, dedupe=token)
    except Exception:  # noqa: BLE001 - a failed note of key use must not refuse the request
        LOGGER.exception("could not record the use of key %s", principal.ident)


def import_report(store, actor: str | None, report, data: bytes,
                  remote_addr: str | None) -> None:
    """Record an import: applied (records inserted, corrected, unchanged) or rejected."""
    detail = {"kind": report.kind, "filename": report.filename, "rows": report.rows,
              "sha256": hashlib.sha256(data).hexdigest()}
    if report.status == "applied":
        written = report.outcome
        record(store, "import", actor, written.get("import_id"),
               {**detail, "inserted": written.get("inserted"),
                "corrected": written.get("updated"), "unchanged": written.get("unchanged")},
               remote_addr)
    else:
        record(store, "import_rejected", actor, report.kind,
               {**detail, "errors": len(report.errors)}, remote_addr)


def import_refused(store, actor: str | None, kind: str, filename: str, data: bytes,
                   reason: str, remote_addr: str | None) -> None:
    """Record an import refused as a whole (an unreadable file)."""
    record(store, "import_rejected", actor, kind,
           {"kind": kind, "filename": filename, "sha256": hashlib.sha256(data).hexdigest(),
            "reason": reason[:300]}, remote_addr)


def parse_query(args: Mapping[str, str], default_limit: int = 100,
                max_limit: int = MAX_PAGE) -> AuditQuery:
    """Validate audit listing parameters (action, actor, since, until, limit, offset)."""
    P.known(args, ("action", "actor", "since", "until", "limit", "offset", "lang"))
    action = P.Parameter("action", P.choice(ACTIONS)).get(args) if args.get("action") else None
    actor = args.get("actor") or None
    if actor is not None and (len(actor) > 200 or "\x00" in actor):
        raise InvalidParameter("actor is at most 200 characters.", parameter="actor")
    limit = P.Parameter("limit", P.whole(1, max_limit))
    return AuditQuery(action=action, actor=actor, since=_when(args.get("since"), "since"),
                      until=_when(args.get("until"), "until"),
                      limit=limit.get(args, default_limit), offset=P.OFFSET.get(args, 0))


def _when(value: str | None, name: str) -> str | None:
    if not value:
        return None
    try:
        if len(value) == 10:
            return date.fromisoformat(value).isoformat()
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidParameter(f"{name} must be a date YYYY-MM-DD or an ISO time.",
                               parameter=name) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def rows_for_export(store, query: AuditQuery) -> list[dict]:
    """Every row matching the filters (newest first), up to MAX_EXPORT."""
    rows, _total = store.audit_rows(AuditQuery(query.action, query.actor, query.since,
                                               query.until, MAX_EXPORT, 0))
    return rows


def spreadsheet_safe(value):
    """Prefix a quote to text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.lstrip(" ").startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(rows: Iterable[dict]) -> bytes:
    """The rows as CSV (UTF-8 with BOM for Excel), formulas neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(AUDIT_FIELDS)
    for row in rows:
        detail = json.dumps(row.get("detail") or {}, ensure_ascii=False, sort_keys=True)
        writer.writerow([spreadsheet_safe(row.get(f) if f != "detail" else detail)
                         for f in AUDIT_FIELDS])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_json(rows: list[dict]) -> bytes:
    """The rows as a JSON document."""
    return json.dumps({"audit": rows}, ensure_ascii=False, indent=1).encode("utf-8")
