"""Users, sessions and the append-only audit trail in the embedded SQLite store."""

from __future__ import annotations

import json
import sqlite3

from geoservice.errors import DataConflict
from geoservice.store.security import (
    APPEND_ONLY,
    AUDIT_FIELDS,
    UPDATABLE,
    USER_FIELDS,
    AuditQuery,
    SecurityTables,
)

SECURITY_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    province_code TEXT,
    enabled INTEGER NOT NULL DEFAULT 1,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    created_by TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT
);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    remote_addr TEXT
);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT,
    action TEXT NOT NULL,
    target TEXT,
    detail TEXT NOT NULL DEFAULT '{{}}',
    remote_addr TEXT,
    dedupe TEXT UNIQUE
);
CREATE INDEX IF NOT EXISTS audit_action ON audit (action, seq);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END;
"""


def migrate(conn: sqlite3.Connection) -> None:
    """Create the security tables and give older api_keys tables their layer scope."""
    conn.executescript(SECURITY_SCHEMA)
    columns = {row[1] for row in conn.execute("PRAGMA table_info(api_keys)")}
    if "layers" not in columns:
        with conn:
            conn.execute("ALTER TABLE api_keys ADD COLUMN layers TEXT")


def _rows(cursor) -> list[dict]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _user(row: dict) -> dict:
    row["enabled"] = bool(row["enabled"])
    return row


class SqliteSecurity(SecurityTables):
    """The security tables on the store's per-thread SQLite connection (`_connect`)."""

    def add_user(self, user: dict) -> None:
        """Store a new user."""
        conn = self._connect()
        values = {name: user.get(name) for name in USER_FIELDS}
        values["enabled"] = int(values["enabled"] if values["enabled"] is not None else True)
        values["failed_logins"] = values["failed_logins"] or 0
        try:
            with conn:
                conn.execute(f"INSERT INTO users ({', '.join(USER_FIELDS)}) VALUES "
                             f"({', '.join(':' + n for n in USER_FIELDS)})", values)
        except sqlite3.IntegrityError as exc:
            raise DataConflict(f"There is already a user '{user['username']}'.") from exc

    def get_user(self, username: str) -> dict | None:
        """Return one user, or None."""
        rows = _rows(self._connect().execute("SELECT * FROM users WHERE username = ?",
                                             (username,)))
        return _user(rows[0]) if rows else None

    def list_users(self) -> list[dict]:
        """Return every user, by name."""
        return [_user(r) for r in _rows(self._connect().execute(
            "SELECT * FROM users ORDER BY username"))]

    def update_user(self, username: str, changes: dict) -> bool:
        """Change some fields of a user."""
        names = [n for n in changes if n in UPDATABLE]
        if len(names) != len(changes):
            raise ValueError(f"not updatable: {sorted(set(changes) - set(UPDATABLE))}")
        values = {n: int(v) if n == "enabled" else v for n, v in changes.items()}
        conn = self._connect()
        with conn:
            cursor = conn.execute(
                f"UPDATE users SET {', '.join(f'{n} = :{n}' for n in names)} "
                "WHERE username = :username", {**values, "username": username})
        return cursor.rowcount == 1

    def count_failed_login(self, username: str) -> int:
        """Add one failed sign-in and return the count."""
        conn = self._connect()
        with conn:
            conn.execute("UPDATE users SET failed_logins = failed_logins + 1 "
                         "WHERE username = ?", (username,))
            row = conn.execute("SELECT failed_logins FROM users WHERE username = ?",
                               (username,)).fetchone()
        return row[0] if row else 0

    def add_session(self, session: dict) -> None:
        """Store a sign-in session."""
        conn = self._connect()
        with conn:
            conn.execute("INSERT INTO sessions (id, username, created_at, expires_at, "
                         "remote_addr) VALUES (:id, :username, :created_at, :expires_at, "
                         ":remote_addr)", session)

    def get_session(self, session_id: str) -> dict | None:
        """Return a session with its user's role, area and state."""
        rows = _rows(self._connect().execute(
            "SELECT s.id, s.username, s.created_at, s.expires_at, u.role, u.province_code, "
            "u.enabled FROM sessions s JOIN users u ON u.username = s.username "
            "WHERE s.id = ?", (session_id,)))
        return _user(rows[0]) if rows else None

    def delete_sessions(self, session_id=None, username=None, before=None) -> int:
        """Delete one session, a user's sessions, or the expired ones."""
        column, value = (("id", session_id) if session_id is not None else
                         ("username", username) if username is not None else (None, before))
        conn = self._connect()
        with conn:
            if column is None:
                cursor = conn.execute("DELETE FROM sessions WHERE expires_at < ?", (value,))
            else:
                cursor = conn.execute(f"DELETE FROM sessions WHERE {column} = ?", (value,))
        return cursor.rowcount

    def add_audit(self, row: dict) -> bool:
        """Append an audit row (once per `dedupe` value)."""
        conn = self._connect()
        with conn:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO audit (at, actor, action, target, detail, remote_addr, "
                "dedupe) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (row["at"], row.get("actor"), row["action"], row.get("target"),
                 json.dumps(row.get("detail") or {}, ensure_ascii=False, sort_keys=True),
                 row.get("remote_addr"), row.get("dedupe")))
        return cursor.rowcount == 1

    def audit_rows(self, query: AuditQuery) -> tuple[list[dict], int]:
        """Return one page of audit rows, newest first, and the number matching."""
        sql_where, params = query.where("?")
        conn = self._connect()
        total = conn.execute(f"SELECT count(*) FROM audit WHERE {sql_where}",
                             params).fetchone()[0]
        rows = _rows(conn.execute(
            f"SELECT {', '.join(AUDIT_FIELDS)} FROM audit WHERE {sql_where} "
            "ORDER BY seq DESC LIMIT ? OFFSET ?", [*params, query.limit, query.offset]))
        for row in rows:
            row["detail"] = json.loads(row["detail"])
        return rows, total
