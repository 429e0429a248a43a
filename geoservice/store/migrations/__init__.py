"""Alembic migrations of the PostGIS store, applied when a `PostgisStore` is created."""
