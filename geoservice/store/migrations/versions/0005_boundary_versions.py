"""Boundary versions loaded from official files, and the official border-commune list.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create boundary_versions, boundary_previous (the geometry each version replaced)
    and border_designations."""
    op.execute(
        """
        CREATE TABLE boundary_versions (
            id text PRIMARY KEY,
            filename text NOT NULL,
            sha256 text NOT NULL,
            crs text NOT NULL,
            loaded_by text,
            loaded_at timestamptz NOT NULL,
            unit_count integer NOT NULL,
            province_code text,
            seq bigserial
        )
        """
    )
    op.execute(
        """
        CREATE TABLE boundary_previous (
            version_id text NOT NULL REFERENCES boundary_versions (id),
            code text NOT NULL,
            properties jsonb NOT NULL,
            geometry geometry(Geometry, 4326),
            PRIMARY KEY (version_id, code)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE border_designations (
            commune_code text PRIMARY KEY,
            province_code text NOT NULL,
            neighbors text[] NOT NULL,
            reference text,
            import_id text NOT NULL,
            filename text NOT NULL,
            loaded_by text,
            loaded_at timestamptz NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX border_designations_province ON border_designations "
               "(province_code)")


def downgrade() -> None:
    """Drop what upgrade created."""
    op.execute("DROP TABLE border_designations")
    op.execute("DROP TABLE boundary_previous")
    op.execute("DROP TABLE boundary_versions")
