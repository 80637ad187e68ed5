"""The blind change feed (issue 14): tables `changes` and `feed_horizons`."""

from __future__ import annotations

from alembic import op

from blindvault.server.storage.schema import changes, feed_horizons

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # On a new database 0001 has created them from schema.py already.
    bind = op.get_bind()
    changes.create(bind=bind, checkfirst=True)
    feed_horizons.create(bind=bind, checkfirst=True)


def downgrade() -> None:
    op.drop_table("feed_horizons")
    op.drop_table("changes")
