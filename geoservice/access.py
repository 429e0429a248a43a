"""The one access decision every route asks: may this principal read (or write) this
collection, and limited to which province?

Public collections (boundaries, aggregated figures) are open to anyone. Restricted ones
(incidents, designated hot spots, cooperation details and analyses on them) are readable
only by an authenticated principal (an API key now; signed-in users with the access-control
work) whose area covers the data: a national principal sees everything, a province
principal only rows of its province. Writing (imports) needs the editor or administrator
role, and a province editor writes only rows of its province.
"""

from __future__ import annotations

from dataclasses import dataclass

from geoservice.errors import Forbidden, Unauthorized

ROLES = ("viewer", "editor", "admin")
WRITERS = ("editor", "admin")


@dataclass(frozen=True)
class Principal:
    """Who is asking: nobody (anonymous), or a user or key with a role and an area."""

    name: str | None = None
    province_code: str | None = None  # None with a name = national
    authenticated: bool = False
    role: str = "viewer"


ANONYMOUS = Principal()


@dataclass(frozen=True)
class AccessDecision:
    """Allowed, with the province the rows must be limited to (None = no limit)."""

    province_code: str | None = None


def decide(principal: Principal, collection) -> AccessDecision:
    """Return the decision for reading `collection`, or raise Unauthorized / Forbidden."""
    if not collection.restricted:
        return AccessDecision()
    if not principal.authenticated:
        what = "Layer" if hasattr(collection, "style") else "Collection"  # a LayerDef or not
        raise Unauthorized(f"{what} '{collection.id}' is restricted: sign in or send an "
                           "API key whose area covers the data.")
    return AccessDecision(province_code=principal.province_code)


def decide_write(principal: Principal, kind: str) -> AccessDecision:
    """Return the decision for importing records of `kind`: rows limited to the area."""
    if not principal.authenticated:
        raise Unauthorized(f"Importing {kind} records needs an editor's API key "
                           "(header X-API-Key).")
    if principal.role not in WRITERS:
        raise Forbidden(f"The role '{principal.role}' cannot import records; an editor or "
                        "administrator can.")
    return AccessDecision(province_code=principal.province_code)
