"""The store's part of access control: users, their sign-in sessions and the audit trail.

Both backends implement `SecurityTables`. The audit table is append-only in the database
itself (a trigger refuses UPDATE and DELETE in SQLite and PostGIS alike), so no code path —
ours or a person's SQL — can rewrite history. A row with a `dedupe` value is written at
most once (how key use is recorded once per key, route kind and minute).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

USER_FIELDS = ("username", "password_hash", "role", "province_code", "enabled",
               "failed_logins", "locked_until", "created_by", "created_at", "updated_at")
UPDATABLE = ("password_hash", "role", "province_code", "enabled", "failed_logins",
             "locked_until", "updated_at")
AUDIT_FIELDS = ("seq", "at", "actor", "action", "target", "detail", "remote_addr")
APPEND_ONLY = "the audit trail is append-only"


@dataclass(frozen=True)
class AuditQuery:
    """Filters of an audit listing (all optional), newest first."""

    action: str | None = None
    actor: str | None = None
    since: str | None = None  # ISO date or time, inclusive
    until: str | None = None  # ISO date or time, exclusive
    limit: int = 100
    offset: int = 0

    def where(self, mark: str) -> tuple[str, list]:
        """The SQL condition and parameters of the filters, with `mark` as placeholder."""
        where, params = ["1 = 1"], []
        for column, value, op in (("action", self.action, "="), ("actor", self.actor, "="),
                                  ("at", self.since, ">="), ("at", self.until, "<")):
            if value is not None:
                where.append(f"{column} {op} {mark}")
                params.append(value)
        return " AND ".join(where), params


class SecurityTables(ABC):
    """Users, sessions and the audit trail, as every backend keeps them."""

    @abstractmethod
    def add_user(self, user: dict) -> None:
        """Store a new user (USER_FIELDS); raise DataConflict when the name is taken."""

    @abstractmethod
    def get_user(self, username: str) -> dict | None:
        """Return one user (with its password hash), or None."""

    @abstractmethod
    def list_users(self) -> list[dict]:
        """Return every user, by name."""

    @abstractmethod
    def update_user(self, username: str, changes: dict) -> bool:
        """Change some UPDATABLE fields of a user; False when there is no such user."""

    @abstractmethod
    def count_failed_login(self, username: str) -> int:
        """Add one to a user's failed sign-ins in a row and return the new count."""

    @abstractmethod
    def add_session(self, session: dict) -> None:
        """Store a sign-in session (id digest, username, created_at, expires_at, remote_addr)."""

    @abstractmethod
    def get_session(self, session_id: str) -> dict | None:
        """Return a session joined with its user's role, area and state, or None."""

    @abstractmethod
    def delete_sessions(self, session_id: str | None = None, username: str | None = None,
                        before: str | None = None) -> int:
        """Delete one session, a user's sessions, or those expired before a time."""

    @abstractmethod
    def add_audit(self, row: dict) -> bool:
        """Append an audit row; False when its `dedupe` value was already written."""

    @abstractmethod
    def audit_rows(self, query: AuditQuery) -> tuple[list[dict], int]:
        """Return one page of audit rows (newest first) and how many match in all."""
