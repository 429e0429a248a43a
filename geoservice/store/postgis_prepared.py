"""Per-kind data versions and tile-ready shapes kept in PostGIS.

The same as `geoservice.store.sqlite_prepared` (table ``prepared_shapes``, created by
migration 0006): shapes are Web Mercator WKB per layer source, zoom band and feature,
keyed by the version of the data they were made from.
"""

from __future__ import annotations

from geoservice.store import source_tokens


class PostgisPrepared:
    """The source-version and prepared-shape methods of `PostgisStore` (its `_connect`)."""

    def source_versions(self) -> dict[str, str]:
        """Return a token per source kind (boundaries, each record kind): one query, as
        every tile request asks."""
        rows = self._connect().execute(
            "SELECT kind, count(*), max(imported_at)::text FROM imports "
            "WHERE inserted + updated > 0 GROUP BY kind UNION ALL "
            "SELECT NULL, 0, value FROM meta WHERE key = 'boundaries_loaded_at'").fetchall()
        loaded = next((latest for kind, _count, latest in rows if kind is None), None)
        return source_tokens([row for row in rows if row[0] is not None], loaded)

    def prepared_shapes(self, shape_key: str, version: str) -> dict[int, dict[str, bytes]]:
        """Return the shapes kept for `shape_key` at `version`, by band and feature id."""
        bands: dict[int, dict[str, bytes]] = {}
        for band, fid, wkb in self._connect().execute(
                "SELECT band, feature_id, geometry FROM prepared_shapes "
                "WHERE shape_key = %s AND version = %s", (shape_key, version)):
            bands.setdefault(band, {})[fid] = bytes(wkb)
        return bands

    def save_prepared_shapes(self, shape_key: str, version: str,
                             bands: dict[int, list[tuple[str, bytes]]]) -> None:
        """Keep shapes of `shape_key` at `version`, dropping those of other versions."""
        conn = self._connect()
        with conn.transaction():
            conn.execute("DELETE FROM prepared_shapes WHERE shape_key = %s AND version <> %s",
                         (shape_key, version))
            with conn.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO prepared_shapes (shape_key, version, band, feature_id, "
                    "geometry) VALUES (%s, %s, %s, %s, %s) ON CONFLICT (shape_key, band, "
                    "feature_id) DO UPDATE SET version = excluded.version, "
                    "geometry = excluded.geometry",
                    [(shape_key, version, band, fid, wkb)
                     for band, shapes in bands.items() for fid, wkb in shapes])
