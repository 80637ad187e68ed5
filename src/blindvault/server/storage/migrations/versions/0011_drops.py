"""Upload-only links (issue 19): link columns for uploads and table `link_drops`."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from blindvault.server.storage.schema import link_drops

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_NEW: list[sa.Column[Any]] = [
    sa.Column("max_uploads", sa.BigInteger, nullable=True),
    sa.Column("uploads", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("max_drop_size", sa.BigInteger, nullable=True),
    sa.Column("owner_note", sa.LargeBinary, nullable=True),
]


def upgrade() -> None:
    # On a new database 0001 has created both from schema.py already.
    bind = op.get_bind()
    have = {c["name"] for c in sa.inspect(bind).get_columns("links")}
    for column in _NEW:
        if column.name not in have:
            op.add_column("links", column)
    link_drops.create(bind=bind, checkfirst=True)


def downgrade() -> None:
    op.drop_table("link_drops")
    for column in reversed(_NEW):
        op.drop_column("links", column.name)
