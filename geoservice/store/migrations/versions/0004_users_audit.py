"""Users, sign-in sessions, the append-only audit trail, and API keys scoped to layers.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create users, sessions and audit (UPDATE/DELETE/TRUNCATE refused by a trigger)."""
    op.execute("ALTER TABLE api_keys ADD COLUMN layers text[]")
    op.execute(
        """
        CREATE TABLE users (
            username text PRIMARY KEY,
            password_hash text NOT NULL,
            role text NOT NULL,
            province_code text,
            enabled boolean NOT NULL DEFAULT true,
            failed_logins integer NOT NULL DEFAULT 0,
            locked_until timestamptz,
            created_by text,
            created_at timestamptz NOT NULL,
            updated_at timestamptz
        )
        """
    )
    op.execute(
        """
        CREATE TABLE sessions (
            id text PRIMARY KEY,
            username text NOT NULL REFERENCES users (username) ON DELETE CASCADE,
            created_at timestamptz NOT NULL,
            expires_at timestamptz NOT NULL,
            remote_addr text
        )
        """
    )
    op.execute(
        """
        CREATE TABLE audit (
            seq bigserial PRIMARY KEY,
            at timestamptz NOT NULL,
            actor text,
            action text NOT NULL,
            target text,
            detail jsonb NOT NULL DEFAULT '{}',
            remote_addr text,
            dedupe text UNIQUE
        )
        """
    )
    op.execute("CREATE INDEX audit_action ON audit (action, seq)")
    op.execute(
        """
        CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'the audit trail is append-only';
        END
        $$
        """
    )
    op.execute("CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit "
               "FOR EACH ROW EXECUTE FUNCTION audit_append_only()")
    op.execute("CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit "
               "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()")


def downgrade() -> None:
    """Drop what upgrade created."""
    op.execute("DROP TABLE audit")
    op.execute("DROP FUNCTION audit_append_only()")
    op.execute("DROP TABLE sessions")
    op.execute("DROP TABLE users")
    op.execute("ALTER TABLE api_keys DROP COLUMN layers")
