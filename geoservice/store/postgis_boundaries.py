"""Boundary versions and official border designations in the PostGIS store.

The same `write_boundaries(change)` as the embedded store (see
`geoservice.store.sqlite_boundaries` for the shape of `change`): one transaction for the
boundary collections, the version and the previous geometry of the units it replaced, the
designations, the import's row and `boundaries_loaded_at`. The tables come from the
Alembic revision 0005.
"""

from __future__ import annotations

import shapely
from psycopg.types.json import Jsonb

from geoservice.store.sqlite_boundaries import (
    REVISION_SQL,
    VERSION_FIELDS,
    _check_unchanged,
    _revision,
)


class PostgisBoundaries:
    """The boundary-version methods of `PostgisStore` (its `_connect` and `_replace`)."""

    def write_boundaries(self, change: dict) -> None:
        """Write a boundary or border-designation import in one transaction."""
        conn = self._connect()
        batch = change["import"]
        with conn.transaction():
            conn.execute("LOCK TABLE features IN SHARE ROW EXCLUSIVE MODE")
            _check_unchanged(conn.execute(REVISION_SQL).fetchall(), change)
            for collection, rows in change["collections"].items():
                self._replace(conn, collection, rows)  # a savepoint inside this transaction
            if change.get("version") is not None:
                version = change["version"]
                conn.execute(
                    "INSERT INTO boundary_versions VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                    (batch["id"], batch["filename"], batch["sha256"], version["crs"],
                     batch["imported_by"], batch["imported_at"], version["unit_count"],
                     version.get("province_code")))
                with conn.cursor() as cursor:
                    cursor.executemany(
                        "INSERT INTO boundary_previous VALUES (%s, %s, %s, "
                        "ST_GeomFromWKB(%s, 4326))",
                        [(batch["id"], code, Jsonb(props),
                          None if geometry is None else shapely.to_wkb(geometry))
                         for code, props, geometry in change.get("previous", ())])
            if change.get("designations") is not None:
                _write_designations(conn, change["designations"], batch)
            conn.execute("INSERT INTO imports VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                         (batch["id"], change["kind"], batch["filename"], batch["sha256"],
                          batch["imported_by"], batch["imported_at"], 0, batch["updated"], 0))
            with conn.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO meta (key, value) VALUES (%s, %s) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    [("boundaries_loaded_at", batch["imported_at"]),
                     ("boundaries_revision", batch["id"])])

    def boundaries_revision(self) -> tuple[str | None, str | None]:
        """(boundaries_loaded_at, boundaries_revision): what a boundary write expects to
        find unchanged when it commits."""
        return _revision(self._connect().execute(REVISION_SQL).fetchall())

    def boundary_versions(self) -> list[dict]:
        """Every boundary version loaded from an official file, newest first."""
        rows = self._connect().execute(
            f"SELECT {', '.join(VERSION_FIELDS)} FROM boundary_versions "
            "ORDER BY loaded_at DESC, seq DESC").fetchall()
        versions = [dict(zip(VERSION_FIELDS, row)) for row in rows]
        for version in versions:
            version["loaded_at"] = version["loaded_at"].isoformat(timespec="seconds")
        return versions

    def boundary_previous(self, version_id: str) -> list[tuple[str, dict, object]]:
        """The units a version replaced as they were before it: (code, properties, geometry)."""
        rows = self._connect().execute(
            "SELECT code, properties, ST_AsBinary(geometry) FROM boundary_previous "
            "WHERE version_id = %s ORDER BY code", (version_id,)).fetchall()
        return [(code, props, shapely.from_wkb(bytes(wkb)) if wkb is not None else None)
                for code, props, wkb in rows]

    def border_designations(self) -> dict[str, dict]:
        """The official border communes (and, in a designated scope, the communes officially
        facing nothing): commune code -> neighbors, reference, import_id, filename …"""
        cursor = self._connect().execute("SELECT * FROM border_designations")
        names = [d.name for d in cursor.description]
        found = {}
        for row in cursor.fetchall():
            entry = dict(zip(names, row))
            entry["neighbors"] = list(entry["neighbors"])
            entry["loaded_at"] = entry["loaded_at"].isoformat(timespec="seconds")
            found[entry["commune_code"]] = entry
        return found


def _write_designations(conn, designations: dict, batch: dict) -> None:
    scope = list(designations["scope"])
    if scope:
        conn.execute("DELETE FROM border_designations WHERE province_code = ANY(%s)", (scope,))
    with conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO border_designations VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (commune_code) DO UPDATE SET province_code = excluded.province_code, "
            "neighbors = excluded.neighbors, reference = excluded.reference, "
            "import_id = excluded.import_id, filename = excluded.filename, "
            "loaded_by = excluded.loaded_by, loaded_at = excluded.loaded_at",
            [(row["commune_code"], row["province_code"], list(row["neighbors"]),
              row.get("reference"), batch["id"], batch["filename"], batch["imported_by"],
              batch["imported_at"]) for row in designations["rows"]])
