"""Users, sessions and the append-only audit trail in PostGIS (tables of migration 0004)."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
from psycopg.types.json import Jsonb

from geoservice.errors import DataConflict
from geoservice.store.security import (
    AUDIT_FIELDS,
    UPDATABLE,
    USER_FIELDS,
    AuditQuery,
    SecurityTables,
)

STAMPS = ("created_at", "updated_at", "locked_until", "expires_at", "at")


def _rows(cursor) -> list[dict]:
    names = [d.name for d in cursor.description]
    rows = [dict(zip(names, row)) for row in cursor.fetchall()]
    for row in rows:
        for name in STAMPS:
            if isinstance(row.get(name), datetime):
                row[name] = row[name].astimezone(UTC).isoformat(timespec="seconds")
    return rows


class PostgisSecurity(SecurityTables):
    """The security tables on the store's per-thread psycopg connection (`_connect`)."""

    def add_user(self, user: dict) -> None:
        """Store a new user."""
        values = {name: user.get(name) for name in USER_FIELDS}
        values["enabled"] = bool(values["enabled"] if values["enabled"] is not None else True)
        values["failed_logins"] = values["failed_logins"] or 0
        try:
            self._connect().execute(
                f"INSERT INTO users ({', '.join(USER_FIELDS)}) VALUES "
                f"({', '.join(f'%({n})s' for n in USER_FIELDS)})", values)
        except psycopg.errors.UniqueViolation as exc:
            raise DataConflict(f"There is already a user '{user['username']}'.") from exc

    def get_user(self, username: str) -> dict | None:
        """Return one user, or None."""
        rows = _rows(self._connect().execute("SELECT * FROM users WHERE username = %s",
                                             (username,)))
        return rows[0] if rows else None

    def list_users(self) -> list[dict]:
        """Return every user, by name."""
        return _rows(self._connect().execute("SELECT * FROM users ORDER BY username"))

    def update_user(self, username: str, changes: dict) -> bool:
        """Change some fields of a user."""
        names = [n for n in changes if n in UPDATABLE]
        if len(names) != len(changes):
            raise ValueError(f"not updatable: {sorted(set(changes) - set(UPDATABLE))}")
        cursor = self._connect().execute(
            f"UPDATE users SET {', '.join(f'{n} = %({n})s' for n in names)} "
            "WHERE username = %(username)s", {**changes, "username": username})
        return cursor.rowcount == 1

    def count_failed_login(self, username: str) -> int:
        """Add one failed sign-in and return the count."""
        row = self._connect().execute(
            "UPDATE users SET failed_logins = failed_logins + 1 WHERE username = %s "
            "RETURNING failed_logins", (username,)).fetchone()
        return row[0] if row else 0

    def add_session(self, session: dict) -> None:
        """Store a sign-in session."""
        self._connect().execute(
            "INSERT INTO sessions (id, username, created_at, expires_at, remote_addr) VALUES "
            "(%(id)s, %(username)s, %(created_at)s, %(expires_at)s, %(remote_addr)s)", session)

    def get_session(self, session_id: str) -> dict | None:
        """Return a session with its user's role, area and state."""
        rows = _rows(self._connect().execute(
            "SELECT s.id, s.username, s.created_at, s.expires_at, u.role, u.province_code, "
            "u.enabled FROM sessions s JOIN users u ON u.username = s.username "
            "WHERE s.id = %s", (session_id,)))
        return rows[0] if rows else None

    def delete_sessions(self, session_id=None, username=None, before=None) -> int:
        """Delete one session, a user's sessions, or the expired ones."""
        if session_id is not None:
            sql, value = "DELETE FROM sessions WHERE id = %s", session_id
        elif username is not None:
            sql, value = "DELETE FROM sessions WHERE username = %s", username
        else:
            sql, value = "DELETE FROM sessions WHERE expires_at < %s", before
        return self._connect().execute(sql, (value,)).rowcount

    def add_audit(self, row: dict) -> bool:
        """Append an audit row (once per `dedupe` value)."""
        cursor = self._connect().execute(
            "INSERT INTO audit (at, actor, action, target, detail, remote_addr, dedupe) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (dedupe) DO NOTHING",
            (row["at"], row.get("actor"), row["action"], row.get("target"),
             Jsonb(row.get("detail") or {}), row.get("remote_addr"), row.get("dedupe")))
        return cursor.rowcount == 1

    def audit_rows(self, query: AuditQuery) -> tuple[list[dict], int]:
        """Return one page of audit rows, newest first, and the number matching."""
        sql_where, params = query.where("%s")
        conn = self._connect()
        total = conn.execute(f"SELECT count(*) FROM audit WHERE {sql_where}",
                             params).fetchone()[0]
        rows = _rows(conn.execute(
            f"SELECT {', '.join(AUDIT_FIELDS)} FROM audit WHERE {sql_where} "
            "ORDER BY seq DESC LIMIT %s OFFSET %s", [*params, query.limit, query.offset]))
        return rows, total
