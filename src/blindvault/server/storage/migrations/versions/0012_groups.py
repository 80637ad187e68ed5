"""Groups (issue 19): tables `groups`, `group_members` and `group_spaces`."""

from __future__ import annotations

from alembic import op

from blindvault.server.storage.schema import group_members, group_spaces, groups

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # On a new database 0001 has created them from schema.py already.
    bind = op.get_bind()
    for table in (groups, group_members, group_spaces):
        table.create(bind=bind, checkfirst=True)


def downgrade() -> None:
    for name in ("group_spaces", "group_members", "groups"):
        op.drop_table(name)
