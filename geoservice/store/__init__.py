"""The persistence interface and its registry of backends.

A `Store` keeps feature collections (boundaries now; records later) and answers the
features API's questions: a page of features by bbox and filters, one feature by id, the
extent of a collection. Backends are chosen by the scheme of `GEOSERVICE_DATABASE_URL`:
`sqlite:///path` (the embedded default, in the instance folder) or `postgresql://…`
(PostGIS, migrated with Alembic). An incomplete backend fails when it is created.
"""

from __future__ import annotations

import functools
import importlib
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlparse

from geoservice.errors import ConfigError
from geoservice.store.derived import Derived
from geoservice.store.security import SecurityTables


@dataclass(frozen=True)
class FeatureRow:
    """One feature as stored: id, properties, geometry and the columns queries filter on."""

    id: str
    properties: dict
    geometry: object  # shapely geometry or None
    province_code: str | None = None
    neighbors: tuple[str, ...] = ()
    search: str = ""


@dataclass(frozen=True)
class FeatureQuery:
    """Validated query parameters of an items request."""

    limit: int = 10
    offset: int = 0
    bbox: tuple[float, float, float, float] | None = None
    province_code: str | None = None
    border_neighbor: str | None = None
    q: str | None = None
    filter: object = None  # a `geoservice.store.cql.Filter`, or None
    sortby: tuple = ()  # (property, descending, JSON type); then ordered by id
    geometry: bool = True  # False: geometries are not read (None in the page)


@dataclass
class FeaturePage:
    """A page of features (id, properties, geometry) and how many matched in all."""

    features: list[tuple[str, dict, object]] = field(default_factory=list)
    number_matched: int = 0


class Store(SecurityTables, ABC):
    """What every backend provides (users, sessions and the audit trail: `SecurityTables`)."""

    @abstractmethod
    def replace_collection(self, collection: str, rows: Iterable[FeatureRow]) -> int:
        """Replace a collection's features in one transaction; return how many were written."""

    @abstractmethod
    def query(self, collection: str, query: FeatureQuery) -> FeaturePage:
        """Return one page of a collection's features, ordered by `sortby`, then id."""

    @abstractmethod
    def get(self, collection: str, feature_id: str) -> tuple[str, dict, object] | None:
        """Return one feature, or None."""

    @abstractmethod
    def extent(self, collection: str) -> tuple[int, tuple[float, float, float, float] | None]:
        """Return the number of features and their bounding box (None when empty)."""

    @abstractmethod
    def apply_records(self, records: list, batch, progress=None) -> object:
        """Insert/update/leave records of one import in one transaction (an ImportOutcome);
        `progress(done, total)` hears the records gone through (`records.apply_records`)."""

    @abstractmethod
    def query_records(self, kind: str, query) -> FeaturePage:
        """Return one page of a kind's records (a RecordQuery), ordered by id."""

    @abstractmethod
    def record_history(self, kind: str, record_id: str) -> list[dict]:
        """Return every version of a record, oldest first."""

    @abstractmethod
    def imports(self, kind: str | None = None) -> list[dict]:
        """Return the imports made, newest first."""

    @abstractmethod
    def record_years(self, kind: str) -> list[int]:
        """Return the years a kind has records for, ascending."""

    mvt_min_zoom = 10  # DATABASE_MVT_MIN_ZOOM (set by the app): where database tiles begin

    def database_mvt(self, layer, z: int, x: int, y: int, area: str | None) -> bytes | None:
        """A vector tile of `layer` made by the database itself, or None: the store leaves
        it to our encoder (the embedded store always does)."""
        return None

    @abstractmethod
    def data_version(self) -> str:
        """Return a token that changes whenever boundaries or records change."""

    @abstractmethod
    def source_versions(self) -> dict[str, str]:
        """Return a token per source kind: ``boundaries`` (every boundary collection and
        border designation) and each record kind imported; each changes only when that
        kind's data changes (`geoservice.layers.versions` builds layer versions of them)."""

    @abstractmethod
    def prepared_shapes(self, shape_key: str, version: str) -> dict[int, dict[str, bytes]]:
        """Return the tile-ready shapes kept for `shape_key` at `version`: {zoom band:
        {feature id: WKB}} (empty when none are kept for that version)."""

    @abstractmethod
    def save_prepared_shapes(self, shape_key: str, version: str,
                             bands: dict[int, list[tuple[str, bytes]]]) -> None:
        """Keep tile-ready shapes of `shape_key` at `version` (adding to those kept for the
        same version, dropping those of other versions) in one transaction."""

    @abstractmethod
    def add_api_key(self, key: dict) -> None:
        """Store a new API key (id, name, secret_hash, role, province_code, layers — a list
        of layer ids or None for every layer —, created_by, created_at)."""

    @abstractmethod
    def api_keys(self, key_id: str | None = None) -> list[dict]:
        """Return the API keys (or the one with this id), oldest first."""

    @abstractmethod
    def revoke_api_key(self, key_id: str) -> bool:
        """Mark a key revoked; return False when there is no such active key."""

    @abstractmethod
    def set_meta(self, key: str, value: str) -> None:
        """Record a piece of metadata (build time, source versions …)."""

    @abstractmethod
    def get_meta(self, key: str) -> str | None:
        """Return a piece of metadata, or None."""

    def close(self) -> None:  # noqa: B027 - optional for backends without resources
        """Release connections."""

    @functools.cached_property
    def derived(self) -> Derived:
        """Values computed from this store's data, kept until its data version changes."""
        return Derived()


BOUNDARY_KINDS = ("boundaries", "border-designation")  # imports that rewrite boundaries


def source_tokens(rows: Iterable[tuple[str, int, str]], loaded: str | None) -> dict[str, str]:
    """The `Store.source_versions` of (kind, imports that changed something, latest import
    time) rows and the time boundaries were last loaded."""
    rows = sorted(rows)
    tokens = {kind: f"{count}|{latest}" for kind, count, latest in rows
              if kind not in BOUNDARY_KINDS}
    boundary = [f"{count}|{latest}" for kind, count, latest in rows
                if kind in BOUNDARY_KINDS]
    tokens["boundaries"] = "|".join([loaded or "", *boundary])
    return tokens


BACKENDS: dict[str, str] = {
    "sqlite": "geoservice.store.sqlite:SqliteStore",
    "postgresql": "geoservice.store.postgis:PostgisStore",
    "postgis": "geoservice.store.postgis:PostgisStore",
}


def open_store(url: str) -> Store:
    """Create the store named by a database URL."""
    scheme = urlparse(url).scheme.split("+")[0]
    if scheme not in BACKENDS:
        known = ", ".join(sorted(BACKENDS))
        raise ConfigError(f"unknown database URL scheme {scheme!r} (known: {known})")
    module_name, class_name = BACKENDS[scheme].split(":")
    backend = getattr(importlib.import_module(module_name), class_name)
    return backend(url)
