"""Tile-ready shapes per layer source, zoom band and feature, kept per data version.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create prepared_shapes (Web Mercator WKB of each band's simplified shapes)."""
    op.execute(
        """
        CREATE TABLE prepared_shapes (
            shape_key text NOT NULL,
            version text NOT NULL,
            band integer NOT NULL,
            feature_id text NOT NULL,
            geometry bytea NOT NULL,
            PRIMARY KEY (shape_key, band, feature_id)
        )
        """
    )


def downgrade() -> None:
    """Drop what upgrade created."""
    op.execute("DROP TABLE prepared_shapes")
