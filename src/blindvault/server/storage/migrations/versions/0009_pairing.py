"""Pairing a device by code (issue 17, part 4): table `pairings` (the relay mailboxes)."""

from __future__ import annotations

from alembic import op

from blindvault.server.storage.schema import pairings

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # On a new database 0001 has created it from schema.py already.
    pairings.create(bind=op.get_bind(), checkfirst=True)


def downgrade() -> None:
    op.drop_table("pairings")
