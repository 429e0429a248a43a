"""Backup and restore of the embedded store, with SQLite's online backup API.

`backup` copies the live database page by page into `<out>.partial` while the service keeps
serving (readers and writers are not stopped), checks the copy and renames it into place,
so `out` is either absent or a complete, consistent database — one file, in rollback-journal
mode, with nothing left beside it (no ``.partial``, ``-wal`` or ``-shm``).

`restore` first validates the file (an SQLite database that passes `PRAGMA
integrity_check` and holds the store's tables), stages a copy beside the live database,
validates that copy too, then replaces the live content with the backup API in one
write transaction: every connection — also those of a running service — sees either the
old database or the restored one, never a mixture, and an interrupted restore leaves the
old one. (Renaming a file over a live WAL-mode database is not safe: its -wal file would
be replayed into the new file.) The restored store is then brought to the current schema.

A restore does not rewind the audit trail: the live trail's rows that the backup lacks are
carried into the staged copy before it replaces the live content, so restoring an old
backup cannot erase the record of what happened since.

PostGIS deployments back up with the database's own tools (pg_dump / pg_restore).
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

from geoservice.errors import ConfigError, InvalidParameter

LOGGER = logging.getLogger(__name__)
REQUIRED_TABLES = ("features", "meta", "api_keys", "records", "record_history", "imports")
COUNTED = ("features", "records", "imports", "users", "audit")
HEADER = b"SQLite format 3\x00"


def _sqlite_path(store) -> Path:
    from geoservice.store.sqlite import SqliteStore

    if not isinstance(store, SqliteStore):
        raise ConfigError("backup and restore work on the embedded (SQLite) store; back up "
                          "PostGIS with pg_dump and restore it with pg_restore.")
    return store.path


def validate(path: Path) -> dict[str, int]:
    """Check that `path` is a sound geoservice database; return its table sizes."""
    path = Path(path)
    try:
        with path.open("rb") as file:
            header = file.read(len(HEADER))
    except OSError as exc:
        raise InvalidParameter(f"{path} cannot be read: {exc.strerror}.",
                               parameter="file") from exc
    if header != HEADER:
        raise InvalidParameter(f"{path} is not an SQLite database.", parameter="file")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise InvalidParameter(f"{path} cannot be opened: {exc}.", parameter="file") from exc
    try:
        check = conn.execute("PRAGMA integrity_check").fetchall()
        if check != [("ok",)]:
            raise InvalidParameter(f"{path} is damaged: {check[0][0]}.", parameter="file")
        tables = {row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        missing = [t for t in REQUIRED_TABLES if t not in tables]
        if missing:
            raise InvalidParameter(f"{path} is not a geoservice database (no table "
                                   f"{', '.join(missing)}).", parameter="file")
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: S608
                for t in COUNTED if t in tables}
    except sqlite3.DatabaseError as exc:
        raise InvalidParameter(f"{path} is not a readable SQLite database: {exc}.",
                               parameter="file") from exc
    finally:
        conn.close()


Progress = Callable[[int, int], None]  # (pages copied, pages in all)
STEP_PAGES = 4096  # 16 MB of 4 KB pages per step: writers get the database between steps


def _copy(source: Path, target: Path, progress: Progress | None = None) -> None:
    """Copy a database page by page; the copy is a single file (rollback journal): the
    live store's WAL mode would come with the pages and leave ``-wal``/``-shm`` files
    beside the copy once it is opened. `progress` hears after every step."""
    src = sqlite3.connect(f"{Path(source).resolve().as_uri()}?mode=ro", uri=True)
    dst = sqlite3.connect(target)

    def step(_status, remaining: int, total: int) -> None:
        if progress is not None:
            progress(total - remaining, total)

    try:
        src.backup(dst, pages=STEP_PAGES, progress=step)
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        src.close()
        dst.close()


def _remove(path: Path) -> None:
    """Remove a file and the journal files SQLite may have left beside it."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def backup(store, out: Path, progress: Progress | None = None) -> dict[str, int]:
    """Copy the live embedded store into `out` (atomically); return the copy's table sizes.
    `progress(copied, total)` hears the pages copied as the copy goes."""
    live = _sqlite_path(store)
    out = Path(out)
    partial = out.with_name(out.name + ".partial")
    _remove(partial)
    try:
        _copy(live, partial, progress)
        counts = validate(partial)
        os.replace(partial, out)
    finally:
        _remove(partial)
    LOGGER.info("backup of %s written to %s: %s", live, out, counts)
    return counts


AUDIT_COLUMNS = ("at", "actor", "action", "target", "detail", "remote_addr", "dedupe")


def _carry_audit(live: Path, staged: Path) -> int:
    """Append to `staged` the live audit rows it lacks (in their order); return how many."""
    columns = ", ".join(AUDIT_COLUMNS)
    src = sqlite3.connect(f"{live.as_uri()}?mode=ro", uri=True)
    dst = sqlite3.connect(staged)
    try:
        from geoservice.store.sqlite_security import migrate

        migrate(dst)  # a backup from an older version may have no audit table yet
        have = set(dst.execute(f"SELECT {columns} FROM audit"))
        missing = [row for row in src.execute(f"SELECT {columns} FROM audit ORDER BY seq")
                   if row not in have]
        with dst:
            dst.executemany(f"INSERT OR IGNORE INTO audit ({columns}) VALUES "
                            f"({', '.join('?' * len(AUDIT_COLUMNS))})", missing)
        return len(missing)
    except sqlite3.OperationalError:  # the live store has no audit table (an old store)
        return 0
    finally:
        src.close()
        dst.close()


def restore(store, source: Path) -> dict[str, int]:
    """Replace the live embedded store's content with a validated backup."""
    live = _sqlite_path(store)
    validate(source)
    staged = live.with_name(live.name + ".restore")
    _remove(staged)
    try:
        _copy(source, staged)
        carried = _carry_audit(live, staged)
        counts = validate(staged)
        src = sqlite3.connect(f"{staged.as_uri()}?mode=ro", uri=True)
        dst = sqlite3.connect(live, timeout=60)
        try:
            src.backup(dst)  # one write transaction on the live database
        finally:
            src.close()
            dst.close()
    finally:
        _remove(staged)
    store.close()
    from geoservice.store.sqlite_security import migrate

    migrate(store._connect())
    LOGGER.info("store %s restored from %s: %s (%d newer audit rows kept)", live, source,
                counts, carried)
    return {**counts, "audit_rows_kept": carried}
