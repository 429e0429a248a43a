"""API keys: how other systems and editors authenticate.

A key is shown once when created: ``gsk_<id>.<secret>``. The store keeps only its id and
a SHA-256 digest of the secret — enough for a 256-bit random secret, which no dictionary
attack can reach (passwords, which are guessable, get a slow hash with the users work).
A request sends the key in the ``X-API-Key`` header (or ``Authorization: Bearer …``); a
wrong, malformed or revoked key is refused outright rather than treated as anonymous.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Mapping

from geoservice.access import ANONYMOUS, ROLES, Principal
from geoservice.errors import InvalidParameter, Unauthorized
from geoservice.store.records import utc_now

LOGGER = logging.getLogger(__name__)
PREFIX = "gsk_"
KEY_PATTERN = re.compile(r"^gsk_([0-9a-f]{12})\.([A-Za-z0-9_-]{43})$")
NATIONAL = "national"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(store, name: str, role: str, area: str, created_by: str | None = None
               ) -> tuple[dict, str]:
    """Create a key; return its stored row (without the digest) and the key text, shown once."""
    if role not in ROLES:
        raise InvalidParameter(f"role must be one of {', '.join(ROLES)}.", parameter="role")
    province = None if area == NATIONAL else area
    if province is not None and not (province.isascii() and province.isdigit()
                                     and len(province) == 2):
        raise InvalidParameter("area must be 'national' or a two-digit province code.",
                               parameter="area")
    if not name.strip():
        raise InvalidParameter("a key needs a name (which system or person uses it).",
                               parameter="name")
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    row = {"id": key_id, "name": name.strip(), "secret_hash": _digest(secret), "role": role,
           "province_code": province, "created_by": created_by, "created_at": utc_now()}
    store.add_api_key(row)
    LOGGER.info("API key %s created for %s (%s, %s)", key_id, name, role, area)
    public = {k: v for k, v in row.items() if k != "secret_hash"}
    return public, f"{PREFIX}{key_id}.{secret}"


def principal_for(store, headers: Mapping[str, str]) -> Principal:
    """Return who sends these request headers: anonymous, or the key's principal."""
    text = headers.get("X-API-Key")
    authorization = headers.get("Authorization", "")
    if text is None and authorization.lower().startswith("bearer "):
        text = authorization[7:].strip()
    if text is None:
        return ANONYMOUS
    match = KEY_PATTERN.match(text.strip())
    if not match:
        raise Unauthorized("The API key is malformed (expected gsk_<id>.<secret>).")
    key_id, secret = match.groups()
    rows = store.api_keys(key_id)
    if not rows or rows[0]["revoked_at"] is not None or not hmac.compare_digest(
            rows[0]["secret_hash"], _digest(secret)):
        raise Unauthorized("The API key is unknown or revoked.")
    row = rows[0]
    return Principal(name=f"key:{row['id']} ({row['name']})",
                     province_code=row["province_code"], authenticated=True, role=row["role"])
