"""Per-app containers (issue 16): table `apps`, and devices.app_id / devices.app_space
(an app credential's token is a device row confined to its app's container)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from blindvault.server.storage.schema import app_grants, apps

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # On a new database 0001 has created everything from schema.py already.
    bind = op.get_bind()
    apps.create(bind=bind, checkfirst=True)
    app_grants.create(bind=bind, checkfirst=True)
    present = {c["name"] for c in sa.inspect(bind).get_columns("devices")}
    if "app_id" not in present:
        op.add_column("devices", sa.Column("app_id", sa.String(253), nullable=True))
    if "app_space" not in present:
        op.add_column("devices", sa.Column("app_space", sa.String(32), nullable=True))


def downgrade() -> None:
    op.drop_column("devices", "app_space")
    op.drop_column("devices", "app_id")
    op.drop_table("app_grants")
    op.drop_table("apps")
