"""Feature collections (boundaries) and metadata.

Revision ID: 0001
Revises:
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the features table with its spatial index, and the meta table."""
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute(
        """
        CREATE TABLE features (
            collection text NOT NULL,
            id text NOT NULL,
            province_code text,
            neighbors text[] NOT NULL DEFAULT '{}',
            search text NOT NULL DEFAULT '',
            properties jsonb NOT NULL,
            geom geometry(Geometry, 4326),
            PRIMARY KEY (collection, id)
        )
        """
    )
    op.execute("CREATE INDEX features_geom ON features USING gist (geom)")
    op.execute("CREATE INDEX features_province ON features (collection, province_code)")
    op.execute("CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL)")


def downgrade() -> None:
    """Drop what upgrade created (the extension stays)."""
    op.execute("DROP TABLE meta")
    op.execute("DROP TABLE features")
