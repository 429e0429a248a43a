"""Security records, their history and the imports that wrote them.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create records (spatially indexed), record_history and imports."""
    op.execute(
        """
        CREATE TABLE records (
            kind text NOT NULL,
            id text NOT NULL,
            natural_key text NOT NULL,
            commune_code text NOT NULL,
            province_code text NOT NULL,
            neighbors text[] NOT NULL DEFAULT '{}',
            year integer,
            date date,
            category text,
            properties jsonb NOT NULL,
            geom geometry(Geometry, 4326),
            synthetic boolean NOT NULL DEFAULT false,
            version integer NOT NULL,
            import_id text NOT NULL,
            source_file text,
            source_row integer,
            imported_by text,
            imported_at timestamptz NOT NULL,
            PRIMARY KEY (kind, id),
            UNIQUE (kind, natural_key)
        )
        """
    )
    op.execute("CREATE INDEX records_geom ON records USING gist (geom)")
    op.execute("CREATE INDEX records_filter ON records (kind, province_code, year)")
    op.execute(
        """
        CREATE TABLE record_history (
            kind text NOT NULL,
            id text NOT NULL,
            version integer NOT NULL,
            action text NOT NULL,
            properties jsonb NOT NULL,
            geom geometry(Geometry, 4326),
            import_id text NOT NULL,
            changed_by text,
            changed_at timestamptz NOT NULL,
            PRIMARY KEY (kind, id, version)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE imports (
            id text PRIMARY KEY,
            kind text NOT NULL,
            filename text NOT NULL,
            sha256 text NOT NULL,
            imported_by text,
            imported_at timestamptz NOT NULL,
            inserted integer NOT NULL,
            updated integer NOT NULL,
            unchanged integer NOT NULL
        )
        """
    )


def downgrade() -> None:
    """Drop what upgrade created."""
    op.execute("DROP TABLE imports")
    op.execute("DROP TABLE record_history")
    op.execute("DROP TABLE records")
