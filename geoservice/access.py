"""The one access decision every route asks: may this principal read (or write) this
collection, and limited to which province? And what each route declares about itself.

Public collections (boundaries, aggregated figures) are open to anyone (when the deployment
allows anonymous reading: PUBLIC_ACCESS). Restricted ones (incidents, designated hot spots,
cooperation details and analyses on them) are readable only by an authenticated principal —
a signed-in user or an API key — whose area covers the data: a national principal sees
everything, a province principal only rows of its province. An API key may also be scoped
to some layers: it reads those and nothing else. Writing (imports) needs the editor or
administrator role, and a province editor writes only rows of its province.

Every route declares its access with one decorator (or, for views defined elsewhere, one
line in `ENDPOINTS`); the request guard (`geoservice.web.guard`) enforces the declaration
before the view runs, and a route without one is closed to everybody:

    @blueprint.get("/reports/<report_id>.pdf")
    @access.restricted          # needs a user or key; the view still calls decide()
    @access.heavy               # rate-limited as a heavy endpoint
    def report(report_id): ...

Levels: `anyone` (always open: the sign-in page), `public` (open unless PUBLIC_ACCESS is
false, then a user or key), `restricted` (a user or key; the view limits rows with
`decide`), `editor` (editor or administrator role), `admin` (a national administrator).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace

from geoservice.errors import Forbidden, Unauthorized

ROLES = ("viewer", "editor", "admin")
WRITERS = ("editor", "admin")
ANYONE, PUBLIC, RESTRICTED, EDITOR, ADMIN = "anyone", "public", "restricted", "editor", "admin"
LEVELS = (ANYONE, PUBLIC, RESTRICTED, EDITOR, ADMIN)
ATTRIBUTE = "geoservice_access"
HEAVY_ATTRIBUTE = "geoservice_heavy"

# Views this package cannot decorate (Flask's own, or modules declared here centrally).
ENDPOINTS: dict[str, str] = {
    "static": ANYONE,  # Flask's static files: the pages' own scripts and styles
    "features.landing": PUBLIC,
    "viewer.viewer": PUBLIC,
    "viewer.style": PUBLIC,
    "viewer.maplibre_asset": ANYONE,  # the map library's files: code, not data
}


@dataclass(frozen=True)
class Principal:
    """Who is asking: nobody (anonymous), or a user or key with a role and an area."""

    name: str | None = None
    province_code: str | None = None  # None with a name = national
    authenticated: bool = False
    role: str = "viewer"
    layers: tuple[str, ...] | None = None  # an API key's layer scope; None = every layer
    kind: str = "anonymous"  # "anonymous", "user" or "key"
    ident: str | None = None  # the username or the key id

    @property
    def is_admin(self) -> bool:
        """A national administrator (the only kind of administrator there is)."""
        return self.authenticated and self.role == "admin" and self.province_code is None


ANONYMOUS = Principal()


@dataclass(frozen=True)
class Area:
    """Where a reader may see restricted data: nowhere, the whole country, or one province.

    Built with `Area.nowhere()`, `Area.national()` or `Area.province("08")`, or from a
    reader with `Area.of_reader(principal)`.
    """

    everywhere: bool = False
    province_code: str | None = None

    @classmethod
    def nowhere(cls) -> Area:
        """No restricted data at all (anonymous readers, keys scoped to other layers)."""
        return cls()

    @classmethod
    def national(cls) -> Area:
        """The whole country."""
        return cls(everywhere=True)

    @classmethod
    def province(cls, code: str) -> Area:
        """One province."""
        return cls(province_code=code)

    @classmethod
    def of_reader(cls, principal: Principal) -> Area:
        """Where `principal` may read restricted data (the incidents' access rule)."""
        if principal.layers is not None and "incidents" not in principal.layers:
            return cls.nowhere()
        if not principal.authenticated:
            return cls.nowhere()
        if principal.province_code is None:
            return cls.national()
        return cls.province(principal.province_code)

    @property
    def is_nowhere(self) -> bool:
        """True when no restricted data may be shown."""
        return not self.everywhere and self.province_code is None

    def covers(self, province_code: str | None) -> bool:
        """True when a unit or record of `province_code` lies inside the area."""
        return self.everywhere or (self.province_code is not None
                                   and province_code == self.province_code)


@dataclass(frozen=True)
class AccessDecision:
    """Allowed, with the province the rows must be limited to (None = no limit)."""

    province_code: str | None = None


def decide(principal: Principal, collection) -> AccessDecision:
    """Return the decision for reading `collection`, or raise Unauthorized / Forbidden.

    `collection` is anything with `id` and `restricted` (a CollectionDef, a LayerDef).
    """
    if principal.layers is not None and collection.id not in principal.layers:
        raise Forbidden(f"This API key is not scoped to '{collection.id}'.")
    if not collection.restricted:
        return AccessDecision()
    if not principal.authenticated:
        what = "Layer" if hasattr(collection, "style") else "Collection"  # a LayerDef or not
        raise Unauthorized(f"{what} '{collection.id}' is restricted: sign in or send an "
                           "API key whose area covers the data.")
    return AccessDecision(province_code=principal.province_code)


def decide_derived(principal: Principal, source, layers: Iterable = ()) -> AccessDecision:
    """Return the decision for reading what is computed from `source` (an analysis of the
    incidents, a report section), or raise Unauthorized / Forbidden.

    The one layer-scope rule for derived data: a key scoped to layers reads it only when
    its scope holds one of the `layers` that show it (the `hotspots-*` layers for Gi* and
    emerging hot spots), or `source` itself when no layer shows it (the density surface,
    the border view, a report's incident section). The area comes from `source`, as for
    reading it directly.
    """
    shown_by = tuple(layer.id for layer in layers) or (source.id,)
    if principal.layers is not None and not set(shown_by) & set(principal.layers):
        raise Forbidden(f"This API key is not scoped to {' or '.join(map(repr, shown_by))}.")
    return decide(replace(principal, layers=None), source)


def analysis_layers(catalog: Mapping, method: str, params=None) -> tuple:
    """The layers of `catalog` that show the analysis `method` (with `params`, when given:
    those whose fixed parameters, e.g. ``zones = "hex"``, are the ones asked for)."""
    def shows(layer) -> bool:
        fixed = layer.source.params
        return layer.source.analysis == method and (params is None or all(
            str(getattr(params, name, value)) == str(value) for name, value in fixed.items()))

    return tuple(layer for layer in catalog.values() if shows(layer))


def decide_analysis(principal: Principal, source, catalog: Mapping, method: str,
                    params=None) -> AccessDecision:
    """Return the decision for an analysis of `source` (the incidents): `decide_derived`
    with the catalogue's layers that show it. Called before the parameters are parsed (any
    layer of the method will do) and again with them (`params`: the layer that shows
    exactly those)."""
    return decide_derived(principal, source, analysis_layers(catalog, method, params))


def decide_write(principal: Principal, kind: str) -> AccessDecision:
    """Return the decision for importing records of `kind`: rows limited to the area."""
    if not principal.authenticated:
        raise Unauthorized(f"Importing {kind} records needs an editor: sign in or send an "
                           "editor's API key (header X-API-Key).")
    if principal.role not in WRITERS:
        raise Forbidden(f"The role '{principal.role}' cannot import records; an editor or "
                        "administrator can.")
    if principal.layers is not None and kind != "any" and kind not in principal.layers:
        raise Forbidden(f"This API key is not scoped to '{kind}'.")
    return AccessDecision(province_code=principal.province_code)


def admit(level: str | None, principal: Principal, public_access: bool,
          endpoint: str | None = None) -> None:
    """Enforce a route's declared level for this principal (raise when refused)."""
    if level is None:
        raise Forbidden(f"The route '{endpoint}' declares no access rule, so it is closed.")
    if level == ANYONE or (level == PUBLIC and public_access):
        return
    if not principal.authenticated:
        raise Unauthorized("Sign in, or send an API key (header X-API-Key).")
    if level == EDITOR and principal.role not in WRITERS:
        raise Forbidden(f"The role '{principal.role}' cannot do this; an editor or "
                        "administrator can.")
    if level == ADMIN and not principal.is_admin:
        raise Forbidden("Only an administrator can do this.")


# --- declarations ---------------------------------------------------------------------------

def _declare(level: str) -> Callable:
    def mark(view: Callable) -> Callable:
        setattr(view, ATTRIBUTE, level)
        return view

    mark.__doc__ = f"Declare a view's access level: {level}."
    return mark


anyone = _declare(ANYONE)
public = _declare(PUBLIC)
restricted = _declare(RESTRICTED)
editor = _declare(EDITOR)
admin = _declare(ADMIN)


def heavy(view: Callable) -> Callable:
    """Mark a view as heavy: rate-limited per caller (HEAVY_RATE_LIMIT)."""
    setattr(view, HEAVY_ATTRIBUTE, True)
    return view


def level_of(view_functions: dict, endpoint: str | None) -> str | None:
    """Return the access level a route declares (None when it declares none)."""
    view = view_functions.get(endpoint)
    level = getattr(view, ATTRIBUTE, None) if view is not None else None
    return level or ENDPOINTS.get(endpoint or "")


def is_heavy(view_functions: dict, endpoint: str | None) -> bool:
    """True when the route was marked heavy."""
    return bool(getattr(view_functions.get(endpoint), HEAVY_ATTRIBUTE, False))
