"""Re-shares (issue 19): grant columns `reshare` (the owner lets the member re-share) and
`granted_by` (the member who made a re-share grant; null when the owner made it)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None

_NEW: list[sa.Column[Any]] = [
    sa.Column("reshare", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("granted_by", sa.String(32), nullable=True),
]


def upgrade() -> None:
    # On a new database 0001 has created them from schema.py already.
    bind = op.get_bind()
    have = {c["name"] for c in sa.inspect(bind).get_columns("grants")}
    for column in _NEW:
        if column.name not in have:
            op.add_column("grants", column)


def downgrade() -> None:
    for column in reversed(_NEW):
        op.drop_column("grants", column.name)
