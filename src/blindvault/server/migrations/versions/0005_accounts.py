"""Accounts hardening: previous key bundles, last TOTP step, signup invites."""

from __future__ import annotations

from alembic import op

from blindvault.server.schema import invites, key_history, totp_steps

revision = "0005"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 0001 creates the schema as schema.py declares it, so on a new database these tables
    # exist already; on one made before this revision they are created here.
    bind = op.get_bind()
    for new in (key_history, totp_steps, invites):
        new.create(bind=bind, checkfirst=True)


def downgrade() -> None:
    for table in ("invites", "totp_steps", "key_history"):
        op.drop_table(table)
