"""Per-kind data versions and tile-ready shapes kept in the embedded SQLite store.

`source_versions` reads the imports and the boundary load time once per change of the
database (like `data_version`). `prepared_shapes` keeps each layer source's simplified
shapes per zoom band (Web Mercator WKB), keyed by the version of the data they were made
from, so that a process started later reads them instead of simplifying again.
"""

from __future__ import annotations

from geoservice.store import source_tokens

SCHEMA = """
CREATE TABLE IF NOT EXISTS prepared_shapes (
    shape_key TEXT NOT NULL,
    version TEXT NOT NULL,
    band INTEGER NOT NULL,
    feature_id TEXT NOT NULL,
    geometry BLOB NOT NULL,
    PRIMARY KEY (shape_key, band, feature_id)
);
"""


class SqlitePrepared:
    """The source-version and prepared-shape methods of `SqliteStore` (its `_connect` and
    `_while_unchanged` are used)."""

    def _prepared_conn(self):
        conn = self._connect()
        if getattr(self._local, "prepared_schema", None) is not conn:
            conn.executescript(SCHEMA)  # on a connection to a file restored from a backup too
            self._local.prepared_schema = conn
        return conn

    def source_versions(self) -> dict[str, str]:
        """Return a token per source kind (boundaries, each record kind)."""
        def read(conn) -> dict[str, str]:
            rows = conn.execute(
                "SELECT kind, count(*), max(imported_at) FROM imports "
                "WHERE inserted + updated > 0 GROUP BY kind").fetchall()
            loaded = conn.execute(
                "SELECT value FROM meta WHERE key = 'boundaries_loaded_at'").fetchone()
            return source_tokens(rows, loaded[0] if loaded else None)

        return dict(self._while_unchanged("source_versions", read))

    def prepared_shapes(self, shape_key: str, version: str) -> dict[int, dict[str, bytes]]:
        """Return the shapes kept for `shape_key` at `version`, by band and feature id."""
        bands: dict[int, dict[str, bytes]] = {}
        for band, fid, wkb in self._prepared_conn().execute(
                "SELECT band, feature_id, geometry FROM prepared_shapes "
                "WHERE shape_key = ? AND version = ?", (shape_key, version)):
            bands.setdefault(band, {})[fid] = wkb
        return bands

    def save_prepared_shapes(self, shape_key: str, version: str,
                             bands: dict[int, list[tuple[str, bytes]]]) -> None:
        """Keep shapes of `shape_key` at `version`, dropping those of other versions."""
        conn = self._prepared_conn()
        with conn:
            conn.execute("DELETE FROM prepared_shapes WHERE shape_key = ? AND version <> ?",
                         (shape_key, version))
            conn.executemany(
                "INSERT OR REPLACE INTO prepared_shapes VALUES (?, ?, ?, ?, ?)",
                ((shape_key, version, band, fid, wkb)
                 for band, shapes in bands.items() for fid, wkb in shapes))
