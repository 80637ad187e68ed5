"""Issue 17 (recovery): social recovery setups, shares, requests and approvals; the
organisation recovery key and the escrows sealed to it."""

from __future__ import annotations

from alembic import op

from blindvault.server.storage.schema import (
    org_escrows,
    org_keys,
    recovery_approvals,
    recovery_requests,
    recovery_setups,
    recovery_shares,
)

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TABLES = (
    recovery_setups, recovery_shares, recovery_requests, recovery_approvals, org_keys, org_escrows
)  # fmt: skip


def upgrade() -> None:
    # On a new database 0001 has created them from schema.py already.
    bind = op.get_bind()
    for table in TABLES:
        table.create(bind=bind, checkfirst=True)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table.name)
