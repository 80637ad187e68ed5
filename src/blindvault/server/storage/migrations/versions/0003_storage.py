"""Storage hardening: upload commit state, bytes served per link item, records in quotas."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_NEW = {
    "uploads": [
        sa.Column("state", sa.String(12), nullable=False, server_default="open"),
        sa.Column("claimed_at", sa.Float, nullable=True),
    ],
    "link_items": [sa.Column("served", sa.BigInteger, nullable=False, server_default="0")],
}


def upgrade() -> None:
    # 0001 creates the schema as schema.py declares it (columns included) on a new database;
    # on an older one the columns are added here
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    for table, columns in _NEW.items():
        have = {c["name"] for c in inspector.get_columns(table)}
        for column in columns:
            if column.name not in have:
                op.add_column(table, column)
    # records now count against the quota: charge what is stored already
    op.execute(
        "UPDATE accounts SET used_bytes = used_bytes + COALESCE("
        "(SELECT SUM(LENGTH(data)) FROM records WHERE records.owner = accounts.id), 0)"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE accounts SET used_bytes = used_bytes - COALESCE("
        "(SELECT SUM(LENGTH(data)) FROM records WHERE records.owner = accounts.id), 0)"
    )
    op.drop_column("link_items", "served")
    op.drop_column("uploads", "claimed_at")
    op.drop_column("uploads", "state")
