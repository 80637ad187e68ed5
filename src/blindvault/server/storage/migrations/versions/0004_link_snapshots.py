"""Folder links are snapshots: the table `link_records` holds their re-sealed manifests."""

from __future__ import annotations

from alembic import op

from blindvault.server.storage.schema import link_records

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # On a new database 0001 has created it from schema.py already.
    link_records.create(bind=op.get_bind(), checkfirst=True)


def downgrade() -> None:
    op.drop_table("link_records")
