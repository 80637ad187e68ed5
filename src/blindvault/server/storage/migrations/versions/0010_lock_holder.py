"""Leased locks name their holder (issue 14): `locks.device_id` and `locks.since`, so a
second device refused a lock (prune) is told which device holds it and since when."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # On a new database 0001 has created the columns from schema.py already.
    have = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("locks")}
    if "device_id" not in have:
        op.add_column("locks", sa.Column("device_id", sa.String(32), nullable=True))
    if "since" not in have:
        op.add_column("locks", sa.Column("since", sa.Float, nullable=True))


def downgrade() -> None:
    op.drop_column("locks", "since")
    op.drop_column("locks", "device_id")
