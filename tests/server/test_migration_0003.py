"""Revision 0003 on a database made before it: the new columns are added and stored
records are charged to their owner's quota (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from blindvault.server.app import build
from blindvault.server.storage.db import make_engine


def test_upgrade_from_0002(migration_db: str | None, tmp_path: Path) -> None:
    url, backend = migration_db, "pg" if migration_db else "sqlite"
    app = build(tmp_path, url, None)
    engine = app.state.ctx.engine
    with engine.begin() as conn:  # make it look like a database of revision 0002
        for table, column in (("uploads", "state"), ("uploads", "claimed_at"),
                              ("link_items", "served")):  # fmt: skip
            conn.execute(text(f"ALTER TABLE {table} DROP COLUMN {column}"))
        conn.execute(text("UPDATE alembic_version SET version_num = '0002'"))
        conn.execute(
            text(
                "INSERT INTO accounts (id, email, kdf, auth_hash, key_bundle, "
                "key_bundle_version, identity_bundle, quota_bytes, used_bytes, created_at) "
                "VALUES ('a' || :n, :e, '{}', 'x', :b, 1, :b, 100, 7, 0)"
            ),
            {"n": "0" * 31, "e": f"m{backend}@example.org", "b": b"x"},
        )
        conn.execute(
            text(
                "INSERT INTO records (owner, kind, id, version, data, updated_at, space) "
                "VALUES ('a' || :n, 'manifest', :i, 1, :d, 0, '')"
            ),
            {"n": "0" * 31, "i": "b" * 32, "d": b"y" * 40},
        )
    engine.dispose()
    app = build(tmp_path, url, None)  # migrates to head again
    engine = make_engine(url or f"sqlite:///{tmp_path / 'blindvault.sqlite3'}")
    with engine.begin() as conn:
        used = conn.execute(
            text("SELECT used_bytes FROM accounts WHERE email = :e"),
            {"e": f"m{backend}@example.org"},
        ).scalar()
        conn.execute(text("SELECT state, claimed_at FROM uploads"))
        conn.execute(text("SELECT served FROM link_items"))
        conn.execute(text("DELETE FROM records WHERE id = :i"), {"i": "b" * 32})
        conn.execute(
            text("DELETE FROM accounts WHERE email = :e"), {"e": f"m{backend}@example.org"}
        )
    assert used == 47
    engine.dispose()
    app.state.ctx.engine.dispose()
