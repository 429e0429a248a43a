"""API keys: how other systems and editors authenticate.

A key is shown once when created: ``gsk_<id>.<secret>``. The store keeps only its id and
a SHA-256 digest of the secret — enough for a 256-bit random secret, which no dictionary
attack can reach (passwords, which are guessable, get a slow hash with the users work).
A request sends the key in the ``X-API-Key`` header (or ``Authorization: Bearer …``); a
wrong, malformed or revoked key is refused outright rather than treated as anonymous.
A key has a role, an area (national or one province) and a layer scope: a list of layer
or collection ids it may read (and, for an editor, import), or every layer (None).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Iterable, Mapping

from geoservice.access import ANONYMOUS, ROLES, Principal
from geoservice.errors import InvalidParameter, Unauthorized
from geoservice.store.records import utc_now

LOGGER = logging.getLogger(__name__)
PREFIX = "gsk_"
KEY_PATTERN = re.compile(r"^gsk_([0-9a-f]{12})\.([A-Za-z0-9_-]{43})$")
NATIONAL = "national"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(store, name: str, role: str, area: str, created_by: str | None = None,
               layers: list[str] | None = None, known_layers: Iterable[str] | None = None
               ) -> tuple[dict, str]:
    """Create a key; return its stored row (without the digest) and the key text, shown once.

    `layers` limits the key to those layer or collection ids (None: every layer); when
    `known_layers` is given, each must be one of them.
    """
    if role not in ROLES:
        raise InvalidParameter(f"role must be one of {', '.join(ROLES)}.", parameter="role")
    province = None if area == NATIONAL else area
    if province is not None and not (isinstance(province, str) and province.isascii()
                                     and province.isdigit() and len(province) == 2):
        raise InvalidParameter("area must be 'national' or a two-digit province code.",
                               parameter="area")
    if not isinstance(name, str) or not name.strip() or len(name) > 200 \
            or not name.isprintable():
        raise InvalidParameter("a key needs a name (which system or person uses it), at "
                               "most 200 characters.", parameter="name")
    if role == "admin" and (province is not None or layers is not None):
        raise InvalidParameter("An administrator's key is national and not limited to "
                               "layers.", parameter="role")
    layers = _layer_scope(layers, known_layers)
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    row = {"id": key_id, "name": name.strip(), "secret_hash": _digest(secret), "role": role,
           "province_code": province, "layers": layers, "created_by": created_by,
           "created_at": utc_now()}
    store.add_api_key(row)
    LOGGER.info("API key %s created for %s (%s, %s)", key_id, name, role, area)
    public = {k: v for k, v in row.items() if k != "secret_hash"}
    return public, f"{PREFIX}{key_id}.{secret}"


def _layer_scope(layers, known: Iterable[str] | None) -> list[str] | None:
    if layers is None:
        return None
    if not isinstance(layers, list | tuple) or not layers or not all(
            isinstance(i, str) and i for i in layers):
        raise InvalidParameter("layers is a list of layer ids (or absent for every layer).",
                               parameter="layers")
    known = set(known) if known is not None else None
    unknown = sorted(i for i in layers if known is not None and i not in known)
    if unknown:
        raise InvalidParameter(f"There is no layer '{unknown[0][:100]}'.", parameter="layers")
    return sorted(set(layers))


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
    layers = row.get("layers")
    return Principal(name=f"key:{row['id']} ({row['name']})",
                     province_code=row["province_code"], authenticated=True, role=row["role"],
                     layers=tuple(layers) if layers is not None else None, kind="key",
                     ident=row["id"])
