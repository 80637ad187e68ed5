"""The initial schema (format v1 server)."""

from __future__ import annotations

from alembic import op

from blindvault.server.storage.schema import metadata

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Version 1 of the schema is exactly schema.py; later revisions alter it explicitly.
    metadata.create_all(bind=op.get_bind())


def downgrade() -> None:
    metadata.drop_all(bind=op.get_bind())
