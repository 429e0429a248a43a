"""The one access decision every route asks: may this principal read this collection, and
limited to which provinces?

Public collections (boundaries, aggregated figures) are open to anyone. Restricted ones
(incidents, designated hot spots, cooperation details and analyses on them) are readable
only by an authenticated user or API key whose area covers the data: a national principal
sees everything, a province principal only rows of its province. Until users and keys
exist (the access-control work), no request is authenticated, so restricted collections
answer 401 — secure by default.
"""

from __future__ import annotations

from dataclasses import dataclass

from geoservice.errors import Unauthorized


@dataclass(frozen=True)
class Principal:
    """Who is asking: nobody (anonymous), or a user or key with an area."""

    name: str | None = None
    province_code: str | None = None  # None with a name = national
    authenticated: bool = False


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
        raise Unauthorized(f"Collection '{collection.id}' is restricted: sign in or send an "
                           "API key whose area covers the data.")
    return AccessDecision(province_code=principal.province_code)
