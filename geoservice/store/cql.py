"""Filters and sort orders as SQL, the same conditions written for SQLite or for PostGIS.

The features API parses a CQL2 filter (`geoservice.api.filters`) into a few plain
conditions on the collection's queryable properties, checked against their types; the
stores write them here as a WHERE clause and an ORDER BY, so the database does the
filtering and paging (nothing is filtered in Python after fetching). A condition is a
tuple:

    ("and", a, b)  ("or", a, b)  ("not", a)
    ("cmp", op, prop, value)       op: = <> < <= > >=
    ("like", prop, pattern)        CQL2 pattern: % any run, _ one character, \\ escapes
    ("in", prop, values)  ("between", prop, low, high)  ("isnull", prop)
    ("intersects", wkb, bounds)    the feature's geometry meets a WGS 84 geometry

Properties live in a JSON column in both stores; record provenance (commune, import …) in
columns of their own (`COLUMNS`). Null values sort last in both stores, ties by id.

    >>> where_sql(("cmp", ">", "area_km2", 500), SQLITE_FEATURES, {"area_km2": "number"})
    ("json_extract(f.properties, '$.area_km2') > ?", [500])
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

# Record provenance kept in columns (both stores), with their column names.
COLUMNS = {"commune_code": "commune_code", "province_code": "province_code",
           "synthetic": "synthetic", "version": "version", "source_file": "source_file",
           "source_row": "source_row", "imported_at": "imported_at"}
COMPARISONS = ("=", "<>", "<", "<=", ">", ">=")
PG_CASTS = {"number": "::double precision", "integer": "::double precision",
            "boolean": "::boolean"}


@dataclass(frozen=True)
class Filter:
    """A parsed filter: its condition and the JSON type of each queryable property."""

    condition: tuple
    types: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Dialect:
    """How one store writes conditions: placeholder, table alias, records or features."""

    postgis: bool
    table: str  # "features" or "records"
    alias: str = ""  # "f." where the query aliases its table

    @property
    def mark(self) -> str:
        """The parameter placeholder."""
        return "%s" if self.postgis else "?"

    def prop(self, name: str, kind: str) -> str:
        """The SQL expression of property `name` (of JSON type `kind`)."""
        if self.table == "records" and name in COLUMNS:
            return f"{self.alias}{COLUMNS[name]}"
        if self.postgis:
            return f"({self.alias}properties->>'{name}'){PG_CASTS.get(kind, '')}"
        return f"json_extract({self.alias}properties, '$.{name}')"

    def value(self, value):
        """A literal as the store compares it (dates as ISO text; SQLite booleans 0/1)."""
        if isinstance(value, date | datetime):
            return value.isoformat()
        if isinstance(value, bool) and not self.postgis:
            return int(value)
        return value

    def like(self, expr: str, pattern: str) -> tuple[str, list]:
        """A case-sensitive CQL2 LIKE (SQLite's LIKE ignores case: GLOB it is)."""
        if self.postgis:
            return f"{expr} LIKE %s", [pattern]
        return f"{expr} GLOB ?", [glob(pattern)]

    def intersects(self, wkb: bytes, bounds) -> tuple[str, list]:
        """The feature's geometry meets `wkb` (SQLite: R*Tree, then GEOS on the rest)."""
        if self.postgis:
            return ("(geom && ST_GeomFromWKB(%s, 4326) AND "
                    "ST_Intersects(geom, ST_GeomFromWKB(%s, 4326)))", [wkb, wkb])
        minx, miny, maxx, maxy = bounds
        return (f"({self.alias}rowid IN (SELECT rid FROM {self.table}_rtree WHERE "
                "minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?) AND "
                f"geo_intersects({self.alias}geometry, ?))", [maxx, minx, maxy, miny, wkb])


SQLITE_FEATURES = Dialect(False, "features", "f.")
SQLITE_RECORDS = Dialect(False, "records", "f.")
POSTGIS_FEATURES = Dialect(True, "features")
POSTGIS_RECORDS = Dialect(True, "records")


def glob(pattern: str) -> str:
    """A CQL2 LIKE pattern as an SQLite GLOB pattern (case-sensitive, as CQL2 wants)."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            out.append(_literal(pattern[i + 1]))
            i += 2
            continue
        out.append("*" if char == "%" else "?" if char == "_" else _literal(char))
        i += 1
    return "".join(out)


def _literal(char: str) -> str:
    return f"[{char}]" if char in "*?[" else char


def where_sql(condition: tuple, dialect: Dialect, types: Mapping[str, str]) -> tuple[str, list]:
    """The SQL of `condition` and its parameters."""
    op = condition[0]
    if op in ("and", "or"):
        left, lp = where_sql(condition[1], dialect, types)
        right, rp = where_sql(condition[2], dialect, types)
        return f"({left} {op.upper()} {right})", lp + rp
    if op == "not":
        inner, params = where_sql(condition[1], dialect, types)
        return f"(NOT {inner})", params
    if op == "intersects":
        return dialect.intersects(condition[1], condition[2])
    prop = condition[2] if op == "cmp" else condition[1]
    expr = dialect.prop(prop, types.get(prop, "string"))
    mark = dialect.mark
    if op == "cmp":
        if condition[1] not in COMPARISONS:
            raise ValueError(f"unknown comparison {condition[1]!r}")
        return f"{expr} {condition[1]} {mark}", [dialect.value(condition[3])]
    if op == "like":
        return dialect.like(expr, condition[2])
    if op == "in":
        values = [dialect.value(v) for v in condition[2]]
        return f"{expr} IN ({', '.join([mark] * len(values))})", values
    if op == "between":
        return (f"{expr} BETWEEN {mark} AND {mark}",
                [dialect.value(condition[2]), dialect.value(condition[3])])
    if op == "isnull":
        return f"{expr} IS NULL", []
    raise ValueError(f"unknown condition {op!r}")


def order_by(sortby, dialect: Dialect, types: Mapping[str, str]) -> str:
    """ORDER BY terms of `sortby` ((property, descending, JSON type) triples), nulls last,
    ties by id."""
    terms = []
    for prop, descending, kind in sortby:
        expr = dialect.prop(prop, kind)
        terms += [f"({expr} IS NULL)", f"{expr} {'DESC' if descending else 'ASC'}"]
    return ", ".join([*terms, f"{dialect.alias}id"])


def apply(where: list, params: list, query, dialect: Dialect) -> str:
    """Add `query`'s filter to `where` and `params`; return the ORDER BY of its `sortby`."""
    types = query.filter.types if query.filter is not None else {}
    if query.filter is not None:
        sql, values = where_sql(query.filter.condition, dialect, types)
        where.append(sql)
        params += values
    return order_by(query.sortby, dialect, types)
