"""Boundary versions and official border designations in the embedded SQLite store.

`write_boundaries(change)` writes one boundary import or one border-designation import in
one transaction: the rewritten boundary collections, the version with the previous
geometry of every unit it replaced, the designations of its scope, the import's row and
`boundaries_loaded_at` (both of which the data version reads, so tiles and cached values
of the old geometry are not served again). A failure anywhere leaves the store as it was.

`change` is a dict: ``kind`` ("boundaries" or "border-designation"), ``import`` (id,
filename, sha256, imported_by, imported_at, updated), ``collections`` (collection ->
FeatureRows, each collection replaced whole), ``version`` (crs, unit_count,
province_code; boundaries only), ``previous`` ((code, properties, geometry) of the units
replaced), ``designations`` (``scope``: province codes whose designations are
replaced, ``rows``: dicts of commune_code, province_code, neighbors, reference) and
``expected`` (`boundaries_revision()` when the change was computed: another load since
then makes the write a `DataConflict`, so two loads at once cannot undo each other).
"""

from __future__ import annotations

import json

import shapely

from geoservice.errors import DataConflict

SCHEMA = """
CREATE TABLE IF NOT EXISTS boundary_versions (
    id TEXT PRIMARY KEY,
    filename TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    crs TEXT NOT NULL,
    loaded_by TEXT,
    loaded_at TEXT NOT NULL,
    unit_count INTEGER NOT NULL,
    province_code TEXT
);
CREATE TABLE IF NOT EXISTS boundary_previous (
    version_id TEXT NOT NULL REFERENCES boundary_versions (id),
    code TEXT NOT NULL,
    properties TEXT NOT NULL,
    geometry BLOB,
    PRIMARY KEY (version_id, code)
);
CREATE TABLE IF NOT EXISTS border_designations (
    commune_code TEXT PRIMARY KEY,
    province_code TEXT NOT NULL,
    neighbors TEXT NOT NULL,
    reference TEXT,
    import_id TEXT NOT NULL,
    filename TEXT NOT NULL,
    loaded_by TEXT,
    loaded_at TEXT NOT NULL
);
"""
REVISION_SQL = ("SELECT key, value FROM meta WHERE key IN "
                "('boundaries_loaded_at', 'boundaries_revision')")
VERSION_FIELDS = ("id", "filename", "sha256", "crs", "loaded_by", "loaded_at", "unit_count",
                  "province_code")


class SqliteBoundaries:
    """The boundary-version methods of `SqliteStore` (its `_connect` is used)."""

    def _boundary_conn(self):
        conn = self._connect()
        if getattr(self._local, "boundary_schema", None) is not conn:
            conn.executescript(SCHEMA)  # on a connection to a file restored from a backup too
            self._local.boundary_schema = conn
        return conn

    def write_boundaries(self, change: dict) -> None:
        """Write a boundary or border-designation import in one transaction."""
        conn = self._boundary_conn()
        batch = change["import"]
        conn.execute("BEGIN IMMEDIATE")
        try:
            _check_unchanged(conn.execute(REVISION_SQL).fetchall(), change)
            for collection, rows in change["collections"].items():
                _write_collection(conn, collection, rows)
            if change.get("version") is not None:
                version = change["version"]
                conn.execute(
                    "INSERT INTO boundary_versions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (batch["id"], batch["filename"], batch["sha256"], version["crs"],
                     batch["imported_by"], batch["imported_at"], version["unit_count"],
                     version.get("province_code")))
                conn.executemany(
                    "INSERT INTO boundary_previous VALUES (?, ?, ?, ?)",
                    [(batch["id"], code, json.dumps(props, ensure_ascii=False),
                      None if geometry is None else shapely.to_wkb(geometry))
                     for code, props, geometry in change.get("previous", ())])
            if change.get("designations") is not None:
                _write_designations(conn, change["designations"], batch)
            conn.execute("INSERT INTO imports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         (batch["id"], change["kind"], batch["filename"], batch["sha256"],
                          batch["imported_by"], batch["imported_at"], 0, batch["updated"], 0))
            conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                             [("boundaries_loaded_at", batch["imported_at"]),
                              ("boundaries_revision", batch["id"])])
        except BaseException:
            conn.rollback()
            raise
        conn.commit()

    def boundaries_revision(self) -> tuple[str | None, str | None]:
        """(boundaries_loaded_at, boundaries_revision): what a boundary write expects to
        find unchanged (``change["expected"]``) when it commits."""
        return _revision(self._boundary_conn().execute(REVISION_SQL).fetchall())

    def boundary_versions(self) -> list[dict]:
        """Every boundary version loaded from an official file, newest first."""
        rows = self._boundary_conn().execute(
            "SELECT * FROM boundary_versions ORDER BY loaded_at DESC, rowid DESC").fetchall()
        return [dict(zip(VERSION_FIELDS, row)) for row in rows]

    def boundary_previous(self, version_id: str) -> list[tuple[str, dict, object]]:
        """The units a version replaced as they were before it: (code, properties, geometry)."""
        rows = self._boundary_conn().execute(
            "SELECT code, properties, geometry FROM boundary_previous WHERE version_id = ? "
            "ORDER BY code", (version_id,)).fetchall()
        return [(code, json.loads(props), shapely.from_wkb(wkb) if wkb is not None else None)
                for code, props, wkb in rows]

    def border_designations(self) -> dict[str, dict]:
        """The official border communes (and, in a designated scope, the communes officially
        facing nothing): commune code -> neighbors, reference, import_id, filename …"""
        cursor = self._boundary_conn().execute("SELECT * FROM border_designations")
        names = [d[0] for d in cursor.description]
        found = {}
        for row in cursor.fetchall():
            entry = dict(zip(names, row))
            entry["neighbors"] = json.loads(entry["neighbors"])
            found[entry["commune_code"]] = entry
        return found


def _revision(rows) -> tuple[str | None, str | None]:
    values = dict(rows)
    return values.get("boundaries_loaded_at"), values.get("boundaries_revision")


def _check_unchanged(rows, change: dict) -> None:
    """Refuse a write computed from boundaries that another load changed meanwhile."""
    if "expected" in change and _revision(rows) != tuple(change["expected"]):
        raise DataConflict("The boundaries were changed by another load while this file was "
                           "checked; nothing was written. Load the file again.")


def _write_designations(conn, designations: dict, batch: dict) -> None:
    scope = list(designations["scope"])
    marks = ",".join("?" * len(scope))
    if scope:
        conn.execute(f"DELETE FROM border_designations WHERE province_code IN ({marks})", scope)
    conn.executemany(
        "INSERT OR REPLACE INTO border_designations VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(row["commune_code"], row["province_code"], json.dumps(list(row["neighbors"])),
          row.get("reference"), batch["id"], batch["filename"], batch["imported_by"],
          batch["imported_at"]) for row in designations["rows"]])


def _write_collection(conn, collection: str, rows) -> None:
    """Replace a collection's features inside the caller's transaction."""
    conn.execute("DELETE FROM features_rtree WHERE rid IN "
                 "(SELECT rowid FROM features WHERE collection = ?)", (collection,))
    conn.execute("DELETE FROM features WHERE collection = ?", (collection,))
    for row in rows:
        wkb = shapely.to_wkb(row.geometry) if row.geometry is not None else None
        cursor = conn.execute(
            "INSERT INTO features (collection, id, province_code, neighbors, search, "
            "properties, geometry) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (collection, row.id, row.province_code, "," + ",".join(row.neighbors) + ",",
             " " + row.search + " ", json.dumps(row.properties, ensure_ascii=False), wkb))
        if row.geometry is not None and not row.geometry.is_empty:
            minx, miny, maxx, maxy = row.geometry.bounds
            conn.execute("INSERT INTO features_rtree VALUES (?, ?, ?, ?, ?)",
                         (cursor.lastrowid, minx, maxx, miny, maxy))
