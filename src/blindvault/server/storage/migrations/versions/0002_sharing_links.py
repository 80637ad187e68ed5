"""Sharing and links: spaces on records, blobs and uploads; grants; links."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from blindvault.server.storage.schema import grants, link_items, links

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_SPACED = ("records", "blobs", "uploads")


def upgrade() -> None:
    # 0001 creates the schema as schema.py declares it, so on a new database the columns
    # and tables exist already; on one made before this revision they are added here.
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    for table in _SPACED:
        if "space" not in {c["name"] for c in inspector.get_columns(table)}:
            op.add_column(
                table, sa.Column("space", sa.String(32), nullable=False, server_default="")
            )
    for new in (grants, links, link_items):
        new.create(bind=bind, checkfirst=True)


def downgrade() -> None:
    for table in ("link_items", "links", "grants"):
        op.drop_table(table)
    for table in _SPACED:
        op.drop_column(table, "space")
