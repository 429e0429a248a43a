"""Alembic migrations of the PostGIS store (run by `PostgisStore` on start and by `geoservice db upgrade`)."""
