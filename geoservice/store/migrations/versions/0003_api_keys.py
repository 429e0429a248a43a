"""API keys of other systems and editors (stored hashed); imports kept in arrival order.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create api_keys; number imports so two in the same second keep their order."""
    op.execute("ALTER TABLE imports ADD COLUMN seq bigserial")
    op.execute(
        """
        CREATE TABLE api_keys (
            id text PRIMARY KEY,
            name text NOT NULL,
            secret_hash text NOT NULL,
            role text NOT NULL,
            province_code text,
            created_by text,
            created_at timestamptz NOT NULL,
            revoked_at timestamptz
        )
        """
    )


def downgrade() -> None:
    """Drop api_keys and the import numbers."""
    op.execute("DROP TABLE api_keys")
    op.execute("ALTER TABLE imports DROP COLUMN seq")
