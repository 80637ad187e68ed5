"""Revision 0014 (re-shares) on a database made before it: the grant columns `reshare`
(false for every existing grant) and `granted_by` (null) are added (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from blindvault.server.app import build
from blindvault.server.storage.db import make_engine


def test_upgrade_from_0011(migration_db: str | None, tmp_path: Path) -> None:
    url = migration_db
    app = build(tmp_path, url, None)
    engine = app.state.ctx.engine
    with engine.begin() as conn:  # make it look like a database of revision 0011
        for column in ("reshare", "granted_by"):
            conn.execute(text(f"ALTER TABLE grants DROP COLUMN {column}"))
        conn.execute(text("UPDATE alembic_version SET version_num = '0011'"))
        conn.execute(
            text(
                "INSERT INTO grants (id, owner, space, member, role, envelope, accepted, "
                "created_at, updated_at) VALUES (:i, :o, :s, :m, 'read', :e, false, 0, 0)"
            ),
            {"i": "a" * 32, "o": "b" * 32, "s": "c" * 32, "m": "d" * 32, "e": b"x"},
        )
    engine.dispose()
    app = build(tmp_path, url, None)  # migrates to head again
    engine = make_engine(url or f"sqlite:///{tmp_path / 'blindvault.sqlite3'}")
    with engine.begin() as conn:
        row = conn.execute(
            text("SELECT reshare, granted_by FROM grants WHERE id = :i"), {"i": "a" * 32}
        ).one()
    assert not row.reshare and row.granted_by is None
    engine.dispose()
    app.state.ctx.engine.dispose()
