"""Accounts hardening: previous key bundles, last TOTP step, signup invites; stored emails
brought to the canonical form (server/emails.py) where that takes no other account's."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

from blindvault.server.domain.emails import normalize_email
from blindvault.server.errors import ApiError
from blindvault.server.storage.schema import accounts, invites, key_history, totp_steps

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

log = logging.getLogger("blindvault.server")


def _canonical_emails(bind: sa.Connection) -> None:
    rows = bind.execute(sa.select(accounts.c.id, accounts.c.email)).all()
    taken = {r.email for r in rows}
    for row in rows:
        try:
            canonical = normalize_email(row.email)
        except ApiError:
            log.warning("account %s: stored email has no canonical form; left as is", row.id)
            continue
        if canonical == row.email:
            continue
        if canonical in taken:
            log.warning("account %s: canonical email belongs to another account", row.id)
            continue
        bind.execute(sa.update(accounts).where(accounts.c.id == row.id).values(email=canonical))
        taken.discard(row.email)
        taken.add(canonical)


def upgrade() -> None:
    # 0001 creates the schema as schema.py declares it, so on a new database these tables
    # exist already; on one made before this revision they are created here.
    bind = op.get_bind()
    for new in (key_history, totp_steps, invites):
        new.create(bind=bind, checkfirst=True)
    _canonical_emails(bind)


def downgrade() -> None:
    for table in ("invites", "totp_steps", "key_history"):
        op.drop_table(table)
