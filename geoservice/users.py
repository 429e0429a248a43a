"""People who sign in: their roles and areas, passwords, lock-out and sign-in sessions.

Roles: `viewer` (reads), `editor` (reads, and imports records), `admin` (everything,
including keys, users and the audit trail). The area is a province code or national
(None); an administrator is always national. Passwords are hashed with argon2id (OWASP's
parameters: 19 MiB, 2 passes, 1 lane); the hash carries its parameters, so stronger ones
later re-hash a password at its next sign-in.

Failed sign-ins in a row lock the account for a while (LOGIN_MAX_FAILURES,
LOGIN_LOCKOUT_MINUTES); a success resets the count. Unknown names, wrong passwords,
disabled and locked accounts all get the same answer, and an unknown name costs the same
hashing time as a known one, so the answers reveal nothing about which names exist.

A session is a random 256-bit id kept in the signed session cookie; the store keeps only
its SHA-256 digest with the user and expiry, so every request checks server-side that the
session exists, has not expired and that its user is still enabled, and signing out or
disabling a user ends it at once.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from geoservice.access import ROLES, Principal
from geoservice.errors import InvalidParameter, NotFound
from geoservice.store.records import utc_now

LOGGER = logging.getLogger(__name__)
HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{2,63}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 256
NATIONAL = "national"


@dataclass(frozen=True)
class LoginResult:
    """The outcome of a sign-in attempt: the user on success, else why not (for the log)."""

    user: dict | None
    reason: str  # "ok", "unknown", "password", "disabled", "locked"
    locked_until: str | None = None


def normalise_username(name: str) -> str:
    """Return the stored form of a user name, or raise InvalidParameter."""
    text = (name or "").strip().lower()
    if not USERNAME.match(text):
        raise InvalidParameter("A user name is 3 to 64 letters a-z, digits and . _ @ - "
                               "(starting with a letter or digit).", parameter="username")
    return text


def parse_area(area: str | None, store=None) -> str | None:
    """Return None for 'national', else a province code (checked against the store's
    provinces when boundaries are loaded)."""
    if area in (None, "", NATIONAL):
        return None
    if not (isinstance(area, str) and area.isascii() and area.isdigit() and len(area) == 2):
        raise InvalidParameter("area must be 'national' or a two-digit province code.",
                               parameter="area")
    if store is not None and store.get_meta("boundaries_loaded_at") is not None \
            and store.get("provinces", area) is None:
        raise InvalidParameter(f"There is no province {area}.", parameter="area")
    return area


def check_role(role: str, province: str | None) -> None:
    """Refuse unknown roles, and administrators limited to a province."""
    if role not in ROLES:
        raise InvalidParameter(f"role must be one of {', '.join(ROLES)}.", parameter="role")
    if role == "admin" and province is not None:
        raise InvalidParameter("An administrator is national: give area 'national'.",
                               parameter="area")


def check_password(password: str, username: str) -> None:
    """Refuse passwords that are too short, too long or contain the user name."""
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidParameter(f"A password has {MIN_PASSWORD} to {MAX_PASSWORD} characters.",
                               parameter="password")
    if username in password.lower() or len(set(password)) < 4:
        raise InvalidParameter("The password must not contain the user name or repeat a "
                               "few characters.", parameter="password")


def public(user: dict) -> dict:
    """A user as shown to administrators (never the password hash)."""
    return {"username": user["username"], "role": user["role"],
            "area": user["province_code"] or NATIONAL, "enabled": user["enabled"],
            "locked_until": user.get("locked_until"), "created_by": user.get("created_by"),
            "created_at": user.get("created_at"), "updated_at": user.get("updated_at")}


def create_user(store, username: str, password: str, role: str, area: str | None,
                created_by: str | None) -> dict:
    """Create a user; return it (without its hash)."""
    username = normalise_username(username)
    province = parse_area(area, store)
    check_role(role, province)
    check_password(password, username)
    row = {"username": username, "password_hash": HASHER.hash(password), "role": role,
           "province_code": province, "enabled": True, "failed_logins": 0,
           "locked_until": None, "created_by": created_by, "created_at": utc_now(),
           "updated_at": None}
    store.add_user(row)
    return public(row)


def _existing(store, username: str) -> dict:
    user = store.get_user(normalise_username(username))
    if user is None:
        raise NotFound(f"There is no user '{username}'.")
    return user


def set_role(store, username: str, role: str, area: str | None) -> dict:
    """Change a user's role and area; their sessions end (they sign in again)."""
    user = _existing(store, username)
    province = parse_area(area, store)
    check_role(role, province)
    store.update_user(user["username"], {"role": role, "province_code": province,
                                         "updated_at": utc_now()})
    store.delete_sessions(username=user["username"])
    return public(store.get_user(user["username"]))


def set_enabled(store, username: str, enabled: bool) -> dict:
    """Enable or disable a user; disabling ends their sessions at once."""
    user = _existing(store, username)
    store.update_user(user["username"], {"enabled": enabled, "failed_logins": 0,
                                         "locked_until": None, "updated_at": utc_now()})
    if not enabled:
        store.delete_sessions(username=user["username"])
    return public(store.get_user(user["username"]))


def set_password(store, username: str, password: str) -> dict:
    """Give a user a new password; their sessions end."""
    user = _existing(store, username)
    check_password(password, user["username"])
    store.update_user(user["username"], {"password_hash": HASHER.hash(password),
                                         "updated_at": utc_now()})
    store.delete_sessions(username=user["username"])
    return public(store.get_user(user["username"]))


def authenticate(store, username: str, password: str, max_failures: int,
                 lockout_minutes: int) -> LoginResult:
    """Check a name and password; count failures and lock the account after too many.

    Every attempt does the same password-hash work, exactly one argon2 verification:
    against the user's hash, or a dummy hash of the same parameters for an unknown name.
    A locked or disabled account is verified too (and the result then ignored), so the
    time of an answer tells nothing about whether a name exists or what state it is in.
    """
    try:
        name = normalise_username(username)
    except InvalidParameter:
        name = None
    user = store.get_user(name) if name else None
    matches = _verify(user["password_hash"] if user else _dummy_hash(), password)
    if user is None:
        return LoginResult(None, "unknown")
    now = datetime.now(UTC)
    if user["locked_until"] and datetime.fromisoformat(user["locked_until"]) > now:
        return LoginResult(None, "locked", user["locked_until"])
    if not matches:
        failures = store.count_failed_login(user["username"])
        if failures >= max_failures:
            until = (now + timedelta(minutes=lockout_minutes)).isoformat(timespec="seconds")
            store.update_user(user["username"], {"locked_until": until, "failed_logins": 0})
            LOGGER.warning("user %s locked until %s", user["username"], until)
            return LoginResult(None, "locked", until)
        return LoginResult(None, "password")
    if not user["enabled"]:
        return LoginResult(None, "disabled")
    changes = {"failed_logins": 0, "locked_until": None}
    if HASHER.check_needs_rehash(user["password_hash"]):
        changes["password_hash"] = HASHER.hash(password)
    store.update_user(user["username"], changes)
    return LoginResult(user, "ok")


@functools.cache
def _dummy_hash() -> str:
    return HASHER.hash(secrets.token_urlsafe(16))


def _verify(digest: str, password: str) -> bool:
    try:
        return HASHER.verify(digest, password or "")
    except (VerificationError, InvalidHashError):
        return False


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def open_session(store, username: str, hours: int, remote_addr: str | None) -> str:
    """Start a session for a user; return its id (for the cookie; stored only hashed)."""
    now = datetime.now(UTC)
    store.delete_sessions(before=now.isoformat(timespec="seconds"))  # tidy expired ones
    session_id = secrets.token_urlsafe(32)
    store.add_session({"id": _digest(session_id), "username": username,
                       "created_at": now.isoformat(timespec="seconds"),
                       "expires_at": (now + timedelta(hours=hours)).isoformat(
                           timespec="seconds"),
                       "remote_addr": remote_addr})
    return session_id


def close_session(store, session_id: str) -> None:
    """End a session."""
    store.delete_sessions(session_id=_digest(session_id))


def session_principal(store, session_id: str) -> Principal | None:
    """Return the signed-in user of a session, or None when it is unknown, expired or its
    user is disabled."""
    if not isinstance(session_id, str) or len(session_id) > 100:
        return None
    row = store.get_session(_digest(session_id))
    if row is None or not row["enabled"]:
        return None
    if datetime.fromisoformat(row["expires_at"]) <= datetime.now(UTC):
        return None
    return Principal(name=f"user:{row['username']}", province_code=row["province_code"],
                     authenticated=True, role=row["role"], kind="user",
                     ident=row["username"])
